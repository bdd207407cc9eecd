"""Cycle-by-cycle model of a Phantom core, written for clarity, to hold the fast kernel honest.

`run_core` steps one core item cycle by cycle: the reduction rows are dealt to the PEs (`fixed`:
row m on PE m % P; `compact`: the rows whose held operand is all zero dropped first; `dynamic`:
those dropped, and each strip taken by the lowest-numbered idle PE), every PE keeps the pending work
groups of its strip, the LAM shows the first W of them, the TDS admits those that fit (first fit,
atomic unless `split`), and the output buffer records, per output, which strips' contributions have
arrived ([MUNIR23]). A strip of step s may start once every strip of the steps up to
s - R - 1 has finished (R = run-ahead, None = unbounded). `layer_items_reference` builds every core
item of a layer straight from the boolean masks (no bit codes, no caching) and runs it through
`run_core`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from accelsim.workload.layer import Layer

Dispatch = Literal["fixed", "compact", "dynamic"]


@dataclass
class CoreRun:
    """What the reference observed for one core item."""

    cycles: int
    schedule: list[dict[int, list[tuple[int, int, int]]]] = field(default_factory=list)
    """Per cycle (index 0 = cycle 1): PE -> [(row, group, products issued this cycle)] in admission order."""
    issue: list[list[int]] = field(default_factory=list)
    """[row][group] -> cycle in which the group's last product was issued (0: empty, or row not dealt)."""
    strip_cycles: list[int] = field(default_factory=list)
    """[row] -> cycles a PE spent issuing products of that row's strip (0 if not dealt)."""
    strip_start: list[int] = field(default_factory=list)
    """[row] -> the cycle before the strip's first cycle (-1 = row not dealt)."""
    owner: list[int] = field(default_factory=list)
    """[row] -> the PE that ran the row's strip (-1 = not dealt)."""
    unmapped: int = 0
    """PE-cycles the mapping leaves without a row: a PE that runs no strip of the last step (a partial
    one), from the end of its last strip (or the start) to the end of the item."""
    busy: int = 0
    """PE-cycles in which a PE issued products."""
    ob_states: list[dict[tuple[int, int], str]] = field(default_factory=list)
    """After each cycle: (step, output) -> 'valid' (every strip of the step contributed), 'partial' or
    'empty'. Output o of a step is the o-th group position of its strips; an empty group counts as
    contributed once its strip has started."""


