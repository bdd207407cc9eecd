"""Eyeriss v1: a dense row-stationary PE array with RF / GLB / DRAM hierarchy and zero gating.

Per layer: the RS dataflow picks a mapping and the kernel counts its passes, cycles and accesses
exactly (filter loads, ifmap / psum bus transfers, MACs). The PEs of a pass move in lock step, so the
timeline has one unit, the array (rows x cols multipliers); the plan plays the passes on it as at most
64 equal jobs against the DRAM channel (double-buffered), so `cycles` is the engine makespan: array
cycles plus DRAM stalls. The cycles of a job in which the array waits for a bus (the filter load,
and the compute stage waiting for a delivery or a drain between columns) are its `wait`, recorded as
stalled; compute and pipeline fill / drain are busy. Energy is the Eyeriss normalised cost chart
([EYERISS16 Table IV]) times the access counts; zero gating saves MAC and filter-spad energy on zero input
activations, never cycles: a gated MAC is an issued, ineffectual slot.

With `batch` N > 1 the layer runs N images (each with its own activation masks) in blocks of n images
per pass, sharing filter loads and filter DRAM fetches; the plan and the result row cover the batch.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np

from accelsim.accelerators.base import Accelerator, mac_blocks
from accelsim.accelerators.plan import LayerPlan, Units
from accelsim.accelerators.registry import register
from accelsim.config.arch.eyeriss_v1 import EyerissV1Spec
from accelsim.config.workload_spec import RealPattern
from accelsim.dataflows import get_dataflow
from accelsim.dataflows.eyeriss_v1 import MappingCost, RowStationary, RsHardware, RsMapping
from accelsim.energy import Action, ActionEnergy, EnergyModel
from accelsim.energy.area import AreaBlock
from accelsim.engine import WorkItem
from accelsim.kernels import eyeriss_v1 as rs
from accelsim.report.schema import Slots
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer
from accelsim.workload.masks import OperandMasks, dense_effectual_macs, effectual_macs

MAX_WORK_ITEMS = 64
"""Passes are played through the engine in at most this many equal jobs."""


@dataclass(frozen=True, slots=True)
class RsDramTraffic:
    """Bytes between DRAM and the chip for one layer over the batch, by data type."""

    ifmap_bytes: float
    filter_bytes: float
    ofmap_bytes: float
    ifmap_passes: int
    """Times each image's ifmap is streamed from DRAM, rounded up (1 when the GLB tiles it without halo)."""

    @property
    def read_bytes(self) -> float:
        """Bytes read from DRAM."""
        return self.ifmap_bytes + self.filter_bytes

    @property
    def total(self) -> float:
        """All DRAM bytes."""
        return self.read_bytes + self.ofmap_bytes


