"""The discrete-event engine: double buffering, shared channel, work queue, timeline."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.engine import EngineResult, Transfer, WorkItem, play, timeline_metrics
from accelsim.engine.channel import Channel
from accelsim.engine.timeline import union_length


def metrics(result: EngineResult):  # type: ignore[no-untyped-def]
    frame = result.timeline.frame(result.makespan)
    return timeline_metrics(frame, result.unit_cycles.shape[0], result.makespan)


def double_buffer_reference(jobs: list[tuple[int, float]], bw: float) -> int:
    """Recurrence for one unit with two operand buffers and a read-only link (no write-back).

    The fetch of job k starts when the link is free and job k-2 has released its buffer; job 0's
    operands were fetched during the previous layer.
    """
    fetch_end: list[int] = []
    compute_end: list[int] = []
    for k, (cycles, nbytes) in enumerate(jobs):
        buffer_free = compute_end[k - 2] if k >= 2 else 0
        link_free = fetch_end[k - 1] if k >= 1 else 0
        fetch = math.ceil(nbytes / bw) if k > 0 else 0
        fetch_end.append(max(buffer_free, link_free) + fetch)
        start = max(fetch_end[k], compute_end[k - 1] if k >= 1 else 0)
        compute_end.append(start + cycles)
    return compute_end[-1]


@settings(deadline=None, max_examples=80)
@given(
    jobs=st.lists(st.tuples(st.integers(0, 50), st.integers(0, 200)), min_size=1, max_size=12),
    bw=st.sampled_from([0.5, 1.0, 3.0, 16.0]),
)
def test_double_buffering_matches_recurrence(jobs, bw):
    items = [WorkItem(unit=0, cycles=c, in_bytes=b) for c, b in jobs]
    result = play(items, units=1, dram_bytes_per_cycle=bw)
    assert result.makespan == double_buffer_reference(jobs, bw)
    busy, stalled, idle = result.unit_cycles[0]
    assert busy == sum(c for c, _ in jobs)
    assert busy + stalled + idle == result.makespan


@settings(deadline=None, max_examples=40)
@given(cycles=st.integers(1, 100), repeat=st.integers(1, 20), nbytes=st.integers(0, 500))
def test_repeat_equals_expanded_items(cycles, repeat, nbytes):
    one = play([WorkItem(0, cycles, repeat=repeat, in_bytes=nbytes)], 1, 2.0)
    many = play([WorkItem(0, cycles, in_bytes=nbytes)] * repeat, 1, 2.0)
    assert one.makespan == many.makespan


def test_unlimited_bandwidth_is_stall_free_sum():
    items = [WorkItem(0, 100, repeat=3, in_bytes=1e9, out_bytes=1e9), WorkItem(0, 7)]
    result = play(items, units=1, dram_bytes_per_cycle=None)
    assert result.makespan == 307
    assert metrics(result).stall_cycles == 0
    assert result.dram_bytes == 6e9


def test_write_back_shares_the_link_and_drains_after_the_barrier():
    # Job 0's operands are on chip at cycle 0. Compute 0-100 while job 1 is fetched (0-50); job 0's
    # write-back (100-110) holds the link, so job 1 computes 100-200 while job 2 is fetched 110-160;
    # job 2 computes 200-300; its write-back 300-310 drains after the barrier.
    result = play([WorkItem(0, 100, repeat=3, in_bytes=50, out_bytes=10)], 1, 1.0)
    assert result.makespan == 300
    assert result.drain_cycles == 10
    assert result.unit_cycles[0].tolist() == [300, 0, 0]
    slow = play([WorkItem(0, 100, repeat=3, in_bytes=150, out_bytes=10)], 1, 1.0)
    # fetch 1: 0-150; compute 1: 150-250; write 0 100... the link is FIFO: write 0 queued at 100 runs 150-160,
    # fetch 2 starts when buffer 0 frees (100) but queues behind: 160-310; compute 2: 310-410.
    assert slow.makespan == 410
    assert metrics(slow).stall_cycles == 50 + 60


def test_shared_queue_balances_greedily():
    items = [WorkItem(-1, c) for c in (100, 50, 70, 10)]
    result = play(items, units=2, dram_bytes_per_cycle=None)
    assert result.makespan == 120  # unit 0: 100 + 10, unit 1: 50 + 70
    assert result.busy.tolist() == [110, 120]
    assert metrics(result).imbalance == pytest.approx(120 / 115)


def test_static_assignment_imbalance_and_timeline():
    result = play([WorkItem(0, 30), WorkItem(1, 10)], units=2, dram_bytes_per_cycle=None)
    assert metrics(result).imbalance == pytest.approx(30 / 20)
    frame = result.timeline.frame(result.makespan)
    idle = frame[(frame.unit == 1) & (frame.state == "idle")]
    assert idle[["start", "end"]].values.tolist() == [[10, 30]]
    assert metrics(result).idle_fraction == pytest.approx(20 / 60)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="units"):
        play([], units=0, dram_bytes_per_cycle=None)
    with pytest.raises(ValueError, match="unit 3"):
        play([WorkItem(3, 1)], units=2, dram_bytes_per_cycle=None)
    with pytest.raises(ValueError, match="invalid work item"):
        WorkItem(0, -1)
    with pytest.raises(ValueError, match="bytes_per_cycle"):
        Channel(None, 0.0)  # type: ignore[arg-type]


def test_wait_inside_a_job_is_recorded_stalled_before_its_busy_part():
    for bw in (None, 4.0):
        result = play([WorkItem(0, 10, repeat=2, wait=3), WorkItem(1, 5)], units=2, dram_bytes_per_cycle=bw)
        frame = result.timeline.frame(result.makespan)
        unit0 = frame[frame.unit == 0][["state", "start", "end"]].values.tolist()
        assert unit0 == [["stalled", 0, 3], ["busy", 3, 10], ["stalled", 10, 13], ["busy", 13, 20]]
        m = metrics(result)
        assert m.stall_cycles == 6
        assert m.imbalance == pytest.approx(14 / 9.5)
    with pytest.raises(ValueError, match="invalid work item"):
        WorkItem(0, 2, wait=3)


@settings(deadline=None, max_examples=100)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 30)), max_size=12))
def test_union_length_counts_each_cycle_once(spans):
    starts = [s for s, _ in spans]
    ends = [s + n for s, n in spans]
    covered = {c for s, e in zip(starts, ends, strict=True) for c in range(s, e)}
    assert union_length(np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)) == len(covered)


def test_metrics_of_a_timeline_with_an_idle_unit():
    result = play(
        [WorkItem(0, 40, in_bytes=80), WorkItem(0, 40, in_bytes=80)], units=3, dram_bytes_per_cycle=1.0
    )
    m = metrics(result)
    busy = result.busy.astype(float)
    assert m.imbalance == pytest.approx(busy.max() / busy.mean())  # the idle units count in the mean
    stalled = int(result.unit_cycles[:, 1].sum())
    assert m.idle_fraction == pytest.approx(1 - (busy.sum() + stalled) / (3 * result.makespan))


def phased_reference(jobs: list[tuple[int, int, int]], buffers: int, bw: float, stream_bw: float) -> int:
    """Recurrence for one unit whose jobs fetch over one link and stream over another.

    Job k = (cycles, fetch bytes, stream bytes). Its fetch starts when the fetch link is free and an
    operand buffer is: job k - buffers has ended (every fetch is timed, the first included). It
    starts when fetched and when job k - 1 has ended; its stream runs alongside its compute on a link
    no other job uses meanwhile, and it ends when both are done.
    """
    fetch_end: list[int] = []
    end: list[int] = []
    for k, (cycles, fetch, stream) in enumerate(jobs):
        buffer_free = end[k - buffers] if k >= buffers else 0
        link_free = fetch_end[k - 1] if k else 0
        fetch_end.append(max(buffer_free, link_free) + math.ceil(fetch / bw))
        start = max(fetch_end[k], end[k - 1] if k else 0)
        end.append(start + max(cycles, math.ceil(stream / stream_bw)))
    return end[-1]


@settings(deadline=None, max_examples=80)
@given(
    jobs=st.lists(
        st.tuples(st.integers(0, 50), st.integers(0, 200), st.integers(0, 200)), min_size=1, max_size=10
    ),
    buffers=st.sampled_from([1, 2]),
    bw=st.sampled_from([0.5, 1.0, 3.0, 16.0]),
    stream_bw=st.sampled_from([1.0, 4.0]),
)
def test_fetch_and_stream_phases_match_recurrence(jobs, buffers, bw, stream_bw):
    items = [WorkItem(0, c, fetch=(Transfer("load", f),), stream=(Transfer("noc", s),)) for c, f, s in jobs]
    result = play(items, 1, None, {"load": bw, "noc": stream_bw}, buffers=buffers)
    assert result.makespan == phased_reference(jobs, buffers, bw, stream_bw)
    busy, stalled, idle = result.unit_cycles[0]
    assert busy == sum(c for c, _, _ in jobs)
    assert busy + stalled + idle == result.makespan
    assert result.channel_bytes == {"load": sum(f for _, f, _ in jobs), "noc": sum(s for _, _, s in jobs)}


def test_legacy_items_play_alike_with_extra_channels():
    """Items without fetch / stream / spill ignore the named channels: same schedule as before."""
    items = [
        WorkItem(0, 10, in_bytes=40, out_bytes=8),
        WorkItem(1, 5, in_bytes=80),
        WorkItem(0, 7, in_bytes=40),
    ]
    plain = play(items, 2, 4.0)
    extra = play(items, 2, 4.0, {"noc": 1.0})
    assert plain.makespan == extra.makespan
    assert plain.drain_cycles == extra.drain_cycles
    assert plain.timeline.frame(plain.makespan).equals(extra.timeline.frame(extra.makespan))


def test_multicast_starts_when_every_receiver_has_room_and_moves_once():
    """Unit 0 computes 10 cycles before it has a free buffer (one buffer): the multicast both units
    need starts at 10, moves 20 bytes once at 2 a cycle, and both start computing at 20."""
    share = Transfer("noc", 20, key="w", barrier=True)
    items = [WorkItem(0, 10), WorkItem(0, 5, fetch=(share,)), WorkItem(1, 5, fetch=(share,))]
    result = play(items, 2, None, {"noc": 2.0}, buffers=1)
    assert result.makespan == 25
    assert result.channel_bytes == {"noc": 20}
    frame = result.timeline.frame(result.makespan)
    waits = frame[frame.state == "stalled"]
    assert waits[["unit", "start", "end"]].values.tolist() == [[0, 10, 20], [1, 0, 20]]


def test_staged_data_is_moved_by_the_first_asker_and_waited_for_by_the_others():
    """Unit 1 asks at 0 and moves the 40 bytes over 0..20; unit 0 asks at 5 and waits until 20;
    a third asker at 30 finds the data there."""
    staged = Transfer("link", 40, key="iacts")
    items = [
        WorkItem(0, 5),
        WorkItem(0, 5, stream=(staged,)),
        WorkItem(1, 1, stream=(staged,)),
        WorkItem(2, 30),
        WorkItem(2, 5, stream=(staged,)),
    ]
    result = play(items, 3, None, {"link": 2.0}, buffers=1)
    assert result.channel_bytes == {"link": 40}
    frame = result.timeline.frame(result.makespan)
    ends = frame[frame.state != "idle"].groupby("unit").end.max().tolist()
    assert ends == [20, 20, 35]


def test_spill_drains_after_the_compute_and_past_the_barrier():
    """A spill of 30 bytes at 3 a cycle after a 4-cycle job drains 10 cycles past the makespan."""
    result = play([WorkItem(0, 4, spill=(Transfer("psum", 30),))], 1, None, {"psum": 3.0})
    assert (result.makespan, result.drain_cycles, result.channel_busy_cycles["psum"]) == (4, 10, 10)


def test_free_channels_play_as_one_timeout_and_count_keyed_bytes_once():
    share = Transfer("noc", 12, key=("w", 0))
    items = [WorkItem(0, 3, fetch=(share, Transfer("noc", 5))), WorkItem(1, 4, fetch=(share,))]
    result = play(items, 2, None, {"noc": None})
    assert result.makespan == 4
    assert result.channel_bytes == {"noc": 17}


def test_multicasts_asked_in_opposite_orders_are_an_error():
    a, b = (Transfer("noc", 1, key=k, barrier=True) for k in "ab")
    items = [WorkItem(0, 1, fetch=(a,)), WorkItem(0, 1, fetch=(b,)), WorkItem(1, 1, fetch=(b,))]
    items.append(WorkItem(1, 1, fetch=(a,)))
    with pytest.raises(ValueError, match="in a cycle"):
        play(items, 2, None, {"noc": 1.0}, buffers=1)


def test_bad_transfers_are_rejected():
    with pytest.raises(ValueError, match="unknown channel 'nope'"):
        play([WorkItem(0, 1, fetch=(Transfer("nope", 1),))], 1, None)
    one, two = (WorkItem(0, 1, fetch=(Transfer("dram", n, key="k"),)) for n in (1, 2))
    with pytest.raises(ValueError, match="differ"):
        play([one, two], 1, None)
    mixed = [WorkItem(0, 1, in_bytes=4), WorkItem(0, 1, fetch=(Transfer("dram", 1),))]
    with pytest.raises(ValueError, match="not both"):
        play(mixed, 1, 1.0)
    with pytest.raises(ValueError, match="invalid transfer"):
        Transfer("dram", 1, barrier=True)
    with pytest.raises(ValueError, match="invalid work item"):
        WorkItem(0, 1, repeat=2, fetch=(Transfer("dram", 1, key="k"),))
    with pytest.raises(ValueError, match="buffers"):
        play([], 1, None, buffers=3)
