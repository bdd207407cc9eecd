"""Play work items on units: operand fetch, compute and write-back over bandwidth-limited channels.

One simpy process per unit, one event per work item or transfer, never one per cycle. A unit holds
`buffers` operand buffers (two: double buffering, the next item's operands stream into one while the
current item computes on the other; one: a job's operands are loaded only after the previous job has
computed). It also holds two output buffers: a job's results are written back while the next job
computes, and a job cannot start until an output buffer is free. Items with unit = -1 go to a shared
work queue that idle units pull from (dynamic load balancing); the others run on their own unit in
order (static assignment). The run ends at a barrier: every unit done and every write-back drained.

Channels: DRAM (`dram_bytes_per_cycle`, named "dram") and any further named links a plan lists
(`channels`, e.g. one on-chip network per cluster). Each is first come, first served. A job moves
bytes over them in three phases: `fetch` before its compute (into an operand buffer), `stream`
while it computes (the job ends when both its compute and its streams are done; the wait beyond the
compute is stalled) and `spill` after it (with the write-back, in an output buffer). A transfer with
a `key` moves once however many jobs name it: a multicast (`barrier`: it starts when every job
naming the key has asked for it, since it lands in all their buffers at once) or data staged in a
shared buffer (no barrier: the first job to ask moves it, the others wait until it has arrived).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import simpy

from accelsim.engine.channel import Channel
from accelsim.engine.timeline import Timeline

SHARED_QUEUE = -1
DRAM = "dram"
"""The name of the DRAM channel (`dram_bytes_per_cycle`), which `in_bytes` and `out_bytes` use."""


@dataclass(frozen=True, slots=True)
class Transfer:
    """`nbytes` over the channel named `channel` (a plan's unit of transfer: bytes, or words of a
    network that moves words). Transfers of one `key` move once (see the module docstring)."""

    channel: str
    nbytes: float
    key: Hashable | None = None
    barrier: bool = False
    """With a key: True, a multicast that starts once every job naming the key has asked for it;
    False, staged data that the first job to ask moves and the others wait for."""

    def __post_init__(self) -> None:
        if self.nbytes < 0 or (self.barrier and self.key is None):
            raise ValueError(f"invalid transfer {self}")


@dataclass(frozen=True, slots=True)
class WorkItem:
    """`repeat` identical back-to-back jobs, each occupying one unit for `cycles` cycles.

    Before each job its `in_bytes` are fetched over DRAM into a free operand buffer; after it its
    `out_bytes` are written back. `unit` = -1 puts the item on the shared work queue. `wait` of a
    job's cycles are spent waiting for data inside the job (a kernel that knows it, e.g. a call whose
    copies and compute run in sequence): the timeline records them as stalled, the rest as busy.
    `fetch`, `stream` and `spill` are further transfers before, during and after the compute, over
    any channel of the plan (an item with a keyed transfer has `repeat` 1).
    """

    unit: int
    cycles: int
    repeat: int = 1
    in_bytes: float = 0.0
    out_bytes: float = 0.0
    wait: int = 0
    fetch: tuple[Transfer, ...] = ()
    stream: tuple[Transfer, ...] = ()
    spill: tuple[Transfer, ...] = ()

    def __post_init__(self) -> None:
        keyed = any(t.key is not None for t in (*self.fetch, *self.stream, *self.spill))
        if (
            self.cycles < 0
            or self.repeat < 1
            or self.in_bytes < 0
            or self.out_bytes < 0
            or not 0 <= self.wait <= self.cycles
            or (keyed and self.repeat != 1)
        ):
            raise ValueError(f"invalid work item {self}")

    @property
    def transfers(self) -> tuple[Transfer, ...]:
        """The fetch, stream and spill transfers."""
        return (*self.fetch, *self.stream, *self.spill)


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
    channel_bytes: Mapping[str, float] = field(default_factory=dict)
    """Bytes (or words) each named channel moved, keyed transfers counted once."""
    channel_busy_cycles: Mapping[str, int] = field(default_factory=dict)

    @property
    def busy(self) -> np.ndarray:
        """Busy cycles of each unit."""
        return self.unit_cycles[:, 0]


@dataclass
class _Shared:
    """One keyed transfer: how many jobs name it, how many have asked, and its arrival."""

    receivers: int
    asked: int = 0
    arrived: simpy.Event | None = None


class _Links:
    """The channels of one run and the keyed transfers they carry."""

    def __init__(self, env: simpy.Environment, dram: Channel, channels: Mapping[str, float | None]) -> None:
        self.env = env
        self.by_name = {DRAM: dram, **{n: Channel(env, bw, n) for n, bw in channels.items() if n != DRAM}}
        self.shared: dict[Hashable, _Shared] = {}
        self.first: dict[Hashable, Transfer] = {}

    def register(self, items: Sequence[WorkItem]) -> None:
        """Check every transfer's channel and count the jobs that name each key."""
        receivers: Counter[Hashable] = Counter()
        for item in items:
            for t in item.transfers:
                if t.channel not in self.by_name:
                    raise ValueError(
                        f"transfer over unknown channel {t.channel!r}; known: {sorted(self.by_name)}"
                    )
                if t.key is not None:
                    seen = self.first.setdefault(t.key, t)
                    if (seen.channel, seen.nbytes, seen.barrier) != (t.channel, t.nbytes, t.barrier):
                        raise ValueError(f"transfers of key {t.key!r} differ: {seen} and {t}")
                    receivers[t.key] += 1
        self.shared = {k: _Shared(n) for k, n in receivers.items()}
        legacy = any(item.in_bytes or item.out_bytes for item in items)
        if legacy and any(t.channel == DRAM for item in items for t in item.transfers):
            raise ValueError("DRAM is used through in_bytes / out_bytes or through transfers, not both")

    @property
    def free(self) -> bool:
        """True when every transfer takes no time and no job waits for another (no multicast)."""
        unlimited = all(c.unlimited for c in self.by_name.values())
        return unlimited and not any(t.barrier for t in self.first.values())

    def count_free(self, item: WorkItem) -> None:
        """Count an item's bytes when transfers are free (keyed ones once)."""
        for t in item.transfers:
            if t.key is None:
                self.by_name[t.channel].bytes_moved += t.nbytes * item.repeat
            elif self.shared[t.key].asked == 0:
                self.shared[t.key].asked = 1
                self.by_name[t.channel].bytes_moved += t.nbytes

    def moves(self, transfers: tuple[Transfer, ...]) -> simpy.Event | None:
        """Book every transfer of a phase; the event that fires when the last has arrived (None: all
        arrived already)."""
        now = int(self.env.now)
        end = now
        waits: list[simpy.Event] = []
        for t in transfers:
            channel = self.by_name[t.channel]
            if t.key is None:
                end = max(end, channel.reserve(t.nbytes))
                continue
            state = self.shared[t.key]
            state.asked += 1
            if t.barrier or state.asked == 1:
                if state.arrived is None:
                    state.arrived = self.env.event()
                if not t.barrier or state.asked == state.receivers:
                    self._arrive(state.arrived, channel.reserve(t.nbytes) - now)
            if state.arrived is not None and not state.arrived.processed:
                waits.append(state.arrived)
        if end > now:
            waits.append(self.env.timeout(end - now))
        if not waits:
            return None
        return waits[0] if len(waits) == 1 else self.env.all_of(waits)

    def _arrive(self, arrived: simpy.Event, delay: int) -> None:
        """Fire `arrived` after `delay` cycles."""
        if delay == 0:
            arrived.succeed()
            return

        def fire(_: simpy.Event) -> None:
            arrived.succeed()

        timer = self.env.timeout(delay)
        assert timer.callbacks is not None  # a fresh timeout is not processed yet
        timer.callbacks.append(fire)


