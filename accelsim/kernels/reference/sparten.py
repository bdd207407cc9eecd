"""Cycle-by-cycle model of SparTen's clusters, to hold the fast kernel honest.

Tensors are stored as SparseMaps: per chunk of `chunk_bits` positions, a bitmask and the packed
non-zero values. A compute unit (CU) holds one filter; its cluster broadcasts the chunks of one input
window, one after another. Each cycle a CU's inner join ANDs the two SparseMaps (minus the positions
already consumed), a priority encoder picks the lowest matching position, a prefix popcount of each
SparseMap below it gives the offset of each operand in its packed values, and the CU multiplies them
into its accumulator. A CU is done with a chunk when no match is left and it has spent at least
`min_chunk_cycles` cycles on it. The cluster broadcasts in steps, a whole window or a single chunk
(`barrier`); each CU buffers up to `input_buffer_depth` received steps (the one it is working on
included) and joins their chunks in order; the next step is broadcast when every CU of the cluster has
a free slot, so with one slot the broadcast waits for every CU to be done with the current step (a
barrier per window, or per chunk). The output collector drops zero outputs and packs the rest into
SparseMap chunks. A product is effectual when the two values multiplied are both non-zero (the
baselines also multiply zeros).

This is written for clarity: it performs the real multiplications on real values, so that its
results can be checked against a plain convolution as well as its cycle counts against the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MODES = ("two_sided", "one_sided_weights", "one_sided_activations", "dense")
BARRIERS = ("window", "chunk")
WEIGHTS_PACKED = ("two_sided", "one_sided_weights")
"""Modes that store the filters as SparseMaps and skip zero weights."""
ACTIVATIONS_PACKED = ("two_sided", "one_sided_activations")
"""Modes that store the input map as SparseMaps and skip zero activations."""


@dataclass(frozen=True)
class SparseChunk:
    """One chunk of a sparse tensor: SparseMap bits (position order) and the non-zero values, packed."""

    bits: tuple[int, ...]
    values: tuple[int, ...]

    @classmethod
    def from_dense(cls, dense: list[int] | np.ndarray) -> SparseChunk:
        """The chunk of a dense run of values: a 1 bit for each non-zero, the non-zeros in order."""
        items = [int(v) for v in dense]
        return cls(tuple(int(v != 0) for v in items), tuple(v for v in items if v != 0))


@dataclass
class CuState:
    """A CU: the received steps it has not finished (step indices), its place in the first one (`chunk`)
    and its join of that chunk."""

    queue: list[int] = field(default_factory=list)
    chunk: int = 0
    started: bool = False
    todo: list[int] = field(default_factory=list)
    spent: int = 0
    need: int = 0
    """Cycles the current chunk takes at least (min_chunk_cycles, 0 without a filter chunk)."""
    busy: int = 0
    macs: int = 0
    effectual: int = 0
    """Products whose two operand values were both non-zero."""


def join_positions(f: SparseChunk, a: SparseChunk, mode: str) -> list[int]:
    """The positions a CU multiplies in one chunk: matches (two-sided), non-zero weights or inputs
    (one-sided), or all."""
    if mode == "two_sided":
        return [i for i, (x, y) in enumerate(zip(f.bits, a.bits, strict=True)) if x and y]
    if mode == "one_sided_weights":
        return [i for i, x in enumerate(f.bits) if x]
    if mode == "one_sided_activations":
        return [i for i, y in enumerate(a.bits) if y]
    if mode == "dense":
        return list(range(len(a.bits)))
    raise ValueError(f"unknown mode {mode!r}; allowed: {', '.join(MODES)}")


def operand_offset(chunk: SparseChunk, position: int) -> int:
    """Prefix popcount: where the value at `position` sits among the chunk's packed non-zeros."""
    return sum(chunk.bits[:position])


def _value(chunk: SparseChunk, position: int, packed: bool) -> int:
    if packed:  # a SparseMap operand: look the value up through the prefix popcount
        return chunk.values[operand_offset(chunk, position)] if chunk.bits[position] else 0
    return _expand(chunk)[position]  # a dense operand: stored at its own position


def _expand(chunk: SparseChunk) -> list[int]:
    it = iter(chunk.values)
    return [next(it) if b else 0 for b in chunk.bits]


