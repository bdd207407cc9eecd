"""Host-side mapping of a layer onto the fpga_caffe Winograd engine, and which layers it can take.

The tiling rules are those of `OCLConvolutionLayer::winograd_conv` (`ocl_conv_layer.cpp` @ 6db208db,
[FPGACAFFE16 ocl_conv_layer.cpp]), implemented verbatim, integer division included:

- ytile = ceil(H / 2); xtile = ceil(W / 2);
- offshape = W rounded up to a multiple of 16 and, only in that branch (W % 16 != 0), doubled when
  offshape * ytile / 8 < 12; a W that is already a multiple of 16 is kept as it is;
- xtile_pad = offshape / 2; fact = xtile_pad / 8;
- burstchannels = 16384 / (ytile * xtile_pad), clipped to C_in, else lowered to a divisor of C_in;
- rpo = C_in / burstchannels; rburst = H * burstchannels.

The host enqueues one kernel call per (image, group); calls go to whichever compute unit is free.
The mapping also counts the Winograd-domain products the layer needs and, from the operand masks,
those whose transformed operands are both non-zero (`accelsim.kernels.winograd`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.dataflows.registry import Dataflow, register_dataflow
from accelsim.kernels.winograd import effectual_products, used_products
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.masks import OperandMasks

INBUF_SLOTS = 128 * 128
"""Two-column tile slices `inbuf` holds (`float inbuf[128*128][4][2]`, [FPGACAFFE16 winograd_pe.c])."""

MIN_DEPENDENCE_DISTANCE = 12
"""MAC-loop iterations between two updates of one accumulator (`DEPENDENCE ... distance=12`,
[FPGACAFFE16 winograd_pe.c])."""


@dataclass(frozen=True, slots=True)
class HostTiling:
    """Kernel arguments the host computes for one layer (per group)."""

    ydim: int
    xdim: int
    inchannels: int
    outchannels: int
    groups: int
    ytile: int
    xtile: int
    offshape: int
    burstchannels: int

    @property
    def xtile_pad(self) -> int:
        """Tile columns the kernel processes (padded): offshape / 2."""
        return self.offshape // 2

    @property
    def fact(self) -> int:
        """`float16` words per output row: xtile_pad / 8."""
        return self.xtile_pad // 8

    @property
    def rpo(self) -> int:
        """Input-channel bursts per call (reads per output)."""
        return self.inchannels // self.burstchannels

    @property
    def rburst(self) -> int:
        """Input rows read per burst."""
        return self.ydim * self.burstchannels

    @property
    def mac_iterations_per_channel(self) -> int:
        """MAC-loop iterations (4 tiles each) per input channel: ytile * xtile_pad / 4."""
        return self.ytile * self.xtile_pad // 4

    @property
    def mac_stage_utilization(self) -> float:
        """Useful fraction of the MAC loop: H W / (4 ytile xtile_pad) ([FPGACAFFE16])."""
        return self.ydim * self.xdim / (4 * self.ytile * self.xtile_pad)

    def violations(self) -> list[str]:
        """The kernel's asserts (and its accumulator hazard) this tiling breaks; empty when it runs."""
        checks = [
            (
                7 <= self.ydim <= 256 and 7 <= self.xdim <= 256,
                f"H, W = {self.ydim}, {self.xdim} outside 7..256",
            ),
            (1 <= self.inchannels <= 1024, f"input channels per group {self.inchannels} outside 1..1024"),
            (1 <= self.outchannels <= 1024, f"output channels per group {self.outchannels} outside 1..1024"),
            (self.groups <= 2, f"{self.groups} groups (the kernel takes at most 2)"),
            (1 <= self.burstchannels <= 256, f"burstchannels {self.burstchannels} outside 1..256"),
            (self.rpo <= 64, f"rpo {self.rpo} > 64"),
            (8 <= self.xtile_pad <= 128, f"xtile_pad {self.xtile_pad} outside 8..128"),
            (4 <= self.ytile <= 128 and 4 <= self.xtile <= 128, f"ytile, xtile = {self.ytile}, {self.xtile}"),
            (12 <= self.rburst <= 4096, f"rburst {self.rburst} outside 12..4096"),
            (
                self.mac_iterations_per_channel >= MIN_DEPENDENCE_DISTANCE,
                f"{self.mac_iterations_per_channel} MAC iterations per channel < the accumulator "
                f"dependence distance {MIN_DEPENDENCE_DISTANCE} (the kernel would compute wrong sums)",
            ),
        ]
        return [why for ok, why in checks if not ok]


