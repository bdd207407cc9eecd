"""Exact cycles and action counts of SCNN's PEs on a whole layer (PT-IS-CP; SCNN, ISCA 2017, §III-§IV).

A PE holds, per input channel, the non-zero activations of its tile (split by stride phase) and
receives the non-zero weights of one output-channel group (same phase). It takes I activations and
F weights at a time and forms all F x I products in one step; products whose output falls outside
the group's window are discarded, the rest scatter through the crossbar into `banks` accumulator
banks, each adding one product (one accumulator entry) per cycle. Half-empty vectors leave
multipliers idle (fragmentation); products bound for one bank wait for it, in one of three
accumulator models:

- `LOCKSTEP`: the multiplier array holds a step's products until every bank has taken its own, one
  per cycle: a step lasts max(1, most products in one bank) cycles (DNNsim's `computeSCNNPE`).
- `QUEUED`: each bank has a FIFO of `depth` products behind the crossbar; a step's products enter
  their FIFOs as room allows and the array fires the next step once all of them are in. A bank
  holding q products that receives n more keeps the array waiting max(0, q + n - depth - 1) cycles;
  the FIFOs empty after the PE's last step of a group (or of an input channel, with a barrier after
  each). Depth 0 is `LOCKSTEP`.
- `MERGING`: as `LOCKSTEP`, but the products of one step bound for the same accumulator entry are
  added together before the bank and cost it one access: a step lasts max(1, most distinct entries in
  one bank) cycles.

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
"""Extra cycles spent by steps waiting for a busy accumulator bank (`LOCKSTEP`, `MERGING`) or for room
in a full bank FIFO (`QUEUED`): no lane forms a product in them."""
STAT_ACT_READS = 4
"""Activations read from the IARAM (each held while all the group's weights stream past)."""
STAT_WEIGHT_READS = 5
"""Weights read from the weight FIFO (each F-vector re-read for every I-vector)."""
STAT_DRAIN = 6
"""Cycles the bank FIFOs take to empty after a PE's last step of a group (`QUEUED`; with a barrier
after every input channel, after each channel): no product is formed. The busy cycles of all PEs add
up to steps + conflict + drain cycles."""
STAT_MERGED = 7
"""Valid products added into another product of their step bound for the same accumulator entry
(`MERGING`): the accumulator takes valid - merged accesses."""
N_STATS = 8

LOCKSTEP = 0
QUEUED = 1
MERGING = 2
ACCUMULATORS = ("lockstep", "queued", "merging")
"""Accumulator models by code (the index): see the module docstring."""
ALL_BANKS = -1
"""Every bit set: the bank set of level 0 of a thermometer code (every bank holds at least 0)."""


def dnnsim_bank(k: int, x: int, y: int, banks: int) -> int:
    """DNNsim's accumulator hash of output (k, x, y) ([DNNSIM20], isakedo/DNNsim SCNN.cpp)."""
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
def _repeated_k(w_k: np.ndarray, w0: int, w1: int, f: int, out: np.ndarray) -> None:
    """out[v]: whether weight vector v of the list [w0, w1) holds two weights of one output channel,
    the only way two products of a step can be bound for the same accumulator entry."""
    for v in range((w1 - w0 + f - 1) // f):
        fw = w0 + v * f
        fw1 = min(fw + f, w1)
        found = False
        for q in range(fw + 1, fw1):
            for p in range(fw, q):
                if w_k[p] == w_k[q]:
                    found = True
        out[v] = found


@njit(cache=True)
def _merged_step(
    a_yq: np.ndarray,
    a_xq: np.ndarray,
    a_code: np.ndarray,
    a_in: np.ndarray,
    ia: int,
    ia1: int,
    w_k: np.ndarray,
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
    keys: np.ndarray,
) -> tuple[int, int]:
    """(most distinct accumulator entries one bank takes, valid products merged into another) of one
    step of a merging accumulator: products bound for one (k, oy, ox) entry cost its bank one access."""
    n = 0
    for q in range(fw, fw1):
        for t in range(ia, ia1):
            if a_in[t] or _lands(a_yq, a_xq, t, w_rq, w_sq, q, oy0, oy1, out_w):
                keys[n, 0] = w_k[q]
                keys[n, 1] = a_yq[t] - w_rq[q]
                keys[n, 2] = a_xq[t] - w_sq[q]
                keys[n, 3] = banks[(a_code[t] + w_code[q]) & CODE_MASK]
                n += 1
    for j in range(n):
        hits[keys[j, 3]] = 0
    most = 0
    merged = 0
    for j in range(n):
        seen = False
        for m in range(j):
            if keys[m, 0] == keys[j, 0] and keys[m, 1] == keys[j, 1] and keys[m, 2] == keys[j, 2]:
                seen = True
                break
        if seen:
            merged += 1
            continue
        b = keys[j, 3]
        hits[b] += 1
        most = max(most, hits[b])
    return most, merged


@njit(cache=True, inline="always")  # NOTE: inlined: called once per step, the hot path
def _queue_step(l1: int, l2: int, l3: int, queue: np.ndarray, cap: int, sums: np.ndarray) -> int:
    """Cycles of a step whose banks take at most three products each (thermometer l1, l2, l3).

    `cap` = FIFO depth + 1 products a bank can hold in a cycle (1: lock step, the step lasts as long as
    its busiest bank). `queue[j - 1]` holds the banks with at least j products waiting when the step
    fires; it is updated to the occupancy when the next step can fire. A bank holding q that receives n
    products keeps the array q + n - cap cycles, and holds q + n - cycles afterwards. The sums q + n
    are kept as a thermometer too: sums[m] = banks with q + n >= m, the union over j of (n >= j) and
    (q >= m - j); a level below 0 counts as every bank (harmless: n >= j > m implies n >= m).
    """
    if cap == 1:
        return 3 if l3 else (2 if l2 else 1)
    # NOTE: common cases first: FIFOs holding at most 2 (0, 1) products that can take a whole step
    if cap >= 5 and queue[2] == 0:
        held1 = queue[0]
        held2 = queue[1]
        queue[0] = held2 | (l1 & held1) | l2
        queue[1] = (l1 & held2) | (l2 & held1) | l3
        queue[2] = (l2 & held2) | (l3 & held1)
        queue[3] = l3 & held2
        return 1
    if (l2 & queue[cap - 2]) | (l3 & (queue[cap - 3] if cap >= 3 else ALL_BANKS)) == 0:  # no bank over cap
        below2 = ALL_BANKS
        below1 = ALL_BANKS
        here = queue[0]
        for j in range(1, cap):  # queue[j - 1] = sums[j + 1], from the old levels j + 1 down to j - 2
            above = queue[j] if j < cap - 1 else 0
            total = above | (l1 & here) | (l2 & below1) | (l3 & below2)
            queue[j - 1] = total
            if total == 0:  # every higher level was empty too
                break
            below2 = below1
            below1 = here
            here = above
        return 1
    below1 = ALL_BANKS  # q >= m - 1, then m - 2, m - 3 (levels 0 and below: every bank)
    below2 = ALL_BANKS
    below3 = ALL_BANKS
    top = 0
    for m in range(1, cap + 3):
        here = queue[m - 1] if m < cap else 0
        total = here | (l1 & below1) | (l2 & below2) | (l3 & below3)
        if total == 0:
            break
        sums[m] = total
        top = m
        below3 = below2
        below2 = below1
        below1 = here
    wait = top - cap if top > cap else 0
    for j in range(1, cap):
        m = j + wait + 1
        queue[j - 1] = sums[m] if m <= top else 0
    return wait + 1


@njit(cache=True)
def _queue_step_exact(hits: np.ndarray, l1: int, queue: np.ndarray, cap: int, n_banks: int) -> int:
    """`_queue_step` for a step whose banks took `hits[b]` products (the banks in `l1`), any number.

    Overwrites `hits` (every bank's q + n); banks are numbered below `n_banks`."""
    active = l1 | queue[0]
    most = 0
    for b in range(n_banks):
        total = 0
        if (active >> b) & 1:
            total = hits[b] if (l1 >> b) & 1 else 0
            for j in range(cap - 1):
                if not (queue[j] >> b) & 1:
                    break
                total += 1
        hits[b] = total
        most = max(most, total)
    wait = most - cap if most > cap else 0
    for j in range(cap - 1):
        queue[j] = 0
    for b in range(n_banks):
        for j in range(min(hits[b] - wait - 1, cap - 1)):
            queue[j] |= np.int64(1) << b
    return wait + 1


@njit(cache=True)
def _drain(queue: np.ndarray, cap: int) -> int:
    """Cycles until the bank FIFOs `queue` are empty (the fullest bank's products); empties them."""
    most = 0
    for j in range(cap - 1):
        if queue[j]:
            most = j + 1
        queue[j] = 0
    return most


@njit(cache=True)
def _pe_cycles(
    a_yq: np.ndarray,
    a_xq: np.ndarray,
    a_code: np.ndarray,
    a_in: np.ndarray,
    a0: int,
    a1: int,
    w_k: np.ndarray,
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
    accumulator: int,
    cap: int,
    n_banks: int,
    queue: np.ndarray,
    sums: np.ndarray,
    dup: np.ndarray,
    keys: np.ndarray,
    stats: np.ndarray,
) -> int:
    """Cycles of one activation list x one weight list on one PE (bank ids must be < 64).

    The banks hit at least once, twice, three and four times in a step are tracked as bit sets (no
    branch per product): per product, or, when `use_levels`, per activation from `levels`
    (`_bank_levels` of this weight list), merged as saturating counters; `_queue_step` turns them into
    the step's cycles under the accumulator model (`cap` = FIFO depth + 1, `queue` the PE's FIFOs,
    carried from list to list). A step where a bank is hit four times or more is recounted exactly.
    With a merging accumulator, a weight vector holding one output channel twice (`dup`) goes product
    by product (`_merged_step`). Activations on the window's edge (not interior) test every product.
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
            if accumulator == MERGING and dup[v]:
                most, merged = _merged_step(
                    a_yq, a_xq, a_code, a_in, ia, ia1, w_k, w_rq, w_sq, w_code, fw, fw1,
                    oy0, oy1, out_w, banks, hits, keys,
                )  # fmt: skip
                stats[STAT_MERGED] += merged
                cycles += max(1, most)
                continue
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
                most = _most_in_one_bank(
                    a_yq, a_xq, a_code, a_in, ia, ia1, w_rq, w_sq, w_code, fw, fw1, oy0, oy1, out_w,
                    banks, hits,
                )  # fmt: skip
                cycles += most if cap == 1 else _queue_step_exact(hits, l1, queue, cap, n_banks)
            else:
                cycles += _queue_step(l1, l2, l3, queue, cap, sums)
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
    accumulator: int = LOCKSTEP,
    depth: int = 0,
    drain_each_channel: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every PE of every output-channel group of a layer.

    Returns (busy int64[groups, pes]: compute cycles of each PE in each group; strict int64[groups]:
    the group's cycles under a barrier after every input channel; stats int64[N_STATS]).
    `accumulator` (LOCKSTEP, QUEUED with FIFOs of `depth` products, MERGING) says how banks take a
    step's products. QUEUED FIFOs carry over from channel to channel and empty at the end of the group
    (busy includes the drain; strict adds the slowest PE's), or, with `drain_each_channel`, at the end of
    every input channel (a barrier after each). With `products` false no product is examined: each
    step costs one cycle (a dense array with a conflict-free accumulator) and STAT_VALID stays 0.
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
    n_banks = table.max() + 1 if table.shape[0] else 1  # bank ids are below this
    examined = products and conflicts
    cap = depth + 1 if accumulator == QUEUED and examined else 1
    merging = accumulator == MERGING and examined
    for g in prange(n_og):
        hits = np.zeros(64, dtype=np.int64)
        levels = np.zeros((phases, max_wv if examined else 1, 32, 4), dtype=np.int64)
        queue = np.zeros((pes, max(1, cap - 1)), dtype=np.int64)
        sums = np.zeros(cap + 4, dtype=np.int64)
        dups = np.zeros((phases, max_wv if merging else 1), dtype=np.bool_)
        keys = np.zeros((f * i, 4), dtype=np.int64)
        stats = per_group[g]
        band = og_band[g]
        wg = og_wgroup[g]
        for cl in range(chans_per_group):
            c = og_chan0[g] + cl
            widest = 0
            c_key = (band * channels + c) * pes * phases
            use_levels = examined and a_ptr[c_key + pes * phases] - a_ptr[c_key] >= TABLE_MIN_ACTS
            for ph in range(phases):
                wi = (wg * chans_per_group + cl) * phases + ph
                if use_levels:
                    _bank_levels(w_code, w_ptr[wi], w_ptr[wi + 1], f, onehot, levels[ph])
                if merging:
                    _repeated_k(w_k, w_ptr[wi], w_ptr[wi + 1], f, dups[ph])
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
                            a_yq, a_xq, a_code, a_in, a0, a1, w_k, w_rq, w_sq, w_code, w0, w1,
                            og_oy0[g], og_oy1[g], out_w, f, i, onehot, banks, conflicts,
                            levels[ph], use_levels, hits, accumulator, cap, n_banks, queue[p], sums,
                            dups[ph], keys, stats,
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
                if drain_each_channel and cap > 1:
                    drained = _drain(queue[p], cap)
                    stats[STAT_DRAIN] += drained
                    pe_cycles += drained
                busy[g, p] += pe_cycles
                if pe_cycles > widest:
                    widest = pe_cycles
            strict[g] += widest
        if cap > 1 and not drain_each_channel:
            slowest = 0
            for p in range(pes):
                drained = _drain(queue[p], cap)
                stats[STAT_DRAIN] += drained
                busy[g, p] += drained
                slowest = max(slowest, drained)
            strict[g] += slowest
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
    placeholder every max_run + 1 positions ([SCNN17 §III]). Trailing zeros of a block cost nothing.
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
