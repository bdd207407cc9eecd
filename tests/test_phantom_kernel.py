"""Phantom core: the worked example of [MUNIR23] cycle by cycle, and kernel == golden reference for
every dispatch and run-ahead."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.engine import WorkItem, play
from accelsim.engine.core import SHARED_QUEUE
from accelsim.kernels.phantom import (
    AHEAD_UNBOUNDED,
    DISPATCH_COMPACT,
    DISPATCH_DYNAMIC,
    DISPATCH_FIXED,
    UNBOUNDED,
    core_trace,
    out_of_order,
    queue_makespan,
    schedule_strip,
)
from accelsim.kernels.reference.phantom import run_core

DISPATCH = {"fixed": DISPATCH_FIXED, "compact": DISPATCH_COMPACT, "dynamic": DISPATCH_DYNAMIC}

# [MUNIR23] [secondary + derived]: kernel rows wa, wb, wc on PEs 0, 1, 2; input rows a..g of a
# 3-column strip; output O_i = row(i).wa + row(i+1).wb + row(i+2).wc.
WEIGHTS = {"wa": [0, 1, 1], "wb": [1, 1, 0], "wc": [1, 1, 0]}
ACTS = {
    "a": [1, 1, 1],
    "b": [0, 1, 1],
    "c": [1, 1, 0],
    "d": [1, 0, 1],
    "e": [0, 1, 1],
    "f": [1, 0, 0],
    "g": [1, 0, 0],
}
ROWS = "abcdefg"
SOURCE = "[MUNIR23] worked example"


def example_products() -> list[list[list[str]]]:
    """[pe][output] -> names of the valid products, e.g. 'a1wa1'."""
    out = []
    for p, (wname, w) in enumerate(WEIGHTS.items()):
        per_output = []
        for o in range(5):
            row = ROWS[o + p]
            per_output.append([f"{row}{j}{wname}{j}" for j in range(3) if w[j] and ACTS[row][j]])
        out.append(per_output)
    return out


EXPECTED = {  # cycle -> PE -> outputs admitted, in admission order (the worked example's table, [MUNIR23])
    1: {0: [0, 2], 1: [0, 1], 2: [0, 1]},
    2: {0: [1, 3], 1: [2, 3, 4], 2: [2, 3, 4]},
    3: {0: [4]},
}


def example_sizes() -> list[list[int]]:
    return [[len(g) for g in pe] for pe in example_products()]


def test_worked_example_products():
    products = example_products()
    assert products[0][0] == ["a1wa1", "a2wa2"], SOURCE
    assert products[0][2] == ["c1wa1"], SOURCE
    assert products[1][1] == ["c0wb0", "c1wb1"], SOURCE
    assert products[2][4] == ["g0wc0"], SOURCE
    assert [sum(len(g) for g in pe) for pe in products] == [8, 6, 6], SOURCE  # 20 of 45 dense MACs


def test_worked_example_reference_schedule_every_cycle():
    run = run_core(example_sizes(), pes=3, threads=3, window=8, split=False, run_ahead=0)
    assert run.cycles == 3, SOURCE
    got = {
        c + 1: {p: [g for _, g, _ in groups] for p, groups in cyc.items()}
        for c, cyc in enumerate(run.schedule)
    }
    assert got == EXPECTED, SOURCE
    threads_used = [{p: sum(n for *_, n in groups) for p, groups in cyc.items()} for cyc in run.schedule]
    assert threads_used == [{0: 3, 1: 3, 2: 3}, {0: 3, 1: 3, 2: 3}, {0: 2}], SOURCE  # PE0 66 % in cycle 3
    assert 20 / (9 * run.cycles) == pytest.approx(0.74, abs=0.01), SOURCE  # core thread utilisation
    # Output-buffer states after cycles 1 and 2 ([MUNIR23] "Expected OB states").
    after1, after2, after3 = ({o: s for (_, o), s in states.items()} for states in run.ob_states)
    assert after1 == {0: "valid", 1: "partial", 2: "partial", 3: "empty", 4: "empty"}, SOURCE
    assert after2 == {0: "valid", 1: "valid", 2: "valid", 3: "valid", 4: "partial"}, SOURCE
    assert set(after3.values()) == {"valid"}, SOURCE
    # Completion order on PE0: O0, O2, O1, O3, O4 (one out-of-order completion).
    issue = run.issue[0]
    assert sorted(range(5), key=lambda o: (issue[o], o)) == [0, 2, 1, 3, 4], SOURCE


@pytest.mark.parametrize("dispatch", list(DISPATCH))
@pytest.mark.parametrize("run_ahead", [0, 1, AHEAD_UNBOUNDED])
def test_worked_example_kernel_schedule_every_cycle(dispatch, run_ahead):
    """One step of three rows: every dispatch and run-ahead gives the example's schedule."""
    sizes = np.array(example_sizes(), dtype=np.int64)
    zero = np.zeros(3, dtype=np.bool_)
    issue, strip_cycles, start, owner, cycles, unmapped = core_trace(
        sizes, zero, 3, 8, False, 3, run_ahead, DISPATCH[dispatch]
    )
    got: dict[int, dict[int, list[int]]] = {}
    for p in range(3):
        for o in range(5):
            got.setdefault(int(issue[p, o]), {}).setdefault(p, []).append(o)
    assert got == EXPECTED, SOURCE
    assert strip_cycles.tolist() == [3, 2, 2], SOURCE  # PE1 and PE2 idle in cycle 3
    assert owner.tolist() == [0, 1, 2], SOURCE
    assert start.tolist() == [0, 0, 0], SOURCE
    assert (cycles, unmapped) == (3, 0), SOURCE
    assert out_of_order(sizes[0], issue[0].copy()) == 1, SOURCE


