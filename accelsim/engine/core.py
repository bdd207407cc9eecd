"""Play work items on units: double-buffered operand fetch over a shared DRAM channel.

One simpy process per unit, one event per work item or transfer, never one per cycle. A unit holds
two operand buffers: while it computes on one, the next item's operands stream into the other. It also
holds two output buffers: a job's results are written back over the same channel while the next job
computes, and a job cannot start until an output buffer is free. Items with unit = -1 go to a shared
work queue that idle units pull from (dynamic load balancing); the others run on their own unit in
order (static assignment). The run ends at a barrier: every unit done and every write-back drained.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import simpy

from accelsim.engine.channel import Channel
from accelsim.engine.timeline import Timeline

SHARED_QUEUE = -1


@dataclass(frozen=True, slots=True)
class WorkItem:
    """`repeat` identical back-to-back jobs, each occupying one unit for `cycles` cycles.

    Before each job its `in_bytes` are fetched over DRAM into a free operand buffer; after it its
    `out_bytes` are written back. `unit` = -1 puts the item on the shared work queue. `wait` of a
    job's cycles are spent waiting for data inside the job (a kernel that knows it, e.g. a call whose
    copies and compute run in sequence): the timeline records them as stalled, the rest as busy.
    """

    unit: int
    cycles: int
    repeat: int = 1
    in_bytes: float = 0.0
    out_bytes: float = 0.0
    wait: int = 0

    def __post_init__(self) -> None:
        if (
            self.cycles < 0
            or self.repeat < 1
            or self.in_bytes < 0
            or self.out_bytes < 0
            or not 0 <= self.wait <= self.cycles
        ):
            raise ValueError(f"invalid work item {self}")


@dataclass(frozen=True)
class EngineResult:
    """Makespan in cycles, per-unit busy / stalled / idle cycles and the interval timeline."""

    makespan: int
    """Cycles from the first compute to the barrier after the last one."""
    unit_cycles: np.ndarray
    timeline: Timeline
    dram_bytes: float
    dram_busy_cycles: int
    drain_cycles: int = 0
    """Cycles the last write-backs need after the barrier (they overlap the next layer)."""

    @property
    def busy(self) -> np.ndarray:
        """Busy cycles of each unit."""
        return self.unit_cycles[:, 0]


def play(items: Sequence[WorkItem], units: int, dram_bytes_per_cycle: float | None) -> EngineResult:
    """Simulate `items` on `units` units sharing one DRAM channel; return the makespan and timeline."""
    if units < 1:
        raise ValueError(f"units must be >= 1, got {units}")
    for item in items:
        if not (item.unit == SHARED_QUEUE or 0 <= item.unit < units):
            raise ValueError(f"work item on unit {item.unit}, but there are {units} units")
    env = simpy.Environment()
    dram = Channel(env, dram_bytes_per_cycle)
    timeline = Timeline(units)
    queue: simpy.Store = simpy.Store(env)
    for item in items:
        if item.unit == SHARED_QUEUE:
            queue.put(item)
    writebacks: list[simpy.Process] = []
    procs = [
        env.process(_unit(env, uid, [i for i in items if i.unit == uid], queue, dram, timeline, writebacks))
        for uid in range(units)
    ]
    env.run(env.all_of(procs))  # barrier: every unit has finished computing
    makespan = int(env.now)
    env.run(env.all_of(writebacks))  # the write-backs still in flight drain into the next layer
    return EngineResult(
        makespan,
        timeline.totals(makespan),
        timeline,
        dram.bytes_moved,
        dram.busy_cycles,
        int(env.now) - makespan,
    )


def _unit(
    env: simpy.Environment,
    uid: int,
    own: list[WorkItem],
    queue: simpy.Store,
    dram: Channel,
    timeline: Timeline,
    writebacks: list[simpy.Process],
) -> Generator[simpy.Event, object, None]:
    """Run this unit's own items, then pull from the shared queue until it is empty."""
    if dram.unlimited:  # transfers are free: a whole item is one timeout, exactly
        for item in _own_then_shared(own, queue):
            start = int(env.now)
            yield env.timeout(item.cycles * item.repeat)
            if item.wait:
                for j in range(item.repeat):
                    at = start + j * item.cycles
                    timeline.record(uid, "stalled", at, at + item.wait)
                    timeline.record(uid, "busy", at + item.wait, at + item.cycles)
            else:
                timeline.record(uid, "busy", start, int(env.now))
            dram.bytes_moved += (item.in_bytes + item.out_bytes) * item.repeat
        return
    free = simpy.Container(env, capacity=2, init=2)  # two operand buffers: double buffering
    out_free = simpy.Container(env, capacity=2, init=2)  # two output buffers
    ready: simpy.Store = simpy.Store(env)
    env.process(_prefetch(env, own, queue, dram, free, ready))
    while True:
        wait_from = int(env.now)
        job = yield ready.get()
        if not isinstance(job, WorkItem):  # None: the prefetcher has nothing more
            return
        yield out_free.get(1)
        timeline.record(uid, "stalled", wait_from, int(env.now))
        start = int(env.now)
        yield env.timeout(job.cycles)
        timeline.record(uid, "stalled", start, start + job.wait)
        timeline.record(uid, "busy", start + job.wait, int(env.now))
        yield free.put(1)
        writebacks.append(env.process(_write_back(dram, job.out_bytes, out_free)))


def _prefetch(
    env: simpy.Environment,
    own: list[WorkItem],
    queue: simpy.Store,
    dram: Channel,
    free: simpy.Container,
    ready: simpy.Store,
) -> Generator[simpy.Event, object, None]:
    """Fetch each job's operands into a free buffer, in order; None marks the end.

    The first job's operands arrived during the previous layer: counted as moved, taking no time here.
    """
    first = True
    for item in _own_then_shared(own, queue):
        for _ in range(item.repeat):
            yield free.get(1)
            if first:
                dram.bytes_moved += item.in_bytes
                first = False
            else:
                yield from dram.transfer(item.in_bytes)
            yield ready.put(item)
    yield ready.put(None)


def _write_back(
    dram: Channel, nbytes: float, out_free: simpy.Container
) -> Generator[simpy.Event, object, None]:
    """Drain one job's results over the link, then release its output buffer."""
    yield from dram.transfer(nbytes)
    yield out_free.put(1)


def _own_then_shared(own: list[WorkItem], queue: simpy.Store) -> Iterator[WorkItem]:
    """This unit's own items in order, then whatever is left on the shared queue."""
    yield from own
    while queue.items:  # pulling is instantaneous: the queue is a list of descriptors
        yield queue.items.pop(0)
