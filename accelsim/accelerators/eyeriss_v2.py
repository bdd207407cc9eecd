"""Eyeriss v2 (Chen et al., JETCAS 2019): sparse PEs in clusters on a hierarchical mesh NoC.

Per layer: the RS+ dataflow cuts each group into PE tiles; the sparse-PE kernel counts each tile's
cycles from the exact operand masks; the engine plays the tiles on the PEs (static assignment, one
timeline unit of `simd` multipliers per PE). The HM-NoC and DRAM bound the layer from below in closed
form (the plan's `bound`): per cluster, the iact, weight and psum networks deliver at most routers x
words-per-port each cycle (multicast: one delivery per distinct iact window block or weight tile in a
cluster), and DRAM moves the layer's bytes at its bandwidth. Layer cycles = max(PE makespan, slowest
cluster's NoC time, DRAM time); the excess is a memory stall of every PE. See docs/eyeriss_v2.md and
docs/assumptions.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from accelsim.accelerators.base import Accelerator
from accelsim.accelerators.plan import Extension, LayerPlan, Units
from accelsim.accelerators.registry import register
from accelsim.config.arch.eyeriss_v2 import EyerissV2Spec
from accelsim.dataflows import get_dataflow
from accelsim.dataflows.eyeriss_v2 import PeGeometry, PeTiling, RowStationaryPlus
from accelsim.energy import ActionEnergy, EnergyModel
from accelsim.engine import WorkItem
from accelsim.kernels.eyeriss_v2 import (
    N_STATS,
    STAT_CYCLES,
    STAT_EFFECTUAL,
    STAT_EMPTY,
    STAT_ENTERED,
    STAT_IDLE_LANES,
    STAT_SLOTS,
    column_counts,
    pe_tile_stats,
)
from accelsim.report.schema import Slots
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer

CSC_WORD_BITS = 12
"""An 8-bit value and its 4-bit zero count (paper §IV-A)."""


@dataclass
class LayerCounts:
    """Everything counted over the work items of one layer (all groups)."""

    clusters: int
    item_cycles: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Cycles of every work item (tile), in issue order."""
    item_pe: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """PE of every work item (item i of the layer runs on PE i mod PEs)."""
    slots: int = 0
    """MACs issued (weights multiplied, SIMD padding excluded)."""
    entered: int = 0
    empty: int = 0
    """Weight-column look-ups that found an empty column."""
    effectual: int = 0
    """MACs issued with both operands non-zero."""
    idle_lanes: int = 0
    """SIMD lanes the MAC cycles left empty."""
    iact_words: np.ndarray = field(init=False)
    """Iact words delivered to each cluster (multicast counted once)."""
    weight_words: np.ndarray = field(init=False)
    """Weight words delivered to each cluster (one delivery per weight tile and cluster)."""
    psum_words: np.ndarray = field(init=False)
    """Psums each cluster sends to the GLB."""
    iact_raw: bool = False
    weight_raw: bool = False
    describe: str = ""

    def __post_init__(self) -> None:
        self.iact_words = np.zeros(self.clusters)
        self.weight_words = np.zeros(self.clusters)
        self.psum_words = np.zeros(self.clusters)


