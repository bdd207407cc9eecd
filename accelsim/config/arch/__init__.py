"""Accelerator specs: one pydantic model per kind (one module per family), sharing `common`.

A new family adds a module here that defines `SPECS`, its spec classes (each with a `kind` literal),
and lists the module in `_FAMILIES`; `ArchSpec` is the discriminated union of all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

from accelsim.config.arch import eyeriss_v1, eyeriss_v2, imce, phantom, scnn, sparten, systolic, winograd
from accelsim.config.arch.common import CommonSpec, Dram, Precision, Technology
from accelsim.config.arch.systolic import SystolicMemory, SystolicSpec
from accelsim.config.yaml_io import read_yaml, validate
from accelsim.errors import ConfigError

_FAMILIES = (systolic, phantom, scnn, sparten, eyeriss_v1, eyeriss_v2, imce, winograd)
SPEC_CLASSES: tuple[type[CommonSpec], ...] = tuple(cls for fam in _FAMILIES for cls in fam.SPECS)
"""Every accelerator kind's spec class."""

ArchSpec: Any = Annotated[Union[SPEC_CLASSES], Field(discriminator="kind")]  # noqa: UP007
"""Every accelerator kind's spec, told apart by `kind`."""

_ARCH: TypeAdapter[Any] = TypeAdapter(ArchSpec)


def parse_arch(data: Any, source: str) -> CommonSpec:
    """Validate already-parsed data as an accelerator spec."""
    spec: CommonSpec = validate(_ARCH, data, source, "accelerator spec")
    return spec


def get_key(data: Any, dotted: str) -> Any:
    """The value at a dotted key path (e.g. `mesh.cols`) of a spec or of its data as a dict."""
    node = data
    for part in dotted.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def set_key(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set the dotted key path of a spec's data (a dict of dicts) to `value`, in place."""
    *sections, key = dotted.split(".")
    node = data
    for part in sections:
        node = node[part]
    node[key] = value


def with_key(spec: CommonSpec, dotted: str, value: Any, source: str) -> CommonSpec:
    """A validated copy of `spec` with the dotted key path set to `value` (a ConfigError if invalid)."""
    data = spec.model_dump(mode="json")
    try:
        set_key(data, dotted, value)
    except (KeyError, TypeError):
        raise ConfigError(f"{source}: {dotted}: no such section in this spec") from None
    return parse_arch(data, source)


def load_arch(path: Path) -> CommonSpec:
    """The one place where an accelerator YAML file becomes a spec; its relative table paths are taken
    relative to the file's folder."""
    spec = parse_arch(read_yaml(path), str(path))
    return spec.model_copy(update={"technology": spec.technology.anchored(Path(path).parent)})


__all__ = [
    "SPEC_CLASSES",
    "ArchSpec",
    "CommonSpec",
    "Dram",
    "Precision",
    "SystolicMemory",
    "SystolicSpec",
    "Technology",
    "get_key",
    "load_arch",
    "parse_arch",
    "set_key",
    "with_key",
]
