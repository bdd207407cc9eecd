"""SparTen's mapping: filters on compute units, output positions on clusters, greedy balancing.

Each CU of a cluster holds one filter for a pass; a layer with more filters than CUs per cluster runs
in passes of `cus_per_cluster` filters (within one convolution group, since the cluster broadcasts one
input window to all its CUs). Every cluster runs every pass over its own contiguous block of output
positions. Greedy balancing (GB) only changes which filters share a pass:

- none: filters in their natural order;
- GB-S (software): filters sorted by whole-filter density, consecutive ones share a pass, so that a
  pass's CUs have similar work; the output channels come out permuted and the next layer's weights
  are unshuffled offline (`unshuffle_input_channels`);
- GB-H (hybrid): the same sort done per chunk position with the chunk's own density, so a filter may
  sit in different passes / CUs for different chunks; hardware gathers its partial sums and restores
  the output order (the output permutation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.dataflows.registry import Dataflow, register_dataflow
from accelsim.kernels.sparten import EMPTY, chunk_layout, pack_chunks
from accelsim.workload.layer import Layer
from accelsim.workload.masks import OperandMasks, weight_shape

BALANCING = ("none", "gb_s", "gb_h")


@dataclass(frozen=True, slots=True)
class SpartenHardware:
    """The clusters a layer maps onto: geometry, SparseMap chunk size and the greedy balancing scheme."""

    clusters: int
    cus: int
    """Compute units per cluster (one filter each per pass)."""
    chunk_bits: int
    balancing: str


@dataclass(frozen=True)
class SpartenMapping:
    """Where every filter chunk and output position of one layer runs."""

    assign: np.ndarray
    """int32 (passes, r * s * chunks, cus): the filter a CU holds for each chunk of a pass (-1: none)."""
    pass_group: np.ndarray
    """int64 (passes,): the convolution group of each pass."""
    pos_start: np.ndarray
    """int64 (clusters + 1,): cluster j computes output positions [pos_start[j], pos_start[j + 1])."""
    widths: np.ndarray
    """int64 (chunks,): channels in each chunk of one pixel."""
    balancing: str

    @property
    def passes(self) -> int:
        """Filter passes of the layer."""
        return int(self.assign.shape[0])

    @property
    def chunks_per_window(self) -> int:
        """Chunks broadcast per output position: r * s * ceil(c_per_group / chunk_bits)."""
        return int(self.assign.shape[1])

    @property
    def occupied_slots(self) -> int:
        """(CU, chunk) slots that hold a filter chunk over all passes of one output position."""
        return int(np.count_nonzero(self.assign >= 0))

    @property
    def held(self) -> np.ndarray:
        """bool (passes, cus): whether a CU holds a filter (for some chunk) in a pass."""
        return np.asarray((self.assign >= 0).any(axis=1), dtype=bool)

    def describe(self) -> str:
        """One line: passes, chunks per window, cluster blocks and balancing."""
        blocks = np.diff(self.pos_start)
        return (
            f"{self.passes} filter passes x {len(blocks)} clusters "
            f"({blocks.min()}-{blocks.max()} positions each); "
            f"{self.chunks_per_window} chunks per window; balancing {self.balancing}"
        )


def density_order(nonzeros: np.ndarray) -> np.ndarray:
    """Greedy balancing's sort: indices by non-zero count, densest first (ties keep their order)."""
    return np.argsort(-np.asarray(nonzeros, dtype=np.int64), kind="stable")


def unshuffle_input_channels(next_weights: np.ndarray, order: np.ndarray) -> np.ndarray:
    """GB's offline fix-up: the next layer's weights (k, c, r, s) reordered to read channels in `order`.

    If a layer writes its output channel order[i] at position i, the next layer must read its input
    channel i with the weights of channel order[i]; the products, and so the outputs, are unchanged.
    """
    return next_weights[:, np.asarray(order), :, :]


