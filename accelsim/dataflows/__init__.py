"""Dataflows: layer + hardware geometry -> how the work is folded and placed on units."""

from accelsim.dataflows import (  # noqa: F401  (each module registers its dataflows)
    eyeriss_v1,
    eyeriss_v2,
    imce,
    phantom,
    scnn,
    sparten,
    systolic,
    winograd,
)
from accelsim.dataflows.registry import DATAFLOWS, Dataflow, Mapping, get_dataflow, register_dataflow

__all__ = ["DATAFLOWS", "Dataflow", "Mapping", "get_dataflow", "register_dataflow"]