def play(
    items: Sequence[WorkItem],
    units: int,
    dram_bytes_per_cycle: float | None,
    channels: Mapping[str, float | None] | None = None,
    buffers: int = 2,
) -> EngineResult:
    """Simulate `items` on `units` units sharing the DRAM channel and the named `channels` (bytes or
    words per cycle, None = unlimited), with `buffers` operand buffers per unit; return the makespan
    and timeline."""
    if units < 1:
        raise ValueError(f"units must be >= 1, got {units}")
    if buffers not in (1, 2):
        raise ValueError(f"buffers must be 1 or 2, got {buffers}")
    for item in items:
        if not (item.unit == SHARED_QUEUE or 0 <= item.unit < units):
            raise ValueError(f"work item on unit {item.unit}, but there are {units} units")
    env = simpy.Environment()
    dram = Channel(env, dram_bytes_per_cycle)
    links = _Links(env, dram, channels or {})
    links.register(items)
    timeline = Timeline(units)
    queue: simpy.Store = simpy.Store(env)
    for item in items:
        if item.unit == SHARED_QUEUE:
            queue.put(item)
    writebacks: list[simpy.Process] = []
    own: list[list[WorkItem]] = [[] for _ in range(units)]
    for item in items:
        if item.unit != SHARED_QUEUE:
            own[item.unit].append(item)
    procs = [
        env.process(_unit(env, uid, own[uid], queue, links, timeline, writebacks, buffers))
        for uid in range(units)
    ]
    try:
        env.run(env.all_of(procs))  # barrier: every unit has finished computing
    except RuntimeError as err:  # simpy: no events left, some unit still waiting
        raise ValueError(f"work items wait for each other's multicasts in a cycle ({err})") from err
    makespan = int(env.now)
    env.run(env.all_of(writebacks))  # the write-backs still in flight drain into the next layer
    named = {n: c for n, c in links.by_name.items() if n != DRAM}
    return EngineResult(
        makespan,
        timeline.totals(makespan),
        timeline,
        dram.bytes_moved,
        dram.busy_cycles,
        int(env.now) - makespan,
        {n: c.bytes_moved for n, c in named.items()},
        {n: c.busy_cycles for n, c in named.items()},
    )