def run_core(
    strips: list[list[int]],
    pes: int,
    threads: int,
    window: int,
    split: bool,
    run_ahead: int | None = 0,
    dispatch: Dispatch = "fixed",
    held_zero: list[bool] | None = None,
) -> CoreRun:
    """Step a core item: `strips[m]` lists the valid products of each group of reduction row m.

    `held_zero[m]` marks a row whose held operand is all zero (its groups are all empty); `compact`
    and `dynamic` dispatch never deal it.
    """
    rows = len(strips)
    zero = held_zero if held_zero is not None else [False] * rows
    dealt = [m for m in range(rows) if dispatch == "fixed" or not zero[m]]
    n = len(dealt)
    run = CoreRun(cycles=0)
    run.issue = [[0] * len(s) for s in strips]
    run.strip_cycles = [0] * rows
    run.strip_start = [-1] * rows
    run.owner = [-1] * rows
    remaining = {m: list(strips[m]) for m in dealt}
    step_of = {m: j // pes for j, m in enumerate(dealt)}
    steps = -(-n // pes)
    finished: set[int] = set()
    holding: list[int | None] = [None] * pes  # the row each PE is working on
    own = [[m for j, m in enumerate(dealt) if j % pes == p] for p in range(pes)]  # static dispatch
    queue = list(dealt)  # dynamic dispatch
    received = [[False] * len(strips[m]) for m in range(rows)]
    last_end = [0] * pes
    cycle = 0

    def allowed(m: int) -> bool:
        need = step_of[m] - run_ahead - 1 if run_ahead is not None else -1
        return all(r in finished for r in dealt if step_of[r] <= need)

    def start(p: int, m: int) -> None:
        holding[p] = m
        run.owner[m] = p
        run.strip_start[m] = cycle
        for o, size in enumerate(strips[m]):
            if size == 0:
                received[m][o] = True
        if not any(remaining[m]):
            finish(p, m)

    def finish(p: int, m: int) -> None:
        finished.add(m)
        holding[p] = None
        last_end[p] = cycle

    def next_row(p: int) -> int | None:
        if dispatch == "dynamic":
            return queue[0] if queue else None
        return own[p][0] if own[p] else None

    def take(p: int, m: int) -> None:
        (queue if dispatch == "dynamic" else own[p]).pop(0)
        start(p, m)

    def advance() -> None:
        # Idle PEs take their next strip once it may start; an empty strip finishes as it starts.
        moved = True
        while moved:
            moved = False
            for p in range(pes):
                m = next_row(p)
                if holding[p] is None and m is not None and allowed(m):
                    take(p, m)
                    moved = True
                    break

    advance()
    while len(finished) < n:
        cycle += 1
        issued: dict[int, list[tuple[int, int, int]]] = {}
        for p in range(pes):
            m = holding[p]
            if m is None:
                continue
            rem = remaining[m]
            visible = [j for j, v in enumerate(rem) if v > 0]
            if window:
                visible = visible[:window]
            free = threads
            for j in visible:
                if free == 0:
                    break
                take_n = min(rem[j], free) if split else (rem[j] if rem[j] <= free else 0)
                if take_n == 0:
                    continue  # atomic group does not fit: skip it, look further ahead
                rem[j] -= take_n
                free -= take_n
                issued.setdefault(p, []).append((m, j, take_n))
                if rem[j] == 0:
                    run.issue[m][j] = cycle
                    received[m][j] = True
            run.strip_cycles[m] += 1
            run.busy += 1
        for p in range(pes):
            m = holding[p]
            if m is not None and not any(remaining[m]):
                finish(p, m)
        advance()  # starts (and finishes, if empty) the strips that may start now
        run.schedule.append(issued)
        run.ob_states.append(_ob_states(dealt, step_of, strips, received))
    run.cycles = cycle
    in_last = {run.owner[m] for m in dealt if step_of[m] == steps - 1}
    run.unmapped = sum(cycle - last_end[p] for p in range(pes) if p not in in_last)
    return run


def _ob_states(
    dealt: list[int], step_of: dict[int, int], strips: list[list[int]], received: list[list[bool]]
) -> dict[tuple[int, int], str]:
    """(step, output) -> valid / partial / empty from the contributions received so far."""
    by_step: dict[int, list[int]] = {}
    for m in dealt:
        by_step.setdefault(step_of[m], []).append(m)
    states = {}
    for s, members in by_step.items():
        for o in range(max(len(strips[m]) for m in members)):
            got = [received[m][o] for m in members if o < len(strips[m])]
            states[(s, o)] = "valid" if all(got) else ("partial" if any(got) else "empty")
    return states


@dataclass(frozen=True)
class ItemsReference:
    """Every core item of a layer as the reference sees it."""

    cycles: np.ndarray
    """int64[item rows, item columns], laid out as the dataflow's `LayerItems.cycles`."""
    products: np.ndarray
    """int64, the same layout."""
    unmapped: int
    """PE-cycles of all items without a reduction row (`CoreRun.unmapped`)."""
    busy: int
    """PE-cycles of all items in which a PE issued products (`CoreRun.busy`)."""


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


def weight_row_zero(layer: Layer, weights: np.ndarray, k: int, m: int, threads: int) -> bool:
    """True when filter k's reduction row m holds no non-zero weight."""
    if (layer.r, layer.s) == (1, 1):
        return not weights[k, m * threads : (m + 1) * threads, 0, 0].any()
    cc, i = divmod(m, layer.r)
    return not weights[k, cc, i, :].any()


@dataclass(frozen=True)
class CoreOptions:
    """The core's scheduling options, as `run_core` takes them."""

    threads: int
    pes: int
    window: int
    split: bool
    run_ahead: int | None
    dispatch: Dispatch


def layer_items_reference(
    layer: Layer, weights: np.ndarray, acts: np.ndarray, core: CoreOptions, strip_rows: int
) -> ItemsReference:
    """Every core item of `layer` (filter k, output column x, row strip), stepped by `run_core`."""
    rows = reduction_rows(layer, core.threads)
    strips = -(-layer.out_h // strip_rows)
    cycles = np.zeros((layer.k, layer.out_w * strips), dtype=np.int64)
    products = np.zeros_like(cycles)
    unmapped = busy = 0
    for k in range(layer.k):
        for x in range(layer.out_w):
            for st in range(strips):
                oy0, oy1 = st * strip_rows, min(layer.out_h, (st + 1) * strip_rows)
                sizes = [
                    strip_groups(layer, weights, acts, k, m, x, oy0, oy1, core.threads) for m in range(rows)
                ]
                zero = [weight_row_zero(layer, weights, k, m, core.threads) for m in range(rows)]
                run = _run(sizes, zero, core)
                cycles[k, x * strips + st] = run.cycles
                products[k, x * strips + st] = sum(sum(s) for s in sizes)
                unmapped += run.unmapped
                busy += run.busy
    return ItemsReference(cycles, products, unmapped, busy)


def neuron_items_reference(
    layer: Layer, weights: np.ndarray, acts: np.ndarray, core: CoreOptions, block: int
) -> ItemsReference:
    """Every core item of a 1 x 1 layer whose strips walk the output neurons: (group g, block b of
    `block` neurons of g) at output pixel (y, x); reduction row q holds the pixel's T-channel
    activation chunk q, and its group for neuron n has the valid products of n's weights with it.
    Items are laid out [g * blocks + b, y * out_w + x]."""
    cg, kg = layer.c_per_group, layer.k_per_group
    rows = -(-cg // core.threads)
    blocks = -(-kg // block)
    pixels = layer.out_h * layer.out_w
    cycles = np.zeros((layer.groups * blocks, pixels), dtype=np.int64)
    products = np.zeros_like(cycles)
    unmapped = busy = 0
    for g in range(layer.groups):
        for b in range(blocks):
            neurons = range(g * kg + b * block, g * kg + min(kg, (b + 1) * block))
            for y in range(layer.out_h):
                for x in range(layer.out_w):
                    yy, xx = y * layer.stride - layer.pad, x * layer.stride - layer.pad
                    inside = 0 <= yy < layer.h and 0 <= xx < layer.w
                    chunk = [
                        [g * cg + c for c in range(q * core.threads, min(cg, (q + 1) * core.threads))]
                        for q in range(rows)
                    ]
                    held = [[bool(inside and acts[c, yy, xx]) for c in cs] for cs in chunk]
                    sizes = [
                        [
                            sum(
                                int(h and weights[n, c - g * cg, 0, 0])
                                for h, c in zip(held[q], chunk[q], strict=True)
                            )
                            for n in neurons
                        ]
                        for q in range(rows)
                    ]
                    run = _run(sizes, [not any(h) for h in held], core)
                    cycles[g * blocks + b, y * layer.out_w + x] = run.cycles
                    products[g * blocks + b, y * layer.out_w + x] = sum(sum(s) for s in sizes)
                    unmapped += run.unmapped
                    busy += run.busy
    return ItemsReference(cycles, products, unmapped, busy)


def _run(sizes: list[list[int]], zero: list[bool], core: CoreOptions) -> CoreRun:
    return run_core(
        sizes, core.pes, core.threads, core.window, core.split, core.run_ahead, core.dispatch, zero
    )
