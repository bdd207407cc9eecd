"""The RS pass kernel against the cycle-by-cycle reference (counts and the convolution it computes)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.kernels import eyeriss_v1 as rs
from accelsim.kernels.reference.eyeriss_v1 import ReferenceRun, run_layer

FIELDS = {
    rs.CYCLES: "cycles",
    rs.PASSES: "passes",
    rs.MACS: "macs",
    rs.IFMAP_READS: "ifmap_reads",
    rs.WEIGHT_LOADS: "weight_loads",
    rs.PSUM_IN: "psum_in",
    rs.PSUM_OUT: "psum_out",
    rs.IFMAP_DELIVERIES: "ifmap_deliveries",
    rs.WEIGHT_DELIVERIES: "weight_deliveries",
    rs.PSUM_HOPS: "psum_hops",
    rs.PE_PASS_CYCLES: "pe_pass_cycles",
    rs.LOAD_CYCLES: "load_cycles",
    rs.COMPUTE_CYCLES: "compute_cycles",
    rs.FILL_DRAIN_CYCLES: "fill_drain_cycles",
    rs.PE_COMPUTE_CYCLES: "pe_compute_cycles",
    rs.PE_FILL_DRAIN_CYCLES: "pe_fill_drain_cycles",
}


def direct_conv(x: np.ndarray, w: np.ndarray, groups: int, stride: int, pad: int) -> np.ndarray:
    """Plain grouped convolution, one output at a time."""
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad))).astype(np.int64)
    c, k = x.shape[0] // groups, w.shape[0] // groups
    r, s = w.shape[2:]
    e_out, f = (xp.shape[1] - r) // stride + 1, (xp.shape[2] - s) // stride + 1
    out = np.zeros((w.shape[0], e_out, f), dtype=np.int64)
    for kk in range(w.shape[0]):
        g = kk // k
        for y in range(e_out):
            for xx in range(f):
                window = xp[g * c : (g + 1) * c, y * stride : y * stride + r, xx * stride : xx * stride + s]
                out[kk, y, xx] = np.sum(window * w[kk])
    return out


@st.composite
def small_layers(draw):  # type: ignore[no-untyped-def]
    groups = draw(st.integers(1, 2))
    c, k = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    r, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 1))
    h = draw(st.integers(max(r, s), 7))
    rows, cols = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    e_out = (h + 2 * pad - r) // stride + 1
    e = draw(st.integers(1, min(cols, e_out)))
    q, p = draw(st.integers(1, c)), draw(st.integers(1, k))
    order = draw(st.sampled_from([rs.IFMAP_SHARING, rs.WEIGHT_SHARING]))
    bw = tuple(draw(st.integers(1, 4)) for _ in range(4))
    batch = draw(st.integers(1, 3))
    n = draw(st.integers(1, batch))
    seed = draw(st.integers(0, 2**16))
    return groups, c, k, r, s, stride, pad, h, rows, cols, e, q, p, order, bw, batch, n, seed


def kernel_counts(x, w, groups, stride, pad, rows, cols, e, q, p, order, bw, batch=1, n=1):  # type: ignore[no-untyped-def]
    c, k = x.shape[-3] // groups, w.shape[0] // groups
    r, s = w.shape[2:]
    e_out = (x.shape[-2] + 2 * pad - r) // stride + 1
    f = (x.shape[-1] + 2 * pad - s) // stride + 1
    return rs.rs_layer_counts(groups, c, k, e_out, f, r, s, stride, rows, cols, e, q, p, order, *bw, batch, n)


@settings(deadline=None, max_examples=150)
@given(small_layers())
def test_kernel_equals_cycle_by_cycle_reference(case):
    groups, c, k, r, s, stride, pad, h, rows, cols, e, q, p, order, bw, batch, n, seed = case
    rng = np.random.default_rng(seed)
    x = rng.integers(-4, 5, (batch, groups * c, h, h))
    w = rng.integers(-4, 5, (groups * k, c, r, s))
    ref: ReferenceRun = run_layer(x, w, groups, stride, pad, (rows, cols), (e, q, p), order, bw, n)
    fast = kernel_counts(x, w, groups, stride, pad, rows, cols, e, q, p, order, bw, batch, n)
    for index, name in FIELDS.items():
        assert fast[index] == getattr(ref, name), name
    # The RS schedule computes every image's convolution, and performs every MAC exactly once.
    for image in range(batch):
        np.testing.assert_array_equal(ref.output[image], direct_conv(x[image], w, groups, stride, pad))
    assert fast[rs.MACS] == ref.output.size * c * r * s
    # Every pass cycle is the filter load, compute, fill / drain or a bubble the reference saw.
    waits = fast[rs.CYCLES] - fast[rs.COMPUTE_CYCLES] - fast[rs.FILL_DRAIN_CYCLES]
    assert waits == ref.load_cycles + ref.bubble_cycles
    assert fast[rs.MACS] <= fast[rs.PE_COMPUTE_CYCLES]  # a mapped PE does at most one MAC a cycle


@settings(deadline=None, max_examples=60)
@given(small_layers())
def test_images_of_a_pass_share_its_filter_load(case):
    groups, c, k, r, s, stride, pad, h, rows, cols, e, q, p, order, bw, batch, n, _seed = case
    x, w = np.zeros((groups * c, h, h)), np.zeros((groups * k, c, r, s))
    args = (x, w, groups, stride, pad, rows, cols, e, q, p, order, bw)
    one = kernel_counts(*args)
    # One image per pass: the batch is `batch` independent runs, every count times the batch.
    np.testing.assert_array_equal(kernel_counts(*args, batch, 1), batch * one)
    # n images per pass: same passes and filter loads per block, per-image work unchanged.
    shared = kernel_counts(*args, batch, n)
    blocks = -(-batch // n)
    for index in (rs.PASSES, rs.WEIGHT_LOADS, rs.LOAD_CYCLES, rs.WEIGHT_DELIVERIES):
        assert shared[index] == blocks * one[index]
    for index in (rs.MACS, rs.IFMAP_READS, rs.PSUM_IN, rs.PSUM_OUT, rs.IFMAP_DELIVERIES, rs.PSUM_HOPS):
        assert shared[index] == batch * one[index]
    assert shared[rs.CYCLES] <= batch * one[rs.CYCLES]


def test_pipeline_worked_example():
    """3 columns; delivery 2 then 1 cycle, compute 3, drain 1: compute-bound, 2 + 3 x 3 + 1 = 12 cycles."""
    assert rs.pipeline_cycles(3, 2, 1, 3, 1) == 12
    # Delivery-bound: 4-cycle deliveries, 1-cycle compute and drain: 3 x 4 + 1 + 1 = 14.
    assert rs.pipeline_cycles(3, 4, 4, 1, 1) == 14
    # Drain-bound: compute x waits for the drain of x - 1 to start: 1 + 1 + 3 x 5 = 17.
    assert rs.pipeline_cycles(3, 1, 1, 1, 5) == 17
    # Two images of 3 columns in one pass: an image's first column delivers whole windows (4 cycles),
    # later ones 1; compute 3, drain 1. The second image's 4-cycle delivery (from cycle 10) outlasts
    # the compute of column 2 (ends at 13) by one cycle: 4 + 6 x 3 + 1 + 1 = 24 (two passes: 2 x 14).
    assert rs.pipeline_cycles(3, 4, 1, 3, 1, 2) == 24
    assert rs.pipeline_cycles(3, 4, 1, 3, 1) == 14
    # The drain tail after the last compute: 1 cycle when compute-bound; drain-bound, the last
    # column's compute ends at 8 (it waited from 3 to 7 for column 1's drain to start), its drain
    # waits for column 1's until 12 and ends at 17: a 9-cycle tail.
    assert rs.pipeline_phases(3, 2, 1, 3, 1) == (12, 1)
    assert rs.pipeline_phases(3, 1, 1, 1, 5) == (17, 9)


def test_alexnet_pe_sets_match_the_published_mapping():
    """JSSC'17 maps AlexNet CONV2 on 135 PEs (5 x 27 folded to 5 x 14 + 5 x 13) and CONV3-5 on 156
    (four 3 x 13 sets) [unverified; the densities of [EYERISS17; SPARSELOOP22] come from the same table]."""
    conv3 = rs.rs_layer_counts(1, 256, 384, 13, 13, 3, 3, 1, 12, 14, 13, 4, 16, rs.IFMAP_SHARING, 4, 4, 4, 4)
    assert conv3[rs.PE_PASS_CYCLES] == 156 * conv3[rs.CYCLES]
    conv2 = rs.rs_layer_counts(1, 48, 128, 27, 27, 5, 5, 1, 12, 14, 14, 2, 22, rs.WEIGHT_SHARING, 4, 4, 4, 4)
    assert conv2[rs.PE_PASS_CYCLES] == 135 * conv2[rs.CYCLES]


@pytest.mark.parametrize(
    ("bits", "words"),
    [
        ([1, 0, 0, 1], 1),  # two (run, value) pairs
        ([0] * 40 + [1], 1),  # a 40-zero run spends an extra pair: 2 pairs
        ([1, 1, 1, 1], 2),  # 4 pairs, 3 per word
        ([0] * 10, 1),  # the trailing run is one pair
    ],
)
def test_run_length_code_worked_examples(bits, words):
    assert rs.rlc_words(np.array(bits, dtype=bool), 5, 3) == words
