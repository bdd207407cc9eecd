"""FPGA Winograd F(2x2,3x3) fp32 engine of "Caffeinated FPGAs" (fpga_caffe @ 6db208db), with CPU fallback.

A 3x3 stride-1 pad-1 convolution that fits the kernel's limits runs on the FPGA: the host tiles it
([FPGACAFFE16 ocl_conv_layer.cpp]), enqueues one call per (image, group), and the compute units
take calls as they free
up (the engine's shared work queue). A call's cycles are the sum of its sequential phases
(`kernels.winograd.call_phase_cycles`), its DDR transfers limited by the port width and by the unit's
share of the DDR bandwidth (shared evenly by the units that have work); the transfers are the call's
waits for data. Every other layer runs on the host CPU (roofline time model) while the FPGA's
multipliers stand idle, and its row says so in `fallback`.

`cycles` is the engine makespan of the batch (every count of a row covers the batch), plus the PCIe
copies when modelled; a CPU layer's seconds are expressed in FPGA clock cycles. `macs_issued`
counts the Winograd-domain fp32 multiplies the FPGA performed (16 per 4x4 tile per input channel per
output channel, padding tiles included); a CPU layer issues none on the FPGA.

"GFLOPS" has more than one meaning for a Winograd engine (`GFLOPS_DEFINITIONS`): `flops_per_image`
gives a layer's operations under each, and an FPGA row's `mapping` names them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.accelerators.base import Accelerator
from accelsim.accelerators.plan import Extension, LayerPlan, Units
from accelsim.accelerators.registry import register
from accelsim.config.arch.winograd import WinogradFpgaSpec
from accelsim.dataflows import get_dataflow
from accelsim.dataflows.winograd import (
    WinogradF2x2Dataflow,
    WinogradHardware,
    WinogradMapping,
    fpga_rejection,
    host_tiling,
)
from accelsim.energy import Action, ActionEnergy, EnergyModel, actions
from accelsim.energy.area import AreaBlock
from accelsim.engine import WorkItem
from accelsim.engine.core import SHARED_QUEUE
from accelsim.kernels.winograd import (
    MULTS_PER_TILE,
    PHASES,
    TRANSFER_PHASES,
    call_ddr_bytes,
    call_fp_adds,
    call_multiplies,
    call_phase_cycles,
)
from accelsim.report.schema import Slots
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer

_PJ_PER_J = 1e12
_FP32_BYTES = 4

GFLOPS_DEFINITIONS: dict[str, str] = {
    "direct": "2 x the layer's direct-convolution MACs (the convention of convnet-benchmarks and of Lavin & "
    "Gray's 'effective' rates)",
    "performed": "the fp32 multiplies and adds the engine performs: 16 multiplies and 44 adds per 4x4 tile "
    "and 8 adds per shared 2-column slice (216 adds + 64 multiplies per 4-tile iteration), padded tiles "
    "included",
    "winograd_mults": "the Winograd-domain fp32 multiplies the engine performs (16 per 4x4 tile per channel "
    "pair, padded tiles included)",
}
"""The meanings of "GFLOPS" the paper could have used (it does not say which): operations per image
under each, over the time per image. A layer the host CPU runs performs 2 x MACs under the first two
and no Winograd multiply."""


FP32_MANTISSA_BITS, FP32_EXPONENT_BITS = 24, 8
"""IEEE fp32 significand (with the hidden bit) and exponent widths: the area model's fp32 multiplier."""
FP32_ADDER_INT_ADDERS = 3
"""32-bit integer adders an fp32 adder is taken to cost (align, add, normalise) [assumption AR5]."""


@dataclass(frozen=True, slots=True)
class CallModel:
    """One kernel call (one image, one group): its phase cycles, DDR bytes and multiplies."""

    phase_cycles: dict[str, int]
    ddr_read_bytes: int
    ddr_written_bytes: int
    multiplies: int

    @property
    def cycles(self) -> int:
        """All phases back to back."""
        return sum(self.phase_cycles.values())

    @property
    def wait(self) -> int:
        """Cycles of the DDR memcpy phases: the unit waits for data."""
        return sum(self.phase_cycles[p] for p in TRANSFER_PHASES)


