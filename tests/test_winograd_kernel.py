"""The Winograd engine's arithmetic, host tiling and phase-cycle kernel against golden references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.dataflows.winograd import fpga_rejection, host_tiling
from accelsim.kernels.reference.winograd import direct_conv2d, memcpy_cycles, run_call
from accelsim.kernels.winograd import (
    DIRECT_MACS_PER_TILE,
    MULTS_PER_TILE,
    PHASES,
    call_ddr_bytes,
    call_fp_adds,
    call_multiplies,
    call_phase_cycles,
    effectual_products,
    used_products,
    winograd_conv2d,
)
from accelsim.workload.layer import Layer, LayerKind


def conv3x3(h: int, w: int, c: int, k: int, groups: int = 1) -> Layer:
    return Layer("l", LayerKind.CONV, h=h, w=w, c=c, k=k, r=3, s=3, pad=1, groups=groups)


def fp32_close(got: np.ndarray, want: np.ndarray, c: int) -> None:
    # fp32 rounding of sums of 9c products of O(1) values, through exact-in-binary 0.5/0.25 transforms
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * 9 * c)


@settings(deadline=None, max_examples=40)
@given(
    c=st.integers(1, 5),
    k=st.integers(1, 4),
    h=st.integers(1, 11),
    w=st.integers(1, 11),
    seed=st.integers(0, 2**32 - 1),
)
def test_winograd_transforms_give_the_direct_convolution(c, k, h, w, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((c, h, w)).astype(np.float32)
    wt = rng.standard_normal((k, c, 3, 3)).astype(np.float32)
    fp32_close(winograd_conv2d(x, wt), direct_conv2d(x, wt), c)


@settings(deadline=None, max_examples=15)
@given(
    ydim=st.integers(7, 12),
    xdim=st.integers(7, 20),
    burst=st.integers(1, 3),
    rpo=st.integers(1, 3),
    cout=st.integers(1, 3),
    tiles=st.sampled_from([1, 4, 6]),
    seed=st.integers(0, 2**32 - 1),
)
def test_phase_model_computes_the_convolution_with_sums_round_tripping_ddr(
    ydim, xdim, burst, rpo, cout, tiles, seed
):
    """The golden reference moves the numbers the way the kernel does: padded 2-column tiles, partial
    sums written to DDR after every burst and read back on the next; the host strips the padding."""
    rng = np.random.default_rng(seed)
    cin = burst * rpo
    x = rng.standard_normal((cin, ydim, xdim)).astype(np.float32)
    wt = rng.standard_normal((cout, cin, 3, 3)).astype(np.float32)
    xtile_pad = 8 * -(-((xdim + 1) // 2) // 8)  # >= xtile, a multiple of 8
    trace = run_call(ydim, xdim, (ydim + 1) // 2, xtile_pad, burst, rpo, cout, tiles, x=x, w=wt)
    assert trace.output is not None
    fp32_close(trace.output, direct_conv2d(x, wt), cin)
    assert trace.tile_products == cin * cout * ((ydim + 1) // 2) * xtile_pad


@settings(deadline=None, max_examples=60)
@given(
    ydim=st.integers(7, 20),
    xtile_pad=st.sampled_from([8, 16, 24]),
    burst=st.integers(1, 4),
    rpo=st.integers(1, 3),
    cout=st.integers(1, 3),
    tiles=st.integers(1, 6),
    setup=st.integers(0, 5),
    fill=st.integers(0, 5),
    in_port=st.sampled_from([4, 8]),
    wide_port=st.sampled_from([16, 64]),
    ddr_milli=st.sampled_from([0, 1000, 2500, 26_667, 53_500]),
    data=st.data(),
)
def test_kernel_equals_cycle_by_cycle_reference(
    ydim, xtile_pad, burst, rpo, cout, tiles, setup, fill, in_port, wide_port, ddr_milli, data
):
    xdim = data.draw(st.integers(7, 2 * xtile_pad - 1))
    ytile = (ydim + 1) // 2
    args = (ydim, xdim, ytile, xtile_pad, burst, rpo, cout, tiles, setup, fill, in_port, wide_port, ddr_milli)
    trace = run_call(*args)
    fast = call_phase_cycles(*args)
    assert {p: int(c) for p, c in zip(PHASES, fast, strict=True)} == trace.phase_cycles
    assert list(call_ddr_bytes(ydim, xdim, xtile_pad, burst, rpo, cout)) == [
        trace.ddr_read_bytes,
        trace.ddr_written_bytes,
    ]
    assert call_multiplies(ytile, xtile_pad, burst, rpo, cout, tiles) == trace.multiplies


def test_memcpy_is_limited_by_port_then_by_ddr():
    assert memcpy_cycles(64 * 10, 64, 0, 0) == 10  # one 512-bit beat per cycle
    assert memcpy_cycles(64 * 10, 64, 53_500, 0) == 12  # 640 B at 53.5 B/cycle: ceil(11.96)
    assert memcpy_cycles(4 * 13, 4, 53_500, 3) == 16  # the 32-bit port, not the DDR, limits input rows


@pytest.mark.parametrize(
    ("hw", "ytile", "offshape", "xtile_pad", "util"),
    [
        (13, 7, 16, 8, 169 / 224),
        (7, 4, 32, 16, 49 / 256),
        (12, 6, 16, 8, 144 / 192),
        (56, 28, 64, 32, 3136 / 3584),
    ],
)
def test_host_tiling_worked_examples(hw, ytile, offshape, xtile_pad, util):
    """[FPGACAFFE16 ocl_conv_layer.cpp] worked examples [derived]."""
    t = host_tiling(conv3x3(hw, hw, 64, 64))
    assert (t.ytile, t.offshape, t.xtile_pad, t.fact) == (ytile, offshape, xtile_pad, xtile_pad // 8)
    assert t.mac_stage_utilization == pytest.approx(util)


def test_burstchannels_clip_to_cin_or_drop_to_a_divisor():
    conv3 = host_tiling(conv3x3(13, 13, 256, 384))  # 16384 // 56 = 292 > 256: clipped
    assert (conv3.burstchannels, conv3.rpo, conv3.rburst) == (256, 1, 13 * 256)
    vgg1 = host_tiling(conv3x3(224, 224, 3, 64))  # 16384 // (112 * 112) = 1
    assert (vgg1.burstchannels, vgg1.rpo) == (1, 3)
    odd = host_tiling(conv3x3(28, 28, 96, 128))  # 16384 // (14 * 16) = 73 -> 48 divides 96
    assert (odd.burstchannels, odd.rpo) == (48, 2)


def test_width_multiple_of_16_is_not_doubled_and_the_hazard_is_rejected():
    """Verbatim host code: offshape is doubled only when W % 16 != 0, so W = 16 with H <= 10 leaves
    fewer MAC iterations per channel than the accumulator dependence distance of 12."""
    t = host_tiling(conv3x3(8, 16, 8, 8))
    assert (t.offshape, t.mac_iterations_per_channel) == (16, 8)
    reason = fpga_rejection(conv3x3(8, 16, 8, 8))
    assert reason is not None
    assert "dependence distance" in reason
    assert host_tiling(conv3x3(8, 15, 8, 8)).offshape == 32  # not a multiple of 16: doubled


@pytest.mark.parametrize(
    ("layer", "words"),
    [
        (Layer("p", LayerKind.CONV, h=14, w=14, c=8, k=8, r=3, s=3, stride=2, pad=1), "stride 2"),
        (Layer("q", LayerKind.CONV, h=14, w=14, c=8, k=8, r=5, s=5, pad=2), "5x5"),
        (Layer("f", LayerKind.FC, h=1, w=1, c=64, k=10), "fc layer"),
        (conv3x3(14, 14, 8, 8, groups=4), "4 groups"),
        (conv3x3(300, 300, 8, 8), "outside 7..256"),
    ],
)
def test_layers_the_engine_cannot_take(layer, words):
    reason = fpga_rejection(layer)
    assert reason is not None
    assert words in reason


def test_f2x2_3x3_saves_2_25x_multiplies_on_aligned_maps():
    """16 multiplies per 2x2 output tile against 36 direct MACs ([LAVIN16]): exact when H is even
    and W a multiple of 16, so no padded tile is computed."""
    assert DIRECT_MACS_PER_TILE / MULTS_PER_TILE == 2.25
    layer = conv3x3(32, 32, 64, 32)
    t = host_tiling(layer)
    issued = call_multiplies(t.ytile, t.xtile_pad, t.burstchannels, t.rpo, t.outchannels, 4)
    assert layer.macs / issued == 2.25
    padded = conv3x3(13, 13, 64, 32)  # 7 x 8 tiles computed for 6.5 x 6.5 needed
    t = host_tiling(padded)
    issued = call_multiplies(t.ytile, t.xtile_pad, t.burstchannels, t.rpo, t.outchannels, 4)
    assert padded.macs / issued == pytest.approx(2.25 * 169 / 224)


@settings(deadline=None, max_examples=40)
@given(
    ydim=st.integers(7, 12),
    xdim=st.integers(7, 20),
    burst=st.integers(1, 3),
    rpo=st.integers(1, 2),
    cout=st.integers(1, 3),
    act_density=st.sampled_from([1.0, 0.5, 0.2, 0.05]),
    weight_density=st.sampled_from([1.0, 0.5, 0.2, 0.05]),
    seed=st.integers(0, 2**32 - 1),
)
def test_product_counts_equal_the_reference(ydim, xdim, burst, rpo, cout, act_density, weight_density, seed):
    """The reference counts, product by product, those a real output takes through A^T and those whose
    transformed operands are non-zero (real values with zeros where the masks say); the kernel counts
    them from the masks alone."""
    rng = np.random.default_rng(seed)
    cin = burst * rpo
    x = rng.standard_normal((cin, ydim, xdim)).astype(np.float32) * (
        rng.random((cin, ydim, xdim)) < act_density
    )
    wt = rng.standard_normal((cout, cin, 3, 3)).astype(np.float32) * (
        rng.random((cout, cin, 3, 3)) < weight_density
    )
    xtile_pad = 8 * -(-((xdim + 1) // 2) // 8)
    trace = run_call(ydim, xdim, (ydim + 1) // 2, xtile_pad, burst, rpo, cout, 4, x=x, w=wt)
    assert trace.used_products == used_products(ydim, xdim) * cin * cout
    assert trace.effectual_products == effectual_products(x != 0, wt != 0, 1)
    assert trace.used_products <= trace.multiplies


def test_product_counts_worked_by_hand():
    """A 2 x 2 map is one tile over padded rows / columns 0-3, the map at 1-2. B^T's rows mix tile rows
    (0, 2), (1, 2), (1, 2), (1, 3); G's rows mix filter rows (0), (0, 1, 2), (0, 1, 2), (2).
    Only x[0, 0] (tile row and column 1) non-zero: every transformed row but row 0 mixes row 1, so
    3 x 3 = 9 of the 16 products are effectual with a dense filter. With only g[0, 0] non-zero too,
    U is non-zero in rows and columns 0-2: 2 x 2 = 4. An even map uses all 16 products of its tile;
    a 3 x 3 map (2 x 2 tiles) uses 4 + 3 product rows and columns: 49."""
    act = np.zeros((1, 2, 2), bool)
    act[0, 0, 0] = True
    dense_filter = np.ones((1, 1, 3, 3), bool)
    corner = np.zeros((1, 1, 3, 3), bool)
    corner[0, 0, 0, 0] = True
    assert used_products(2, 2) == 16
    assert used_products(3, 3) == 49
    assert effectual_products(act, dense_filter, 1) == 9
    assert effectual_products(act, corner, 1) == 4
    # Two groups are two independent convolutions
    both = effectual_products(np.concatenate([act, ~act]), np.concatenate([corner, dense_filter]), 2)
    assert both == 4 + effectual_products(~act, dense_filter, 1)


@settings(deadline=None, max_examples=30)
@given(
    ydim=st.integers(7, 10),
    xdim=st.integers(7, 18),
    burst=st.integers(1, 3),
    rpo=st.integers(1, 2),
    cout=st.integers(1, 2),
    tiles=st.integers(1, 7),
    seed=st.integers(0, 2**32 - 1),
)
def test_operations_performed_equal_the_reference_datapath(ydim, xdim, burst, rpo, cout, tiles, seed):
    """The adds the datapath performs, counted by the reference as it transforms real tiles (shared
    column slices, row transforms, A^T m A, accumulation; a group of tiles running over a tile row's end
    computes one more slice), equal the closed form; the result is still the direct convolution."""
    rng = np.random.default_rng(seed)
    cin = burst * rpo
    x = rng.standard_normal((cin, ydim, xdim)).astype(np.float32)
    wt = rng.standard_normal((cout, cin, 3, 3)).astype(np.float32)
    ytile, xtile_pad = (ydim + 1) // 2, 8 * -(-((xdim + 1) // 2) // 8)
    trace = run_call(ydim, xdim, ytile, xtile_pad, burst, rpo, cout, tiles, x=x, w=wt)
    assert trace.output is not None
    fp32_close(trace.output, direct_conv2d(x, wt), cin)
    assert call_fp_adds(ytile, xtile_pad, burst, rpo, cout, tiles) == trace.fp_adds


def test_an_iteration_of_the_as_built_engine_performs_280_operations():
    """winograd_pe.c's MAC loop (dicecco1/fpga_caffe @ 6db208db): per iteration of 4 tiles, 104 adds of
    the input transform (10 column p_transforms on 5 shared slices + 16 row p_transforms), 64
    multiplies, 96 adds of the output transform and 16 accumulations: 216 adds + 64 multiplies."""
    layer = conv3x3(16, 16, 1, 1)  # ytile 8, xtile_pad 8, one channel: 16 iterations
    t = host_tiling(layer)
    iterations = t.ytile * t.xtile_pad // 4
    assert call_fp_adds(t.ytile, t.xtile_pad, 1, 1, 1, 4) == 216 * iterations
    assert call_multiplies(t.ytile, t.xtile_pad, 1, 1, 1, 4) == 64 * iterations
