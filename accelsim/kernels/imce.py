"""IMCE kernels: the bit-wise convolution (AND of bit-planes, bit-count, shift-and-add) and the
schedule of one layer on the computational sub-arrays ([DOREFA16; IMCE18]).

`bitwise_conv` computes a layer's integer result the way the engine does: for every output, every
column chunk of its receptive field and every (weight plane i, activation plane j) pair it ANDs the
two bit rows, counts the ones and adds the count shifted by i + j. `schedule` counts, per layer, the
sense, write, bit-count and add actions, each sub-array's busy cycles and, of those, the cycles it
spends writing rows (waiting for its operands) for the mapping described in
`accelsim/dataflows/imce.py`. `crossbar_schedule` does the same for the analog crossbar counterpart
(DAC-driven reads, ADC conversions). Both schedules have a cycle-by-cycle golden reference in
`accelsim/kernels/reference/imce.py`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

AND_OPS = 0
"""Dual-row AND senses (one row pair of one sub-array sensed at once)."""
AND_BITS = 1
"""Columns sensed by those AND senses (bits that reach the bit-counter)."""
READ_OPS = 2
"""Single-row senses of activation planes (signed-weight correction: bit-count of x alone)."""
READ_BITS = 3
"""Columns sensed by those reads."""
WRITE_ROWS = 4
"""Row writes into the computational sub-arrays (activation planes, and weights when reloaded)."""
WRITE_BITS = 5
"""Cells written by those row writes."""
ADDS = 6
"""psum-wide additions: one shift-and-add per sense, cross-chunk accumulation, signed correction."""
TASKS = 7
"""(pixel, weight block) tasks run on the sub-arrays."""
WEIGHT_ROWS = 8
"""Of WRITE_ROWS, the weight-plane rows (only when weights are reloaded per layer)."""
WEIGHT_BITS = 9
"""Of WRITE_BITS, the weight-plane cells."""
PSUM_SPILLS = 10
"""Partial sums (outputs and x-sums) kept in the buffer between rounds: each is written once and read
back once (an output whose chunks span r rounds spills r - 1 times)."""
NCOUNTS = 11

XB_READS = 0
"""Crossbar reads: one input bit-plane driven on a block's rows, every used column summed."""
XB_CELLS = 1
"""Cells those reads conduct through (chunk rows x used columns): the bit-products and the ones column."""
XB_CORR_CELLS = 2
"""Of XB_CELLS, the cells of the signed-weight ones column (the sum of x alone)."""
XB_CONVERSIONS = 3
"""ADC conversions: one per used column per read."""
XB_DAC_ROWS = 4
"""Rows driven by a DAC: the chunk's rows per read."""
XB_WAIT = 5
"""Cycles the reads wait for the shared ADCs beyond the read itself (summed over reads)."""
XB_WRITE_ROWS = 6
"""Weight rows written (only when weights are rewritten)."""
XB_WRITE_BITS = 7
"""Cells written by those rows."""
XB_ADDS = 8
"""psum-wide additions: one shift-and-add per conversion, cross-chunk accumulation, signed correction."""
XB_TASKS = 9
"""(pixel, weight block) tasks run on the crossbars."""
XB_PSUM_SPILLS = 10
"""Partial sums kept in the buffer between rounds (as PSUM_SPILLS)."""


@njit(cache=True)
def _receptive_field(
    x: np.ndarray, g: int, cg: int, oy: int, ox: int, r: int, s: int, stride: int, pad: int, vec: np.ndarray
) -> None:
    """Fill `vec` with the input codes under one output pixel, in (c, r, s) order; padding is 0."""
    h, w = x.shape[1], x.shape[2]
    idx = 0
    for c in range(cg):
        for dy in range(r):
            for dx in range(s):
                iy = oy * stride - pad + dy
                ix = ox * stride - pad + dx
                if 0 <= iy < h and 0 <= ix < w:
                    vec[idx] = x[g * cg + c, iy, ix]
                else:
                    vec[idx] = 0
                idx += 1