@register("winograd_fpga")
class WinogradFpga(Accelerator):
    """Compute units running the F(2x2,3x3) kernel; the host CPU runs what the kernel cannot."""

    spec: WinogradFpgaSpec
    batches_images = True  # the calls of every image of the batch share the units' queue (spec.batch)

    def __init__(self, spec: WinogradFpgaSpec) -> None:
        super().__init__(spec)
        self.dataflow = get_dataflow("winograd_fpga", spec.dataflow, WinogradF2x2Dataflow)
        self.hardware = WinogradHardware(spec.tiles_per_cu, spec.batch)
        self.energy = EnergyModel.from_technology(spec.technology)

    @property
    def units(self) -> Units:
        """The compute units, tiles_per_cu x 16 multipliers each."""
        return Units("compute unit", self.spec.compute_units, self.spec.tiles_per_cu * MULTS_PER_TILE)

    def unsupported(self, layer: Layer) -> str | None:
        """None: the system (FPGA + host CPU) runs every layer; see `fpga_rejection` for where."""
        return None

    def ddr_milli_bytes_per_cycle(self, active_units: int) -> int:
        """DDR bytes per 1000 cycles one of `active_units` busy units gets (0 = unlimited)."""
        if self.spec.ddr_gb_per_s is None:
            return 0
        per_cycle = self.spec.ddr_gb_per_s * 1e9 / self.clock_hz
        return max(1, round(1000 * per_cycle / active_units))

    def call_model(self, mapping: WinogradMapping, active_units: int) -> CallModel:
        """Phase cycles, DDR bytes and multiplies of one call when `active_units` units share the DDR."""
        s, t = self.spec, mapping.tiling
        phases = call_phase_cycles(
            t.ydim, t.xdim, t.ytile, t.xtile_pad, t.burstchannels, t.rpo, t.outchannels, s.tiles_per_cu,
            s.memcpy_setup_cycles, s.loop_fill_cycles, s.input_port_bytes, s.wide_port_bytes,
            self.ddr_milli_bytes_per_cycle(active_units),
        )  # fmt: skip
        ddr = call_ddr_bytes(t.ydim, t.xdim, t.xtile_pad, t.burstchannels, t.rpo, t.outchannels)
        mults = call_multiplies(t.ytile, t.xtile_pad, t.burstchannels, t.rpo, t.outchannels, s.tiles_per_cu)
        return CallModel(
            {name: int(c) for name, c in zip(PHASES, phases, strict=True)},
            int(ddr[0]),
            int(ddr[1]),
            int(mults),
        )

    def flops_per_image(self, layer: Layer) -> dict[str, float]:
        """The layer's operations per image under each of GFLOPS_DEFINITIONS."""
        direct = 2.0 * layer.macs
        if fpga_rejection(layer) is not None:
            return {"direct": direct, "performed": direct, "winograd_mults": 0.0}
        t, tiles = host_tiling(layer), self.spec.tiles_per_cu
        mults = call_multiplies(t.ytile, t.xtile_pad, t.burstchannels, t.rpo, t.outchannels, tiles)
        adds = call_fp_adds(t.ytile, t.xtile_pad, t.burstchannels, t.rpo, t.outchannels, tiles)
        calls = layer.groups  # one call per group and image
        return {
            "direct": direct,
            "performed": float((mults + adds) * calls),
            "winograd_mults": float(mults * calls),
        }

    def gflops(self, layer: Layer, latency_s: float) -> dict[str, float]:
        """The layer's GFLOPS under each of GFLOPS_DEFINITIONS, at `latency_s` per image."""
        return {name: ops / latency_s / 1e9 for name, ops in self.flops_per_image(layer).items()}

    def plan_actions(self) -> frozenset[Action]:
        """The compute units' datapath and buffer power, DDR; a layer on the host CPU is a fallback."""
        return actions("mac.datapath", "sram.buffers", "dram.bit")

    def plan(self, work: LayerWorkload) -> LayerPlan:
        """The FPGA's calls for a layer the engine takes, the host CPU's time otherwise."""
        why = fpga_rejection(work.layer)
        if why is not None:
            return self._cpu_plan(work, why)
        return self._fpga_plan(work)

    def _fpga_plan(self, work: LayerWorkload) -> LayerPlan:
        """One call per (image, group) on the shared queue; a call's memcpy phases are its waits."""
        s, layer = self.spec, work.layer
        mapping = self.dataflow.map(layer, self.hardware, None if work.is_dense else work.masks)
        active = min(s.compute_units, mapping.calls)
        call = self.call_model(mapping, active)
        calls = mapping.calls
        pcie = self._pcie_cycles(layer)
        t = mapping.tiling
        tiles = t.burstchannels * t.ytile * t.xtile_pad  # tiles per burst and output channel
        iters = math.ceil(tiles / s.tiles_per_cu)
        closed = (
            "memcpy time inside each call: bytes / port width"
            if s.ddr_gb_per_s is None
            else "memcpy time inside each call: max(port words, bytes / (DDR bandwidth / units with work))"
        )
        return LayerPlan(
            units=self.units,
            items=[WorkItem(SHARED_QUEUE, call.cycles, wait=call.wait) for _ in range(calls)],
            busy=self._busy_slots(mapping, call, self._effectual_products(work, mapping)),
            energy=self._fpga_actions(call, calls),
            leakage_mw=s.power.static_w * 1e3,
            macs_issued=call.multiplies * calls,
            dram_bytes=(call.ddr_read_bytes + call.ddr_written_bytes) * calls,
            sram_bytes=self._sram_bytes(call) * calls,
            folds=calls * t.rpo,
            mapping_efficiency=t.mac_stage_utilization * tiles / (iters * s.tiles_per_cu),
            mapping=mapping.describe() + (f"; PCIe {pcie} cycles" if pcie else "") + self._flops_text(layer),
            tail=Extension(pcie * s.batch, "memory_stall", "PCIe host <-> board copies") if pcie else None,
            batch=s.batch,
            closed_form=closed + ("; PCIe copies: bytes / pcie_gb_per_s after the calls" if pcie else ""),
        )

    def _flops_text(self, layer: Layer) -> str:
        """The layer's operations per image under each GFLOPS definition, for the `mapping` text."""
        ops = self.flops_per_image(layer)
        return "; FLOP per image: " + ", ".join(f"{name} {value:.4g}" for name, value in ops.items())

    def _fpga_actions(self, call: CallModel, calls: int) -> list[ActionEnergy]:
        """Power x time: a unit's datapath power through its MAC loops, its buffer power through its
        calls; DDR bits (docs/assumptions.md WG7). The board's static power is the leakage."""
        s = self.spec
        pj_per_w_cycle = _PJ_PER_J / self.clock_hz
        ddr_bits = (call.ddr_read_bytes + call.ddr_written_bytes) * calls * 8
        of = ActionEnergy.of
        return [
            of("mac", "datapath", call.phase_cycles["mac"] * calls, s.power.cu_datapath_w * pj_per_w_cycle),
            of("sram", "buffers", call.cycles * calls, s.power.cu_buffer_w * pj_per_w_cycle),
            of("dram", "bit", ddr_bits, self.energy.dram_pj_per_bit(s.dram.kind)),
        ]

    def _effectual_products(self, work: LayerWorkload, mapping: WinogradMapping) -> int:
        """Effectual products over the batch: each image's own masks when the workload is the batch,
        else its one image's repeated."""
        batch = self.spec.batch
        if work.is_dense or work.batch != batch:
            return mapping.effectual_products * batch
        return sum(
            self.dataflow.map(work.layer, self.hardware, work.image_masks(i)).effectual_products
            for i in work.image_ids
        )

    def _busy_slots(self, mapping: WinogradMapping, call: CallModel, effectual: int) -> Slots:
        """The tiles x 16 multipliers of a unit through the non-memcpy cycles of its calls: in the MAC
        loop's iterations each drives its multipliers, on a product a real output needs (effectual when
        both transformed operands are non-zero, else ineffectual) or on nothing a real output needs
        (padding tiles, the unused row or column of a partial tile, empty lanes of the last iteration:
        unmapped); the loops' fill and the tiling, accumulator set-up, unpack and merge loops around
        each MAC loop are fill / drain (the multipliers wait for them)."""
        calls, batch = mapping.calls, self.spec.batch
        issued = call.multiplies * calls
        needed = mapping.used_products * batch
        busy = (call.cycles - call.wait) * calls * self.units.multipliers
        return Slots(
            effectual=effectual,
            ineffectual=needed - effectual,
            unmapped=issued - needed,
            fill_drain=busy - issued,
        )

    def _pcie_cycles(self, layer: Layer) -> int:
        """Host <-> board copies of the layer's input and (padded) output per image, if PCIe is modelled."""
        if self.spec.pcie_gb_per_s is None:
            return 0
        out_w = -(-layer.out_w // 16) * 16
        nbytes = _FP32_BYTES * (layer.input_elems + layer.out_h * out_w * layer.k)
        return math.ceil(nbytes / (self.spec.pcie_gb_per_s * 1e9) * self.clock_hz)

    def _sram_bytes(self, call: CallModel) -> float:
        """On-chip buffer traffic of one call: the DDR data written in or read out, and per MAC-loop
        iteration tiles + 1 two-column input slices (8 words each), one float16 filter (16 words) and
        the accumulators of tiles x 4 outputs, read and written."""
        tiles = self.spec.tiles_per_cu
        iterations = call.multiplies // (tiles * MULTS_PER_TILE)
        words_per_iteration = 8 * (tiles + 1) + 16 + 2 * 4 * tiles
        return call.ddr_read_bytes + call.ddr_written_bytes + iterations * words_per_iteration * _FP32_BYTES

    def area_blocks(self, layers: tuple[Layer, ...]) -> list[AreaBlock]:
        """An ASIC equivalent of the FPGA datapath only (docs/winograd.md, "Area"): the fp32 multipliers
        (a 24 x 24 mantissa multiplier and an 8-bit exponent adder each) and one fp32 accumulate adder
        per multiplier (three 32-bit integer adders: align, add, normalise) [assumption AR5]."""
        am = self.area_model
        fp_multiplier = am.multiplier_um2(FP32_MANTISSA_BITS) + am.adder_um2(FP32_EXPONENT_BITS)
        return [
            AreaBlock("mac", "fp32 multipliers", self.multipliers, fp_multiplier),
            AreaBlock("mac", "fp32 adders", self.multipliers, FP32_ADDER_INT_ADDERS * am.adder_um2(32)),
        ]

    def cpu_seconds(self, layer: Layer) -> float:
        """Host CPU roofline: max(FLOPs / sustained FLOP rate, fp32 bytes / memory bandwidth)."""
        h = self.spec.host
        flops = 2 * layer.macs
        nbytes = _FP32_BYTES * (layer.input_elems + layer.weights + layer.output_elems)
        return max(flops / (h.peak_gflops * h.efficiency * 1e9), nbytes / (h.memory_gb_per_s * 1e9))

    def _cpu_plan(self, work: LayerWorkload, why: str) -> LayerPlan:
        """The host CPU runs the layer (one image) while every FPGA multiplier stands idle: a tail."""
        s, layer = self.spec, work.layer
        seconds = self.cpu_seconds(layer)
        cycles = max(1, math.ceil(seconds * self.clock_hz)) * s.batch  # one image after another
        host = f"host CPU ({s.host.name})"
        return LayerPlan(
            units=self.units,
            items=[],
            busy=Slots(),
            energy=[ActionEnergy.of("mac", "host_cpu", cycles, s.host.power_w / self.clock_hz * _PJ_PER_J)],
            leakage_mw=s.power.static_w * 1e3,
            macs_issued=0,
            dram_bytes=0.0,
            sram_bytes=0.0,
            folds=0,
            mapping_efficiency=float("nan"),
            mapping=f"{host}: {2 * layer.macs / seconds / 1e9:.1f} GFLOPS roofline",
            tail=Extension(cycles, "unmapped", host),
            closed_form=f"{host} roofline: max(FLOPs / sustained rate, fp32 bytes / memory bandwidth)",
            fallback=f"ran on the {host}, not the FPGA: {why}",
            batch=s.batch,
        )
