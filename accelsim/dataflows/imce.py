"""IMCE's layer mapping: weight blocks on computational sub-arrays, output pixels streamed through them.

A layer is G groups of an im2col product: every output pixel's receptive field has L = R S C/G
elements, cut into Q = ceil(L / cols) column chunks. A weight block holds up to
f = (rows - n) // m filters of one chunk (m weight-plane rows each), leaving n rows for the
activation planes. The G B Q blocks (B = ceil(K/G / f)) run in rounds of up to P blocks; a round
of N blocks gives each s = min(P // N, max_copies) sub-arrays holding a copy, and the copies share
the block's output pixels round-robin. A layer of more than P blocks rewrites the sub-arrays' weight
rows every round and keeps the partial sums of outputs whose chunks span rounds in the buffer. Per
(pixel, block) the sub-array writes the chunk's n activation rows and senses every (filter, weight
plane, activation plane) row pair ([IMCE18] steps 1-5); the partial sums of the Q chunks are
added in the periphery (step 5) and quantised (step 6).

The analog crossbar counterpart keeps the same blocks with rows and columns exchanged: a block is a
chunk of up to `rows` receptive-field elements (one per row) of up to (cols - c) // slices filters,
each filter ceil(m / bits_per_cell) columns (c = 1 ones column for signed weights); the input
bit-planes are driven on the rows, never written (`accelsim.kernels.imce.crossbar_schedule`).

Where the blocks sit (`place_weights`): one copy of every block of every layer, first fit in network
order on the sub-arrays' free capacity (weight rows, or crossbar columns), no two blocks of one layer
on one sub-array (they compute in parallel); resident blocks never move. The layers a layer cannot
keep resident run on the sub-arrays that hold no resident weights, rewriting their weights per
inference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from accelsim.dataflows.registry import Dataflow, register_dataflow
from accelsim.kernels.imce import crossbar_schedule, dpu_latency, schedule
from accelsim.workload.layer import Layer
from accelsim.workload.masks import OperandMasks

WeightLoad = Literal["fit", "resident", "per_layer"]


@dataclass(frozen=True, slots=True)
class ImceGeometry:
    """Sub-array count and size."""

    subarrays: int
    rows: int
    cols: int


@dataclass(frozen=True, slots=True)
class CrossbarTiming:
    """An analog crossbar's weight slicing and conversion rate."""

    bits_per_cell: int
    adcs: int
    """ADCs per crossbar."""
    conv_milli: int
    """Thousandths of a clock cycle one conversion takes."""


@dataclass(frozen=True, slots=True)
class ImceTiming:
    """Operation latencies in core clock cycles."""

    t_and: int
    """Cycles of one read or AND sense (a crossbar: one read of an input bit-plane)."""
    t_write: int
    """Cycles of one row write."""
    dpu_cycles_per_level: int = 1
    crossbar: CrossbarTiming | None = None
    """The analog crossbar's slicing and ADCs; None for the bit-wise engine."""


@dataclass(frozen=True, slots=True)
class ImceHardware:
    """The sub-arrays as one layer uses them: geometry, timing, the widths the layer runs at, the
    weight encoding, whether the layer writes its weight rows (they are not resident), how many
    copies a block may have and which sub-arrays the layer runs on."""

    geometry: ImceGeometry
    timing: ImceTiming
    m: int
    """Weight bits (planes) of the layer."""
    n: int
    """Activation bits (planes) of the layer."""
    signed: bool
    """DoReFa's symmetric weights: correction senses of the activation planes."""
    load_weights: bool
    """The layer writes its weight rows per inference (not resident)."""
    max_copies: int = 0
    """Copies of a block at most (0: as many as the sub-arrays allow)."""
    units: tuple[int, ...] = ()
    """The chip's sub-arrays the layer runs on, in the kernel's (block, copy) order; () = all of them."""