@register("eyeriss_v2")
class EyerissV2(Accelerator):
    """clusters x pes_per_cluster sparse PEs with `simd` MACs each (192 PEs x 2 in the paper)."""

    spec: EyerissV2Spec

    def __init__(self, spec: EyerissV2Spec) -> None:
        super().__init__(spec)
        self.dataflow = get_dataflow("eyeriss_v2", spec.dataflow, RowStationaryPlus)
        self.energy = EnergyModel.from_technology(spec.technology)
        m, pe = spec.mapping, spec.pe
        self.geometry = PeGeometry(
            pes=self.pes,
            c0=m.c0,
            m0=m.m0,
            items_per_pe=m.items_per_pe,
            iact_spad_entries=pe.iact_spad_entries,
            weight_spad_entries=pe.weight_spad_entries,
            compress_below=pe.compress_below,
            sparse=pe.sparse,
        )

    @property
    def pes(self) -> int:
        """Number of PEs."""
        return self.spec.clusters * self.spec.pes_per_cluster

    def unsupported(self, layer: Layer) -> str | None:
        """Every conv, depthwise, pointwise and FC layer maps (pooling runs off-chip, paper §V-B)."""
        return None if layer.is_compute else "pooling runs off-chip on Eyeriss v2"

    def count(self, work: LayerWorkload) -> LayerCounts:
        """Tile every group, run the sparse-PE kernel, and tally NoC deliveries per cluster."""
        layer, spec = work.layer, self.spec
        masks = work.masks
        acts = np.pad(
            masks.activations,
            ((0, 0), (layer.pad, layer.pad + layer.pad_end[0]), (layer.pad, layer.pad + layer.pad_end[1])),
        )
        groups = 1 if layer.kind == "depthwise" else layer.groups  # a depthwise layer tiles its channels
        tiling = self.dataflow.map(layer, self.geometry, masks)  # every group is tiled alike
        lc = LayerCounts(spec.clusters)
        lc.iact_raw, lc.weight_raw = not tiling.iacts_compressed, not tiling.weights_compressed
        lc.describe = tiling.describe() + (f"; {groups} groups in sequence" if groups > 1 else "")
        item = 0
        for g in range(groups):
            kpg, cpg = layer.k_per_group, layer.c_per_group
            w = masks.weights if groups == 1 else masks.weights[g * kpg : (g + 1) * kpg]
            a = acts if groups == 1 else acts[g * cpg : (g + 1) * cpg]
            counts = column_counts(w, tiling.m_bounds, tiling.depthwise, tiling.weights_compressed)
            nonzero = (
                counts
                if tiling.weights_compressed
                else column_counts(w, tiling.m_bounds, tiling.depthwise, weights_compressed=True)
            )
            stats = pe_tile_stats(
                counts, nonzero, a, layer.stride, layer.out_w, tiling.c_bounds, tiling.pix_bounds,
                spec.pe.simd, tiling.iacts_compressed, tiling.weights_compressed,
                spec.pe.empty_column_cycles, 0,
            )  # fmt: skip
            item = self._tally(lc, tiling, counts, stats, item)
        return lc

    def _tally(
        self, lc: LayerCounts, tiling: PeTiling, counts: np.ndarray, stats: np.ndarray, item: int
    ) -> int:
        """Add one group's items: cycles and PE, and per-cluster NoC words (multicast deduplicated).

        Items run in (m-group, c-group, block) order from index `item` on; item i goes to PE
        i mod PEs. A cluster receives an iact block (c-group, block) once however many of its PEs
        use it, and a weight tile (m-group, c-group) once; every item sends its psums.
        """
        mg_n, cg_n, pb_n = tiling.shape
        g_i, cg_i, pb_i = (a.ravel() for a in np.indices((mg_n, cg_n, pb_n)))
        pe = (item + np.arange(g_i.size)) % self.pes
        cl = pe // self.spec.pes_per_cluster
        flat = stats.reshape(-1, N_STATS)
        lc.item_cycles = np.concatenate([lc.item_cycles, flat[:, STAT_CYCLES]])
        lc.item_pe = np.concatenate([lc.item_pe, pe])
        tile_weights = np.add.reduceat(counts.sum(axis=(2, 3)), tiling.c_bounds[:-1], axis=1)  # (mg, cg)
        _, first_iact = np.unique((cl * cg_n + cg_i) * pb_n + pb_i, return_index=True)
        _, first_weight = np.unique((cl * mg_n + g_i) * cg_n + cg_i, return_index=True)
        outs = np.diff(tiling.c_bounds)[cg_i] if tiling.depthwise else np.diff(tiling.m_bounds)[g_i]
        psums = outs * np.diff(tiling.pix_bounds)[pb_i]
        n = self.spec.clusters
        entered = flat[:, STAT_ENTERED]
        lc.iact_words += np.bincount(cl[first_iact], weights=entered[first_iact], minlength=n)
        weights = tile_weights[g_i, cg_i]
        lc.weight_words += np.bincount(cl[first_weight], weights=weights[first_weight], minlength=n)
        lc.psum_words += np.bincount(cl, weights=psums, minlength=n)
        lc.slots += int(flat[:, STAT_SLOTS].sum())
        lc.entered += int(entered.sum())
        lc.empty += int(flat[:, STAT_EMPTY].sum())
        lc.effectual += int(flat[:, STAT_EFFECTUAL].sum())
        lc.idle_lanes += int(flat[:, STAT_IDLE_LANES].sum())
        return item + g_i.size

    def noc_cycles(self, lc: LayerCounts) -> int:
        """Cycles the slowest cluster's iact / weight / psum networks need for the layer."""
        noc = self.spec.noc

        def per_cycle(raw: bool) -> int:
            return noc.data_port_bits // (8 if raw else CSC_WORD_BITS)

        iact = lc.iact_words / (noc.iact_routers * per_cycle(lc.iact_raw))
        weight = lc.weight_words / (noc.weight_routers * per_cycle(lc.weight_raw))
        psum = lc.psum_words / (noc.psum_routers * (noc.psum_port_bits // 20))
        return int(np.ceil(max(iact.max(), weight.max(), psum.max())))

    def plan(self, work: LayerWorkload) -> LayerPlan:
        """Count the tiles; one item per PE; the NoC and DRAM times as a closed-form bound; actions."""
        lc = self.count(work)
        # A PE's tiles stream back to back (operands arrive over the NoC, bounded below) and the
        # pipeline fills once per PE and layer (docs/assumptions.md): one engine item per PE
        # carrying the sum of its tiles' cycles is the same schedule as one item per tile.
        per_pe = np.zeros(self.pes, dtype=np.int64)
        np.add.at(per_pe, lc.item_pe, lc.item_cycles)
        used = np.flatnonzero(np.bincount(lc.item_pe, minlength=self.pes))
        fill = self.spec.pe.pipeline_depth
        energy, sram_bytes, dram_bytes = self._actions(work.layer, lc, work)
        tiles = int(lc.item_cycles.size)
        return LayerPlan(
            units=Units("PE", self.pes, self.spec.pe.simd),
            items=[WorkItem(unit=int(pe), cycles=int(per_pe[pe]) + fill) for pe in used],
            busy=self._busy_slots(lc, used.size),
            energy=energy,
            leakage_mw=self._leakage_mw(),
            macs_issued=lc.slots,
            dram_bytes=dram_bytes,
            sram_bytes=sram_bytes,
            folds=tiles,
            mapping_efficiency=min(1.0, tiles / self.pes),
            mapping=lc.describe,
            bound=self._bound(lc, dram_bytes),
            closed_form=self._closed_form(),
        )

    def _busy_slots(self, lc: LayerCounts, used_pes: int) -> Slots:
        """The SIMD lanes of the PEs' busy cycles: MACs issued, effectual or with a zero operand (raw
        operands); lanes a MAC cycle leaves empty and empty-column bubbles (packing); and the pipeline
        fill every PE given a tile pays once (fill_drain)."""
        pe = self.spec.pe
        return Slots(
            effectual=lc.effectual,
            ineffectual=lc.slots - lc.effectual,
            packing=lc.idle_lanes + pe.simd * lc.empty * pe.empty_column_cycles,
            fill_drain=pe.simd * pe.pipeline_depth * used_pes,
        )

    def _bound(self, lc: LayerCounts, dram_bytes: float) -> Extension:
        """The slowest cluster's NoC time or the DRAM transfer time, whichever is longer."""
        bw = self.spec.dram.bandwidth_bytes_per_cycle
        noc = self.noc_cycles(lc)
        dram = math.ceil(dram_bytes / bw) if bw else 0
        return (
            Extension(dram, "memory_stall", "DRAM")
            if dram > noc
            else Extension(noc, "memory_stall", "the HM-NoC")
        )

    def _closed_form(self) -> str:
        """Which costs the layer time takes in closed form (the `closed_form` column)."""
        if self.spec.dram.bandwidth_bytes_per_cycle:
            return "lower bounds: HM-NoC time of the slowest cluster, DRAM time"
        return "lower bound: HM-NoC time of the slowest cluster"

    def _actions(
        self, layer: Layer, lc: LayerCounts, work: LayerWorkload
    ) -> tuple[list[ActionEnergy], float, float]:
        """Every action with its pJ; SRAM (GLB) and DRAM bytes (docs/assumptions.md, eyeriss_v2)."""
        p, e = self.spec.precision, self.energy
        psum_bits = p.psum_bits
        iact_bits = p.act_bits if lc.iact_raw else CSC_WORD_BITS
        weight_bits = p.weight_bits if lc.weight_raw else CSC_WORD_BITS
        iact_words = float(lc.iact_words.sum())
        weight_words = float(lc.weight_words.sum())
        psum_words = float(lc.psum_words.sum())
        outputs = layer.out_h * layer.out_w * layer.k
        glb_psum_reads = max(0.0, psum_words - outputs)  # partial sums of other C0 tiles read back to add
        glb_kib = self.spec.memory.glb_kib_per_cluster
        d = work.density
        in_bits = layer.input_elems * (d.activations * CSC_WORD_BITS if not lc.iact_raw else p.act_bits)
        w_bits = layer.weights * (d.weights * CSC_WORD_BITS if not lc.weight_raw else p.weight_bits)
        dram_bytes = (in_bits + w_bits + outputs * p.act_bits) / 8
        mac_bits = max(p.weight_bits, p.act_bits)
        of = ActionEnergy.of
        actions = [
            of("mac", "mac", lc.effectual, e.mac_pj(mac_bits, psum_bits)),
            # a MAC issued with a zero operand (raw operands) is gated
            of("mac", "gated", lc.slots - lc.effectual, e.mac_gated_pj(mac_bits, psum_bits)),
            of("rf", "iact_read", lc.entered, e.rf_pj(iact_bits)),
            # A dense PE has no address SPads (paper §V-A: v1.5 keeps v1's dense PE).
            of("rf", "weight_addr_read", lc.entered if self.spec.pe.sparse else 0, e.rf_pj(7)),
            of("rf", "weight_read", lc.slots, e.rf_pj(weight_bits)),
            of("rf", "psum_access", 2 * lc.slots, e.rf_pj(psum_bits)),
            of("rf", "spad_fill", iact_words + weight_words, e.rf_pj(CSC_WORD_BITS)),
            of("sram", "iact_read", iact_words, e.sram_pj(glb_kib, iact_bits)),
            of("sram", "psum_write", psum_words, e.sram_pj(glb_kib, psum_bits, write=True)),
            of("sram", "psum_read", glb_psum_reads, e.sram_pj(glb_kib, psum_bits)),
            of("noc", "iact_hop", iact_words, e.noc_pj(iact_bits)),
            of("noc", "weight_hop", weight_words, e.noc_pj(weight_bits)),
            of("noc", "psum_hop", psum_words, e.noc_pj(psum_bits)),
            of("dram", "bit", dram_bytes * 8, e.dram_pj_per_bit(self.spec.dram.kind)),
        ]
        sram_bytes = (iact_words * iact_bits + (psum_words + glb_psum_reads) * psum_bits) / 8
        return actions, sram_bytes, dram_bytes

    def _leakage_mw(self) -> float:
        pe = self.spec.pe
        word = CSC_WORD_BITS if pe.sparse else self.spec.precision.act_bits  # a dense PE holds raw bytes
        spad_bits = (pe.iact_spad_entries + pe.weight_spad_entries) * word + pe.psum_spad_entries * 20
        sram_kib = self.spec.clusters * self.spec.memory.glb_kib_per_cluster + self.pes * spad_bits / 8 / 1024
        return self.energy.leakage_mw(self.multipliers, sram_kib, 8, self.spec.precision.psum_bits)
