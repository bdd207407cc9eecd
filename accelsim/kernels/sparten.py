"""Exact cycle and MAC counts of SparTen's clusters for a whole layer, from bit-packed SparseMaps.

A cluster of U compute units (CUs) holds one filter per CU and receives the chunks of its input
windows by broadcast. Every CU joins its filter chunk with the broadcast input chunk and performs one
multiply per cycle. The CUs are asynchronous and synchronise with the broadcast at *steps*: a whole
input window (`window_barrier`: a CU joins the window's chunks at its own pace and the cluster moves to
the next window together) or a single chunk. Each CU buffers `depth` steps, the one it works on
included: step n is broadcast once every CU of the cluster is done with step n - depth, so a CU runs
up to depth - 1 steps ahead of the slowest (depth 1 with chunk steps is a barrier per chunk). A chunk
costs a CU `max(work, min_chunk_cycles)` cycles, where work is, by mode:

- TWO_SIDED (SparTen): popcount(filter SparseMap AND input SparseMap), the inner join's matches;
- ONE_SIDED_WEIGHTS (zero weights skipped, activations dense): popcount(filter SparseMap);
- ONE_SIDED_ACTIVATIONS (zero activations skipped, weights dense): popcount(input SparseMap), the same
  for every CU;
- DENSE: the chunk width, every position multiplied.

Chunks follow the stored SparseMap layout: the channels of one input pixel (and of one filter tap)
cut into chunks of `chunk_bits`; a window of an r x s filter is r * s * ceil(c / chunk_bits) chunks.
Besides the cycles, the kernel counts the products each mode issues and, of those, the effectual ones
(both operands non-zero: popcount(filter AND input) in every mode), which divide a CU's busy cycles
into effectual products, ineffectual ones and the cycles a chunk costs beyond its products. The golden
reference `accelsim.kernels.reference.sparten` steps the same clusters cycle by cycle.
"""

from __future__ import annotations

import numpy as np
from numba import njit

TWO_SIDED, ONE_SIDED_ACTIVATIONS, DENSE, ONE_SIDED_WEIGHTS = 0, 1, 2, 3
"""Mode codes understood by the kernel."""

EMPTY = -1
"""Filter slot of a CU that holds no filter in a pass."""


