"""The one place where YAML text becomes Python data, and validation errors become messages."""

from __future__ import annotations

from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from accelsim.config.text import read_text
from accelsim.errors import ConfigError

T = TypeVar("T")

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""PyYAML's safe loader, in C where libyaml is available (the same documents, several times faster)."""


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a missing or binary file or a syntax error raises ConfigError naming the file."""
    path = Path(path)
    text = read_text(path, "a YAML file")
    try:
        return yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid YAML: nested too deeply") from None


def names_a_file(name: str | Path) -> bool:
    """A table reference names a file (a Path, a `.yaml` name or a name with a folder), not a shipped id."""
    path = Path(name)
    return isinstance(name, Path) or path.suffix in (".yaml", ".yml") or len(path.parts) > 1


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
    """Base of every spec: unknown keys are errors, specs are immutable, numbers are finite (no inf or
    NaN) and a boolean is never read as a number (`rows: true` is an error, not 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_boolean_numbers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        bad = [
            loc
            for key, value in data.items()
            if key in cls.model_fields
            for loc in _boolean_numbers(cls.model_fields[key].annotation, value, (key,))
        ]
        if bad:
            raise ValidationError.from_exception_data(
                cls.__name__,
                [InitErrorDetails(type=_BOOLEAN_NUMBER, loc=loc, input=_get(data, loc)) for loc in bad],
            )
        return data


_BOOLEAN_NUMBER = PydanticCustomError("bool_not_number", "Input should be a number, not a boolean")


def _boolean_numbers(tp: Any, value: Any, loc: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Where `value` holds a boolean that type `tp` would read as a number (an int or float, not a bool).

    Nested models check their own fields; this walks only plain containers (lists, tuples, dicts).
    """
    tp = _unwrap(tp)
    members = [_unwrap(m) for m in get_args(tp)] if get_origin(tp) in (Union, UnionType) else [tp]
    if isinstance(value, bool):
        wants_number = any(m in (int, float) for m in members)
        return [loc] if wants_number and not any(m in (bool, Any) for m in members) else []
    for m in members:
        origin, args = get_origin(m), get_args(m)
        if isinstance(value, list | tuple) and origin in (list, tuple) and args:
            fixed = origin is tuple and not (len(args) == 2 and args[1] is Ellipsis)
            types = args if fixed else [args[0]] * len(value)
            return [
                b
                for i, (t, v) in enumerate(zip(types, value, strict=False))
                for b in _boolean_numbers(t, v, (*loc, i))
            ]
        if isinstance(value, dict) and origin is dict and len(args) == 2:
            return [b for k, v in value.items() for b in _boolean_numbers(args[1], v, (*loc, k))]
    return []


def _get(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        data = data[part]
    return data
