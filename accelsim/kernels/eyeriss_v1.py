"""Exact pass-level cycle and access counts of the Eyeriss v1 row-stationary (RS) PE array.

A layer (per group: C input channels, K filters, E x F outputs, R x S kernel, stride U) is cut into
*units*: one filter-row chunk (<= array rows) x one block of q channels x one strip of e output rows x
one block of p filters. A unit occupies one *segment* of R_c x e PEs: PE (i, j) holds filter row i of
the p x q filters and convolves it with input row (j U + i) of its q channels, one 1-D row convolution
per output column; the R_c PEs of a column add their psums vertically into output row j. A *pass*
fills the array's floor(rows / R_c) x floor(cols / e) segment slots with consecutive units.

A batch of N images is processed in image blocks of n images (the Eyeriss papers' mapping parameter
n), image blocks outermost: the n images of a block share every pass and so every filter load. A pass
first loads the filter rows over the filter bus, then streams the F output columns of each of its n
images (n F columns, image after image) through a three-stage pipeline with one-column buffers:
deliver (the column's new ifmap words over the ifmap bus, multicast to every PE of a segment that
reads that row, and the incoming psums over the psum-in bus; an image's first column delivers whole
windows, later ones only the new taps), compute (every PE does p q S MACs, one per cycle), drain (the
column's psums over the psum-out bus). With d_x, c and o the stage durations of column x (times
exclusive):

    Ds[x] = max(De[x-1], Cs[x-1]); De[x] = Ds[x] + d_x
    Cs[x] = max(De[x], Os[x-1]);   Ce[x] = Cs[x] + c
    Os[x] = max(Ce[x], Oe[x-1]);   Oe[x] = Os[x] + o        pass = load + Oe[F-1]

Where a pass's cycles go (the slot partition): the compute stage runs n F c cycles; the pipeline fills
before the first compute (De[0]) and drains after the last one (Oe[last] - Ce[last]); every other
cycle (the filter load, and the compute stage waiting for a delivery or a drain) the array waits for a
bus. Mapped PEs (the pass's segments) compute c cycles per column, with as many MACs as their own
filters and channels give.

The golden reference `accelsim.kernels.reference.eyeriss_v1` steps the same array cycle by cycle on
real data.
"""

from __future__ import annotations

import numpy as np
from numba import njit

IFMAP_SHARING, WEIGHT_SHARING = 0, 1
"""Unit orders: filter blocks innermost (consecutive units share ifmap rows) or strips innermost
(consecutive units share filter rows)."""

N_COUNTS = 16
(
    CYCLES,
    PASSES,
    MACS,
    IFMAP_READS,
    WEIGHT_LOADS,
    PSUM_IN,
    PSUM_OUT,
    IFMAP_DELIVERIES,
    WEIGHT_DELIVERIES,
    PSUM_HOPS,
    PE_PASS_CYCLES,
    LOAD_CYCLES,
    COMPUTE_CYCLES,
    FILL_DRAIN_CYCLES,
    PE_COMPUTE_CYCLES,
    PE_FILL_DRAIN_CYCLES,
) = range(N_COUNTS)
"""Indices of the array `rs_layer_counts` returns. COMPUTE_CYCLES / FILL_DRAIN_CYCLES: array cycles
of the compute stage / of pipeline fill and drain; PE_*: the same cycles times the mapped PEs."""


@njit(cache=True)
def _ceil_div(a: int, b: int) -> int:
    return (a + b - 1) // b


@njit(cache=True)
def segment_rows(e: int, r: int, stride: int) -> int:
    """Distinct input rows read by a segment of r filter rows and e output rows."""
    if stride <= r:
        return (e - 1) * stride + r
    return e * r


@njit(cache=True)
def pipeline_cycles(
    columns: int, d_first: int, d_next: int, compute: int, drain: int, images: int = 1
) -> int:
    """Cycles of the deliver / compute / drain pipeline over `columns` output columns of each of
    `images` images, one image after the other (module docstring)."""
    return pipeline_phases(columns, d_first, d_next, compute, drain, images)[0]


@njit(cache=True)
def pipeline_phases(
    columns: int, d_first: int, d_next: int, compute: int, drain: int, images: int = 1
) -> tuple[int, int]:
    """(cycles, drain tail) of the pipeline: the tail is the cycles after the last compute ends."""
    de = d_first
    cs = de
    ce = cs + compute
    os_ = ce
    oe = os_ + drain
    for x in range(1, columns * images):
        ds = max(de, cs)
        de = ds + (d_first if x % columns == 0 else d_next)
        cs = max(de, os_)
        ce = cs + compute
        os_ = max(ce, oe)
        oe = os_ + drain
    return oe, oe - ce


@njit(cache=True)
def _flush(
    out: np.ndarray,
    f: int,
    d0: int,
    dx: int,
    pin: int,
    pout: int,
    wgt: int,
    cmax: int,
    pes: int,
    bw_i: int,
    bw_w: int,
    bw_pi: int,
    bw_po: int,
    nn: int,
) -> None:
    """Add one finished pass over `nn` images to the counts."""
    load = _ceil_div(wgt, bw_w)
    d_first = max(_ceil_div(d0, bw_i), _ceil_div(pin, bw_pi))
    d_next = max(_ceil_div(dx, bw_i), _ceil_div(pin, bw_pi))
    pipeline, tail = pipeline_phases(f, d_first, d_next, cmax, _ceil_div(pout, bw_po), nn)
    cycles = load + pipeline
    out[CYCLES] += cycles
    out[PASSES] += 1
    out[IFMAP_READS] += (d0 + (f - 1) * dx) * nn
    out[WEIGHT_LOADS] += wgt
    out[PSUM_IN] += pin * f * nn
    out[PSUM_OUT] += pout * f * nn
    out[PE_PASS_CYCLES] += pes * cycles
    out[LOAD_CYCLES] += load
    out[COMPUTE_CYCLES] += cmax * f * nn
    out[FILL_DRAIN_CYCLES] += d_first + tail
    out[PE_COMPUTE_CYCLES] += pes * cmax * f * nn
    out[PE_FILL_DRAIN_CYCLES] += pes * (d_first + tail)


