"""Eyeriss v2's row-stationary-plus mapping: a layer cut into per-PE sparse tiles ([EYERISSV2-19 §II-§IV]).

A PE tile is M0 output channels x C0 input channels x all R x S taps, swept over a block of output
positions (weights stay in the PE for the block, psums of the M0 channels stay in the psum SPad).
Depthwise layers tile channels only (each channel meets its own filter; no M dimension to share).
Tiles go to PEs statically, either by the cluster structure (`cluster_schedule`: a weight tile to a
row of PEs that share its multicast, the row's PEs splitting its output positions, rows of a cluster
sharing iact deliveries) or round robin (tile i on PE i mod PEs, ignoring clusters); their C0
partial sums are added in the GLB psum banks. Operands go in CSC unless they are dense (or the PE is a dense
one, Eyeriss v1.5, that never takes CSC), and iacts of depthwise layers always go uncompressed:
with one input and one output channel per column, CSC creates no skippable cycles (paper §V-A2).
The densities that choose CSC and size the tiles are those of the layer's exact operand masks (the
mapper sees the data it maps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accelsim.dataflows.registry import Dataflow, register_dataflow
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.masks import OperandMasks


@dataclass(frozen=True, slots=True)
class PeGeometry:
    """PE array and the per-PE limits the tiling must respect."""

    pes: int
    c0: int
    m0: int
    items_per_pe: int
    iact_spad_entries: int
    weight_spad_entries: int
    compress_below: float
    sparse: bool = True
    """False: a dense PE, operands always raw whatever their density."""
    clusters: int = 1
    pes_per_cluster: int = 0
    """PEs per cluster (0: the whole array is one cluster)."""
    rows: int = 1
    """PE rows per cluster: a row shares one weight router, so one weight multicast."""
    assignment: str = "round_robin"
    """"clusters" (`cluster_schedule`) or "round_robin" (tile i on PE i mod PEs)."""

    @property
    def row_pes(self) -> int:
        """PEs of one row: a cluster's PEs / its rows when they divide evenly, else 1 (each PE its own
        weight row)."""
        per_cluster = self.pes_per_cluster or self.pes
        return per_cluster // self.rows if per_cluster % self.rows == 0 else 1


@dataclass(frozen=True)
class PeTiling:
    """How one group of a layer is cut into work items (m-group, c-group, block of output positions)."""

    depthwise: bool
    m_bounds: np.ndarray
    """Filter-group starts with the end appended (a depthwise layer has one group spanning all filters)."""
    c_bounds: np.ndarray
    pix_bounds: np.ndarray
    iacts_compressed: bool
    weights_compressed: bool

    @property
    def shape(self) -> tuple[int, int, int]:
        """(m-groups, c-groups, output blocks)."""
        return (len(self.m_bounds) - 1, len(self.c_bounds) - 1, len(self.pix_bounds) - 1)

    @property
    def items(self) -> int:
        """Work items of the group."""
        return math.prod(self.shape)

    def describe(self) -> str:
        """One line for the results table."""
        mg, cg, pb = self.shape
        m0 = int(np.diff(self.m_bounds).max())
        c0 = int(np.diff(self.c_bounds).max())
        kind = "dw: " if self.depthwise else f"M0={m0} x{mg}, "
        iacts = "CSC" if self.iacts_compressed else "raw"
        weights = "CSC" if self.weights_compressed else "raw"
        fmt = f"iacts {iacts}, weights {weights}"
        return f"rs+: {kind}C0={c0} x{cg}, {pb} output blocks; {fmt}"


def _bounds(n: int, parts: int) -> np.ndarray:
    """Starts of `parts` near-equal contiguous blocks of range(n), with n appended."""
    return np.array([(i * n) // parts for i in range(parts + 1)], dtype=np.int64)


def _tiles(n: int, size: int) -> np.ndarray:
    """Starts of blocks of `size` covering range(n), with n appended."""
    return np.array([*range(0, n, size), n], dtype=np.int64)


class RowStationaryPlus(Dataflow[PeGeometry, PeTiling]):
    """The RS+ tiling of Eyeriss v2."""

    family = "eyeriss_v2"
    name = "rs_plus"

    def map(self, layer: Layer, hardware: PeGeometry, masks: OperandMasks | None = None) -> PeTiling:
        """The tiling of one group of `layer` (every group is tiled alike) for `hardware`'s PEs; the
        densities of `masks` (None: dense operands) choose CSC or raw operands and the tile size."""
        if masks is None:
            return self._tile(layer, 1.0, 1.0, hardware)
        return self._tile(layer, _density(masks.weights), _density(masks.activations), hardware)

    def _tile(self, layer: Layer, weight_density: float, act_density: float, geom: PeGeometry) -> PeTiling:
        """Tile one group of `layer` for `geom` PEs at the given operand densities."""
        depthwise = layer.kind is LayerKind.DEPTHWISE
        taps = layer.r * layer.s
        weights_compressed = geom.sparse and weight_density < geom.compress_below
        iacts_compressed = geom.sparse and (not depthwise) and act_density < geom.compress_below
        if depthwise:
            c0 = min(layer.c, geom.c0)
            m_bounds = np.array([0, layer.k], dtype=np.int64)
        else:
            # The iact window of one filter row (C0 x S) fits the iact SPad; the non-zero weights
            # of the tile (sparsity-aware mapping, paper Table III) fit the weight SPad.
            c0 = max(1, min(layer.c_per_group, geom.c0, geom.iact_spad_entries // layer.s))
            stored = weight_density if weights_compressed else 1.0
            m_fit = max(1, int(geom.weight_spad_entries // max(1e-9, c0 * taps * stored)))
            m0 = max(1, min(layer.k_per_group, geom.m0, m_fit))
            m_bounds = _tiles(layer.k_per_group, m0)
        c_span = layer.c if depthwise else layer.c_per_group
        c_bounds = _tiles(c_span, c0)
        pixels = layer.out_h * layer.out_w
        per_pixel = (len(m_bounds) - 1) * (len(c_bounds) - 1)
        if geom.assignment == "clusters":
            blocks = _row_split(per_pixel, pixels, geom).blocks
        else:
            blocks = min(pixels, max(1, math.ceil(geom.items_per_pe * geom.pes / per_pixel)))
        return PeTiling(
            depthwise=depthwise,
            m_bounds=m_bounds,
            c_bounds=c_bounds,
            pix_bounds=_bounds(pixels, blocks),
            iacts_compressed=iacts_compressed,
            weights_compressed=weights_compressed,
        )


@dataclass(frozen=True, slots=True)
class RowSplit:
    """How the weight tiles of a group spread over the weight rows (rows of PEs sharing a weight
    multicast): each weight tile is cut into `parts` row jobs of `row_pes` x `per_pe` output blocks."""

    row_pes: int
    """PEs sharing one weight delivery (one PE when the layer has fewer output positions than a row)."""
    weight_rows: int
    parts: int
    per_pe: int

    @property
    def blocks(self) -> int:
        """Output blocks of the group."""
        return self.parts * self.row_pes * self.per_pe


def _row_split(weight_tiles: int, pixels: int, geom: PeGeometry) -> RowSplit:
    """Weight rows share a tile's weights and split its output positions; few weight tiles are
    replicated over several rows (each a part of the positions) so that every row works; the
    blocks per PE aim at `items_per_pe` tiles per PE."""
    row_pes = geom.row_pes if pixels >= geom.row_pes else 1
    weight_rows = max(1, geom.pes // row_pes)
    parts = _parts(weight_tiles, weight_rows, pixels // row_pes)
    per_pe = max(1, math.ceil(geom.items_per_pe * weight_rows / (weight_tiles * parts)))
    per_pe = max(1, min(per_pe, pixels // (parts * row_pes)))
    return RowSplit(row_pes, weight_rows, parts, per_pe)


def _parts(weight_tiles: int, weight_rows: int, most: int) -> int:
    """Row jobs per weight tile: the parts (at most `most` and ceil(2 x weight rows / weight tiles))
    that fill the rounds best, the fewest among equals (busy share = row jobs / (weight rows x
    rounds)). Every extra part is another weight delivery, hence the cap."""
    best, best_fill = 1, 0.0
    for parts in range(1, max(1, min(most, math.ceil(2 * weight_rows / weight_tiles))) + 1):
        jobs = weight_tiles * parts
        fill = jobs / (weight_rows * math.ceil(jobs / weight_rows))
        if fill > best_fill + 1e-12:
            best, best_fill = parts, fill
    return best


@dataclass(frozen=True)
class ClusterSchedule:
    """Where and when every tile (m-group, c-group, block; flat in that order) of one group runs."""

    pe: np.ndarray
    """PE of each tile."""
    step: np.ndarray
    """Each tile's position in its PE's sequence (round, then block)."""
    round: np.ndarray
    """The round of each tile: its row job's index over the weight rows."""
    row_job: np.ndarray
    """The row job (weight tile and part of its positions) of each tile: one weight multicast."""
    row_pes: int

    @property
    def rounds(self) -> int:
        """Rounds of the group."""
        return int(self.round.max()) + 1 if self.round.size else 0


