"""The fold kernel against the cycle-by-cycle golden reference, and against SCALE-Sim's formulas."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.kernels.reference.systolic import run_fold
from accelsim.kernels.systolic import IS, OS, WS, fold_cycles, fold_stats

CODES = {"os": OS, "ws": WS, "is": IS}


def reference_stats(dataflow: str, rows: int, cols: int, sr: int, sc: int, t: int) -> tuple[int, int, int]:
    """Total cycles, folds and MACs by stepping every fold cycle by cycle."""
    cycles = macs = folds = 0
    for fc in range(math.ceil(sc / cols)):
        for fr in range(math.ceil(sr / rows)):
            run = run_fold(dataflow, rows, cols, min(rows, sr - fr * rows), min(cols, sc - fc * cols), t)
            cycles += run.cycles
            macs += run.macs
            folds += 1
    return cycles, folds, macs


@settings(deadline=None, max_examples=60)
@given(
    dataflow=st.sampled_from(["os", "ws", "is"]),
    rows=st.integers(1, 6),
    cols=st.integers(1, 6),
    sr=st.integers(1, 14),
    sc=st.integers(1, 14),
    t=st.integers(1, 9),
)
def test_kernel_equals_cycle_by_cycle_reference(dataflow, rows, cols, sr, sc, t):
    stats = fold_stats(CODES[dataflow], rows, cols, sr, sc, t)
    ref_cycles, ref_folds, ref_macs = reference_stats(dataflow, rows, cols, sr, sc, t)
    assert int(stats[0]) == ref_cycles
    assert int(stats[1]) == ref_folds
    assert int(stats[4]) == ref_macs == sr * sc * t


@settings(deadline=None, max_examples=60)
@given(
    dataflow=st.sampled_from(["os", "ws", "is"]),
    rows=st.integers(1, 40),
    cols=st.integers(1, 40),
    sr=st.integers(1, 300),
    sc=st.integers(1, 300),
    t=st.integers(1, 300),
)
def test_fold_metrics_equal_plain_python_walk(dataflow, rows, cols, sr, sc, t):
    """Mapping efficiency and compute utilisation, accumulated in SCALE-Sim's fold order."""
    util_cycles = t + rows + cols - 2 if dataflow == "os" else 2 * rows + 2 * cols + t - 3
    map_sum = util_sum = 0.0
    for fc in range(math.ceil(sc / cols)):
        for fr in range(math.ceil(sr / rows)):
            used = min(rows, sr - fr * rows) * min(cols, sc - fc * cols)
            map_sum += used / (rows * cols)
            util_sum += used * t / (rows * cols * util_cycles)
    stats = fold_stats(CODES[dataflow], rows, cols, sr, sc, t)
    assert stats[2] == map_sum
    assert stats[3] == util_sum


@pytest.mark.parametrize(
    ("dataflow", "expected"),
    [("os", 5 + 4 + 3 - 2), ("ws", 2 * 4 + 3 + 5 - 2), ("is", 2 * 4 + 3 + 5 - 2)],
)
def test_fold_cycles_worked_example(dataflow, expected):
    """A 4 x 3 array, 5 streamed steps: OS T+R+C-2, WS/IS 2R+C+T-2 (SCALE-Sim v3 demand matrices)."""
    assert fold_cycles(CODES[dataflow], 4, 3, 5) == expected
    assert run_fold(dataflow, 4, 3, 4, 3, 5).cycles == expected


def test_reference_rejects_bad_fold():
    with pytest.raises(ValueError, match="rows_used"):
        run_fold("ws", 4, 4, 5, 1, 1)
    with pytest.raises(ValueError, match="unknown dataflow"):
        run_fold("rs", 4, 4, 1, 1, 1)