@register("eyeriss_v1")
class EyerissV1(Accelerator):
    """Eyeriss v1 (Chen et al., ISCA'16 / JSSC'17) and the scaled versions Eyeriss v2 compares with."""

    spec: EyerissV1Spec
    batches_images = True  # the images of a batch share each filter load (spec.batch)

    def __init__(self, spec: EyerissV1Spec) -> None:
        super().__init__(spec)
        self.dataflow = get_dataflow("eyeriss_v1", spec.dataflow, RowStationary)
        self.energy = EnergyModel.from_technology(spec.technology)
        self._pj = {a: self.energy.pj(a, pj) for a, pj in self._action_pj().items()}  # the ERT's, if mapped
        p, noc, sp = spec.precision, spec.noc, spec.spads
        self.hardware = RsHardware(
            rows=spec.array.rows,
            cols=spec.array.cols,
            ifmap_spad=sp.ifmap_words,
            filter_spad=sp.filter_words,
            psum_spad=sp.psum_words,
            bw_ifmap=noc.ifmap_bits // p.act_bits,
            bw_filter=noc.filter_bits // p.weight_bits,
            bw_psum_in=noc.psum_in_bits // p.psum_bits,
            bw_psum_out=noc.psum_out_bits // p.psum_bits,
            batch=spec.batch,
            cost=self._search_costs,
        )

    def unsupported(self, layer: Layer) -> str | None:
        """Only a filter row wider than a spad cannot run; every conv / depthwise / pointwise / fc can."""
        return self.dataflow.unsupported(layer, self.hardware)

    def map(self, layer: Layer) -> RsMapping:
        """The layer's RS mapping for the batch (fewest cycles, then least energy)."""
        return self.dataflow.map(layer, self.hardware)

    def plan(self, work: LayerWorkload) -> LayerPlan:
        """Map the layer; its passes as equal jobs on the array against DRAM; actions over the batch."""
        mapping = self.map(work.layer)
        traffic = self.dram_traffic(work, mapping)
        actions = self._actions(work, mapping, traffic)
        return LayerPlan(
            units=Units("array", 1, self.multipliers),
            items=_equal_jobs(mapping, traffic),
            busy=self._busy_slots(work, mapping),
            energy=actions,
            leakage_mw=self._leakage_mw(),
            macs_issued=mapping.macs,
            dram_bytes=traffic.total,
            sram_bytes=self._glb_bytes(actions),
            folds=mapping.passes,
            mapping_efficiency=mapping.mapping_efficiency(self.multipliers),
            mapping=mapping.describe(),
            dram_bytes_per_cycle=self.spec.dram.bandwidth_bytes_per_cycle,
            batch=self.spec.batch,
        )

    def _busy_slots(self, work: LayerWorkload, mapping: RsMapping) -> Slots:
        """The PE-cycles of the array's busy cycles (compute and pipeline fill / drain) over the batch:
        the MACs, effectual or not (a gated MAC still takes its cycle); mapped PEs with fewer MACs than
        the slowest PE of the pass (unit_idle: the array moves in lock step); the mapped PEs' fill and
        drain; and the PEs the pass leaves without a segment (unmapped)."""
        c = mapping.counts
        macs = mapping.macs
        effectual = work.effectual_over(self.spec.batch)
        pe_compute = int(c[rs.PE_COMPUTE_CYCLES])
        pe_fill_drain = int(c[rs.PE_FILL_DRAIN_CYCLES])
        return Slots(
            effectual=effectual,
            ineffectual=macs - effectual,
            unmapped=mapping.busy_cycles * self.multipliers - pe_compute - pe_fill_drain,
            unit_idle=pe_compute - macs,
            fill_drain=pe_fill_drain,
        )

    def dram_traffic(self, work: LayerWorkload, mapping: RsMapping) -> RsDramTraffic:
        """Batch totals. First-order GLB reuse (docs/assumptions.md): the GLB holds a tile of output
        rows (the psums of every filter of the group) and the input rows it reads, for the n images of
        a pass; each ifmap is streamed once, plus the halo rows tiles share. When one output row does
        not fit, filters are blocked and the ifmap is streamed once per filter block."""
        layer, p, spec = work.layer, self.spec.precision, self.spec
        passes = glb_ifmap_passes(layer, spec.glb_kib * 1024, p.act_bits / 8, p.psum_bits / 8, mapping.n)
        ifmap = layer.input_elems * p.act_bits / 8
        ifmaps = ifmap * spec.batch
        if spec.rlc_dram and not _activations_dense(work):
            coded = [
                8 * rs.rlc_words(np.ascontiguousarray(a).ravel(), spec.rlc_run_bits, spec.rlc_pairs_per_word)
                for a in _image_activations(work, spec.batch)
            ]
            ifmaps = sum(min(ifmap, c) for c in coded)  # the coder is bypassed when it would expand the data
        weight_words = layer.weights if spec.weights_via_glb else int(mapping.counts[rs.WEIGHT_LOADS])
        return RsDramTraffic(
            ifmap_bytes=ifmaps * passes,
            filter_bytes=weight_words * p.weight_bits / 8,
            ofmap_bytes=layer.output_elems * p.act_bits / 8 * spec.batch,
            ifmap_passes=math.ceil(passes),
        )

    def _actions(self, work: LayerWorkload, mapping: RsMapping, traffic: RsDramTraffic) -> list[ActionEnergy]:
        """Batch totals of every action with its pJ (each image gated by its own activation masks)."""
        c, layer, batch = mapping.counts, work.layer, self.spec.batch
        issued = mapping.macs
        gated = issued - _input_nonzero_macs(work, batch) if self.spec.zero_gating else 0
        via_glb = self.spec.weights_via_glb
        act = self._action
        return [
            act("mac", "mac", issued - gated),
            act("mac", "gated", gated),
            act("rf", "ifmap_read", issued),
            act("rf", "filter_read", issued - gated),
            act("rf", "psum_access", 2 * issued),
            act("rf", "ifmap_write", int(c[rs.IFMAP_DELIVERIES])),
            act("rf", "filter_write", int(c[rs.WEIGHT_DELIVERIES])),
            act("noc", "ifmap", int(c[rs.IFMAP_DELIVERIES])),
            act("noc", "filter", int(c[rs.WEIGHT_DELIVERIES])),
            act("noc", "psum", int(c[rs.PSUM_HOPS] + c[rs.PSUM_IN] + c[rs.PSUM_OUT])),
            act("sram", "ifmap_read", int(c[rs.IFMAP_READS])),
            act("sram", "ifmap_write", traffic.ifmap_passes * layer.input_elems * batch),
            act("sram", "psum_read", int(c[rs.PSUM_IN]) + layer.output_elems * batch),
            act("sram", "psum_write", int(c[rs.PSUM_OUT])),
            act("sram", "filter_read", int(c[rs.WEIGHT_LOADS]) if via_glb else 0),
            act("sram", "filter_write", layer.weights if via_glb else 0),
            act("dram", "bit", traffic.total * 8),
        ]

    def plan_actions(self) -> frozenset[Action]:
        """The actions of the cost table (every plan lists each of them)."""
        return frozenset(self._pj)

    def _action(self, component: str, op: str, count: float) -> ActionEnergy:
        """`count` actions component.op at their pJ from the cost table."""
        action = Action(component, op)
        return ActionEnergy(action, float(count), self._pj[action])

    def _action_pj(self) -> dict[Action, float]:
        """pJ of one action of each kind (the Eyeriss normalised costs); the mapping search ranks with
        the same table."""
        p, e, glb = self.spec.precision, self.energy, self.spec.glb_kib
        mac_bits = max(p.weight_bits, p.act_bits)
        return {
            Action("mac", "mac"): e.mac_pj(mac_bits, p.psum_bits),
            Action("mac", "gated"): e.mac_gated_pj(mac_bits, p.psum_bits),
            Action("rf", "ifmap_read"): e.rf_pj(p.act_bits),
            Action("rf", "filter_read"): e.rf_pj(p.weight_bits),
            Action("rf", "psum_access"): e.rf_pj(p.psum_bits),
            Action("rf", "ifmap_write"): e.rf_pj(p.act_bits),
            Action("rf", "filter_write"): e.rf_pj(p.weight_bits),
            Action("noc", "ifmap"): e.noc_pj(p.act_bits),
            Action("noc", "filter"): e.noc_pj(p.weight_bits),
            Action("noc", "psum"): e.noc_pj(p.psum_bits),
            Action("sram", "ifmap_read"): e.sram_pj(glb, p.act_bits),
            Action("sram", "ifmap_write"): e.sram_pj(glb, p.act_bits, write=True),
            Action("sram", "psum_read"): e.sram_pj(glb, p.psum_bits),
            Action("sram", "psum_write"): e.sram_pj(glb, p.psum_bits, write=True),
            Action("sram", "filter_read"): e.sram_pj(glb, p.weight_bits),
            Action("sram", "filter_write"): e.sram_pj(glb, p.weight_bits, write=True),
            Action("dram", "bit"): e.dram_pj_per_bit(self.spec.dram.kind),
        }

    def area_blocks(self, layers: tuple[Layer, ...]) -> list[AreaBlock]:
        """Per PE: a MAC, the ifmap, filter and psum scratchpads and the multicast controllers' ID
        comparators (one per data type); the GLB."""
        s, am = self.spec, self.area_model
        p, sp, n = s.precision, s.spads, self.multipliers
        ids = max(1, math.ceil(math.log2(max(s.array.rows, s.array.cols) + 1)))
        return [
            *mac_blocks(am, n, p),
            AreaBlock("rf", "ifmap spads", n, am.rf_um2(sp.ifmap_words, p.act_bits)),
            AreaBlock("rf", "filter spads", n, am.rf_um2(sp.filter_words, p.weight_bits)),
            AreaBlock("rf", "psum spads", n, am.rf_um2(sp.psum_words, p.psum_bits)),
            AreaBlock("noc", "multicast controllers", 3 * n, am.comparator_um2(ids) + am.register_um2(ids)),
            AreaBlock("sram", "GLB", 1, am.sram_um2(s.glb_kib)),
        ]

    def _leakage_mw(self) -> float:
        """Static power of the PEs and the GLB."""
        p = self.spec.precision
        mac_bits = max(p.weight_bits, p.act_bits)
        return self.energy.leakage_mw(self.multipliers, self.spec.glb_kib, mac_bits, p.psum_bits)

    def _search_costs(self, layer: Layer, n: int = 1) -> MappingCost:
        """pJ and DRAM bytes per kernel count over the batch, n images per pass: the search's cycle
        bound and energy tie-break."""
        p, k, batch = self.spec.precision, self._pj, self.spec.batch
        cost = np.zeros(rs.N_COUNTS)
        cost[rs.IFMAP_READS] = k[Action("sram", "ifmap_read")]
        cost[rs.PSUM_IN] = k[Action("sram", "psum_read")] + k[Action("noc", "psum")]
        cost[rs.PSUM_OUT] = k[Action("sram", "psum_write")] + k[Action("noc", "psum")]
        cost[rs.PSUM_HOPS] = k[Action("noc", "psum")]
        cost[rs.IFMAP_DELIVERIES] = k[Action("noc", "ifmap")] + k[Action("rf", "ifmap_write")]
        cost[rs.WEIGHT_DELIVERIES] = k[Action("noc", "filter")] + k[Action("rf", "filter_write")]
        via = Action("sram", "filter_read") if self.spec.weights_via_glb else Action("dram", "bit")
        cost[rs.WEIGHT_LOADS] = k[via] * (1 if self.spec.weights_via_glb else p.weight_bits)
        dram = np.zeros(rs.N_COUNTS)
        glb = self.spec.glb_kib * 1024
        passes = glb_ifmap_passes(layer, glb, p.act_bits / 8, p.psum_bits / 8, n)
        fixed = (passes * layer.input_elems + layer.output_elems) * p.act_bits / 8 * batch
        if self.spec.weights_via_glb:
            fixed += layer.weights * p.weight_bits / 8
        else:
            dram[rs.WEIGHT_LOADS] = p.weight_bits / 8
        return MappingCost(cost, dram, fixed, self.spec.dram.bandwidth_bytes_per_cycle)

    def _glb_bytes(self, actions: list[ActionEnergy]) -> float:
        """Bytes read from and written to the GLB."""
        p = self.spec.precision
        bits = {"ifmap": p.act_bits, "psum": p.psum_bits, "filter": p.weight_bits}
        glb = (a for a in actions if a.action.component == "sram")
        return sum(a.count * bits[a.action.op.split("_")[0]] for a in glb) / 8


