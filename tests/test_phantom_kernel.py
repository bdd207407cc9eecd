"""Phantom core: the worked example of REFERENCE §5.7 cycle by cycle, and kernel == golden reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.kernels.phantom import (
    UNBOUNDED,
    core_cycles,
    out_of_order,
    schedule_strip,
    step_cycles,
    step_schedule,
)
from accelsim.kernels.reference.phantom import run_core

# REFERENCE §5.7 [secondary + derived]: kernel rows wa, wb, wc on PEs 0, 1, 2; input rows a..g of a
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
SOURCE = "REFERENCE §5.7 worked example"


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


EXPECTED = {  # cycle -> PE -> outputs admitted, in admission order (the §5.7 table)
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
    run = run_core([example_sizes()], threads=3, window=8, split=False, prefetch=False)
    assert run.cycles == 3, SOURCE
    got = {
        c + 1: {p: [g for _, g, _ in groups] for p, groups in cyc.items()}
        for c, cyc in enumerate(run.schedule)
    }
    assert got == EXPECTED, SOURCE
    threads_used = [{p: sum(n for *_, n in groups) for p, groups in cyc.items()} for cyc in run.schedule]
    assert threads_used == [{0: 3, 1: 3, 2: 3}, {0: 3, 1: 3, 2: 3}, {0: 2}], SOURCE  # PE0 66 % in cycle 3
    assert 20 / (9 * run.cycles) == pytest.approx(0.74, abs=0.01), SOURCE  # core thread utilisation
    # Output-buffer states after cycles 1 and 2 (§5.7 "Expected OB states").
    after1, after2, after3 = ({o: s for (_, o), s in states.items()} for states in run.ob_states)
    assert after1 == {0: "valid", 1: "partial", 2: "partial", 3: "empty", 4: "empty"}, SOURCE
    assert after2 == {0: "valid", 1: "valid", 2: "valid", 3: "valid", 4: "partial"}, SOURCE
    assert set(after3.values()) == {"valid"}, SOURCE
    # Completion order on PE0: O0, O2, O1, O3, O4 (one out-of-order completion).
    issue = run.issue[0][0]
    assert sorted(range(5), key=lambda o: (issue[o], o)) == [0, 2, 1, 3, 4], SOURCE


def test_worked_example_kernel_schedule_every_cycle():
    trace = core_cycles(np.array([example_sizes()], dtype=np.int64), 3, 8, False, False)
    issue, strip_cycles = trace[0, :, :5], trace[0, :, 5]
    got: dict[int, dict[int, list[int]]] = {}
    for p in range(3):
        for o in range(5):
            got.setdefault(int(issue[p, o]), {}).setdefault(p, []).append(o)
    assert got == EXPECTED, SOURCE
    assert strip_cycles.tolist() == [3, 2, 2], SOURCE  # PE1 and PE2 idle in cycle 3
    assert step_cycles(strip_cycles.reshape(1, 3), False) == 3, SOURCE
    sizes = np.array(example_sizes()[0], dtype=np.int64)
    assert out_of_order(sizes, issue[0].copy()) == 1, SOURCE


def test_worked_example_needs_look_ahead():
    """With W = 1 (in order, no look-ahead) the same strips take longer: the look-ahead is what packs."""
    in_order = run_core([example_sizes()], threads=3, window=1, split=False, prefetch=False)
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
    run = run_core([[sizes]], threads, window, split, prefetch=False)
    assert cycles == run.cycles
    assert issue.tolist() == run.issue[0][0]


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(),
    steps=st.integers(1, 4),
    pes=st.integers(1, 4),
    threads=st.integers(2, 5),
    window=st.sampled_from([UNBOUNDED, 1, 2, 4]),
    split=st.booleans(),
    prefetch=st.booleans(),
)
def test_core_item_kernel_equals_reference(data, steps, pes, threads, window, split, prefetch):
    n = data.draw(st.integers(0, 8))
    sizes = data.draw(
        st.lists(
            st.lists(st.lists(st.integers(0, threads), min_size=n, max_size=n), min_size=pes, max_size=pes),
            min_size=steps,
            max_size=steps,
        )
    )
    rows = data.draw(st.integers((steps - 1) * pes + 1, steps * pes))  # the last step may be partial
    for m in range(rows, steps * pes):  # a (step, PE) without a reduction row has an empty strip
        sizes[m // pes][m % pes] = [0] * n
    trace = core_cycles(
        np.array(sizes, dtype=np.int64).reshape(steps, pes, n), threads, window, split, prefetch
    )
    run = run_core(sizes, threads, window, split, prefetch, rows)
    assert trace[:, :, n].tolist() == run.strip_cycles
    relative = [
        [[c - run.strip_start[s][p] if c else 0 for c in strip] for p, strip in enumerate(step)]
        for s, step in enumerate(run.issue)
    ]
    assert trace[:, :, :n].tolist() == relative
    assert step_cycles(trace[:, :, n].copy(), prefetch) == run.cycles
    mapped_last = rows - (steps - 1) * pes
    assert step_schedule(trace[:, :, n].copy(), prefetch, mapped_last) == (run.cycles, run.unmapped)


def test_unmapped_pe_cycles_of_a_partial_last_step():
    # 3 reduction rows on 2 PEs: step 0 has rows 0 and 1, step 1 only row 2 (on PE 0). PE 1 finishes
    # its strip at cycle 2 and has no row in step 1, which PE 0 runs over cycles 4-6: 4 unmapped cycles.
    sizes = [[[3, 3, 3, 3], [3, 3]], [[3, 3], []]]
    run = run_core(sizes, 3, 8, False, prefetch=False, rows=3)
    assert (run.cycles, run.unmapped) == (6, 4)
    strips = np.array([[4, 2], [2, 0]], dtype=np.int64)
    assert step_schedule(strips, False, 1) == (6, 4)


def test_prefetch_never_slower_and_helps_when_pes_alternate():
    sizes = [[[3, 3, 3, 3], [1, 0, 0, 0]], [[1, 0, 0, 0], [3, 3, 3, 3]]]  # 2 steps x 2 PEs, T = 3
    barrier = run_core(sizes, 3, 8, False, prefetch=False)
    ahead = run_core(sizes, 3, 8, False, prefetch=True)
    assert (barrier.cycles, ahead.cycles) == (8, 5)


def test_atomic_group_larger_than_threads_is_rejected():
    with pytest.raises(ValueError, match="more products than threads"):
        schedule_strip(np.array([4], dtype=np.int64), 3, 8, False, np.zeros(1, dtype=np.int64))
