"""A shared link of limited bandwidth (DRAM, a shared buffer port): transfers take turns."""

from __future__ import annotations

import math
from collections.abc import Generator

import simpy


class Channel:
    """A link moving `bytes_per_cycle`; transfers are served first come, first served.

    `bytes_per_cycle=None` is an unlimited link: a transfer then takes no time and schedules no
    event, which keeps stall-free runs as fast as a closed-form count.
    """

    def __init__(self, env: simpy.Environment, bytes_per_cycle: float | None, name: str = "dram") -> None:
        if bytes_per_cycle is not None and not bytes_per_cycle > 0:
            raise ValueError(f"{name}: bytes_per_cycle must be > 0 or None, got {bytes_per_cycle}")
        self.env = env
        self.name = name
        self.bytes_per_cycle = bytes_per_cycle
        self.bytes_moved = 0.0
        self.busy_cycles = 0
        self._link = simpy.Resource(env, capacity=1)
        self._free_at = 0

    def reserve(self, nbytes: float) -> int:
        """Book the link for `nbytes` after every earlier booking (first come, first served, in the
        order of the calls) and return the cycle the transfer ends; schedules no event. A link is
        used either through `transfer` or through `reserve`, not both (the engine keeps them apart)."""
        self.bytes_moved += nbytes
        hold = self.cycles_for(nbytes)
        now = int(self.env.now)
        if hold == 0:
            return now
        start = max(now, self._free_at)
        self._free_at = start + hold
        self.busy_cycles += hold
        return self._free_at

    @property
    def unlimited(self) -> bool:
        """True when transfers cost no time."""
        return self.bytes_per_cycle is None

    def cycles_for(self, nbytes: float) -> int:
        """Whole cycles the link is held to move `nbytes`."""
        if self.bytes_per_cycle is None or nbytes <= 0:
            return 0
        return math.ceil(nbytes / self.bytes_per_cycle)

    def transfer(self, nbytes: float) -> Generator[simpy.Event, object, None]:
        """Move `nbytes` over the link (a simpy process body: `yield from channel.transfer(n)`)."""
        self.bytes_moved += nbytes
        hold = self.cycles_for(nbytes)
        if hold == 0:
            return
        with self._link.request() as turn:  # released on exit, even when interrupted
            yield turn
            self.busy_cycles += hold
            yield self.env.timeout(hold)
