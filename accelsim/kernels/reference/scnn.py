"""Cycle-by-cycle model of SCNN's PEs and array, to hold the fast kernel and the dataflow honest.

Written for clarity, not speed. `run_pe` steps one PE: each Cartesian-product step puts its valid
products into per-bank queues, and every cycle each accumulator bank retires one product; the next
step starts when every queue is empty. Every cycle it also counts the multiplier lanes that formed no
product (the F x I lanes less the products of a step's first cycle; all of them while a step waits
for a bank): the slot partition's packing. `run_layer` walks the raw masks with plain loops, assigns
every activation to its band, PE tile and stride phase by the rules of `accelsim.dataflows.scnn`,
runs every PE of every output-channel group and applies the barrier. `encode_entries` runs the
zero-run encoder element by element.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

BankOf = Callable[[int, int, int], int]
"""(k, output x, output y) -> accumulator bank."""


@dataclass
class PeRun:
    """What one PE did on one activation list x one weight list."""

    cycles: int = 0
    issued: int = 0
    valid: int = 0
    conflict_cycles: int = 0
    steps: int = 0
    packing_slots: int = 0
    """Lane-cycles in which a multiplier formed no product."""


def run_pe(
    acts: Sequence[tuple[int, int]],
    weights: Sequence[tuple[int, int, int]],
    f: int,
    i: int,
    stride: int,
    window: tuple[int, int, int],
    bank_of: BankOf | None,
) -> PeRun:
    """Step one PE: acts are (y, x) padded coordinates, weights (k, r, s); window = (oy0, oy1, out_w).

    `bank_of` None models a conflict-free accumulator (every step takes one cycle).
    """
    oy0, oy1, out_w = window
    run = PeRun()
    for a0 in range(0, len(acts), i):
        for w0 in range(0, len(weights), f):
            run.steps += 1
            formed = 0
            queues: dict[int, int] = {}
            for k, r, s in weights[w0 : w0 + f]:
                for y, x in acts[a0 : a0 + i]:
                    run.issued += 1
                    formed += 1
                    if (y - r) % stride or (x - s) % stride:
                        raise ValueError("a product of mismatched stride phases was formed")
                    oy, ox = (y - r) // stride, (x - s) // stride
                    if not (oy0 <= oy < oy1 and 0 <= ox < out_w):
                        continue  # lands outside the plane: discarded before the crossbar
                    run.valid += 1
                    bank = 0 if bank_of is None else bank_of(k, ox, oy)
                    queues[bank] = queues.get(bank, 0) + (1 if bank_of is not None else 0)
            step = 0
            while True:  # one cycle: the multipliers fire (first cycle), every bank retires one product
                step += 1
                run.packing_slots += f * i - (formed if step == 1 else 0)
                for bank in list(queues):
                    queues[bank] -= 1
                    if queues[bank] <= 0:
                        del queues[bank]
                if not queues:
                    break
            run.cycles += step
            run.conflict_cycles += step - 1
    return run


@dataclass
class LayerRun:
    """Per output-channel group: each PE's busy cycles and the strict (per-channel barrier) time."""

    busy: list[list[int]] = field(default_factory=list)
    strict: list[int] = field(default_factory=list)
    issued: int = 0
    valid: int = 0
    conflict_cycles: int = 0
    steps: int = 0
    packing_slots: int = 0


def run_layer(
    *,
    h: int,
    w: int,
    c: int,
    k: int,
    r: int,
    s: int,
    stride: int,
    pad: int,
    groups: int,
    fc: bool,
    weights: Sequence,
    acts: Sequence,
    pe_rows: int,
    pe_cols: int,
    f: int,
    i: int,
    kc: int,
    bands: Sequence[tuple[int, int]],
    bank_of: BankOf | None,
    weight_order: str = "krs",
) -> LayerRun:
    """Every PE of every group of a layer, from nested-list masks weights[k][c/g][r][s], acts[c][h][w].

    `weight_order` "krs" streams a group's weights with s innermost, "rsk" with k innermost.
    """
    if weight_order not in ("krs", "rsk"):
        raise ValueError(f"weight_order must be krs or rsk, got {weight_order!r}")
    out_w = (w + 2 * pad - s) // stride + 1
    cg, kpg, pes = c // groups, k // groups, pe_rows * pe_cols
    out = LayerRun()
    for o0, o1 in bands:
        th = math.ceil((o1 - o0) / pe_rows)
        tw = math.ceil(out_w / pe_cols)
        for g in range(groups):
            for k0 in range(0, kpg, kc):
                ks = range(k0, min(k0 + kc, kpg))
                busy = [0] * pes
                strict = 0
                for cl in range(cg):
                    ch = g * cg + cl
                    per_pe = [0] * pes
                    for phase in range(stride * stride):
                        py_ph, px_ph = divmod(phase, stride)
                        slots = [(kk, rr, ss) for kk in ks for rr in range(r) for ss in range(s)]
                        if weight_order == "rsk":
                            slots.sort(key=lambda t: (t[1], t[2], t[0]))
                        wl = [
                            (kk - k0, rr, ss)
                            for kk, rr, ss in slots
                            if weights[g * kpg + kk][cl][rr][ss]
                            and rr % stride == py_ph
                            and ss % stride == px_ph
                        ]
                        lists: list[list[tuple[int, int]]] = [[] for _ in range(pes)]
                        if fc:
                            if acts[ch][0][0]:
                                lists[ch // math.ceil(c / pes)].append((0, 0))
                        else:
                            for y in range(h):
                                for x in range(w):
                                    yp, xp = y + pad, x + pad
                                    if not acts[ch][y][x] or yp % stride != py_ph or xp % stride != px_ph:
                                        continue
                                    first_row = math.ceil((yp - r + 1) / stride)
                                    if first_row >= o1 or yp // stride < o0:
                                        continue  # reaches no output row of this band
                                    ay = min(max(y // stride, o0), o1 - 1)  # anchor: unpadded position
                                    ax = min(x // stride, out_w - 1)
                                    pe = ((ay - o0) // th) * pe_cols + ax // tw
                                    lists[pe].append((yp, xp))
                        for pe in range(pes):
                            if not lists[pe] or not wl:
                                continue
                            run = run_pe(lists[pe], wl, f, i, stride, (o0, o1, out_w), bank_of)
                            per_pe[pe] += run.cycles
                            out.issued += run.issued
                            out.valid += run.valid
                            out.conflict_cycles += run.conflict_cycles
                            out.steps += run.steps
                            out.packing_slots += run.packing_slots
                    for pe in range(pes):
                        busy[pe] += per_pe[pe]
                    strict += max(per_pe)
                out.busy.append(busy)
                out.strict.append(strict)
    return out


def encode_entries(values: Sequence[bool], max_run: int) -> int:
    """Entries the zero-run encoder writes for one block: every non-zero, and a zero placeholder
    whenever more than `max_run` zeros precede the next non-zero; trailing zeros are not written."""
    entries = 0
    run = 0
    for v in values:
        if not v:
            run += 1
            continue
        while run > max_run:  # the index cannot count this far: write a placeholder zero
            entries += 1
            run -= max_run + 1
        entries += 1
        run = 0
    return entries