def test_worked_example_needs_look_ahead():
    """With W = 1 (in order, no look-ahead) the same strips take longer: the look-ahead is what packs."""
    in_order = run_core(example_sizes(), pes=3, threads=3, window=1, split=False)
    assert in_order.cycles == 5


sizes_st = st.lists(st.integers(0, 4), min_size=0, max_size=14)


@settings(max_examples=150, deadline=None)
@given(
    sizes=sizes_st,
    threads=st.integers(1, 6),
    window=st.sampled_from([UNBOUNDED, 1, 2, 3, 8]),
    split=st.booleans(),
)
def test_strip_kernel_equals_reference(sizes, threads, window, split):
    if not split:
        sizes = [min(s, threads) for s in sizes]  # atomic groups never exceed T (the dataflow splits rows)
    arr = np.array(sizes, dtype=np.int64)
    issue = np.zeros(len(sizes), dtype=np.int64)
    cycles = schedule_strip(arr, threads, window, split, issue)
    run = run_core([sizes], 1, threads, window, split)
    assert cycles == run.cycles
    assert issue.tolist() == run.issue[0]


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    rows=st.integers(0, 9),
    pes=st.integers(1, 4),
    threads=st.integers(2, 5),
    window=st.sampled_from([UNBOUNDED, 1, 2, 4]),
    split=st.booleans(),
    run_ahead=st.sampled_from([0, 1, 2, None]),
    dispatch=st.sampled_from(list(DISPATCH)),
)
def test_core_item_kernel_equals_reference(data, rows, pes, threads, window, split, run_ahead, dispatch):
    n = data.draw(st.integers(0, 8))
    sizes = data.draw(
        st.lists(st.lists(st.integers(0, threads), min_size=n, max_size=n), min_size=rows, max_size=rows)
    )
    zero = data.draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
    sizes = [
        [0] * n if z else s for s, z in zip(sizes, zero, strict=True)
    ]  # an all-zero weight row has no products
    arr = np.array(sizes, dtype=np.int64).reshape(rows, n)
    ahead = AHEAD_UNBOUNDED if run_ahead is None else run_ahead
    issue, strip_cycles, start, owner, cycles, unmapped = core_trace(
        arr, np.array(zero, dtype=np.bool_), threads, window, split, pes, ahead, DISPATCH[dispatch]
    )
    run = run_core(sizes, pes, threads, window, split, run_ahead, dispatch, zero)
    assert (cycles, unmapped) == (run.cycles, run.unmapped)
    assert start.tolist() == run.strip_start
    assert owner.tolist() == run.owner
    dealt = [m for m in range(rows) if run.owner[m] >= 0]
    assert [int(strip_cycles[m]) for m in dealt] == [run.strip_cycles[m] for m in dealt]
    assert sum(int(strip_cycles[m]) for m in dealt) == run.busy
    relative = [[c - run.strip_start[m] if c else 0 for c in run.issue[m]] for m in dealt]
    assert [issue[m].tolist() for m in dealt] == relative
    assert run.busy + run.unmapped <= pes * run.cycles  # the rest is unit idle, never negative


