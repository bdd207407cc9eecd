"""Cycle-by-cycle model of the Eyeriss v1 row-stationary array on real data, to hold the kernel honest.

Every PE holds the filter rows of its p x q filters and convolves them with its input row, one MAC per
cycle; the PEs of a segment column add their psums into one output row; the GLB and its buses deliver
words at a fixed number per cycle. The model enumerates units and passes in the schedule the kernel
uses (a batch in blocks of n images that share each pass: the columns of the block's images stream
one image after the other), sets of ifmap words per segment (so multicast and sliding-window reuse
are counted from the words themselves, not from a formula), steps the load phase and the deliver /
compute / drain pipeline one cycle at a time, and computes the layer's output so that the RS
schedule is checked numerically too. Each pipeline cycle is classified as it is stepped: compute (the
compute stage works), fill (no compute has started yet), drain (every compute has ended) or a bubble.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import product

import numpy as np


@dataclass(frozen=True)
class Unit:
    """One segment's work: group, filter-row chunk, channel block, output strip, filter block."""

    g: int
    rc: int
    cb: int
    st: int
    kb: int
    rr: int
    qq: int
    ee: int
    pp: int


@dataclass
class ReferenceRun:
    """What the reference observed over a whole layer."""

    cycles: int = 0
    passes: int = 0
    macs: int = 0
    ifmap_reads: int = 0
    weight_loads: int = 0
    psum_in: int = 0
    psum_out: int = 0
    ifmap_deliveries: int = 0
    weight_deliveries: int = 0
    psum_hops: int = 0
    pe_pass_cycles: int = 0
    load_cycles: int = 0
    compute_cycles: int = 0
    fill_drain_cycles: int = 0
    """Pipeline cycles before the first compute of a pass or after its last one."""
    pe_compute_cycles: int = 0
    """Compute-stage cycles times the PEs the pass maps."""
    pe_fill_drain_cycles: int = 0
    """Fill and drain cycles times the PEs the pass maps."""
    bubble_cycles: int = 0
    """Pipeline cycles in which the compute stage waits for a delivery or a drain between columns."""
    output: np.ndarray = field(default_factory=lambda: np.zeros(0))


def units_in_order(
    groups: int, c: int, k: int, e_out: int, r: int, rows: int, e: int, q: int, p: int, order: int
) -> list[Unit]:
    """Units in schedule order: group, row chunk, channel block outermost; then strips and filter
    blocks, filter blocks innermost for order 0 (ifmap sharing), strips innermost for order 1."""
    r_chunk = min(r, rows)
    units = []
    for g, rc, cb in product(range(groups), range(math.ceil(r / r_chunk)), range(math.ceil(c / q))):
        strips, kbs = range(math.ceil(e_out / e)), range(math.ceil(k / p))
        pairs = (
            [(st, kb) for st in strips for kb in kbs]
            if order == 0
            else [(st, kb) for kb in kbs for st in strips]
        )
        for st, kb in pairs:
            units.append(
                Unit(
                    g,
                    rc,
                    cb,
                    st,
                    kb,
                    min(r_chunk, r - rc * r_chunk),
                    min(q, c - cb * q),
                    min(e, e_out - st * e),
                    min(p, k - kb * p),
                )
            )
    return units


