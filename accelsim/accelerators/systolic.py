"""Dense systolic array (SCALE-Sim v3 semantics) with OS / WS / IS dataflows.

Compute cycles per layer equal SCALE-Sim's "compute cycles" (its `Total Cycles` column): the folds
back to back, reported as the zero-based index of the cycle of the last output write (makespan - 1).
With a finite DRAM bandwidth the engine adds the stalls of double-buffered operand fetch.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from accelsim.accelerators.base import Accelerator
from accelsim.accelerators.registry import register
from accelsim.config.arch import SystolicSpec
from accelsim.dataflows import get_dataflow
from accelsim.dataflows.systolic import ArrayGeometry, SystolicDataflow, SystolicMapping
from accelsim.energy import Action, EnergyModel, energy_breakdown, static_energy_pj
from accelsim.engine import WorkItem, play
from accelsim.report.schema import LayerResult
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer

_OPERAND_ROLES = {
    "os": ("psum", ("input", "weight")),
    "ws": ("weight", ("input", "psum")),
    "is": ("input", ("weight", "psum")),
}
"""dataflow -> (operand held in each PE, operands passed PE to PE)."""


@dataclass(frozen=True, slots=True)
class DramTraffic:
    """Bytes moved between DRAM and the three operand SRAMs for one layer."""

    ifmap_bytes: float
    filter_bytes: float
    ofmap_bytes: float

    @property
    def read_bytes(self) -> float:
        """Bytes read from DRAM (operands and spilled partial sums)."""
        return self.ifmap_bytes + self.filter_bytes

    @property
    def total(self) -> float:
        """All DRAM bytes."""
        return self.ifmap_bytes + self.filter_bytes + self.ofmap_bytes


@register("systolic")
class SystolicArray(Accelerator):
    """A rows x cols array of MACs fed by ifmap / filter SRAMs and draining into an ofmap SRAM."""

    spec: SystolicSpec

    def __init__(self, spec: SystolicSpec) -> None:
        super().__init__(spec)
        self.dataflow: SystolicDataflow = get_dataflow("systolic", spec.dataflow)
        self.geometry = ArrayGeometry(spec.rows, spec.cols)
        self.energy = EnergyModel.from_technology(spec.technology)

    @property
    def multipliers(self) -> int:
        """rows x cols."""
        return self.spec.rows * self.spec.cols

    def simulate_layer(self, work: LayerWorkload) -> tuple[LayerResult, pd.DataFrame]:
        """Fold the layer, play the folds through the engine, count actions and energy."""
        layer = work.layer
        mapping = self.dataflow.map(layer, self.geometry)
        traffic = self.dram_traffic(layer, mapping)
        folds = mapping.folds
        item = WorkItem(
            unit=0,
            cycles=mapping.fold_cycles,
            repeat=folds,
            in_bytes=traffic.read_bytes / folds,
            out_bytes=traffic.ofmap_bytes / folds,
        )
        run = play([item], units=1, dram_bytes_per_cycle=self.spec.dram.bandwidth_bytes_per_cycle)
        cycles = run.makespan - 1  # SCALE-Sim: zero-based cycle index of the last output write
        effectual = work.effectual_macs
        counts, costs, sram_bytes = self._actions(mapping, traffic, effectual)
        counts[Action("static", "leak")] = cycles
        costs[Action("static", "leak")] = static_energy_pj(self._leakage_mw(), 1, self.spec.clock_mhz)
        result = self.result(
            work,
            macs_issued=mapping.mac_slots,
            cycles=cycles,
            stall_cycles=run.stalled_cycles,
            imbalance=run.imbalance,
            idle_fraction=run.idle_fraction,
            dram_bytes=traffic.total,
            sram_bytes=sram_bytes,
            folds=folds,
            mapping_efficiency=mapping.mapping_efficiency,
            mapping=mapping.describe(),
            energy_pj=energy_breakdown(counts, costs),
        )
        return result, run.timeline.frame(run.makespan)

    def dram_traffic(self, layer: Layer, mapping: SystolicMapping) -> DramTraffic:
        """First-order reuse model (docs/assumptions.md): an operand that fits in half of its SRAM
        (the other half is the double buffer) is fetched once; otherwise once per pass over it."""
        p, mem = self.spec.precision, self.spec.memory
        g = layer.groups
        ifmap = layer.h * layer.w * layer.c_per_group * p.act_bits / 8
        filt = layer.r * layer.s * layer.c_per_group * layer.k_per_group * p.weight_bits / 8
        outputs = layer.out_h * layer.out_w * layer.k_per_group
        ofmap = outputs * p.act_bits / 8
        psums = outputs * p.psum_bits / 8
        df = mapping.dataflow
        ifmap_passes = mapping.col_folds if df in ("os", "ws") else 1
        filter_passes = {"os": mapping.row_folds, "ws": 1, "is": mapping.col_folds}[df]
        reduce_folds = mapping.row_folds if df in ("ws", "is") else 1

        def fetched(nbytes: float, passes: int, sram_kib: float) -> float:
            return nbytes if nbytes <= sram_kib * 1024 / 2 else nbytes * passes

        out = ofmap
        if reduce_folds > 1 and psums > mem.ofmap_sram_kib * 1024 / 2:
            out += (reduce_folds - 1) * 2 * psums  # partial sums spill to DRAM and come back
        return DramTraffic(
            ifmap_bytes=g * fetched(ifmap, ifmap_passes, mem.ifmap_sram_kib),
            filter_bytes=g * fetched(filt, filter_passes, mem.filter_sram_kib),
            ofmap_bytes=g * out,
        )

    def _actions(
        self, mapping: SystolicMapping, traffic: DramTraffic, effectual: int
    ) -> tuple[dict[Action, float], dict[Action, float], float]:
        """Action counts, their pJ costs, and SRAM bytes accessed (docs/assumptions.md)."""
        p, mem, e = self.spec.precision, self.spec.memory, self.energy
        mac_bits = max(p.weight_bits, p.act_bits)
        issued = mapping.mac_slots
        gated = issued - effectual if self.spec.zero_gating else 0
        psum_reads = mapping.ofmap_writes - mapping.outputs  # earlier partials read to accumulate
        bits = {"input": p.act_bits, "weight": p.weight_bits, "psum": p.psum_bits}
        stationary, moving = _OPERAND_ROLES[mapping.dataflow]
        rf_per_mac = 2 if stationary == "psum" else 1  # a stationary psum is read-modify-written
        counts: dict[Action, float] = {
            Action("mac", "mac"): issued - gated,
            Action("mac", "gated"): gated,
            Action("rf", f"{stationary}_access"): issued * rf_per_mac,
            Action("sram", "ifmap_read"): mapping.ifmap_reads,
            Action("sram", "filter_read"): mapping.filter_reads,
            Action("sram", "ofmap_write"): mapping.ofmap_writes,
            Action("sram", "ofmap_read"): psum_reads,
            Action("dram", "bit"): traffic.total * 8,
        }
        costs: dict[Action, float] = {
            Action("mac", "mac"): e.mac_pj(mac_bits, p.psum_bits),
            Action("mac", "gated"): e.mac_gated_pj(mac_bits, p.psum_bits),
            Action("rf", f"{stationary}_access"): e.rf_pj(bits[stationary]),
            Action("sram", "ifmap_read"): e.sram_pj(mem.ifmap_sram_kib, p.act_bits),
            Action("sram", "filter_read"): e.sram_pj(mem.filter_sram_kib, p.weight_bits),
            Action("sram", "ofmap_write"): e.sram_pj(mem.ofmap_sram_kib, p.psum_bits, write=True),
            Action("sram", "ofmap_read"): e.sram_pj(mem.ofmap_sram_kib, p.psum_bits),
            Action("dram", "bit"): e.dram_pj_per_bit(self.spec.dram.kind),
        }
        for operand in moving:  # each moving operand hops to the next PE once per MAC
            counts[Action("noc", f"{operand}_hop")] = issued
            costs[Action("noc", f"{operand}_hop")] = e.noc_pj(bits[operand])
        sram_bytes = (
            mapping.ifmap_reads * p.act_bits
            + mapping.filter_reads * p.weight_bits
            + (mapping.ofmap_writes + psum_reads) * p.psum_bits
        ) / 8
        return counts, costs, sram_bytes

    def _leakage_mw(self) -> float:
        mem = self.spec.memory
        return self.energy.leakage_mw(
            self.multipliers, mem.ifmap_sram_kib + mem.filter_sram_kib + mem.ofmap_sram_kib
        )
