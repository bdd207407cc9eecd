"""Row-stationary (RS) mapping of a layer onto the Eyeriss v1 PE array, with a small mapping search.

Logical mapping (Eyeriss ISCA'16 / JSSC'17): a PE set of R x E PEs computes one 2-D convolution, PE
(i, j) convolving filter row i with input row j U + i; each PE interleaves q channels and p filters
(q S <= ifmap spad, p q S <= filter spad, p <= psum spad). Physical mapping: the set is strip-mined
into strips of e <= cols output rows (folding), filters taller than the array into row chunks, and
the array holds floor(rows / R) x floor(cols / e) such segments at once (replication), each on a
different strip, channel block, filter block or group. A batch of N images runs in blocks of n
images (the Eyeriss papers' mapping parameter n) that share every pass, so every filter load and
filter DRAM fetch; the GLB must then hold n images' rows (the accelerator's tiling rule). The kernel
counts every pass exactly.

Search: every strip width e = ceil(E / n) <= cols (the six widest), q and p at their spad limits and
balanced over C and K (plus 1, 2, 4 channels), both unit orders, and images per pass n =
ceil(N / j) for j = 1..N; the mapping with the fewest cycles wins, ties broken by the on-chip plus
filter-DRAM energy of its counts (the hardware's `cost`; docs/assumptions.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from accelsim.dataflows.registry import Dataflow, register_dataflow
from accelsim.kernels.eyeriss_v1 import (
    COMPUTE_CYCLES,
    CYCLES,
    FILL_DRAIN_CYCLES,
    IFMAP_SHARING,
    MACS,
    N_COUNTS,
    PASSES,
    PE_PASS_CYCLES,
    WEIGHT_SHARING,
    rs_layer_counts,
)
from accelsim.workload.layer import Layer
from accelsim.workload.masks import OperandMasks

ORDER_NAMES = {IFMAP_SHARING: "filters innermost", WEIGHT_SHARING: "strips innermost"}


@dataclass(frozen=True)
class MappingCost:
    """How the search ranks mappings: pJ and DRAM bytes per kernel count, fixed DRAM bytes, bandwidth."""

    pj_per_count: np.ndarray
    dram_bytes_per_count: np.ndarray
    fixed_dram_bytes: float = 0.0
    dram_bytes_per_cycle: float | None = None

    def __post_init__(self) -> None:
        for name in ("pj_per_count", "dram_bytes_per_count"):
            if len(getattr(self, name)) != N_COUNTS:
                raise ValueError(f"{name} needs {N_COUNTS} entries (one per kernel count)")

    def key(self, counts: np.ndarray) -> tuple[float, float]:
        """(cycles bound, energy) of one mapping's counts; smaller is better."""
        cycles = float(counts[CYCLES])
        if self.dram_bytes_per_cycle is not None:
            dram = self.fixed_dram_bytes + float(np.dot(counts, self.dram_bytes_per_count))
            cycles = max(cycles, dram / self.dram_bytes_per_cycle)
        return cycles, float(np.dot(counts, self.pj_per_count))


@dataclass(frozen=True, slots=True)
class RsHardware:
    """What the mapping needs to know of the hardware: array, spads and bus words per cycle; the
    batch it maps for and how it ranks mappings that tie on cycles."""

    rows: int
    cols: int
    ifmap_spad: int
    filter_spad: int
    psum_spad: int
    bw_ifmap: int
    bw_filter: int
    bw_psum_in: int
    bw_psum_out: int
    batch: int = 1
    """Images in the batch (N); the search tries blocks of n <= N images per pass."""
    cost: Callable[[Layer, int], MappingCost] | None = None
    """cost(layer, n): pJ and DRAM bytes per kernel count with n images per pass (the search's DRAM
    cycle bound and energy tie-break); None ranks by array cycles alone (first candidate wins ties)."""


@dataclass(frozen=True, slots=True)
class RsMapping:
    """One layer's RS mapping and the kernel's exact counts for it over the whole batch (index with
    kernels.eyeriss_v1)."""

    e: int
    q: int
    p: int
    order: int
    r_chunk: int
    slots: int
    counts: np.ndarray
    batch: int = 1
    """Images in the batch; counts are totals over them."""
    n: int = 1
    """Images per pass (they share its filter load)."""

    @property
    def cycles(self) -> int:
        """Array cycles of the whole layer over the batch (NoC / compute bound, DRAM stalls not included)."""
        return int(self.counts[CYCLES])

    @property
    def busy_cycles(self) -> int:
        """Array cycles the PEs compute or the pipeline fills and drains."""
        return int(self.counts[COMPUTE_CYCLES] + self.counts[FILL_DRAIN_CYCLES])

    @property
    def wait_cycles(self) -> int:
        """Array cycles the PEs wait for a bus: filter loads, deliveries and drains between columns."""
        return self.cycles - self.busy_cycles

    @property
    def passes(self) -> int:
        """Passes of the array over the batch."""
        return int(self.counts[PASSES])

    @property
    def macs(self) -> int:
        """MACs performed over the batch (every MAC of the layer, padding included)."""
        return int(self.counts[MACS])

    def mapping_efficiency(self, pes: int) -> float:
        """Cycle-weighted mean fraction of PEs holding a segment."""
        cycles = self.cycles
        return float(self.counts[PE_PASS_CYCLES]) / (pes * cycles) if cycles else 0.0

    def describe(self) -> str:
        """One line for the results table."""
        text = (
            f"rs: segments {self.r_chunk}x{self.e} x{self.slots} per pass, q={self.q} ch, p={self.p} filt "
            f"per PE, {ORDER_NAMES[self.order]}, {self.passes} passes"
        )
        if self.batch > 1:
            text += f" for batch {self.batch} (n={self.n} of them per pass; counts over the batch)"
        return text


