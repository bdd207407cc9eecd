"""Exact cycles and action counts of SCNN's PEs on a whole layer (PT-IS-CP, REFERENCE §6.2-§6.3).

A PE holds, per input channel, the non-zero activations of its tile (split by stride phase) and
receives the non-zero weights of one output-channel group (same phase). It takes I activations and
F weights at a time and forms all F x I products in one step; products whose output falls outside
the group's window are discarded, the rest scatter through the crossbar into `banks` accumulator
banks, each accepting one product per cycle. A step therefore lasts max(1, most products in one
bank) cycles (the bank conflicts), and half-empty vectors leave multipliers idle (fragmentation).

Operands come as CSR lists (plain arrays) built by `accelsim.dataflows.scnn`:
activations indexed ((band * C + c) * P + pe) * PH + phase, weights ((wgroup * CG) + c) * PH + phase.
The golden reference stepping every PE cycle by cycle is `accelsim.kernels.reference.scnn`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

STAT_ISSUED = 0
"""Products formed by the multipliers (sparse lists: both operands non-zero, same phase)."""
STAT_VALID = 1
"""Products landing inside the output window: accumulator updates (the rest are discarded)."""
STAT_STEPS = 2
"""Cartesian-product steps (one F-vector x one I-vector); each fires the F x I lanes once, so
steps x F x I - issued lanes formed no product (short vectors: fragmentation)."""
STAT_CONFLICT = 3
"""Extra cycles spent by steps waiting for a busy accumulator bank (no lane forms a product in them).
The busy cycles of all PEs add up to steps + conflict cycles."""
STAT_ACT_READS = 4
"""Activations read from the IARAM (each held while all the group's weights stream past)."""
STAT_WEIGHT_READS = 5
"""Weights read from the weight FIFO (each F-vector re-read for every I-vector)."""
N_STATS = 6


def dnnsim_bank(k: int, x: int, y: int, banks: int) -> int:
    """DNNsim's accumulator hash of output (k, x, y) (REFERENCE §6.6, isakedo/DNNsim SCNN.cpp)."""
    return (
        (((k & 4) << 2) ^ ((x & 2) << 3) ^ ((y & 2) << 3)) + ((x & 1) << 3) + ((y & 1) << 2) + (k & 3)
    ) % banks


def bank_table(banks: int) -> np.ndarray:
    """int64[128]: the bank of (k mod 8, x mod 4, y mod 4) at index (k & 7) * 16 + (x & 3) * 4 + (y & 3).

    DNNsim's hash reads only those bits of k, x and y, so the table is exact for every output.
    """
    out = np.empty(128, dtype=np.int64)
    for k in range(8):
        for x in range(4):
            for y in range(4):
                out[k * 16 + x * 4 + y] = dnnsim_bank(k, x, y, banks)
    return out


CODE_MASK = (7 << 6) | (3 << 3) | 3
"""Bits of (activation code + weight code) that form the bank-table index (see `operand_codes`)."""


@njit(cache=True)
def operand_codes(
    a_ptr: np.ndarray,
    a_x: np.ndarray,
    a_y: np.ndarray,
    w_k: np.ndarray,
    w_r: np.ndarray,
    w_s: np.ndarray,
    band_oy0: np.ndarray,
    band_oy1: np.ndarray,
    keys_per_band: int,
    stride: int,
    out_w: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-operand integers the product loop needs, computed once per layer.

    A product only pairs operands of the same stride phase, so with y = s*y' + p and r = s*r' + p its
    output row is exactly y' - r' (columns alike): activations get (y', x'), weights (r', s').
    The bank of a product depends on (k & 7, ox & 3, oy & 3) only: activation code
    (x' & 3) << 3 | (y' & 3) plus weight code (k & 7) << 6 | (-s' & 3) << 3 | (-r' & 3), masked
    by CODE_MASK, is that index (the spare bits 2 and 5 swallow the carries).
    An activation is *interior* when every weight of the layer lands it inside its band's window:
    its products need no window test.
    Returns (a_yq, a_xq, a_code, a_interior, w_rq, w_sq, w_code).
    """
    n_w = w_k.shape[0]
    w_rq = np.empty(n_w, dtype=np.int64)
    w_sq = np.empty(n_w, dtype=np.int64)
    w_code = np.empty(n_w, dtype=np.int64)
    r_max = 0
    s_max = 0
    for q in range(n_w):
        rq = w_r[q] // stride
        sq = w_s[q] // stride
        w_rq[q] = rq
        w_sq[q] = sq
        w_code[q] = ((w_k[q] & 7) << 6) | (((-sq) & 3) << 3) | ((-rq) & 3)
        r_max = max(r_max, rq)
        s_max = max(s_max, sq)
    n_a = a_x.shape[0]
    a_yq = np.empty(n_a, dtype=np.int64)
    a_xq = np.empty(n_a, dtype=np.int64)
    a_code = np.empty(n_a, dtype=np.int64)
    a_in = np.empty(n_a, dtype=np.bool_)
    for b in range(band_oy0.shape[0]):
        oy0 = band_oy0[b]
        oy1 = band_oy1[b]
        for t in range(a_ptr[b * keys_per_band], a_ptr[(b + 1) * keys_per_band]):
            yq = a_y[t] // stride
            xq = a_x[t] // stride
            a_yq[t] = yq
            a_xq[t] = xq
            a_code[t] = ((xq & 3) << 3) | (yq & 3)
            a_in[t] = yq - r_max >= oy0 and yq < oy1 and xq - s_max >= 0 and xq < out_w
    return a_yq, a_xq, a_code, a_in, w_rq, w_sq, w_code


@njit(cache=True)
def _lands(a_yq: np.ndarray, a_xq: np.ndarray, t: int, w_rq: np.ndarray, w_sq: np.ndarray, q: int,
           oy0: int, oy1: int, out_w: int) -> bool:  # fmt: skip
    """Whether activation t times weight q lands inside the group's output window."""
    oy = a_yq[t] - w_rq[q]
    ox = a_xq[t] - w_sq[q]
    return oy >= oy0 and oy < oy1 and ox >= 0 and ox < out_w


@njit(cache=True)
def _most_in_one_bank(
    a_yq: np.ndarray,
    a_xq: np.ndarray,
    a_code: np.ndarray,
    a_in: np.ndarray,
    ia: int,
    ia1: int,
    w_rq: np.ndarray,
    w_sq: np.ndarray,
    w_code: np.ndarray,
    fw: int,
    fw1: int,
    oy0: int,
    oy1: int,
    out_w: int,
    banks: np.ndarray,
    hits: np.ndarray,
) -> int:
    """Exact count of the busiest bank of one step (used when some bank takes four or more)."""
    for q in range(fw, fw1):
        for t in range(ia, ia1):
            hits[banks[(a_code[t] + w_code[q]) & CODE_MASK]] = 0
    most = 0
    for q in range(fw, fw1):
        for t in range(ia, ia1):
            if a_in[t] or _lands(a_yq, a_xq, t, w_rq, w_sq, q, oy0, oy1, out_w):
                b = banks[(a_code[t] + w_code[q]) & CODE_MASK]
                hits[b] += 1
                most = max(most, hits[b])
    return most


TABLE_MIN_ACTS = 64
"""Activations of one input channel (all PEs) from which the per-weight-vector bank table pays off."""


@njit(cache=True)
def _bank_levels(w_code: np.ndarray, w0: int, w1: int, f: int, onehot: np.ndarray, out: np.ndarray) -> None:
    """out[v, code, j]: banks hit more than j times by weight vector v times one activation of `code`.

    Four bit sets per entry (hit >= 1, 2, 3, 4 times); `code` is an activation code (< 32).
    """
    for v in range((w1 - w0 + f - 1) // f):
        fw = w0 + v * f
        fw1 = min(fw + f, w1)
        for code in range(32):
            l1 = 0
            l2 = 0
            l3 = 0
            l4 = 0
            for q in range(fw, fw1):
                bit = onehot[(code + w_code[q]) & CODE_MASK]
                l4 |= l3 & bit
                l3 |= l2 & bit
                l2 |= l1 & bit
                l1 |= bit
            out[v, code, 0] = l1
            out[v, code, 1] = l2
            out[v, code, 2] = l3
            out[v, code, 3] = l4


@njit(cache=True)
def _pe_cycles(
    a_yq: np.ndarray,
    a_xq: np.ndarray,
    a_code: np.ndarray,
    a_in: np.ndarray,
    a0: int,
    a1: int,
    w_rq: np.ndarray,
    w_sq: np.ndarray,
    w_code: np.ndarray,
    w0: int,
    w1: int,
    oy0: int,
    oy1: int,
    out_w: int,
    f: int,
    i: int,
    onehot: np.ndarray,
    banks: np.ndarray,
    conflicts: bool,
    levels: np.ndarray,
    use_levels: bool,
    hits: np.ndarray,
    stats: np.ndarray,
) -> int:
    """Cycles of one activation list x one weight list on one PE (bank ids must be < 64).

    A step lasts as many cycles as its busiest bank has products. The banks hit at least once,
    twice, three and four times are tracked as bit sets (no branch per product): per product, or,
    when `use_levels`, per activation from `levels` (`_bank_levels` of this weight list), merged as
    saturating counters. A step where a bank is hit four times or more is recounted exactly.
    Activations on the window's edge (not interior) test every product and go product by product.
    Products are counted in any order: a step's cycles depend only on how many land in each bank.
    """
    cycles = 0
    valid = 0
    n_w = w1 - w0
    n_wv = (n_w + f - 1) // f
    for ia in range(a0, a1, i):
        ia1 = min(ia + i, a1)
        for t in range(ia, ia1):
            if a_in[t]:
                valid += n_w
            else:
                for q in range(w0, w1):
                    if _lands(a_yq, a_xq, t, w_rq, w_sq, q, oy0, oy1, out_w):
                        valid += 1
        if not conflicts:  # a conflict-free accumulator: every step one cycle
            cycles += n_wv
            continue
        for v in range(n_wv):
            fw = w0 + v * f
            fw1 = min(fw + f, w1)
            l1 = 0  # bit b: bank b took at least one product this step
            l2 = 0  # ... at least two
            l3 = 0
            l4 = 0
            for t in range(ia, ia1):
                code = a_code[t]
                if use_levels and a_in[t]:  # merge this activation's F products at once
                    m1 = levels[v, code, 0]
                    m2 = levels[v, code, 1]
                    m3 = levels[v, code, 2]
                    l4 |= levels[v, code, 3] | (l3 & m1) | (l2 & m2) | (l1 & m3)
                    l3 |= m3 | (l2 & m1) | (l1 & m2)
                    l2 |= m2 | (l1 & m1)
                    l1 |= m1
                    continue
                for q in range(fw, fw1):
                    if not a_in[t] and not _lands(a_yq, a_xq, t, w_rq, w_sq, q, oy0, oy1, out_w):
                        continue
                    bit = onehot[(code + w_code[q]) & CODE_MASK]
                    l4 |= l3 & bit
                    l3 |= l2 & bit
                    l2 |= l1 & bit
                    l1 |= bit
            if l4:
                cycles += _most_in_one_bank(
                    a_yq,
                    a_xq,
                    a_code,
                    a_in,
                    ia,
                    ia1,
                    w_rq,
                    w_sq,
                    w_code,
                    fw,
                    fw1,
                    oy0,
                    oy1,
                    out_w,
                    banks,
                    hits,
                )
            elif l3:
                cycles += 3
            elif l2:
                cycles += 2
            else:
                cycles += 1
    n_a = a1 - a0
    steps = ((n_a + i - 1) // i) * n_wv
    stats[STAT_VALID] += valid
    stats[STAT_CONFLICT] += cycles - steps
    stats[STAT_WEIGHT_READS] += ((n_a + i - 1) // i) * n_w
    stats[STAT_ISSUED] += n_a * n_w
    stats[STAT_STEPS] += steps
    stats[STAT_ACT_READS] += n_a
    return cycles


@njit(cache=True, parallel=True)
def planar_layer(
    a_ptr: np.ndarray,
    a_x: np.ndarray,
    a_y: np.ndarray,
    w_ptr: np.ndarray,
    w_k: np.ndarray,
    w_r: np.ndarray,
    w_s: np.ndarray,
    og_band: np.ndarray,
    og_wgroup: np.ndarray,
    og_chan0: np.ndarray,
    og_oy0: np.ndarray,
    og_oy1: np.ndarray,
    channels: int,
    chans_per_group: int,
    pes: int,
    phases: int,
    stride: int,
    out_w: int,
    f: int,
    i: int,
    table: np.ndarray,
    conflicts: bool,
    products: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every PE of every output-channel group of a layer.

    Returns (busy int64[groups, pes]: compute cycles of each PE in each group; strict int64[groups]:
    the group's cycles under a barrier after every input channel; stats int64[N_STATS]).
    With `products` false no product is examined: each step costs one cycle (a dense array with a
    conflict-free accumulator) and STAT_VALID stays 0.
    Groups are independent and run in parallel threads; each writes only its own rows, and the
    per-group counters are summed in group order afterwards, so results do not depend on threads.
    """
    n_og = og_band.shape[0]
    busy = np.zeros((n_og, pes), dtype=np.int64)
    strict = np.zeros(n_og, dtype=np.int64)
    per_group = np.zeros((n_og, N_STATS), dtype=np.int64)
    keys_per_band = channels * pes * phases
    n_bands = 0
    for g in range(n_og):
        n_bands = max(n_bands, og_band[g] + 1)
    band_oy0 = np.zeros(n_bands, dtype=np.int64)
    band_oy1 = np.zeros(n_bands, dtype=np.int64)
    for g in range(n_og):
        band_oy0[og_band[g]] = og_oy0[g]
        band_oy1[og_band[g]] = og_oy1[g]
    empty = np.zeros(0, dtype=np.int64)
    if products:
        a_yq, a_xq, a_code, a_in, w_rq, w_sq, w_code = operand_codes(
            a_ptr, a_x, a_y, w_k, w_r, w_s, band_oy0, band_oy1, keys_per_band, stride, out_w
        )
    else:
        a_yq, a_xq, a_code, w_rq, w_sq, w_code = empty, empty, empty, empty, empty, empty
        a_in = np.zeros(0, dtype=np.bool_)
    onehot = np.zeros(512, dtype=np.int64)
    banks = np.zeros(512, dtype=np.int64)
    for k in range(8):
        for x in range(4):
            for y in range(4):
                b = table[k * 16 + x * 4 + y]
                onehot[(k << 6) | (x << 3) | y] = np.int64(1) << b
                banks[(k << 6) | (x << 3) | y] = b
    max_wv = 1
    for wi in range(w_ptr.shape[0] - 1):
        max_wv = max(max_wv, (w_ptr[wi + 1] - w_ptr[wi] + f - 1) // f)
    for g in prange(n_og):
        hits = np.zeros(64, dtype=np.int64)
        levels = np.zeros((phases, max_wv if products and conflicts else 1, 32, 4), dtype=np.int64)
        stats = per_group[g]
        band = og_band[g]
        wg = og_wgroup[g]
        for cl in range(chans_per_group):
            c = og_chan0[g] + cl
            widest = 0
            c_key = (band * channels + c) * pes * phases
            use_levels = (
                products and conflicts and a_ptr[c_key + pes * phases] - a_ptr[c_key] >= TABLE_MIN_ACTS
            )
            if use_levels:
                for ph in range(phases):
                    wi = (wg * chans_per_group + cl) * phases + ph
                    _bank_levels(w_code, w_ptr[wi], w_ptr[wi + 1], f, onehot, levels[ph])
            for p in range(pes):
                pe_cycles = 0
                for ph in range(phases):
                    wi = (wg * chans_per_group + cl) * phases + ph
                    w0 = w_ptr[wi]
                    w1 = w_ptr[wi + 1]
                    if w1 == w0:
                        continue
                    ai = ((band * channels + c) * pes + p) * phases + ph
                    a0 = a_ptr[ai]
                    a1 = a_ptr[ai + 1]
                    if a1 == a0:
                        continue
                    if products:
                        cyc = _pe_cycles(
                            a_yq, a_xq, a_code, a_in, a0, a1, w_rq, w_sq, w_code, w0, w1,
                            og_oy0[g], og_oy1[g], out_w, f, i, onehot, banks, conflicts,
                            levels[ph], use_levels, hits, stats,
                        )  # fmt: skip
                    else:
                        n_a = a1 - a0
                        n_w = w1 - w0
                        steps_a = (n_a + i - 1) // i
                        steps_w = (n_w + f - 1) // f
                        cyc = steps_a * steps_w
                        stats[STAT_ISSUED] += n_a * n_w
                        stats[STAT_STEPS] += cyc
                        stats[STAT_ACT_READS] += n_a
                        stats[STAT_WEIGHT_READS] += steps_a * n_w
                    pe_cycles += cyc
                busy[g, p] += pe_cycles
                if pe_cycles > widest:
                    widest = pe_cycles
            strict[g] += widest
    total = np.zeros(N_STATS, dtype=np.int64)
    for g in range(n_og):
        for j in range(N_STATS):
            total[j] += per_group[g, j]
    return busy, strict, total


@njit(cache=True)
def zero_run_entries(block: np.ndarray, pos: np.ndarray, max_run: int) -> int:
    """Entries of the zero-run-length format: non-zeros plus placeholder zeros for long runs.

    `block` and `pos` give each non-zero's block and position inside it, sorted by (block, pos).
    Each entry carries an index of up to `max_run` preceding zeros; a longer run inserts a zero
    placeholder every max_run + 1 positions (REFERENCE §6.2). Trailing zeros of a block cost nothing.
    """
    entries = 0
    prev_block = -1
    prev_pos = -1
    for j in range(block.shape[0]):
        if block[j] != prev_block:
            prev_block = block[j]
            prev_pos = -1
        gap = pos[j] - prev_pos - 1
        entries += 1 + gap // (max_run + 1)
        prev_pos = pos[j]
    return entries
