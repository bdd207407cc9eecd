"""Cycle-by-cycle model of a Phantom core, written for clarity, to hold the fast kernel honest.

`run_core` steps one core item cycle by cycle: every PE keeps its pending work groups, the LAM
shows the first W of them, the TDS admits those that fit (first fit, atomic unless `split`), and the
output buffer records, per output, which PEs' contributions have arrived (REFERENCE §5.6-§5.9).
`layer_items_reference` builds every core item of a layer straight from the boolean masks (no bit
codes, no caching) and runs it through `run_core`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accelsim.workload.layer import Layer


@dataclass
class CoreRun:
    """What the reference observed for one core item."""

    cycles: int
    schedule: list[dict[int, list[tuple[int, int, int]]]] = field(default_factory=list)
    """Per cycle (index 0 = cycle 1): PE -> [(step, group, products issued this cycle)] in admission order."""
    issue: list[list[list[int]]] = field(default_factory=list)
    """[step][pe][group] -> cycle in which the group's last product was issued (0 = empty group)."""
    strip_cycles: list[list[int]] = field(default_factory=list)
    """[step][pe] -> cycles the PE spent issuing products of that strip."""
    strip_start: list[list[int]] = field(default_factory=list)
    """[step][pe] -> the cycle before the strip's first cycle (issue cycles minus it are strip-relative)."""
    unmapped: int = 0
    """PE-cycles without a reduction row: a PE with no row in the last step, from the end of its last
    strip to the end of the item."""
    ob_states: list[dict[tuple[int, int], str]] = field(default_factory=list)
    """After each cycle: (step, output) -> 'valid' (all PEs contributed), 'partial' or 'empty'.
    Output o of a step is the o-th group position of every PE's strip; a PE without that position
    or with an empty group counts as contributed once it has started the step."""


def run_core(
    sizes: list[list[list[int]]],
    threads: int,
    window: int,
    split: bool,
    prefetch: bool,
    rows: int | None = None,
) -> CoreRun:
    """Step a core item: `sizes[step][pe]` lists the valid products of each group of that strip.

    `rows` reduction rows are dealt to the PEs in order (row m on step m // P, PE m % P); a (step, PE)
    beyond them holds no row. None: every (step, PE) holds one.
    """
    steps = len(sizes)
    pes = len(sizes[0]) if steps else 0
    run = CoreRun(cycles=0)
    if steps == 0:
        return run
    remaining = [[list(strip) for strip in step] for step in sizes]
    run.issue = [[[0] * len(strip) for strip in step] for step in sizes]
    run.strip_cycles = [[0] * pes for _ in range(steps)]
    run.strip_start = [[0] * pes for _ in range(steps)]
    current = [0] * pes  # the step each PE works on
    finished = [[False] * pes for _ in range(steps)]
    started = [[False] * pes for _ in range(steps)]
    received = [[[False] * pes for _ in range(max((len(s) for s in step), default=0))] for step in sizes]
    cycle = 0

    def allowed(step: int) -> bool:
        # A PE may work on `step` when every PE has finished step - 1 (no prefetch) or step - 2.
        need = step - (2 if prefetch else 1)
        return need < 0 or all(finished[need])

    def advance() -> None:
        # Start allowed steps; a strip without valid products finishes as soon as it starts.
        moved = True
        while moved:
            moved = False
            for p in range(pes):
                s = current[p]
                if s >= steps or not allowed(s):
                    continue
                if not started[s][p]:
                    started[s][p] = True
                    run.strip_start[s][p] = cycle
                    for o, size in enumerate(sizes[s][p]):
                        if size == 0:
                            received[s][o][p] = True
                    for o in range(len(sizes[s][p]), len(received[s])):
                        received[s][o][p] = True
                if all(v == 0 for v in remaining[s][p]):
                    finished[s][p] = True
                    current[p] += 1
                    moved = True

    advance()
    while any(c < steps for c in current):
        cycle += 1
        issued: dict[int, list[tuple[int, int, int]]] = {}
        for p in range(pes):
            s = current[p]
            if s >= steps or not allowed(s):
                continue
            rem = remaining[s][p]
            visible = [j for j, v in enumerate(rem) if v > 0]
            if window:
                visible = visible[:window]
            free = threads
            for j in visible:
                if free == 0:
                    break
                take = min(rem[j], free) if split else (rem[j] if rem[j] <= free else 0)
                if take == 0:
                    continue  # atomic group does not fit: skip it, look further ahead
                rem[j] -= take
                free -= take
                issued.setdefault(p, []).append((s, j, take))
                if rem[j] == 0:
                    run.issue[s][p][j] = cycle
                    received[s][j][p] = True
            run.strip_cycles[s][p] += 1
        for p in range(pes):
            s = current[p]
            if s < steps and started[s][p] and all(v == 0 for v in remaining[s][p]):
                finished[s][p] = True
                current[p] += 1
        advance()  # starts (and finishes, if empty) the strips that may start now
        run.schedule.append(issued)
        run.ob_states.append(
            {
                (s, o): "valid" if all(r) else ("partial" if any(r) else "empty")
                for s, outs in enumerate(received)
                for o, r in enumerate(outs)
            }
        )
    run.cycles = cycle
    last = steps - 1
    for p in range(pes):
        if rows is not None and last * pes + p >= rows:  # no row in the last step
            worked = run.strip_start[last - 1][p] + run.strip_cycles[last - 1][p] if last else 0
            run.unmapped += cycle - worked
    return run


