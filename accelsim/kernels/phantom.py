"""Exact cycle counts of Phantom cores: the look-ahead thread scheduler over binary operand masks.

A Phantom core has P PEs of T multiplier threads (REFERENCE §5.4). Each PE walks a *strip*: a
sequence of work groups, one per output of the strip, each group being the valid products (weight
mask AND activation mask) of one reduction row with one input window (§5.5). Per cycle the thread
dispatcher (TDS) admits, in output order, every group of the first W pending groups that fits in the
threads still free (first fit; groups are atomic unless `split`), so outputs complete out of order
(§5.6, §5.9). Groups with no valid product are dropped by the look-ahead mask unit (LAM) when the
strip is loaded: they use no thread, no adder slot and no window place. Three exact schedulers
share one contract (and the hypothesis tests): a closed form when all groups have one size, a
W-slot array for a bounded window, and per-size queues for an unbounded one or `split` groups.

A core item (one output strip accumulated over all reduction rows) is a sequence of *steps*; in
step s, PE p runs the strip of reduction row s * P + p. Without next-tile prefetch every PE waits
for the slowest at the end of a step; with it a PE starts its next strip as soon as it drains, at
most one step ahead of the slowest PE (the output buffer keeps the tags of two steps).

Reduction rows and input windows arrive as bit codes (int64, at most 63 bits): `wcodes[k, q, i]`
is filter k's mask over reduction row (q, i) and `acodes[ch, x, y]` the activation mask of the
input window that row meets at output column x and padded input row y. The dataflow builds them
(conv: a kernel row against S input columns; pointwise / FC: T channels against one pixel).

`accelsim.kernels.reference.phantom` steps the same core cycle by cycle in plain Python.
"""

from __future__ import annotations

import numpy as np
from numba import njit

UNBOUNDED = 0
"""Window value meaning an unbounded look-ahead (every pending group of the strip is visible)."""

STAT_PE_BUSY = 0
STAT_OUT_OF_ORDER = 1
STAT_GROUPS = 2
STAT_SIZE = 3
STAT_UNMAPPED = 4
"""Indices of the per-layer statistics returned by `layer_items`: PE busy cycles (cycles a PE issued
at least one product), groups issued before an earlier group of the same strip, non-empty groups,
core items, and PE-cycles the mapping leaves without work (`step_schedule`)."""


@njit(cache=True)
def schedule_strip(sizes: np.ndarray, threads: int, window: int, split: bool, issue: np.ndarray) -> int:
    """Schedule one PE's strip; return its cycles and write each group's issue cycle into `issue`.

    `sizes[j]` is the number of valid products of group j (output order). `issue[j]` becomes the
    1-based cycle in which group j's last product is issued (0 for an empty group). `window` is W
    (UNBOUNDED = 0: no limit). Atomic groups must have at most `threads` products.
    """
    ws = _workspace(sizes.shape[0], threads)
    return _schedule(sizes, sizes.shape[0], threads, window, split, issue, ws[0], ws[1], ws[2], ws[3], ws[4])