def glb_ifmap_passes(
    layer: Layer, glb_bytes: float, act_bytes: float, psum_bytes: float, images: int = 1
) -> float:
    """Ifmap bytes read from DRAM / ifmap bytes, for the tallest output-row tile of `images` images
    that fits the GLB."""
    c, k, u = layer.c_per_group, layer.k_per_group, layer.stride
    row_in = c * layer.padded_w * act_bytes * images
    row_psum = k * layer.out_w * psum_bytes * images
    for tile in range(layer.out_h, 0, -1):
        in_rows = min((tile - 1) * u + layer.r, layer.padded_h)
        if in_rows * row_in + tile * row_psum <= glb_bytes:
            tiles = math.ceil(layer.out_h / tile)
            return max(1.0, tiles * in_rows / layer.padded_h)
    # Not even one output row fits: block the filters, stream the rows once per filter block.
    fit = max(
        1,
        math.floor((glb_bytes - min(layer.r * row_in, glb_bytes / 2)) / (layer.out_w * psum_bytes * images)),
    )
    return math.ceil(k / fit) * layer.out_h * layer.r / layer.padded_h


def _activations_dense(work: LayerWorkload) -> bool:
    return work.is_dense or (work.density.activations == 1.0 and not _real(work))


def _real(work: LayerWorkload) -> bool:
    return isinstance(work.density.activation_pattern, RealPattern)


