"""Golden reference of Eyeriss v2's sparse PE: explicit CSC vectors, one loop turn per cycle.

Written for clarity, not speed. Weights and iacts are encoded in CSC as the paper describes
([EYERISSV2-19 §II-§IV]): every non-zero carries a count of the zeros before it in its column, and an address
vector holds where each column ends. The PE pipeline is stepped cycle by cycle: the look-up stages
walk the iact stream of each output window and fetch its weight column through the address vector;
the MAC stage takes `simd` weights a cycle. Must equal `accelsim.kernels.eyeriss_v2.pe_tile_stats`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Csc:
    """Compressed sparse columns: per non-zero (zeros before it in its column, value); column ends."""

    data: list[tuple[int, int]]
    """(count of preceding zeros in the column, value) of every stored entry, column after column."""
    address: list[int]
    """End (exclusive) of every column in `data`; column j spans address[j - 1]:address[j]."""

    def column(self, j: int) -> list[tuple[int, int]]:
        """The stored entries of column j."""
        start = self.address[j - 1] if j > 0 else 0
        return self.data[start : self.address[j]]


def csc_encode(columns: Sequence[Sequence[int]], compressed: bool = True) -> Csc:
    """CSC of a list of columns; uncompressed mode stores every value with count 0 (paper §IV-A)."""
    data: list[tuple[int, int]] = []
    address: list[int] = []
    for col in columns:
        zeros = 0
        for v in col:
            if compressed and v == 0:
                zeros += 1
                continue
            data.append((zeros, v))
            zeros = 0
        address.append(len(data))
    return Csc(data, address)


def csc_positions(csc: Csc, j: int) -> list[int]:
    """Row index of every stored entry of column j, decoded from the zero counts."""
    return [row for row, _ in csc_entries(csc, j)]


def csc_entries(csc: Csc, j: int) -> list[tuple[int, int]]:
    """(row index, value) of every stored entry of column j, the rows decoded from the zero counts."""
    out, at = [], -1
    for zeros, value in csc.column(j):
        at += zeros + 1
        out.append((at, value))
    return out


def pe_tile_stats_ref(
    weights: list,
    acts: list,
    stride: int,
    out_w: int,
    m_bounds: Sequence[int],
    c_bounds: Sequence[int],
    pix_bounds: Sequence[int],
    depthwise: bool,
    simd: int,
    iacts_compressed: bool,
    weights_compressed: bool,
    empty_column_cycles: int,
    fill_cycles: int,
) -> list:
    """[m-group][c-group][block] -> [cycles, mac slots, iacts entered, empty look-ups, effectual MACs,
    empty SIMD lanes], cycle by cycle.

    `weights`: nested (K, C // groups, R, S) 0/1 lists; `acts`: nested zero-padded (C, H', W') lists.
    A depthwise layer has one m-group; filter c serves channel c.
    """
    r_n, s_n = len(weights[0][0]), len(weights[0][0][0])
    groups = 1 if depthwise else len(m_bounds) - 1
    out = []
    for g in range(groups):
        per_g = []
        for cg in range(len(c_bounds) - 1):
            chans = list(range(c_bounds[cg], c_bounds[cg + 1]))
            taps = [(c, r, s) for c in chans for r in range(r_n) for s in range(s_n)]
            wcsc = csc_encode(
                [_weight_column(weights, m_bounds, g, t, depthwise) for t in taps], weights_compressed
            )
            per_g.append([
                _run_item(wcsc, taps, acts, stride, out_w, range(pix_bounds[b], pix_bounds[b + 1]),
                          simd, iacts_compressed, empty_column_cycles, fill_cycles)
                for b in range(len(pix_bounds) - 1)
            ])  # fmt: skip
        out.append(per_g)
    return out


def _weight_column(
    weights: list, m_bounds: Sequence[int], g: int, tap: tuple[int, int, int], dw: bool
) -> list[int]:
    c, r, s = tap
    if dw:
        return [int(weights[c][0][r][s])]
    return [int(weights[m][c][r][s]) for m in range(m_bounds[g], m_bounds[g + 1])]


def _run_item(
    wcsc: Csc,
    taps: list[tuple[int, int, int]],
    acts: list,
    stride: int,
    out_w: int,
    pixels: range,
    simd: int,
    iacts_compressed: bool,
    empty_column_cycles: int,
    fill_cycles: int,
) -> list[int]:
    """Step one work item: the iact stream of every window, looked up and multiplied cycle by cycle."""
    stream: list[tuple[int, int]] = []  # (weight-column index, iact value) of every iact entering, in order
    for p in pixels:
        y0, x0 = (p // out_w) * stride, (p % out_w) * stride
        window = [int(acts[c][y0 + r][x0 + s]) for c, r, s in taps]
        icsc = csc_encode([window], iacts_compressed)
        stream.extend(csc_entries(icsc, 0))  # the iact's row in the window = its weight column
    cycle = slots = empty = effectual = idle_lanes = 0
    if stream:
        for _ in range(fill_cycles):  # pipeline fill
            cycle += 1
    queue = list(stream)
    column: list[int] = []  # weight values of the column being multiplied
    iact = 0
    bubble = 0
    while queue or column or bubble:
        if not column and bubble == 0:
            col, iact = queue.pop(0)  # look-up (pipelined: its result is ready for this cycle)
            column = [value for _, value in wcsc.column(col)]
            if not column:
                empty += 1
                bubble = empty_column_cycles
                continue
        cycle += 1
        if bubble:
            bubble -= 1
            continue
        taken, column = column[:simd], column[simd:]  # two weights per cycle with SIMD 2
        slots += len(taken)
        idle_lanes += simd - len(taken)  # the missing one is a padded zero, gated
        effectual += sum(1 for w in taken if w and iact)
    return [cycle, slots, len(stream), empty, effectual, idle_lanes]
