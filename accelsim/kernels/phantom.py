"""Exact cycle counts of Phantom cores: the look-ahead thread scheduler over binary operand masks.

A Phantom core has P PEs of T multiplier threads ([MUNIR23]). Each PE walks a *strip*: a
sequence of work groups, one per output of the strip, each group being the valid products (weight
mask AND activation mask) of one reduction row with one input window ([MUNIR23]). Per cycle the thread
dispatcher (TDS) admits, in output order, every group of the first W pending groups that fits in the
threads still free (first fit; groups are atomic unless `split`), so outputs complete out of order
([MUNIR23], [MUNIR23]). Groups with no valid product are dropped by the look-ahead mask unit (LAM) when the
strip is loaded: they use no thread, no adder slot and no window place. Three exact schedulers
share one contract (and the hypothesis tests): a closed form when all groups have one size, a
W-slot array for a bounded window, and per-size queues for an unbounded one or `split` groups.

A core item (one output strip accumulated over all reduction rows) is a sequence of strips, one
per reduction row, dealt to the PEs in *steps* of P. `fixed` dispatch deals every row (row m runs on
PE m % P in step m // P, an all-zero weight row included); `compact` first drops the rows whose held
operand is all zero (known when the weights are loaded); `dynamic` drops them too and gives each strip
to whichever PE frees first. The output buffer keeps the tags of R + 1 steps (R = run-ahead): a strip
may start once every strip R + 1 or more steps before its own has finished (R = 0: every PE waits for
the slowest at each step; unbounded: only the item's end is a barrier).

Reduction rows and input windows arrive as bit codes (int64, at most 63 bits): `wcodes[k, q, i]`
is filter k's mask over reduction row (q, i) and `acodes[ch, x, y]` the activation mask of the
input window that row meets at output column x and padded input row y. The dataflow builds them
(conv: a kernel row against S input columns; pointwise / FC: T channels against one pixel; a walk
over output neurons swaps the roles: the held activation chunk is the "weight" code, each neuron's
weight chunk the walked one).

`accelsim.kernels.reference.phantom` steps the same core cycle by cycle in plain Python.
"""

from __future__ import annotations

import numpy as np
from numba import njit

UNBOUNDED = 0
"""Window value meaning an unbounded look-ahead (every pending group of the strip is visible)."""

AHEAD_UNBOUNDED = -1
"""Run-ahead value meaning no bound (a PE waits only at the end of the core item)."""

DISPATCH_FIXED = 0
DISPATCH_COMPACT = 1
DISPATCH_DYNAMIC = 2
"""How an item's reduction rows reach the PEs (`layer_items`, `core_trace`)."""

STAT_PE_BUSY = 0
STAT_OUT_OF_ORDER = 1
STAT_GROUPS = 2
STAT_SIZE = 3
STAT_UNMAPPED = 4
STAT_DEALT = 5
STAT_STEPS = 6
STAT_EXAMINED = 7
N_STATS = 8
"""Indices of the per-layer statistics returned by `layer_items`: PE busy cycles (cycles a PE issued
at least one product), groups issued before an earlier group of the same strip, non-empty groups,
core items, PE-cycles the mapping leaves without work (`item_schedule`), reduction rows dealt to PEs,
steps (ceil(dealt / P) per item) and work groups the LAM examined (those of every dealt row)."""


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
def item_schedule(
    strip_cycles: np.ndarray,
    n: int,
    pes: int,
    run_ahead: int,
    dynamic: bool,
    start: np.ndarray,
    owner: np.ndarray,
    free: np.ndarray,
    settled: np.ndarray,
) -> tuple[int, int]:
    """(cycles, unmapped PE-cycles) of a core item whose `n` strips, in dispatch order, take
    `strip_cycles[:n]`; writes each strip's start cycle and PE into `start` and `owner`.

    Strip j belongs to step j // P. It may start once every strip of steps s - R - 1 and earlier
    has finished (R = `run_ahead`; AHEAD_UNBOUNDED: never waits). Static dispatch runs strip j on
    PE j % P; dynamic dispatch on the PE that frees first (the lowest index among those free when the
    strip may start). Unmapped: a PE that runs no strip of the last step, from the end of its last
    strip (0 if none) to the end of the item. `free` (>= P) and `settled` (>= steps) are scratch.
    """
    if n == 0:
        return 0, 0
    free[:pes] = 0
    steps = (n + pes - 1) // pes
    done = 0  # latest finish of the current step
    for j in range(n):
        s = j // pes
        gate = 0
        if run_ahead != AHEAD_UNBOUNDED and s - run_ahead - 1 >= 0:
            gate = settled[s - run_ahead - 1]
        if dynamic:
            t = max(np.min(free[:pes]), gate)
            p = 0
            while free[p] > t:
                p += 1
        else:
            p = j % pes
            t = max(free[p], gate)
        start[j] = t
        owner[j] = p
        free[p] = t + strip_cycles[j]
        done = max(done, free[p])
        if j == n - 1 or (j + 1) % pes == 0:
            settled[s] = max(done, settled[s - 1]) if s > 0 else done  # every step <= s finished
            done = 0
    cycles = int(np.max(free[:pes]))
    unmapped = 0
    last = (steps - 1) * pes
    for p in range(pes):
        in_last = False
        for j in range(last, n):
            in_last = in_last or owner[j] == p
        if not in_last:
            unmapped += cycles - free[p]
    return cycles, unmapped


