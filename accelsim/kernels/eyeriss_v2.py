"""Cycle and action counts of Eyeriss v2's sparse PE on CSC-compressed operands (REFERENCE §8.2-§8.3).

A PE holds a tile of weights (one group of M0 output channels x C0 input channels x R x S taps) and
slides over a block of output positions. For every output position it walks its input window
(C0 channels x R x S taps) in CSC order: with compressed input activations (iacts) the zero iacts are
not in the stream and cost nothing; with uncompressed iacts (depthwise layers, dense data) every iact
of the window, padding included, enters the pipeline. For each iact that enters, the weight address
SPad gives its weight column (the non-zero weights of the M0 filters at that channel and tap, or all
M0 with uncompressed weights); the MAC stage then takes `simd` weights per cycle, so a column of n
weights costs ceil(n / simd) cycles (an odd count pads the second SIMD slot with a zero, gated). A
non-zero iact whose column is empty is dropped after the look-up and costs `empty_column_cycles`
bubble cycles (0 by default: the paper says it "may not necessarily introduce bubbles"). Each work
item pays `fill_cycles` once (pipeline fill). The golden reference in
`accelsim.kernels.reference.eyeriss_v2` builds the CSC vectors and steps the same pipeline cycle by
cycle.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def column_counts(
    weights: np.ndarray, m_bounds: np.ndarray, depthwise: bool, weights_compressed: bool
) -> np.ndarray:
    """Length of every weight column a PE sees: int32 (m-groups, C, R, S).

    `weights` is the (K, C // groups, R, S) mask. For a standard layer entry [g, c, r, s] counts the
    non-zero weights of filters m_bounds[g]:m_bounds[g + 1] at (c, r, s); uncompressed weights count
    every filter of the group. For a depthwise layer (one filter per channel) there is a single
    m-group and entry [0, c, r, s] is filter c's weight at (r, s) (1, or 0 if compressed and zero).
    """
    w = np.asarray(weights, dtype=bool)
    if depthwise:
        col = w[:, 0] if weights_compressed else np.ones_like(w[:, 0])
        return col.astype(np.int32)[None]
    groups = len(m_bounds) - 1
    out = np.empty((groups, w.shape[1], w.shape[2], w.shape[3]), dtype=np.int32)
    for g in range(groups):
        lo, hi = int(m_bounds[g]), int(m_bounds[g + 1])
        out[g] = np.count_nonzero(w[lo:hi], axis=0) if weights_compressed else hi - lo
    return out


@njit(cache=True)
def _window_hits(
    acts: np.ndarray,
    stride: int,
    out_w: int,
    r_n: int,
    s_n: int,
    c_lo: int,
    c_hi: int,
    p_lo: int,
    p_hi: int,
    iacts_compressed: bool,
) -> np.ndarray:
    """How many output positions of block [p_lo, p_hi) feed each (c, r, s) of channels [c_lo, c_hi).

    That is the number of times the iact at tap (r, s) of channel c enters the pipeline over the
    block: every position with uncompressed iacts, only the non-zero ones with CSC. int64 (C0, R, S).
    """
    hits = np.zeros((c_hi - c_lo, r_n, s_n), dtype=np.int64)
    if not iacts_compressed:
        hits[:] = p_hi - p_lo
        return hits
    for p in range(p_lo, p_hi):
        y0 = (p // out_w) * stride
        x0 = (p % out_w) * stride
        for c in range(c_lo, c_hi):
            for r in range(r_n):
                for s in range(s_n):
                    if acts[c, y0 + r, x0 + s]:
                        hits[c - c_lo, r, s] += 1
    return hits


@njit(cache=True)
def pe_tile_stats(
    counts: np.ndarray,
    acts: np.ndarray,
    stride: int,
    out_w: int,
    c_bounds: np.ndarray,
    pix_bounds: np.ndarray,
    simd: int,
    iacts_compressed: bool,
    empty_column_cycles: int,
    fill_cycles: int,
) -> np.ndarray:
    """Per work item (m-group, c-group, pixel block): [cycles, mac slots used, iacts entered, look-ups].

    `counts`: column lengths from `column_counts` (m-groups, C, R, S). `acts`: the zero-padded input
    mask (C, H + pads, W + pads). `c_bounds` / `pix_bounds`: starts of the channel groups and of the
    blocks of flattened output positions (each with its end appended). Returns int64
    (m-groups, c-groups, blocks, 4): cycles; weights multiplied (MAC slots, SIMD padding excluded);
    iacts that entered the pipeline (iact SPad reads); weight-column look-ups that found an empty column.

    A tile's counts are sums over the iacts that enter of a function of their weight column, so they
    are computed as (times each (c, r, s) iact enters over the block) x (its column's cost): the
    window hits are counted once per (c-group, block) and shared by every m-group.
    """
    mg_n, _, r_n, s_n = counts.shape
    cg_n = c_bounds.shape[0] - 1
    pb_n = pix_bounds.shape[0] - 1
    out = np.zeros((mg_n, cg_n, pb_n, 4), dtype=np.int64)
    for cg in range(cg_n):
        c_lo, c_hi = c_bounds[cg], c_bounds[cg + 1]
        for pb in range(pb_n):
            p_lo, p_hi = pix_bounds[pb], pix_bounds[pb + 1]
            hits = _window_hits(acts, stride, out_w, r_n, s_n, c_lo, c_hi, p_lo, p_hi, iacts_compressed)
            entered = hits.sum()
            fill = fill_cycles if entered > 0 else 0
            for g in range(mg_n):
                cycles = 0
                slots = 0
                empty = 0
                for c in range(c_lo, c_hi):
                    for r in range(r_n):
                        for s in range(s_n):
                            h = hits[c - c_lo, r, s]
                            n = counts[g, c, r, s]
                            if n > 0:
                                cycles += h * ((n + simd - 1) // simd)
                                slots += h * n
                            else:
                                empty += h
                out[g, cg, pb, 0] = cycles + empty * empty_column_cycles + fill
                out[g, cg, pb, 1] = slots
                out[g, cg, pb, 2] = entered
                out[g, cg, pb, 3] = empty
    return out
