"""Cycle and action counts of Eyeriss v2's sparse PE on CSC-compressed operands ([EYERISSV2-19 §II-§IV, §V]).

A PE holds a tile of weights (one group of M0 output channels x C0 input channels x R x S taps) and
slides over a block of output positions. For every output position it walks its input window
(C0 channels x R x S taps) in CSC order: with compressed input activations (iacts) the zero iacts are
not in the stream and cost nothing; with uncompressed iacts (depthwise layers, dense data) every iact
of the window, padding included, enters the pipeline. For each iact that enters, the weight address
SPad gives its weight column (the non-zero weights of the M0 filters at that channel and tap, or all
M0 with uncompressed weights); the MAC stage then takes `simd` weights per cycle, so a column of n
weights costs ceil(n / simd) cycles (an odd count leaves the second SIMD lane empty: a zero is padded
in and gated, not an issued MAC). A non-zero iact whose column is empty is dropped after the look-up
and costs `empty_column_cycles` bubble cycles (0 by default: the paper says it "may not necessarily
introduce bubbles"). Each work item pays `fill_cycles` once (pipeline fill). For the slot partition the
kernel also counts the effectual MACs (both operands non-zero) and the SIMD lanes its MAC cycles leave
empty. The golden reference in `accelsim.kernels.reference.eyeriss_v2` builds the CSC vectors and
steps the same pipeline cycle by cycle.
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
def _phase_prefix_sums(acts: np.ndarray, stride: int) -> np.ndarray:
    """Prefix sums of the non-zeros of each stride phase of the padded mask: int32 (stride, stride, C,
    Hs + 1, Ws + 1), entry [a, b, c, i, j] counting the non-zeros acts[c, y, x] with y = i' stride + a,
    x = j' stride + b over i' < i, j' < j. The output positions a tap (r, s) reads form a rectangle of
    one phase, so the non-zeros it meets over a block of positions are a few look-ups."""
    c_n, h, w = acts.shape
    hs = (h + stride - 1) // stride
    ws = (w + stride - 1) // stride
    out = np.zeros((stride, stride, c_n, hs + 1, ws + 1), dtype=np.int32)
    for a in range(stride):
        for b in range(stride):
            for c in range(c_n):
                for i in range(hs):
                    y = i * stride + a
                    row = 0
                    for j in range(ws):
                        x = j * stride + b
                        if y < h and x < w and acts[c, y, x]:
                            row += 1
                        out[a, b, c, i + 1, j + 1] = out[a, b, c, i, j + 1] + row
    return out


@njit(cache=True)
def _nonzero_hits(
    sums: np.ndarray,
    stride: int,
    out_w: int,
    r_n: int,
    s_n: int,
    c_lo: int,
    c_hi: int,
    p_lo: int,
    p_hi: int,
) -> np.ndarray:
    """How many output positions of block [p_lo, p_hi) meet a non-zero iact at each (c, r, s) of
    channels [c_lo, c_hi): int64 (C0, R, S). The block (flattened positions, row-major) is its partial
    first row, its full rows and its partial last row; tap (r, s) of output (y, x) reads the iact at
    row (y + r // stride) and column (x + s // stride) of phase (r % stride, s % stride)."""
    hits = np.zeros((c_hi - c_lo, r_n, s_n), dtype=np.int64)
    y_a, x_a = p_lo // out_w, p_lo % out_w
    y_b, x_b = (p_hi - 1) // out_w, (p_hi - 1) % out_w
    for c in range(c_lo, c_hi):
        for r in range(r_n):
            a, dy = r % stride, r // stride
            for s in range(s_n):
                b, dx = s % stride, s // stride
                ph = sums[a, b, c]
                if y_a == y_b:
                    n = _rect(ph, y_a + dy, y_a + 1 + dy, x_a + dx, x_b + 1 + dx)
                else:
                    n = _rect(ph, y_a + dy, y_a + 1 + dy, x_a + dx, out_w + dx)
                    n += _rect(ph, y_a + 1 + dy, y_b + dy, dx, out_w + dx)
                    n += _rect(ph, y_b + dy, y_b + 1 + dy, dx, x_b + 1 + dx)
                hits[c - c_lo, r, s] = n
    return hits


@njit(cache=True)
def _rect(sums: np.ndarray, i0: int, i1: int, j0: int, j1: int) -> int:
    """Non-zeros in rows [i0, i1) and columns [j0, j1) of one phase, from its prefix sums."""
    return int(sums[i1, j1]) - int(sums[i0, j1]) - int(sums[i1, j0]) + int(sums[i0, j0])


N_STATS = 6
STAT_CYCLES, STAT_SLOTS, STAT_ENTERED, STAT_EMPTY, STAT_EFFECTUAL, STAT_IDLE_LANES = range(N_STATS)
"""Indices of the last axis of `pe_tile_stats`."""


@njit(cache=True)
def pe_tile_stats(
    counts: np.ndarray,
    nonzero: np.ndarray,
    acts: np.ndarray,
    stride: int,
    out_w: int,
    c_bounds: np.ndarray,
    pix_bounds: np.ndarray,
    simd: int,
    iacts_compressed: bool,
    weights_compressed: bool,
    empty_column_cycles: int,
    fill_cycles: int,
) -> np.ndarray:
    """Per work item (m-group, c-group, pixel block): the N_STATS counts indexed by STAT_*.

    `counts`: column lengths from `column_counts` (m-groups, C, R, S) for `weights_compressed`;
    `nonzero`: the non-zero weights of each column (`column_counts` with compressed weights, so
    `counts` itself when the weights are). `acts`: the zero-padded input mask (C, H + pads, W + pads).
    `c_bounds` / `pix_bounds`: starts of the channel groups and of the blocks of flattened output
    positions (each with its end appended). Returns int64 (m-groups, c-groups, blocks, N_STATS):
    cycles; weights multiplied (MAC slots, SIMD padding excluded); iacts that entered the pipeline
    (iact SPad reads); weight-column look-ups that found an empty column; effectual MACs (iact and
    weight non-zero); SIMD lanes left empty in the MAC cycles (a column of n weights leaves
    ceil(n / simd) simd - n).

    A tile's counts are sums over the iacts that enter of a function of their weight column, so they
    are computed as (times each (c, r, s) iact enters over the block) x (its column's cost): the
    window hits are counted once per (c-group, block), from prefix sums of the mask, and shared by
    every m-group. Raw weight columns all hold the m-group's filters, so only the effectual MACs
    need a pass over the columns; with CSC on both operands every MAC issued is effectual.
    """
    mg_n, _, r_n, s_n = counts.shape
    cg_n = c_bounds.shape[0] - 1
    pb_n = pix_bounds.shape[0] - 1
    out = np.zeros((mg_n, cg_n, pb_n, N_STATS), dtype=np.int64)
    sums = _phase_prefix_sums(acts, stride)
    for cg in range(cg_n):
        c_lo, c_hi = c_bounds[cg], c_bounds[cg + 1]
        for pb in range(pb_n):
            p_lo, p_hi = pix_bounds[pb], pix_bounds[pb + 1]
            nz_hits = _nonzero_hits(sums, stride, out_w, r_n, s_n, c_lo, c_hi, p_lo, p_hi)
            # CSC iacts: only the non-zero ones enter; raw: every iact of every window.
            hits = nz_hits if iacts_compressed else np.full(nz_hits.shape, p_hi - p_lo, dtype=np.int64)
            entered = hits.sum()
            fill = fill_cycles if entered > 0 else 0
            for g in range(mg_n):
                cycles = slots = empty = effectual = 0
                if weights_compressed:
                    for c in range(c_lo, c_hi):
                        for r in range(r_n):
                            for s in range(s_n):
                                n = counts[g, c, r, s]
                                if n > 0:
                                    h = hits[c - c_lo, r, s]
                                    cycles += h * ((n + simd - 1) // simd)
                                    slots += h * n
                                    if not iacts_compressed:
                                        effectual += nz_hits[c - c_lo, r, s] * n
                                else:
                                    empty += hits[c - c_lo, r, s]
                    if iacts_compressed:
                        effectual = slots
                else:
                    n = counts[g, c_lo, 0, 0]  # every raw column holds the m-group's filters
                    cycles = entered * ((n + simd - 1) // simd)
                    slots = entered * n
                    for c in range(c_lo, c_hi):
                        for r in range(r_n):
                            for s in range(s_n):
                                effectual += nz_hits[c - c_lo, r, s] * nonzero[g, c, r, s]
                out[g, cg, pb, STAT_CYCLES] = cycles + empty * empty_column_cycles + fill
                out[g, cg, pb, STAT_SLOTS] = slots
                out[g, cg, pb, STAT_ENTERED] = entered
                out[g, cg, pb, STAT_EMPTY] = empty
                out[g, cg, pb, STAT_EFFECTUAL] = effectual
                out[g, cg, pb, STAT_IDLE_LANES] = simd * cycles - slots
    return out
