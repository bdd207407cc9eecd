"""IMCE kernels against the cycle-by-cycle golden model; the bit-wise algorithm against integer conv."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from accelsim.kernels import imce as k
from accelsim.kernels.reference.imce import run_layer
from accelsim.workload.loaders import load_network

COUNT_NAMES = {
    "and_ops": k.AND_OPS,
    "and_bits": k.AND_BITS,
    "read_ops": k.READ_OPS,
    "read_bits": k.READ_BITS,
    "write_rows": k.WRITE_ROWS,
    "write_bits": k.WRITE_BITS,
    "adds": k.ADDS,
    "tasks": k.TASKS,
    "psum_spills": k.PSUM_SPILLS,
}


def integer_conv(x: np.ndarray, w: np.ndarray, stride: int, pad: int, groups: int) -> np.ndarray:
    """Plain numpy integer convolution (im2col with einsum), the ground truth."""
    kk, cg, r, s = w.shape
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    ho = (xp.shape[1] - r) // stride + 1
    wo = (xp.shape[2] - s) // stride + 1
    out = np.zeros((kk, ho, wo), dtype=np.int64)
    kg = kk // groups
    for g in range(groups):
        xs = xp[g * cg : (g + 1) * cg]
        cols = np.stack(
            [
                xs[:, dy : dy + stride * ho : stride, dx : dx + stride * wo : stride]
                for dy in range(r)
                for dx in range(s)
            ],
            axis=1,
        )  # (cg, r*s, ho, wo)
        wg = w[g * kg : (g + 1) * kg].reshape(kg, cg, r * s)
        out[g * kg : (g + 1) * kg] = np.einsum("kcq,cqyx->kyx", wg, cols)
    return out


@st.composite
def layers(draw):  # type: ignore[no-untyped-def]
    m = draw(st.sampled_from([1, 2, 4, 8]))
    n = draw(st.sampled_from([1, 2, 4, 8]))
    groups = draw(st.integers(1, 2))
    cg = draw(st.integers(1, 3))
    kg = draw(st.integers(1, 4))
    r = draw(st.integers(1, 3))
    pad = draw(st.integers(0, 1))
    stride = draw(st.integers(1, 2))
    h = draw(st.integers(max(1, r - 2 * pad), 5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2**n, size=(groups * cg, h, h))
    w = rng.integers(0, 2**m, size=(groups * kg, cg, r, r))
    rows = draw(st.integers(m + n, 3 * m + n))
    cols = draw(st.integers(1, 12))
    f = min(kg, (rows - n) // m)
    blocks = groups * math.ceil(cg * r * r / cols) * math.ceil(kg / f)
    subarrays = draw(st.integers(1, blocks + 5))  # fewer than the blocks: they take turns in rounds
    hw = {
        "rows": rows,
        "cols": cols,
        "subarrays": subarrays,
        "t_and": draw(st.integers(1, 3)),
        "t_write": draw(st.integers(1, 3)),
    }
    return x, w, m, n, {"stride": stride, "pad": pad, "groups": groups}, hw


@settings(max_examples=40, deadline=None)
@given(layer=layers(), signed=st.booleans(), load_weights=st.booleans())
def test_golden_model_equals_integer_convolution_and_kernels(layer, signed, load_weights):
    x, w, m, n, geo, hw = layer
    assume(x.shape[1] + 2 * geo["pad"] >= w.shape[2])
    ref = run_layer(x, w, m, n, **geo, **hw, signed=signed, load_weights=load_weights)
    # The bit-wise algorithm computes the integer convolution exactly ...
    np.testing.assert_array_equal(ref.out, integer_conv(x, w, **geo))
    if signed:  # ... and, with the x-sum correction, the convolution with DoReFa's symmetric weights
        np.testing.assert_array_equal(ref.signed_out, integer_conv(x, 2 * w - (2**m - 1), **geo))
    # The numba bit-wise convolution equals the golden model
    out, xsum, done = k.bitwise_conv(x, w, m, n, geo["stride"], geo["pad"], geo["groups"], hw["cols"])
    np.testing.assert_array_equal(out, ref.out)
    if signed:
        np.testing.assert_array_equal(xsum, ref.xsum)
        assert done[k.READ_BITS] == ref.counts["read_bits"]
    assert (done[k.AND_OPS], done[k.AND_BITS]) == (ref.counts["and_ops"], ref.counts["and_bits"])
    # The schedule kernel's counts, busy and row-writing cycles and layer cycles equal the cycle-by-cycle
    # model
    kk, cg, r, s = w.shape
    ho = (x.shape[1] + 2 * geo["pad"] - r) // geo["stride"] + 1
    busy, written, counts = k.schedule(
        kk // geo["groups"], geo["groups"], ho * ho, cg * r * s, m, n, hw["rows"], hw["cols"],
        hw["subarrays"], hw["t_and"], hw["t_write"], signed, load_weights,
    )  # fmt: skip
    assert {name: int(counts[i]) for name, i in COUNT_NAMES.items()} == ref.counts
    assert busy.tolist() == ref.busy
    assert written.tolist() == ref.written
    q = math.ceil(cg * r * s / hw["cols"])
    assert int(busy.max()) + k.dpu_latency(hw["cols"], q) == ref.cycles
    # What the slot partition takes from the counts: the sensed columns beyond a chunk's width, and the
    # effectual AND lane-senses (m n per MAC whose operands are both non-zero)
    senses = int(counts[k.AND_OPS] + counts[k.READ_OPS])
    assert senses * hw["cols"] - int(counts[k.AND_BITS] + counts[k.READ_BITS]) == ref.unused_lane_senses
    effectual = int(integer_conv((x != 0).astype(np.int64), (w != 0).astype(np.int64), **geo).sum())
    assert effectual * m * n == ref.effectual_lane_senses


def test_hand_worked_example():
    """One 1 x 1 filter over four 2-bit inputs, 1-bit weights, 2 columns per chunk (worked by hand).

    x = [3, 1, 2, 0] (planes x_0 = [1,1,0,0], x_1 = [1,0,1,0]), u = [1, 0, 1, 1].
    Chunk 0 (x = 3, 1; u = 1, 0): and(u, x_0) = [1,0] -> 1, and(u, x_1) = [1,0] -> 1: 1 + 2 = 3.
    Chunk 1 (x = 2, 0; u = 1, 1): and(u, x_0) = [0,0] -> 0, and(u, x_1) = [1,0] -> 1: 0 + 2 = 2.
    u . x = 3 + 2 = 5 = 1*3 + 0*1 + 1*2 + 1*0. Signed w = 2u - 1 = [1, -1, 1, 1]:
    w . x = 2 * 5 - 1 * (3 + 1 + 2 + 0) = 4 = 3 - 1 + 2 + 0.
    Counts: 2 chunks x 1 x 2 AND senses, 8 sensed columns; 2 x 2 x-plane reads; 2 x 2 row writes;
    adds = 4 shift-adds + 4 read adds + (2 - 1) x (1 output + 1 x-sum) + 2 signed = 12.
    Cycles (1-cycle ops, 1 sub-array per block, 2 blocks in parallel): 2 writes + 2 reads + 2 ANDs = 6,
    then the periphery: bit-count tree over 2 columns (1) + shift-add (1) + 2-chunk tree (1) + quantiser (1).
    """
    x = np.array([3, 1, 2, 0]).reshape(4, 1, 1)
    w = np.array([1, 0, 1, 1]).reshape(1, 4, 1, 1)
    ref = run_layer(x, w, 1, 2, rows=4, cols=2, subarrays=2)
    assert ref.out[0, 0, 0] == 5
    assert ref.signed_out is not None
    assert ref.signed_out[0, 0, 0] == 4
    assert ref.counts == {
        "and_ops": 4, "and_bits": 8, "read_ops": 4, "read_bits": 8,
        "write_rows": 4, "write_bits": 8, "adds": 12, "tasks": 2, "psum_spills": 0,
    }  # fmt: skip
    assert ref.busy == [6, 6]
    assert ref.written == [2, 2]  # the two x-plane rows of each chunk
    assert ref.cycles == 6 + 4
    # Lanes: 4 senses of 2 used columns each on each sub-array; u . x has 2 non-zero products
    # (1 x 3 and 1 x 2), each sensed as m n = 2 AND lanes
    assert ref.unused_lane_senses == 0
    assert ref.effectual_lane_senses == 4


def test_hand_worked_example_in_two_rounds():
    """The same layer on one sub-array: the two chunk blocks take turns (worked by hand).

    Round 0 writes chunk 0's weight row (1 write) and runs it: 2 x-rows, 2 reads, 2 ANDs; round 1 the
    same for chunk 1. The output and its x-sum each wait once in the buffer: 2 spills. 2 x (1 + 2 + 2 + 2)
    = 14 one-cycle ops on the one sub-array; the result is unchanged (5 unsigned, 4 signed).
    """
    x = np.array([3, 1, 2, 0]).reshape(4, 1, 1)
    w = np.array([1, 0, 1, 1]).reshape(1, 4, 1, 1)
    ref = run_layer(x, w, 1, 2, rows=4, cols=2, subarrays=1)
    assert ref.rounds == 2
    assert (ref.out[0, 0, 0], ref.signed_out[0, 0, 0]) == (5, 4)  # type: ignore[index]
    assert ref.counts["psum_spills"] == 2
    assert ref.counts["write_rows"] == 2 + 4
    assert ref.busy == [14]
    assert ref.written == [2 * (1 + 2)]  # a weight row and two x-plane rows per round


def test_many_rounds_compute_the_integer_convolution():
    """A layer needing 3 rounds (8-bit weights, 4 filters per block, 2 sub-arrays) stays exact."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, 2**4, size=(3, 5, 5))
    w = rng.integers(0, 2**8, size=(6, 3, 3, 3))
    ref = run_layer(x, w, 8, 4, pad=1, rows=36, cols=10, subarrays=2)
    assert ref.rounds == 3  # ceil(27 / 10) = 3 chunks x ceil(6 / 4) = 2 filter blocks = 6 blocks
    np.testing.assert_array_equal(ref.out, integer_conv(x, w, 1, 1, 1))
    np.testing.assert_array_equal(ref.signed_out, integer_conv(x, 2 * w - 255, 1, 1, 1))
    assert ref.counts["psum_spills"] > 0
    busy, written, counts = k.schedule(6, 1, 25, 27, 8, 4, 36, 10, 2, 1, 1, True, False)
    assert {name: int(counts[i]) for name, i in COUNT_NAMES.items()} == ref.counts
    assert busy.tolist() == ref.busy
    assert written.tolist() == ref.written


@pytest.mark.parametrize(("m", "n"), [(1, 1), (1, 2), (1, 4), (2, 2), (8, 8)])
def test_counts_follow_the_counting_model_on_alexnet(m, n):
    """REFERENCE §9.6: N_AND = K Ho Wo m n ceil(L/C) and N_bitcount-bits = K Ho Wo m n L."""
    net = load_network("alexnet")
    for layer in net.compute_layers:
        length = layer.r * layer.s * layer.c_per_group
        _, _, counts = k.schedule(
            layer.k_per_group,
            layer.groups,
            layer.out_h * layer.out_w,
            length,
            m,
            n,
            512,
            256,
            4096,
            1,
            1,
            True,
            False,
        )
        outputs = layer.k * layer.out_h * layer.out_w
        assert counts[k.AND_OPS] == outputs * m * n * math.ceil(length / 256), layer.name
        assert counts[k.AND_BITS] == outputs * m * n * length == layer.macs * m * n, layer.name
