"""Spec of the FPGA Winograd F(2x2,3x3) fp32 convolution engine ("Caffeinated FPGAs") with CPU fallback."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from accelsim.config.arch.common import CommonSpec
from accelsim.config.yaml_io import StrictModel


class FpgaPower(StrictModel):
    """Board and kernel power; energy = power x time (docs/winograd.md, docs/assumptions.md)."""

    static_w: float = Field(ge=0)
    """Device static plus board (DDR, PCIe, regulators) power, drawn for the whole run."""
    cu_datapath_w: float = Field(ge=0)
    """Dynamic power of one compute unit's transform + multiply + accumulate datapath in its MAC loop."""
    cu_buffer_w: float = Field(ge=0)
    """Dynamic power of one compute unit's block RAMs and control while it runs any phase."""


class HostCpu(StrictModel):
    """The host CPU that runs every layer the engine cannot take (roofline time model)."""

    name: str = Field(min_length=1)
    peak_gflops: float = Field(gt=0)
    """fp32 peak of the host (cores x clock x FLOP per cycle)."""
    efficiency: float = Field(gt=0, le=1)
    """Fraction of peak that Caffe's CPU layers (im2col + BLAS) sustain."""
    memory_gb_per_s: float = Field(gt=0)
    """Sustained host memory bandwidth; a layer takes at least its fp32 bytes over it."""
    power_w: float = Field(ge=0)
    """CPU power while it runs a layer."""


class WinogradFpgaSpec(CommonSpec):
    """Compute units of `tiles_per_cu` x 16 fp32 multipliers running the Sept-2016 `winograd_pe` kernel."""

    kind: Literal["winograd_fpga"]
    dataflow: Literal["f2x2_3x3"] = "f2x2_3x3"
    """The engine's only mapping: host tiling [FPGACAFFE16 ocl_conv_layer.cpp], a call per (image, group)."""
    compute_units: int = Field(gt=0, le=64)
    """Kernel instances on the device (2 in the Sept-2016 build, [FPGACAFFE16 winograd_pe.c])."""
    tiles_per_cu: int = Field(gt=0, le=64)
    """4x4 tiles one MAC-loop iteration processes (4 in the kernel, 16 multipliers each)."""
    batch: int = Field(default=1, gt=0)
    """Images per forward pass: the host enqueues one call per (image, group) and the units take them as
    they free up, so a batch of two or more keeps both of the shipped units busy. Rows count the whole
    batch (`per_image()` divides); a run's `--batch` replaces it. The convnet-benchmarks prototxts the
    paper's networks come from use 128 (VGG-A: 64)."""
    ddr_gb_per_s: float | None = Field(default=None, gt=0)
    """DDR bandwidth shared by the units (GB/s); null = only the port widths limit transfers."""
    input_port_bytes: int = Field(default=4, gt=0)
    """Width of the fp32 input and bias ports (`gmem1`, `gmem4`: 32-bit)."""
    wide_port_bytes: int = Field(default=64, gt=0)
    """Width of the `data_pack`ed float16 weight and output ports (`gmem2`, `gmem3`: 512-bit)."""
    memcpy_setup_cycles: int = Field(default=0, ge=0)
    """Cycles added to every memcpy (AXI burst set-up and latency); 0 in the [FPGACAFFE16] estimate."""
    loop_fill_cycles: int = Field(default=0, ge=0)
    """Cycles added to every pipelined loop (pipeline depth); 0 in the [FPGACAFFE16] estimate."""
    pcie_gb_per_s: float | None = Field(default=None, gt=0)
    """Host <-> board PCIe bandwidth for each FPGA layer's input and output; null = not counted."""
    power: FpgaPower
    host: HostCpu

    @model_validator(mode="after")
    def _fp32_and_one_bandwidth(self) -> WinogradFpgaSpec:
        p = self.precision
        if (p.weight_bits, p.act_bits, p.psum_bits) != (32, 32, 32):
            raise ValueError(
                "precision: the engine is IEEE fp32 throughout ([FPGACAFFE16 winograd_pe.c]); "
                "weight_bits, act_bits "
                f"and psum_bits must all be 32, got {p.weight_bits}, {p.act_bits}, {p.psum_bits}"
            )
        if self.dram.bandwidth_bytes_per_cycle is not None:
            raise ValueError(
                "dram.bandwidth_bytes_per_cycle: leave it null for winograd_fpga and set ddr_gb_per_s "
                "(GB/s, independent of clock_mhz) instead"
            )
        return self

    @property
    def multipliers(self) -> int:
        """fp32 multipliers: compute_units x tiles_per_cu x 16."""
        return self.compute_units * self.tiles_per_cu * 16


SPECS = (WinogradFpgaSpec,)