@dataclass(frozen=True)
class ClusterRun:
    """What the reference observed for one cluster over a run of input windows."""

    cycles: int
    busy: list[int]
    macs: int
    effectual: int
    """Products with both operand values non-zero (the rest multiplied a zero)."""
    outputs: list[list[int]]
    """outputs[window][cu]: the dot product each CU produced for each window (0 for an empty CU)."""
    partials: list[list[list[int]]]
    """partials[window][chunk][cu]: each CU's sum of products over one chunk of one window."""


FilterChunks = list[SparseChunk | None] | None
"""The chunks of the filter(s) a CU holds, one per chunk of a window (None: no filter for that chunk);
None for a CU that holds nothing in the pass."""


def run_cluster(
    filters: list[FilterChunks],
    windows: list[list[SparseChunk]],
    mode: str = "two_sided",
    min_chunk_cycles: int = 1,
    input_buffer_depth: int = 1,
    barrier: str = "chunk",
) -> ClusterRun:
    """Step one cluster cycle by cycle.

    filters[u]: the chunks CU u holds, one per chunk of a window (see `FilterChunks`).
    windows: the input windows broadcast in order, each a list of chunks aligned with the filters'.
    The chunks of all windows form one stream, cut into steps (a window each, or a chunk each); at every
    cycle boundary each CU first retires the chunks it has finished, then the cluster broadcasts steps
    while every CU has a free slot.
    """
    if min_chunk_cycles < 0:
        raise ValueError(f"min_chunk_cycles must be >= 0, got {min_chunk_cycles}")
    if input_buffer_depth < 1:
        raise ValueError(f"input_buffer_depth must be >= 1, got {input_buffer_depth}")
    if barrier not in BARRIERS:
        raise ValueError(f"unknown barrier {barrier!r}; allowed: {', '.join(BARRIERS)}")
    chunks = [(w, t) for w, window in enumerate(windows) for t in range(len(window))]
    if barrier == "window":
        steps = [[(w, t) for t in range(len(window))] for w, window in enumerate(windows) if window]
    else:
        steps = [[chunk] for chunk in chunks]
    partials = [[[0] * len(filters) for _ in window] for window in windows]
    cus = [CuState() for _ in filters]

    def held(u: int, t: int) -> SparseChunk | None:
        f = filters[u]
        return None if f is None else f[t]

    def retire(u: int, cu: CuState) -> bool:
        """Start the current chunk if needed; move past it if finished. True if one was finished."""
        if not cu.queue:
            return False
        w, t = steps[cu.queue[0]][cu.chunk]
        if not cu.started:
            f = held(u, t)
            cu.todo = join_positions(f, windows[w][t], mode) if f is not None else []
            cu.spent, cu.need, cu.started = 0, min_chunk_cycles if f is not None else 0, True
        if cu.todo or cu.spent < cu.need:
            return False
        cu.started = False
        cu.chunk += 1
        if cu.chunk == len(steps[cu.queue[0]]):  # the step is done: its buffer slot frees
            cu.queue.pop(0)
            cu.chunk = 0
        return True

    cycles = sent = 0
    while True:
        changed = True
        while changed:  # cycle boundary: retire finished chunks, broadcast while every CU has room
            retired = [retire(u, cu) for u, cu in enumerate(cus)]  # every CU, no short cut
            changed = any(retired)
            if sent < len(steps) and all(len(cu.queue) < input_buffer_depth for cu in cus):
                for cu in cus:
                    cu.queue.append(sent)
                sent += 1
                changed = True
        if sent == len(steps) and not any(cu.queue for cu in cus):
            break
        cycles += 1
        for u, cu in enumerate(cus):
            if not cu.queue:
                continue  # nothing received: waits for the next broadcast
            w, t = steps[cu.queue[0]][cu.chunk]
            cu.spent += 1
            cu.busy += 1
            if cu.todo:
                f_chunk = held(u, t)
                assert f_chunk is not None
                a = windows[w][t]
                position = cu.todo.pop(0)  # priority encoder: the lowest remaining match
                weight = _value(f_chunk, position, mode in WEIGHTS_PACKED)
                value = _value(a, position, mode in ACTIVATIONS_PACKED)
                partials[w][t][u] += weight * value
                cu.macs += 1
                cu.effectual += int(weight != 0 and value != 0)
    outputs = [[sum(chunk[u] for chunk in window) for u in range(len(cus))] for window in partials]
    return ClusterRun(
        cycles,
        [cu.busy for cu in cus],
        sum(cu.macs for cu in cus),
        sum(cu.effectual for cu in cus),
        outputs,
        partials,
    )