@njit(cache=True)
def _workspace(n: int, threads: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scratch arrays of `_schedule` for strips of up to n groups: links, remainders, size queues."""
    return (
        np.empty(n + 1, dtype=np.int64),
        np.empty(max(n, 1), dtype=np.int64),
        np.empty(max(n, 1), dtype=np.int64),
        np.empty(3 * (threads + 2), dtype=np.int64),
        np.empty(max(n, 1), dtype=np.int64),
    )


@njit(cache=True)
def _schedule(
    sizes: np.ndarray,
    n: int,
    threads: int,
    window: int,
    split: bool,
    issue: np.ndarray,
    nxt: np.ndarray,
    prv: np.ndarray,
    rem: np.ndarray,
    queues: np.ndarray,
    qbuf: np.ndarray,
) -> int:
    # Pending non-empty groups form a linked list (nxt[n] is its head) in output order.
    nxt[n] = -1
    last = n
    pending = 0
    for j in range(n):
        issue[j] = 0
        if sizes[j] > 0:
            if not split and sizes[j] > threads:
                raise ValueError("an atomic group has more products than threads")
            nxt[last] = j
            prv[j] = last
            last = j
            rem[j] = sizes[j]
            pending += 1
    nxt[last] = -1
    if pending == 0:
        return 0
    uniform = _uniform_size(sizes, n)
    if uniform > 0 and (uniform == 1 or not split):
        # Every group has the same size v: each cycle admits min(W, T // v) groups, in order.
        per_cycle = threads // uniform
        if window != UNBOUNDED:
            per_cycle = min(per_cycle, window)
        admitted = 0
        for j in range(n):
            if sizes[j] > 0:
                issue[j] = admitted // per_cycle + 1
                admitted += 1
        return (pending + per_cycle - 1) // per_cycle
    if not split and window != UNBOUNDED:
        return _schedule_window(sizes, n, threads, window, issue, rem, qbuf)
    # Atomic mode: per-size FIFO queues of pending groups; the first-fit walk always admits the
    # earliest fitting group, which is the head of its size's queue. Queue v is
    # qbuf[qstart[v] : qstart[v + 1]], its head at qhead[v].
    qstart = queues[: threads + 2]
    qhead = queues[threads + 2 : 2 * threads + 4]
    fill = queues[2 * threads + 4 :]
    if not split:
        qstart[:] = 0
        for j in range(n):
            if sizes[j] > 0:
                qstart[sizes[j] + 1] += 1
        for v in range(1, threads + 2):
            qstart[v] += qstart[v - 1]
        for v in range(threads + 2):
            fill[v] = qstart[v]
            qhead[v] = qstart[v]
        for j in range(n):
            if sizes[j] > 0:
                qbuf[fill[sizes[j]]] = j
                fill[sizes[j]] += 1
    cycle = 0
    while pending > 0:
        cycle += 1
        free = threads
        if split:
            node = nxt[n]
            seen = 0
            while node != -1 and free > 0 and (window == UNBOUNDED or seen < window):
                seen += 1
                following = nxt[node]
                take = min(rem[node], free)
                rem[node] -= take
                free -= take
                if rem[node] == 0:
                    issue[node] = cycle
                    nxt[prv[node]] = following
                    if following != -1:
                        prv[following] = prv[node]
                    pending -= 1
                node = following
            continue
        bound = n  # groups with an index below `bound` are inside the window
        if window != UNBOUNDED:
            node = nxt[n]
            seen = 1
            while seen < window and nxt[node] != -1:
                node = nxt[node]
                seen += 1
            bound = node + 1
        while free > 0:
            best = -1
            best_size = 0
            for v in range(1, free + 1):
                if qhead[v] < qstart[v + 1]:
                    j = qbuf[qhead[v]]
                    if j < bound and (best == -1 or j < best):
                        best = j
                        best_size = v
            if best == -1:
                break
            qhead[best_size] += 1
            issue[best] = cycle
            following = nxt[best]
            nxt[prv[best]] = following
            if following != -1:
                prv[following] = prv[best]
            free -= best_size
            pending -= 1
    return cycle


@njit(cache=True)
def _uniform_size(sizes: np.ndarray, n: int) -> int:
    """The common size of the non-empty groups, or 0 if they differ."""
    v = 0
    for j in range(n):
        if sizes[j] > 0:
            if v == 0:
                v = sizes[j]
            elif sizes[j] != v:
                return 0
    return v


@njit(cache=True)
def _schedule_window(
    sizes: np.ndarray,
    n: int,
    threads: int,
    window: int,
    issue: np.ndarray,
    slot: np.ndarray,
    slot_size: np.ndarray,
) -> int:
    """Atomic groups, bounded window: the window is kept as an array of the first W pending groups."""
    count = 0
    following = 0
    while count < window and following < n:
        if sizes[following] > 0:
            slot[count] = following
            slot_size[count] = sizes[following]
            count += 1
        following += 1
    cycle = 0
    while count > 0:
        cycle += 1
        free = threads
        keep = 0
        for e in range(count):
            if slot_size[e] <= free:
                free -= slot_size[e]
                issue[slot[e]] = cycle
            else:
                slot[keep] = slot[e]
                slot_size[keep] = slot_size[e]
                keep += 1
        count = keep
        while count < window and following < n:
            if sizes[following] > 0:
                slot[count] = following
                slot_size[count] = sizes[following]
                count += 1
            following += 1
    return cycle


@njit(cache=True)
def out_of_order(sizes: np.ndarray, issue: np.ndarray) -> int:
    """Non-empty groups issued in an earlier cycle than some earlier group of the same strip."""
    count = 0
    latest = 0
    for j in range(sizes.shape[0]):
        if sizes[j] > 0:
            if issue[j] < latest:
                count += 1
            latest = max(latest, issue[j])
    return count


@njit(cache=True)
def step_cycles(strip_cycles: np.ndarray, prefetch: bool) -> int:
    """Cycles of a core item from its strips' cycles (steps x PEs) and the step synchronisation rule."""
    return step_schedule(strip_cycles, prefetch, strip_cycles.shape[1])[0]


@njit(cache=True)
def step_schedule(strip_cycles: np.ndarray, prefetch: bool, mapped_last: int) -> tuple[int, int]:
    """(cycles, unmapped PE-cycles) of a core item of strips' cycles (steps x PEs).

    The first `mapped_last` PEs hold a reduction row in the last step, the others none: from the end
    of such a PE's last strip to the end of the item, the mapping leaves it without work.
    """
    steps, pes = strip_cycles.shape
    finish = np.zeros(pes, dtype=np.int64)
    worked = np.zeros(pes, dtype=np.int64)  # each PE's finish before the last step
    before_last = 0  # max finish after step s - 2
    last = 0  # max finish after step s - 1
    for s in range(steps):
        if s == steps - 1:
            worked[:] = finish
        top = 0
        for p in range(pes):
            start = max(finish[p], before_last) if prefetch else last
            finish[p] = start + strip_cycles[s, p]
            top = max(top, finish[p])
        before_last = last
        last = top
    unmapped = 0
    for p in range(mapped_last, pes):
        unmapped += last - worked[p]
    return last, unmapped


@njit(cache=True)
def core_cycles(sizes: np.ndarray, threads: int, window: int, split: bool, prefetch: bool) -> np.ndarray:
    """One core item given explicit group sizes (steps, PEs, groups): the trace mode of the kernel.

    Returns int64[steps, PEs, groups + 1]: the issue cycle of every group within its strip (as
    `schedule_strip`), and in the last slot the strip's cycles. `step_cycles` of the last slots gives
    the item's cycles.
    """
    steps, pes, n = sizes.shape
    out = np.zeros((steps, pes, n + 1), dtype=np.int64)
    issue = np.zeros(n, dtype=np.int64)
    for s in range(steps):
        for p in range(pes):
            out[s, p, n] = schedule_strip(sizes[s, p], threads, window, split, issue)
            out[s, p, :n] = issue
    return out


@njit(cache=True)
def _popcount(x: np.int64) -> int:
    count = 0
    while x:
        x &= x - 1
        count += 1
    return count


@njit(cache=True)
def _strip(
    acodes: np.ndarray,
    ch: int,
    i: int,
    x: int,
    code: np.int64,
    oy0: int,
    oy1: int,
    stride: int,
    chunks: np.ndarray,
    sizes: np.ndarray,
) -> int:
    """Fill `sizes` with the group sizes of one strip (outputs oy0..oy1-1, sub-groups of each row's
    column chunks in order); return the number of groups."""
    n = 0
    for oy in range(oy0, oy1):
        both = code & np.int64(acodes[ch, x, oy * stride + i])
        for c in range(chunks.shape[0]):
            sizes[n] = _popcount(both & chunks[c])
            n += 1
    return n


@njit(cache=True)
def layer_items(
    acodes: np.ndarray,
    wcodes: np.ndarray,
    k_per_group: int,
    stride: int,
    out_h: int,
    width: int,
    threads: int,
    pes: int,
    window: int,
    split: bool,
    prefetch: bool,
    strip_rows: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every core item of a layer: (cycles[k, x, strip], valid products[k, x, strip], stats int64[5]).

    An item is filter k's outputs in output column x and output rows strip * strip_rows onwards,
    accumulated over all reduction rows of k's group. Strip schedules depend only on (input
    channel, kernel row, column, strip, weight code), so they are computed once per distinct
    combination and shared by every filter that has the same weight row (a cache when width <= 8).
    """
    k_total, q_per_group, rows = wcodes.shape
    out_w = acodes.shape[1]
    n_strips = (out_h + strip_rows - 1) // strip_rows
    n_chunks = (width + threads - 1) // threads
    chunks = np.zeros(n_chunks, dtype=np.int64)
    for c in range(n_chunks):
        for b in range(c * threads, min(width, (c + 1) * threads)):
            chunks[c] |= np.int64(1) << b
    n_pairs = q_per_group * rows
    steps = (n_pairs + pes - 1) // pes
    mapped_last = n_pairs - (steps - 1) * pes
    cached = width <= 8
    n_codes = (1 << width) if cached else 1
    n_ch = acodes.shape[0] if cached else 1
    memo = np.full((n_ch, rows, out_w, n_strips, n_codes), -1, dtype=np.int64)
    memo_products = np.zeros((n_ch, rows, out_w, n_strips, n_codes), dtype=np.int64)
    memo_ooo = np.zeros((n_ch, rows, out_w, n_strips, n_codes), dtype=np.int64)
    memo_groups = np.zeros((n_ch, rows, out_w, n_strips, n_codes), dtype=np.int64)
    cycles = np.zeros((k_total, out_w, n_strips), dtype=np.int64)
    products = np.zeros((k_total, out_w, n_strips), dtype=np.int64)
    stats = np.zeros(5, dtype=np.int64)
    sizes = np.zeros(strip_rows * n_chunks, dtype=np.int64)
    issue = np.zeros(strip_rows * n_chunks, dtype=np.int64)
    nxt, prv, rem, queues, qbuf = _workspace(strip_rows * n_chunks, threads)
    grid = np.zeros((steps, pes), dtype=np.int64)
    for k in range(k_total):
        group = k // k_per_group
        for x in range(out_w):
            for st in range(n_strips):
                oy0 = st * strip_rows
                oy1 = min(out_h, oy0 + strip_rows)
                grid[:, :] = 0
                total = 0
                for m in range(n_pairs):
                    q = m // rows
                    i = m - q * rows
                    ch = group * q_per_group + q
                    code = np.int64(wcodes[k, q, i])
                    if code == 0:
                        continue
                    if cached and memo[ch, i, x, st, code] >= 0:
                        cyc = memo[ch, i, x, st, code]
                        prod = memo_products[ch, i, x, st, code]
                        ooo = memo_ooo[ch, i, x, st, code]
                        ngroups = memo_groups[ch, i, x, st, code]
                    else:
                        n = _strip(acodes, ch, i, x, code, oy0, oy1, stride, chunks, sizes)
                        cyc = _schedule(sizes, n, threads, window, split, issue, nxt, prv, rem, queues, qbuf)
                        ooo = out_of_order(sizes[:n], issue[:n])
                        prod = 0
                        ngroups = 0
                        for j in range(n):
                            prod += sizes[j]
                            if sizes[j] > 0:
                                ngroups += 1
                        if cached:
                            memo[ch, i, x, st, code] = cyc
                            memo_products[ch, i, x, st, code] = prod
                            memo_ooo[ch, i, x, st, code] = ooo
                            memo_groups[ch, i, x, st, code] = ngroups
                    grid[m // pes, m % pes] = cyc
                    total += prod
                    stats[STAT_PE_BUSY] += cyc
                    stats[STAT_OUT_OF_ORDER] += ooo
                    stats[STAT_GROUPS] += ngroups
                cyc, unmapped = step_schedule(grid, prefetch, mapped_last)
                cycles[k, x, st] = cyc
                products[k, x, st] = total
                stats[STAT_UNMAPPED] += unmapped
    stats[STAT_SIZE] = k_total * out_w * n_strips
    return cycles, products, stats
