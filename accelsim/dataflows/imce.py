"""IMCE's layer mapping: weight blocks on computational sub-arrays, output pixels streamed through them.

A layer is G groups of an im2col product: every output pixel's receptive field has L = R S C/G
elements, cut into Q = ceil(L / cols) column chunks. A weight block holds up to
f = (rows - n) // m filters of one chunk (m weight-plane rows each), leaving n rows for the
activation planes. The G Q B blocks (B = ceil(K/G / f)) each get s = P // (G Q B) sub-arrays
holding a copy; the copies share the block's output pixels round-robin. Per (pixel, block) the
sub-array writes the chunk's n activation rows and senses every (filter, weight plane, activation
plane) row pair (REFERENCE §9.5 steps 1-5); the partial sums of the Q chunks are added in the
periphery (step 5) and quantised (step 6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accelsim.dataflows.registry import register_dataflow
from accelsim.kernels.imce import dpu_latency, schedule
from accelsim.workload.layer import Layer


@dataclass(frozen=True, slots=True)
class ImceGeometry:
    """Sub-array count and size."""

    subarrays: int
    rows: int
    cols: int


@dataclass(frozen=True, slots=True)
class ImceTiming:
    """Operation latencies in core clock cycles."""

    t_and: int
    """Cycles of one read or AND sense."""
    t_write: int
    """Cycles of one row write."""
    dpu_cycles_per_level: int = 1


@dataclass(frozen=True)
class ImceMapping:
    """How one layer sits on the sub-arrays, each sub-array's busy cycles and the action counts."""

    m: int
    n: int
    groups: int
    k_per_group: int
    pixels: int
    length: int
    """Receptive-field length L (bits per plane per output pixel)."""
    chunks: int
    """Column chunks Q = ceil(L / cols)."""
    filters_per_block: int
    blocks: int
    """Weight blocks G Q B."""
    copies: int
    """Sub-arrays holding a copy of each block (s = P // blocks)."""
    busy: np.ndarray
    """Busy cycles of every sub-array."""
    counts: np.ndarray
    """Action counts, indexed by the constants of accelsim.kernels.imce."""
    dpu_cycles: int
    """Periphery latency after the last sense (adder trees, shift-add, quantiser)."""

    @property
    def subarrays_used(self) -> int:
        """Sub-arrays holding a weight block."""
        return self.blocks * self.copies

    def describe(self) -> str:
        """One line for the results table."""
        return (
            f"bitwise W{self.m}:A{self.n}: L={self.length} in {self.chunks} chunks, "
            f"{self.blocks} weight blocks of <= {self.filters_per_block} filters x {self.copies} copies, "
            f"{self.pixels} pixels streamed"
        )


def layer_extents(layer: Layer) -> tuple[int, int, int, int]:
    """(groups, filters per group, output pixels, receptive-field length L) of a compute layer."""
    return layer.groups, layer.k_per_group, layer.out_h * layer.out_w, layer.r * layer.s * layer.c_per_group


class BitwiseDataflow:
    """Weight-block-stationary mapping with output pixels streamed through the copies."""

    family = "imce"
    name = "bitwise"

    def __repr__(self) -> str:
        return "BitwiseDataflow()"

    def blocks(self, layer: Layer, geom: ImceGeometry, m: int, n: int) -> int:
        """Weight blocks the layer needs (0 when a sub-array cannot hold one filter)."""
        groups, k_g, _, length = layer_extents(layer)
        f = min(k_g, (geom.rows - n) // m)
        if f < 1:
            return 0
        return groups * math.ceil(length / geom.cols) * math.ceil(k_g / f)

    def unsupported(self, layer: Layer, geom: ImceGeometry, m: int, n: int) -> str | None:
        """Why the mapping cannot place `layer`, or None."""
        if not layer.is_compute:
            return "pooling runs in the periphery, not on the sub-arrays"
        blocks = self.blocks(layer, geom, m, n)
        if blocks == 0:
            return f"a {geom.rows}-row sub-array cannot hold {m} weight planes plus {n} activation planes"
        if blocks > geom.subarrays:
            return (
                f"needs {blocks} weight blocks but the engine has {geom.subarrays} sub-arrays "
                "(time-multiplexing blocks is not modelled)"
            )
        return None

    def map(
        self,
        layer: Layer,
        geom: ImceGeometry,
        m: int,
        n: int,
        timing: ImceTiming,
        signed: bool,
        load_weights: bool,
    ) -> ImceMapping:
        """Place the layer and count its actions with the schedule kernel."""
        why = self.unsupported(layer, geom, m, n)
        if why:
            raise ValueError(f"layer {layer.name!r}: {why}")
        groups, k_g, pixels, length = layer_extents(layer)
        busy, counts = schedule(
            k_g, groups, pixels, length, m, n, geom.rows, geom.cols, geom.subarrays,
            timing.t_and, timing.t_write, signed, load_weights,
        )  # fmt: skip
        blocks = self.blocks(layer, geom, m, n)
        chunks = math.ceil(length / geom.cols)
        return ImceMapping(
            m=m,
            n=n,
            groups=groups,
            k_per_group=k_g,
            pixels=pixels,
            length=length,
            chunks=chunks,
            filters_per_block=min(k_g, (geom.rows - n) // m),
            blocks=blocks,
            copies=geom.subarrays // blocks,
            busy=busy,
            counts=counts,
            dpu_cycles=dpu_latency(geom.cols, chunks) * timing.dpu_cycles_per_level,
        )


BITWISE = register_dataflow("imce", "bitwise")(BitwiseDataflow())