def _image_activations(work: LayerWorkload, batch: int) -> list[np.ndarray]:
    """The activation masks of the `batch` images: the workload's own images when it is that batch,
    else its one image's masks repeated (a one-image workload on a batch-N configuration)."""
    if work.batch == batch:
        return [work.image_masks(i).activations for i in work.image_ids]
    return [work.masks.activations] * batch


def _input_nonzero_macs(work: LayerWorkload, batch: int) -> int:
    """MACs of `batch` images whose input activation is non-zero (padding is zero), whatever the weight."""
    layer = work.layer
    if _activations_dense(work):
        return batch * dense_effectual_macs(layer)
    one_filter = replace(layer, k=layer.groups)  # one all-ones filter per group, then x filters per group
    ones = np.ones((layer.groups, layer.c_per_group, layer.r, layer.s), dtype=bool)
    return sum(
        layer.k_per_group * effectual_macs(one_filter, OperandMasks(ones, a))
        for a in _image_activations(work, batch)
    )


def _equal_jobs(mapping: RsMapping, traffic: RsDramTraffic) -> list[WorkItem]:
    """The batch's passes as at most MAX_WORK_ITEMS jobs of near-equal cycles, longest first, each
    with its share of the bus waits and of the DRAM traffic."""
    n = min(mapping.passes, MAX_WORK_ITEMS)
    base, extra = divmod(mapping.cycles, n)
    wait, wait_extra = divmod(mapping.wait_cycles, n)
    in_b, out_b = traffic.read_bytes / n, traffic.ofmap_bytes / n
    cuts = sorted({0, extra, wait_extra, n})  # job j: base + (j < extra) cycles, wait + (j < wait_extra)
    return [
        WorkItem(0, base + (lo < extra), hi - lo, in_b, out_b, wait + (lo < wait_extra))
        for lo, hi in itertools.pairwise(cuts)
    ]
