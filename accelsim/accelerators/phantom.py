"""Phantom-2D: an R x C mesh of Phantom cores (P PEs x T threads) with two-level load balancing.

Per layer: the dataflow turns the exact operand masks into core items whose cycles the look-ahead
scheduler kernel counts (level 1: window W, atomic groups, next-strip prefetch); the mesh plan pins
them to cores (level 2: round robin, LPT by valid products, or a shared queue); the engine plays the
cores against the DRAM link. A layer's `cycles` is the engine makespan plus the L1 / L2 adder drain
of the last outputs (docs/phantom.md). Only valid products are issued, so macs_issued equals
macs_effectual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from accelsim.accelerators.base import Accelerator
from accelsim.accelerators.registry import register
from accelsim.config.arch.phantom import Phantom2DSpec
from accelsim.dataflows import get_dataflow
from accelsim.dataflows.phantom import CoreGeometry, LayerItems, MeshPlan, PhantomDataflow
from accelsim.energy import Action, EnergyModel, energy_breakdown, static_energy_pj
from accelsim.engine import WorkItem, play
from accelsim.report.schema import LayerResult
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer


@dataclass(frozen=True, slots=True)
class MaskTraffic:
    """Operand volumes of one layer in the mask format (mask bits + packed non-zeros), in bytes."""

    input_bytes: float
    weight_bytes: float
    output_bytes: float
    input_nnz: int
    weight_nnz: int
    output_nnz: int


@register("phantom2d")
class Phantom2D(Accelerator):
    """R x C Phantom cores sharing a global buffer and one DRAM link."""

    spec: Phantom2DSpec

    def __init__(self, spec: Phantom2DSpec) -> None:
        super().__init__(spec)
        self.dataflow: PhantomDataflow = get_dataflow("phantom2d", spec.dataflow)
        c = spec.core
        self.core = CoreGeometry(
            pes=c.pes,
            threads=c.threads,
            window=c.window,
            split=not c.atomic_groups,
            prefetch=c.prefetch_next_tile,
            strip_rows=c.strip_rows,
        )
        self.energy = EnergyModel.from_technology(spec.technology)

    @property
    def cores(self) -> int:
        """R x C."""
        return self.spec.mesh.rows * self.spec.mesh.cols

    @property
    def multipliers(self) -> int:
        """R x C x P x T multiplier threads."""
        return self.cores * self.spec.core.pes * self.spec.core.threads

    def unsupported(self, layer: Layer) -> str | None:
        """Kernel rows wider than 62 columns do not fit the bit codes of the model."""
        if layer.s > 62 and (layer.r, layer.s) != (1, 1):
            return f"kernel width {layer.s} exceeds the 62 columns a mask code holds"
        return None

    def simulate_layer(self, work: LayerWorkload) -> tuple[LayerResult, pd.DataFrame]:
        """Core items from the kernel, the mesh plan through the engine, actions and energy."""
        layer = work.layer
        masks = work.masks
        items = self.dataflow.items(layer, masks, self.core)
        mesh = self.spec.mesh
        plan = self.dataflow.plan(items, mesh.rows, mesh.cols, mesh.balance)
        traffic = self._mask_traffic(work)
        dram_bytes, input_passes = self._dram_bytes(traffic)
        n = max(1, len(plan.work))  # traffic spread evenly over the work items
        reads, writes = (dram_bytes - traffic.output_bytes) / n, traffic.output_bytes / n
        work_items = [WorkItem(w.unit, w.cycles, 1, reads, writes) for w in plan.work]
        run = play(
            work_items, units=self.cores, dram_bytes_per_cycle=self.spec.dram.bandwidth_bytes_per_cycle
        )
        c = self.spec.core
        cycles = run.makespan + c.l1_adder_cycles + 2 * c.l2_stage_cycles
        issued = int(items.products.sum())
        counts, costs, sram_bytes = self._actions(layer, items, plan, traffic, issued, input_passes)
        counts[Action("static", "leak")] = cycles
        costs[Action("static", "leak")] = static_energy_pj(self._leakage_mw(), 1, self.spec.clock_mhz)
        steps = -(-items.reduction_rows // c.pes)
        result = self.result(
            work,
            macs_issued=issued,
            cycles=cycles,
            stall_cycles=run.stalled_cycles,
            imbalance=run.imbalance,
            idle_fraction=run.idle_fraction,
            dram_bytes=dram_bytes,
            sram_bytes=sram_bytes,
            folds=int(items.cycles.size),
            mapping_efficiency=items.reduction_rows / (steps * c.pes),
            mapping=self._describe(items, plan),
            energy_pj=energy_breakdown(counts, costs),
        )
        return result, run.timeline.frame(run.makespan)

    def _describe(self, items: LayerItems, plan: MeshPlan) -> str:
        c = self.spec.core
        window = "inf" if c.window is None else str(c.window)
        pe_cycles = max(1, items.pe_busy_cycles)
        thread_util = items.groups and int(items.products.sum()) / (pe_cycles * c.threads)
        return (
            f"{items.cycles.shape[0]} filters x {items.cycles.shape[1]} input strips on "
            f"{plan.input_sets}x{plan.filter_sets} core sets ({plan.policy}); "
            f"{items.reduction_rows} reduction rows over P={c.pes} T={c.threads} W={window}; "
            f"busy-PE thread use {thread_util:.3f}; out-of-order groups {items.out_of_order}"
        )

    def _mask_traffic(self, work: LayerWorkload) -> MaskTraffic:
        """Mask bits + non-zero values per operand. Outputs: the layer's input density is assumed
        for its outputs (the next layer's masks are not this layer's business; docs/assumptions.md)."""
        layer, masks, p = work.layer, work.masks, self.spec.precision
        a_nnz = int(masks.activations.sum())
        w_nnz = int(masks.weights.sum())
        out_nnz = round(layer.output_elems * a_nnz / max(1, layer.input_elems))
        return MaskTraffic(
            input_bytes=(layer.input_elems + a_nnz * p.act_bits) / 8,
            weight_bytes=(layer.weights + w_nnz * p.weight_bits) / 8,
            output_bytes=(layer.output_elems + out_nnz * p.act_bits) / 8,
            input_nnz=a_nnz,
            weight_nnz=w_nnz,
            output_nnz=out_nnz,
        )

    def _dram_bytes(self, t: MaskTraffic) -> tuple[float, int]:
        """(DRAM bytes, passes over the input): weights are read once; the input once if it fits in
        half the global buffer, else once per half-buffer of weights (docs/assumptions.md)."""
        half = self.spec.buffers.global_kib * 1024 / 2
        passes = 1 if t.input_bytes <= half else max(1, math.ceil(t.weight_bytes / half))
        return t.input_bytes * passes + t.weight_bytes + t.output_bytes, passes

    def _actions(
        self,
        layer: Layer,
        items: LayerItems,
        plan: MeshPlan,
        t: MaskTraffic,
        issued: int,
        input_passes: int,
    ) -> tuple[dict[Action, float], dict[Action, float], float]:
        """Action counts, their pJ costs and the global-buffer bytes accessed (docs/assumptions.md)."""
        p, e, b = self.spec.precision, self.energy, self.spec.buffers
        mac_bits = max(p.weight_bits, p.act_bits)
        # The global buffer feeds each input set once per filter round unless it stays in the cores.
        input_set_bytes = t.input_bytes / plan.input_sets
        filter_rounds = -(-layer.k_per_group // max(1, plan.filter_sets)) if layer.groups == 1 else 1
        input_reads = 1 if input_set_bytes <= b.core_kib * 1024 / 2 else filter_rounds
        in_words = t.input_nnz * input_reads * input_passes
        in_mask_bits = layer.input_elems * input_reads * input_passes
        counts: dict[Action, float] = {
            Action("mac", "mac"): issued,
            Action("rf", "operand_read"): 2 * issued,
            Action("rf", "fifo_access"): 2 * items.groups,
            Action("rf", "mask_and"): 2 * items.dense_groups,
            Action("sram", "input_read"): in_words,
            Action("sram", "weight_read"): t.weight_nnz,
            Action("sram", "mask_read"): (in_mask_bits + layer.weights) / p.act_bits,
            Action("sram", "output_write"): t.output_nnz + layer.output_elems / p.act_bits,
            Action("noc", "input_hop"): in_words * plan.filter_sets,
            Action("noc", "weight_hop"): t.weight_nnz * plan.input_sets,
            Action("noc", "output_hop"): t.output_nnz,
            Action("dram", "bit"): 0.0,
        }
        g = b.global_kib
        costs: dict[Action, float] = {
            Action("mac", "mac"): e.mac_pj(mac_bits, p.psum_bits),
            Action("rf", "operand_read"): e.rf_pj(mac_bits),
            Action("rf", "fifo_access"): e.rf_pj(p.psum_bits),
            Action("rf", "mask_and"): e.rf_pj(items.group_bits),
            Action("sram", "input_read"): e.sram_pj(g, p.act_bits),
            Action("sram", "weight_read"): e.sram_pj(g, p.weight_bits),
            Action("sram", "mask_read"): e.sram_pj(g, p.act_bits),
            Action("sram", "output_write"): e.sram_pj(g, p.act_bits, write=True),
            Action("noc", "input_hop"): e.noc_pj(p.act_bits),
            Action("noc", "weight_hop"): e.noc_pj(p.weight_bits),
            Action("noc", "output_hop"): e.noc_pj(p.act_bits),
            Action("dram", "bit"): e.dram_pj_per_bit(self.spec.dram.kind),
        }
        dram_bytes, _ = self._dram_bytes(t)
        counts[Action("dram", "bit")] = dram_bytes * 8
        sram_bytes = (
            in_words * p.act_bits
            + t.weight_nnz * p.weight_bits
            + in_mask_bits
            + layer.weights
            + t.output_nnz * p.act_bits
            + layer.output_elems
        ) / 8
        return counts, costs, sram_bytes

    def _leakage_mw(self) -> float:
        b = self.spec.buffers
        p = self.spec.precision
        sram_kib = b.global_kib + self.cores * b.core_kib
        return self.energy.leakage_mw(self.multipliers, sram_kib, max(p.weight_bits, p.act_bits), p.psum_bits)