def _unit(
    env: simpy.Environment,
    uid: int,
    own: list[WorkItem],
    queue: simpy.Store,
    links: _Links,
    timeline: Timeline,
    writebacks: list[simpy.Process],
    buffers: int,
) -> Generator[simpy.Event, object, None]:
    """Run this unit's own items, then pull from the shared queue until it is empty."""
    dram = links.by_name[DRAM]
    if links.free:  # transfers are free: a whole item is one timeout, exactly
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
            links.count_free(item)
        return
    free = simpy.Container(env, capacity=buffers, init=buffers)  # operand buffers
    out_free = simpy.Container(env, capacity=2, init=2)  # two output buffers
    ready: simpy.Store = simpy.Store(env)
    env.process(_prefetch(env, own, queue, links, free, ready))
    while True:
        wait_from = int(env.now)
        job = yield ready.get()
        if not isinstance(job, WorkItem):  # None: the prefetcher has nothing more
            return
        yield out_free.get(1)
        timeline.record(uid, "stalled", wait_from, int(env.now))
        start = int(env.now)
        streams = links.moves(job.stream)
        yield env.timeout(job.cycles)
        if streams is not None and not streams.processed:
            yield streams
        timeline.record(uid, "stalled", start, start + job.wait)
        timeline.record(uid, "busy", start + job.wait, start + job.cycles)
        timeline.record(uid, "stalled", start + job.cycles, int(env.now))
        yield free.put(1)
        writebacks.append(env.process(_write_back(links, job, out_free)))


def _prefetch(
    env: simpy.Environment,
    own: list[WorkItem],
    queue: simpy.Store,
    links: _Links,
    free: simpy.Container,
    ready: simpy.Store,
) -> Generator[simpy.Event, object, None]:
    """Fetch each job's operands into a free buffer, in order; None marks the end.

    The first job's `in_bytes` arrived during the previous layer: counted as moved, taking no time
    here. Its `fetch` transfers are timed like every other job's.
    """
    dram = links.by_name[DRAM]
    first = True
    for item in _own_then_shared(own, queue):
        for _ in range(item.repeat):
            yield free.get(1)
            if first:
                dram.bytes_moved += item.in_bytes
                first = False
            else:
                yield from dram.transfer(item.in_bytes)
            moves = links.moves(item.fetch)
            if moves is not None:
                yield moves
            yield ready.put(item)
    yield ready.put(None)


def _write_back(
    links: _Links, job: WorkItem, out_free: simpy.Container
) -> Generator[simpy.Event, object, None]:
    """Drain one job's results over DRAM and its spills over their channels, then release its output
    buffer."""
    yield from links.by_name[DRAM].transfer(job.out_bytes)
    moves = links.moves(job.spill)
    if moves is not None:
        yield moves
    yield out_free.put(1)


def _own_then_shared(own: list[WorkItem], queue: simpy.Store) -> Iterator[WorkItem]:
    """This unit's own items in order, then whatever is left on the shared queue."""
    yield from own
    while queue.items:  # pulling is instantaneous: the queue is a list of descriptors
        yield queue.items.pop(0)
