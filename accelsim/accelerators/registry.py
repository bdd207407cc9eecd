"""Registry of accelerator kinds: `kind:` in a config -> model class, each family imported on first use."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any

from accelsim.errors import UnknownNameError

if TYPE_CHECKING:
    from accelsim.accelerators.base import Accelerator

ACCELERATORS: dict[str, type[Accelerator]] = {}
"""The kinds registered so far (a family registers its kinds when its module is imported)."""

BUILTIN: dict[str, str] = {
    "systolic": "accelsim.accelerators.systolic",
    "phantom2d": "accelsim.accelerators.phantom",
    "scnn": "accelsim.accelerators.scnn",
    "dcnn": "accelsim.accelerators.scnn",
    "sparten": "accelsim.accelerators.sparten",
    "eyeriss_v1": "accelsim.accelerators.eyeriss_v1",
    "eyeriss_v2": "accelsim.accelerators.eyeriss_v2",
    "imce": "accelsim.accelerators.imce",
    "winograd_fpga": "accelsim.accelerators.winograd",
}
"""The kinds shipped with accelsim -> the module that registers them, imported when the kind is first
used, so that a run imports only its own family (and its kernels)."""

SHIPPED_DATAFLOWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "systolic": ("systolic", ("os", "ws", "is")),
    "phantom2d": ("phantom2d", ("phantom",)),
    "scnn": ("scnn", ("pt_is_cp_sparse",)),
    "dcnn": ("scnn", ("pt_is_cp_dense",)),
    "sparten": ("sparten", ()),
    "eyeriss_v1": ("eyeriss_v1", ("row_stationary",)),
    "eyeriss_v2": ("eyeriss_v2", ("rs_plus",)),
    "imce": ("imce", ("bitwise",)),
    "winograd_fpga": ("winograd_fpga", ("f2x2_3x3",)),
}
"""Shipped kind -> (its dataflow family, the shipped dataflows a config of that kind may name; () when
the kind has no `dataflow` key), so that a config naming one can be checked without importing the
family's numba kernels (tests hold it equal to what building the model accepts)."""

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
    """The model class of `kind`: a shipped family's module is imported now if need be; third-party
    kinds come from the `accelsim.accelerators` entry points."""
    if kind not in ACCELERATORS and kind in BUILTIN:
        import_module(BUILTIN[kind])
    if kind not in ACCELERATORS:
        for ep in _entry_points():
            if ep.name == kind:
                ep.load()
    if kind not in ACCELERATORS:
        raise UnknownNameError("accelerator kind", kind, known_kinds())
    return ACCELERATORS[kind]


def known_kinds() -> list[str]:
    """Every kind a config may name (shipped, registered, or offered by an entry point), sorted;
    nothing is imported to list them."""
    offered = {ep.name for ep in _entry_points()}
    return sorted(set(BUILTIN) | set(ACCELERATORS) | offered)


def _entry_points() -> Any:
    from importlib.metadata import entry_points  # here: importing it costs startup time

    return entry_points(group=_ENTRY_POINT_GROUP)
