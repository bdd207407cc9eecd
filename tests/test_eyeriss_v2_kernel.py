"""Eyeriss v2 sparse-PE kernel against its cycle-by-cycle CSC reference, and hand-worked examples."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.kernels.eyeriss_v2 import (
    STAT_CYCLES,
    STAT_EFFECTUAL,
    STAT_EMPTY,
    STAT_ENTERED,
    STAT_IDLE_LANES,
    STAT_SLOTS,
    column_counts,
    pe_tile_stats,
)
from accelsim.kernels.reference.eyeriss_v2 import csc_encode, csc_positions, pe_tile_stats_ref


def _starts(n: int, size: int) -> np.ndarray:
    return np.array([*range(0, n, size), n], dtype=np.int64)


@st.composite
def tiles(draw: st.DrawFn) -> dict:
    """A small random layer, its masks and a random tiling and PE configuration."""
    depthwise = draw(st.booleans())
    c = draw(st.integers(1, 5))
    k = c if depthwise else draw(st.integers(1, 6))
    r, s = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, pad = draw(st.integers(1, 2)), draw(st.integers(0, 1))
    h, w = draw(st.integers(r, r + 3)), draw(st.integers(s, s + 3))
    out_h, out_w = (h + 2 * pad - r) // stride + 1, (w + 2 * pad - s) // stride + 1
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    weights = rng.random((k, 1 if depthwise else c, r, s)) < draw(st.floats(0.0, 1.0))
    acts = np.pad(rng.random((c, h, w)) < draw(st.floats(0.0, 1.0)), ((0, 0), (pad, pad), (pad, pad)))
    blocks = draw(st.integers(1, out_h * out_w))
    return {
        "weights": weights,
        "acts": acts,
        "stride": stride,
        "out_w": out_w,
        "m_bounds": np.array([0, k]) if depthwise else _starts(k, draw(st.integers(1, 4))),
        "c_bounds": _starts(c, draw(st.integers(1, 4))),
        "pix_bounds": np.array([(i * out_h * out_w) // blocks for i in range(blocks + 1)], dtype=np.int64),
        "depthwise": depthwise,
        "simd": draw(st.integers(1, 3)),
        "iacts_compressed": draw(st.booleans()),
        "weights_compressed": draw(st.booleans()),
        "empty_column_cycles": draw(st.integers(0, 2)),
        "fill_cycles": draw(st.integers(0, 7)),
    }


def _kernel(t: dict) -> np.ndarray:
    counts = column_counts(t["weights"], t["m_bounds"], t["depthwise"], t["weights_compressed"])
    nonzero = column_counts(t["weights"], t["m_bounds"], t["depthwise"], True)
    return pe_tile_stats(
        counts, nonzero, t["acts"], t["stride"], t["out_w"], t["c_bounds"], t["pix_bounds"], t["simd"],
        t["iacts_compressed"], t["weights_compressed"], t["empty_column_cycles"], t["fill_cycles"],
    )  # fmt: skip


def _reference(t: dict) -> np.ndarray:
    return np.array(
        pe_tile_stats_ref(
            t["weights"].astype(int).tolist(),
            t["acts"].astype(int).tolist(),
            t["stride"],
            t["out_w"],
            t["m_bounds"].tolist(),
            t["c_bounds"].tolist(),
            t["pix_bounds"].tolist(),
            t["depthwise"],
            t["simd"],
            t["iacts_compressed"],
            t["weights_compressed"],
            t["empty_column_cycles"],
            t["fill_cycles"],
        )
    )


def _effectual_by_hand(t: dict) -> int:
    """Products of the layer with a non-zero weight and a non-zero (unpadded) iact, one output at a time."""
    w, a, st, out_w = t["weights"], t["acts"], t["stride"], t["out_w"]
    k, _, r, s = w.shape
    pixels = int(t["pix_bounds"][-1])
    total = 0
    for p in range(pixels):
        y0, x0 = (p // out_w) * st, (p % out_w) * st
        window = a[:, y0 : y0 + r, x0 : x0 + s]
        if t["depthwise"]:
            total += int(np.sum(w[:, 0] & window))
        else:
            total += sum(int(np.sum(w[m] & window)) for m in range(k))
    return total


@settings(deadline=None, max_examples=120)
@given(t=tiles())
def test_kernel_equals_cycle_by_cycle_csc_reference(t):
    stats = _kernel(t)
    assert np.array_equal(stats, _reference(t))
    # The tiles cover every product of the layer once: their effectual MACs are the layer's.
    assert int(stats[..., STAT_EFFECTUAL].sum()) == _effectual_by_hand(t)
    # Every MAC cycle's lanes are a weight multiplied or an empty lane.
    fill = np.where(stats[..., STAT_ENTERED] > 0, t["fill_cycles"], 0)
    mac_cycles = stats[..., STAT_CYCLES] - fill - stats[..., STAT_EMPTY] * t["empty_column_cycles"]
    assert np.array_equal(t["simd"] * mac_cycles, stats[..., STAT_SLOTS] + stats[..., STAT_IDLE_LANES])


@settings(deadline=None, max_examples=40)
@given(t=tiles())
def test_one_cycle_per_effectual_mac_with_one_mac_and_no_bubbles(t):
    """SIMD 1, CSC operands, free empty columns, no fill: cycles = MACs with both operands non-zero."""
    t = {**t, "simd": 1, "iacts_compressed": True, "weights_compressed": True}
    t.update(empty_column_cycles=0, fill_cycles=0)
    stats = _kernel(t)
    assert np.array_equal(stats[..., STAT_CYCLES], stats[..., STAT_SLOTS])
    assert np.array_equal(stats[..., STAT_SLOTS], stats[..., STAT_EFFECTUAL])


def test_csc_encoding_by_hand():
    """Paper §IV-A: each non-zero carries the count of zeros before it; the address vector ends columns."""
    csc = csc_encode([[0, 3, 0, 0, 5], [0, 0, 0, 0, 0], [7, 0, 1, 0, 0]])
    assert csc.data == [(1, 3), (2, 5), (0, 7), (1, 1)]
    assert csc.address == [2, 2, 4]  # the empty middle column repeats its start
    assert csc.column(1) == []
    assert csc_positions(csc, 0) == [1, 4]
    assert csc_positions(csc, 2) == [0, 2]
    raw = csc_encode([[0, 3]], compressed=False)  # uncompressed: every value, count fixed at 0
    assert raw.data == [(0, 0), (0, 3)]
    assert raw.address == [2]


def test_pointwise_tile_worked_by_hand():
    """A 1x1 layer, 3 input channels x 4 filters, 2 output positions, one tile.

    Weights (rows = filters m0..m3, columns = channels c0..c2):
        c0 c1 c2
    m0   1  0  0
    m1   1  0  1
    m2   0  0  1
    m3   1  0  1
    columns: c0 has 3 non-zeros, c1 none, c2 has 3.
    Iacts: position 0 = (5, 2, 0) -> c0, c1 non-zero; position 1 = (0, 0, 4) -> c2 only.
    SIMD 1: position 0: c0 -> 3 cycles, c1 -> empty column (0 cycles by default); position 1: c2 -> 3.
    Total 6 cycles = 6 effectual MACs, 3 iacts entered, 1 empty look-up, no empty lane.
    SIMD 2: ceil(3/2) + ceil(3/2) = 4 cycles, each column of 3 leaves one of its 4 lanes empty (2 in
    all); with a 1-cycle bubble per empty column: 5 cycles.
    """
    weights = np.array([[1, 0, 0], [1, 0, 1], [0, 0, 1], [1, 0, 1]], dtype=bool)[:, :, None, None]
    acts = np.array([[[1, 0]], [[1, 0]], [[0, 1]]], dtype=bool)  # (c, h=1, w=2)
    t = {
        "weights": weights, "acts": acts, "stride": 1, "out_w": 2, "m_bounds": np.array([0, 4]),
        "c_bounds": np.array([0, 3]), "pix_bounds": np.array([0, 2]), "depthwise": False, "simd": 1,
        "iacts_compressed": True, "weights_compressed": True, "empty_column_cycles": 0, "fill_cycles": 0,
    }  # fmt: skip
    assert _kernel(t)[0, 0, 0].tolist() == [6, 6, 3, 1, 6, 0]
    assert _kernel({**t, "simd": 2})[0, 0, 0].tolist() == [4, 6, 3, 1, 6, 2]
    assert _kernel({**t, "simd": 2, "empty_column_cycles": 1})[0, 0, 0].tolist() == [5, 6, 3, 1, 6, 2]
    # Uncompressed iacts: all 6 iacts enter; weights still CSC: 3 + 0 + 3 per position = 12 cycles,
    # of which the 6 products with a zero iact (c2 at position 0, c0 at position 1) are not effectual.
    assert _kernel({**t, "iacts_compressed": False})[0, 0, 0].tolist() == [12, 12, 6, 2, 6, 0]
    # Uncompressed weights too: every iact meets all 4 filters, 24 products, still 6 effectual.
    raw = {**t, "iacts_compressed": False, "weights_compressed": False}
    assert _kernel(raw)[0, 0, 0].tolist() == [24, 24, 6, 0, 6, 0]
    assert _reference(t)[0, 0, 0].tolist() == [6, 6, 3, 1, 6, 0]


def test_depthwise_raw_iacts_cost_one_cycle_per_nonzero_weight_and_position():
    """Depthwise, raw iacts (padding included): cycles = non-zero weights x output positions."""
    rng = np.random.default_rng(3)
    weights = rng.random((4, 1, 3, 3)) < 0.7
    acts = np.pad(rng.random((4, 5, 5)) < 0.5, ((0, 0), (1, 1), (1, 1)))
    counts = column_counts(weights, np.array([0, 4]), True, True)
    stats = pe_tile_stats(
        counts, counts, acts, 1, 5, np.array([0, 4]), np.array([0, 25]), 1, False, True, 0, 0
    )
    assert stats[0, 0, 0, STAT_CYCLES] == int(weights.sum()) * 25
