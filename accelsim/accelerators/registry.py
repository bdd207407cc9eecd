"""Registry of accelerator kinds: `kind:` in a config -> model class."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from accelsim.errors import UnknownNameError

if TYPE_CHECKING:
    from accelsim.accelerators.base import Accelerator

ACCELERATORS: dict[str, type[Accelerator]] = {}
_ENTRY_POINT_GROUP = "accelsim.accelerators"


def register(kind: str) -> Callable[[type[Accelerator]], type[Accelerator]]:
    """Class decorator: make `cls` the model of accelerator `kind`."""

    def add(cls: type[Accelerator]) -> type[Accelerator]:
        if kind in ACCELERATORS:  # a clash is a bug: raise, never warn
            raise ValueError(f"kind {kind!r} already registered by {ACCELERATORS[kind].__name__}")
        cls.kind = kind
        ACCELERATORS[kind] = cls
        return cls

    return add


def get(kind: str) -> type[Accelerator]:
    """The model class of `kind`; third-party kinds come from the `accelsim.accelerators` entry points."""
    if kind not in ACCELERATORS:
        for ep in entry_points(group=_ENTRY_POINT_GROUP):
            if ep.name == kind:
                ep.load()
    if kind not in ACCELERATORS:
        raise UnknownNameError("accelerator kind", kind, list(ACCELERATORS))
    return ACCELERATORS[kind]
