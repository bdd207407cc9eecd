"""Exact fold-level cycle counts and SCALE-Sim's per-fold metrics for a systolic array.

A GEMM of Sr x Sc spatial operand extent and T temporal steps is cut into folds of at most
rows x cols. Per fold, data streams through the whole array (padding flows through unused PEs), so
a fold lasts (SCALE-Sim v3, `systolic_compute_{os,ws,is}.py`):

- OS: T + R + C - 2 cycles (no preload; T = reduction length),
- WS / IS: 2R + C + T - 2 cycles (R cycles to preload the stationary operand).

The golden reference in `accelsim.kernels.reference.systolic` steps the same array cycle by cycle.
"""

from __future__ import annotations

import numpy as np
from numba import njit

OS, WS, IS = 0, 1, 2
"""Dataflow codes understood by the kernels."""


@njit(cache=True)
def fold_cycles(dataflow: int, rows: int, cols: int, t: int) -> int:
    """Cycles one fold occupies the array, from first operand in to last MAC."""
    if dataflow == OS:
        return t + rows + cols - 2
    return 2 * rows + cols + t - 2


@njit(cache=True)
def _util_cycles(dataflow: int, rows: int, cols: int, t: int) -> int:
    # SCALE-Sim's per-fold denominator of compute utilisation: its demand-matrix height + width - 1.
    if dataflow == OS:
        return t + rows + cols - 2
    return 2 * rows + 2 * cols + t - 3


@njit(cache=True)
def fold_stats(dataflow: int, rows: int, cols: int, sr: int, sc: int, t: int) -> np.ndarray:
    """Walk the folds in SCALE-Sim's order (column folds outer, row folds inner).

    Returns float64[5]: total fold cycles, number of folds, sum of per-fold mapping efficiency,
    sum of per-fold compute utilisation, MAC slots used (sum of rows_used * cols_used * t).
    The sums are accumulated in fold order so that averages equal SCALE-Sim's to the last bit.
    """
    row_folds = (sr + rows - 1) // rows
    col_folds = (sc + cols - 1) // cols
    per_fold = fold_cycles(dataflow, rows, cols, t)
    util_cycles = _util_cycles(dataflow, rows, cols, t)
    array = rows * cols
    map_sum = 0.0
    util_sum = 0.0
    macs = 0
    for fc in range(col_folds):
        cols_used = min(cols, sc - fc * cols)
        for fr in range(row_folds):
            rows_used = min(rows, sr - fr * rows)
            used = rows_used * cols_used
            map_sum += used / array
            util_sum += (used * t) / (array * util_cycles)
            macs += used * t
    out = np.empty(5)
    out[0] = per_fold * row_folds * col_folds
    out[1] = row_folds * col_folds
    out[2] = map_sum
    out[3] = util_sum
    out[4] = macs
    return out
