"""Dataflows are registered by accelerator family and name, and chosen by name in a config.

Every dataflow is a `Dataflow`: one entry point, `map(layer, hardware, masks)`, that turns a layer
(and, for the sparse designs, its exact operand masks) into the family's mapping, which can describe
itself in one line. `get_dataflow` returns it typed as the family's class. A shipped family's dataflow
module is imported when the family is first asked for (`BUILTIN`), so a run imports only the dataflows
(and kernels) of the family it uses.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from accelsim.errors import UnknownNameError

if TYPE_CHECKING:
    from accelsim.workload.layer import Layer
    from accelsim.workload.masks import OperandMasks


class Mapping(Protocol):
    """What a dataflow makes of one layer: it says how in one line (the result's `mapping`)."""

    def describe(self) -> str:
        """Spatial unrolling, folds, temporal order: one line."""
        ...


HardwareT = TypeVar("HardwareT")
MappingT = TypeVar("MappingT", bound=Mapping, covariant=True)
D = TypeVar("D", bound="Dataflow[Any, Any]")


class Dataflow(ABC, Generic[HardwareT, MappingT]):
    """A way to map a layer onto the hardware of one accelerator family."""

    family: ClassVar[str]
    """The accelerator family whose hardware this dataflow maps onto."""
    name: str
    """The name a config chooses it by (`dataflow:`)."""

    @abstractmethod
    def map(self, layer: Layer, hardware: HardwareT, masks: OperandMasks | None = None) -> MappingT:
        """The layer's mapping on `hardware`; `masks` are the exact operand masks (sparse designs)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.family}/{self.name})"


DATAFLOWS: dict[str, dict[str, Dataflow[Any, Any]]] = {}
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

T = TypeVar("T")


def register_dataflow(family: str, name: str) -> Callable[[T], T]:
    """Class or instance decorator: make a dataflow available as `dataflow: name` for `family`."""

    def add(obj: T) -> T:
        found = DATAFLOWS.setdefault(family, {})
        if name in found:  # a clash is a bug: raise, never warn
            raise ValueError(f"dataflow {family}/{name} already registered by {found[name]!r}")
        instance = obj() if isinstance(obj, type) else obj
        if not isinstance(instance, Dataflow) or instance.family != family:
            raise TypeError(f"{instance!r} is not a Dataflow of family {family!r}")
        found[name] = instance
        return obj

    return add


def get_dataflow(family: str, name: str, kind: type[D]) -> D:
    """The dataflow registered as `name` for `family`, checked to be a `kind`; unknown names list the
    known ones."""
    if name not in DATAFLOWS.get(family, {}) and family in BUILTIN:
        import_module(BUILTIN[family])
    known = DATAFLOWS.get(family, {})
    if name not in known:
        raise UnknownNameError(f"{family} dataflow", name, list(known))
    found = known[name]
    if not isinstance(found, kind):
        raise TypeError(f"dataflow {family}/{name} is a {type(found).__name__}, not a {kind.__name__}")
    return found


def all_dataflows() -> dict[str, dict[str, Dataflow[Any, Any]]]:
    """Every dataflow: family -> name -> dataflow (imports every shipped family's module)."""
    for module in sorted(set(BUILTIN.values())):
        import_module(module)
    return DATAFLOWS
