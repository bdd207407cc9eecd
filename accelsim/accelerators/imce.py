"""IMCE: bit-wise in-memory convolution on SOT-MRAM (or RRAM) computational sub-arrays ([IMCE18]).

Per layer: the dataflow places weight blocks on the sub-arrays and the schedule kernel counts the
row writes, AND / read senses, bit-counts and additions and each sub-array's busy and row-writing
cycles; the timeline's units are the sub-arrays (a sub-array's row writes are waits for its
operands); the periphery's latency after the last sense is a fill / drain tail. Device energies come
from the `cell` and `array` sections through first-order circuit equations (`DeviceEnergies`); the
CMOS periphery (adders, SRAM buffer, DRAM, leakage) comes from the shared energy model of `technology`.
With a `crossbar` section the sub-arrays are analog RRAM crossbars (DACs, column sums, ADCs): the
paper's RRAM counterpart with its own periphery.

`multipliers` = sub-arrays x columns: the one-bit AND lanes that work in parallel in one sense (a
crossbar: x rows, one cell per bit-product). A W-bit x A-bit MAC takes W x A lane-senses, so
utilization (= dense MACs / (lanes x cycles)) is at most 1 / (W A t_and); `mapping_efficiency` is the
fraction of lane-cycles that sense a used column. Where every layer's weights sit depends on the
whole network (`LayerWorkload.network_layers`): `Imce.residency`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from accelsim.accelerators.base import Accelerator
from accelsim.accelerators.plan import Extension, LayerPlan, Units
from accelsim.accelerators.registry import register
from accelsim.config.arch.imce import ImceSpec
from accelsim.dataflows import get_dataflow
from accelsim.dataflows.imce import (
    BitwiseDataflow,
    CrossbarTiming,
    ImceGeometry,
    ImceHardware,
    ImceMapping,
    ImceTiming,
    Placement,
    PlacementError,
    place_weights,
)
from accelsim.energy import LEAK, Action, ActionEnergy, EnergyModel, actions, static_energy_pj
from accelsim.energy.area import AreaBlock
from accelsim.engine import EngineResult, WorkItem
from accelsim.engine.timeline import BUSY, IDLE, STALLED, timeline_frame
from accelsim.errors import ConfigError
from accelsim.kernels import imce as k
from accelsim.report.schema import Slots
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer

ACTION_GROUPS = (
    "read", "write", "compute", "dac", "adc", "bitcount", "shift_add", "quantize", "buffer", "dram",
    "leakage",
)  # fmt: skip
"""The per-action energy breakdown of `Imce.action_energy_pj`, in order: `compute` is the array's own
work (dual-row AND senses; a crossbar's cell currents), `dac` / `adc` a crossbar's converters."""

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
    cell_read_pj: float
    """One cell conducting through one read (V_read^2 G_mean t_sense): a crossbar's bit-product."""


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
        cell_read_pj=conduct_pj,
    )


@dataclass(frozen=True)
class Residency:
    """Where a network's weights sit (docs/imce.md, "Where the weights live")."""

    layers: tuple[Layer, ...]
    """The layers the engine runs, in network order."""
    placement: Placement
    widest_n: int
    """Activation planes of the widest layer: the rows every sub-array holding resident weights keeps
    free for the activations."""
    weight_bits: int
    """The network's weight bits at the widths its layers run at."""
    rewritten_bits: int
    """Of those, the bits of the layers rewritten per inference."""
    from_dram: bool
    """Rewritten weights come from DRAM (the kernel bank cannot hold them)."""
    used: int
    """Sub-arrays the network uses (holding resident weights or running a rewritten layer): the chip
    whose area and leakage are charged."""

    @property
    def fits(self) -> bool:
        """Every layer's weights are resident."""
        return len(self.placement.resident) == len(self.layers)

    @property
    def subarrays_needed(self) -> int:
        """Sub-arrays one copy of every layer's weight blocks needs."""
        return self.placement.needed

    def resident(self, layer: Layer) -> bool:
        """The layer's weights stay in the sub-arrays."""
        return self.layers.index(layer) in self.placement.resident

    def units(self, layer: Layer) -> tuple[int, ...]:
        """The sub-arrays the layer runs on: its blocks' copies, or the empty sub-arrays."""
        i = self.layers.index(layer)
        units = self.placement.resident.get(i, self.placement.working)
        return tuple(int(u) for u in units)


