"""PT-IS-CP: SCNN's planar-tiled, input-stationary, Cartesian-product dataflow ([SCNN17 §III]).

How a layer is cut:

- **Output tiles.** The output plane is tiled over the pe_rows x pe_cols PEs; PE (py, px) owns a
  th x tw output tile. An input activation at unpadded (y, x) lives in the PE whose tile holds its
  *anchor* output (floor(y / stride), floor(x / stride)), clamped into the plane, so a stride-1
  "same" layer gives every PE the input tile equal to its output tile. Its products reach outputs
  up to ceil((R - 1 - pad) / stride) rows above and ceil(pad / stride) rows below the tile (columns
  alike): the output halo, exchanged with the neighbours after each group.
- **Stride phases.** With stride s an activation at (y, x) meets only weights with r = y mod s and
  c = x mod s; activations and weights are split into s^2 phase lists and only matching phases are
  multiplied (DNNsim's approach, [SCNN17]).
- **Output-channel groups.** Kc = accumulator entries / (th x tw) output channels at a time (at most
  the channels of one convolution group; depthwise layers therefore run with Kc = 1).
- **Weight order.** A group's non-zero weights of one input channel and phase stream to the PE
  linearised `rsk` (k innermost: DNNsim's `computeSCNNTile` builds the weight queue over r, then s,
  then k) or `krs` (s innermost, as the loop nest `K/Kc -> C -> W -> H -> Kc -> R -> S` of the SCNN
  paper's dense dataflow is often read). Consecutive F weights form a vector, so the order decides
  which products share a step: with `rsk` they are F output channels at one tap, whose products
  never share an accumulator entry; with `krs` on dense data one vector holds neighbouring (r, s) of
  one output channel, whose products with neighbouring activations land on the same output entries.
- **Temporal bands.** A layer whose compressed inputs or outputs overflow a PE's IARAM / OARAM is
  cut into bands of output rows, each run over the whole array; a band reads the input rows its
  outputs need, so rows on a band edge are read twice ([SCNN17]).
- **FC layers.** The 1 x 1 plane cannot be tiled: the input channels are dealt out to the PEs
  instead (PE p holds channels [p C/P, (p+1) C/P)), every PE accumulates partial sums of the same Kc
  outputs, and the PEs reduce them after each group. Each activation meets its F weights alone, so
  at most F of the F x I multipliers work: the 25 % of peak the paper reports ([SCNN17]).

`map` cuts the layer (plain arithmetic), builds the operand lists (CSR arrays) and runs the numba
kernel on them: the mapping it returns holds every PE's exact cycles in every output-channel group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accelsim.dataflows.registry import Dataflow, register_dataflow
from accelsim.kernels.scnn import (
    ACCUMULATORS,
    STAT_CONFLICT,
    STAT_DRAIN,
    STAT_ISSUED,
    STAT_MERGED,
    STAT_STEPS,
    STAT_VALID,
    bank_table,
    planar_layer,
    zero_run_entries,
)
from accelsim.kernels.scnn_lists import (
    WEIGHT_ORDERS,
    act_zero_run_entries,
    bucket_order,
    weight_lists,
    weight_zero_run_entries,
)
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.masks import OperandMasks


@dataclass(frozen=True, slots=True)
class PlanarGeometry:
    """The array as the dataflow needs it."""

    pe_rows: int
    pe_cols: int
    f: int
    i: int
    accumulator_entries: int

    @property
    def pes(self) -> int:
        """Number of PEs."""
        return self.pe_rows * self.pe_cols


@dataclass(frozen=True, slots=True)
class PlanarHardware:
    """The array a layer maps onto and the mapping options: accumulator banks (whether their conflicts
    are modelled, and how the banks take a step's products: `accumulator`, one of
    `kernels.scnn.ACCUMULATORS`, with `queue_depth` products per bank FIFO when queued, emptied after
    every input channel when `drain_each_channel`), the weight order, and the temporal bands the layer
    is cut into (sized by the accelerator from its RAMs and the layer's footprint)."""

    geometry: PlanarGeometry
    banks: int = 32
    conflicts: bool = True
    weight_order: str = "rsk"
    bands: int = 1
    accumulator: str = "lockstep"
    queue_depth: int = 0
    drain_each_channel: bool = False

    def __post_init__(self) -> None:
        if self.accumulator not in ACCUMULATORS:
            raise ValueError(f"accumulator must be one of {ACCUMULATORS}, got {self.accumulator!r}")
        if self.queue_depth < 0:
            raise ValueError(f"queue_depth must be >= 0, got {self.queue_depth}")


@dataclass(frozen=True, slots=True)
class PlanarTiling:
    """How one layer is cut: tiles, bands, output-channel groups, halos."""

    fc: bool
    stride: int
    phases: int
    tile_h: int
    """Output rows of one PE tile (in the tallest band)."""
    tile_w: int
    """Output columns of one PE tile."""
    kc: int
    """Output channels per group."""
    bands: tuple[tuple[int, int], ...]
    """Output-row ranges [start, end) processed one after another."""
    halo_rows: tuple[int, int]
    """Output rows of the halo above and below a tile."""
    halo_cols: tuple[int, int]
    """Output columns of the halo left and right of a tile."""
    groups: int
    """Convolution groups of the layer."""
    kc_blocks: int
    """Output-channel groups per convolution group."""

    @property
    def output_groups(self) -> int:
        """Output-channel groups of the whole layer (all bands)."""
        return len(self.bands) * self.groups * self.kc_blocks

    def describe(self) -> str:
        """One line for the results table."""
        if self.fc:
            return f"pt-is-cp fc: input channels over PEs, Kc={self.kc}, {self.output_groups} groups"
        stride = f", stride {self.stride}: {self.phases} phases" if self.stride > 1 else ""
        band = f", {len(self.bands)} temporal bands" if len(self.bands) > 1 else ""
        return (
            f"pt-is-cp: {self.tile_h}x{self.tile_w} output tile per PE, Kc={self.kc}, "
            f"{self.output_groups} groups{stride}{band}"
        )


@dataclass(frozen=True, slots=True)
class OperandLists:
    """CSR operand lists of one layer plus the table of output-channel groups (see kernels.scnn)."""

    a_ptr: np.ndarray
    a_x: np.ndarray
    a_y: np.ndarray
    w_ptr: np.ndarray
    w_k: np.ndarray
    w_r: np.ndarray
    w_s: np.ndarray
    og_band: np.ndarray
    og_wgroup: np.ndarray
    og_chan0: np.ndarray
    og_oy0: np.ndarray
    og_oy1: np.ndarray
    og_kc: np.ndarray
    """Output channels in each group (the last group of a convolution group may be short)."""
    band_act_entries: np.ndarray
    """Activations (listed, i.e. non-zero for sparse lists) read by each band."""


def _k_outer(weight_order: str) -> bool:
    """Whether `weight_order` puts k outermost (krs); rejects unknown orders."""
    if weight_order not in WEIGHT_ORDERS:
        raise ValueError(f"weight_order must be one of {WEIGHT_ORDERS}, got {weight_order!r}")
    return weight_order == "krs"


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _ptr(counts: np.ndarray) -> np.ndarray:
    """CSR offsets from list lengths."""
    ptr = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr


def _repeat_counts(ptr: np.ndarray, shape: tuple[int, int, int], times: int) -> np.ndarray:
    """Offsets of lists whose lengths, shaped `shape` with a middle axis of 1, repeat `times` along it."""
    counts = np.diff(ptr).reshape(shape)
    return _ptr(np.repeat(counts, times, axis=1).ravel())


@dataclass(frozen=True)
class PlanarMapping:
    """One layer on the array: its tiling, operand lists, which PEs hold a tile, and the kernel's exact
    cycles and counters of every PE in every output-channel group (`kernels.scnn.planar_layer`)."""

    tiling: PlanarTiling
    ops: OperandLists
    busy: np.ndarray
    """int64[groups, pes]: compute cycles of each PE in each output-channel group."""
    strict: np.ndarray
    """int64[groups]: each group's compute cycles under a barrier after every input channel."""
    stats: np.ndarray
    """int64[N_STATS]: the kernel's layer counters (kernels.scnn.STAT_*)."""
    tiled: np.ndarray
    """bool[bands, pes]: whether each PE holds an output tile (FC: input channels) in each band."""

    @property
    def groups(self) -> int:
        """Output-channel groups of the layer (all bands)."""
        return int(self.busy.shape[0])

    @property
    def issued(self) -> int:
        """Products the multipliers formed."""
        return int(self.stats[STAT_ISSUED])

    @property
    def valid(self) -> int:
        """Products accumulated inside the output plane (0 for dense lists: no product is examined)."""
        return int(self.stats[STAT_VALID])

    @property
    def steps(self) -> int:
        """Cartesian-product steps (one F-vector x one I-vector each)."""
        return int(self.stats[STAT_STEPS])

    @property
    def conflict_cycles(self) -> int:
        """Cycles steps spent waiting for a busy accumulator bank or a full bank FIFO."""
        return int(self.stats[STAT_CONFLICT])

    @property
    def drain_cycles(self) -> int:
        """Cycles PEs spent emptying their bank FIFOs after their last step (queued accumulator)."""
        return int(self.stats[STAT_DRAIN])

    @property
    def accumulator_accesses(self) -> int:
        """Accumulator read-modify-writes: the valid products, less those merged into another."""
        return self.valid - int(self.stats[STAT_MERGED])

    def describe(self) -> str:
        """One line for the results table."""
        return self.tiling.describe()


class PlanarTiledCP(Dataflow[PlanarHardware, PlanarMapping]):
    """PT-IS-CP: `sparse` lists only non-zero operands (SCNN), dense lists all of them (DCNN)."""

    family = "scnn"

    def __init__(self, name: str, sparse: bool) -> None:
        self.name = name
        self.sparse = sparse

    def map(self, layer: Layer, hardware: PlanarHardware, masks: OperandMasks | None = None) -> PlanarMapping:
        """Cut `layer` into `hardware.bands` bands, list each PE's operands (the non-zeros of `masks`
        when sparse; dense lists need no masks) and run every PE of every output-channel group."""
        if self.sparse and masks is None:
            raise ValueError(f"{self!r} lists the non-zero operands of the exact masks; none given")
        geom = hardware.geometry
        m = self.tiling(layer, geom, hardware.bands)
        ops = self.operand_lists(layer, geom, m, masks, hardware.weight_order)
        busy, strict, stats = planar_layer(
            ops.a_ptr, ops.a_x, ops.a_y, ops.w_ptr, ops.w_k, ops.w_r, ops.w_s,
            ops.og_band, ops.og_wgroup, ops.og_chan0, ops.og_oy0, ops.og_oy1,
            layer.c, layer.c_per_group, geom.pes, m.phases, m.stride, 1 if m.fc else layer.out_w,
            geom.f, geom.i, bank_table(hardware.banks), hardware.conflicts, self.sparse,
            ACCUMULATORS.index(hardware.accumulator), hardware.queue_depth, hardware.drain_each_channel,
        )  # fmt: skip
        return PlanarMapping(m, ops, busy, strict, stats, self.tiled_pes(layer, geom, m))

    def tiling(self, layer: Layer, geom: PlanarGeometry, bands: int = 1) -> PlanarTiling:
        """Tiles, Kc, halos and `bands` temporal bands of output rows for `layer`."""
        if layer.kind is LayerKind.FC:
            kc = min(layer.k, geom.accumulator_entries)
            return PlanarTiling(True, 1, 1, 1, 1, kc, ((0, 1),), (0, 0), (0, 0), 1, _ceil(layer.k, kc))
        st = layer.stride
        bands = max(1, min(bands, layer.out_h))
        band_h = _ceil(layer.out_h, bands)
        edges = tuple((b, min(layer.out_h, b + band_h)) for b in range(0, layer.out_h, band_h))
        tile_h = _ceil(band_h, geom.pe_rows)
        tile_w = _ceil(layer.out_w, geom.pe_cols)
        kc = max(1, min(layer.k_per_group, geom.accumulator_entries // (tile_h * tile_w)))
        return PlanarTiling(
            fc=False,
            stride=st,
            phases=st * st,
            tile_h=tile_h,
            tile_w=tile_w,
            kc=kc,
            bands=edges,
            halo_rows=(_ceil(max(0, layer.r - 1 - layer.pad), st), _ceil(layer.pad, st)),
            halo_cols=(_ceil(max(0, layer.s - 1 - layer.pad), st), _ceil(layer.pad, st)),
            groups=layer.groups,
            kc_blocks=_ceil(layer.k_per_group, kc),
        )

    def tiled_pes(self, layer: Layer, geom: PlanarGeometry, m: PlanarTiling) -> np.ndarray:
        """bool[bands, pes]: PEs whose output tile in each band is not empty (FC: PEs holding input
        channels). The others get no operand: `_act_lists` anchors every activation inside these tiles."""
        pe = np.arange(geom.pes)
        if m.fc:
            return (pe * _ceil(layer.c, geom.pes) < layer.c)[None, :]
        py, px = pe // geom.pe_cols, pe % geom.pe_cols
        rows = np.array([o1 - o0 for o0, o1 in m.bands], dtype=np.int64)[:, None]
        th = -(-rows // geom.pe_rows)  # each band's own tile height, as `_act_lists` deals its rows
        return (py[None, :] * th < rows) & (px[None, :] * m.tile_w < layer.out_w)

    def operand_lists(
        self,
        layer: Layer,
        geom: PlanarGeometry,
        mapping: PlanarTiling,
        masks: OperandMasks | None,
        weight_order: str = "rsk",
    ) -> OperandLists:
        """CSR lists of the operands each PE multiplies (only the non-zeros of `masks` when sparse).

        `weight_order` (one of WEIGHT_ORDERS) orders each weight list; dense lists are only counted.
        """
        og = self._groups(layer, mapping)
        if self.sparse:
            if masks is None:
                raise ValueError("sparse operand lists need the operand masks")
            w = self._weight_lists(layer, mapping, masks.weights, weight_order)
            a_ptr, a_x, a_y, per_band = self._act_lists(layer, geom, mapping, masks.activations)
            return OperandLists(a_ptr, a_x, a_y, w[0], w[1], w[2], w[3], *og, band_act_entries=per_band)
        # Dense: every channel has the same lists, so count one channel and repeat the counts;
        # the kernel needs only the list lengths (no product is examined).
        one_w = np.ones((layer.k, 1, layer.r, layer.s), dtype=bool)
        one_a = np.ones((1, layer.h, layer.w), dtype=bool)
        w_ptr1 = self._weight_lists(layer, mapping, one_w, weight_order)[0]
        a_ptr1, _, _, band1 = self._act_lists(layer, geom, mapping, one_a, chans=1)
        w_ptr = _repeat_counts(w_ptr1, (-1, 1, mapping.phases), layer.c_per_group)
        n_bands, per_key = len(mapping.bands), geom.pes * mapping.phases
        if mapping.fc:  # one activation per channel, on the PE that owns the channel
            cp = _ceil(layer.c, geom.pes)
            counts = np.zeros((1, layer.c, geom.pes), dtype=np.int64)
            counts[0, np.arange(layer.c), np.arange(layer.c) // cp] = 1
            a_ptr = _ptr(counts.ravel())
        else:
            a_ptr = _repeat_counts(a_ptr1, (n_bands, 1, per_key), layer.c)
        empty = np.zeros(0, dtype=np.int64)
        return OperandLists(
            a_ptr, empty, empty, w_ptr, empty, empty, empty, *og, band_act_entries=band1 * layer.c
        )

    def _weight_lists(
        self, layer: Layer, m: PlanarTiling, weights: np.ndarray, weight_order: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per (weight group, input channel, phase): non-zeros in `weight_order`, k local to the group.

        `weights` is (k, c / groups, r, s); a single-channel mask gives the lists of one channel.
        """
        wm = np.ascontiguousarray(weights, dtype=bool)
        return weight_lists(wm, layer.k_per_group, m.kc, m.kc_blocks, m.stride, _k_outer(weight_order))

    def _act_lists(
        self, layer: Layer, geom: PlanarGeometry, m: PlanarTiling, acts: np.ndarray, chans: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per (band, channel, PE, phase): activations in row-major order, padded coordinates."""
        c, y, x = (v.astype(np.int64) for v in np.nonzero(np.asarray(acts, dtype=bool)))
        pes, ph = geom.pes, m.phases
        chans = layer.c if chans is None else chans
        n_keys = len(m.bands) * chans * pes * ph
        xs, ys, keys, per_band = [], [], [], []
        if m.fc:
            cp = _ceil(chans, pes)
            key = (c * pes + c // cp) * ph
            xs, ys, keys, per_band = [np.zeros_like(c)], [np.zeros_like(c)], [key], [c.size]
        else:
            st, yp, xp = m.stride, y + layer.pad, x + layer.pad
            px = np.minimum(x // st, layer.out_w - 1) // m.tile_w
            phase = (yp % st) * st + (xp % st)
            for b, (o0, o1) in enumerate(m.bands):
                lo = -(-(yp - layer.r + 1) // st)  # first output row the activation reaches
                inside = (lo < o1) & (yp // st >= o0)
                th = _ceil(o1 - o0, geom.pe_rows)
                py = (np.clip(y[inside] // st, o0, o1 - 1) - o0) // th
                pe = py * geom.pe_cols + px[inside]
                key = ((b * chans + c[inside]) * pes + pe) * ph + phase[inside]
                xs.append(xp[inside])
                ys.append(yp[inside])
                keys.append(key)
                per_band.append(int(inside.sum()))
        ptr, order = bucket_order(np.concatenate(keys), n_keys)
        return ptr, np.concatenate(xs)[order], np.concatenate(ys)[order], np.array(per_band, dtype=np.int64)

    def _groups(
        self, layer: Layer, m: PlanarTiling
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Output-channel groups in execution order: band, convolution group, channel block."""
        rows = []
        for b, (o0, o1) in enumerate(m.bands):
            for g in range(m.groups):
                for j in range(m.kc_blocks):
                    kc = min(m.kc, layer.k_per_group - j * m.kc)
                    rows.append((b, g * m.kc_blocks + j, g * layer.c_per_group, o0, o1, kc))
        cols = np.array(rows, dtype=np.int64).reshape(-1, 6)
        band, wgroup, chan0, oy0, oy1, kcs = (np.ascontiguousarray(cols[:, j]) for j in range(6))
        return band, wgroup, chan0, oy0, oy1, kcs

    def compressed_entries(self, layer: Layer, geom: PlanarGeometry, m: PlanarTiling, acts: np.ndarray,
                           weights: np.ndarray, max_run: int,
                           weight_order: str = "rsk") -> tuple[int, int]:  # fmt: skip
        """(activation entries, weight entries) of SCNN's zero-run format with `max_run`-zero indices.

        Activations are compressed per input channel and PE tile (row-major), weights per input
        channel and output-channel group, linearised in `weight_order` ([SCNN17 §III]).
        """
        w_entries = weight_zero_run_entries(
            np.ascontiguousarray(weights, dtype=bool), layer.k_per_group, m.kc, m.kc_blocks, max_run,
            _k_outer(weight_order),
        )  # fmt: skip
        return self.compressed_act_entries(layer, geom, m, acts, max_run), int(w_entries)

    def compressed_act_entries(
        self, layer: Layer, geom: PlanarGeometry, m: PlanarTiling, acts: np.ndarray, max_run: int
    ) -> int:
        """Activation entries of SCNN's zero-run format: per input channel and PE tile, row-major."""
        if m.fc:
            c = np.flatnonzero(np.asarray(acts, dtype=bool).reshape(-1)).astype(np.int64)
            cp = _ceil(layer.c, geom.pes)
            return int(zero_run_entries(c // cp, c % cp, max_run))  # c ascending: sorted by block
        st = m.stride
        y = np.arange(layer.h, dtype=np.int64)[:, None]
        x = np.arange(layer.w, dtype=np.int64)[None, :]
        ay = np.minimum(y // st, layer.out_h - 1)
        ax = np.minimum(x // st, layer.out_w - 1)
        tile_h = _ceil(layer.out_h, geom.pe_rows)
        pe = (ay // tile_h) * geom.pe_cols + ax // m.tile_w
        y0 = (ay // tile_h) * tile_h * st
        x0 = (ax // m.tile_w) * m.tile_w * st
        last = ax // m.tile_w == (layer.out_w - 1) // m.tile_w  # the last column holds the rest
        width = np.where(last, layer.w - x0, np.minimum(m.tile_w * st, layer.w - x0))  # columns stored
        pos = (y - y0) * width + (x - x0)
        am = np.ascontiguousarray(acts, dtype=bool)
        return int(
            act_zero_run_entries(am, np.ascontiguousarray(pe), np.ascontiguousarray(pos), geom.pes, max_run)
        )


register_dataflow("scnn", "pt_is_cp_sparse")(PlanarTiledCP("pt_is_cp_sparse", sparse=True))
register_dataflow("scnn", "pt_is_cp_dense")(PlanarTiledCP("pt_is_cp_dense", sparse=False))


def halo_cycles(m: PlanarTiling, kc: int, pes: int) -> int:
    """Cycles to exchange one group's halo (or, for FC, to reduce its partial sums across PEs).

    Conv: a PE sends its halo regions (up to eight: sides and corners) to its neighbours in parallel,
    one partial sum per link per cycle: largest region x Kc (DNNsim's rule, [DNNSIM20]).
    FC: the PEs reduce Kc partial sums along a pipelined chain: Kc + PEs - 1 cycles [assumption].
    """
    if m.fc:
        return kc + pes - 1
    rows, cols = (*m.halo_rows, m.tile_h), (*m.halo_cols, m.tile_w)
    region = max(a * b for j, a in enumerate(rows) for q, b in enumerate(cols) if (j, q) != (2, 2))
    return region * kc


def halo_psums(m: PlanarTiling, kc: int, pes: int) -> int:
    """Partial sums sent between PEs for one group (all PEs): halos, or the FC reduction."""
    if m.fc:
        return kc * (pes - 1)
    per_pe = (sum(m.halo_rows) + m.tile_h) * (sum(m.halo_cols) + m.tile_w) - m.tile_h * m.tile_w
    return per_pe * kc * pes


def fits(nbytes_per_pe: float, kib: float) -> int:
    """Temporal bands needed so that `nbytes_per_pe` fits a `kib` RAM."""
    return max(1, math.ceil(nbytes_per_pe / (kib * 1024)))