def run_layer(
    ifmap: np.ndarray,
    weights: np.ndarray,
    groups: int,
    stride: int,
    pad: int,
    array: tuple[int, int],
    blocks: tuple[int, int, int],
    order: int,
    bandwidths: tuple[int, int, int, int],
    images_per_pass: int = 1,
) -> ReferenceRun:
    """Run a layer: ifmap (groups*c, h, w) or a batch (N, groups*c, h, w), weights (groups*k, c, r, s),
    array (rows, cols), blocks (e, q, p), bandwidths in words per cycle for (ifmap, filter, psum in,
    psum out), the batch in blocks of `images_per_pass` images. Returns the counts over the batch and
    the output (groups*k, E, F), or (N, groups*k, E, F) for a batch."""
    rows, cols = array
    e, q, p = blocks
    batch = ifmap if ifmap.ndim == 4 else ifmap[np.newaxis]
    c = batch.shape[1] // groups
    k = weights.shape[0] // groups
    r, s = weights.shape[2], weights.shape[3]
    x_pad = np.pad(batch, ((0, 0), (0, 0), (pad, pad), (pad, pad))).astype(np.int64)
    e_out = (x_pad.shape[2] - r) // stride + 1
    f = (x_pad.shape[3] - s) // stride + 1
    run = ReferenceRun(output=np.zeros((len(batch), groups * k, e_out, f), dtype=np.int64))
    slots = (rows // min(r, rows)) * (cols // e)
    units = units_in_order(groups, c, k, e_out, r, rows, e, q, p, order)
    geo = _Geometry(c, k, s, f, stride, rows, e, q, p)
    for image in range(0, len(batch), images_per_pass):
        images = range(image, min(image + images_per_pass, len(batch)))
        for first in range(0, len(units), slots):
            _run_pass(
                units[first : first + slots], images, x_pad, weights.astype(np.int64), geo, bandwidths, run
            )
    if ifmap.ndim == 3:
        run.output = run.output[0]
    return run


@dataclass(frozen=True)
class _Geometry:
    c: int
    k: int
    s: int
    f: int
    stride: int
    rows: int
    e: int
    q: int
    p: int

    def row(self, u: Unit, i: int, j: int) -> int:
        """Padded input row read by PE (i, j) of unit u's segment."""
        return (u.st * self.e + j) * self.stride + u.rc * self.rows + i


def _words(u: Unit, image: int, x: int, geo: _Geometry) -> set[tuple[int, ...]]:
    """Ifmap words a unit's segment needs for output column x of an image, named with the image and
    the segment's ifmap key (group, row chunk, channel block, strip): multicast reaches the segments
    of one key."""
    key = (image, u.g, u.rc, u.cb, u.st)
    return {
        (*key, ch, geo.row(u, i, j), x * geo.stride + t)
        for ch in range(u.qq)
        for j in range(u.ee)
        for i in range(u.rr)
        for t in range(geo.s)
    }


def _bus_cycles(words: int, per_cycle: int) -> int:
    """Cycles a bus needs to move `words`, stepped one cycle at a time."""
    cycles = 0
    while words > 0:
        words -= min(per_cycle, words)
        cycles += 1
    return cycles


def _run_pass(
    units: list[Unit],
    images: range,
    x_pad: np.ndarray,
    w: np.ndarray,
    geo: _Geometry,
    bw: tuple[int, int, int, int],
    run: ReferenceRun,
) -> None:
    bw_i, bw_w, bw_pi, bw_po = bw
    s = geo.s
    columns = [(image, x) for image in images for x in range(geo.f)]  # one image after the other
    n_cols = len(columns)
    # Load phase: every distinct filter block's rows go over the filter bus.
    weight_keys = {(u.g, u.rc, u.cb, u.kb): u.rr * u.pp * u.qq * s for u in units}
    load = _bus_cycles(sum(weight_keys.values()), bw_w)
    run.weight_loads += sum(weight_keys.values())
    # Words per column: the union over segments, new ones only (the sliding window stays in the RF).
    needed = [set().union(*(_words(u, image, x, geo) for u in units)) for image, x in columns]
    new = [needed[0]] + [needed[x] - needed[x - 1] for x in range(1, n_cols)]
    pin = sum(u.ee * u.pp for u in units if u.rc > 0 or u.cb > 0)
    pout = sum(u.ee * u.pp for u in units)
    work = max(u.pp * u.qq * s for u in units)
    # The pipeline, stepped cycle by cycle; stage start checks run downstream first.
    t = 0
    x_d = x_c = x_o = 0
    deliver_left: list[int] | None = None
    compute_left = drain_left = 0
    de, cs, ce, os_ = ([-1] * n_cols for _ in range(4))  # stage start / end (exclusive) per column
    column_sums: dict[int, dict[tuple[int, int, int, int], int]] = {}
    pe_psums: dict[tuple[int, int, int, int], int] = {}
    mapped = sum(u.rr * u.ee for u in units)
    while x_o < n_cols or drain_left > 0:
        if drain_left == 0 and x_o < n_cols and 0 <= ce[x_o] <= t:
            os_[x_o] = t
            drain_left = pout
            for (image, kk, row, col), v in column_sums.pop(x_o).items():
                run.output[image, kk, row, col] += v
            x_o += 1
        if compute_left == 0 and x_c < n_cols and 0 <= de[x_c] <= t and (x_c == 0 or 0 <= os_[x_c - 1] <= t):
            cs[x_c] = t
            compute_left = work
            pe_psums = {}
            x_c += 1
        if deliver_left is None and x_d < n_cols and (x_d == 0 or 0 <= cs[x_d - 1] <= t):
            deliver_left = [len(new[x_d]), pin]
            run.ifmap_reads += len(new[x_d])
            x_d += 1
        # One cycle of work for every active stage; the cycle is compute, fill / drain or a bubble.
        if deliver_left is not None:
            deliver_left = [max(0, deliver_left[0] - bw_i), max(0, deliver_left[1] - bw_pi)]
            if deliver_left == [0, 0]:
                de[x_d - 1] = t + 1
                deliver_left = None
        if compute_left > 0:
            run.pe_compute_cycles += mapped
            _mac_step(units, work - compute_left, columns[x_c - 1], x_pad, w, geo, pe_psums, run)
            compute_left -= 1
            if compute_left == 0:
                ce[x_c - 1] = t + 1
                column_sums[x_c - 1] = _vertical_sums(units, pe_psums, columns[x_c - 1], geo, run)
        elif x_c in (0, n_cols):  # no compute has started yet, or the last one has ended
            run.fill_drain_cycles += 1
            run.pe_fill_drain_cycles += mapped
        else:  # the compute stage waits for the next column's delivery or for a drain
            run.bubble_cycles += 1
        if drain_left > 0:
            drain_left = max(0, drain_left - bw_po)
        t += 1
    cycles = load + t
    run.cycles += cycles
    run.passes += 1
    run.psum_in += pin * n_cols
    run.psum_out += pout * n_cols
    run.pe_pass_cycles += sum(u.rr * u.ee for u in units) * cycles
    run.load_cycles += load
    run.compute_cycles += work * n_cols
    for u in units:
        run.weight_deliveries += u.rr * u.ee * u.pp * u.qq * s  # once per pass, whatever the images
        prev: set[tuple[int, int, int]] = set()
        for image, x in columns:  # a PE receives the new taps of its window, for each of its channels
            cur = {(image, ch, x * geo.stride + tt) for ch in range(u.qq) for tt in range(s)}
            run.ifmap_deliveries += u.rr * u.ee * len(cur - prev)
            prev = cur


def _mac_step(
    units: list[Unit],
    step: int,
    column: tuple[int, int],
    x_pad: np.ndarray,
    w: np.ndarray,
    geo: _Geometry,
    pe_psums: dict[tuple[int, int, int, int], int],
    run: ReferenceRun,
) -> None:
    """Every PE whose column has MACs left does MAC number `step`, in (filter, channel, tap) order,
    on column (image, x)."""
    s = geo.s
    image, x = column
    for ui, u in enumerate(units):
        if step >= u.pp * u.qq * s:
            continue
        kk, rem = divmod(step, u.qq * s)
        ch, tap = divmod(rem, s)
        filt = u.g * geo.k + u.kb * geo.p + kk
        chan = u.cb * geo.q + ch
        for j in range(u.ee):
            for i in range(u.rr):
                a = int(x_pad[image, u.g * geo.c + chan, geo.row(u, i, j), x * geo.stride + tap])
                pe_psums[(ui, i, j, kk)] = (
                    pe_psums.get((ui, i, j, kk), 0) + int(w[filt, chan, u.rc * geo.rows + i, tap]) * a
                )
                run.macs += 1


def _vertical_sums(
    units: list[Unit],
    pe_psums: dict[tuple[int, int, int, int], int],
    column: tuple[int, int],
    geo: _Geometry,
    run: ReferenceRun,
) -> dict[tuple[int, int, int, int], int]:
    """Add each segment column's psums over its rows (R_c - 1 hops) into (image, filter, output row,
    column)."""
    image, x = column
    sums: dict[tuple[int, int, int, int], int] = {}
    for ui, u in enumerate(units):
        for j in range(u.ee):
            for kk in range(u.pp):
                total = sum(pe_psums.get((ui, i, j, kk), 0) for i in range(u.rr))
                key = (image, u.g * geo.k + u.kb * geo.p + kk, u.st * geo.e + j, x)
                sums[key] = sums.get(key, 0) + total
                run.psum_hops += u.rr - 1
    return sums
