"""SCNN (Parashar et al., ISCA 2017) and its dense baselines DCNN / DCNN-opt on one PT-IS-CP array.

A layer runs as a sequence of output-channel groups (per temporal band). In each group every PE
multiplies its tile's activations by the group's weights (the dataflow's `map` runs
`kernels.scnn.planar_layer`: each PE's exact cycles, fragmentation and bank conflicts included), then
the PEs meet at the barrier and exchange halos over the on-chip network. Because of that barrier the
array is ONE engine unit whose work items are the groups (span = barrier + exposed halo), their DRAM
traffic double-buffered behind the previous group; the timeline's units are the 64 PEs, refined from
the engine's run: a PE is busy for its own cycles of a group, idle at the barrier, stalled while the
halo is exchanged and while the array waits for DRAM. A layer's `cycles` is the engine makespan.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import pandas as pd

from accelsim.accelerators.base import Accelerator
from accelsim.accelerators.plan import LayerPlan, Units
from accelsim.accelerators.registry import register
from accelsim.config.arch.scnn import DcnnSpec, PlanarTiledSpec, ScnnSpec
from accelsim.dataflows import DATAFLOWS, get_dataflow
from accelsim.dataflows.scnn import (
    PlanarGeometry,
    PlanarHardware,
    PlanarMapping,
    PlanarTiledCP,
    PlanarTiling,
    fits,
    halo_cycles,
    halo_psums,
)
from accelsim.energy import Action, ActionEnergy, EnergyModel, actions
from accelsim.energy.area import AreaBlock
from accelsim.engine import EngineResult, WorkItem
from accelsim.engine.timeline import BUSY, IDLE, STALLED, timeline_frame
from accelsim.errors import UnknownNameError
from accelsim.kernels.scnn import STAT_ACT_READS, STAT_WEIGHT_READS
from accelsim.report.schema import Slots
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.masks import dense_effectual_macs

HALO_TEXT = "halo exchange after each group: largest halo region x Kc cycles"
FC_TEXT = "partial-sum reduction after each group: Kc + PEs - 1 cycles"
"""The closed forms of the on-chip network's time (docs/assumptions.md SC6, SC8), for `closed_form`."""


@dataclass(frozen=True, slots=True)
class Footprint:
    """Bytes of a layer's inputs, outputs and weights as stored on chip and moved to and from DRAM."""

    input_bytes: float
    output_bytes: float
    weight_bytes: float


@dataclass(frozen=True, slots=True)
class GroupTiming:
    """Cycles of each output-channel group on the array."""

    compute: np.ndarray
    """int64[groups]: until the barrier (slowest PE, or the sum of per-input-channel barriers)."""
    span: np.ndarray
    """int64[groups]: the group's cycles on the array: compute plus the exposed halo exchange."""
    halo: np.ndarray
    """int64[groups]: cycles of each group's halo exchange (FC: partial-sum reduction)."""


