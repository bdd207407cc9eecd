"""Phantom-2D: an R x C mesh of Phantom cores (P PEs x T threads) with two-level load balancing.

Per layer: the dataflow turns the exact operand masks into core items whose cycles the look-ahead
scheduler kernel counts (level 1: window W, atomic groups, row dispatch, run-ahead); the mesh plan
pins them to cores (level 2: round robin, LPT by valid products, or a shared queue, on a fixed or
searched split of the cores); the engine plays the cores against the DRAM link. A layer's `cycles`
is the engine makespan plus the L1 / L2 adder drain of the last outputs (docs/phantom.md), a fill /
drain tail. Only valid products are issued, so macs_issued equals macs_effectual, and the busy slots
of a core split into those products, threads the scheduler could not fill, PEs waiting inside the
core item, and PEs the mapping leaves without a reduction row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.accelerators.base import Accelerator, mac_blocks
from accelsim.accelerators.plan import Extension, LayerPlan, Units
from accelsim.accelerators.registry import register
from accelsim.config.arch.phantom import Phantom2DSpec
from accelsim.dataflows import get_dataflow
from accelsim.dataflows.phantom import CoreGeometry, LayerItems, MeshPlan, PhantomDataflow, PhantomHardware
from accelsim.energy import Action, ActionEnergy, EnergyModel, actions
from accelsim.energy.area import AreaBlock
from accelsim.engine import WorkItem
from accelsim.report.schema import Slots
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


PHANTOM_FIFO_DEPTH = 2
"""Entries of each thread's accumulation FIFO in the area model [assumption, docs/assumptions.md AR6]."""

LAM_WINDOW_UNBOUNDED = 8
"""Look-ahead window the area model gives a core configured with an unbounded window [assumption AR6]."""


