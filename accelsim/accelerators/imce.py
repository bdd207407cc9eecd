"""IMCE: bit-wise in-memory convolution on SOT-MRAM (or RRAM) computational sub-arrays (REFERENCE §9).

Per layer: the dataflow places weight blocks on the sub-arrays and the schedule kernel counts the
row writes, AND / read senses, bit-counts and additions and each sub-array's busy and row-writing
cycles; the timeline's units are the sub-arrays (a sub-array's row writes are waits for its
operands); the periphery's latency after the last sense is a fill / drain tail. Device energies come
from the `cell` and `array` sections through first-order circuit equations (`DeviceEnergies`); the
CMOS periphery (adders, SRAM buffer, DRAM, leakage) comes from the shared energy model of `technology`.

`multipliers` = sub-arrays x columns: the one-bit AND lanes that work in parallel in one sense.
A W-bit x A-bit MAC takes W x A lane-senses, so utilization (= dense MACs / (lanes x cycles)) is at
most 1 / (W A t_and); `mapping_efficiency` is the fraction of lane-cycles that sense a used column.
Whether the weights stay resident depends on every layer of the network (`LayerWorkload.network_layers`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from accelsim.accelerators.base import Accelerator
from accelsim.accelerators.plan import Extension, LayerPlan, Units
from accelsim.accelerators.registry import register
from accelsim.config.arch.imce import ImceSpec
from accelsim.dataflows import get_dataflow
from accelsim.dataflows.imce import BitwiseDataflow, ImceGeometry, ImceHardware, ImceMapping, ImceTiming
from accelsim.energy import ActionEnergy, EnergyModel, static_energy_pj
from accelsim.engine import EngineResult, WorkItem
from accelsim.engine.timeline import BUSY, IDLE, STALLED, timeline_frame
from accelsim.kernels import imce as k
from accelsim.report.schema import Slots
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer

ACTION_GROUPS = ("read", "write", "and", "bitcount", "shift_add", "quantize", "buffer", "dram", "leakage")
"""The per-action energy breakdown of `Imce.action_energy_pj`, in order."""

_FJ = 1e-3  # pJ per fJ


@dataclass(frozen=True, slots=True)
class DeviceEnergies:
    """Per-operation energies (pJ) of the cell and array, from first-order circuit equations."""

    and_column_pj: float
    """One column of a dual-row AND sense: bit-line charge + two cells conducting + the sense amplifier."""
    read_column_pj: float
    """One column of a single-row read sense."""
    write_bit_pj: float
    """One cell written: write voltage x current x pulse width."""
    row_pj: float
    """One word line driven (a sense drives two, a read or a row write one)."""


def device_energies(spec: ImceSpec) -> DeviceEnergies:
    """Energies of the array operations from the cell and array constants (docs/imce.md, "Energy")."""
    cell, arr, vdd = spec.cell, spec.array, spec.technology.vdd
    v = cell.read_voltage_v
    g_mean = (1 / cell.r_low_ohm + 1 / cell.r_high_ohm) / 2  # equiprobable stored bits
    bitline_pj = arr.rows * arr.bitline_ff_per_cell * v * vdd * _FJ  # precharge to v from the supply
    conduct_pj = v * v * g_mean * cell.sense_ns * 1e3  # V² G t: W x ns = nJ = 1e3 pJ
    sense_amp_pj = arr.sense_amp_fj * _FJ
    return DeviceEnergies(
        and_column_pj=bitline_pj + 2 * conduct_pj + sense_amp_pj,
        read_column_pj=bitline_pj + conduct_pj + sense_amp_pj,
        write_bit_pj=cell.write_voltage_v * cell.write_current_ua * cell.write_ns * _FJ,
        row_pj=arr.cols * arr.wordline_ff_per_cell * vdd * vdd * _FJ,
    )


@dataclass(frozen=True, slots=True)
class Residency:
    """Whether a network's weights can stay in the sub-arrays, and where rewritten weights come from."""

    fits: bool
    """Every layer's weight rows (with the copies the mapping places) fit in the sub-arrays at once."""
    rows_needed: int
    """Weight rows all resident layers need (a layer whose blocks take turns needs them all too)."""
    subarrays_needed: int
    """Sub-arrays of this size those rows need: rows_needed / (rows - widest activation planes)."""
    weight_bits: int
    """The network's weight bits at the widths its layers run at."""
    from_dram: bool
    """Rewritten weights come from DRAM (the kernel bank cannot hold the network's weights)."""