@njit(cache=True)
def rs_layer_counts(
    groups: int,
    c: int,
    k: int,
    e_out: int,
    f: int,
    r: int,
    s: int,
    stride: int,
    rows: int,
    cols: int,
    e: int,
    q: int,
    p: int,
    order: int,
    bw_ifmap: int,
    bw_filter: int,
    bw_psum_in: int,
    bw_psum_out: int,
    batch: int = 1,
    n: int = 1,
) -> np.ndarray:
    """Walk every unit of a layer in order, pack units into passes and count (indices above).

    c, k are per group; e_out x f the output plane; e, q, p the strip width, channels and filters
    per PE; bw_* the bus bandwidths in words per cycle; `batch` images in blocks of `n` images per
    pass. Returns int64[N_COUNTS], totals over the batch.
    """
    out = np.zeros(N_COUNTS, dtype=np.int64)
    for first in range(0, batch, n):
        _image_block(out, groups, c, k, e_out, f, r, s, stride, rows, cols, e, q, p, order,
                     bw_ifmap, bw_filter, bw_psum_in, bw_psum_out, min(n, batch - first))  # fmt: skip
    return out


@njit(cache=True)
def _image_block(
    out: np.ndarray,
    groups: int,
    c: int,
    k: int,
    e_out: int,
    f: int,
    r: int,
    s: int,
    stride: int,
    rows: int,
    cols: int,
    e: int,
    q: int,
    p: int,
    order: int,
    bw_ifmap: int,
    bw_filter: int,
    bw_psum_in: int,
    bw_psum_out: int,
    nn: int,
) -> None:
    """Add the passes of one block of `nn` images to `out`."""
    r_chunk = min(r, rows)
    n_rc = _ceil_div(r, r_chunk)
    n_cb = _ceil_div(c, q)
    n_st = _ceil_div(e_out, e)
    n_kb = _ceil_div(k, p)
    slots = (rows // r_chunk) * (cols // e)
    new_cols = min(stride, s)
    seen_strip = np.full(n_st, -1, dtype=np.int64)
    seen_kb = np.full(n_kb, -1, dtype=np.int64)
    stamp = 0  # identifies (pass, outer block): a strip or filter block counts once per stamp
    used = 0
    d0 = dx = pin = pout = wgt = cmax = pes = 0
    inner_a = n_kb if order == IFMAP_SHARING else n_st
    inner_b = n_st if order == IFMAP_SHARING else n_kb
    for _g in range(groups):
        for rc in range(n_rc):
            rr = min(r_chunk, r - rc * r_chunk)
            for cb in range(n_cb):
                qq = min(q, c - cb * q)
                stamp += 1
                for b in range(inner_b):
                    for a in range(inner_a):
                        st = b if order == IFMAP_SHARING else a
                        kb = a if order == IFMAP_SHARING else b
                        ee = min(e, e_out - st * e)
                        pp = min(p, k - kb * p)
                        if used == slots:
                            _flush(out, f, d0, dx, pin, pout, wgt, cmax, pes,
                                   bw_ifmap, bw_filter, bw_psum_in, bw_psum_out, nn)  # fmt: skip
                            used = 0
                            d0 = dx = pin = pout = wgt = cmax = pes = 0
                            stamp += 1
                        used += 1
                        if seen_strip[st] != stamp:
                            seen_strip[st] = stamp
                            nrow = segment_rows(ee, rr, stride)
                            d0 += nrow * qq * s
                            dx += nrow * qq * new_cols
                        if seen_kb[kb] != stamp:
                            seen_kb[kb] = stamp
                            wgt += rr * pp * qq * s
                        words = ee * pp
                        pout += words
                        if rc > 0 or cb > 0:
                            pin += words
                        cmax = max(cmax, pp * qq * s)
                        npe = rr * ee
                        pes += npe
                        out[MACS] += npe * f * pp * qq * s * nn
                        out[IFMAP_DELIVERIES] += npe * qq * (s + (f - 1) * new_cols) * nn
                        out[WEIGHT_DELIVERIES] += npe * pp * qq * s  # once per pass: the images share it
                        out[PSUM_HOPS] += (rr - 1) * ee * pp * f * nn
    if used:
        _flush(out, f, d0, dx, pin, pout, wgt, cmax, pes,
               bw_ifmap, bw_filter, bw_psum_in, bw_psum_out, nn)  # fmt: skip


@njit(cache=True)
def rlc_words(flat: np.ndarray, run_bits: int, pairs_per_word: int) -> int:
    """Words of a run-length-coded stream: each non-zero is a (zero run, value) pair; a run longer
    than 2**run_bits - 1 zeros spends an extra pair; `pairs_per_word` pairs share one DRAM word."""
    max_run = (1 << run_bits) - 1
    pairs = 0
    run = 0
    for v in flat:
        if v:
            pairs += 1
            run = 0
        else:
            run += 1
            if run > max_run:
                pairs += 1
                run = 0
    if run:
        pairs += 1
    return _ceil_div(pairs, pairs_per_word)
