"""Cycle-by-cycle golden model of one layer on IMCE's computational sub-arrays ([IMCE18]).

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
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

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


class _Queues:
    """Every sub-array works through its own queue of operations, one cycle at a time."""

    def __init__(self, subarrays: int) -> None:
        self.busy = [0] * subarrays
        """Cycles each sub-array spent on an operation."""
        self.written = [0] * subarrays
        """Of those, cycles spent writing rows."""
        self.last_end = 0
        """The cycle after the last operation completed."""

    def completions(self, queues: list[deque[Any]]) -> Iterator[tuple[int, Any]]:
        """Step cycle by cycle; yield (sub-array, operation) as each operation completes."""
        n = len(self.busy)
        current: list[Any] = [None] * n
        left = [0] * n
        cycle = 0
        while any(queues) or any(c is not None for c in current):
            for sa in range(n):
                if current[sa] is None and queues[sa]:
                    current[sa] = queues[sa].popleft()
                    left[sa] = current[sa].cycles
                op = current[sa]
                if op is None:
                    continue
                self.busy[sa] += 1
                if op.kind == "write":
                    self.written[sa] += 1
                left[sa] -= 1
                if left[sa] > 0:
                    continue
                current[sa] = None
                self.last_end = cycle + 1
                yield sa, op
            cycle += 1


def _chunk_tree(
    partial: dict[tuple[str | int, ...], int],
    key: str,
    count: int,
    shape: tuple[int, int],
    chunks: int,
    counts: dict[str, int],
) -> np.ndarray:
    """Each of `count` outputs per pixel: its chunks' partial sums added by a pairwise adder tree."""
    ho, wo = shape
    arr = np.zeros((count, ho, wo), dtype=np.int64)
    for a in range(count):
        for p in range(ho * wo):
            parts = [partial.get((key, a, p, q), 0) for q in range(chunks)]
            while len(parts) > 1:
                pairs = [parts[i] + parts[i + 1] for i in range(0, len(parts) - 1, 2)]
                counts["adds"] += len(pairs)
                parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
            arr[a, p // wo, p % wo] = parts[0]
    return arr


def _extents(
    x: np.ndarray, w: np.ndarray, stride: int, pad: int, groups: int
) -> tuple[int, int, int, int, int]:
    """(output height, output width, filters per group, receptive-field length, output pixels)."""
    k, cg, r, s = w.shape
    ho = (x.shape[1] + 2 * pad - r) // stride + 1
    wo = (x.shape[2] + 2 * pad - s) // stride + 1
    return ho, wo, k // groups, cg * r * s, ho * wo


Block = tuple[int, int, int, list[int]]
"""(group, chunk, first filter of the block within its group, the block's filters)."""


def _blocks(groups: int, kg: int, f: int, chunks: int) -> list[Block]:
    """Weight blocks of `f` filters x one chunk, in (group, filter block, chunk) order: an output's
    chunks are consecutive blocks."""
    return [
        (g, q, b, list(range(g * kg + b, min(g * kg + b + f, (g + 1) * kg))))
        for g in range(groups)
        for b in range(0, kg, f)
        for q in range(chunks)
    ]


def _rounds(blocks: list[Block], subarrays: int, max_copies: int) -> Iterator[tuple[int, list[Block], int]]:
    """(round, its blocks, copies of each) when the blocks take the sub-arrays in turns: a round holds
    up to `subarrays` blocks, each copied over the sub-arrays the round leaves (at most `max_copies`;
    0: no limit)."""
    for rnd in range(-(-len(blocks) // subarrays)):
        in_round = blocks[rnd * subarrays : (rnd + 1) * subarrays]
        per = subarrays // len(in_round)
        yield rnd, in_round, min(per, max_copies) if max_copies else per


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
    max_copies: int = 0,
) -> ReferenceRun:
    """Run a conv layer (x codes (C, H, W) < 2^n, w codes (K, C/groups, R, S) < 2^m) step by step;
    a block gets at most `max_copies` copies (0: as many as the sub-arrays of its round allow)."""
    k, cg, r, s = w.shape
    ho, wo, kg, length, pixels = _extents(x, w, stride, pad, groups)
    f = min(kg, (rows - n) // m)
    if f < 1:
        raise ValueError(f"a {rows}-row sub-array cannot hold one {m}-bit filter plus {n} activation rows")
    chunks = [(lo, min(lo + cols, length)) for lo in range(0, length, cols)]
    blocks = _blocks(groups, kg, f, len(chunks))
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
    for rnd, in_round, per in _rounds(blocks, subarrays, max_copies):
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
    unused_lanes = effectual_lanes = 0
    play = _Queues(subarrays)
    for sa, op in play.completions(queues):
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
    out = _chunk_tree(partial, "out", k, (ho, wo), len(chunks), counts)
    xsum = (
        _chunk_tree(partial, "xsum", groups, (ho, wo), len(chunks), counts)
        if signed
        else np.zeros((groups, ho, wo), dtype=np.int64)
    )
    signed_out = None
    if signed:
        group_of = np.arange(k) // kg
        signed_out = 2 * out - (2**m - 1) * xsum[group_of]
        counts["adds"] += 2 * k * pixels
    # A partial sum whose output is sensed in r rounds waits in the buffer r - 1 times
    counts["psum_spills"] = sum(len(seen) - 1 for seen in rounds_of.values())
    tail = _tree_levels(cols) + 1 + _tree_levels(len(chunks)) + 1
    return ReferenceRun(
        out,
        xsum,
        signed_out,
        counts,
        play.busy,
        play.written,
        unused_lanes,
        effectual_lanes,
        play.last_end + tail,
        rounds,
    )


@dataclass
class CrossbarRun:
    """What the golden crossbar model observed for one layer."""

    out: np.ndarray
    """Unsigned result (K, Ho, Wo): sum over chunks, planes j and slices t of 2^(j + t b) x column sum."""
    xsum: np.ndarray
    """Receptive-field sums (groups, Ho, Wo), from the ones column."""
    signed_out: np.ndarray | None
    """2 out - (2^m - 1) xsum (None if not signed)."""
    counts: dict[str, int]
    busy: list[int]
    written: list[int]
    unused_cell_reads: int
    """Cells of a crossbar a read leaves out (rows x cols - chunk rows x used columns), per read."""
    effectual_cell_reads: int
    """Product cells read whose filter's weight code and whose input code are both non-zero."""
    max_column_sum: int
    """The largest column sum an ADC converted."""
    cycles: int
    rounds: int


@dataclass
class _XbOp:
    """One crossbar operation: a weight row write, or a read of one input bit-plane."""

    kind: str  # "write" or "read"
    cycles: int
    row: int = -1  # the row a write fills
    cells: list[int] = field(default_factory=list)  # the values a write stores
    plane: int = 0  # the input bit-plane j a read drives
    vec: list[int] = field(default_factory=list)  # the chunk's input codes (a read drives bit j of each)
    layout: list[tuple[int, int, int]] = field(default_factory=list)  # (column, filter, slice) of a block
    ones: int = 0  # 1 when the block's last used column is the ones column
    target: tuple[int, int, int] = (0, 0, 0)  # (group, pixel, chunk)
    rnd: int = 0


def _conversion_cycles(used: int, adcs: int, conv_milli: int) -> int:
    """Step the ADC bank cycle by cycle (1000 milli-cycles per cycle per ADC) until every used column is
    converted, `adcs` columns at a time."""
    cycles = milli = done = 0
    while done < used:
        cycles += 1
        milli += 1000
        done = adcs * (milli // conv_milli)
    return cycles


def run_crossbar_layer(
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
    bits_per_cell: int = 1,
    t_read: int = 1,
    adcs: int = 1,
    conv_milli: int = 1000,
    t_write: int = 1,
    signed: bool = True,
    load_weights: bool = False,
    max_copies: int = 0,
) -> CrossbarRun:
    """Run a conv layer on analog crossbars, cycle by cycle: weights as cell values (filter f's slice t
    in column f * slices + t, receptive-field element i of the chunk in row i), one input bit-plane per
    read driven on the rows, every used column summed and converted, shifted and added."""
    k, cg, r, s = w.shape
    ho, wo, kg, length, pixels = _extents(x, w, stride, pad, groups)
    slices = -(-m // bits_per_cell)
    corr = 1 if signed else 0
    f = min(kg, (cols - corr) // slices)
    if f < 1:
        raise ValueError(f"a {cols}-column crossbar cannot hold one {m}-bit filter")
    mask = 2**bits_per_cell - 1
    chunks = [(lo, min(lo + rows, length)) for lo in range(0, length, rows)]
    blocks = _blocks(groups, kg, f, len(chunks))
    rounds = -(-len(blocks) // subarrays)
    write_weights = load_weights or rounds > 1
    wflat = w.reshape(k, length)
    memory = [[[0] * cols for _ in range(rows)] for _ in range(subarrays)]
    queues: list[deque[_XbOp]] = [deque() for _ in range(subarrays)]
    counts = dict.fromkeys(
        ["reads", "cells", "corr_cells", "conversions", "dac_rows", "wait", "write_rows", "write_bits",
         "adds", "tasks"],
        0,
    )  # fmt: skip
    for rnd, in_round, per in _rounds(blocks, subarrays, max_copies):
        for pos, (g, q, b, filters) in enumerate(in_round):
            lo, hi = chunks[q]
            ones = corr if b == 0 else 0
            layout = [(fl * slices + t, kk, t) for fl, kk in enumerate(filters) for t in range(slices)]
            used = len(layout) + ones
            for copy in range(per):
                sa = pos * per + copy
                for row in range(hi - lo):
                    cells = [0] * used
                    for col, kk, t in layout:
                        cells[col] = (int(wflat[kk, lo + row]) >> (t * bits_per_cell)) & mask
                    if ones:
                        cells[used - 1] = 1
                    if write_weights:
                        queues[sa].append(_XbOp("write", t_write, row=row, cells=cells))
                    else:  # written once at model load
                        memory[sa][row][:used] = cells
                for p in range(copy, pixels, per):
                    counts["tasks"] += 1
                    vec = _im2col(x, g, cg, p // wo, p % wo, r, s, stride, pad)[lo:hi]
                    length_conv = _conversion_cycles(used, adcs, conv_milli)
                    for j in range(n):
                        queues[sa].append(
                            _XbOp("read", max(t_read, length_conv), plane=j, vec=vec, layout=layout,
                                  ones=ones, target=(g, p, q), rnd=rnd)
                        )  # fmt: skip
    out = np.zeros((k, ho, wo), dtype=np.int64)
    xsum = np.zeros((groups, ho, wo), dtype=np.int64)
    partial: dict[tuple[str | int, ...], int] = {}
    rounds_of: dict[tuple[str | int, ...], set[int]] = {}
    unused = effectual = max_sum = 0
    play = _Queues(subarrays)
    for sa, op in play.completions(queues):
        if op.kind == "write":
            memory[sa][op.row][: len(op.cells)] = op.cells
            counts["write_rows"] += 1
            counts["write_bits"] += len(op.cells)
            continue
        j, vec, layout, ones = op.plane, op.vec, op.layout, op.ones
        g, p, q = op.target
        bits = [(v >> j) & 1 for v in vec]  # the DACs drive bit j of every input of the chunk
        width, used = len(bits), len(layout) + ones
        counts["reads"] += 1
        counts["cells"] += width * used
        counts["corr_cells"] += width * ones
        counts["conversions"] += used
        counts["dac_rows"] += width
        counts["wait"] += op.cycles - t_read
        unused += rows * cols - width * used
        grid = memory[sa]
        codes = {  # each filter's weight code per chunk row, from the cells of all its slices
            kk: [sum(grid[row][c2] << (tt * bits_per_cell) for c2, k2, tt in layout if k2 == kk)
                 for row in range(width)]
            for _, kk, _ in layout
        }  # fmt: skip
        for col in range(used):
            total = sum(grid[row][col] * bits[row] for row in range(width))  # the column's current
            max_sum = max(max_sum, total)
            counts["adds"] += 1  # shift-and-add of the converted sum
            if col < len(layout):
                _, kk, t = layout[col]
                key: tuple[str | int, ...] = ("out", kk, p, q)
                partial[key] = partial.get(key, 0) + (total << (j + t * bits_per_cell))
                effectual += sum(1 for row in range(width) if codes[kk][row] and vec[row])
            else:
                key = ("xsum", g, p, q)
                partial[key] = partial.get(key, 0) + (total << j)
            rounds_of.setdefault(key[:3], set()).add(op.rnd)
    out = _chunk_tree(partial, "out", k, (ho, wo), len(chunks), counts)
    xsum = (
        _chunk_tree(partial, "xsum", groups, (ho, wo), len(chunks), counts)
        if signed
        else np.zeros((groups, ho, wo), dtype=np.int64)
    )
    signed_out = None
    if signed:
        signed_out = 2 * out - (2**m - 1) * xsum[np.arange(k) // kg]
        counts["adds"] += 2 * k * pixels
    counts["psum_spills"] = sum(len(seen) - 1 for seen in rounds_of.values())
    tail = 1 + _tree_levels(len(chunks)) + 1  # shift-add, the chunk tree, the quantiser
    return CrossbarRun(
        out,
        xsum,
        signed_out,
        counts,
        play.busy,
        play.written,
        unused,
        effectual,
        max_sum,
        play.last_end + tail,
        rounds,
    )