@dataclass(frozen=True)
class ItemsReference:
    """Every core item of a layer as the reference sees it."""

    cycles: np.ndarray
    """int64[k, out_w, strips]."""
    products: np.ndarray
    """int64[k, out_w, strips]."""
    unmapped: int
    """PE-cycles of all items without a reduction row (`CoreRun.unmapped`)."""


def reduction_rows(layer: Layer, threads: int) -> int:
    """Reduction rows per filter: (input channels of a group) x kernel rows, or T-channel chunks for
    pointwise and FC layers."""
    if (layer.r, layer.s) == (1, 1):
        return -(-layer.c_per_group // threads)
    return layer.c_per_group * layer.r


def strip_groups(
    layer: Layer,
    weights: np.ndarray,
    acts: np.ndarray,
    k: int,
    m: int,
    x: int,
    oy0: int,
    oy1: int,
    threads: int,
) -> list[int]:
    """Group sizes of reduction row m of filter k over outputs (oy0..oy1-1, x), from raw masks."""
    g = k // layer.k_per_group
    sizes = []
    for oy in range(oy0, oy1):
        if (layer.r, layer.s) == (1, 1):
            c0 = m * threads
            count = 0
            for cc in range(c0, min(c0 + threads, layer.c_per_group)):
                y, xx = oy * layer.stride - layer.pad, x * layer.stride - layer.pad
                if 0 <= y < layer.h and 0 <= xx < layer.w:
                    count += int(weights[k, cc, 0, 0] and acts[g * layer.c_per_group + cc, y, xx])
            sizes.append(count)
            continue
        cc, i = divmod(m, layer.r)
        y = oy * layer.stride - layer.pad + i
        for j0 in range(0, layer.s, threads):  # rows wider than T: atomic sub-groups of <= T columns
            count = 0
            for j in range(j0, min(j0 + threads, layer.s)):
                xx = x * layer.stride - layer.pad + j
                if 0 <= y < layer.h and 0 <= xx < layer.w:
                    count += int(weights[k, cc, i, j] and acts[g * layer.c_per_group + cc, y, xx])
            sizes.append(count)
    return sizes


def layer_items_reference(
    layer: Layer,
    weights: np.ndarray,
    acts: np.ndarray,
    threads: int,
    pes: int,
    window: int,
    split: bool,
    prefetch: bool,
    strip_rows: int,
) -> ItemsReference:
    """Every core item of `layer` (filter k, output column x, row strip), stepped by `run_core`."""
    rows = reduction_rows(layer, threads)
    strips = -(-layer.out_h // strip_rows)
    cycles = np.zeros((layer.k, layer.out_w, strips), dtype=np.int64)
    products = np.zeros_like(cycles)
    steps = -(-rows // pes)
    unmapped = 0
    for k in range(layer.k):
        for x in range(layer.out_w):
            for st in range(strips):
                oy0, oy1 = st * strip_rows, min(layer.out_h, (st + 1) * strip_rows)
                sizes: list[list[list[int]]] = [[[] for _ in range(pes)] for _ in range(steps)]
                for m in range(rows):
                    sizes[m // pes][m % pes] = strip_groups(layer, weights, acts, k, m, x, oy0, oy1, threads)
                run = run_core(sizes, threads, window, split, prefetch, rows)
                cycles[k, x, st] = run.cycles
                products[k, x, st] = sum(sum(s) for step in sizes for s in step)
                unmapped += run.unmapped
    return ItemsReference(cycles, products, unmapped)