@dataclass(frozen=True)
class LayerActions:
    """One layer's mapping and its actions, by action group (ACTION_GROUPS)."""

    mapping: ImceMapping
    entries: dict[str, list[ActionEnergy]]
    sram_bits: float
    dram_bits: float
    weights: str
    """Where the layer's weights are: resident, or rewritten per inference (and from where)."""
    used: int
    """Sub-arrays the network uses (leakage is charged for them)."""

    @property
    def actions(self) -> list[ActionEnergy]:
        """Every action of the layer, group after group."""
        return [a for group in ACTION_GROUPS for a in self.entries.get(group, [])]

    def energy_pj(self, price: Callable[[Action, float], float] | None = None) -> dict[str, float]:
        """Per-action-group energy (pJ), in ACTION_GROUPS order; each action at `price(action, its pJ)`
        when given (the energies a run charges), else at its own pJ."""
        cost = price or (lambda _, pj: pj)
        return {
            g: sum(a.count * cost(a.action, a.pj) for a in self.entries.get(g, [])) for g in ACTION_GROUPS
        }


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
        xb = spec.crossbar
        self.timing = ImceTiming(
            t_and=max(1, math.ceil(spec.cell.sense_ns * clock_ghz - 1e-9)),
            t_write=max(1, math.ceil(spec.cell.write_ns * clock_ghz - 1e-9)),
            dpu_cycles_per_level=spec.periphery.dpu_clock_cycles_per_level,
            crossbar=None
            if xb is None
            else CrossbarTiming(xb.bits_per_cell, xb.adcs, max(1, round(xb.adc_ns * clock_ghz * 1000))),
        )
        self.energy = EnergyModel.from_technology(spec.technology)
        self.device = device_energies(spec)
        self._residency: dict[tuple[Layer, ...], Residency] = {}

    @property
    def lanes(self) -> int:
        """One-bit product lanes of one sub-array: its columns (a crossbar: its cells)."""
        return self.multipliers // self.geometry.subarrays

    def on_host(self, layer: Layer) -> bool:
        """The layer is one DoReFa keeps unquantised and `full_precision_run: host` sends off the engine."""
        return self.spec.full_precision_run == "host" and layer.name in self.spec.full_precision_layers

    def bits(self, layer: Layer) -> tuple[int, int]:
        """(weight bits m, activation bits n) the layer runs at."""
        spec = self.spec
        if layer.name in spec.full_precision_layers and spec.full_precision_run == "engine":
            return spec.full_precision_bits, spec.full_precision_bits
        return spec.precision.weight_bits, spec.precision.act_bits

    def unsupported(self, layer: Layer) -> str | None:
        """Pooling layers and sub-arrays too small for one filter; larger layers take turns. A layer sent
        to the host is run (a row says so)."""
        if self.on_host(layer) and layer.is_compute:
            return None
        m, n = self.bits(layer)
        return self.dataflow.unsupported(layer, self.geometry, m, n, self.timing, self.spec.signed_weights)

    def _shared(self, geom: ImceGeometry, layer: Layer, widest_n: int) -> ImceGeometry:
        """The sub-array as a layer sees it when it shares rows with resident weights: the rows of the
        widest layer's activation planes stay free (beyond the layer's own n), so its blocks stack."""
        if self.timing.crossbar is not None:
            return geom
        return ImceGeometry(geom.subarrays, geom.rows - (widest_n - self.bits(layer)[1]), geom.cols)

    def network_layers(self, layer: Layer, network_layers: Sequence[Layer] = ()) -> tuple[Layer, ...]:
        """The layers whose weights share the sub-arrays with `layer`: those of `network_layers` (the
        network's compute layers) the engine runs, with `layer` among them; `layer` alone if none."""
        held = tuple(x for x in network_layers if not self.on_host(x) and self.unsupported(x) is None)
        return held if layer in held else (*held, layer)

    def residency(self, layers: tuple[Layer, ...]) -> Residency:
        """Where the weights of `layers` (network order) sit under `weight_load` and `max_copies`."""
        if layers not in self._residency:
            self._residency[layers] = self._place(layers)
        return self._residency[layers]

    def _place(self, layers: tuple[Layer, ...]) -> Residency:
        spec, geom, timing = self.spec, self.geometry, self.timing
        widest_n = max(self.bits(x)[1] for x in layers)
        capacity = geom.cols if timing.crossbar is not None else geom.rows - widest_n
        sizes = [
            self.dataflow.block_sizes(
                x, self._shared(geom, x, widest_n), *self.bits(x), timing, spec.signed_weights
            )
            for x in layers
        ]
        try:
            placement = place_weights(sizes, capacity, geom.subarrays, spec.weight_load, spec.max_copies or 0)
        except PlacementError as e:
            raise ConfigError(
                f"{spec.name}: weight_load: resident: the weights of {len(layers)} layers "
                f"({layers[0].name} .. {layers[-1].name}) need {e.needed:,} sub-arrays, array.subarrays is "
                f"{geom.subarrays:,} (set array.subarrays >= {e.needed:,}, or weight_load: fit)"
            ) from None
        bits = [x.weights * self.bits(x)[0] for x in layers]
        rewritten = sum(b for i, b in enumerate(bits) if i not in placement.resident)
        used = np.zeros(geom.subarrays, dtype=bool)
        used[placement.occupied > 0] = True
        free = placement.working.size
        for i, s in enumerate(sizes):
            if i not in placement.resident and free:  # a rewritten layer: its copies on the free ones
                per = min(free // min(s.size, free), spec.max_copies or free)
                used[placement.working[: min(s.size * per, free)]] = True
        return Residency(
            layers=layers,
            placement=placement,
            widest_n=widest_n,
            weight_bits=sum(bits),
            rewritten_bits=rewritten,
            from_dram=spec.array.kernel_bank_mbit * 1e6 < rewritten,
            used=int(used.sum()),
        )

    def layer_actions(self, layer: Layer, network_layers: Sequence[Layer] = ()) -> LayerActions:
        """Map the layer and list every action with its count and energy (docs/imce.md, "Energy");
        `network_layers` are the compute layers of the network the layer belongs to (none: the layer
        alone); they decide where the weights sit."""
        spec = self.spec
        m, n = self.bits(layer)
        res = self.residency(self.network_layers(layer, network_layers))
        resident = res.resident(layer)
        geom = self._shared(self.geometry, layer, res.widest_n) if resident else self.geometry
        hardware = ImceHardware(
            geom, self.timing, m, n, spec.signed_weights, not resident, spec.max_copies or 0, res.units(layer)
        )
        mp = self.dataflow.map(layer, hardware)
        fetched_bits = layer.weights * m if mp.weights_written else 0  # each block fetched once, broadcast
        bank_bits = 0 if res.from_dram else fetched_bits
        in_bits = layer.input_elems * n
        dram_bits = float(in_bits) if layer.name in spec.dram_input_layers else 0.0
        dram_bits += fetched_bits - bank_bits
        # Every (pixel, chunk) activation row leaves the buffer once and is broadcast to the sub-arrays
        # that need it; the chunks' partial sums meet in an adder tree, not in the buffer.
        im2col_bits = mp.groups * mp.pixels * n * mp.length
        if mp.crossbar:
            entries, array_bits, spill_bits = self._crossbar_entries(mp)
        else:
            entries, array_bits, spill_bits = self._bitwise_entries(mp)
        out_bits = layer.output_elems * spec.precision.act_bits
        bank_row_share = self.device.row_pj / self.geometry.cols  # a bank access is a whole row
        buf_bit = self.energy.sram_pj(spec.periphery.buffer_kib, self.geometry.cols) / self.geometry.cols
        of = ActionEnergy.of
        entries["read"].append(
            of("sram", "bank_read_bit", in_bits + bank_bits, self.device.read_column_pj + bank_row_share)
        )
        entries["write"].append(
            of("sram", "bank_write_bit", out_bits, self.device.write_bit_pj + bank_row_share)
        )
        entries["quantize"] = [
            of("mac", "quantize", layer.output_elems, self.energy.mac_pj(16, spec.precision.psum_bits))
        ]
        entries["buffer"] = [
            of("sram", "buffer_write_bit", in_bits + fetched_bits + spill_bits, buf_bit),
            of("sram", "buffer_read_bit", im2col_bits + fetched_bits + spill_bits, buf_bit),
        ]
        dram_pj = self.energy.dram_pj_per_bit(spec.dram.kind) if spec.count_dram_energy else 0.0
        entries["dram"] = [of("dram", "bit", dram_bits, dram_pj)]
        sram_bits = (
            2 * in_bits + out_bits + array_bits + bank_bits + 2 * fetched_bits + im2col_bits + 2 * spill_bits
        )
        weights = self._describe_weights(mp, res, resident, len(hardware.units))
        return LayerActions(mp, entries, float(sram_bits), dram_bits, weights, res.used)

    def _bitwise_entries(self, mp: ImceMapping) -> tuple[dict[str, list[ActionEnergy]], float, float]:
        """The sub-arrays' actions (reads, row writes, AND senses, bit-counts, shift-adds), the activation
        bits written into them and the spilled partial-sum bits."""
        c, d, e, of = mp.counts, self.device, self.energy, ActionEnergy.of
        entries = {
            "read": [
                of("sram", "csa_read_column", c[k.READ_BITS], d.read_column_pj),
                of("sram", "csa_read_row", c[k.READ_OPS], d.row_pj),
            ],
            "write": [
                of("sram", "csa_write_bit", c[k.WRITE_BITS], d.write_bit_pj),
                of("sram", "csa_write_row", c[k.WRITE_ROWS], d.row_pj),
            ],
            "compute": [
                of("mac", "and_column", c[k.AND_BITS], d.and_column_pj),
                of("mac", "and_rows", c[k.AND_OPS], 2 * d.row_pj),
            ],
            "bitcount": [of("mac", "bitcount_bit", c[k.AND_BITS] + c[k.READ_BITS], e.adder_pj(1))],
            "shift_add": [of("mac", "add", c[k.ADDS], e.adder_pj(self.spec.precision.psum_bits))],
        }
        act_write_bits = float(c[k.WRITE_BITS] - c[k.WEIGHT_BITS])
        return entries, act_write_bits, float(c[k.PSUM_SPILLS]) * self.spec.precision.psum_bits

    def _crossbar_entries(self, mp: ImceMapping) -> tuple[dict[str, list[ActionEnergy]], float, float]:
        """A crossbar's actions: weight row writes (when rewritten), DAC row drives, the cells' currents,
        ADC conversions and a shift-add per conversion. Inputs are driven, not written: no array bits."""
        c, d, e, of = mp.counts, self.device, self.energy, ActionEnergy.of
        xb = self.spec.crossbar
        assert xb is not None
        entries = {
            "read": [],
            "write": [
                of("sram", "csa_write_bit", c[k.XB_WRITE_BITS], d.write_bit_pj),
                of("sram", "csa_write_row", c[k.XB_WRITE_ROWS], d.row_pj),
            ],
            "compute": [of("mac", "cell_read", c[k.XB_CELLS], d.cell_read_pj)],
            "dac": [of("mac", "dac_row", c[k.XB_DAC_ROWS], xb.dac_pj)],
            "adc": [of("mac", "adc_conversion", c[k.XB_CONVERSIONS], xb.adc_pj)],
            "shift_add": [of("mac", "add", c[k.XB_ADDS], e.adder_pj(self.spec.precision.psum_bits))],
        }
        return entries, 0.0, float(c[k.XB_PSUM_SPILLS]) * self.spec.precision.psum_bits

    def _describe_weights(self, mp: ImceMapping, res: Residency, resident: bool, units: int) -> str:
        """Where the layer's weights are, for the result's `mapping` text."""
        need = f"one copy of the network's weights needs {res.subarrays_needed:,} sub-arrays"
        chip = self.geometry.subarrays
        if resident:
            copies = f"{mp.copies} copies" if mp.copies > 1 else "one copy"
            return f"weights resident, {copies} ({need}; the network uses {res.used:,} of {chip:,})"
        src = "DRAM" if res.from_dram else "the kernel bank"
        turns = f", {mp.blocks} blocks in {mp.rounds} rounds" if mp.rounds > 1 else ""
        why = (
            "weight_load: per_layer"
            if self.spec.weight_load == "per_layer"
            else f"{need}, the chip has {chip:,}"
        )
        return f"weights rewritten per inference from {src} on {units:,} free sub-arrays{turns} ({why})"

    def leakage_mw(self, subarrays: int | None = None) -> float:
        """CMOS leakage of `subarrays` sub-arrays' DPUs (default: all; a bit-count tree and shift-adder of
        cols + psum_bits adder bits, a crossbar's shift-adders) and the SRAM buffer; the non-volatile
        arrays leak nothing."""
        count = self.geometry.subarrays if subarrays is None else subarrays
        psum = self.spec.precision.psum_bits
        xb = self.spec.crossbar
        acc = self.geometry.cols + psum if xb is None else xb.adcs * 2 * psum
        return self.energy.leakage_mw(count, self.spec.periphery.buffer_kib, bits=1, acc_bits=acc)

    def action_energy_pj(
        self, layer: Layer, cycles: int | None = None, network_layers: Sequence[Layer] = ()
    ) -> dict[str, float]:
        """Energy of one layer of a network (its compute layers `network_layers`) per action group
        (ACTION_GROUPS) in pJ; leakage over `cycles` (default: the layer's own cycles): the same triples
        `plan` lists, grouped, at the energies a run charges (an Accelergy ERT's where `energy_map`
        names them). A layer sent to the host costs the engine nothing."""
        if self.on_host(layer):
            return dict.fromkeys(ACTION_GROUPS, 0.0)
        acts = self.layer_actions(layer, network_layers)
        out = acts.energy_pj(self.energy.pj)
        if cycles is None:
            cycles = int(acts.mapping.busy.max()) + acts.mapping.dpu_cycles
        leak_pj = static_energy_pj(self.leakage_mw(acts.used), 1, self.spec.clock_mhz)
        out["leakage"] = cycles * self.energy.pj(LEAK, leak_pj)
        return out

    def area_mm2(self, network_layers: Sequence[Layer] = ()) -> dict[str, float]:
        """Area by part (mm²) of the sub-arrays `network_layers` (a network's compute layers) use, or of
        all of them with no network: cells, sense amplifiers (a crossbar: DACs and ADCs), write drivers,
        row drivers, DPUs, buffer, banks."""
        spec = self.spec
        arr, cell, per = spec.array, spec.cell, spec.periphery
        f_um = spec.technology.node_nm * 1e-3
        cell_um2 = cell.cell_area_f2 * f_um * f_um
        p = self.used_subarrays(network_layers)
        xb = spec.crossbar
        if xb is None:
            sensing = {"sense_amps": arr.cols * arr.sense_amp_area_um2}
            adders = arr.cols + 2 * spec.precision.psum_bits
        else:
            sensing = {"dacs": arr.rows * xb.dac_area_um2, "adcs": xb.adcs * xb.adc_area_um2}
            adders = xb.adcs * 2 * spec.precision.psum_bits
        parts_um2 = {
            "cells": p * arr.rows * arr.cols * cell_um2,
            **{name: p * um2 for name, um2 in sensing.items()},
            "write_drivers": p * arr.cols * cell.write_driver_area_um2,
            "row_drivers": p * arr.rows * arr.row_driver_area_um2,
            "dpu": p * adders * per.full_adder_area_um2,
            "banks": (arr.image_bank_mbit + arr.kernel_bank_mbit)
            * 1e6
            * cell_um2
            / arr.bank_array_efficiency,
        }
        out = {name: um2 * 1e-6 for name, um2 in parts_um2.items()}
        out["buffer"] = per.buffer_kib * per.sram_area_mm2_per_kib
        out["total"] = sum(out.values())
        return out

    def area_blocks(self, layers: tuple[Layer, ...]) -> list[AreaBlock]:
        """`area_mm2`'s parts as blocks: the arrays, their sensing, drivers and banks are the special
        block, the DPUs' adders the MAC datapath, the buffer SRAM (this model's own constants)."""
        component = {"dpu": "mac", "buffer": "sram"}
        parts = self.area_mm2(layers)
        return [
            AreaBlock(component.get(name, "special"), name, 1, mm2 * 1e6)
            for name, mm2 in parts.items()
            if name != "total"
        ]

    def used_subarrays(self, network_layers: Sequence[Layer] = ()) -> int:
        """Sub-arrays the network's placement uses (all of the chip's with no network)."""
        held = [x for x in network_layers if not self.on_host(x) and self.unsupported(x) is None]
        if not held:
            return self.geometry.subarrays
        return self.residency(tuple(held)).used

    def plan_actions(self) -> frozenset[Action]:
        """The sub-arrays' senses and writes (bit-wise) or the crossbar's cells, DACs and ADCs, the
        shift-adds, quantisation, banks, buffer, DRAM."""
        if self.spec.crossbar:
            engine: tuple[str, ...] = ("mac.cell_read", "mac.dac_row", "mac.adc_conversion")
        else:
            engine = ("sram.csa_read_column", "sram.csa_read_row", "mac.and_column", "mac.and_rows",
                      "mac.bitcount_bit")  # fmt: skip
        return actions(
            *engine, "sram.csa_write_bit", "sram.csa_write_row", "mac.add", "sram.bank_read_bit",
            "sram.bank_write_bit", "mac.quantize", "sram.buffer_write_bit", "sram.buffer_read_bit",
            "dram.bit",
        )  # fmt: skip

    def plan(self, work: LayerWorkload) -> LayerPlan:
        """The sub-arrays' schedules from the kernel, each sub-array a unit of `cols` AND lanes.

        The sub-arrays run independently and share nothing the engine arbitrates: each runs one
        schedule whose operands (DRAM traffic included) arrive with the layer. So the engine plays the
        layer as one unit for the busiest sub-array's cycles, and the refiner draws every sub-array
        from the kernel: its row writes (waiting for operands: stalled), then its senses (busy). The
        periphery's latency after the last sense is a fill / drain tail."""
        layer = work.layer
        if self.on_host(layer):
            return self._host_plan(layer)
        acts = self.layer_actions(layer, work.network_layers)
        mp = acts.mapping
        makespan = int(mp.busy.max())
        lane_cycles = self.multipliers * (makespan + mp.dpu_cycles)
        busy = (
            self._crossbar_slots(mp, work.effectual_macs)
            if mp.crossbar
            else self._busy_slots(mp, work.effectual_macs)
        )
        sensed = busy.effectual + busy.ineffectual + busy.packing
        if mp.crossbar:
            sensed -= int(mp.counts[k.XB_WAIT]) * self.lanes  # waiting for the ADCs senses nothing
        return LayerPlan(
            units=Units("crossbar" if mp.crossbar else "sub-array", self.geometry.subarrays, self.lanes),
            items=[WorkItem(0, makespan, in_bytes=acts.dram_bits / 8)],
            busy=busy,
            energy=acts.actions,
            leakage_mw=self.leakage_mw(acts.used),
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

    def _host_plan(self, layer: Layer) -> LayerPlan:
        """A layer DoReFa keeps unquantised, run on a host (`full_precision_run: host`): the engine spends
        no time or energy on it; the row says where it ran."""
        return LayerPlan(
            units=Units(
                "crossbar" if self.spec.crossbar else "sub-array", self.geometry.subarrays, self.lanes
            ),
            items=[],
            busy=Slots(),
            energy=[],
            leakage_mw=0.0,
            macs_issued=0,
            dram_bytes=0.0,
            sram_bytes=0.0,
            folds=0,
            mapping_efficiency=float("nan"),
            mapping="on the host (full_precision_run: host): not counted in the engine's time or energy",
            fallback="ran on the host, not the engine: a full-precision layer (full_precision_run: host)",
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

    def _crossbar_slots(self, mp: ImceMapping, effectual_macs: int) -> Slots:
        """The rows x cols cells of a crossbar through every read (weight row writes are stalled): a MAC
        is slices x n cell-reads of t_and cycles, effectual when both operands are non-zero; the ones
        column (signed weights) and the cycles a read waits for the shared ADCs beyond t_and are packing;
        the cells a read leaves out are unmapped."""
        c, t_read, lanes = mp.counts, self.timing.t_and, self.lanes
        cells, corr = int(c[k.XB_CELLS]), int(c[k.XB_CORR_CELLS])
        effectual = effectual_macs * mp.slices * mp.n
        products = cells - corr
        return Slots(
            effectual=effectual * t_read,
            ineffectual=(products - effectual) * t_read,
            unmapped=(int(c[k.XB_READS]) * lanes - cells) * t_read,
            packing=corr * t_read + int(c[k.XB_WAIT]) * lanes,
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
