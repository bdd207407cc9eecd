"""Accelerator models, one module per family, found through the kind registry.

A family's module (and with it its dataflow and numba kernels) is imported when a config first names
one of its kinds (`registry.BUILTIN`), so a run imports only the family it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accelsim.accelerators.registry import (
    ACCELERATORS,
    BUILTIN,
    SHIPPED_DATAFLOWS,
    get,
    known_kinds,
    register,
)
from accelsim.errors import ConfigError, UnknownNameError

if TYPE_CHECKING:
    from accelsim.accelerators.base import Accelerator


def build(spec: Any, source: str = "<spec>") -> Accelerator:
    """The model for a validated spec; a name the spec uses but nobody registered, or an energy-map
    action the model does not have, is a ConfigError."""
    try:
        accelerator = get(spec.kind)(spec)
    except UnknownNameError as e:
        key = next((key for what, key in _KEYS.items() if what in e.what), "kind")
        raise ConfigError(f"{source}: {spec.kind}.{key}: {e}") from None
    accelerator.check_energy_map()
    return accelerator


def check(spec: Any, source: str = "<spec>") -> None:
    """What `build` checks (the kind, the dataflow, the energy table and an Accelergy ERT's energy map),
    without importing the family's numba kernels when the config names a shipped kind and one of its
    shipped dataflows and maps no actions; any other config is built. A name nobody registered is a
    ConfigError, as from `build`."""
    kind = spec.kind
    shipped = SHIPPED_DATAFLOWS.get(kind)
    dataflow = getattr(spec, "dataflow", None)
    unshipped = shipped is None or (dataflow is not None and dataflow not in shipped[1])
    if unshipped or spec.technology.energy_map:  # an energy map names the model's actions: build it
        build(spec, source)
        return
    from accelsim.energy.model import EnergyModel

    try:
        EnergyModel.from_technology(spec.technology)  # an Accelergy ERT and its energy_map too
    except UnknownNameError as e:
        raise ConfigError(f"{source}: {kind}.technology.energy_table: {e}") from None


_KEYS = {"dataflow": "dataflow", "energy table": "technology.energy_table", "DRAM": "dram.kind"}
"""What an UnknownNameError names -> the config key that chose it."""


def __getattr__(name: str) -> Any:
    if name == "Accelerator":  # on demand: the base class imports pandas and numpy
        from accelsim.accelerators.base import Accelerator

        return Accelerator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ACCELERATORS",
    "BUILTIN",
    "SHIPPED_DATAFLOWS",
    "Accelerator",
    "build",
    "check",
    "get",
    "known_kinds",
    "register",
]
