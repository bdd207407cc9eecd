"""Cycle-by-cycle golden model of one layer on IMCE's computational sub-arrays (REFERENCE §9.5).

Every sub-array is a rows x cols grid of bits. Weight bit-planes sit in its top rows (filter f,
plane i at row f * m + i), the n activation bit-planes of the current (pixel, chunk) in its last n
rows. Each cycle every sub-array advances its current operation: a row write (t_write cycles), a
single-row read sense or a dual-row AND sense (t_and cycles). When a sense completes, its output
bits are really computed from the stored rows, counted (bit-count), shifted by i + j and added
into the output's partial sum, so the model produces the layer's numeric result, not only counts.
When the weight blocks outnumber the sub-arrays they take turns: round after round, each sub-array
writes its next block's weight rows and runs that block's pixels; the partial sum of an output whose
chunks fall in several rounds waits in the buffer in between (counted, the arithmetic is the same).
After the last operation the digital periphery finishes: an adder tree over the sensed columns, the
shift-and-add, an adder tree across column chunks and the quantiser, one cycle per level.

For the slot partition the model also counts, as it goes, the cycles each sub-array spends writing
rows, the sensed columns beyond a chunk's width, and the AND-sensed columns whose weight code and
activation code (all their planes in the array at the time of the sense) are both non-zero.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np


@dataclass
class _Op:
    kind: str  # "write", "read" or "and"
    cycles: int
    row: int = -1  # destination row (write) or activation row (read / and)
    bits: list[int] = field(default_factory=list)  # data of a write
    weight_row: int = -1  # the weight row of an AND
    weight_base: int = -1  # the first plane row of that weight's filter
    shift: int = 0
    width: int = 0  # columns of the chunk a sense reads
    target: tuple[str | int, ...] = ()  # ("out", k, p, q) or ("xsum", g, p, q); () for writes


@dataclass
class ReferenceRun:
    """What the golden model observed for one layer."""

    out: np.ndarray
    """Unsigned result (K, Ho, Wo): sum of 2^(i+j) bitcount(and(w_i, x_j))."""
    xsum: np.ndarray
    """Receptive-field sums (groups, Ho, Wo), from single-row senses of the activation planes."""
    signed_out: np.ndarray | None
    """2 out - (2^m - 1) xsum: the result for weights w' = 2 u - (2^m - 1) (None if not signed)."""
    counts: dict[str, int]
    busy: list[int]
    """Cycles each sub-array spent on an operation."""
    written: list[int]
    """Of those, the cycles each sub-array spent writing rows."""
    unused_lane_senses: int
    """Columns of a sub-array a sense drives beyond the chunk's width (cols - width per sense)."""
    effectual_lane_senses: int
    """AND-sensed columns whose weight and activation codes are both non-zero."""
    cycles: int
    """Cycles until the last quantised output leaves the periphery."""
    rounds: int
    """Rounds of weight blocks (1 when every block has a sub-array)."""


def _im2col(
    x: np.ndarray, g: int, cg: int, oy: int, ox: int, r: int, s: int, stride: int, pad: int
) -> list[int]:
    h, w = x.shape[1], x.shape[2]
    vec = []
    for c in range(cg):
        for dy in range(r):
            for dx in range(s):
                iy, ix = oy * stride - pad + dy, ox * stride - pad + dx
                vec.append(int(x[g * cg + c, iy, ix]) if 0 <= iy < h and 0 <= ix < w else 0)
    return vec


def _tree_levels(leaves: int) -> int:
    """Levels of a pairwise adder tree reducing `leaves` values to one (a 1-leaf tree still latches once
    when reducing columns; callers add their own register stages)."""
    levels = 0
    while leaves > 1:
        leaves = (leaves + 1) // 2
        levels += 1
    return levels


