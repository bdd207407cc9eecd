"""Accelerator models, one module per family, found through the kind registry."""

from __future__ import annotations

from typing import Any

from accelsim.accelerators import (  # noqa: F401  (each module registers its kinds)
    eyeriss_v1,
    eyeriss_v2,
    imce,
    phantom,
    scnn,
    sparten,
    systolic,
    winograd,
)
from accelsim.accelerators.base import Accelerator
from accelsim.accelerators.registry import ACCELERATORS, get, register
from accelsim.errors import ConfigError, UnknownNameError


def build(spec: Any, source: str = "<spec>") -> Accelerator:
    """The model for a validated spec; a name the spec uses but nobody registered is a ConfigError."""
    try:
        return get(spec.kind)(spec)
    except UnknownNameError as e:
        key = next((key for what, key in _KEYS.items() if what in e.what), "kind")
        raise ConfigError(f"{source}: {spec.kind}.{key}: {e}") from None


_KEYS = {"dataflow": "dataflow", "energy table": "technology.energy_table", "DRAM": "dram.kind"}
"""What an UnknownNameError names -> the config key that chose it."""


__all__ = ["ACCELERATORS", "Accelerator", "build", "get", "register"]