@dataclass(frozen=True)
class ImceMapping:
    """How one layer sits on the sub-arrays, each sub-array's busy cycles and the action counts."""

    m: int
    n: int
    groups: int
    k_per_group: int
    pixels: int
    length: int
    """Receptive-field length L (bits per plane per output pixel)."""
    chunks: int
    """Chunks Q = ceil(L / cols) (a crossbar: ceil(L / rows))."""
    filters_per_block: int
    blocks: int
    """Weight blocks G Q B."""
    rounds: int
    """Rounds of blocks (1 when every block has a sub-array)."""
    copies: int
    """Sub-arrays holding a copy of each block of the first round."""
    weights_written: bool
    """The layer writes its weight rows (reloaded per inference, or blocks taking turns in rounds)."""
    busy: np.ndarray
    """Busy cycles of every sub-array of the chip (row writes included)."""
    written: np.ndarray
    """Of those, the cycles every sub-array spends writing rows (activation planes, weights)."""
    counts: np.ndarray
    """Action counts, indexed by the constants of accelsim.kernels.imce (XB_* for a crossbar)."""
    dpu_cycles: int
    """Periphery latency after the last sense (adder trees, shift-add, quantiser)."""
    slices: int = 1
    """Columns per filter on a crossbar (ceil(m / bits_per_cell)); 1 for the bit-wise engine."""
    crossbar: bool = False

    def describe(self) -> str:
        """One line for the results table."""
        rounds = f" in {self.rounds} rounds" if self.rounds > 1 else ""
        kind = (
            f"crossbar W{self.m}:A{self.n} ({self.slices} columns per filter)"
            if self.crossbar
            else (f"bitwise W{self.m}:A{self.n}")
        )
        return (
            f"{kind}: L={self.length} in {self.chunks} chunks, "
            f"{self.blocks} weight blocks of <= {self.filters_per_block} filters{rounds} "
            f"x {self.copies} {'copy' if self.copies == 1 else 'copies'}, {self.pixels} pixels streamed"
        )


def layer_extents(layer: Layer) -> tuple[int, int, int, int]:
    """(groups, filters per group, output pixels, receptive-field length L) of a compute layer."""
    return layer.groups, layer.k_per_group, layer.out_h * layer.out_w, layer.r * layer.s * layer.c_per_group


