"""SCNN (Parashar et al., ISCA 2017) and its dense baselines DCNN / DCNN-opt on one PT-IS-CP array.

A layer runs as a sequence of output-channel groups (per temporal band). In each group every PE
multiplies its tile's activations by the group's weights (`kernels.scnn.planar_layer` gives each
PE's exact cycles: fragmentation and bank conflicts included), then all PEs wait at the barrier and
exchange halos. Because of that barrier the whole array is one engine unit whose work items are the
groups (span = slowest PE + halo), with the group's DRAM traffic double-buffered behind the
previous group; the per-PE busy / idle intervals inside each group come from the kernel. A layer's
`cycles` is the engine makespan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from accelsim.accelerators.base import Accelerator
from accelsim.accelerators.registry import register
from accelsim.config.arch.scnn import DcnnSpec, PlanarTiledSpec, ScnnSpec
from accelsim.dataflows import get_dataflow
from accelsim.dataflows.scnn import (
    OperandLists,
    PlanarGeometry,
    PlanarMapping,
    PlanarTiledCP,
    fits,
    halo_cycles,
    halo_psums,
)
from accelsim.energy import Action, EnergyModel, energy_breakdown, static_energy_pj
from accelsim.engine import WorkItem, play
from accelsim.engine.timeline import Timeline
from accelsim.kernels.scnn import (
    STAT_ACT_READS,
    STAT_CONFLICT,
    STAT_ISSUED,
    STAT_STEPS,
    STAT_VALID,
    STAT_WEIGHT_READS,
    bank_table,
    planar_layer,
)
from accelsim.report.schema import LayerResult
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer
from accelsim.workload.masks import dense_effectual_macs


@dataclass(frozen=True)
class LayerRun:
    """What the kernel and the mapping say about one layer, before the engine plays it."""

    mapping: PlanarMapping
    ops: OperandLists
    busy: np.ndarray
    """Compute cycles of each PE in each output-channel group."""
    spans: np.ndarray
    """Cycles of each group: barrier (slowest PE, or per-channel barriers) plus exposed halo."""
    stats: np.ndarray
    valid: int
    """Products accumulated (inside the output plane)."""


class PlanarTiledArray(Accelerator):
    """The PT-IS-CP array both SCNN and DCNN use; subclasses say what is compressed and gated."""

    spec: PlanarTiledSpec
    sparse: bool = True

    def __init__(self, spec: PlanarTiledSpec) -> None:
        super().__init__(spec)
        self.dataflow: PlanarTiledCP = get_dataflow("scnn", spec.dataflow)
        if self.dataflow.sparse != self.sparse:
            want = "pt_is_cp_sparse" if self.sparse else "pt_is_cp_dense"
            raise ValueError(
                f"{spec.name}: {type(self).__name__} needs dataflow {want}, got {spec.dataflow!r}"
            )
        self.geometry = PlanarGeometry(spec.pe_rows, spec.pe_cols, spec.f, spec.i, spec.accumulator_entries)
        self.energy = EnergyModel.from_technology(spec.technology)

    @property
    def multipliers(self) -> int:
        """PEs x F x I."""
        return self.spec.pes * self.spec.f * self.spec.i

    @property
    def conflicts(self) -> bool:
        """Whether accumulator bank conflicts are modelled."""
        return False

    @property
    def weight_order(self) -> str:
        """Order of each weight list: DCNN streams k innermost (rsk; irrelevant to its cycles, since
        its dense lists are only counted and its accumulator is conflict-free)."""
        return "rsk"

    # -- storage ---------------------------------------------------------------------------
    def _act_entry_bits(self) -> int:
        p = self.spec.precision
        return p.act_bits + (self.spec.index_bits if self.sparse else 0)

    def _weight_entry_bits(self) -> int:
        p = self.spec.precision
        return p.weight_bits + (self.spec.index_bits if self.sparse else 0)

    def _footprint(self, work: LayerWorkload, m: PlanarMapping) -> tuple[float, float, float]:
        """(input bytes, output bytes, weight bytes) as stored on chip and moved to and from DRAM."""
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
        return a_entries * bits / 8, out_entries * bits / 8, w_entries * self._weight_entry_bits() / 8

    def _bands(self, layer: Layer, in_bytes: float, out_bytes: float, m: PlanarMapping) -> int:
        """Temporal bands so that each PE's share of inputs and outputs fits its IARAM / OARAM."""
        if m.fc:
            return 1
        pes = self.spec.pes
        return max(fits(in_bytes / pes, self.spec.iaram_kib), fits(out_bytes / pes, self.spec.oaram_kib))

    # -- one layer ---------------------------------------------------------------------------
    def run_kernel(self, work: LayerWorkload, bands: int) -> LayerRun:
        """Map the layer in `bands` temporal bands and run every PE of every group."""
        layer, geom, spec = work.layer, self.geometry, self.spec
        m = self.dataflow.plan(layer, geom, bands)
        if self.sparse:
            wmask, amask = work.masks.weights, work.masks.activations
        else:  # dense lists are counted from the shapes alone
            wmask = np.empty((layer.k, layer.c_per_group, layer.r, layer.s), dtype=bool)
            amask = np.empty((layer.c, layer.h, layer.w), dtype=bool)
        ops = self.dataflow.operand_lists(layer, geom, m, wmask, amask, self.weight_order)
        table = bank_table(spec.accumulator_banks if isinstance(spec, ScnnSpec) else 32)
        busy, strict, stats = planar_layer(
            ops.a_ptr, ops.a_x, ops.a_y, ops.w_ptr, ops.w_k, ops.w_r, ops.w_s,
            ops.og_band, ops.og_wgroup, ops.og_chan0, ops.og_oy0, ops.og_oy1,
            layer.c, layer.c_per_group, geom.pes, m.phases, m.stride, 1 if m.fc else layer.out_w,
            geom.f, geom.i, table, self.conflicts, self.sparse,
        )  # fmt: skip
        compute = strict if spec.barrier == "input_channel" else busy.max(axis=1)
        halo = np.array([halo_cycles(m, int(kc), geom.pes) for kc in ops.og_kc], dtype=np.int64)
        if spec.halo == "serial":
            spans = compute + halo
        else:  # the next group computes while the PPU exchanges this group's halo
            hidden = np.concatenate([[0], halo[:-1]])
            spans = np.maximum(compute, hidden)
            spans[-1] += halo[-1]
        valid = int(stats[STAT_VALID]) if self.sparse else dense_effectual_macs(layer)
        return LayerRun(m, ops, busy, spans, stats, valid)

    def simulate_layer(self, work: LayerWorkload) -> tuple[LayerResult, pd.DataFrame]:
        """Size the bands, run the kernel, play the groups through the engine, count energy."""
        layer, spec = work.layer, self.spec
        m1 = self.dataflow.plan(layer, self.geometry, 1)
        in_b, out_b, w_b = self._footprint(work, m1)
        bands = self._bands(layer, in_b, out_b, m1)
        run = self.run_kernel(work, bands)
        m, n_og = run.mapping, run.spans.size
        dram = self._dram_bytes(work, run, in_b, out_b, w_b)
        per_band = n_og // len(m.bands)
        items = [
            WorkItem(
                0,
                int(span),
                1,
                dram["read"][g // per_band] / per_band,
                dram["write"][g // per_band] / per_band,
            )
            for g, span in enumerate(run.spans)
        ]
        engine = play(items, units=1, dram_bytes_per_cycle=spec.dram.bandwidth_bytes_per_cycle)
        timeline = self._pe_timeline(engine.timeline.frame(engine.makespan), run)
        cycles = engine.makespan
        totals = timeline.totals(cycles)
        busy = totals[:, 0]
        dram_bytes = float(sum(dram["read"]) + sum(dram["write"]))
        counts, costs, sram_bytes = self._actions(work, run, dram_bytes, cycles)
        result = self.result(
            work,
            macs_issued=int(run.stats[STAT_ISSUED]),
            cycles=cycles,
            stall_cycles=engine.stalled_cycles,
            imbalance=float(busy.max() / busy.mean()) if busy.mean() > 0 else 1.0,
            idle_fraction=float(totals[:, 2].sum() / totals.sum()) if cycles else 0.0,
            dram_bytes=dram_bytes,
            sram_bytes=sram_bytes,
            folds=n_og,
            mapping_efficiency=float((run.busy.sum(axis=0) > 0).mean()),
            mapping=m.describe(),
            energy_pj=energy_breakdown(counts, costs),
        )
        frame = timeline.frame(cycles)
        frame.insert(0, "layer", layer.name)
        frame.insert(0, "network", work.network)
        return result, frame

    def _dram_bytes(
        self, work: LayerWorkload, run: LayerRun, in_b: float, out_b: float, w_b: float
    ) -> dict[str, list[float]]:
        """Per band: bytes read (weights, and inputs when the layer is tiled in time) and written.

        A layer that fits keeps its activations on chip (IARAM / OARAM ping-pong between layers);
        a tiled layer reads each band's input rows (rows on a band edge twice) and writes its outputs.
        """
        m = run.mapping
        if len(m.bands) == 1:
            return {"read": [w_b], "write": [0.0]}
        layer = work.layer
        distinct = np.count_nonzero(work.masks.activations) if self.sparse else layer.input_elems
        per_entry = in_b / max(1, int(distinct))
        read = [w_b + float(n) * per_entry for n in run.ops.band_act_entries]
        write = [out_b * (b1 - b0) / layer.out_h for b0, b1 in m.bands]
        return {"read": read, "write": write}

    def _pe_timeline(self, array_frame: pd.DataFrame, run: LayerRun) -> Timeline:
        """Per-PE intervals: each group starts when the engine started it; a PE is busy for its own
        cycles, stalled while the array waited for DRAM, idle at the barrier."""
        pes = self.spec.pes
        tl = Timeline(pes)
        starts = array_frame[(array_frame.unit == 0) & (array_frame.state == "busy")]["start"].to_numpy()
        stalled = array_frame[array_frame.state == "stalled"][["start", "end"]].to_numpy()
        for start, end in stalled:
            for unit in range(pes):
                tl.record(unit, "stalled", int(start), int(end))
        for g, start in enumerate(starts):
            for pe in np.flatnonzero(run.busy[g]).tolist():
                tl.record(pe, "busy", int(start), int(start + run.busy[g, pe]))
        return tl

    # -- energy ------------------------------------------------------------------------------
    def _gated(self, work: LayerWorkload, run: LayerRun) -> int:
        return 0

    def _actions(
        self, work: LayerWorkload, run: LayerRun, dram_bytes: float, cycles: int
    ) -> tuple[dict[Action, float], dict[Action, float], float]:
        """Action counts, their pJ costs and SRAM bytes (docs/assumptions.md, SCNN section)."""
        spec, e, layer = self.spec, self.energy, work.layer
        p, m, pes = spec.precision, run.mapping, spec.pes
        stats = run.stats
        issued = int(stats[STAT_ISSUED])
        gated = self._gated(work, run)
        act_bits, w_bits = self._act_entry_bits(), self._weight_entry_bits()
        out_entries = layer.output_elems * (work.density.activations if self.sparse else 1.0)
        drained = layer.k * pes if m.fc else layer.output_elems  # the PPU reads every partial sum once
        halo = sum(halo_psums(m, int(kc), pes) for kc in run.ops.og_kc)
        weights_sent = float(run.ops.w_ptr[-1]) * len(m.bands) * pes  # broadcast to every PE
        acc_kib = 2 * spec.accumulator_entries * p.psum_bits / 8 / 1024  # double-buffered
        sram_kib = pes * (spec.iaram_kib + spec.oaram_kib + acc_kib)
        counts: dict[Action, float] = {
            Action("mac", "mac"): issued - gated,
            Action("mac", "gated"): gated,
            Action("rf", "accumulate"): 2 * run.valid,
            Action("rf", "drain"): drained,
            Action("rf", "weight_fifo_read"): int(stats[STAT_WEIGHT_READS]),
            Action("sram", "iaram_read"): int(stats[STAT_ACT_READS]),
            Action("sram", "oaram_write"): out_entries,
            Action("noc", "weight_broadcast"): weights_sent,
            Action("noc", "crossbar"): run.valid,
            Action("noc", "halo"): halo,
            Action("dram", "bit"): dram_bytes * 8,
            Action("static", "leak"): cycles,
        }
        leak_mw = e.leakage_mw(self.multipliers, sram_kib, max(p.weight_bits, p.act_bits), p.psum_bits)
        costs: dict[Action, float] = {
            Action("mac", "mac"): e.mac_pj(max(p.weight_bits, p.act_bits), p.psum_bits),
            Action("mac", "gated"): e.mac_gated_pj(max(p.weight_bits, p.act_bits), p.psum_bits),
            Action("rf", "accumulate"): e.rf_pj(p.psum_bits),
            Action("rf", "drain"): e.rf_pj(p.psum_bits),
            Action("rf", "weight_fifo_read"): e.rf_pj(w_bits),
            Action("sram", "iaram_read"): e.sram_pj(spec.iaram_kib, act_bits),
            Action("sram", "oaram_write"): e.sram_pj(spec.oaram_kib, act_bits, write=True),
            Action("noc", "weight_broadcast"): e.noc_pj(w_bits),
            Action("noc", "crossbar"): e.noc_pj(p.psum_bits),
            Action("noc", "halo"): e.noc_pj(p.psum_bits),
            Action("dram", "bit"): e.dram_pj_per_bit(spec.dram.kind),
            Action("static", "leak"): static_energy_pj(leak_mw, 1, spec.clock_mhz),
        }
        sram_bytes = (int(stats[STAT_ACT_READS]) + out_entries) * act_bits / 8
        return counts, costs, sram_bytes

    def describe_stats(self, run: LayerRun) -> dict[str, int]:
        """Kernel counters of one layer, for reports: steps and bank-conflict cycles."""
        return {"steps": int(run.stats[STAT_STEPS]), "conflict_cycles": int(run.stats[STAT_CONFLICT])}


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


@register("dcnn")
class Dcnn(PlanarTiledArray):
    """DCNN / DCNN-opt: the same array on dense operands (no skipping, no compression on chip)."""

    spec: DcnnSpec
    sparse = False

    def _dram_bytes(
        self, work: LayerWorkload, run: LayerRun, in_b: float, out_b: float, w_b: float
    ) -> dict[str, list[float]]:
        """DCNN-opt moves activations to and from DRAM compressed in SCNN's format."""
        if self.spec.compress_dram_activations:
            p = self.spec.precision
            in_b *= self._compressed_act_fraction(work, run.mapping)
            out_b *= work.density.activations * (p.act_bits + self.spec.index_bits) / p.act_bits
        return super()._dram_bytes(work, run, in_b, out_b, w_b)

    def _compressed_act_fraction(self, work: LayerWorkload, m: PlanarMapping) -> float:
        """Compressed / dense size of the layer's input activations in SCNN's format."""
        layer, spec = work.layer, self.spec
        if work.density.activations >= 1.0:
            entries = layer.input_elems
        else:
            no_weights = np.zeros((layer.k, layer.c_per_group, layer.r, layer.s), dtype=bool)
            max_run = (1 << spec.index_bits) - 1
            entries, _ = self.dataflow.compressed_entries(
                layer, self.geometry, m, work.masks.activations, no_weights, max_run
            )
        bits = spec.precision.act_bits
        return entries * (bits + spec.index_bits) / (layer.input_elems * bits)

    def _gated(self, work: LayerWorkload, run: LayerRun) -> int:
        """DCNN-opt gates every product with a zero operand (the non-effectual ones)."""
        if not self.spec.zero_gating:
            return 0
        return int(run.stats[STAT_ISSUED]) - work.effectual_macs