@dataclass(frozen=True)
class LayerActions:
    """One layer's mapping and its actions, by action group (ACTION_GROUPS)."""

    mapping: ImceMapping
    entries: dict[str, list[ActionEnergy]]
    sram_bits: float
    dram_bits: float
    weights: str
    """Where the layer's weights are: resident, or rewritten per inference (and from where)."""

    @property
    def actions(self) -> list[ActionEnergy]:
        """Every action of the layer, group after group."""
        return [a for group in ACTION_GROUPS for a in self.entries.get(group, [])]

    def energy_pj(self) -> dict[str, float]:
        """Per-action-group energy (pJ), in ACTION_GROUPS order."""
        return {g: sum(a.energy_pj for a in self.entries.get(g, [])) for g in ACTION_GROUPS}


@register("imce")
class Imce(Accelerator):
    """P computational sub-arrays computing W:A-bit convolutions by AND + bit-count + shift-and-add."""

    spec: ImceSpec

    def __init__(self, spec: ImceSpec) -> None:
        super().__init__(spec)
        self.dataflow = get_dataflow("imce", spec.dataflow, BitwiseDataflow)
        arr = spec.array
        self.geometry = ImceGeometry(arr.subarrays, arr.rows, arr.cols)
        clock_ghz = spec.clock_mhz / 1e3
        self.timing = ImceTiming(
            t_and=max(1, math.ceil(spec.cell.sense_ns * clock_ghz - 1e-9)),
            t_write=max(1, math.ceil(spec.cell.write_ns * clock_ghz - 1e-9)),
            dpu_cycles_per_level=spec.periphery.dpu_clock_cycles_per_level,
        )
        self.energy = EnergyModel.from_technology(spec.technology)
        self.device = device_energies(spec)
        self._residency: dict[tuple[Layer, ...], Residency] = {}

    def bits(self, layer: Layer) -> tuple[int, int]:
        """(weight bits m, activation bits n) the layer runs at."""
        if layer.name in self.spec.full_precision_layers:
            return self.spec.full_precision_bits, self.spec.full_precision_bits
        return self.spec.precision.weight_bits, self.spec.precision.act_bits

    def unsupported(self, layer: Layer) -> str | None:
        """Pooling layers and sub-arrays too small for one filter's planes; larger layers take turns."""
        m, n = self.bits(layer)
        return self.dataflow.unsupported(layer, self.geometry, m, n)

    def network_layers(self, layer: Layer, network_layers: Sequence[Layer] = ()) -> tuple[Layer, ...]:
        """The layers whose weights share the sub-arrays with `layer`: those of `network_layers` (the
        network's compute layers) the engine runs, with `layer` among them; `layer` alone if none."""
        held = tuple(x for x in network_layers if self.unsupported(x) is None)
        return held if layer in held else (*held, layer)

    def residency(self, layers: tuple[Layer, ...]) -> Residency:
        """Whether the weights of `layers` fit in the sub-arrays all at once (docs/imce.md, "Weights")."""
        if layers not in self._residency:
            geom = self.geometry
            occupied = np.zeros(geom.subarrays, dtype=np.int64)  # weight rows stacked in each sub-array
            needed = 0
            widest_n = 0
            all_single_round = True
            bits = 0
            for layer in layers:
                m, n = self.bits(layer)
                widest_n = max(widest_n, n)
                bits += layer.weights * m
                rows = self.dataflow.resident_rows(layer, geom, m, n)
                if rows is None:  # blocks take turns: the layer's weights cannot all stay
                    all_single_round = False
                    needed += math.ceil(layer.weights * m / geom.cols)
                else:
                    occupied += rows
                    needed += int(rows.sum())
            usable = geom.rows - widest_n
            self._residency[layers] = Residency(
                fits=all_single_round and int(occupied.max()) <= usable,
                rows_needed=needed,
                subarrays_needed=math.ceil(needed / usable),
                weight_bits=bits,
                from_dram=self.spec.array.kernel_bank_mbit * 1e6 < bits,
            )
        return self._residency[layers]

    def layer_actions(self, layer: Layer, network_layers: Sequence[Layer] = ()) -> LayerActions:
        """Map the layer and list every action with its count and energy (docs/imce.md, "Energy");
        `network_layers` are the compute layers of the network the layer belongs to (none: the layer
        alone); they decide whether weights stay resident."""
        spec, e, d = self.spec, self.energy, self.device
        m, n = self.bits(layer)
        res = self.residency(self.network_layers(layer, network_layers))
        reload = spec.weight_load == "per_layer" or (spec.weight_load == "fit" and not res.fits)
        hardware = ImceHardware(self.geometry, self.timing, m, n, spec.signed_weights, reload)
        mp = self.dataflow.map(layer, hardware)
        c = mp.counts
        cols = spec.array.cols
        psum = spec.precision.psum_bits
        in_bits = layer.input_elems * n
        out_bits = layer.output_elems * spec.precision.act_bits
        weight_bits = float(c[k.WEIGHT_BITS])
        act_write_bits = float(c[k.WRITE_BITS]) - weight_bits
        fetched_bits = layer.weights * m if mp.weights_written else 0  # each block fetched once, broadcast
        kernel_bank_bits = 0 if res.from_dram else fetched_bits
        spill_bits = float(c[k.PSUM_SPILLS]) * psum
        weights = self._describe_weights(mp, res, reload)
        # Every (pixel, chunk) activation row leaves the buffer once and is broadcast to the sub-arrays
        # that need it; the chunks' partial sums meet in an adder tree, not in the buffer.
        im2col_bits = mp.groups * mp.pixels * n * mp.length
        bank_row_share = d.row_pj / cols  # a storage-bank access is a whole row; per bit its share
        buf_bit = e.sram_pj(spec.periphery.buffer_kib, cols) / cols  # a cols-wide buffer port
        dram_bits = float(in_bits) if layer.name in spec.dram_input_layers else 0.0
        dram_bits += fetched_bits - kernel_bank_bits
        of = ActionEnergy.of
        entries = {
            "read": [
                of("sram", "bank_read_bit", in_bits + kernel_bank_bits, d.read_column_pj + bank_row_share),
                of("sram", "csa_read_column", c[k.READ_BITS], d.read_column_pj),
                of("sram", "csa_read_row", c[k.READ_OPS], d.row_pj),
            ],
            "write": [
                of("sram", "csa_write_bit", c[k.WRITE_BITS], d.write_bit_pj),
                of("sram", "csa_write_row", c[k.WRITE_ROWS], d.row_pj),
                of("sram", "bank_write_bit", out_bits, d.write_bit_pj + bank_row_share),
            ],
            "and": [
                of("mac", "and_column", c[k.AND_BITS], d.and_column_pj),
                of("mac", "and_rows", c[k.AND_OPS], 2 * d.row_pj),
            ],
            "bitcount": [of("mac", "bitcount_bit", c[k.AND_BITS] + c[k.READ_BITS], e.adder_pj(1))],
            "shift_add": [of("mac", "add", c[k.ADDS], e.adder_pj(psum))],
            "quantize": [of("mac", "quantize", layer.output_elems, e.mac_pj(16, psum))],
            "buffer": [
                of("sram", "buffer_write_bit", in_bits + fetched_bits + spill_bits, buf_bit),
                of("sram", "buffer_read_bit", im2col_bits + fetched_bits + spill_bits, buf_bit),
            ],
            "dram": [of("dram", "bit", dram_bits, e.dram_pj_per_bit(spec.dram.kind))],
        }
        sram_bits = (
            2 * in_bits + out_bits + act_write_bits + kernel_bank_bits + 2 * fetched_bits + im2col_bits
            + 2 * spill_bits
        )  # fmt: skip
        return LayerActions(mp, entries, float(sram_bits), dram_bits, weights)

    def _describe_weights(self, mp: ImceMapping, res: Residency, reload: bool) -> str:
        """Where the layer's weights are, for the result's `mapping` text."""
        need = f"the network's resident weights need {res.subarrays_needed:,} sub-arrays"
        src = "DRAM" if res.from_dram else "the kernel bank"
        if mp.rounds > 1:
            subarrays = self.geometry.subarrays
            return (
                f"weights rewritten from {src} in every round ({mp.blocks} blocks > {subarrays} sub-arrays)"
            )
        if reload and self.spec.weight_load == "per_layer":
            return f"weights rewritten per inference from {src} (weight_load: per_layer)"
        if reload:
            return (
                f"weights rewritten per inference from {src} ({need}, the chip has {self.geometry.subarrays})"
            )
        if self.spec.weight_load == "resident" and not res.fits:
            return f"weights resident (assumed: {need}, the chip has {self.geometry.subarrays})"
        return f"weights resident ({need} of the chip's {self.geometry.subarrays})"

    def leakage_mw(self) -> float:
        """CMOS leakage: per sub-array a bit-count tree and shift-adder (cols + psum_bits adder bits) and
        the SRAM buffer; the non-volatile arrays are power-gated when idle and leak nothing."""
        arr = self.spec.array
        return self.energy.leakage_mw(
            arr.subarrays,
            self.spec.periphery.buffer_kib,
            bits=1,
            acc_bits=arr.cols + self.spec.precision.psum_bits,
        )

    def action_energy_pj(
        self, layer: Layer, cycles: int | None = None, network_layers: Sequence[Layer] = ()
    ) -> dict[str, float]:
        """Energy of one layer of a network (its compute layers `network_layers`) per action (read,
        write, and, bitcount, shift_add, quantize, buffer, dram, leakage) in pJ; leakage over `cycles`
        (default: the layer's own cycles): the same triples `plan` lists, grouped."""
        acts = self.layer_actions(layer, network_layers)
        out = acts.energy_pj()
        if cycles is None:
            cycles = int(acts.mapping.busy.max()) + acts.mapping.dpu_cycles
        out["leakage"] = static_energy_pj(self.leakage_mw(), cycles, self.spec.clock_mhz)
        return out

    def area_mm2(self) -> dict[str, float]:
        """Area by part (mm²): cells, sense amplifiers, write drivers, row drivers, DPUs, buffer, banks."""
        spec = self.spec
        arr, cell, per = spec.array, spec.cell, spec.periphery
        f_um = spec.technology.node_nm * 1e-3
        cell_um2 = cell.cell_area_f2 * f_um * f_um
        p = arr.subarrays
        parts_um2 = {
            "cells": p * arr.rows * arr.cols * cell_um2,
            "sense_amps": p * arr.cols * arr.sense_amp_area_um2,
            "write_drivers": p * arr.cols * cell.write_driver_area_um2,
            "row_drivers": p * arr.rows * arr.row_driver_area_um2,
            "dpu": p * (arr.cols + 2 * spec.precision.psum_bits) * per.full_adder_area_um2,
            "banks": (arr.image_bank_mbit + arr.kernel_bank_mbit)
            * 1e6
            * cell_um2
            / arr.bank_array_efficiency,
        }
        out = {name: um2 * 1e-6 for name, um2 in parts_um2.items()}
        out["buffer"] = per.buffer_kib * per.sram_area_mm2_per_kib
        out["total"] = sum(out.values())
        return out

    def plan(self, work: LayerWorkload) -> LayerPlan:
        """The sub-arrays' schedules from the kernel, each sub-array a unit of `cols` AND lanes.

        The sub-arrays run independently and share nothing the engine arbitrates: each runs one
        schedule whose operands (DRAM traffic included) arrive with the layer. So the engine plays the
        layer as one unit for the busiest sub-array's cycles, and the refiner draws every sub-array
        from the kernel: its row writes (waiting for operands: stalled), then its senses (busy). The
        periphery's latency after the last sense is a fill / drain tail."""
        layer = work.layer
        acts = self.layer_actions(layer, work.network_layers)
        mp = acts.mapping
        c = mp.counts
        makespan = int(mp.busy.max())
        sensed = int(c[k.AND_BITS] + c[k.READ_BITS]) * self.timing.t_and
        lane_cycles = self.multipliers * (makespan + mp.dpu_cycles)
        return LayerPlan(
            units=Units("sub-array", self.geometry.subarrays, self.geometry.cols),
            items=[WorkItem(0, makespan, in_bytes=acts.dram_bits / 8)],
            busy=self._busy_slots(mp, work.effectual_macs),
            energy=acts.actions,
            leakage_mw=self.leakage_mw(),
            macs_issued=layer.macs,
            dram_bytes=acts.dram_bits / 8,
            sram_bytes=acts.sram_bits / 8,
            folds=mp.blocks,
            mapping_efficiency=sensed / lane_cycles if lane_cycles else 0.0,
            mapping=f"{mp.describe()}; {acts.weights}",
            dram_bytes_per_cycle=self.spec.dram.bandwidth_bytes_per_cycle,
            engine_units=1,
            refine=partial(subarray_timeline, busy=mp.busy, written=mp.written),
            tail=Extension(mp.dpu_cycles, "fill_drain", "DPU adder trees, shift-add and quantiser"),
        )

    def _busy_slots(self, mp: ImceMapping, effectual_macs: int) -> Slots:
        """The cols x t_and lane-cycles of every sense (row writes are stalled, not busy): a MAC is
        m n AND lane-senses, effectual when both its operands are non-zero, ineffectual otherwise (the
        engine senses zeros too); the correction senses of the activation planes alone (signed weights)
        are encoding overhead (packing); the columns beyond a chunk's width are unmapped."""
        c, t_and = mp.counts, self.timing.t_and
        and_lanes, read_lanes = int(c[k.AND_BITS]), int(c[k.READ_BITS])
        senses = int(c[k.AND_OPS] + c[k.READ_OPS])
        effectual = effectual_macs * mp.m * mp.n
        return Slots(
            effectual=effectual * t_and,
            ineffectual=(and_lanes - effectual) * t_and,
            unmapped=(senses * self.geometry.cols - and_lanes - read_lanes) * t_and,
            packing=read_lanes * t_and,
        )


def subarray_timeline(run: EngineResult, busy: np.ndarray, written: np.ndarray) -> pd.DataFrame:
    """The sub-arrays' timeline (unit, state, start, end) over [0, makespan) of the engine's run: a
    sub-array writes its rows (`written` cycles, stalled), senses until `busy` (busy), then idles; one
    holding no block idles throughout."""
    n = busy.size
    zero = np.zeros(n, dtype=np.int64)
    unit = np.tile(np.arange(n, dtype=np.int64), 3)
    code = np.repeat(np.array([STALLED, BUSY, IDLE], dtype=np.int8), n)
    lo = np.concatenate([zero, written, busy])
    hi = np.concatenate([written, busy, np.full(n, run.makespan, dtype=np.int64)])
    return timeline_frame(unit, code, lo, hi)
