"""IMCE kernels against the cycle-by-cycle golden model; the bit-wise algorithm against integer conv."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from accelsim.kernels import imce as k
from accelsim.kernels.reference.imce import run_crossbar_layer, run_layer
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
        "max_copies": draw(st.sampled_from([0, 1, 2, 3])),
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
        hw["subarrays"], hw["t_and"], hw["t_write"], signed, load_weights, hw["max_copies"],
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
    busy, written, counts = k.schedule(6, 1, 25, 27, 8, 4, 36, 10, 2, 1, 1, True, False, 0)
    assert {name: int(counts[i]) for name, i in COUNT_NAMES.items()} == ref.counts
    assert busy.tolist() == ref.busy
    assert written.tolist() == ref.written


@pytest.mark.parametrize(("m", "n"), [(1, 1), (1, 2), (1, 4), (2, 2), (8, 8)])
def test_counts_follow_the_counting_model_on_alexnet(m, n):
    """[IMCE18]: N_AND = K Ho Wo m n ceil(L/C) and N_bitcount-bits = K Ho Wo m n L."""
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
            0,
        )
        outputs = layer.k * layer.out_h * layer.out_w
        assert counts[k.AND_OPS] == outputs * m * n * math.ceil(length / 256), layer.name
        assert counts[k.AND_BITS] == outputs * m * n * length == layer.macs * m * n, layer.name


def test_max_copies_caps_the_copies_of_a_block():
    """2 blocks on 8 sub-arrays: 4 copies each without a cap, 2 with max_copies 2 (copy c of block b on
    sub-array b * copies + c: 0-1 and 2-3, the rest idle), and the 16 pixels split over the copies."""
    x = np.arange(2 * 4 * 4).reshape(2, 4, 4) % 4
    w = np.ones((1, 2, 1, 1), dtype=np.int64)
    free = run_layer(x, w, 1, 2, rows=4, cols=1, subarrays=8)
    capped = run_layer(x, w, 1, 2, rows=4, cols=1, subarrays=8, max_copies=2)
    np.testing.assert_array_equal(free.out, capped.out)
    assert [b > 0 for b in free.busy] == [True] * 8
    assert [b > 0 for b in capped.busy] == [True] * 4 + [False] * 4
    busy, _, _ = k.schedule(1, 1, 16, 2, 1, 2, 4, 1, 8, 1, 1, True, False, 2)
    assert busy.tolist() == capped.busy
    assert max(capped.busy) == 2 * max(free.busy)  # half the copies, twice the pixels each


XB_NAMES = {
    "reads": k.XB_READS,
    "cells": k.XB_CELLS,
    "corr_cells": k.XB_CORR_CELLS,
    "conversions": k.XB_CONVERSIONS,
    "dac_rows": k.XB_DAC_ROWS,
    "wait": k.XB_WAIT,
    "write_rows": k.XB_WRITE_ROWS,
    "write_bits": k.XB_WRITE_BITS,
    "adds": k.XB_ADDS,
    "tasks": k.XB_TASKS,
    "psum_spills": k.XB_PSUM_SPILLS,
}


@st.composite
def crossbar_layers(draw):  # type: ignore[no-untyped-def]
    m = draw(st.sampled_from([1, 2, 4, 8]))
    n = draw(st.sampled_from([1, 2, 4]))
    groups = draw(st.integers(1, 2))
    cg, kg, r = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    pad, stride = draw(st.integers(0, 1)), draw(st.integers(1, 2))
    h = draw(st.integers(max(1, r - 2 * pad), 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.integers(0, 2**n, size=(groups * cg, h, h))
    w = rng.integers(0, 2**m, size=(groups * kg, cg, r, r))
    bits_per_cell = draw(st.sampled_from([1, 2, 4]))
    slices = -(-m // bits_per_cell)
    cols = draw(st.integers(slices + 1, 3 * slices + 2))
    rows = draw(st.integers(1, 12))
    f = min(kg, (cols - 1) // slices)
    blocks = groups * math.ceil(cg * r * r / rows) * math.ceil(kg / f)
    hw = {
        "rows": rows,
        "cols": cols,
        "subarrays": draw(st.integers(1, blocks + 4)),
        "bits_per_cell": bits_per_cell,
        "t_read": draw(st.integers(1, 4)),
        "adcs": draw(st.integers(1, 3)),
        "conv_milli": draw(st.sampled_from([300, 1000, 1700])),
        "t_write": draw(st.integers(1, 3)),
        "max_copies": draw(st.sampled_from([0, 1, 2])),
    }
    return x, w, m, n, {"stride": stride, "pad": pad, "groups": groups}, hw


@settings(max_examples=40, deadline=None)
@given(layer=crossbar_layers(), signed=st.booleans(), load_weights=st.booleans())
def test_crossbar_golden_model_equals_integer_convolution_and_kernel(layer, signed, load_weights):
    """The analog crossbar (cell currents summed per column, converted, shifted by plane and slice)
    computes the integer convolution; the schedule kernel's counts, busy and writing cycles equal the
    cycle-by-cycle model; the slot partition's inputs (unused cell-reads, effectual cell-reads) too."""
    x, w, m, n, geo, hw = layer
    assume(x.shape[1] + 2 * geo["pad"] >= w.shape[2])
    ref = run_crossbar_layer(x, w, m, n, **geo, **hw, signed=signed, load_weights=load_weights)
    np.testing.assert_array_equal(ref.out, integer_conv(x, w, **geo))
    if signed:
        np.testing.assert_array_equal(ref.signed_out, integer_conv(x, 2 * w - (2**m - 1), **geo))
    assert ref.max_column_sum <= hw["rows"] * (2 ** hw["bits_per_cell"] - 1)
    kk, cg, r, s = w.shape
    ho = (x.shape[1] + 2 * geo["pad"] - r) // geo["stride"] + 1
    slices = -(-m // hw["bits_per_cell"])
    busy, written, counts = k.crossbar_schedule(
        kk // geo["groups"], geo["groups"], ho * ho, cg * r * s, slices, n, hw["rows"], hw["cols"],
        hw["subarrays"], hw["t_read"], hw["adcs"], hw["conv_milli"], hw["t_write"], signed, load_weights,
        hw["max_copies"],
    )  # fmt: skip
    assert {name: int(counts[i]) for name, i in XB_NAMES.items()} == ref.counts
    assert busy.tolist() == ref.busy
    assert written.tolist() == ref.written
    q = math.ceil(cg * r * s / hw["rows"])
    assert int(busy.max()) + k.dpu_latency(1, q) == ref.cycles
    lanes = hw["rows"] * hw["cols"]
    assert int(counts[k.XB_READS]) * lanes - int(counts[k.XB_CELLS]) == ref.unused_cell_reads
    effectual = int(integer_conv((x != 0).astype(np.int64), (w != 0).astype(np.int64), **geo).sum())
    assert effectual * slices * n == ref.effectual_cell_reads


def test_crossbar_hand_worked_example():
    """The 1 x 1 filter of `test_hand_worked_example` on one 4 x 2 crossbar (worked by hand).

    u = [1, 0, 1, 1] in rows 0-3 of column 0, ones in column 1; x = [3, 1, 2, 0].
    Plane 0 drives bits [1, 1, 0, 0]: column 0 sums 1 + 0 = 1, column 1 sums 2; plane 1 drives
    [1, 0, 1, 0]: column 0 sums 1 + 1 = 2 (x 2), column 1 sums 2 (x 2). u . x = 1 + 4 = 5; sum(x) = 2 + 4
    = 6; signed 2 x 5 - 6 = 4. Each read: 4 DAC rows, 8 cells, 2 conversions by one ADC of 1.5 cycles
    each = 3 cycles > t_read 2: 3 cycles per read, 1 waiting; 2 reads = 6 cycles, then shift-add (1),
    no chunk tree, the quantiser (1)."""
    x = np.array([3, 1, 2, 0]).reshape(4, 1, 1)
    w = np.array([1, 0, 1, 1]).reshape(1, 4, 1, 1)
    ref = run_crossbar_layer(x, w, 1, 2, rows=4, cols=2, subarrays=1, t_read=2, adcs=1, conv_milli=1500)
    assert (ref.out[0, 0, 0], ref.xsum[0, 0, 0]) == (5, 6)
    assert ref.signed_out is not None
    assert ref.signed_out[0, 0, 0] == 4
    assert ref.counts == {
        "reads": 2, "cells": 16, "corr_cells": 8, "conversions": 4, "dac_rows": 8, "wait": 2,
        "write_rows": 0, "write_bits": 0, "adds": 4 + 2, "tasks": 1, "psum_spills": 0,
    }  # fmt: skip
    assert ref.busy == [6]
    assert ref.cycles == 6 + 2
    assert ref.effectual_cell_reads == 2 * 2  # u_0 x_0 and u_2 x_2 are non-zero, in both planes