class PlanarTiledArray(Accelerator):
    """The PT-IS-CP array both SCNN and DCNN use; subclasses say what is compressed and gated."""

    spec: PlanarTiledSpec
    sparse: bool = True

    def __init__(self, spec: PlanarTiledSpec) -> None:
        super().__init__(spec)
        self.dataflow = get_dataflow("scnn", spec.dataflow, PlanarTiledCP)
        if self.dataflow.sparse != self.sparse:  # build() names the file and the key
            operands = "compressed" if self.sparse else "dense"
            raise UnknownNameError(f"{self.kind} dataflow ({operands} operands)", spec.dataflow, [
                name for name, df in DATAFLOWS["scnn"].items() if getattr(df, "sparse", None) == self.sparse
            ])  # fmt: skip
        self.geometry = PlanarGeometry(spec.pe_rows, spec.pe_cols, spec.f, spec.i, spec.accumulator_entries)
        self.hardware = PlanarHardware(
            self.geometry,
            spec.accumulator_banks,
            self.conflicts,
            self.weight_order,
            accumulator=self.accumulator,
            queue_depth=self.queue_depth,
            drain_each_channel=spec.barrier == "input_channel",
        )
        self.energy = EnergyModel.from_technology(spec.technology)

    @property
    def conflicts(self) -> bool:
        """Whether accumulator bank conflicts are modelled."""
        return False

    @property
    def weight_order(self) -> str:
        """Order of each weight list: DCNN streams k innermost (rsk; irrelevant to its cycles, since
        its dense lists are only counted and its accumulator is conflict-free)."""
        return "rsk"

    @property
    def accumulator(self) -> str:
        """How the banks take a step's products (`kernels.scnn.ACCUMULATORS`); DCNN: conflict-free."""
        return "lockstep"

    @property
    def queue_depth(self) -> int:
        """Products per bank FIFO (0: none)."""
        return 0

    # -- one layer ---------------------------------------------------------------------------
    def plan_actions(self) -> frozenset[Action]:
        """MACs, accumulator banks and FIFOs, merge adders, the PPU drain, IARAM / OARAM, the weight
        broadcast, the scatter crossbar, the halo exchange, DRAM."""
        return actions(
            "mac.mac", "mac.gated", "rf.accumulate", "rf.bank_fifo", "mac.merge_add", "rf.drain",
            "rf.weight_fifo_read", "sram.iaram_read", "sram.oaram_write", "noc.weight_broadcast",
            "noc.crossbar", "noc.halo", "dram.bit",
        )  # fmt: skip

    def plan(self, work: LayerWorkload) -> LayerPlan:
        """Map the layer (bands sized from the RAMs), time its groups, and hand the groups to the engine
        as items of the one array unit; the refiner draws the PEs' timeline from the engine's run."""
        spec = self.spec
        footprint = self._footprint(work, self.dataflow.tiling(work.layer, self.geometry))
        mapping = self.map_layer(work, self._bands(work.layer, footprint))
        timing = self.group_timing(mapping)
        read, write = self._dram_bytes(work, mapping, footprint)
        band_of = mapping.ops.og_band
        per_band = np.bincount(band_of, minlength=len(read))
        items = [
            WorkItem(0, int(span), 1, read[b] / per_band[b], write[b] / per_band[b])
            for span, b in zip(timing.span.tolist(), band_of.tolist(), strict=True)
        ]
        dram_bytes = float(sum(read) + sum(write))
        energy, sram_bytes = self._actions(work, mapping, dram_bytes)
        closed_form = (FC_TEXT if mapping.tiling.fc else HALO_TEXT) if timing.halo.any() else ""
        if closed_form and spec.halo == "overlapped":
            closed_form += ", hidden behind the next group's compute (span = max(compute, previous halo))"
        return LayerPlan(
            units=Units("PE", spec.pes, spec.f * spec.i),
            items=items,
            busy=self._busy_slots(work, mapping),
            energy=energy,
            leakage_mw=self._leakage_mw(),
            macs_issued=mapping.issued,
            dram_bytes=dram_bytes,
            sram_bytes=sram_bytes,
            folds=mapping.groups,
            mapping_efficiency=float((mapping.busy.sum(axis=0) > 0).mean()),
            mapping=mapping.describe(),
            dram_bytes_per_cycle=spec.dram.bandwidth_bytes_per_cycle,
            engine_units=1,
            refine=partial(pe_timeline, mapping=mapping, timing=timing),
            closed_form=closed_form,
        )

    def map_layer(self, work: LayerWorkload, bands: int) -> PlanarMapping:
        """The layer in `bands` temporal bands, every PE of every group run by the kernel."""
        masks = work.masks if self.sparse else None  # dense lists are counted from the shapes alone
        return self.dataflow.map(work.layer, replace(self.hardware, bands=bands), masks)

    def group_timing(self, mapping: PlanarMapping) -> GroupTiming:
        """Each group's barrier and span under the config's `barrier` and `halo` options."""
        spec = self.spec
        compute = mapping.strict if spec.barrier == "input_channel" else mapping.busy.max(axis=1)
        m, pes = mapping.tiling, spec.pes
        halo = np.array([halo_cycles(m, int(kc), pes) for kc in mapping.ops.og_kc], dtype=np.int64)
        if spec.halo == "serial":
            span = compute + halo
        else:  # the next group computes while the PPU exchanges this group's halo
            hidden = np.concatenate([[0], halo[:-1]])
            span = np.maximum(compute, hidden)
            span[-1] += halo[-1]
        return GroupTiming(compute, span, halo)

    def _busy_slots(self, work: LayerWorkload, mapping: PlanarMapping) -> Slots:
        """The F x I slots of every busy PE-cycle. A step fires once and lasts 1 + the cycles it waits
        for a bank (lock step, merging) or for room in a bank FIFO (queued); its issued products are
        effectual if they accumulate into an output (SCNN: the kernel's valid products; DCNN: the
        layer's effectual MACs) and ineffectual otherwise (a zero operand, or, for both, a product
        landing outside the output plane or band, discarded); the lanes a short vector leaves empty and
        every lane of a waiting cycle are packing. The cycles the FIFOs take to empty after a PE's last
        step are fill / drain. An FC step holds one activation by the mapping (SC6), so its other I - 1
        activation lanes are unmapped."""
        f, i = self.spec.f, self.spec.i
        issued = mapping.issued
        effectual = mapping.valid if self.sparse else work.effectual_macs
        busy = (mapping.steps + mapping.conflict_cycles + mapping.drain_cycles) * f * i
        unmapped = mapping.steps * f * (i - 1) if mapping.tiling.fc else 0
        fill_drain = mapping.drain_cycles * f * i
        return Slots(
            effectual=effectual,
            ineffectual=issued - effectual,
            unmapped=unmapped,
            packing=busy - issued - unmapped - fill_drain,
            fill_drain=fill_drain,
        )

    # -- storage and traffic -----------------------------------------------------------------
    def _act_entry_bits(self) -> int:
        p = self.spec.precision
        return p.act_bits + (self.spec.index_bits if self.sparse else 0)

    def _weight_entry_bits(self) -> int:
        p = self.spec.precision
        return p.weight_bits + (self.spec.index_bits if self.sparse else 0)

    def _footprint(self, work: LayerWorkload, m: PlanarTiling) -> Footprint:
        """The layer's operands as stored on chip (compressed for SCNN, dense for DCNN)."""
        layer = work.layer
        if self.sparse:
            masks = work.masks
            a_entries, w_entries = self.dataflow.compressed_entries(
                layer, self.geometry, m, masks.activations, masks.weights, (1 << self.spec.index_bits) - 1,
                self.weight_order,
            )  # fmt: skip
            out_entries = layer.output_elems * work.density.activations  # [assumption] output density proxy
        else:
            a_entries, w_entries, out_entries = layer.input_elems, layer.weights, layer.output_elems
        bits = self._act_entry_bits()
        return Footprint(
            a_entries * bits / 8, out_entries * bits / 8, w_entries * self._weight_entry_bits() / 8
        )

    def _bands(self, layer: Layer, f: Footprint) -> int:
        """Temporal bands so that each PE's share of inputs and outputs fits its IARAM / OARAM."""
        if layer.kind is LayerKind.FC:
            return 1
        pes = self.spec.pes
        return max(
            fits(f.input_bytes / pes, self.spec.iaram_kib), fits(f.output_bytes / pes, self.spec.oaram_kib)
        )

    def _dram_bytes(
        self, work: LayerWorkload, mapping: PlanarMapping, f: Footprint
    ) -> tuple[list[float], list[float]]:
        """Per band: bytes read (weights, and inputs when the layer is tiled in time) and written.

        A layer that fits keeps its activations on chip (IARAM / OARAM ping-pong between layers);
        a tiled layer reads each band's input rows (rows on a band edge twice) and writes its outputs.
        """
        m = mapping.tiling
        if len(m.bands) == 1:
            return [f.weight_bytes], [0.0]
        layer = work.layer
        distinct = np.count_nonzero(work.masks.activations) if self.sparse else layer.input_elems
        per_entry = f.input_bytes / max(1, int(distinct))
        read = [f.weight_bytes + float(n) * per_entry for n in mapping.ops.band_act_entries]
        write = [f.output_bytes * (b1 - b0) / layer.out_h for b0, b1 in m.bands]
        return read, write

    # -- energy ------------------------------------------------------------------------------
    def _gated(self, work: LayerWorkload, mapping: PlanarMapping) -> int:
        """Products whose multiply is gated (a zero operand): none but in DCNN-opt."""
        return 0

    def _accumulated(self, work: LayerWorkload, mapping: PlanarMapping) -> tuple[int, int]:
        """(products through the scatter crossbar, accumulator read-modify-writes): SCNN's valid
        products, less for the accesses those merged into another of their step."""
        return mapping.valid, mapping.accumulator_accesses

    def _actions(
        self, work: LayerWorkload, mapping: PlanarMapping, dram_bytes: float
    ) -> tuple[list[ActionEnergy], float]:
        """Every action with its count and pJ, and the SRAM bytes (docs/assumptions.md, SCNN section)."""
        spec, e, layer = self.spec, self.energy, work.layer
        p, m, pes = spec.precision, mapping.tiling, spec.pes
        stats = mapping.stats
        issued = mapping.issued
        transfers, accesses = self._accumulated(work, mapping)
        fifo = transfers if self.accumulator == "queued" else 0  # every product through its bank's FIFO
        gated = self._gated(work, mapping)
        act_bits, w_bits = self._act_entry_bits(), self._weight_entry_bits()
        mac_bits = max(p.weight_bits, p.act_bits)
        out_entries = layer.output_elems * (work.density.activations if self.sparse else 1.0)
        drained = layer.k * pes if m.fc else layer.output_elems  # the PPU reads every partial sum once
        halo = sum(halo_psums(m, int(kc), pes) for kc in mapping.ops.og_kc)
        weights_sent = float(mapping.ops.w_ptr[-1]) * len(m.bands) * pes  # broadcast to every PE
        of = ActionEnergy.of
        actions = [
            of("mac", "mac", issued - gated, e.mac_pj(mac_bits, p.psum_bits)),
            of("mac", "gated", gated, e.mac_gated_pj(mac_bits, p.psum_bits)),
            of("rf", "accumulate", 2 * accesses, e.rf_pj(p.psum_bits)),
            of("rf", "bank_fifo", 2 * fifo, e.rf_pj(p.psum_bits)),
            of("mac", "merge_add", transfers - accesses, e.adder_pj(p.psum_bits)),
            of("rf", "drain", drained, e.rf_pj(p.psum_bits)),
            of("rf", "weight_fifo_read", int(stats[STAT_WEIGHT_READS]), e.rf_pj(w_bits)),
            of("sram", "iaram_read", int(stats[STAT_ACT_READS]), e.sram_pj(spec.iaram_kib, act_bits)),
            of("sram", "oaram_write", out_entries, e.sram_pj(spec.oaram_kib, act_bits, write=True)),
            of("noc", "weight_broadcast", weights_sent, e.noc_pj(w_bits)),
            of("noc", "crossbar", transfers, e.noc_pj(p.psum_bits)),
            of("noc", "halo", halo, e.noc_pj(p.psum_bits)),
            of("dram", "bit", dram_bytes * 8, e.dram_pj_per_bit(spec.dram.kind)),
        ]
        sram_bytes = (int(stats[STAT_ACT_READS]) + out_entries) * act_bits / 8
        return actions, sram_bytes

    scatter_crossbar: bool = True
    """Products reach the accumulator banks through an F·I x A crossbar (SCNN); DCNN has none."""

    def area_blocks(self, layers: tuple[Layer, ...]) -> list[AreaBlock]:
        """Per PE: F x I multipliers, the weight FIFO, IARAM and OARAM, the double-buffered accumulator
        banks with one adder each and (SCNN) the scatter crossbar; a 5-port router per PE for halos."""
        s, am = self.spec, self.area_model
        p = s.precision
        blocks = [
            AreaBlock("mac", "multipliers", self.multipliers, am.multiplier_um2(p.weight_bits, p.act_bits)),
            AreaBlock("mac", "accumulator adders", s.pes * s.accumulator_banks, am.adder_um2(p.psum_bits)),
            AreaBlock(
                "rf", "weight FIFOs", s.pes, am.rf_um2(s.weight_fifo_entries, p.weight_bits + s.index_bits)
            ),
            AreaBlock(
                "special",
                "accumulator banks",
                2 * s.pes * s.accumulator_banks,
                am.rf_um2(s.bank_entries, p.psum_bits),
            ),
            AreaBlock("sram", "IARAM + OARAM", s.pes, am.sram_um2(s.iaram_kib + s.oaram_kib)),
            AreaBlock("noc", "PE routers", s.pes, am.crossbar_um2(5, 5, p.psum_bits)),
        ]
        if self.scatter_crossbar:
            blocks.append(
                AreaBlock(
                    "special",
                    "scatter crossbars",
                    s.pes,
                    am.crossbar_um2(s.f * s.i, s.accumulator_banks, p.psum_bits),
                )
            )
        return blocks

    def _leakage_mw(self) -> float:
        """1,024 MACs and every PE's IARAM, OARAM and double-buffered accumulator."""
        spec = self.spec
        p = spec.precision
        acc_kib = 2 * spec.accumulator_entries * p.psum_bits / 8 / 1024
        sram_kib = spec.pes * (spec.iaram_kib + spec.oaram_kib + acc_kib)
        return self.energy.leakage_mw(self.multipliers, sram_kib, max(p.weight_bits, p.act_bits), p.psum_bits)


