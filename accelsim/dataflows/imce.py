"""IMCE's layer mapping: weight blocks on computational sub-arrays, output pixels streamed through them.

A layer is G groups of an im2col product: every output pixel's receptive field has L = R S C/G
elements, cut into Q = ceil(L / cols) column chunks. A weight block holds up to
f = (rows - n) // m filters of one chunk (m weight-plane rows each), leaving n rows for the
activation planes. The G B Q blocks (B = ceil(K/G / f)) run in rounds of up to P blocks; a round
of N blocks gives each s = P // N sub-arrays holding a copy, and the copies share the block's output
pixels round-robin. A layer of more than P blocks rewrites the sub-arrays' weight rows every round
and keeps the partial sums of outputs whose chunks span rounds in the buffer. Per (pixel, block) the
sub-array writes the chunk's n activation rows and senses every (filter, weight plane, activation
plane) row pair (REFERENCE §9.5 steps 1-5); the partial sums of the Q chunks are added in the
periphery (step 5) and quantised (step 6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accelsim.dataflows.registry import Dataflow, register_dataflow
from accelsim.kernels.imce import dpu_latency, schedule
from accelsim.workload.layer import Layer
from accelsim.workload.masks import OperandMasks


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


@dataclass(frozen=True, slots=True)
class ImceHardware:
    """The sub-arrays as one layer uses them: geometry, timing, the widths the layer runs at, the
    weight encoding, and whether the layer writes its weight rows (they are not resident)."""

    geometry: ImceGeometry
    timing: ImceTiming
    m: int
    """Weight bits (planes) of the layer."""
    n: int
    """Activation bits (planes) of the layer."""
    signed: bool
    """DoReFa's symmetric weights: correction senses of the activation planes."""
    load_weights: bool
    """The layer writes its weight rows per inference (not resident)."""


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
    rounds: int
    """Rounds of up to P blocks (1 when every block has a sub-array)."""
    copies: int
    """Sub-arrays holding a copy of each block of the first round (s = P // blocks in it)."""
    weights_written: bool
    """The layer writes its weight rows (reloaded per inference, or blocks taking turns in rounds)."""
    busy: np.ndarray
    """Busy cycles of every sub-array (row writes included)."""
    written: np.ndarray
    """Of those, the cycles every sub-array spends writing rows (activation planes, weights)."""
    counts: np.ndarray
    """Action counts, indexed by the constants of accelsim.kernels.imce."""
    dpu_cycles: int
    """Periphery latency after the last sense (adder trees, shift-add, quantiser)."""

    def describe(self) -> str:
        """One line for the results table."""
        rounds = f" in {self.rounds} rounds" if self.rounds > 1 else ""
        return (
            f"bitwise W{self.m}:A{self.n}: L={self.length} in {self.chunks} chunks, "
            f"{self.blocks} weight blocks of <= {self.filters_per_block} filters{rounds} "
            f"x {self.copies} copies, "
            f"{self.pixels} pixels streamed"
        )


def layer_extents(layer: Layer) -> tuple[int, int, int, int]:
    """(groups, filters per group, output pixels, receptive-field length L) of a compute layer."""
    return layer.groups, layer.k_per_group, layer.out_h * layer.out_w, layer.r * layer.s * layer.c_per_group


@register_dataflow("imce", "bitwise")
class BitwiseDataflow(Dataflow[ImceHardware, ImceMapping]):
    """Weight-block-stationary mapping with output pixels streamed through the copies."""

    family = "imce"
    name = "bitwise"

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
        if self.blocks(layer, geom, m, n) == 0:
            return f"a {geom.rows}-row sub-array cannot hold {m} weight planes plus {n} activation planes"
        return None

    def resident_rows(self, layer: Layer, geom: ImceGeometry, m: int, n: int) -> np.ndarray | None:
        """Weight rows each sub-array holds when the layer's blocks (with their copies) stay resident;
        None when the blocks outnumber the sub-arrays (they must take turns, so cannot stay)."""
        _, k_g, _, length = layer_extents(layer)
        blocks = self.blocks(layer, geom, m, n)
        if blocks == 0 or blocks > geom.subarrays:
            return None
        f = min(k_g, (geom.rows - n) // m)
        per_block = [min(f, k_g - b * f) * m for b in range(math.ceil(k_g / f))]
        q_chunks = math.ceil(length / geom.cols)
        rows = np.zeros(geom.subarrays, dtype=np.int64)
        copies = geom.subarrays // blocks
        for idx in range(blocks):  # (group, filter block, chunk) order, as the schedule kernel
            rows[idx * copies : (idx + 1) * copies] = per_block[(idx // q_chunks) % len(per_block)]
        return rows

    def map(self, layer: Layer, hardware: ImceHardware, masks: OperandMasks | None = None) -> ImceMapping:
        """Place the layer and count its actions with the schedule kernel (a dense engine: the masks do
        not change the mapping)."""
        geom, timing, m, n = hardware.geometry, hardware.timing, hardware.m, hardware.n
        why = self.unsupported(layer, geom, m, n)
        if why:
            raise ValueError(f"layer {layer.name!r}: {why}")
        groups, k_g, pixels, length = layer_extents(layer)
        busy, written, counts = schedule(
            k_g, groups, pixels, length, m, n, geom.rows, geom.cols, geom.subarrays,
            timing.t_and, timing.t_write, hardware.signed, hardware.load_weights,
        )  # fmt: skip
        blocks = self.blocks(layer, geom, m, n)
        chunks = math.ceil(length / geom.cols)
        rounds = math.ceil(blocks / geom.subarrays)
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
            rounds=rounds,
            copies=geom.subarrays // min(blocks, geom.subarrays),
            weights_written=hardware.load_weights or rounds > 1,
            busy=busy,
            written=written,
            counts=counts,
            dpu_cycles=dpu_latency(geom.cols, chunks) * timing.dpu_cycles_per_level,
        )