def chunk_layout(channels: int, chunk_bits: int) -> tuple[int, int, np.ndarray]:
    """(chunks per pixel, 64-bit words per chunk, channels in each chunk) for `channels` channels."""
    if channels < 1 or chunk_bits < 1:
        raise ValueError(f"channels and chunk_bits must be >= 1, got {channels} and {chunk_bits}")
    chunks = -(-channels // chunk_bits)
    width = min(chunk_bits, channels)
    widths = np.full(chunks, chunk_bits, dtype=np.int64)
    widths[-1] = channels - (chunks - 1) * chunk_bits
    return chunks, -(-width // 64), widths


def pack_chunks(bits: np.ndarray, chunk_bits: int) -> np.ndarray:
    """Bool array (..., channels) -> uint64 (..., chunks, words): each chunk's SparseMap, little-endian."""
    channels = bits.shape[-1]
    chunks, words, _ = chunk_layout(channels, chunk_bits)
    span = min(chunk_bits, channels)
    padded = np.zeros((*bits.shape[:-1], chunks * span), dtype=bool)
    padded[..., :channels] = bits
    grouped = padded.reshape(*bits.shape[:-1], chunks, span)
    if words * 64 != span:
        extra = np.zeros((*grouped.shape[:-1], words * 64 - span), dtype=bool)
        grouped = np.concatenate([grouped, extra], axis=-1)
    packed = np.packbits(np.ascontiguousarray(grouped), axis=-1, bitorder="little")
    return np.ascontiguousarray(packed).view(np.uint64)


@njit(cache=True, inline="always")
def _popcount(x: np.uint64) -> int:
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(cache=True)
def layer_counts(
    a_words: np.ndarray,
    w_words: np.ndarray,
    assign: np.ndarray,
    pass_group: np.ndarray,
    pos_start: np.ndarray,
    out_w: int,
    stride: int,
    widths: np.ndarray,
    mode: int,
    min_chunk_cycles: int,
    depth: int = 1,
    window_barrier: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cycles, per-CU busy cycles and MACs (issued, effectual) of every (filter pass, cluster) of a layer.

    a_words: uint64 (groups, padded h, padded w, chunks, words), input SparseMaps per pixel.
    w_words: uint64 (k, r, s, chunks, words), filter SparseMaps per tap.
    assign: int (passes, r * s * chunks, cus): filter held by each CU for each chunk of a pass (-1: none).
    pass_group: int (passes,): the convolution group of each pass (selects the input channels).
    pos_start: int (clusters + 1,): cluster j computes output positions [pos_start[j], pos_start[j+1]).
    widths: int (chunks,): channels per chunk (the dense work of a chunk).
    depth, window_barrier: the steps a CU buffers, and whether a step is a window (else a chunk). A pass
    streams its windows' chunks to the cluster in steps k = 0, 1, ...: step k is broadcast at
    S_k = max(S_{k-1}, max_u F_u(k - depth)); CU u joins each chunk of it from max(S_k, its previous
    chunk's end) for the chunk's cost (a CU without a filter chunk takes no time); F_u(k) is the end of
    its last chunk of step k, and the pass lasts max_u F_u(last). The one-sided-activation and dense
    modes give every CU the same work, so the steps change nothing there.
    a_words and w_words are the operands' real SparseMaps in every mode (the modes that do not skip an
    operand's zeros read its map only to count their effectual products).
    Returns cycles (passes, clusters), per-CU busy cycles (passes, clusters, cus), MACs issued (passes,
    clusters) and, of those, the effectual ones (passes, clusters).
    """
    passes, taps_chunks, cus = assign.shape
    chunks, words = a_words.shape[3], a_words.shape[4]
    s_size = w_words.shape[2]
    clusters = pos_start.shape[0] - 1
    step = taps_chunks if window_barrier else 1
    per_cu = mode in (TWO_SIDED, ONE_SIDED_WEIGHTS)
    cycles = np.zeros((passes, clusters), dtype=np.int64)
    busy = np.zeros((passes, clusters, cus), dtype=np.int64)
    macs = np.zeros((passes, clusters), dtype=np.int64)
    effectual = np.zeros((passes, clusters), dtype=np.int64)
    finish = np.zeros((depth, cus), dtype=np.int64)  # finish[k % depth, u] = F_u(k - depth) before step k
    last = np.zeros(cus, dtype=np.int64)  # end of CU u's latest chunk
    for f in range(passes):
        g = pass_group[f]
        for j in range(clusters):
            total = 0
            issued = 0
            useful = 0
            finish[:] = 0
            last[:] = 0
            sent = 0  # S_k: when the current step is broadcast
            n = 0  # chunks streamed so far in this pass
            for p in range(pos_start[j], pos_start[j + 1]):
                y0 = (p // out_w) * stride
                x0 = (p % out_w) * stride
                for t in range(taps_chunks):
                    r = t // (s_size * chunks)
                    s = (t // chunks) % s_size
                    cb = t % chunks
                    if per_cu:
                        slot = (n // step) % depth
                        if n % step == 0:  # a new step: the broadcast waits for a free slot in every CU
                            if depth == 1:  # F_u(k - 1) for every u: the pass so far
                                sent = max(sent, total)
                            else:
                                for u in range(cus):
                                    sent = max(sent, finish[slot, u])
                        for u in range(cus):
                            k = assign[f, t, u]
                            c = 0
                            if k >= 0:
                                m = 0
                                e = 0
                                for w in range(words):
                                    fw = w_words[k, r, s, cb, w]
                                    both = _popcount(fw & a_words[g, y0 + r, x0 + s, cb, w])
                                    e += both
                                    m += both if mode == TWO_SIDED else _popcount(fw)
                                c = max(m, min_chunk_cycles)
                                busy[f, j, u] += c
                                issued += m
                                useful += e
                            last[u] = max(sent, last[u]) + c
                            total = max(total, last[u])
                        if depth > 1 and (n + 1) % step == 0:  # the step ends: its slot frees at F_u(k)
                            for u in range(cus):
                                finish[slot, u] = last[u]
                        n += 1
                    else:
                        if mode == ONE_SIDED_ACTIVATIONS:
                            m = 0
                            for w in range(words):
                                m += _popcount(a_words[g, y0 + r, x0 + s, cb, w])
                        else:
                            m = int(widths[cb])
                        c = max(m, min_chunk_cycles)
                        held = 0
                        for u in range(cus):
                            k = assign[f, t, u]
                            if k >= 0:
                                busy[f, j, u] += c
                                held += 1
                                for w in range(words):  # of the CU's products, the effectual ones
                                    useful += _popcount(
                                        w_words[k, r, s, cb, w] & a_words[g, y0 + r, x0 + s, cb, w]
                                    )
                        issued += m * held
                        total += c if held else 0
            cycles[f, j] = total
            macs[f, j] = issued
            effectual[f, j] = useful
    return cycles, busy, macs, effectual


@njit(cache=True)
def input_chunk_nonzeros(
    a_words: np.ndarray, pos_start: np.ndarray, out_w: int, stride: int, r_size: int, s_size: int
) -> np.ndarray:
    """Non-zero input values broadcast to each cluster over one pass: int (groups, clusters)."""
    groups, chunks, words = a_words.shape[0], a_words.shape[3], a_words.shape[4]
    clusters = pos_start.shape[0] - 1
    out = np.zeros((groups, clusters), dtype=np.int64)
    for g in range(groups):
        for j in range(clusters):
            n = 0
            for p in range(pos_start[j], pos_start[j + 1]):
                y0 = (p // out_w) * stride
                x0 = (p % out_w) * stride
                for r in range(r_size):
                    for s in range(s_size):
                        for cb in range(chunks):
                            for w in range(words):
                                n += _popcount(a_words[g, y0 + r, x0 + s, cb, w])
            out[g, j] = n
    return out
