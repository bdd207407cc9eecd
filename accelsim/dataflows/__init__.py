"""Dataflows: layer + hardware geometry -> how the work is folded and placed on units."""

from accelsim.dataflows import systolic as _systolic  # noqa: F401  (registers os / ws / is)
from accelsim.dataflows.registry import DATAFLOWS, get_dataflow, register_dataflow

__all__ = ["DATAFLOWS", "get_dataflow", "register_dataflow"]