def host_tiling(layer: Layer) -> HostTiling:
    """The kernel arguments `winograd_conv` computes for `layer` (verbatim, see the module docstring)."""
    ydim, xdim = layer.out_h, layer.out_w
    ytile = (ydim + 2 - 1) // 2
    xtile = (xdim + 2 - 1) // 2
    if xdim % 16 != 0:
        offshape = (xdim // 16 + 1) * 16
        if offshape * ytile // 8 < 12:
            offshape *= 2
    else:
        offshape = xdim
    inchannels, outchannels = layer.c_per_group, layer.k_per_group
    burst = INBUF_SLOTS // (ytile * (offshape // 2))
    if burst > inchannels:
        burst = inchannels
    else:
        while burst > 1 and inchannels % burst != 0:
            burst -= 1
    return HostTiling(
        ydim, xdim, inchannels, outchannels, layer.groups, ytile, xtile, offshape, max(burst, 1)
    )


def fpga_rejection(layer: Layer) -> str | None:
    """Why the engine cannot take `layer` (it then runs on the host CPU), or None ([FPGACAFFE16])."""
    if layer.kind is not LayerKind.CONV:
        return f"{layer.kind} layer: the engine runs only 3x3 convolutions"
    if (layer.r, layer.s, layer.stride, layer.pad, layer.pad_end) != (3, 3, 1, 1, (0, 0)):
        return (
            f"{layer.r}x{layer.s} stride {layer.stride} pad {layer.pad}: the engine runs only 3x3 "
            "stride-1 pad-1 convolutions"
        )
    broken = host_tiling(layer).violations()
    return "kernel limits: " + "; ".join(broken) if broken else None


@dataclass(frozen=True, slots=True)
class WinogradHardware:
    """What the mapping needs of the engine: MAC-loop width and the images of one forward pass."""

    tiles_per_cu: int
    """4x4 tiles one MAC-loop iteration processes."""
    batch: int
    """Images per forward pass (one call per image and group)."""


@dataclass(frozen=True, slots=True)
class WinogradMapping:
    """One layer on the engine: the host tiling, the kernel calls it enqueues and the products it needs."""

    tiling: HostTiling
    calls: int
    """Kernel calls: images x groups; each runs whole on one compute unit."""
    tiles: int
    """4x4 tiles per MAC-loop iteration."""
    used_products: int
    """Winograd products of one image that feed a real output (padding tiles and the unused row or
    column of a partial tile excluded)."""
    effectual_products: int
    """Of those, the ones whose transformed operands are both non-zero."""

    def describe(self) -> str:
        """One line for the results table."""
        t = self.tiling
        return (
            f"F(2x2,3x3): {self.calls} call(s) (image x group); ytile {t.ytile}, xtile_pad {t.xtile_pad}, "
            f"burstchannels {t.burstchannels}, rpo {t.rpo}; {self.tiles} tiles/iteration; "
            f"MAC-stage utilisation {t.mac_stage_utilization:.3f}"
        )


@register_dataflow("winograd_fpga", "f2x2_3x3")
class WinogradF2x2Dataflow(Dataflow[WinogradHardware, WinogradMapping]):
    """The only mapping the engine has: host tiling, one call per (image, group)."""

    family = "winograd_fpga"
    name = "f2x2_3x3"

    def map(
        self, layer: Layer, hardware: WinogradHardware, masks: OperandMasks | None = None
    ) -> WinogradMapping:
        """Tile `layer` for the batch and count its products (`masks` None: dense operands); the layer
        must be one the engine takes."""
        why = fpga_rejection(layer)
        if why is not None:
            raise ValueError(f"layer {layer.name!r} cannot run on the Winograd engine: {why}")
        used = used_products(layer.out_h, layer.out_w) * layer.k * layer.c_per_group
        if masks is None:  # every channel pair alike: only the zero padding makes transformed zeros
            one = effectual_products(np.ones((1, layer.h, layer.w), bool), np.ones((1, 1, 3, 3), bool), 1)
            effectual = one * layer.k * layer.c_per_group
        else:
            effectual = effectual_products(masks.activations, masks.weights, layer.groups)
        return WinogradMapping(
            host_tiling(layer), hardware.batch * layer.groups, hardware.tiles_per_cu, used, effectual
        )
