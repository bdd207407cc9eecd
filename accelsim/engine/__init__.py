"""Discrete-event core on simpy: units, bandwidth-limited channels, double buffering, timeline."""

from accelsim.engine.channel import Channel
from accelsim.engine.core import DRAM, EngineResult, Transfer, WorkItem, play
from accelsim.engine.timeline import Timeline, TimelineMetrics, UnitActivity, timeline_metrics, unit_activity

__all__ = [
    "DRAM",
    "Channel",
    "EngineResult",
    "Timeline",
    "TimelineMetrics",
    "Transfer",
    "UnitActivity",
    "WorkItem",
    "play",
    "timeline_metrics",
    "unit_activity",
]