def pe_timeline(run: EngineResult, mapping: PlanarMapping, timing: GroupTiming) -> pd.DataFrame:
    """The PEs' timeline (unit, state, start, end) over [0, makespan) from the array's engine run.

    Group g starts where the engine started its item. In it, PE p is busy for its own cycles (one
    block: with per-input-channel barriers the kernel gives a PE's cycles per group, not per channel),
    idle until the barrier (`compute`), and stalled for the rest of the span, the exposed halo
    exchange (waiting for the on-chip network). While the array waits for DRAM every PE that holds a
    tile in the layer is stalled.
    A PE without an output tile in the group's band is idle for the whole span; one without a tile in
    any band of the layer is idle throughout (the slot partition counts it unmapped).
    """
    array = run.timeline.frame(run.makespan)
    array = array[array["unit"] == 0]
    state = array["state"].to_numpy()
    starts = array["start"].to_numpy(dtype=np.int64)[state == "busy"]
    ran = np.flatnonzero(timing.span > 0)  # zero-cycle items leave no interval
    if starts.size != ran.size:
        raise ValueError(f"the engine ran {starts.size} groups with cycles, the plan has {ran.size}")
    tiled = mapping.tiled[mapping.ops.og_band[ran]]
    start = starts[:, None]
    busy_end = start + mapping.busy[ran]
    end = start + timing.span[ran][:, None]
    barrier = np.where(tiled, start + timing.compute[ran][:, None], end)  # untiled PEs idle to the end
    pes = tiled.shape[1]
    stall = state == "stalled"
    s0 = array["start"].to_numpy(dtype=np.int64)[stall][:, None]
    s1 = array["end"].to_numpy(dtype=np.int64)[stall][:, None]
    works = mapping.tiled.any(axis=0)  # PEs with a tile somewhere in the layer wait for DRAM
    blocks = [
        _block(pes, np.array(BUSY), start, busy_end),
        _block(pes, np.array(IDLE), busy_end, barrier),
        _block(pes, np.array(STALLED), barrier, end),
        _block(pes, np.where(works, STALLED, IDLE), s0, s1),
    ]
    unit, code, lo, hi = (np.concatenate(col) for col in zip(*blocks, strict=True))
    return timeline_frame(unit, code, lo, hi)