def run_ahead_cycles(
    strips: list[list[int]], pes: int, run_ahead: int | None, dispatch: str = "fixed"
) -> int:
    """Cycles of a core item of 3-thread PEs whose rows' strips are `strips` (W = 8)."""
    zero = [not any(s) for s in strips]
    return run_core(strips, pes, 3, 8, False, run_ahead, dispatch, zero).cycles  # type: ignore[arg-type]


def test_unmapped_pe_cycles_of_a_partial_last_step():
    # 3 reduction rows on 2 PEs: step 0 has rows 0 and 1, step 1 only row 2 (on PE 0). PE 1 finishes
    # its strip at cycle 2 and has no row in step 1, which PE 0 runs over cycles 4-6: 4 unmapped cycles.
    sizes = [[3, 3, 3, 3], [3, 3], [3, 3]]
    run = run_core(sizes, 2, 3, 8, False, run_ahead=0)
    assert (run.cycles, run.unmapped, run.busy) == (6, 4, 8)
    *_, cycles, unmapped = core_trace(
        np.array([[3, 3, 3, 3], [3, 3, 0, 0], [3, 3, 0, 0]]), np.zeros(3, np.bool_), 3, 8, False, 2, 0, 0
    )
    assert (cycles, unmapped) == (6, 4)


def test_run_ahead_one_is_the_old_next_strip_prefetch():
    """Rows alternate heavy and light on 2 PEs: the barrier (R = 0) waits 4 + 4 cycles; one step of
    run-ahead lets the light PE start its heavy strip at once (the old prefetch_next_tile)."""
    strips = [[3, 3, 3, 3], [1, 0, 0, 0], [1, 0, 0, 0], [3, 3, 3, 3]]
    assert [run_ahead_cycles(strips, 2, r) for r in (0, 1, None)] == [8, 5, 5]


def test_compact_drops_all_zero_weight_rows():
    """Rows 1 and 3 have all-zero weights: fixed dispatch spends a PE's slot in two steps on them,
    compact deals rows 0 and 2 together in one step."""
    strips = [[3, 3], [0, 0], [3, 3], [0, 0]]
    assert run_ahead_cycles(strips, 2, 0, "fixed") == 4
    assert run_ahead_cycles(strips, 2, 0, "compact") == 2


def test_dynamic_dispatch_gives_strips_to_the_first_free_pe():
    """One long strip and four short ones on 2 PEs, no run-ahead bound: static dispatch puts rows 0, 2
    and 4 on PE 0 (6 cycles); dynamic dispatch lets PE 1 take every short strip (4 cycles). With
    R = 0 the steps are barriers and dynamic equals compact."""
    strips = [[3, 3, 3, 3], [3], [3], [3], [3]]
    assert run_ahead_cycles(strips, 2, None, "compact") == 6
    assert run_ahead_cycles(strips, 2, None, "dynamic") == 4
    assert run_ahead_cycles(strips, 2, 0, "dynamic") == run_ahead_cycles(strips, 2, 0, "compact") == 6


@settings(max_examples=100, deadline=None)
@given(durations=st.lists(st.integers(1, 50), max_size=30), units=st.integers(1, 6))
def test_queue_makespan_is_the_engine_shared_queue(durations, units):
    run = play([WorkItem(SHARED_QUEUE, d) for d in durations], units, None)
    assert queue_makespan(np.array(durations, dtype=np.int64), units) == run.makespan


def test_atomic_group_larger_than_threads_is_rejected():
    with pytest.raises(ValueError, match="more products than threads"):
        schedule_strip(np.array([4], dtype=np.int64), 3, 8, False, np.zeros(1, dtype=np.int64))