@register_dataflow("imce", "bitwise")
class BitwiseDataflow(Dataflow[ImceHardware, ImceMapping]):
    """Weight-block-stationary mapping with output pixels streamed through the copies."""

    family = "imce"
    name = "bitwise"

    @staticmethod
    def _shape(
        layer: Layer, geom: ImceGeometry, m: int, n: int, timing: ImceTiming | None, signed: bool
    ) -> tuple[int, int, int, int]:
        """(filters per block f, chunk width, capacity per filter, ones columns) of the layer's blocks:
        m weight rows per filter on a bit-wise sub-array, ceil(m / bits_per_cell) columns on a crossbar
        (plus a ones column for signed weights); f is 0 when a sub-array cannot hold one filter."""
        xb = timing.crossbar if timing is not None else None
        _, k_g, _, _ = layer_extents(layer)
        if xb is None:
            return min(k_g, (geom.rows - n) // m), geom.cols, m, 0
        slices = -(-m // xb.bits_per_cell)
        ones = 1 if signed else 0
        return min(k_g, (geom.cols - ones) // slices), geom.rows, slices, ones

    def blocks(
        self,
        layer: Layer,
        geom: ImceGeometry,
        m: int,
        n: int,
        timing: ImceTiming | None = None,
        signed: bool = True,
    ) -> int:
        """Weight blocks the layer needs (0 when a sub-array cannot hold one filter)."""
        groups, k_g, _, length = layer_extents(layer)
        f, chunk, _, _ = self._shape(layer, geom, m, n, timing, signed)
        if f < 1:
            return 0
        return groups * math.ceil(length / chunk) * math.ceil(k_g / f)

    def unsupported(
        self,
        layer: Layer,
        geom: ImceGeometry,
        m: int,
        n: int,
        timing: ImceTiming | None = None,
        signed: bool = True,
    ) -> str | None:
        """Why the mapping cannot place `layer`, or None."""
        if not layer.is_compute:
            return "pooling runs in the periphery, not on the sub-arrays"
        if self.blocks(layer, geom, m, n, timing, signed) == 0:
            if timing is not None and timing.crossbar is not None:
                return f"a {geom.cols}-column crossbar cannot hold one {m}-bit filter's weight slices"
            return f"a {geom.rows}-row sub-array cannot hold {m} weight planes plus {n} activation planes"
        return None

    def block_sizes(
        self, layer: Layer, geom: ImceGeometry, m: int, n: int, timing: ImceTiming | None, signed: bool
    ) -> np.ndarray:
        """Capacity each weight block takes on its sub-array, in the kernel's (group, filter block,
        chunk) order: f m weight rows (a crossbar: f slices columns, plus the ones column of a chunk's
        first filter block)."""
        groups, k_g, _, length = layer_extents(layer)
        f, chunk, per_filter, ones = self._shape(layer, geom, m, n, timing, signed)
        filter_blocks = math.ceil(k_g / f)
        sizes = np.array(
            [min(f, k_g - b * f) * per_filter + (ones if b == 0 else 0) for b in range(filter_blocks)]
        )
        q_chunks = math.ceil(length / chunk)
        return np.tile(np.repeat(sizes, q_chunks), groups).astype(np.int64)

    def map(self, layer: Layer, hardware: ImceHardware, masks: OperandMasks | None = None) -> ImceMapping:
        """Place the layer and count its actions with the schedule kernel (a dense engine: the masks do
        not change the mapping); the sub-arrays' cycles land on the chip's sub-arrays `hardware.units`."""
        geom, timing, m, n = hardware.geometry, hardware.timing, hardware.m, hardware.n
        why = self.unsupported(layer, geom, m, n, timing, hardware.signed)
        if why:
            raise ValueError(f"layer {layer.name!r}: {why}")
        groups, k_g, pixels, length = layer_extents(layer)
        units = np.asarray(hardware.units or range(geom.subarrays), dtype=np.int64)
        local = int(units.size)
        xb = timing.crossbar
        f, chunk, per_filter, _ = self._shape(layer, geom, m, n, timing, hardware.signed)
        slices = per_filter if xb is not None else 1
        if xb is None:
            busy, written, counts = schedule(
                k_g, groups, pixels, length, m, n, geom.rows, geom.cols, local,
                timing.t_and, timing.t_write, hardware.signed, hardware.load_weights, hardware.max_copies,
            )  # fmt: skip
        else:
            busy, written, counts = crossbar_schedule(
                k_g, groups, pixels, length, slices, n, geom.rows, geom.cols, local, timing.t_and,
                xb.adcs, xb.conv_milli, timing.t_write, hardware.signed, hardware.load_weights,
                hardware.max_copies,
            )  # fmt: skip
        blocks = self.blocks(layer, geom, m, n, timing, hardware.signed)
        chunks = math.ceil(length / chunk)
        rounds = math.ceil(blocks / local)
        copies = local // min(blocks, local)
        if hardware.max_copies:
            copies = min(copies, hardware.max_copies)
        tree_cols = 1 if xb is not None else geom.cols  # a crossbar's ADC gives the column sum
        return ImceMapping(
            m=m,
            n=n,
            groups=groups,
            k_per_group=k_g,
            pixels=pixels,
            length=length,
            chunks=chunks,
            filters_per_block=f,
            blocks=blocks,
            rounds=rounds,
            copies=copies,
            weights_written=hardware.load_weights or rounds > 1,
            busy=_on_chip(busy, units, geom.subarrays),
            written=_on_chip(written, units, geom.subarrays),
            counts=counts,
            dpu_cycles=dpu_latency(tree_cols, chunks) * timing.dpu_cycles_per_level,
            slices=slices,
            crossbar=xb is not None,
        )


def _on_chip(local: np.ndarray, units: np.ndarray, subarrays: int) -> np.ndarray:
    """A per-sub-array array of the layer's own units, placed on the chip's sub-arrays."""
    out = np.zeros(subarrays, dtype=np.int64)
    out[units] = local
    return out


@dataclass(frozen=True)
class Placement:
    """Where a network's weight blocks sit (`place_weights`)."""

    resident: dict[int, np.ndarray]
    """Layer position -> the sub-arrays of its blocks' copies, in the kernel's (block, copy) order."""
    copies: dict[int, int]
    """Layer position -> copies of each block (resident layers)."""
    working: np.ndarray
    """Sub-arrays holding no resident weights: the rewritten layers run there."""
    needed: int
    """Sub-arrays one copy of every layer's blocks needs (first fit on an unbounded chip)."""
    occupied: np.ndarray
    """Capacity the resident weights take on each sub-array."""


class PlacementError(ValueError):
    """The network's weights must all stay resident (weight_load: resident) but do not fit."""

    def __init__(self, needed: int, subarrays: int) -> None:
        super().__init__(f"the weights need {needed:,} sub-arrays, the chip has {subarrays:,}")
        self.needed = needed


def _first_fit(free: np.ndarray, sizes: np.ndarray, taken: np.ndarray) -> np.ndarray | None:
    """Sub-arrays for `sizes` (one each), first fit on `free` capacity, none on a `taken` sub-array nor
    two on one; updates `free` and `taken` and returns them, or None (nothing changed) if one does not fit."""
    chosen = np.empty(sizes.size, dtype=np.int64)
    for i, size in enumerate(sizes):
        fits = np.flatnonzero((free >= size) & ~taken)
        if fits.size == 0:
            free[chosen[:i]] += sizes[:i]
            taken[chosen[:i]] = False
            return None
        chosen[i] = fits[0]
        free[fits[0]] -= size
        taken[fits[0]] = True
    return chosen


def place_weights(
    sizes: Sequence[np.ndarray], capacity: int, subarrays: int, mode: WeightLoad, max_copies: int
) -> Placement:
    """Place the blocks of a network's layers (`sizes`: each layer's block sizes, network order) on
    `subarrays` sub-arrays of `capacity` each (docs/imce.md, "Where the weights live").

    One copy of every block, first fit, no two blocks of a layer on one sub-array. If everything fits
    (and mode is not per_layer), every layer is resident and gets more copies, one whole copy of a
    layer at a time in network order, while they fit and up to `max_copies` (0: no limit). If not:
    mode resident raises PlacementError; mode fit keeps the layers that fit, in network order, and
    rewrites the others on the sub-arrays left empty (keeping at least one empty: the last resident
    layers give theirs up if need be). per_layer keeps nothing."""
    total = sum(int(s.size) for s in sizes)
    needed = _count_needed(sizes, capacity, total)
    free = np.full(subarrays, capacity, dtype=np.int64)
    units: dict[int, list[np.ndarray]] = {}
    taken: dict[int, np.ndarray] = {}
    if mode != "per_layer":
        if needed > subarrays and mode == "resident":
            raise PlacementError(needed, subarrays)
        for i, s in enumerate(sizes):
            mask = np.zeros(subarrays, dtype=bool)
            chosen = _first_fit(free, s, mask)
            if chosen is not None:
                units[i], taken[i] = [chosen], mask
        rewritten = len(units) < len(sizes)
        while rewritten and units and not (free == capacity).any():  # keep a sub-array to rewrite on
            last = max(units)
            for chosen in units.pop(last):
                free[chosen] += sizes[last]
        if not rewritten:
            _add_copies(sizes, free, units, taken, max_copies)
    resident = {i: np.stack(c, axis=1).reshape(-1) for i, c in units.items()}  # block-major, copy-minor
    return Placement(
        resident=resident,
        copies={i: len(c) for i, c in units.items()},
        working=np.flatnonzero(free == capacity),
        needed=needed,
        occupied=capacity - free,
    )


def _count_needed(sizes: Sequence[np.ndarray], capacity: int, total: int) -> int:
    """Sub-arrays first fit gives one copy of every block on a chip with one sub-array per block."""
    free = np.full(max(total, 1), capacity, dtype=np.int64)
    for s in sizes:
        if _first_fit(free, s, np.zeros(free.size, dtype=bool)) is None:  # pragma: no cover
            raise ValueError("a block larger than a sub-array")
    return int((free < capacity).sum())


def _add_copies(
    sizes: Sequence[np.ndarray],
    free: np.ndarray,
    units: dict[int, list[np.ndarray]],
    taken: dict[int, np.ndarray],
    max_copies: int,
) -> None:
    """More copies of every resident layer, one whole copy per layer per pass, while they fit."""
    growing = [i for i in units if max_copies == 0 or max_copies > 1]
    while growing:
        still = []
        for i in growing:
            chosen = _first_fit(free, sizes[i], taken[i])
            if chosen is None:
                continue
            units[i].append(chosen)
            if max_copies == 0 or len(units[i]) < max_copies:
                still.append(i)
        growing = still
