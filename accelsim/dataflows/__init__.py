"""Dataflows: layer + hardware geometry -> how the work is folded and placed on units.

Each family's module registers its dataflows when imported; `get_dataflow` imports a shipped family's
module on first use (`registry.BUILTIN`).
"""

from accelsim.dataflows.registry import (
    BUILTIN,
    DATAFLOWS,
    Dataflow,
    Mapping,
    all_dataflows,
    get_dataflow,
    register_dataflow,
)

__all__ = [
    "BUILTIN",
    "DATAFLOWS",
    "Dataflow",
    "Mapping",
    "all_dataflows",
    "get_dataflow",
    "register_dataflow",
]
