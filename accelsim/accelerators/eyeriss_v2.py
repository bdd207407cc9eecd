"""Eyeriss v2 (Chen et al., JETCAS 2019): sparse PEs in clusters on a hierarchical mesh NoC.

Per layer: the RS+ dataflow cuts each group into PE tiles; the sparse-PE kernel counts each tile's
cycles from the exact operand masks; the engine plays the tiles on the PEs (static assignment, one
timeline row per PE). The HM-NoC bounds the layer from below: per cluster, the iact, weight and psum
networks deliver at most routers x words-per-port each cycle (multicast: one delivery per distinct
iact window block or weight tile in a cluster). Layer cycles = max(PE makespan, slowest cluster's NoC
time); the excess is reported as stall cycles. See docs/eyeriss_v2.md and docs/assumptions.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from accelsim.accelerators.base import Accelerator
from accelsim.accelerators.registry import register
from accelsim.config.arch.eyeriss_v2 import EyerissV2Spec
from accelsim.dataflows import get_dataflow
from accelsim.dataflows.eyeriss_v2 import PeGeometry, PeTiling, RowStationaryPlus
from accelsim.energy import Action, EnergyModel, energy_breakdown, static_energy_pj
from accelsim.engine import WorkItem, play
from accelsim.kernels.eyeriss_v2 import column_counts, pe_tile_stats
from accelsim.report.schema import LayerResult
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
    entered: int = 0
    empty: int = 0
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
        self.dataflow: RowStationaryPlus = get_dataflow("eyeriss_v2", spec.dataflow)
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

    @property
    def multipliers(self) -> int:
        """PEs x SIMD width."""
        return self.pes * self.spec.pe.simd

    def unsupported(self, layer: Layer) -> str | None:
        """Every conv, depthwise, pointwise and FC layer maps (pooling runs off-chip, paper §V-B)."""
        return None if layer.is_compute else "pooling runs off-chip on Eyeriss v2"

    def count(self, work: LayerWorkload) -> LayerCounts:
        """Tile every group, run the sparse-PE kernel, and tally NoC deliveries per cluster."""
        layer, spec = work.layer, self.spec
        d = work.density
        masks = work.masks
        acts = np.pad(
            masks.activations,
            ((0, 0), (layer.pad, layer.pad + layer.pad_end[0]), (layer.pad, layer.pad + layer.pad_end[1])),
        )
        groups = 1 if layer.kind == "depthwise" else layer.groups  # a depthwise layer tiles its channels
        lc = LayerCounts(spec.clusters)
        item = 0
        for g in range(groups):
            kpg, cpg = layer.k_per_group, layer.c_per_group
            w = masks.weights if groups == 1 else masks.weights[g * kpg : (g + 1) * kpg]
            a = acts if groups == 1 else acts[g * cpg : (g + 1) * cpg]
            tiling = self.dataflow.tile(layer, d.weights, d.activations, self.geometry)
            counts = column_counts(w, tiling.m_bounds, tiling.depthwise, tiling.weights_compressed)
            stats = pe_tile_stats(
                counts, a, layer.stride, layer.out_w, tiling.c_bounds, tiling.pix_bounds,
                spec.pe.simd, tiling.iacts_compressed, spec.pe.empty_column_cycles, 0,
            )  # fmt: skip
            item = self._tally(lc, tiling, counts, stats, item)
            lc.iact_raw, lc.weight_raw = not tiling.iacts_compressed, not tiling.weights_compressed
            lc.describe = tiling.describe() + (f"; {groups} groups in sequence" if groups > 1 else "")
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
        flat = stats.reshape(-1, 4)
        lc.item_cycles = np.concatenate([lc.item_cycles, flat[:, 0]])
        lc.item_pe = np.concatenate([lc.item_pe, pe])
        tile_weights = np.add.reduceat(counts.sum(axis=(2, 3)), tiling.c_bounds[:-1], axis=1)  # (mg, cg)
        _, first_iact = np.unique((cl * cg_n + cg_i) * pb_n + pb_i, return_index=True)
        _, first_weight = np.unique((cl * mg_n + g_i) * cg_n + cg_i, return_index=True)
        outs = np.diff(tiling.c_bounds)[cg_i] if tiling.depthwise else np.diff(tiling.m_bounds)[g_i]
        psums = outs * np.diff(tiling.pix_bounds)[pb_i]
        n = self.spec.clusters
        lc.iact_words += np.bincount(cl[first_iact], weights=flat[first_iact, 2], minlength=n)
        weights = tile_weights[g_i, cg_i]
        lc.weight_words += np.bincount(cl[first_weight], weights=weights[first_weight], minlength=n)
        lc.psum_words += np.bincount(cl, weights=psums, minlength=n)
        lc.slots += int(flat[:, 1].sum())
        lc.entered += int(flat[:, 2].sum())
        lc.empty += int(flat[:, 3].sum())
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

    def simulate_layer(self, work: LayerWorkload) -> tuple[LayerResult, pd.DataFrame]:
        """Count the tiles, play them on the PEs, bound by the NoC, count actions and energy."""
        layer = work.layer
        lc = self.count(work)
        # A PE's tiles stream back to back (operands arrive over the NoC, bounded below) and the
        # pipeline fills once per PE and layer (docs/assumptions.md): one engine item per PE
        # carrying the sum of its tiles' cycles is the same schedule as one item per tile.
        per_pe = np.zeros(self.pes, dtype=np.int64)
        np.add.at(per_pe, lc.item_pe, lc.item_cycles)
        used = np.bincount(lc.item_pe, minlength=self.pes) > 0
        fill = self.spec.pe.pipeline_depth
        items = [WorkItem(unit=int(pe), cycles=int(per_pe[pe]) + fill) for pe in np.flatnonzero(used)]
        run = play(items, units=self.pes, dram_bytes_per_cycle=None)
        tiles = int(lc.item_cycles.size)
        noc = self.noc_cycles(lc)
        effectual = work.effectual_macs
        counts, costs, sram_bytes, dram_bytes = self._actions(layer, lc, effectual, work)
        bw = self.spec.dram.bandwidth_bytes_per_cycle
        dram = int(np.ceil(dram_bytes / bw)) if bw else 0
        cycles = max(run.makespan, noc, dram)
        counts[Action("static", "leak")] = cycles
        costs[Action("static", "leak")] = static_energy_pj(self._leakage_mw(), 1, self.spec.clock_mhz)
        result = self.result(
            work,
            macs_issued=lc.slots,
            cycles=cycles,
            stall_cycles=cycles - run.makespan,
            imbalance=run.imbalance,
            idle_fraction=1.0 - float(run.busy.sum()) / (cycles * self.pes) if cycles else 0.0,
            dram_bytes=dram_bytes,
            sram_bytes=sram_bytes,
            folds=tiles,
            mapping_efficiency=min(1.0, tiles / self.pes),
            mapping=lc.describe + _bound_note(run.makespan, noc, dram),
            energy_pj=energy_breakdown(counts, costs),
        )
        return result, run.timeline.frame(cycles)

    def _actions(
        self, layer: Layer, lc: LayerCounts, effectual: int, work: LayerWorkload
    ) -> tuple[dict[Action, float], dict[Action, float], float, float]:
        """Action counts and pJ costs; SRAM (GLB) and DRAM bytes (docs/assumptions.md, eyeriss_v2)."""
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
        counts: dict[Action, float] = {
            Action("mac", "mac"): effectual,
            Action("mac", "gated"): max(0, lc.slots - effectual),
            Action("rf", "iact_read"): lc.entered,
            # A dense PE has no address SPads (paper §V-A: v1.5 keeps v1's dense PE).
            Action("rf", "weight_addr_read"): lc.entered if self.spec.pe.sparse else 0,
            Action("rf", "weight_read"): lc.slots,
            Action("rf", "psum_access"): 2 * lc.slots,
            Action("rf", "spad_fill"): iact_words + weight_words,
            Action("sram", "iact_read"): iact_words,
            Action("sram", "psum_write"): psum_words,
            Action("sram", "psum_read"): glb_psum_reads,
            Action("noc", "iact_hop"): iact_words,
            Action("noc", "weight_hop"): weight_words,
            Action("noc", "psum_hop"): psum_words,
            Action("dram", "bit"): dram_bytes * 8,
        }
        mac_bits = max(p.weight_bits, p.act_bits)
        costs: dict[Action, float] = {
            Action("mac", "mac"): e.mac_pj(mac_bits, psum_bits),
            Action("mac", "gated"): e.mac_gated_pj(mac_bits, psum_bits),
            Action("rf", "iact_read"): e.rf_pj(iact_bits),
            Action("rf", "weight_addr_read"): e.rf_pj(7),
            Action("rf", "weight_read"): e.rf_pj(weight_bits),
            Action("rf", "psum_access"): e.rf_pj(psum_bits),
            Action("rf", "spad_fill"): e.rf_pj(CSC_WORD_BITS),
            Action("sram", "iact_read"): e.sram_pj(glb_kib, iact_bits),
            Action("sram", "psum_write"): e.sram_pj(glb_kib, psum_bits, write=True),
            Action("sram", "psum_read"): e.sram_pj(glb_kib, psum_bits),
            Action("noc", "iact_hop"): e.noc_pj(iact_bits),
            Action("noc", "weight_hop"): e.noc_pj(weight_bits),
            Action("noc", "psum_hop"): e.noc_pj(psum_bits),
            Action("dram", "bit"): e.dram_pj_per_bit(self.spec.dram.kind),
        }
        sram_bytes = (iact_words * iact_bits + (psum_words + glb_psum_reads) * psum_bits) / 8
        return counts, costs, sram_bytes, dram_bytes

    def _leakage_mw(self) -> float:
        pe = self.spec.pe
        word = CSC_WORD_BITS if pe.sparse else self.spec.precision.act_bits  # a dense PE holds raw bytes
        spad_bits = (pe.iact_spad_entries + pe.weight_spad_entries) * word + pe.psum_spad_entries * 20
        sram_kib = self.spec.clusters * self.spec.memory.glb_kib_per_cluster + self.pes * spad_bits / 8 / 1024
        return self.energy.leakage_mw(self.multipliers, sram_kib, 8, self.spec.precision.psum_bits)


def _bound_note(makespan: int, noc: int, dram: int) -> str:
    """Say which bound set the layer time when the PEs did not."""
    worst = max(noc, dram)
    if worst <= makespan:
        return ""
    what = "NoC" if noc >= dram else "DRAM"
    return f"; {what}-bound ({worst} cycles > PE makespan {makespan})"