@njit(cache=True)
def bitwise_conv(
    x: np.ndarray, w: np.ndarray, m: int, n: int, stride: int, pad: int, groups: int, cols: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unsigned convolution of n-bit codes `x` (C, H, W) with m-bit codes `w` (K, C/groups, R, S).

    Returns (out, xsum, counts): out (K, Ho, Wo) = sum over chunks, i < m, j < n of
    2^(i+j) bitcount(and(w_i, x_j)); xsum (groups, Ho, Wo) = sum over j of 2^j bitcount(x_j), the
    receptive-field sum the signed-weight correction needs; counts[AND_OPS, AND_BITS, READ_OPS,
    READ_BITS] as performed (chunks of `cols` columns).
    """
    k, cg, r, s = w.shape
    h, wd = x.shape[1], x.shape[2]
    ho = (h + 2 * pad - r) // stride + 1
    wo = (wd + 2 * pad - s) // stride + 1
    kg = k // groups
    length = cg * r * s
    out = np.zeros((k, ho, wo), dtype=np.int64)
    xsum = np.zeros((groups, ho, wo), dtype=np.int64)
    counts = np.zeros(NCOUNTS, dtype=np.int64)
    vec = np.zeros(length, dtype=np.int64)
    wvec = w.reshape(k, length)
    for g in range(groups):
        for oy in range(ho):
            for ox in range(wo):
                _receptive_field(x, g, cg, oy, ox, r, s, stride, pad, vec)
                for lo in range(0, length, cols):
                    hi = min(lo + cols, length)
                    for j in range(n):
                        ones = 0
                        for col in range(lo, hi):
                            ones += (vec[col] >> j) & 1
                        xsum[g, oy, ox] += ones << j
                        counts[READ_OPS] += 1
                        counts[READ_BITS] += hi - lo
                    for kk in range(g * kg, (g + 1) * kg):
                        acc = 0
                        for i in range(m):
                            for j in range(n):
                                ones = 0
                                for col in range(lo, hi):
                                    ones += ((wvec[kk, col] >> i) & 1) & ((vec[col] >> j) & 1)
                                acc += ones << (i + j)
                                counts[AND_OPS] += 1
                                counts[AND_BITS] += hi - lo
                        out[kk, oy, ox] += acc
    return out, xsum, counts


@njit(cache=True)
def _block_slot(idx: int, blocks: int, subarrays: int, max_copies: int) -> tuple[int, int, int]:
    """(round, copies, first sub-array) of block `idx`: blocks run in rounds of up to `subarrays`; a round
    of N blocks gives each min(subarrays // N, max_copies) copies (max_copies 0: no limit), side by side."""
    rnd = idx // subarrays
    in_round = min(subarrays, blocks - rnd * subarrays)
    per = subarrays // in_round
    if max_copies > 0 and per > max_copies:
        per = max_copies
    return rnd, per, (idx - rnd * subarrays) * per


@njit(cache=True)
def _psum_spills(idx: int, q: int, q_chunks: int, subarrays: int) -> int:
    """Rounds the (group, filter block) that block `idx` ends spans, less one: its partial sums wait in the
    buffer that many times (the chunks of one (group, filter block) are consecutive blocks)."""
    if q != q_chunks - 1:
        return 0
    first = idx - q_chunks + 1
    return idx // subarrays - first // subarrays


@njit(cache=True)
def _final_adds(groups: int, k_g: int, pixels: int, q_chunks: int, signed: bool) -> int:
    """Cross-chunk accumulation of every output (and of the correction sum), then the signed correction
    out = 2 u - (2^m - 1) xsum: two adds per output."""
    outputs = groups * k_g * pixels
    corr = groups * pixels if signed else 0
    return (q_chunks - 1) * (outputs + corr) + (2 * outputs if signed else 0)


@njit(cache=True)
def schedule(
    k_g: int,
    groups: int,
    pixels: int,
    length: int,
    m: int,
    n: int,
    rows: int,
    cols: int,
    subarrays: int,
    t_and: int,
    t_write: int,
    signed: bool,
    load_weights: bool,
    max_copies: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Busy cycles of each sub-array, the cycles of those it spends writing rows, and the layer's action
    counts (docs/imce.md, "Mapping").

    A weight block is up to f = (rows - n) // m filters of one column chunk of one group (m rows
    each); the G * B * Q blocks are taken in (group, filter block, chunk) order. They run in
    rounds of up to `subarrays` blocks; a round of N blocks gives each block s = min(subarrays // N,
    max_copies) sub-arrays holding a copy (max_copies 0: no limit), and a copy takes the block's output
    pixels round-robin. Per (pixel, block) task the sub-array writes the n activation rows of the chunk,
    senses x_j alone once per j when weights are signed (in the chunk's first filter block only), then
    senses every (filter, i, j) row pair. With `load_weights`, or when the layer needs more than one
    round, each copy first writes its block's f * m weight rows. A sub-array runs its rounds back to
    back. An output whose chunks fall in r rounds keeps its partial sum in the buffer r - 1 times.
    Returns (busy[subarrays], written[subarrays], counts[NCOUNTS]); busy includes the written cycles.
    """
    busy = np.zeros(subarrays, dtype=np.int64)
    written = np.zeros(subarrays, dtype=np.int64)
    counts = np.zeros(NCOUNTS, dtype=np.int64)
    f = min(k_g, (rows - n) // m)
    q_chunks = (length + cols - 1) // cols
    b_blocks = (k_g + f - 1) // f
    blocks = groups * q_chunks * b_blocks
    write_weights = load_weights or blocks > subarrays
    for idx in range(blocks):
        b = (idx // q_chunks) % b_blocks
        q = idx % q_chunks
        _, per, first_unit = _block_slot(idx, blocks, subarrays, max_copies)
        width = min(cols, length - q * cols)
        fb = min(f, k_g - b * f)
        reads = n if signed and b == 0 else 0  # the chunk's first block also counts x alone
        task_cycles = n * t_write + (fb * m * n + reads) * t_and
        for copy in range(per):
            tasks = pixels // per + (1 if copy < pixels % per else 0)
            cycles = tasks * task_cycles
            writes = tasks * n * t_write
            if write_weights:
                cycles += fb * m * t_write
                writes += fb * m * t_write
                counts[WRITE_ROWS] += fb * m
                counts[WRITE_BITS] += fb * m * width
                counts[WEIGHT_ROWS] += fb * m
                counts[WEIGHT_BITS] += fb * m * width
            busy[first_unit + copy] += cycles
            written[first_unit + copy] += writes
            counts[TASKS] += tasks
            counts[AND_OPS] += tasks * fb * m * n
            counts[AND_BITS] += tasks * fb * m * n * width
            counts[READ_OPS] += tasks * reads
            counts[READ_BITS] += tasks * reads * width
            counts[WRITE_ROWS] += tasks * n
            counts[WRITE_BITS] += tasks * n * width
            counts[ADDS] += tasks * (fb * m * n + reads)
        counts[PSUM_SPILLS] += (
            _psum_spills(idx, q, q_chunks, subarrays) * pixels * (fb + (1 if signed and b == 0 else 0))
        )
    counts[ADDS] += _final_adds(groups, k_g, pixels, q_chunks, signed)
    return busy, written, counts


@njit(cache=True)
def crossbar_schedule(
    k_g: int,
    groups: int,
    pixels: int,
    length: int,
    m_slices: int,
    n: int,
    rows: int,
    cols: int,
    subarrays: int,
    t_read: int,
    adcs: int,
    conv_milli: int,
    t_write: int,
    signed: bool,
    load_weights: bool,
    max_copies: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Busy cycles of each crossbar, the cycles of those it spends writing weight rows, and the layer's
    action counts (XB_* indices) on an analog crossbar (docs/imce.md, "RRAM counterparts").

    A weight block is one row chunk (up to `rows` receptive-field elements) of up to f = (cols - c) //
    m_slices filters, each filter m_slices columns (c = 1 ones column for signed weights, used in the
    chunk's first filter block); blocks, rounds and copies as in `schedule`. Per (pixel, block) task and
    input bit-plane j < n: the DACs drive the chunk's rows, every used column sums its cells' currents
    (t_read cycles) and the `adcs` ADCs convert the used columns one after another, each conversion
    conv_milli / 1000 cycles; the next read overlaps the conversions, so a plane takes max(t_read,
    conversion time) cycles. The input is never written into the array; with `load_weights` (or rounds)
    each copy first writes the block's chunk rows.
    """
    busy = np.zeros(subarrays, dtype=np.int64)
    written = np.zeros(subarrays, dtype=np.int64)
    counts = np.zeros(NCOUNTS, dtype=np.int64)
    corr = 1 if signed else 0
    f = min(k_g, (cols - corr) // m_slices)
    q_chunks = (length + rows - 1) // rows
    b_blocks = (k_g + f - 1) // f
    blocks = groups * q_chunks * b_blocks
    write_weights = load_weights or blocks > subarrays
    for idx in range(blocks):
        b = (idx // q_chunks) % b_blocks
        q = idx % q_chunks
        _, per, first_unit = _block_slot(idx, blocks, subarrays, max_copies)
        width = min(rows, length - q * rows)
        fb = min(f, k_g - b * f)
        ones = corr if b == 0 else 0
        used = fb * m_slices + ones
        convert = ((used + adcs - 1) // adcs * conv_milli + 999) // 1000
        period = max(t_read, convert)
        for copy in range(per):
            tasks = pixels // per + (1 if copy < pixels % per else 0)
            cycles = tasks * n * period
            if write_weights:
                cycles += width * t_write
                written[first_unit + copy] += width * t_write
                counts[XB_WRITE_ROWS] += width
                counts[XB_WRITE_BITS] += width * used
            busy[first_unit + copy] += cycles
            reads = tasks * n
            counts[XB_TASKS] += tasks
            counts[XB_READS] += reads
            counts[XB_CELLS] += reads * width * used
            counts[XB_CORR_CELLS] += reads * width * ones
            counts[XB_CONVERSIONS] += reads * used
            counts[XB_DAC_ROWS] += reads * width
            counts[XB_WAIT] += reads * (period - t_read)
            counts[XB_ADDS] += reads * used
        counts[XB_PSUM_SPILLS] += _psum_spills(idx, q, q_chunks, subarrays) * pixels * (fb + ones)
    counts[XB_ADDS] += _final_adds(groups, k_g, pixels, q_chunks, signed)
    return busy, written, counts


@njit(cache=True)
def dpu_latency(cols: int, q_chunks: int) -> int:
    """Cycles from the last sense to the last quantised output: the bit-count adder tree
    (ceil(log2 cols) levels), the shift-and-add, the cross-chunk adder tree (ceil(log2 Q)) and the
    quantiser, one cycle each."""
    depth = 0
    width = 1
    while width < cols:
        width *= 2
        depth += 1
    chunks = 0
    width = 1
    while width < q_chunks:
        width *= 2
        chunks += 1
    return depth + 1 + chunks + 1
