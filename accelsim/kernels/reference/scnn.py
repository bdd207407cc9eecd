"""Cycle-by-cycle model of SCNN's PEs and array, to hold the fast kernel and the dataflow honest.

Written for clarity, not speed. `run_pe` steps one PE: each Cartesian-product step sends its valid
products towards their accumulator banks; every cycle each bank's FIFO takes as many of them as it has
room for (one, the product its adder takes this cycle, without a FIFO) and each bank adds one product
into its entry; the next step fires in the cycle after the last of them got in. The accumulator models
are `lockstep` (no FIFO: a step lasts as long as its busiest bank), `queued` (FIFOs of `depth` products
that carry over from step to step; `drain` empties them) and `merging` (no FIFO; the products of a
step bound for one entry are added together first and cost the bank one access). Every cycle it also
counts the multiplier lanes that formed no product (the F x I lanes less the products of a step's first
cycle; all of them while the step waits): the slot partition's packing. `run_layer` walks the raw
masks with plain loops, assigns every activation to its band, PE tile and stride phase by the rules
of `accelsim.dataflows.scnn`, runs every PE of every output-channel group and applies the barrier.
`encode_entries` runs the zero-run encoder element by element.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

BankOf = Callable[[int, int, int], int]
"""(k, output x, output y) -> accumulator bank."""
ACCUMULATORS = ("lockstep", "queued", "merging")


@dataclass
class PeRun:
    """What one PE did on one activation list x one weight list."""

    cycles: int = 0
    issued: int = 0
    valid: int = 0
    conflict_cycles: int = 0
    """Cycles the array waited for a bank (or for room in a bank's FIFO) holding a step's products."""
    steps: int = 0
    packing_slots: int = 0
    """Lane-cycles in which a multiplier formed no product."""
    accesses: int = 0
    """Accumulator accesses: one per valid product, one per entry of a step when merging."""


def run_pe(
    acts: Sequence[tuple[int, int]],
    weights: Sequence[tuple[int, int, int]],
    f: int,
    i: int,
    stride: int,
    window: tuple[int, int, int],
    bank_of: BankOf | None,
    accumulator: str = "lockstep",
    depth: int = 0,
    fifos: dict[int, int] | None = None,
) -> PeRun:
    """Step one PE: acts are (y, x) padded coordinates, weights (k, r, s); window = (oy0, oy1, out_w).

    `bank_of` None models a conflict-free accumulator (every step takes one cycle). `fifos` (bank ->
    products waiting) is the PE's FIFO state with a `queued` accumulator of `depth`; it is updated.
    """
    if accumulator not in ACCUMULATORS:
        raise ValueError(f"accumulator must be one of {ACCUMULATORS}, got {accumulator!r}")
    oy0, oy1, out_w = window
    room = depth + 1 if accumulator == "queued" else 1
    fifos = {} if fifos is None else fifos
    run = PeRun()
    for a0 in range(0, len(acts), i):
        for w0 in range(0, len(weights), f):
            run.steps += 1
            formed = 0
            arriving: dict[int, list[tuple[int, int, int]]] = {}  # bank -> entries of the valid products
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
                    # a conflict-free accumulator (no bank_of) takes every product at once, unmerged
                    bank = -1 if bank_of is None else bank_of(k, ox, oy)
                    arriving.setdefault(bank, []).append((k, ox, oy))
            merge = accumulator == "merging" and bank_of is not None
            pending = {b: len(set(e)) if merge else len(e) for b, e in arriving.items()}
            run.accesses += sum(pending.values())
            if bank_of is None:
                pending.clear()
            step = 0
            while True:  # one cycle
                step += 1
                run.packing_slots += f * i - (formed if step == 1 else 0)
                for bank in list(pending):  # the crossbar: each FIFO takes what it has room for
                    take = min(pending[bank], room - fifos.get(bank, 0))
                    fifos[bank] = fifos.get(bank, 0) + take
                    pending[bank] -= take
                    if not pending[bank]:
                        del pending[bank]
                for bank in list(fifos):  # every bank adds one product (one entry) to its accumulator
                    fifos[bank] -= 1
                    if not fifos[bank]:
                        del fifos[bank]
                if not pending:
                    break
            run.cycles += step
            run.conflict_cycles += step - 1
    return run


def drain(fifos: dict[int, int]) -> int:
    """Cycles until every bank FIFO is empty (each bank adds one product a cycle); empties them."""
    cycles = max(fifos.values(), default=0)
    fifos.clear()
    return cycles


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
    accesses: int = 0
    drain_cycles: int = 0
    """Cycles PEs spent emptying their bank FIFOs after their last step (queued accumulator)."""


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
    accumulator: str = "lockstep",
    depth: int = 0,
    drain_each_channel: bool = False,
) -> LayerRun:
    """Every PE of every group of a layer, from nested-list masks weights[k][c/g][r][s], acts[c][h][w].

    `weight_order` "krs" streams a group's weights with s innermost, "rsk" with k innermost.
    A `queued` accumulator's FIFOs carry over from channel to channel and empty at the end of each
    group, or of each input channel with `drain_each_channel`; the PE is busy while they empty, and the
    strict time adds the slowest PE's last drain.
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
                fifos: list[dict[int, int]] = [{} for _ in range(pes)]
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
                            run = run_pe(
                                lists[pe], wl, f, i, stride, (o0, o1, out_w), bank_of, accumulator, depth,
                                fifos[pe],
                            )  # fmt: skip
                            per_pe[pe] += run.cycles
                            out.issued += run.issued
                            out.valid += run.valid
                            out.conflict_cycles += run.conflict_cycles
                            out.steps += run.steps
                            out.packing_slots += run.packing_slots
                            out.accesses += run.accesses
                    if drain_each_channel:
                        for pe in range(pes):
                            emptied = drain(fifos[pe])
                            per_pe[pe] += emptied
                            out.drain_cycles += emptied
                    for pe in range(pes):
                        busy[pe] += per_pe[pe]
                    strict += max(per_pe)
                last = [drain(q) for q in fifos]
                out.drain_cycles += sum(last)
                out.busy.append([b + d for b, d in zip(busy, last, strict=True)])
                out.strict.append(strict + max(last))
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