@njit(cache=True)
def core_trace(
    sizes: np.ndarray,
    held_zero: np.ndarray,
    threads: int,
    window: int,
    split: bool,
    pes: int,
    run_ahead: int,
    dispatch: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """One core item given explicit group sizes (reduction rows x groups): the trace mode of the kernel.

    `held_zero[m]` marks a row whose held operand (the weight row) is all zero; `compact` and `dynamic`
    dispatch drop it. Returns (issue cycle of every group within its strip, cycles of each row's strip,
    start cycle, PE) per row (-1 for a dropped row) and the item's (cycles, unmapped PE-cycles).
    """
    rows, n = sizes.shape
    issue = np.zeros((rows, n), dtype=np.int64)
    cycles = np.zeros(rows, dtype=np.int64)
    start = np.full(rows, -1, dtype=np.int64)
    owner = np.full(rows, -1, dtype=np.int64)
    dealt = np.zeros(rows, dtype=np.int64)
    strip = np.zeros(rows, dtype=np.int64)
    row_issue = np.zeros(n, dtype=np.int64)
    count = 0
    for m in range(rows):
        cycles[m] = schedule_strip(sizes[m], threads, window, split, row_issue)
        issue[m] = row_issue
        if dispatch == DISPATCH_FIXED or not held_zero[m]:
            dealt[count] = m
            strip[count] = cycles[m]
            count += 1
    at = np.zeros(max(count, 1), dtype=np.int64)
    pe = np.zeros(max(count, 1), dtype=np.int64)
    total, unmapped = item_schedule(
        strip, count, pes, run_ahead, dispatch == DISPATCH_DYNAMIC, at, pe,
        np.zeros(pes, dtype=np.int64), np.zeros(max(count, 1), dtype=np.int64),
    )  # fmt: skip
    for j in range(count):
        start[dealt[j]] = at[j]
        owner[dealt[j]] = pe[j]
    return issue, cycles, start, owner, total, unmapped


@njit(cache=True)
def queue_makespan(durations: np.ndarray, units: int) -> int:
    """Makespan of jobs pulled in order from a shared queue by `units` identical units, each job going
    to the unit that frees first (list scheduling; ties do not change the makespan)."""
    free = np.zeros(units, dtype=np.int64)
    for d in durations:
        u = np.argmin(free)
        free[u] += d
    return int(np.max(free)) if durations.shape[0] else 0


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
    dispatch: int,
    run_ahead: int,
    strip_rows: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every core item of a layer: (cycles[k, x, strip], valid products[k, x, strip], stats[N_STATS]).

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
    cached = width <= 8
    n_codes = (1 << width) if cached else 1
    n_ch = acodes.shape[0] if cached else 1
    memo = np.full((n_ch, rows, out_w, n_strips, n_codes), -1, dtype=np.int64)
    memo_products = np.zeros((n_ch, rows, out_w, n_strips, n_codes), dtype=np.int64)
    memo_ooo = np.zeros((n_ch, rows, out_w, n_strips, n_codes), dtype=np.int64)
    memo_groups = np.zeros((n_ch, rows, out_w, n_strips, n_codes), dtype=np.int64)
    cycles = np.zeros((k_total, out_w, n_strips), dtype=np.int64)
    products = np.zeros((k_total, out_w, n_strips), dtype=np.int64)
    stats = np.zeros(N_STATS, dtype=np.int64)
    sizes = np.zeros(strip_rows * n_chunks, dtype=np.int64)
    issue = np.zeros(strip_rows * n_chunks, dtype=np.int64)
    nxt, prv, rem, queues, qbuf = _workspace(strip_rows * n_chunks, threads)
    strip = np.zeros(max(n_pairs, 1), dtype=np.int64)
    start = np.zeros(max(n_pairs, 1), dtype=np.int64)
    owner = np.zeros(max(n_pairs, 1), dtype=np.int64)
    free = np.zeros(pes, dtype=np.int64)
    settled = np.zeros(max(n_pairs, 1), dtype=np.int64)
    dynamic = dispatch == DISPATCH_DYNAMIC
    for k in range(k_total):
        group = k // k_per_group
        for x in range(out_w):
            for st in range(n_strips):
                oy0 = st * strip_rows
                oy1 = min(out_h, oy0 + strip_rows)
                total = 0
                dealt = 0
                for m in range(n_pairs):
                    q = m // rows
                    i = m - q * rows
                    ch = group * q_per_group + q
                    code = np.int64(wcodes[k, q, i])
                    if code == 0:
                        if dispatch == DISPATCH_FIXED:  # the row keeps its PE's slot in its step
                            strip[dealt] = 0
                            dealt += 1
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
                    strip[dealt] = cyc
                    dealt += 1
                    total += prod
                    stats[STAT_PE_BUSY] += cyc
                    stats[STAT_OUT_OF_ORDER] += ooo
                    stats[STAT_GROUPS] += ngroups
                cyc, unmapped = item_schedule(
                    strip, dealt, pes, run_ahead, dynamic, start, owner, free, settled
                )
                cycles[k, x, st] = cyc
                products[k, x, st] = total
                stats[STAT_UNMAPPED] += unmapped
                stats[STAT_DEALT] += dealt
                stats[STAT_STEPS] += (dealt + pes - 1) // pes
                stats[STAT_EXAMINED] += dealt * (oy1 - oy0) * n_chunks
    stats[STAT_SIZE] = k_total * out_w * n_strips
    return cycles, products, stats