def _block(
    pes: int, code: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flat (unit, state code, start, end) of a [rows, pes] block of intervals (arguments broadcast)."""
    shape = (lo.shape[0], pes)
    return (
        np.broadcast_to(np.arange(pes, dtype=np.int64), shape).ravel(),
        np.broadcast_to(code, shape).astype(np.int8).ravel(),
        np.broadcast_to(lo, shape).astype(np.int64).ravel(),
        np.broadcast_to(hi, shape).astype(np.int64).ravel(),
    )


@register("scnn")
class Scnn(PlanarTiledArray):
    """SCNN: compressed weights and activations, Cartesian products, banked accumulators."""

    spec: ScnnSpec
    sparse = True

    @property
    def conflicts(self) -> bool:
        """Bank conflicts are modelled unless the config asks for an ideal accumulator."""
        return self.spec.bank_hash != "ideal"

    @property
    def weight_order(self) -> str:
        """The config's weight linearisation (krs or rsk)."""
        return self.spec.weight_order

    @property
    def accumulator(self) -> str:
        """The config's accumulator model."""
        return self.spec.accumulator

    @property
    def queue_depth(self) -> int:
        """The config's bank FIFO depth when the accumulator is queued, else 0."""
        return self.spec.queue_depth if self.spec.accumulator == "queued" else 0


@register("dcnn")
class Dcnn(PlanarTiledArray):
    """DCNN / DCNN-opt: the same array on dense operands (no skipping, no compression on chip)."""

    scatter_crossbar = False

    spec: DcnnSpec
    sparse = False

    def _dram_bytes(
        self, work: LayerWorkload, mapping: PlanarMapping, f: Footprint
    ) -> tuple[list[float], list[float]]:
        """DCNN-opt moves activations to and from DRAM compressed in SCNN's format."""
        if self.spec.compress_dram_activations:
            p = self.spec.precision
            f = Footprint(
                f.input_bytes * self._compressed_act_fraction(work, mapping.tiling),
                f.output_bytes * work.density.activations * (p.act_bits + self.spec.index_bits) / p.act_bits,
                f.weight_bytes,
            )
        return super()._dram_bytes(work, mapping, f)

    def _compressed_act_fraction(self, work: LayerWorkload, m: PlanarTiling) -> float:
        """Compressed / dense size of the layer's input activations in SCNN's format."""
        layer, spec = work.layer, self.spec
        if work.density.activations >= 1.0:
            entries = layer.input_elems
        else:
            max_run = (1 << spec.index_bits) - 1
            entries = self.dataflow.compressed_act_entries(
                layer, self.geometry, m, work.masks.activations, max_run
            )
        bits = spec.precision.act_bits
        return entries * (bits + spec.index_bits) / (layer.input_elems * bits)

    def _gated(self, work: LayerWorkload, mapping: PlanarMapping) -> int:
        """DCNN-opt gates every product with a zero operand (the non-effectual ones)."""
        if not self.spec.zero_gating:
            return 0
        return mapping.issued - work.effectual_macs

    def _accumulated(self, work: LayerWorkload, mapping: PlanarMapping) -> tuple[int, int]:
        """Every product landing in the output plane is scattered and accumulated, zeros included,
        unless DCNN-opt gates the whole multiply-accumulate of those with a zero operand."""
        if self.spec.zero_gating and self.spec.zero_gating_scope == "macc":
            return work.effectual_macs, work.effectual_macs
        dense = dense_effectual_macs(work.layer)
        return dense, dense
