"""Phantom-2D dataflow: layer masks -> core items (kernel) -> work items pinned to the mesh's cores.

Intra-core ([MUNIR23; PHANTOM21] [assumption]): a core item is filter k's outputs in one output
column x and a strip of output rows, accumulated over every *reduction row* of k's group. For a
k x k convolution a reduction row is (input channel, kernel row); its work group for an output is
the valid products of that kernel row with the S input columns of the output's window (sub-groups
of <= T columns when S > T). The windows are enumerated at the layer's stride, so a strided
convolution wastes no products. Reduction rows are dealt to the P PEs in steps (channel outer,
kernel row inner; `dispatch` says whether all-zero weight rows keep a slot and whether a strip goes
to a fixed PE or to the first free one), which for P = 3 and 3 x 3 kernels gives PE p kernel row p
([MUNIR23]) and folds kernels taller than P over time. Depthwise layers have one channel per filter.
Pointwise and FC layers run the core as a sparse dot-product engine: a reduction row is a chunk of T
input channels, and a strip walks either the output pixels of one column (the weight chunk held)
or, with `neuron_walk`, a block of output neurons at one pixel (the activation chunk held).

Inter-core: input strips (output columns x row strips, or pixels) are broadcast to input sets of
cores and filters (or neuron blocks) to filter sets. Level-2 balancing assigns filters to filter sets
and strips to input sets round robin (`round_robin`), by longest-processing-time-first on exact
valid-product counts (`lpt`), or lets idle cores pull (filter, input set) blocks from a shared queue
(`dynamic`). The split into input and filter sets (and the strip length) is either fixed by the mesh
(`fixed`: one input set per mesh row) or searched per layer for the smallest makespan (`search`).
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
    AHEAD_UNBOUNDED,
    DISPATCH_COMPACT,
    DISPATCH_DYNAMIC,
    DISPATCH_FIXED,
    STAT_DEALT,
    STAT_EXAMINED,
    STAT_GROUPS,
    STAT_OUT_OF_ORDER,
    STAT_PE_BUSY,
    STAT_STEPS,
    STAT_UNMAPPED,
    UNBOUNDED,
    layer_items,
    queue_makespan,
)
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.masks import OperandMasks

Balance = Literal["round_robin", "lpt", "dynamic"]
Dispatch = Literal["fixed", "compact", "dynamic"]
NeuronWalk = Literal["none", "fc", "fc_pointwise"]
Split = Literal["fixed", "search"]

_DISPATCH = {"fixed": DISPATCH_FIXED, "compact": DISPATCH_COMPACT, "dynamic": DISPATCH_DYNAMIC}

_MAX_CODE_BITS = 62
"""Widest reduction row a bit code holds (int64, sign bit unused)."""

SEARCH_HALVINGS = 2
"""The split search halves the strip length at most this many times (whole, half, quarter)."""
SEARCH_GAP = 0.02
"""The search tries a shorter strip only while its best makespan is more than this fraction above the
perfect balance of its items (total item cycles / cores): shorter strips lose look-ahead at their ends
and cost a kernel run each, so a layer already balanced within 2 % is not re-run."""


@dataclass(frozen=True, slots=True)
class CoreGeometry:
    """One Phantom core: P PEs x T threads, look-ahead window W and the level-1 options."""

    pes: int
    threads: int
    window: int | None
    """Look-ahead window in pending groups per PE; None = unbounded."""
    split: bool = False
    """Non-atomic groups (ablation upper bound)."""
    dispatch: Dispatch = "compact"
    """How reduction rows reach the PEs: every row on a fixed PE (`fixed`), all-zero weight rows
    dropped first (`compact`), or those dropped and each strip to the first free PE (`dynamic`)."""
    run_ahead: int | None = 0
    """Steps a PE may run ahead of the slowest PE of its core (the output buffer holds the tags of
    run_ahead + 1 steps); None = unbounded (only the core item's end is a barrier)."""
    strip_rows: int | None = None
    """Output rows per strip (the LAM's look-ahead horizon); None = the whole output column."""
    neuron_walk: NeuronWalk = "fc"
    """Which 1 x 1 layers walk output neurons in a strip instead of output pixels."""


@dataclass(frozen=True, slots=True)
class LayerItems:
    """Core items of one layer from the kernel."""

    cycles: np.ndarray
    """int64[filters, input strips]: cycles of filter k (or neuron block) on input strip j (j = x *
    strips + row strip, or the pixel y * out_w + x of a neuron walk)."""
    products: np.ndarray
    """int64[filters, input strips]: valid products of the same items."""
    pe_busy_cycles: int
    """Sum over all strips of the cycles a PE issued products."""
    unmapped_pe_cycles: int
    """PE-cycles of all items in which the mapping gives the PE no reduction row."""
    out_of_order: int
    """Groups issued before an earlier group of their strip (non-linear completion)."""
    groups: int
    """Non-empty work groups issued."""
    examined_groups: int
    """Work groups the LAM examined (every group of every dealt reduction row, empty ones included)."""
    reduction_rows: int
    """Reduction rows per item (what the PEs share)."""
    dealt_rows: int
    """Reduction rows dealt to PEs over all items (all of them unless `compact` / `dynamic` dropped some)."""
    steps: int
    """Steps of P rows over all items (ceil(dealt rows / P) per item)."""
    group_bits: int
    """Mask bits the LAM ANDs per work group (kernel width, or T channels for pointwise / FC)."""
    strip_length: int
    """Outputs per strip: output rows of a column, or neurons of a block."""
    walk: Literal["pixels", "neurons"]
    """What a strip walks."""


@dataclass(frozen=True, slots=True)
class MeshPlan:
    """Level-2 assignment of one layer's items to the mesh's cores, as engine work items."""

    work: list[WorkItem]
    input_sets: int
    """How many input sets the layer's strips were split into."""
    filter_sets: int
    """How many filter sets (cores sharing an input set)."""
    policy: str
    split: str = "fixed"
    """How the input / filter split and the strip length were chosen (`fixed` or `search`)."""
    makespan: int = 0
    """Compute makespan of the plan on the cores (the engine's makespan when transfers take no time)."""


def is_pointwise_like(layer: Layer) -> bool:
    """Pointwise and FC layers run the core as a sparse dot-product engine (T-channel chunks)."""
    return layer.kind in (LayerKind.POINTWISE, LayerKind.FC) or (layer.r, layer.s) == (1, 1)


def walks_neurons(layer: Layer, core: CoreGeometry) -> bool:
    """True when the layer's strips walk output neurons (held activation chunk) under `neuron_walk`."""
    if not is_pointwise_like(layer) or core.neuron_walk == "none":
        return False
    return core.neuron_walk == "fc_pointwise" or layer.kind is LayerKind.FC


def _code_dtype(width: int) -> type[np.unsignedinteger] | type[np.int64]:
    """The narrowest integer type holding `width`-bit codes."""
    for dtype, bits in ((np.uint8, 8), (np.uint16, 16), (np.uint32, 32)):
        if width <= bits:
            return dtype
    return np.int64


def _bits(mask: np.ndarray) -> np.ndarray:
    """Bool array (..., n) -> integer codes (...,): bit j set when element j is true."""
    width = mask.shape[-1]
    dtype = _code_dtype(width)
    out = np.zeros(mask.shape[:-1], dtype=dtype)
    for j in range(width):
        out |= mask[..., j].astype(dtype) << dtype(j)
    return out


def _pixel_acts(layer: Layer, masks: OperandMasks, threads: int) -> np.ndarray:
    """Activation masks of a 1 x 1 layer at its output pixels, channels padded to T-chunks:
    bool[groups, chunks, T, out_h, out_w]."""
    p, (eh, ew), st = layer.pad, layer.pad_end, layer.stride
    acts = np.pad(masks.activations != 0, ((0, 0), (p, p + eh), (p, p + ew)))
    cg = layer.c_per_group
    chunks = -(-cg // threads)
    a = acts[:, : st * (layer.out_h - 1) + 1 : st, : st * (layer.out_w - 1) + 1 : st]
    a = a.reshape(layer.groups, cg, layer.out_h, layer.out_w)
    a = np.pad(a, ((0, 0), (0, chunks * threads - cg), (0, 0), (0, 0)))
    return a.reshape(layer.groups, chunks, threads, layer.out_h, layer.out_w)


def _chunked_weights(layer: Layer, masks: OperandMasks, threads: int) -> np.ndarray:
    """Weight masks of a 1 x 1 layer in T-channel chunks: bool[k, chunks, T]."""
    chunks = -(-layer.c_per_group // threads)
    w = masks.weights[:, :, 0, 0] != 0
    w = np.pad(w, ((0, 0), (0, chunks * threads - layer.c_per_group)))
    return w.reshape(layer.k, chunks, threads)


def layer_codes(layer: Layer, masks: OperandMasks, threads: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(activation codes [ch, out col, padded row], weight codes [k, q, kernel row], code width)."""
    if is_pointwise_like(layer):
        a = _pixel_acts(layer, masks, threads)  # [g, q, T, y, x]
        st = layer.stride
        a = a.reshape(-1, threads, layer.out_h, layer.out_w).transpose(0, 2, 3, 1)
        acodes = np.zeros((a.shape[0], layer.out_h * st, layer.out_w), dtype=_code_dtype(threads))
        acodes[:, ::st, :] = _bits(a)
        w = _chunked_weights(layer, masks, threads)[:, :, None, :]
        return _by_column(acodes), _bits(w), threads
    if layer.s > _MAX_CODE_BITS:
        raise ValueError(f"layer {layer.name!r}: kernel width {layer.s} exceeds {_MAX_CODE_BITS} columns")
    p, (eh, ew), st = layer.pad, layer.pad_end, layer.stride
    acts = np.pad(masks.activations != 0, ((0, 0), (p, p + eh), (p, p + ew)))
    weights = masks.weights != 0
    dtype = _code_dtype(layer.s)
    acodes = np.zeros((layer.c, acts.shape[1], layer.out_w), dtype=dtype)
    for j in range(layer.s):  # bit j: input column j of the window of every output column
        acodes |= acts[:, :, j : j + st * (layer.out_w - 1) + 1 : st].astype(dtype) << dtype(j)
    return _by_column(acodes), _bits(weights), layer.s


def neuron_codes(layer: Layer, masks: OperandMasks, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """The codes of a neuron walk, with the roles of the operands swapped for the kernel: the held
    activation chunks as "weights" [g * pixels + pixel, q, 1] and the walked weight chunks as
    "activations" [g * chunks + q, column 0, neuron of g]."""
    a = _pixel_acts(layer, masks, threads)  # [g, q, T, y, x]
    g, chunks = layer.groups, a.shape[1]
    held = _bits(a.transpose(0, 3, 4, 1, 2)).reshape(g * layer.out_h * layer.out_w, chunks, 1)
    w = _chunked_weights(layer, masks, threads).reshape(g, layer.k_per_group, chunks, threads)
    walked = _bits(w.transpose(0, 2, 1, 3)).reshape(g * chunks, 1, layer.k_per_group)
    return np.ascontiguousarray(walked), held


def _by_column(acodes: np.ndarray) -> np.ndarray:
    """[ch, row, column] -> contiguous [ch, column, row]: a strip walks down one column."""
    return np.ascontiguousarray(acodes.transpose(0, 2, 1))


@dataclass(frozen=True, slots=True)
class ItemCodes:
    """A layer's operands as the kernel takes them (whatever the strip length): the walked operand's
    codes [channel, column, row] and the held operand's codes [item row, reduction row, kernel row]."""

    walked: np.ndarray
    held: np.ndarray
    width: int
    """Bits of a held row (kernel width, or T channels)."""
    per_group: int
    """Held rows per group: filters, or pixels of a neuron walk."""
    stride: int
    out_h: int
    """Outputs a whole strip walks: output rows of a column, or neurons of a group."""
    neurons: bool


def item_codes(layer: Layer, masks: OperandMasks, core: CoreGeometry) -> ItemCodes:
    """The layer's codes for the kernel: a pixel walk (`layer_codes`) or a neuron walk (`neuron_codes`)."""
    if walks_neurons(layer, core):
        walked, held = neuron_codes(layer, masks, core.threads)
        return ItemCodes(walked, held, core.threads, layer.out_h * layer.out_w, 1, layer.k_per_group, True)
    walked, held, width = layer_codes(layer, masks, core.threads)
    return ItemCodes(walked, held, width, layer.k_per_group, layer.stride, layer.out_h, False)


def core_items(layer: Layer, masks: OperandMasks, core: CoreGeometry, strip_length: int) -> LayerItems:
    """Run the core kernel over every item of the layer (whole layer in one call); a strip holds
    `strip_length` outputs (output rows of a column, or neurons of a block)."""
    return run_items(layer, item_codes(layer, masks, core), core, strip_length)


def run_items(layer: Layer, codes: ItemCodes, core: CoreGeometry, strip_length: int) -> LayerItems:
    """The kernel over every item of the layer given its codes, strips of `strip_length` outputs."""
    length = min(strip_length, codes.out_h)
    cycles, products, stats = layer_items(
        codes.walked,
        codes.held,
        codes.per_group,
        codes.stride,
        codes.out_h,
        codes.width,
        core.threads,
        core.pes,
        UNBOUNDED if core.window is None else core.window,
        core.split,
        _DISPATCH[core.dispatch],
        AHEAD_UNBOUNDED if core.run_ahead is None else core.run_ahead,
        length,
    )
    if codes.neurons:  # [g * pixels + pixel, 0, block] -> [g * blocks + block, pixel]
        g, pixels = layer.groups, codes.per_group
        cycles, products = (
            a.reshape(g, pixels, -1).transpose(0, 2, 1).reshape(-1, pixels) for a in (cycles, products)
        )
    chunks = -(-codes.width // core.threads)
    return LayerItems(
        cycles=cycles.reshape(cycles.shape[0], -1),
        products=products.reshape(products.shape[0], -1),
        pe_busy_cycles=int(stats[STAT_PE_BUSY]),
        unmapped_pe_cycles=int(stats[STAT_UNMAPPED]),
        out_of_order=int(stats[STAT_OUT_OF_ORDER]),
        groups=int(stats[STAT_GROUPS]),
        examined_groups=int(stats[STAT_EXAMINED]),
        reduction_rows=codes.held.shape[1] * codes.held.shape[2],
        dealt_rows=int(stats[STAT_DEALT]),
        steps=int(stats[STAT_STEPS]),
        group_bits=min(codes.width, core.threads) if chunks > 1 else codes.width,
        strip_length=length,
        walk="neurons" if codes.neurons else "pixels",
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


@dataclass(frozen=True, slots=True)
class _Assignment:
    """Which input set each strip and which filter set each filter belongs to."""

    strip_set: np.ndarray
    filter_set: np.ndarray
    input_sets: int
    filter_sets: int


def _assign(items: LayerItems, input_sets: int, filter_sets: int, policy: Balance) -> _Assignment:
    k, strips = items.cycles.shape
    if policy == "lpt":
        strip_set = _lpt(items.products.sum(axis=0), input_sets)
        filter_set = _lpt(items.products.sum(axis=1), filter_sets)
    else:
        strip_set = np.arange(strips) % input_sets
        filter_set = np.arange(k) % filter_sets
    return _Assignment(strip_set, filter_set, input_sets, filter_sets)


def _blocks(items: LayerItems, a: _Assignment) -> tuple[np.ndarray, np.ndarray]:
    """(cycles, products) of every (filter, input set) block."""
    onehot = np.zeros((items.cycles.shape[1], a.input_sets), dtype=np.int64)
    onehot[np.arange(items.cycles.shape[1]), a.strip_set] = 1
    return items.cycles @ onehot, items.products @ onehot


def _makespan(items: LayerItems, a: _Assignment, policy: Balance, cores: int) -> int:
    """Compute makespan of an assignment: the busiest core's cycles (static), or the list schedule of
    the blocks on every core (dynamic): what the engine plays when transfers take no time."""
    block_cycles, _ = _blocks(items, a)
    if policy == "dynamic":
        flat = block_cycles.reshape(-1)
        return queue_makespan(np.ascontiguousarray(flat[flat > 0]), cores)
    per_set = np.zeros((a.filter_sets, a.input_sets), dtype=np.int64)
    np.add.at(per_set, a.filter_set, block_cycles)
    return int(per_set.max(initial=0))


def fixed_sets(strips: int, rows: int, cols: int) -> tuple[int, int]:
    """The mesh's own split: one input set per mesh row, fewer when strips are scarce (FC, small late
    layers), whose filters then spread over the spare cores (the input is broadcast further)."""
    input_sets = min(rows, strips)
    return input_sets, (rows * cols) // input_sets


def candidate_sets(strips: int, cores: int, first: tuple[int, int]) -> list[tuple[int, int]]:
    """Every split of `cores` into input sets x filter sets that uses the most cores for its number of
    filter sets, `first` first (it wins ties)."""
    out = [first]
    for i in range(1, min(cores, strips) + 1):
        f = cores // i
        pair = (min(strips, cores // f), f)
        if pair not in out:
            out.append(pair)
    return out


def plan_mesh(
    items: LayerItems, sets: tuple[int, int], policy: Balance, cores: int, split: Split = "fixed"
) -> MeshPlan:
    """Assign filters to `sets` = (input sets, filter sets) of the `cores`; one work item per (filter,
    input set), pinned to its core, or on the shared queue (`dynamic`)."""
    input_sets, filter_sets = sets
    a = _assign(items, input_sets, filter_sets, policy)
    block_cycles, block_products = _blocks(items, a)
    work: list[WorkItem] = []
    if policy == "dynamic":
        for f in range(block_cycles.shape[0]):
            for s in range(input_sets):
                if block_cycles[f, s] > 0:
                    work.append(WorkItem(SHARED_QUEUE, int(block_cycles[f, s])))
    else:
        for f in np.argsort(-block_products.sum(axis=1), kind="stable"):  # LPT order on each core
            for s in range(input_sets):
                if block_cycles[f, s] > 0:
                    work.append(WorkItem(s * filter_sets + int(a.filter_set[f]), int(block_cycles[f, s])))
    return MeshPlan(work, input_sets, filter_sets, policy, split, _makespan(items, a, policy, cores))


@dataclass(frozen=True, slots=True)
class PhantomHardware:
    """The mesh of Phantom cores a layer maps onto, and its level-2 balancing policy and split."""

    core: CoreGeometry
    rows: int
    cols: int
    balance: Balance
    split: Split = "search"

    @property
    def cores(self) -> int:
        """R x C."""
        return self.rows * self.cols


def fixed_strip_length(layer: Layer, hardware: PhantomHardware) -> int:
    """Strip length of the fixed split: the configured rows of an output column (whole by default), or
    for a neuron walk the neurons that give every filter set of the fixed split one block per pixel."""
    if walks_neurons(layer, hardware.core):
        _, filter_sets = fixed_sets(layer.out_h * layer.out_w, hardware.rows, hardware.cols)
        return min(layer.k_per_group, -(-layer.k // filter_sets))
    return hardware.core.strip_rows or layer.out_h


def search_mesh(layer: Layer, masks: OperandMasks, hardware: PhantomHardware) -> tuple[LayerItems, MeshPlan]:
    """The split of the cores into input x filter sets, and the strip length, with the smallest compute
    makespan: every split for the fixed strip length, then for halved strips while the best is more
    than SEARCH_GAP above the perfect balance (at most SEARCH_HALVINGS times). Exact: each candidate's
    makespan is what the engine plays when transfers take no time."""
    cores, policy = hardware.cores, hardware.balance
    length = fixed_strip_length(layer, hardware)
    codes = item_codes(layer, masks, hardware.core)
    best_span, best_items, best_sets = -1, None, (0, 0)
    for _ in range(SEARCH_HALVINGS + 1):
        items = run_items(layer, codes, hardware.core, length)
        strips = items.cycles.shape[1]
        for sets in candidate_sets(strips, cores, fixed_sets(strips, hardware.rows, hardware.cols)):
            span = _makespan(items, _assign(items, *sets, policy), policy, cores)
            if best_items is None or span < best_span:
                best_span, best_items, best_sets = span, items, sets
        ideal = -(-int(items.cycles.sum()) // cores)
        if best_span <= ideal * (1 + SEARCH_GAP) or length == 1:
            break
        length = -(-length // 2)
    items = best_items if best_items is not None else items
    return items, plan_mesh(items, best_sets, policy, cores, "search")


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
        ahead = "inf" if c.run_ahead is None else str(c.run_ahead)
        pe_cycles = max(1, items.pe_busy_cycles)
        thread_util = items.groups and int(items.products.sum()) / (pe_cycles * c.threads)
        return (
            f"{items.cycles.shape[0]} {'neuron blocks' if items.walk == 'neurons' else 'filters'} x "
            f"{items.cycles.shape[1]} input strips of {items.strip_length} outputs on "
            f"{mesh.input_sets}x{mesh.filter_sets} core sets ({mesh.policy}, {mesh.split} split); "
            f"{items.reduction_rows} reduction rows over P={c.pes} T={c.threads} W={window} "
            f"({c.dispatch} dispatch, run-ahead {ahead}); "
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
        if hardware.split == "search":
            items, mesh = search_mesh(layer, masks, hardware)
        else:
            items = core_items(layer, masks, hardware.core, fixed_strip_length(layer, hardware))
            sets = fixed_sets(items.cycles.shape[1], hardware.rows, hardware.cols)
            mesh = plan_mesh(items, sets, hardware.balance, hardware.cores)
        return PhantomMapping(items, mesh, hardware.core)