def run_layer(
    x: np.ndarray,
    w: np.ndarray,
    m: int,
    n: int,
    *,
    stride: int = 1,
    pad: int = 0,
    groups: int = 1,
    rows: int,
    cols: int,
    subarrays: int,
    t_and: int = 1,
    t_write: int = 1,
    signed: bool = True,
    load_weights: bool = False,
) -> ReferenceRun:
    """Run a conv layer (x codes (C, H, W) < 2^n, w codes (K, C/groups, R, S) < 2^m) step by step."""
    k, cg, r, s = w.shape
    h, wd = x.shape[1], x.shape[2]
    ho, wo = (h + 2 * pad - r) // stride + 1, (wd + 2 * pad - s) // stride + 1
    kg, length, pixels = k // groups, cg * r * s, ho * wo
    f = min(kg, (rows - n) // m)
    if f < 1:
        raise ValueError(f"a {rows}-row sub-array cannot hold one {m}-bit filter plus {n} activation rows")
    chunks = [(lo, min(lo + cols, length)) for lo in range(0, length, cols)]
    blocks = [  # (group, filter block, chunk) order: an output's chunks are consecutive blocks
        (g, q, b, list(range(g * kg + b, min(g * kg + b + f, (g + 1) * kg))))
        for g in range(groups)
        for b in range(0, kg, f)
        for q in range(len(chunks))
    ]
    rounds = -(-len(blocks) // subarrays)
    write_weights = load_weights or rounds > 1  # blocks that take turns are written every round
    wflat = w.reshape(k, length)
    memory = [[[0] * cols for _ in range(rows)] for _ in range(subarrays)]
    queues: list[deque[_Op]] = [deque() for _ in range(subarrays)]
    counts = dict.fromkeys(
        ["and_ops", "and_bits", "read_ops", "read_bits", "write_rows", "write_bits", "adds", "tasks"], 0
    )
    act_row = rows - n  # first activation row
    op_round: dict[int, int] = {}  # id of a sense op -> its round
    for rnd in range(rounds):
        in_round = blocks[rnd * subarrays : (rnd + 1) * subarrays]
        per = subarrays // len(in_round)
        for pos, (g, q, b, filters) in enumerate(in_round):
            lo, hi = chunks[q]
            for copy in range(per):
                sa = pos * per + copy
                for fl, kk in enumerate(filters):
                    for i in range(m):
                        bits = [(int(wflat[kk, col]) >> i) & 1 for col in range(lo, hi)]
                        if write_weights:
                            queues[sa].append(_Op("write", t_write, row=fl * m + i, bits=bits))
                        else:  # written once at model load: not part of the layer
                            memory[sa][fl * m + i][: hi - lo] = bits
                for p in range(copy, pixels, per):
                    counts["tasks"] += 1
                    vec = _im2col(x, g, cg, p // wo, p % wo, r, s, stride, pad)[lo:hi]
                    for j in range(n):
                        queues[sa].append(
                            _Op("write", t_write, row=act_row + j, bits=[(v >> j) & 1 for v in vec])
                        )
                    senses: list[_Op] = []
                    if signed and b == 0:  # the first block of a chunk also counts x alone
                        for j in range(n):
                            senses.append(
                                _Op("read", t_and, row=act_row + j, shift=j, width=hi - lo,
                                    target=("xsum", g, p, q))
                            )  # fmt: skip
                    for fl, kk in enumerate(filters):
                        for i in range(m):
                            for j in range(n):
                                senses.append(
                                    _Op("and", t_and, row=act_row + j, weight_row=fl * m + i,
                                        weight_base=fl * m, shift=i + j, width=hi - lo,
                                        target=("out", kk, p, q))
                                )  # fmt: skip
                    for sense in senses:
                        op_round[id(sense)] = rnd
                    queues[sa].extend(senses)
    rounds_of: dict[tuple[str | int, ...], set[int]] = {}  # output -> rounds that sensed for it
    partial: dict[tuple[str | int, ...], int] = {}
    busy = [0] * subarrays
    written = [0] * subarrays
    unused_lanes = effectual_lanes = 0
    current: list[_Op | None] = [None] * subarrays
    left = [0] * subarrays
    last_end = 0
    cycle = 0
    while any(queues) or any(c is not None for c in current):
        for sa in range(subarrays):
            if current[sa] is None and queues[sa]:
                current[sa] = queues[sa].popleft()
                left[sa] = current[sa].cycles  # type: ignore[union-attr]
            op = current[sa]
            if op is None:
                continue
            busy[sa] += 1
            if op.kind == "write":
                written[sa] += 1
            left[sa] -= 1
            if left[sa] > 0:
                continue
            current[sa] = None
            last_end = cycle + 1
            row = memory[sa][op.row]
            width = op.width if op.target else len(op.bits)
            if op.kind == "write":
                row[: len(op.bits)] = op.bits
                counts["write_rows"] += 1
                counts["write_bits"] += len(op.bits)
                continue
            unused_lanes += cols - width
            if op.kind == "read":
                sensed = row[:width]
                counts["read_ops"] += 1
                counts["read_bits"] += width
            else:
                wrow = memory[sa][op.weight_row]
                sensed = [a & b for a, b in zip(wrow[:width], row[:width], strict=True)]
                planes = memory[sa]
                effectual_lanes += sum(
                    1
                    for col in range(width)
                    if any(planes[op.weight_base + i][col] for i in range(m))
                    and any(planes[act_row + j][col] for j in range(n))
                )
                counts["and_ops"] += 1
                counts["and_bits"] += width
            partial[op.target] = partial.get(op.target, 0) + (sum(sensed) << op.shift)  # bit-count, shift-add
            counts["adds"] += 1
            rounds_of.setdefault(op.target[:3], set()).add(op_round[id(op)])
        cycle += 1
    out = np.zeros((k, ho, wo), dtype=np.int64)
    xsum = np.zeros((groups, ho, wo), dtype=np.int64)
    for key, arr, first in (("out", out, range(k)), ("xsum", xsum, range(groups))):
        if key == "xsum" and not signed:
            continue
        for a in first:
            for p in range(pixels):
                parts = [partial.get((key, a, p, q), 0) for q in range(len(chunks))]
                while len(parts) > 1:  # pairwise adder tree across chunks
                    pairs = [parts[i] + parts[i + 1] for i in range(0, len(parts) - 1, 2)]
                    counts["adds"] += len(pairs)
                    parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
                arr[a, p // wo, p % wo] = parts[0]
    signed_out = None
    if signed:
        group_of = np.arange(k) // kg
        signed_out = 2 * out - (2**m - 1) * xsum[group_of]
        counts["adds"] += 2 * k * pixels
    # A partial sum whose output is sensed in r rounds waits in the buffer r - 1 times
    counts["psum_spills"] = sum(len(seen) - 1 for seen in rounds_of.values())
    tail = _tree_levels(cols) + 1 + _tree_levels(len(chunks)) + 1
    return ReferenceRun(
        out, xsum, signed_out, counts, busy, written, unused_lanes, effectual_lanes, last_end + tail, rounds
    )
