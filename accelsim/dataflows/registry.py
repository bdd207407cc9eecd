"""Dataflows are registered by accelerator family and name, and chosen by name in a config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from accelsim.errors import UnknownNameError

T = TypeVar("T")

DATAFLOWS: dict[str, dict[str, Any]] = {}
"""family -> name -> dataflow object."""


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
    known = DATAFLOWS.get(family, {})
    if name not in known:
        raise UnknownNameError(f"{family} dataflow", name, list(known))
    return known[name]