def cluster_schedule(tiling: PeTiling, geom: PeGeometry) -> ClusterSchedule:
    """Row jobs (c-group, part, m-group: neighbouring rows share a c-group and positions, so iacts)
    go to the weight rows in turn, cluster by cluster; a row job's blocks go to the row's PEs in
    contiguous runs, one run per PE; each PE runs its tiles round after round, block after block."""
    mg_n, cg_n, pb_n = tiling.shape
    pixels = int(tiling.pix_bounds[-1])
    split = _row_split(mg_n * cg_n, pixels, geom)
    parts, row_pes, per_pe = split.parts, split.row_pes, pb_n // (split.parts * split.row_pes)
    g, c, b = (a.ravel() for a in np.indices((mg_n, cg_n, pb_n)))
    part, within = np.divmod(b, row_pes * per_pe)
    job = (c * parts + part) * mg_n + g
    row, rnd = job % split.weight_rows, job // split.weight_rows
    pe = row * row_pes + within // per_pe
    step = rnd * per_pe + within % per_pe
    return ClusterSchedule(pe, step, rnd, job, row_pes)


def _density(mask: np.ndarray) -> float:
    """Fraction of non-zero entries."""
    return np.count_nonzero(mask) / mask.size if mask.size else 1.0


RS_PLUS = register_dataflow("eyeriss_v2", "rs_plus")(RowStationaryPlus())
