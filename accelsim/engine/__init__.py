"""Discrete-event core on simpy: units, bandwidth-limited channels, double buffering, timeline."""

from accelsim.engine.channel import Channel
from accelsim.engine.core import EngineResult, WorkItem, play
from accelsim.engine.timeline import Timeline

__all__ = ["Channel", "EngineResult", "Timeline", "WorkItem", "play"]
