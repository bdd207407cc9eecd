"""Dataflows are registered by accelerator family and name, and chosen by name in a config.

A shipped family's dataflow module is imported when the family is first asked for (`BUILTIN`), so a
run imports only the dataflows (and kernels) of the family it uses.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any, TypeVar

from accelsim.errors import UnknownNameError

T = TypeVar("T")

DATAFLOWS: dict[str, dict[str, Any]] = {}
"""family -> name -> dataflow object (the families imported so far)."""

BUILTIN: dict[str, str] = {
    "systolic": "accelsim.dataflows.systolic",
    "phantom2d": "accelsim.dataflows.phantom",
    "scnn": "accelsim.dataflows.scnn",
    "sparten": "accelsim.dataflows.sparten",
    "eyeriss_v1": "accelsim.dataflows.eyeriss_v1",
    "eyeriss_v2": "accelsim.dataflows.eyeriss_v2",
    "imce": "accelsim.dataflows.imce",
    "winograd_fpga": "accelsim.dataflows.winograd",
}
"""The families shipped with accelsim -> the module that registers their dataflows."""


def register_dataflow(family: str, name: str) -> Callable[[T], T]:
    """Class or instance decorator: make a dataflow available as `dataflow: name` for `family`."""

    def add(obj: T) -> T:
        found = DATAFLOWS.setdefault(family, {})
        if name in found:  # a clash is a bug: raise, never warn
            raise ValueError(f"dataflow {family}/{name} already registered by {found[name]!r}")
        found[name] = obj() if isinstance(obj, type) else obj
        return obj

    return add


def get_dataflow(family: str, name: str) -> Any:
    """The dataflow registered as `name` for `family`; unknown names list the known ones."""
    if name not in DATAFLOWS.get(family, {}) and family in BUILTIN:
        import_module(BUILTIN[family])
    known = DATAFLOWS.get(family, {})
    if name not in known:
        raise UnknownNameError(f"{family} dataflow", name, list(known))
    return known[name]


def all_dataflows() -> dict[str, dict[str, Any]]:
    """Every dataflow: family -> name -> dataflow (imports every shipped family's module)."""
    for module in sorted(set(BUILTIN.values())):
        import_module(module)
    return DATAFLOWS