def _strip_widths(e_out: int, cols: int) -> list[int]:
    widths: list[int] = []
    for n in range(math.ceil(e_out / cols), e_out + 1):
        e = math.ceil(e_out / n)
        if e not in widths:
            widths.append(e)
        if len(widths) == 6:
            break
    return widths


def images_per_pass(batch: int) -> list[int]:
    """Candidate images per pass: ceil(batch / j) for j = 1..batch, largest first."""
    return sorted({math.ceil(batch / j) for j in range(1, batch + 1)}, reverse=True)


def _balanced(total: int, limit: int) -> set[int]:
    """`limit` and the smallest block size with the same number of blocks."""
    return {limit, math.ceil(total / math.ceil(total / limit))}


class RowStationary(Dataflow[RsHardware, RsMapping]):
    """The RS dataflow with a per-layer mapping search."""

    family = "eyeriss_v1"
    name = "row_stationary"

    def unsupported(self, layer: Layer, hw: RsHardware) -> str | None:
        """Why the PE cannot hold one window of the layer, or None."""
        if layer.s > hw.ifmap_spad:
            return f"a {layer.s}-tap filter row does not fit the {hw.ifmap_spad}-word ifmap spad"
        if layer.s > hw.filter_spad:
            return f"a {layer.s}-tap filter row does not fit the {hw.filter_spad}-word filter spad"
        return None

    def candidates(self, layer: Layer, hw: RsHardware) -> list[tuple[int, int, int, int]]:
        """(e, q, p, order) tuples the search evaluates."""
        c, k, s = layer.c_per_group, layer.k_per_group, layer.s
        q_max = min(c, hw.ifmap_spad // s)
        qs = _balanced(c, q_max) | {q for q in (1, 2, 4) if q <= q_max}
        out: list[tuple[int, int, int, int]] = []
        for e in _strip_widths(layer.out_h, hw.cols):
            for q in sorted(qs):
                p_max = min(k, hw.psum_spad, hw.filter_spad // (q * s))
                if p_max < 1:
                    continue
                for p in sorted(_balanced(k, p_max)):
                    out.extend((e, q, p, order) for order in (IFMAP_SHARING, WEIGHT_SHARING))
        return out

    def run(
        self, layer: Layer, hw: RsHardware, e: int, q: int, p: int, order: int, batch: int = 1, n: int = 1
    ) -> RsMapping:
        """The exact counts of one mapping over a batch in blocks of n images."""
        counts = rs_layer_counts(
            layer.groups, layer.c_per_group, layer.k_per_group, layer.out_h, layer.out_w,
            layer.r, layer.s, layer.stride, hw.rows, hw.cols, e, q, p, order,
            hw.bw_ifmap, hw.bw_filter, hw.bw_psum_in, hw.bw_psum_out, batch, n,
        )  # fmt: skip
        r_chunk = min(layer.r, hw.rows)
        slots = (hw.rows // r_chunk) * (hw.cols // e)
        return RsMapping(e, q, p, order, r_chunk, slots, counts, batch, n)

    def map(self, layer: Layer, hardware: RsHardware, masks: OperandMasks | None = None) -> RsMapping:
        """The candidate with the fewest batch cycles (array cycles, or DRAM transfer time when
        longer), then the least energy (`hardware.cost`). A dense array: `masks` are not used."""
        hw = hardware
        reason = self.unsupported(layer, hw)
        if reason:
            raise ValueError(f"layer {layer.name!r} cannot be mapped: {reason}")
        best: RsMapping | None = None
        best_key = (0.0, 0.0)
        for n in images_per_pass(hw.batch):
            rank = hw.cost(layer, n) if hw.cost is not None else None
            for e, q, p, order in self.candidates(layer, hw):
                m = self.run(layer, hw, e, q, p, order, hw.batch, n)
                key = rank.key(m.counts) if rank is not None else (float(m.cycles), 0.0)
                if best is None or key < best_key:
                    best, best_key = m, key
        if best is None:
            raise ValueError(f"layer {layer.name!r}: no RS mapping fits the spads")
        return best


ROW_STATIONARY = register_dataflow("eyeriss_v1", "row_stationary")(RowStationary())