@register("phantom2d")
class Phantom2D(Accelerator):
    """R x C Phantom cores sharing a global buffer and one DRAM link."""

    spec: Phantom2DSpec

    def __init__(self, spec: Phantom2DSpec) -> None:
        super().__init__(spec)
        self.dataflow = get_dataflow("phantom2d", spec.dataflow, PhantomDataflow)
        c = spec.core
        core = CoreGeometry(
            pes=c.pes,
            threads=c.threads,
            window=c.window,
            split=not c.atomic_groups,
            dispatch=c.dispatch,
            run_ahead=c.run_ahead_steps,
            strip_rows=c.strip_rows,
            neuron_walk=c.neuron_walk,
        )
        m = spec.mesh
        self.hardware = PhantomHardware(core, m.rows, m.cols, m.balance, m.split)
        self.energy = EnergyModel.from_technology(spec.technology)

    @property
    def cores(self) -> int:
        """R x C."""
        return self.spec.mesh.rows * self.spec.mesh.cols

    def unsupported(self, layer: Layer) -> str | None:
        """Kernel rows wider than 62 columns do not fit the bit codes of the model."""
        if layer.s > 62 and (layer.r, layer.s) != (1, 1):
            return f"kernel width {layer.s} exceeds the 62 columns a mask code holds"
        return None

    def plan_actions(self) -> frozenset[Action]:
        """MACs, thread registers and FIFOs, the look-ahead masks, the core buffers, the mesh, DRAM."""
        return actions(
            "mac.mac", "rf.operand_read", "rf.fifo_access", "rf.mask_and", "sram.input_read",
            "sram.weight_read", "sram.mask_read", "sram.output_write", "noc.input_hop", "noc.weight_hop",
            "noc.output_hop", "dram.bit",
        )  # fmt: skip

    def plan(self, work: LayerWorkload) -> LayerPlan:
        """Core items from the kernel on the mesh's cores; actions and energy."""
        layer = work.layer
        mapping = self.dataflow.map(layer, self.hardware, work.masks)
        items, mesh = mapping.items, mapping.mesh
        traffic = self._mask_traffic(work)
        dram_bytes, input_passes = self._dram_bytes(traffic)
        n = max(1, len(mesh.work))  # traffic spread evenly over the work items
        reads, writes = (dram_bytes - traffic.output_bytes) / n, traffic.output_bytes / n
        c = self.spec.core
        issued = int(items.products.sum())
        energy, sram_bytes = self._actions(layer, items, mesh, traffic, issued, input_passes)
        return LayerPlan(
            units=Units("core", self.cores, c.pes * c.threads),
            items=[WorkItem(w.unit, w.cycles, 1, reads, writes) for w in mesh.work],
            busy=self._busy_slots(items, issued),
            energy=energy,
            leakage_mw=self._leakage_mw(),
            macs_issued=issued,
            dram_bytes=dram_bytes,
            sram_bytes=sram_bytes,
            folds=int(items.cycles.size),
            mapping_efficiency=items.dealt_rows / max(1, items.steps * c.pes),
            mapping=mapping.describe(),
            dram_bytes_per_cycle=self.spec.dram.bandwidth_bytes_per_cycle,
            tail=Extension(c.l1_adder_cycles + 2 * c.l2_stage_cycles, "fill_drain", "L1 / L2 adder drain"),
        )

    def _busy_slots(self, items: LayerItems, issued: int) -> Slots:
        """The P x T slots of every core-item cycle: valid products (the only ones issued); threads a
        scheduling PE cannot fill (packing: atomic groups, window); PEs the mapping leaves without a
        reduction row (unmapped: a partial last step, or an item of fewer rows than PEs); and PEs
        waiting inside the item (unit_idle: for the slowest PE, the run-ahead bound, an all-zero weight
        row under `fixed` dispatch)."""
        c = self.spec.core
        pe_cycles = int(items.cycles.sum()) * c.pes
        waiting = pe_cycles - items.pe_busy_cycles - items.unmapped_pe_cycles
        return Slots(
            effectual=issued,
            unmapped=items.unmapped_pe_cycles * c.threads,
            packing=items.pe_busy_cycles * c.threads - issued,
            unit_idle=waiting * c.threads,
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
        mesh: MeshPlan,
        t: MaskTraffic,
        issued: int,
        input_passes: int,
    ) -> tuple[list[ActionEnergy], float]:
        """Every action with its count and pJ, and the global-buffer bytes accessed (docs/assumptions.md)."""
        p, e, b = self.spec.precision, self.energy, self.spec.buffers
        mac_bits = max(p.weight_bits, p.act_bits)
        # The global buffer feeds each input set once per filter round unless it stays in the cores.
        input_set_bytes = t.input_bytes / mesh.input_sets
        filter_rounds = -(-layer.k_per_group // max(1, mesh.filter_sets)) if layer.groups == 1 else 1
        input_reads = 1 if input_set_bytes <= b.core_kib * 1024 / 2 else filter_rounds
        in_words = t.input_nnz * input_reads * input_passes
        in_mask_bits = layer.input_elems * input_reads * input_passes
        g = b.global_kib
        dram_bytes, _ = self._dram_bytes(t)
        of = ActionEnergy.of
        actions = [
            of("mac", "mac", issued, e.mac_pj(mac_bits, p.psum_bits)),
            of("rf", "operand_read", 2 * issued, e.rf_pj(mac_bits)),
            of("rf", "fifo_access", 2 * items.groups, e.rf_pj(p.psum_bits)),
            of("rf", "mask_and", 2 * items.examined_groups, e.rf_pj(items.group_bits)),
            of("sram", "input_read", in_words, e.sram_pj(g, p.act_bits)),
            of("sram", "weight_read", t.weight_nnz, e.sram_pj(g, p.weight_bits)),
            of("sram", "mask_read", (in_mask_bits + layer.weights) / p.act_bits, e.sram_pj(g, p.act_bits)),
            of(
                "sram", "output_write", t.output_nnz + layer.output_elems / p.act_bits,
                e.sram_pj(g, p.act_bits, write=True),
            ),
            of("noc", "input_hop", in_words * mesh.filter_sets, e.noc_pj(p.act_bits)),
            of("noc", "weight_hop", t.weight_nnz * mesh.input_sets, e.noc_pj(p.weight_bits)),
            of("noc", "output_hop", t.output_nnz, e.noc_pj(p.act_bits)),
            of("dram", "bit", dram_bytes * 8, e.dram_pj_per_bit(self.spec.dram.kind)),
        ]  # fmt: skip
        sram_bytes = (
            in_words * p.act_bits
            + t.weight_nnz * p.weight_bits
            + in_mask_bits
            + layer.weights
            + t.output_nnz * p.act_bits
            + layer.output_elems
        ) / 8
        return actions, sram_bytes

    def area_blocks(self, layers: tuple[Layer, ...]) -> list[AreaBlock]:
        """Per core: P x T multipliers, a 32-bit L1 adder per thread and an L2 adder per PE, each thread's
        operand registers and accumulation FIFO (LAM/TDS selection and OB stages), the look-ahead mask
        unit; the core buffers, the global buffer and a 5-port mesh router per core."""
        s, am = self.spec, self.area_model
        p, c, b = s.precision, s.core, s.buffers
        threads = self.multipliers
        window = c.window if c.window is not None else LAM_WINDOW_UNBOUNDED
        lam_um2 = am.register_um2(2 * window * c.threads) + c.threads * am.comparator_um2(
            max(1, math.ceil(math.log2(window + 1)))
        )
        return [
            *mac_blocks(am, threads, p),
            AreaBlock("mac", "L2 adders", self.cores * c.pes, am.adder_um2(p.psum_bits)),
            AreaBlock("rf", "thread operand registers", threads, am.register_um2(p.weight_bits + p.act_bits)),
            AreaBlock("rf", "accumulation FIFOs", threads, am.rf_um2(PHANTOM_FIFO_DEPTH, p.psum_bits)),
            AreaBlock("special", "look-ahead mask units", self.cores * c.pes, lam_um2),
            AreaBlock("sram", "core buffers", self.cores, am.sram_um2(b.core_kib)),
            AreaBlock("sram", "global buffer", 1, am.sram_um2(b.global_kib)),
            AreaBlock(
                "noc", "mesh routers", self.cores, am.crossbar_um2(5, 5, max(p.weight_bits, p.act_bits))
            ),
        ]

    def _leakage_mw(self) -> float:
        b = self.spec.buffers
        p = self.spec.precision
        sram_kib = b.global_kib + self.cores * b.core_kib
        return self.energy.leakage_mw(self.multipliers, sram_kib, max(p.weight_bits, p.act_bits), p.psum_bits)
