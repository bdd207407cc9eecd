"""SparTen's layer kernel against the cycle-by-cycle cluster reference, and hand-worked inner joins."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.dataflows.sparten import (
    filter_passes,
    packed_operands,
    position_blocks,
    unshuffle_input_channels,
)
from accelsim.kernels.reference.sparten import (
    SparseChunk,
    collect_outputs,
    operand_offset,
    run_cluster,
    run_layer,
)
from accelsim.kernels.sparten import (
    DENSE,
    ONE_SIDED_ACTIVATIONS,
    ONE_SIDED_WEIGHTS,
    TWO_SIDED,
    chunk_layout,
    layer_counts,
    pack_chunks,
)
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.masks import OperandMasks, effectual_macs

MODES = {
    "two_sided": TWO_SIDED,
    "one_sided_weights": ONE_SIDED_WEIGHTS,
    "one_sided_activations": ONE_SIDED_ACTIVATIONS,
    "dense": DENSE,
}

# Hand-worked inner join, chunk of 8 positions:
#   filter  [0, 3, 0, 5, 2, 0, 0, 7]  SparseMap 01011001, non-zeros (3, 5, 2, 7)
#   input   [1, 4, 0, 6, 0, 0, 9, 2]  SparseMap 11010011, non-zeros (1, 4, 6, 9, 2)
#   AND                               01010001: matches at positions 1, 3, 7 -> 3 cycles
#   position 1: filter offset popcount(0) = 0 -> 3, input offset popcount(1) = 1 -> 4: 12
#   position 3: filter offset popcount(010) = 1 -> 5, input offset popcount(110) = 2 -> 6: 30
#   position 7: filter offset popcount(0101100) = 3 -> 7, input offset popcount(1101001) = 4 -> 2: 14
FILTER = [0, 3, 0, 5, 2, 0, 0, 7]
INPUT = [1, 4, 0, 6, 0, 0, 9, 2]


def test_hand_worked_inner_join():
    f, a = SparseChunk.from_dense(FILTER), SparseChunk.from_dense(INPUT)
    assert (f.bits, f.values) == ((0, 1, 0, 1, 1, 0, 0, 1), (3, 5, 2, 7))
    assert (a.bits, a.values) == ((1, 1, 0, 1, 0, 0, 1, 1), (1, 4, 6, 9, 2))
    assert [operand_offset(f, i) for i in (1, 3, 7)] == [0, 1, 3]
    assert [operand_offset(a, i) for i in (1, 3, 7)] == [1, 2, 4]
    run = run_cluster([[f]], [[a]])
    assert (run.cycles, run.macs, run.effectual, run.outputs) == (3, 3, 3, [[12 + 30 + 14]])
    assert int(np.dot(FILTER, INPUT)) == 12 + 30 + 14


def test_hand_worked_modes_and_barrier():
    f, a = SparseChunk.from_dense(FILTER), SparseChunk.from_dense(INPUT)
    sparse_filter = SparseChunk.from_dense([0, 0, 0, 1, 0, 0, 0, 0])  # one match (position 3)
    run = run_cluster([[f], [sparse_filter], None], [[a]])
    assert run.cycles == 3  # the broadcast waits for the CU with three matches
    assert run.busy == [3, 1, 0]
    assert run.outputs == [[56, 6, 0]]
    one_sided, dense = run_cluster([[f]], [[a]], "one_sided_activations"), run_cluster([[f]], [[a]], "dense")
    # every non-zero input (positions 0, 1, 3, 6, 7), of which 1, 3, 7 have a non-zero weight
    assert (one_sided.cycles, one_sided.macs, one_sided.effectual) == (5, 5, 3)
    assert (dense.cycles, dense.macs, dense.effectual) == (8, 8, 3)  # every position
    assert run_cluster([[f]], [[a]], "one_sided_activations").outputs == [[56]]
    # weight skipping: every non-zero weight (positions 1, 3, 4, 7); position 4 meets a zero input
    weights_only = run_cluster([[f]], [[a]], "one_sided_weights")
    assert (weights_only.cycles, weights_only.macs, weights_only.effectual) == (4, 4, 3)
    assert weights_only.outputs == [[56]]
    two = run_cluster([[f], [sparse_filter]], [[a]], "one_sided_weights")
    assert (two.cycles, two.busy) == (4, [4, 1])  # the CUs' work differs: the sparse filter waits
    empty = SparseChunk.from_dense([0] * 8)
    assert run_cluster([[empty]], [[a]], min_chunk_cycles=2).cycles == 2  # no match still costs a chunk


def test_hand_worked_kernel_counts():
    layer = Layer("x", LayerKind.CONV, h=1, w=1, c=8, k=2, r=1, s=1)
    acts = np.array(INPUT, dtype=bool).reshape(8, 1, 1)
    weights = np.array([FILTER, [0, 0, 0, 1, 0, 0, 0, 0]], dtype=bool).reshape(2, 8, 1, 1)
    a_words, w_words = packed_operands(layer, acts, weights, 8)
    assign, pass_group = filter_passes(weights, 1, 2, 8, "none")
    _, _, widths = chunk_layout(8, 8)
    cycles, busy, macs, effectual = layer_counts(
        a_words, w_words, assign, pass_group, position_blocks(1, 1), 1, 1, widths, TWO_SIDED, 1
    )
    assert (cycles.tolist(), busy.tolist(), macs.tolist(), effectual.tolist()) == (
        [[3]],
        [[[3, 1]]],
        [[4]],
        [[4]],
    )
    # the baselines multiply every non-zero input (5 per CU) or every position (8 per CU); 3 + 1 are effectual
    for mode, cycles_per_cu in ((ONE_SIDED_ACTIVATIONS, 5), (DENSE, 8)):
        counts = layer_counts(
            a_words, w_words, assign, pass_group, position_blocks(1, 1), 1, 1, widths, mode, 1
        )
        expect = [[[cycles_per_cu]], [[[cycles_per_cu] * 2]], [[2 * cycles_per_cu]], [[4]]]
        assert [c.tolist() for c in counts] == expect


# Hand-worked input buffering: one window of two 8-position chunks, both equal to INPUT, on two CUs.
#   CU 0 holds (FILTER, SPARSE): 3 then 1 matches; CU 1 holds (SPARSE, FILTER): 1 then 3 matches.
#   One slot (barrier per chunk): chunk 0 takes max(3, 1) = 3 cycles, chunk 1 max(1, 3) = 3: 6 cycles,
#   each CU waits 2 cycles. Two slots: both chunks are broadcast at cycle 0; CU 0 joins chunk 0 in
#   cycles 0-2 and chunk 1 in cycle 3, CU 1 chunk 0 in cycle 0 and chunk 1 in cycles 1-3: 4 cycles,
#   no wait. A third slot changes nothing (two chunks).
SPARSE = [0, 0, 0, 1, 0, 0, 0, 0]


@pytest.mark.parametrize(("buffer", "cycles"), [(1, 6), (2, 4), (3, 4)])
def test_hand_worked_input_buffer_removes_the_wait(buffer, cycles):
    f, s, a = (SparseChunk.from_dense(v) for v in (FILTER, SPARSE, INPUT))
    run = run_cluster([[f, s], [s, f]], [[a, a]], input_buffer_depth=buffer)
    assert (run.cycles, run.busy, run.macs) == (cycles, [4, 4], 8)
    assert run.outputs == [[56 + 6, 6 + 56]]
    layer = Layer("x", LayerKind.CONV, h=1, w=1, c=16, k=2, r=1, s=1)
    acts = np.array(INPUT + INPUT, dtype=bool).reshape(16, 1, 1)
    weights = np.array([FILTER + SPARSE, SPARSE + FILTER], dtype=bool).reshape(2, 16, 1, 1)
    a_words, w_words = packed_operands(layer, acts, weights, 8)
    assign, pass_group = filter_passes(weights, 1, 2, 8, "none")
    _, _, widths = chunk_layout(16, 8)
    counts = layer_counts(
        a_words, w_words, assign, pass_group, position_blocks(1, 1), 1, 1, widths, TWO_SIDED, 1, buffer
    )
    assert [c.tolist() for c in counts] == [[[cycles]], [[[4, 4]]], [[8]], [[8]]]
    window = run_cluster([[f, s], [s, f]], [[a, a]], barrier="window")  # one window: no wait inside it
    assert (window.cycles, window.busy) == (4, [4, 4])


# Hand-worked barrier per window: two windows of two 8-position chunks on two CUs, one empty chunk each.
#   window 0 = (INPUT, zeros), window 1 = (zeros, INPUT); CU 0 holds (FILTER, SPARSE), CU 1 (SPARSE, FILTER).
#   Chunk costs (matches, at least 1): CU 0: 3, 1 | 1, 1 (windows 4 and 2); CU 1: 1, 1 | 1, 3 (2 and 4).
#   Barrier per chunk, one slot: max per chunk 3 + 1 + 1 + 3 = 8 cycles.
#   Barrier per window, one window: max per window 4 + 4 = 8 (CU 1 waits 2 in window 0, CU 0 in window 1).
#   Barrier per window, two windows: both windows go out at once, each CU runs 6 cycles: 6, no wait.
@pytest.mark.parametrize(
    ("barrier", "depth", "cycles"), [("chunk", 1, 8), ("window", 1, 8), ("window", 2, 6)]
)
def test_hand_worked_barrier_per_window(barrier, depth, cycles):
    f, s, a, z = (SparseChunk.from_dense(v) for v in (FILTER, SPARSE, INPUT, [0] * 8))
    run = run_cluster([[f, s], [s, f]], [[a, z], [z, a]], input_buffer_depth=depth, barrier=barrier)
    assert (run.cycles, run.busy, run.macs) == (cycles, [6, 6], 8)
    layer = Layer("x", LayerKind.CONV, h=1, w=2, c=16, k=2, r=1, s=1)
    pixels = np.array([INPUT + [0] * 8, [0] * 8 + INPUT], dtype=bool)  # (w, c)
    weights = np.array([FILTER + SPARSE, SPARSE + FILTER], dtype=bool).reshape(2, 16, 1, 1)
    a_words, w_words = packed_operands(layer, pixels.T.reshape(16, 1, 2), weights, 8)
    assign, pass_group = filter_passes(weights, 1, 2, 8, "none")
    _, _, widths = chunk_layout(16, 8)
    counts = layer_counts(
        a_words, w_words, assign, pass_group, position_blocks(2, 1), 2, 1, widths, TWO_SIDED, 1, depth,
        barrier == "window",
    )  # fmt: skip
    assert [c.tolist() for c in counts] == [[[cycles]], [[[6, 6]]], [[8]], [[8]]]


def test_a_chunk_without_matches_is_free_with_no_minimum():
    empty, a = SparseChunk.from_dense([0] * 8), SparseChunk.from_dense(INPUT)
    f = SparseChunk.from_dense(FILTER)
    assert run_cluster([[empty, f]], [[a, a]], min_chunk_cycles=0).cycles == 3
    assert run_cluster([[empty, f]], [[a, a]], min_chunk_cycles=1).cycles == 4


def test_pack_chunks_layout():
    bits = np.zeros((2, 200), dtype=bool)
    bits[0, [0, 63, 64, 130, 199]] = True
    packed = pack_chunks(bits, 128)
    assert packed.shape == (2, 2, 2)  # 2 chunks of 128 channels, 2 words each
    assert packed[0].tolist() == [[1 | (1 << 63), 1], [1 << 2, 1 << (199 - 128 - 64)]]
    assert pack_chunks(np.ones((1, 3), dtype=bool), 128).tolist() == [[[7]]]  # 3 channels: one word
    assert chunk_layout(200, 128)[2].tolist() == [128, 72]


def test_output_collector_drops_zeros():
    chunks = collect_outputs([5, 0, -3, 7, 0, 2], 4)
    assert [c.bits for c in chunks] == [(1, 0, 0, 1), (0, 1)]
    assert [c.values for c in chunks] == [(5, 7), (2,)]


def _conv(acts: np.ndarray, weights: np.ndarray, stride: int, pad: int, groups: int) -> np.ndarray:
    k, cg, r, s = weights.shape
    padded = np.pad(acts, ((0, 0), (pad, pad), (pad, pad)))
    oh = (padded.shape[1] - r) // stride + 1
    ow = (padded.shape[2] - s) // stride + 1
    out = np.zeros((k, oh, ow), dtype=np.int64)
    kg = k // groups
    for kk in range(k):
        g = kk // kg
        for y in range(oh):
            for x in range(ow):
                window = padded[
                    g * cg : (g + 1) * cg, y * stride : y * stride + r, x * stride : x * stride + s
                ]
                out[kk, y, x] = int((window * weights[kk]).sum())
    return out


def test_unshuffle_keeps_the_next_layer_exact():
    rng = np.random.default_rng(3)
    x = rng.integers(-3, 4, (6, 5, 5))
    w1 = rng.integers(-2, 3, (8, 6, 3, 3)) * (rng.random((8, 6, 3, 3)) < 0.5)
    w2 = rng.integers(-2, 3, (4, 8, 3, 3))
    y = np.maximum(_conv(x, w1, 1, 1, 1), 0)
    order = np.argsort(-np.count_nonzero(w1, axis=(1, 2, 3)), kind="stable")  # GB-S output order
    permuted = y[order]
    assert (_conv(permuted, unshuffle_input_channels(w2, order), 1, 1, 1) == _conv(y, w2, 1, 1, 1)).all()


@st.composite
def small_layers(draw):  # type: ignore[no-untyped-def]
    groups = draw(st.integers(1, 2))
    cg = draw(st.integers(1, 11))
    kg = draw(st.integers(1, 7))
    r = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 2))
    pad = draw(st.integers(0, 1))
    h = draw(st.integers(max(1, r - 2 * pad), 6))
    w = draw(st.integers(max(1, r - 2 * pad), 6))
    c, k = cg * groups, kg * groups
    return Layer("x", LayerKind.CONV, h=h, w=w, c=c, k=k, r=r, s=r, stride=stride, pad=pad, groups=groups)


@settings(deadline=None, max_examples=80)
@given(
    layer=small_layers(),
    chunk_bits=st.integers(1, 6),
    cus=st.integers(1, 4),
    clusters=st.integers(1, 3),
    mode=st.sampled_from(list(MODES)),
    balancing=st.sampled_from(["none", "gb_s", "gb_h"]),
    min_chunk_cycles=st.integers(0, 2),
    buffer=st.integers(1, 3),
    barrier=st.sampled_from(["window", "chunk"]),
    wd=st.floats(0.1, 1.0),
    ad=st.floats(0.1, 1.0),
    seed=st.integers(0, 2**16),
)
def test_kernel_equals_cycle_by_cycle_reference(
    layer, chunk_bits, cus, clusters, mode, balancing, min_chunk_cycles, buffer, barrier, wd, ad, seed
):
    rng = np.random.default_rng(seed)
    acts = rng.integers(1, 5, (layer.c, layer.h, layer.w)) * (rng.random((layer.c, layer.h, layer.w)) < ad)
    wshape = (layer.k, layer.c_per_group, layer.r, layer.s)
    weights = rng.integers(-4, 5, wshape) * (rng.random(wshape) < wd)
    if mode not in ("two_sided", "one_sided_weights"):
        balancing = "none"
    assign, pass_group = filter_passes(weights != 0, layer.groups, cus, chunk_bits, balancing)
    pos_start = position_blocks(layer.out_h * layer.out_w, clusters)
    a_words, w_words = packed_operands(layer, acts != 0, weights != 0, chunk_bits)
    _, _, widths = chunk_layout(layer.c_per_group, chunk_bits)
    cycles, busy, macs, effectual = layer_counts(
        a_words, w_words, assign, pass_group, pos_start, layer.out_w, layer.stride, widths, MODES[mode],
        min_chunk_cycles, buffer, barrier == "window",
    )  # fmt: skip
    ref = run_layer(acts, weights, layer.stride, layer.pad, layer.groups, chunk_bits, assign, pass_group,
                    pos_start, mode, min_chunk_cycles, buffer, barrier)  # fmt: skip
    assert cycles.tolist() == ref.cycles.tolist()
    assert busy.tolist() == ref.busy.tolist()
    assert macs.tolist() == ref.macs.tolist()
    assert effectual.tolist() == ref.effectual.tolist()
    # every effectual product is issued exactly once, in every mode
    masks = OperandMasks(weights=weights != 0, activations=acts != 0)
    assert int(effectual.sum()) == effectual_macs(layer, masks)
    if mode == "two_sided":
        assert (effectual == macs).all()
    assert (ref.outputs == _conv(acts, weights, layer.stride, layer.pad, layer.groups)).all()
    # every filter chunk is held by exactly one CU slot of its group's passes
    for g in range(layer.groups):
        held = np.sort(assign[pass_group == g].transpose(1, 0, 2).reshape(assign.shape[1], -1), axis=1)
        for row in held:
            kg = layer.k_per_group
            assert row[row >= 0].tolist() == list(range(g * kg, (g + 1) * kg))


@pytest.mark.parametrize("balancing", ["gb_s", "gb_h"])
def test_greedy_balancing_groups_filters_of_similar_density(balancing):
    """Alternating dense and nearly empty filters: unbalanced, every pass waits for a dense filter."""
    layer = Layer("x", LayerKind.CONV, h=6, w=6, c=64, k=16, r=3, s=3, pad=1)
    rng = np.random.default_rng(0)
    weights = rng.random((16, 64, 3, 3)) < np.where(np.arange(16) % 2 == 0, 0.9, 0.05)[:, None, None, None]
    acts = rng.random((64, 6, 6)) < 0.6
    a_words, w_words = packed_operands(layer, acts, weights, 128)
    _, _, widths = chunk_layout(64, 128)
    pos = position_blocks(36, 2)
    runs = {}
    for scheme in ("none", balancing):
        assign, pass_group = filter_passes(weights, 1, 8, 128, scheme)
        runs[scheme] = layer_counts(a_words, w_words, assign, pass_group, pos, 6, 1, widths, TWO_SIDED, 1)
    none, gb = runs["none"], runs[balancing]
    assert none[2].sum() == gb[2].sum() == gb[3].sum()  # the same multiplications ...
    assert gb[0].sum() < 0.8 * none[0].sum()  # ... in fewer cycles: the sparse pass no longer waits
