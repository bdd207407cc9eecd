"""FPGA Winograd F(2x2,3x3) fp32 engine of "Caffeinated FPGAs" (fpga_caffe @ 6db208db), with CPU fallback.

A 3x3 stride-1 pad-1 convolution that fits the kernel's limits runs on the FPGA: the host tiles it
(REFERENCE §10.6), enqueues one call per (image, group), and the compute units take calls as they free
up (the engine's shared work queue). A call's cycles are the sum of its sequential phases
(`kernels.winograd.call_phase_cycles`), its DDR transfers limited by the port width and by the unit's
share of the DDR bandwidth (shared evenly by the units that have work). Every other layer runs on the
host CPU (roofline time model) and its row says so in `fallback`.

`cycles` is the engine makespan of the batch divided by the batch (cycles per image, rounded up); a
CPU layer's seconds are expressed in FPGA clock cycles. `macs_issued` counts the Winograd-domain fp32
multiplies the FPGA performed (16 per 4x4 tile per input channel per output channel, padding tiles
included); a CPU layer issues none on the FPGA.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from accelsim.accelerators.base import Accelerator
from accelsim.accelerators.registry import register
from accelsim.config.arch.winograd import WinogradFpgaSpec
from accelsim.dataflows import get_dataflow
from accelsim.dataflows.winograd import WinogradF2x2Dataflow, WinogradMapping, fpga_rejection
from accelsim.energy import Action, EnergyModel, energy_breakdown
from accelsim.engine import WorkItem, play
from accelsim.engine.core import SHARED_QUEUE
from accelsim.kernels.winograd import PHASES, call_ddr_bytes, call_multiplies, call_phase_cycles
from accelsim.report.schema import LayerResult
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer

_PJ_PER_J = 1e12
_FP32_BYTES = 4


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


@register("winograd_fpga")
class WinogradFpga(Accelerator):
    """Compute units running the F(2x2,3x3) kernel; the host CPU runs what the kernel cannot."""

    spec: WinogradFpgaSpec

    def __init__(self, spec: WinogradFpgaSpec) -> None:
        super().__init__(spec)
        self.dataflow: WinogradF2x2Dataflow = get_dataflow("winograd_fpga", spec.dataflow)
        self.energy = EnergyModel.from_technology(spec.technology)

    @property
    def multipliers(self) -> int:
        """compute_units x tiles_per_cu x 16 fp32 multipliers."""
        return self.spec.multipliers

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

    def simulate_layer(self, work: LayerWorkload) -> tuple[LayerResult, pd.DataFrame]:
        """The FPGA model for a layer the engine takes, the host CPU model otherwise."""
        why = fpga_rejection(work.layer)
        if why is not None:
            return self._cpu_layer(work, why)
        return self._fpga_layer(work)

    def _fpga_layer(self, work: LayerWorkload) -> tuple[LayerResult, pd.DataFrame]:
        s, layer = self.spec, work.layer
        mapping = self.dataflow.map(layer, s.batch)
        active = min(s.compute_units, mapping.calls)
        call = self.call_model(mapping, active)
        items = [WorkItem(SHARED_QUEUE, call.cycles) for _ in range(mapping.calls)]
        run = play(items, units=s.compute_units, dram_bytes_per_cycle=None)  # DDR time is inside the call
        pcie_cycles = self._pcie_cycles(layer)
        cycles = math.ceil(run.makespan / s.batch) + pcie_cycles
        latency_s = cycles / self.clock_hz
        per_image = mapping.calls / s.batch  # calls per image = groups
        dram_bytes = (call.ddr_read_bytes + call.ddr_written_bytes) * per_image
        mac_s = call.phase_cycles["mac"] * per_image / self.clock_hz
        busy_s = call.cycles * per_image / self.clock_hz
        counts = {
            Action("static", "board"): latency_s,
            Action("mac", "datapath"): mac_s,
            Action("sram", "buffers"): busy_s,
            Action("dram", "bit"): dram_bytes * 8,
        }
        costs = {
            Action("static", "board"): s.power.static_w * _PJ_PER_J,
            Action("mac", "datapath"): s.power.cu_datapath_w * _PJ_PER_J,
            Action("sram", "buffers"): s.power.cu_buffer_w * _PJ_PER_J,
            Action("dram", "bit"): self.energy.dram_pj_per_bit(s.dram.kind),
        }
        t = mapping.tiling
        slots = t.burstchannels * t.ytile * t.xtile_pad  # tiles per burst and output channel
        iters = math.ceil(slots / s.tiles_per_cu)
        result = self.result(
            work,
            macs_issued=round(call.multiplies * per_image),
            cycles=cycles,
            stall_cycles=0,  # DDR waits are part of the memcpy phases (nothing overlaps)
            imbalance=run.imbalance,
            idle_fraction=run.idle_fraction,
            dram_bytes=dram_bytes,
            sram_bytes=self._sram_bytes(call) * per_image,
            folds=mapping.calls * t.rpo,
            mapping_efficiency=t.mac_stage_utilization * slots / (iters * s.tiles_per_cu),
            mapping=mapping.describe(s.tiles_per_cu)
            + (f"; PCIe {pcie_cycles} cycles" if pcie_cycles else ""),
            energy_pj=energy_breakdown(counts, costs),
        )
        return result, run.timeline.frame(run.makespan)

    def _pcie_cycles(self, layer: Layer) -> int:
        """Host <-> board copies of the layer's input and (padded) output, if PCIe is modelled."""
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
        iterations = call.multiplies // (tiles * 16)
        words_per_iteration = 8 * (tiles + 1) + 16 + 2 * 4 * tiles
        return call.ddr_read_bytes + call.ddr_written_bytes + iterations * words_per_iteration * _FP32_BYTES

    def cpu_seconds(self, layer: Layer) -> float:
        """Host CPU roofline: max(FLOPs / sustained FLOP rate, fp32 bytes / memory bandwidth)."""
        h = self.spec.host
        flops = 2 * layer.macs
        nbytes = _FP32_BYTES * (layer.input_elems + layer.weights + layer.output_elems)
        return max(flops / (h.peak_gflops * h.efficiency * 1e9), nbytes / (h.memory_gb_per_s * 1e9))

    def _cpu_layer(self, work: LayerWorkload, why: str) -> tuple[LayerResult, pd.DataFrame]:
        s, layer = self.spec, work.layer
        seconds = self.cpu_seconds(layer)
        cycles = max(1, math.ceil(seconds * self.clock_hz))
        latency_s = cycles / self.clock_hz
        counts = {Action("static", "board"): latency_s, Action("mac", "host_cpu"): latency_s}
        costs = {
            Action("static", "board"): s.power.static_w * _PJ_PER_J,
            Action("mac", "host_cpu"): s.host.power_w * _PJ_PER_J,
        }
        result = self.result(
            work,
            macs_issued=0,
            cycles=cycles,
            stall_cycles=0,
            imbalance=1.0,
            idle_fraction=1.0,
            dram_bytes=0.0,
            sram_bytes=0.0,
            folds=0,
            mapping_efficiency=float("nan"),
            mapping=f"host CPU ({s.host.name}): {2 * layer.macs / seconds / 1e9:.1f} GFLOPS roofline",
            fallback=f"ran on the host CPU ({s.host.name}), not the FPGA: {why}",
            energy_pj=energy_breakdown(counts, costs),
        )
        timeline = pd.DataFrame(
            {"unit": np.arange(s.compute_units), "state": "idle", "start": 0, "end": cycles}
        )
        return result, timeline
