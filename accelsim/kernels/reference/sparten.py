"""Cycle-by-cycle model of SparTen's clusters, to hold the fast kernel honest.

Tensors are stored as SparseMaps: per chunk of `chunk_bits` positions, a bitmask and the packed
non-zero values. A compute unit (CU) holds one filter; its cluster broadcasts the chunks of one input
window, one after another. Each cycle a CU's inner join ANDs the two SparseMaps (minus the positions
already consumed), a priority encoder picks the lowest matching position, a prefix popcount of each
SparseMap below it gives the offset of each operand in its packed values, and the CU multiplies them
into its accumulator. A CU is done with a chunk when no match is left and it has spent at least
`min_chunk_cycles` cycles on it; the next chunk is broadcast when every CU of the cluster is done.
The output collector drops zero outputs and packs the rest into SparseMap chunks.

This is written for clarity: it performs the real multiplications on real values, so that its
results can be checked against a plain convolution as well as its cycle counts against the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MODES = ("two_sided", "one_sided", "dense")


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
    """A CU working on one chunk: positions still to multiply, cycles spent, its accumulator."""

    todo: list[int] = field(default_factory=list)
    spent: int = 0
    acc: int = 0
    busy: int = 0
    macs: int = 0


def join_positions(f: SparseChunk, a: SparseChunk, mode: str) -> list[int]:
    """The positions a CU multiplies in one chunk: matches (two-sided), non-zero inputs, or all."""
    if mode == "two_sided":
        return [i for i, (x, y) in enumerate(zip(f.bits, a.bits, strict=True)) if x and y]
    if mode == "one_sided":
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
    outputs: list[list[int]]
    """outputs[window][cu]: the dot product each CU produced for each window (0 for an empty CU)."""


def run_cluster(
    filters: list[list[SparseChunk] | None],
    windows: list[list[SparseChunk]],
    mode: str = "two_sided",
    min_chunk_cycles: int = 1,
) -> ClusterRun:
    """Step one cluster cycle by cycle.

    filters[u]: the chunks of the filter CU u holds (None: the CU holds none), one per chunk of a window.
    windows: the input windows broadcast in order, each a list of chunks aligned with the filters'.
    """
    if min_chunk_cycles < 1:
        raise ValueError(f"min_chunk_cycles must be >= 1, got {min_chunk_cycles}")
    cus = [CuState() for _ in filters]
    cycles = 0
    outputs: list[list[int]] = []
    for window in windows:
        for cu in cus:
            cu.acc = 0
        for t, a in enumerate(window):
            for u, cu in enumerate(cus):  # broadcast chunk t: every CU with a filter starts a join
                f = filters[u]
                cu.todo = join_positions(f[t], a, mode) if f is not None else []
                cu.spent = 0 if f is not None else min_chunk_cycles
            while any(cu.todo or cu.spent < min_chunk_cycles for cu in cus):  # barrier: wait for all
                cycles += 1
                for u, cu in enumerate(cus):
                    if not (cu.todo or cu.spent < min_chunk_cycles):
                        continue  # done with this chunk: idle until the next broadcast
                    cu.spent += 1
                    cu.busy += 1
                    if cu.todo:
                        f_chunk = filters[u][t]  # type: ignore[index]
                        position = cu.todo.pop(0)  # priority encoder: the lowest remaining match
                        cu.acc += _value(f_chunk, position, mode == "two_sided") * _value(
                            a, position, mode != "dense"
                        )
                        cu.macs += 1
        outputs.append([cu.acc if filters[u] is not None else 0 for u, cu in enumerate(cus)])
    return ClusterRun(cycles, [cu.busy for cu in cus], sum(cu.macs for cu in cus), outputs)


def collect_outputs(values: list[int], chunk_bits: int) -> list[SparseChunk]:
    """Output collector: consecutive output channels of one pixel, ReLU'd, zeros dropped, in SparseMaps."""
    relu = [max(0, v) for v in values]
    return [SparseChunk.from_dense(relu[i : i + chunk_bits]) for i in range(0, len(relu), chunk_bits)]


def pixel_chunks(vector: np.ndarray, chunk_bits: int) -> list[SparseChunk]:
    """A pixel's (or a filter tap's) channel vector cut into SparseMap chunks."""
    return [SparseChunk.from_dense(vector[i : i + chunk_bits]) for i in range(0, len(vector), chunk_bits)]


@dataclass(frozen=True)
class LayerRun:
    """cycles and macs (passes, clusters), busy (passes, clusters, cus), outputs (k, oh, ow)."""

    cycles: np.ndarray
    busy: np.ndarray
    macs: np.ndarray
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
            total_cycles = 0
            for p, window in zip(positions, windows, strict=True):
                # one chunk at a time, with the filters the CUs hold for that chunk of the pass
                for t, chunk in enumerate(window):
                    held = [int(assign[f, t, u]) for u in range(cus)]
                    filters = [None if kk < 0 else [_flat(tap_chunks[kk])[t]] for kk in held]
                    run = run_cluster(filters, [[chunk]], mode, min_chunk_cycles)
                    total_cycles += run.cycles
                    busy[f, j] += np.array(run.busy, dtype=np.int64)
                    macs[f, j] += run.macs
                    for u, kk in enumerate(held):
                        if kk >= 0:
                            outputs[kk, p // ow, p % ow] += run.outputs[0][u]
            cycles[f, j] = total_cycles
    return LayerRun(cycles, busy, macs, outputs)


def _flat(taps: list[list[SparseChunk]]) -> list[SparseChunk]:
    return [ch for tap in taps for ch in tap]