def filter_passes(
    weights: np.ndarray, groups: int, cus: int, chunk_bits: int, balancing: str
) -> tuple[np.ndarray, np.ndarray]:
    """(assign, pass_group) for weights (k, c/groups, r, s) under a balancing scheme."""
    if balancing not in BALANCING:
        raise ValueError(f"unknown balancing {balancing!r}; allowed: {', '.join(BALANCING)}")
    k, cg, r, s = weights.shape
    kg = k // groups
    chunks, _, _ = chunk_layout(cg, chunk_bits)
    taps = r * s * chunks
    per_group = -(-kg // cus)
    assign = np.full((groups * per_group, taps, cus), EMPTY, dtype=np.int32)
    pass_group = np.repeat(np.arange(groups, dtype=np.int64), per_group)
    slots = per_group * cus
    for g in range(groups):
        ids = np.arange(g * kg, (g + 1) * kg)
        if balancing == "gb_h":
            nnz = _chunk_nonzeros(weights[ids], chunk_bits)  # (kg, taps)
            order = np.argsort(-nnz, axis=0, kind="stable")  # per chunk: densest first
            placed = ids[order]  # (kg, taps)
        else:
            if balancing == "gb_s":
                ids = ids[density_order(np.count_nonzero(weights[ids], axis=(1, 2, 3)))]
            placed = np.repeat(ids[:, None], taps, axis=1)
        full = np.full((slots, taps), EMPTY, dtype=np.int32)
        full[:kg] = placed
        assign[g * per_group : (g + 1) * per_group] = full.reshape(per_group, cus, taps).transpose(0, 2, 1)
    return assign, pass_group


def _chunk_nonzeros(weights: np.ndarray, chunk_bits: int) -> np.ndarray:
    """Non-zeros of every filter chunk: (k, r * s * chunks), chunks in (r, s, channel block) order."""
    k, cg, r, s = weights.shape
    chunks, _, _ = chunk_layout(cg, chunk_bits)
    padded = np.zeros((k, r, s, chunks * chunk_bits), dtype=np.int64)
    padded[..., :cg] = weights.transpose(0, 2, 3, 1) != 0
    return padded.reshape(k, r, s, chunks, chunk_bits).sum(axis=-1).reshape(k, r * s * chunks)


def position_blocks(positions: int, clusters: int) -> np.ndarray:
    """Contiguous, near-equal blocks of output positions, one per cluster (row-major order)."""
    return np.array([positions * j // clusters for j in range(clusters + 1)], dtype=np.int64)


@register_dataflow("sparten", "filter_per_cu")
class FilterPerCu(Dataflow[SpartenHardware, SpartenMapping]):
    """SparTen's only dataflow: one filter per CU, input windows broadcast per cluster."""

    family = "sparten"
    name = "filter_per_cu"

    def map(
        self, layer: Layer, hardware: SpartenHardware, masks: OperandMasks | None = None
    ) -> SpartenMapping:
        """The mapping of `layer` on the clusters; greedy balancing sorts by the weight mask of `masks`
        (without masks, only `balancing: none` can place the filters)."""
        h = hardware
        if masks is not None:
            weights = masks.weights
        elif h.balancing == "none":  # filters in their natural order: only the shape matters
            weights = np.ones(weight_shape(layer), dtype=bool)
        else:
            raise ValueError(f"balancing {h.balancing!r} sorts filters by their weight masks; none given")
        assign, pass_group = filter_passes(weights, layer.groups, h.cus, h.chunk_bits, h.balancing)
        _, _, widths = chunk_layout(layer.c_per_group, h.chunk_bits)
        pos_start = position_blocks(layer.out_h * layer.out_w, h.clusters)
        return SpartenMapping(assign, pass_group, pos_start, widths, h.balancing)


def packed_operands(
    layer: Layer, acts: np.ndarray, weights: np.ndarray, chunk_bits: int
) -> tuple[np.ndarray, np.ndarray]:
    """SparseMaps of a layer's operands as the kernel reads them.

    acts (c, h, w) -> uint64 (groups, padded h, padded w, chunks, words); weights (k, c/groups, r, s)
    -> uint64 (k, r, s, chunks, words). Zero padding is part of the input map (all-zero bits).
    """
    p, (eh, ew) = layer.pad, layer.pad_end
    padded = np.pad(acts != 0, ((0, 0), (p, p + eh), (p, p + ew)))
    cg = layer.c_per_group
    per_group = padded.reshape(layer.groups, cg, padded.shape[1], padded.shape[2]).transpose(0, 2, 3, 1)
    a_words = pack_chunks(per_group, chunk_bits)
    w_words = pack_chunks((weights != 0).transpose(0, 2, 3, 1), chunk_bits)
    return a_words, w_words
