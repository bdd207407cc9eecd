"""Dense systolic array (SCALE-Sim v3 semantics) with OS / WS / IS dataflows.

Compute cycles per layer equal SCALE-Sim's "compute cycles" (its `Total Cycles` column): the folds
back to back, reported as the zero-based index of the cycle of the last output write (makespan - 1).
With a finite DRAM bandwidth the engine adds the stalls of double-buffered operand fetch. The array
moves in lock step, so it is one unit of rows x cols multipliers in the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.accelerators.base import Accelerator, mac_blocks
from accelsim.accelerators.plan import LayerPlan, Units
from accelsim.accelerators.registry import register
from accelsim.config.arch import SystolicSpec
from accelsim.dataflows import get_dataflow
from accelsim.dataflows.systolic import ArrayGeometry, SystolicDataflow, SystolicMapping
from accelsim.energy import Action, ActionEnergy, EnergyModel, actions
from accelsim.energy.area import AreaBlock
from accelsim.engine import WorkItem
from accelsim.report.schema import Slots
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
        self.dataflow = get_dataflow("systolic", spec.dataflow, SystolicDataflow)
        self.geometry = ArrayGeometry(spec.rows, spec.cols)
        self.energy = EnergyModel.from_technology(spec.technology)

    def plan_actions(self) -> frozenset[Action] | None:
        """MACs, the stationary operand's register, the three SRAMs, the moving operands' hops, DRAM."""
        roles = _OPERAND_ROLES.get(self.spec.dataflow)
        if roles is None:
            return None  # a third-party dataflow: its actions are checked as layers run
        stationary, moving = roles
        return actions(
            "mac.mac", "mac.gated", f"rf.{stationary}_access", "sram.ifmap_read", "sram.filter_read",
            "sram.ofmap_write", "sram.ofmap_read", "dram.bit", *(f"noc.{m}_hop" for m in moving),
        )  # fmt: skip

    def plan(self, work: LayerWorkload) -> LayerPlan:
        """Fold the layer; the folds play back to back on the array against the DRAM link.

        SCALE-Sim reports the zero-based index of the last output write (makespan - 1), so the last
        fold ends one cycle earlier: that cycle is taken from its drain.
        """
        layer = work.layer
        mapping = self.dataflow.map(layer, self.geometry)
        traffic = self.dram_traffic(layer, mapping)
        folds, fold = mapping.folds, mapping.fold_cycles
        in_b, out_b = traffic.read_bytes / folds, traffic.ofmap_bytes / folds
        items = [WorkItem(0, fold, folds - 1, in_b, out_b)] if folds > 1 else []
        items.append(WorkItem(0, fold - 1, 1, in_b, out_b))
        return LayerPlan(
            units=Units("array", 1, self.multipliers),
            items=items,
            busy=self._busy_slots(mapping, work.effectual_macs),
            energy=self._actions(mapping, traffic, work.effectual_macs),
            leakage_mw=self._leakage_mw(),
            macs_issued=mapping.mac_slots,
            dram_bytes=traffic.total,
            sram_bytes=self._sram_bytes(mapping),
            folds=folds,
            mapping_efficiency=mapping.mapping_efficiency,
            mapping=mapping.describe(),
            dram_bytes_per_cycle=self.spec.dram.bandwidth_bytes_per_cycle,
        )

    def _busy_slots(self, mapping: SystolicMapping, effectual: int) -> Slots:
        """Per fold: t streaming cycles in which mapped PEs issue a MAC each and unmapped PEs pass
        padding, and the skew fill / drain around them (fold cycles - t) on every PE."""
        pes = self.multipliers
        busy = mapping.folds * mapping.fold_cycles * pes - pes
        issued = mapping.mac_slots
        unmapped = mapping.array_slots - issued
        fill_drain = busy - mapping.array_slots
        if fill_drain < 0:  # no fill or drain to give back the uncounted cycle (a 1 x 1 OS array)
            return _take(Slots(effectual, issued - effectual, unmapped), -fill_drain)
        return Slots(effectual, issued - effectual, unmapped, fill_drain=fill_drain)

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

    def _actions(self, mapping: SystolicMapping, traffic: DramTraffic, effectual: int) -> list[ActionEnergy]:
        """Every action with its count and pJ (docs/assumptions.md)."""
        p, mem, e = self.spec.precision, self.spec.memory, self.energy
        mac_bits = max(p.weight_bits, p.act_bits)
        issued = mapping.mac_slots
        gated = issued - effectual if self.spec.zero_gating else 0
        psum_reads = mapping.ofmap_writes - mapping.outputs  # earlier partials read to accumulate
        bits = {"input": p.act_bits, "weight": p.weight_bits, "psum": p.psum_bits}
        stationary, moving = _OPERAND_ROLES[mapping.dataflow]
        rf_per_mac = 2 if stationary == "psum" else 1  # a stationary psum is read-modify-written
        of = ActionEnergy.of
        actions = [
            of("mac", "mac", issued - gated, e.mac_pj(mac_bits, p.psum_bits)),
            of("mac", "gated", gated, e.mac_gated_pj(mac_bits, p.psum_bits)),
            of("rf", f"{stationary}_access", issued * rf_per_mac, e.rf_pj(bits[stationary])),
            of("sram", "ifmap_read", mapping.ifmap_reads, e.sram_pj(mem.ifmap_sram_kib, p.act_bits)),
            of("sram", "filter_read", mapping.filter_reads, e.sram_pj(mem.filter_sram_kib, p.weight_bits)),
            of(
                "sram", "ofmap_write", mapping.ofmap_writes,
                e.sram_pj(mem.ofmap_sram_kib, p.psum_bits, write=True),
            ),
            of("sram", "ofmap_read", psum_reads, e.sram_pj(mem.ofmap_sram_kib, p.psum_bits)),
            of("dram", "bit", traffic.total * 8, e.dram_pj_per_bit(self.spec.dram.kind)),
        ]  # fmt: skip
        # each moving operand hops to the next PE once per MAC
        actions += [of("noc", f"{operand}_hop", issued, e.noc_pj(bits[operand])) for operand in moving]
        return actions

    def _sram_bytes(self, mapping: SystolicMapping) -> float:
        """Bytes read from and written to the three operand SRAMs."""
        p = self.spec.precision
        psum_reads = mapping.ofmap_writes - mapping.outputs
        return (
            mapping.ifmap_reads * p.act_bits
            + mapping.filter_reads * p.weight_bits
            + (mapping.ofmap_writes + psum_reads) * p.psum_bits
        ) / 8

    def area_blocks(self, layers: tuple[Layer, ...]) -> list[AreaBlock]:
        """rows x cols MACs, each PE's operand and psum registers, the three operand SRAMs; neighbour
        links are the PE registers themselves."""
        s, am = self.spec, self.area_model
        p, mem = s.precision, s.memory
        return [
            *mac_blocks(am, self.multipliers, p),
            AreaBlock(
                "rf",
                "PE registers",
                self.multipliers,
                am.register_um2(p.weight_bits + p.act_bits + p.psum_bits),
            ),
            AreaBlock(
                "sram",
                "operand SRAMs",
                1,
                am.sram_um2(mem.ifmap_sram_kib + mem.filter_sram_kib + mem.ofmap_sram_kib),
            ),
        ]

    def _leakage_mw(self) -> float:
        mem = self.spec.memory
        return self.energy.leakage_mw(
            self.multipliers, mem.ifmap_sram_kib + mem.filter_sram_kib + mem.ofmap_sram_kib
        )


def _take(slots: Slots, n: int) -> Slots:
    """`slots` less `n`, taken from the last parts first (unmapped, then ineffectual, then effectual)."""
    parts = list(slots.as_tuple())
    for i in (2, 1, 0):
        taken = min(n, parts[i])
        parts[i] -= taken
        n -= taken
    return Slots(*parts)
