"""Phantom-2D dataflow: layer masks -> core items (kernel) -> work items pinned to the mesh's cores.

Intra-core (REFERENCE §5.5, §5.10 [assumption]): a core item is filter k's outputs in one output
column x and a strip of output rows, accumulated over every *reduction row* of k's group. For a
k x k convolution a reduction row is (input channel, kernel row); its work group for an output is
the valid products of that kernel row with the S input columns of the output's window (sub-groups
of <= T columns when S > T). The windows are enumerated at the layer's stride, so a strided
convolution wastes no products. Reduction rows are dealt to the P PEs round robin (channel outer,
kernel row inner), which for P = 3 and 3 x 3 kernels gives PE p kernel row p (§5.5) and folds
kernels taller than P over time. Depthwise layers have one channel per filter. Pointwise and FC
layers run the core as a sparse dot-product engine: a reduction row is a chunk of T input channels.

Inter-core: input strips (output columns x row strips) are broadcast along mesh rows and filters
along mesh columns. Level-2 balancing assigns filters to columns and strips to rows round robin
(`round_robin`), by longest-processing-time-first on exact valid-product counts (`lpt`), or lets
idle cores pull (filter, input set) blocks from a shared queue (`dynamic`).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Literal

import numpy as np

from accelsim.dataflows.registry import Dataflow, register_dataflow
from accelsim.engine import WorkItem
from accelsim.engine.core import SHARED_QUEUE
from accelsim.kernels.phantom import (
    STAT_GROUPS,
    STAT_OUT_OF_ORDER,
    STAT_PE_BUSY,
    STAT_UNMAPPED,
    UNBOUNDED,
    layer_items,
)
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.masks import OperandMasks

Balance = Literal["round_robin", "lpt", "dynamic"]

_MAX_CODE_BITS = 62
"""Widest reduction row a bit code holds (int64, sign bit unused)."""


@dataclass(frozen=True, slots=True)
class CoreGeometry:
    """One Phantom core: P PEs x T threads, look-ahead window W and the level-1 options."""

    pes: int
    threads: int
    window: int | None
    """Look-ahead window in pending groups per PE; None = unbounded."""
    split: bool = False
    """Non-atomic groups (ablation upper bound)."""
    prefetch: bool = True
    """A PE that drains early starts its next strip (at most one step ahead of the slowest PE)."""
    strip_rows: int | None = None
    """Output rows per strip (the LAM's look-ahead horizon); None = the whole output column."""


@dataclass(frozen=True, slots=True)
class LayerItems:
    """Core items of one layer from the kernel."""

    cycles: np.ndarray
    """int64[k, input strips]: cycles of filter k on input strip j (j = x * strips + row strip)."""
    products: np.ndarray
    """int64[k, input strips]: valid products of the same items."""
    pe_busy_cycles: int
    """Sum over all strips of the cycles a PE issued products."""
    unmapped_pe_cycles: int
    """PE-cycles of all items in which the PE holds no reduction row (a partial last step)."""
    out_of_order: int
    """Groups issued before an earlier group of their strip (non-linear completion)."""
    groups: int
    """Non-empty work groups issued."""
    dense_groups: int
    """Work groups the LAM examined (empty ones included)."""
    reduction_rows: int
    """Reduction rows per filter (what the PEs share)."""
    group_bits: int
    """Mask bits the LAM ANDs per work group (kernel width, or T channels for pointwise / FC)."""


@dataclass(frozen=True, slots=True)
class MeshPlan:
    """Level-2 assignment of one layer's items to the mesh's cores, as engine work items."""

    work: list[WorkItem]
    input_sets: int
    """How many input sets the layer's strips were split into (one per mesh row, fewer if scarce)."""
    filter_sets: int
    """How many filter sets (cores sharing an input set)."""
    policy: str


def is_pointwise_like(layer: Layer) -> bool:
    """Pointwise and FC layers run the core as a sparse dot-product engine (T-channel chunks)."""
    return layer.kind in (LayerKind.POINTWISE, LayerKind.FC) or (layer.r, layer.s) == (1, 1)


def _code_dtype(width: int) -> type[np.unsignedinteger] | type[np.int64]:
    """The narrowest integer type holding `width`-bit codes."""
    for dtype, bits in ((np.uint8, 8), (np.uint16, 16), (np.uint32, 32)):
        if width <= bits:
            return dtype
    return np.int64


def _bits(mask: np.ndarray) -> np.ndarray:
    """Bool array (..., n) -> integer codes (...,): bit j set when element j is true."""
    width = mask.shape[-1]
    packed = np.packbits(mask, axis=-1, bitorder="little")  # (..., ceil(n / 8)) bytes
    dtype = _code_dtype(width)
    out = packed[..., 0].astype(dtype)
    for b in range(1, packed.shape[-1]):
        out |= packed[..., b].astype(dtype) << dtype(8 * b)
    return out


def layer_codes(layer: Layer, masks: OperandMasks, threads: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(activation codes [ch, out col, padded row], weight codes [k, q, kernel row], code width)."""
    p, (eh, ew), st = layer.pad, layer.pad_end, layer.stride
    acts = np.pad(masks.activations != 0, ((0, 0), (p, p + eh), (p, p + ew)))
    weights = masks.weights != 0
    if is_pointwise_like(layer):
        cg = layer.c_per_group
        chunks = -(-cg // threads)
        padc = chunks * threads - cg
        a = acts[:, : st * (layer.out_h - 1) + 1 : st, : st * (layer.out_w - 1) + 1 : st]
        a = a.reshape(layer.groups, cg, a.shape[1], a.shape[2])
        a = np.pad(a, ((0, 0), (0, padc), (0, 0), (0, 0)))
        a = a.reshape(layer.groups * chunks, threads, a.shape[2], a.shape[3]).transpose(0, 2, 3, 1)
        acodes = np.zeros((a.shape[0], layer.out_h * st, layer.out_w), dtype=_code_dtype(threads))
        acodes[:, ::st, :] = _bits(a)
        w = np.pad(weights[:, :, 0, 0], ((0, 0), (0, padc))).reshape(layer.k, chunks, 1, threads)
        return _by_column(acodes), _bits(w), threads
    if layer.s > _MAX_CODE_BITS:
        raise ValueError(f"layer {layer.name!r}: kernel width {layer.s} exceeds {_MAX_CODE_BITS} columns")
    dtype = _code_dtype(layer.s)
    acodes = np.zeros((layer.c, acts.shape[1], layer.out_w), dtype=dtype)
    for j in range(layer.s):  # bit j: input column j of the window of every output column
        acodes |= acts[:, :, j : j + st * (layer.out_w - 1) + 1 : st].astype(dtype) << dtype(j)
    return _by_column(acodes), _bits(weights), layer.s


def _by_column(acodes: np.ndarray) -> np.ndarray:
    """[ch, row, column] -> contiguous [ch, column, row]: a strip walks down one column."""
    return np.ascontiguousarray(acodes.transpose(0, 2, 1))


def core_items(layer: Layer, masks: OperandMasks, core: CoreGeometry) -> LayerItems:
    """Run the core kernel over every item of the layer (whole layer in one call)."""
    acodes, wcodes, width = layer_codes(layer, masks, core.threads)
    strip_rows = core.strip_rows or layer.out_h
    cycles, products, stats = layer_items(
        acodes,
        wcodes,
        layer.k_per_group,
        layer.stride,
        layer.out_h,
        width,
        core.threads,
        core.pes,
        UNBOUNDED if core.window is None else core.window,
        core.split,
        core.prefetch,
        strip_rows,
    )
    chunks = -(-width // core.threads)
    rows = wcodes.shape[1] * wcodes.shape[2]
    return LayerItems(
        cycles=cycles.reshape(layer.k, -1),
        products=products.reshape(layer.k, -1),
        pe_busy_cycles=int(stats[STAT_PE_BUSY]),
        unmapped_pe_cycles=int(stats[STAT_UNMAPPED]),
        out_of_order=int(stats[STAT_OUT_OF_ORDER]),
        groups=int(stats[STAT_GROUPS]),
        dense_groups=layer.k * rows * layer.out_h * layer.out_w * chunks,
        reduction_rows=rows,
        group_bits=min(width, core.threads) if chunks > 1 else width,
    )


def _lpt(loads: np.ndarray, bins: int) -> np.ndarray:
    """Longest processing time first: heaviest item to the least-loaded bin (ties: lowest index)."""
    owner = np.zeros(loads.shape[0], dtype=np.int64)
    heap = [(0, b) for b in range(bins)]
    for j in np.argsort(-loads, kind="stable"):
        load, b = heapq.heappop(heap)
        owner[j] = b
        heapq.heappush(heap, (load + int(loads[j]), b))
    return owner


def plan_mesh(items: LayerItems, rows: int, cols: int, policy: Balance) -> MeshPlan:
    """Assign filters to filter sets and input strips to input sets; one work item per (filter, set).

    A layer with fewer input strips than mesh rows (FC, small late layers) uses one input set per
    strip and spreads filters over the remaining cores (the input is broadcast further).
    """
    k, strips = items.cycles.shape
    input_sets = min(rows, strips)
    filter_sets = (rows * cols) // input_sets
    if policy == "lpt":
        strip_set = _lpt(items.products.sum(axis=0), input_sets)
        filter_set = _lpt(items.products.sum(axis=1), filter_sets)
    else:
        strip_set = np.arange(strips) % input_sets
        filter_set = np.arange(k) % filter_sets
    onehot = np.zeros((strips, input_sets), dtype=np.int64)
    onehot[np.arange(strips), strip_set] = 1
    block_cycles = items.cycles @ onehot  # (k, input sets)
    block_products = items.products @ onehot
    work: list[WorkItem] = []
    if policy == "dynamic":
        for f in range(k):
            for a in range(input_sets):
                if block_cycles[f, a] > 0:
                    work.append(WorkItem(SHARED_QUEUE, int(block_cycles[f, a])))
    else:
        for f in np.argsort(-block_products.sum(axis=1), kind="stable"):  # LPT order on each core
            for a in range(input_sets):
                if block_cycles[f, a] > 0:
                    work.append(WorkItem(a * filter_sets + int(filter_set[f]), int(block_cycles[f, a])))
    return MeshPlan(work, input_sets, filter_sets, policy)


@dataclass(frozen=True, slots=True)
class PhantomHardware:
    """The mesh of Phantom cores a layer maps onto, and its level-2 balancing policy."""

    core: CoreGeometry
    rows: int
    cols: int
    balance: Balance


@dataclass(frozen=True, slots=True)
class PhantomMapping:
    """One layer on the mesh: its core items (level 1) and their assignment to cores (level 2)."""

    items: LayerItems
    mesh: MeshPlan
    core: CoreGeometry

    def describe(self) -> str:
        """Items, core sets, reduction rows over the core and thread use, in one line."""
        items, mesh, c = self.items, self.mesh, self.core
        window = "inf" if c.window is None else str(c.window)
        pe_cycles = max(1, items.pe_busy_cycles)
        thread_util = items.groups and int(items.products.sum()) / (pe_cycles * c.threads)
        return (
            f"{items.cycles.shape[0]} filters x {items.cycles.shape[1]} input strips on "
            f"{mesh.input_sets}x{mesh.filter_sets} core sets ({mesh.policy}); "
            f"{items.reduction_rows} reduction rows over P={c.pes} T={c.threads} W={window}; "
            f"busy-PE thread use {thread_util:.3f}; out-of-order groups {items.out_of_order}"
        )


@register_dataflow("phantom2d", "phantom")
class PhantomDataflow(Dataflow[PhantomHardware, PhantomMapping]):
    """The Phantom-2D dataflow: core items from the kernel, then the level-2 mesh assignment."""

    family = "phantom2d"
    name = "phantom"

    def map(
        self, layer: Layer, hardware: PhantomHardware, masks: OperandMasks | None = None
    ) -> PhantomMapping:
        """Every core item of the layer (exact cycles from the look-ahead scheduler over `masks`),
        assigned to the cores."""
        if masks is None:
            raise ValueError("the Phantom dataflow schedules from the exact operand masks; none given")
        items = core_items(layer, masks, hardware.core)
        mesh = plan_mesh(items, hardware.rows, hardware.cols, hardware.balance)
        return PhantomMapping(items, mesh, hardware.core)
