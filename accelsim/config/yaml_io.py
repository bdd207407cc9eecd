"""The one place where YAML text becomes Python data, and validation errors become messages."""

from __future__ import annotations

from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from accelsim.errors import ConfigError

T = TypeVar("T")


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a missing file or a syntax error raises ConfigError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None


def describe_validation_error(source: str, what: str, err: ValidationError, root: Any = None) -> str:
    """One line per problem: dotted key path, what is wrong, and the offending value."""
    lines = [f"{source}: not a valid {what}"]
    for x in err.errors():
        loc = ".".join(str(p) for p in x["loc"]) or "top level"
        msg = x["msg"]
        if x["type"] == "extra_forbidden":
            allowed = _fields_at(root, x["loc"][:-1])
            msg = "unknown key" + (f" (allowed here: {', '.join(allowed)})" if allowed else "")
        lines.append(f"  {loc}: {msg} (got {x.get('input')!r})")
    return "\n".join(lines)


def _fields_at(tp: Any, loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model reached by following `loc` from type `tp` (best effort)."""
    for part in loc:
        tp = _step(tp, part)
        if tp is None:
            return []
    tp = _unwrap(tp)
    return sorted(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _unwrap(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _step(tp: Any, part: Any) -> Any:
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(str(part))
        if field is None and _has_tag(tp, part):
            return tp
        return None if field is None else _strip_optional(field.annotation)
    args = [_unwrap(a) for a in get_args(tp)]
    if get_origin(tp) in (list, tuple) and isinstance(part, int):
        return args[0] if args else None
    if get_origin(tp) is dict:
        return args[1] if len(args) == 2 else None
    for a in args:  # a union: the member whose tag literal is `part`, if any
        if isinstance(a, type) and issubclass(a, BaseModel) and _has_tag(a, part):
            return a
    return None


def _has_tag(model: type[BaseModel], part: Any) -> bool:
    """True if a Literal field of `model` (its discriminator) admits the value `part`."""
    return any(
        get_origin(f.annotation) is Literal and part in get_args(f.annotation)
        for f in model.model_fields.values()
    )


def _strip_optional(tp: Any) -> Any:
    args = [a for a in get_args(tp) if a is not type(None)]
    if get_origin(tp) in (Union, UnionType) and len(args) == 1:
        return args[0]
    return tp


def validate(model: type[T] | TypeAdapter[T], data: Any, source: str, what: str) -> T:
    """Validate `data` against a pydantic model or adapter; raise ConfigError with key paths."""
    adapter = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
    root = getattr(adapter, "_type", model)
    try:
        return adapter.validate_python(data)
    except ValidationError as e:
        raise ConfigError(describe_validation_error(source, what, e, root)) from None


def load_model(model: type[T] | TypeAdapter[T], path: Path, what: str) -> T:
    """Read a YAML file and validate it in one step."""
    return validate(model, read_yaml(path), str(path), what)


class StrictModel(BaseModel):
    """Base of every spec: unknown keys are errors and specs are immutable."""

    model_config = {"extra": "forbid", "frozen": True}