def collect_outputs(values: list[int], chunk_bits: int) -> list[SparseChunk]:
    """Output collector: consecutive output channels of one pixel, ReLU'd, zeros dropped, in SparseMaps."""
    relu = [max(0, v) for v in values]
    return [SparseChunk.from_dense(relu[i : i + chunk_bits]) for i in range(0, len(relu), chunk_bits)]


def pixel_chunks(vector: np.ndarray, chunk_bits: int) -> list[SparseChunk]:
    """A pixel's (or a filter tap's) channel vector cut into SparseMap chunks."""
    return [SparseChunk.from_dense(vector[i : i + chunk_bits]) for i in range(0, len(vector), chunk_bits)]


@dataclass(frozen=True)
class LayerRun:
    """cycles, macs and effectual (passes, clusters), busy (passes, clusters, cus), outputs (k, oh, ow)."""

    cycles: np.ndarray
    busy: np.ndarray
    macs: np.ndarray
    effectual: np.ndarray
    outputs: np.ndarray


def run_layer(
    acts: np.ndarray,
    weights: np.ndarray,
    stride: int,
    pad: int,
    groups: int,
    chunk_bits: int,
    assign: np.ndarray,
    pass_group: np.ndarray,
    pos_start: np.ndarray,
    mode: str,
    min_chunk_cycles: int,
    input_buffer_depth: int = 1,
    barrier: str = "chunk",
) -> LayerRun:
    """A whole layer on the clusters: acts (c, h, w) and weights (k, c/groups, r, s) integer values.

    The pass / filter / position placement (assign, pass_group, pos_start) is the one the kernel gets.
    A pass whose filter placement changes from chunk to chunk (GB-H) has its partial sums gathered per
    filter, which is what the output permutation does in hardware.
    """
    k, cg, r, s = weights.shape
    _, h, w = acts.shape
    oh, ow = (h + 2 * pad - r) // stride + 1, (w + 2 * pad - s) // stride + 1
    padded = np.pad(acts, ((0, 0), (pad, pad), (pad, pad)))
    passes, _, cus = assign.shape
    clusters = len(pos_start) - 1
    cycles = np.zeros((passes, clusters), dtype=np.int64)
    busy = np.zeros((passes, clusters, cus), dtype=np.int64)
    macs = np.zeros((passes, clusters), dtype=np.int64)
    effectual = np.zeros((passes, clusters), dtype=np.int64)
    outputs = np.zeros((k, oh, ow), dtype=np.int64)
    tap_chunks = [
        [pixel_chunks(weights[kk, :, i, j], chunk_bits) for i in range(r) for j in range(s)]
        for kk in range(k)
    ]
    for f in range(passes):
        g = int(pass_group[f])
        for j in range(clusters):
            positions = range(int(pos_start[j]), int(pos_start[j + 1]))
            windows = []
            for p in positions:
                y0, x0 = (p // ow) * stride, (p % ow) * stride
                windows.append(
                    [ch for i in range(r) for jj in range(s)
                     for ch in pixel_chunks(padded[g * cg : (g + 1) * cg, y0 + i, x0 + jj], chunk_bits)]
                )  # fmt: skip
            held = [[int(assign[f, t, u]) for t in range(assign.shape[1])] for u in range(cus)]
            filters: list[FilterChunks] = [
                None
                if all(kk < 0 for kk in row)
                else [None if kk < 0 else _flat(tap_chunks[kk])[t] for t, kk in enumerate(row)]
                for row in held
            ]
            run = run_cluster(filters, windows, mode, min_chunk_cycles, input_buffer_depth, barrier)
            cycles[f, j] = run.cycles
            busy[f, j] = np.array(run.busy, dtype=np.int64)
            macs[f, j] = run.macs
            effectual[f, j] = run.effectual
            for p, window in zip(positions, run.partials, strict=True):
                for t, chunk in enumerate(window):  # the output permutation gathers partial sums
                    for u, kk in enumerate(row[t] for row in held):
                        if kk >= 0:
                            outputs[kk, p // ow, p % ow] += chunk[u]
    return LayerRun(cycles, busy, macs, effectual, outputs)


def _flat(taps: list[list[SparseChunk]]) -> list[SparseChunk]:
    return [ch for tap in taps for ch in tap]
