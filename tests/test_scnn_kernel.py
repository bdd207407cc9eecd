"""SCNN's layer kernel and dataflow against the cycle-by-cycle golden reference, and worked examples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.dataflows.scnn import PlanarGeometry, PlanarHardware, PlanarTiledCP
from accelsim.kernels.reference.scnn import encode_entries, run_layer, run_pe
from accelsim.kernels.scnn import (
    STAT_CONFLICT,
    STAT_DRAIN,
    STAT_ISSUED,
    STAT_MERGED,
    STAT_STEPS,
    STAT_VALID,
    TABLE_MIN_ACTS,
    dnnsim_bank,
    zero_run_entries,
)
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.masks import OperandMasks, effectual_macs

SPARSE = PlanarTiledCP("sparse", sparse=True)
DENSE = PlanarTiledCP("dense", sparse=False)


ACCUMULATOR = (("lockstep", 0), ("queued", 1), ("queued", 2), ("queued", 4), ("queued", 0), ("merging", 0))
"""(accumulator model, FIFO depth) pairs the property tests draw; queued at depth 0 is lock step."""


def fast(layer: Layer, geom: PlanarGeometry, wmask, amask, bands: int, banks: int | None, df=SPARSE,
         order: str = "krs", acc: tuple[str, int] = ("lockstep", 0),
         drain_each_channel: bool = False):  # fmt: skip
    """The dataflow's `map` (lists + numba kernel), the way the accelerator model calls it."""
    hardware = PlanarHardware(geom, banks or 32, banks is not None, order, bands, acc[0], acc[1],
                              drain_each_channel)  # fmt: skip
    mapping = df.map(layer, hardware, OperandMasks(wmask, amask))
    return mapping.tiling, mapping.busy, mapping.strict, mapping.stats


def assert_counts_equal(stats, ref, geom: PlanarGeometry) -> None:
    """The kernel's layer counters equal the reference's; so do the packing slots of the slot partition
    (steps and waiting cycles x F x I lanes, less the issued products), which the reference counts
    lane-cycle by lane-cycle, and the accumulator accesses (valid products less merged ones)."""
    assert stats[STAT_ISSUED] == ref.issued
    assert stats[STAT_VALID] == ref.valid
    assert stats[STAT_STEPS] == ref.steps
    assert stats[STAT_CONFLICT] == ref.conflict_cycles
    assert stats[STAT_DRAIN] == ref.drain_cycles
    assert stats[STAT_VALID] - stats[STAT_MERGED] == ref.accesses
    lanes = geom.f * geom.i
    assert (stats[STAT_STEPS] + stats[STAT_CONFLICT]) * lanes - stats[STAT_ISSUED] == ref.packing_slots
    assert stats[STAT_STEPS] + stats[STAT_CONFLICT] + stats[STAT_DRAIN] == sum(map(sum, ref.busy))


def reference(layer: Layer, geom: PlanarGeometry, m, wmask, amask, banks: int | None, order: str = "krs",
              acc: tuple[str, int] = ("lockstep", 0), drain_each_channel: bool = False):  # fmt: skip
    bank_of = None if banks is None else (lambda k, x, y: dnnsim_bank(k, x, y, banks))
    return run_layer(
        h=layer.h, w=layer.w, c=layer.c, k=layer.k, r=layer.r, s=layer.s, stride=layer.stride,
        pad=layer.pad, groups=layer.groups, fc=m.fc, weights=wmask.tolist(), acts=amask.tolist(),
        pe_rows=geom.pe_rows, pe_cols=geom.pe_cols, f=geom.f, i=geom.i, kc=m.kc, bands=m.bands,
        bank_of=bank_of, weight_order=order, accumulator=acc[0], depth=acc[1],
        drain_each_channel=drain_each_channel,
    )  # fmt: skip


@st.composite
def conv_cases(draw):
    stride = draw(st.integers(1, 3))
    r = draw(st.integers(1, 4))
    s = draw(st.integers(1, 4))
    pad = draw(st.integers(0, 2))
    h = draw(st.integers(max(1, r - 2 * pad), 9))
    w = draw(st.integers(max(1, s - 2 * pad), 9))
    groups = draw(st.integers(1, 2))
    c = groups * draw(st.integers(1, 3))
    k = groups * draw(st.integers(1, 6))
    layer = Layer("t", LayerKind.CONV, h, w, c, k, r, s, stride, pad, groups)
    geom = PlanarGeometry(draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4)),
                          draw(st.integers(1, 4)), draw(st.integers(1, 40)))  # fmt: skip
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    wd, ad = draw(st.floats(0.1, 1.0)), draw(st.floats(0.1, 1.0))
    wmask = rng.random((k, c // groups, r, s)) < wd
    amask = rng.random((c, h, w)) < ad
    bands = draw(st.integers(1, 3))
    banks = draw(st.sampled_from([None, 32, 8]))
    return layer, geom, wmask, amask, bands, banks


@settings(deadline=None, max_examples=120)
@given(case=conv_cases(), order=st.sampled_from(["krs", "rsk"]), acc=st.sampled_from(ACCUMULATOR),
       drain_each_channel=st.booleans())  # fmt: skip
def test_conv_kernel_equals_cycle_by_cycle_reference(case, order, acc, drain_each_channel):
    layer, geom, wmask, amask, bands, banks = case
    m, busy, strict, stats = fast(layer, geom, wmask, amask, bands, banks, order=order, acc=acc,
                                  drain_each_channel=drain_each_channel)  # fmt: skip
    ref = reference(layer, geom, m, wmask, amask, banks, order, acc, drain_each_channel)
    assert busy.tolist() == ref.busy
    assert strict.tolist() == ref.strict
    assert_counts_equal(stats, ref, geom)
    # every product of two non-zeros that reaches an output is accumulated exactly once (any bands)
    assert ref.valid == effectual_macs(layer, OperandMasks(wmask, amask))


@st.composite
def wide_conv_cases(draw):
    """Planes large enough that a channel holds >= TABLE_MIN_ACTS activations (per-vector bank tables)."""
    r = draw(st.integers(1, 3))
    pad = draw(st.integers(0, 1))
    h, w = draw(st.integers(10, 14)), draw(st.integers(10, 14))
    c, k = draw(st.integers(1, 2)), draw(st.integers(2, 12))
    layer = Layer("t", LayerKind.CONV, h, w, c, k, r, r, draw(st.integers(1, 2)), pad)
    geom = PlanarGeometry(draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(2, 4)),
                          draw(st.integers(2, 4)), draw(st.integers(8, 200)))  # fmt: skip
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    wmask = rng.random((k, c, r, r)) < draw(st.floats(0.3, 1.0))
    amask = rng.random((c, h, w)) < draw(st.floats(0.6, 1.0))
    amask[0].flat[:TABLE_MIN_ACTS] = True  # channel 0 takes the table path (in one band at least)
    return layer, geom, wmask, amask, draw(st.integers(1, 2)), draw(st.sampled_from([32, 8]))


@settings(deadline=None, max_examples=24)
@given(case=wide_conv_cases(), order=st.sampled_from(["krs", "rsk"]), acc=st.sampled_from(ACCUMULATOR))
def test_wide_conv_kernel_equals_reference(case, order, acc):
    layer, geom, wmask, amask, bands, banks = case
    m, busy, strict, stats = fast(layer, geom, wmask, amask, bands, banks, order=order, acc=acc)
    ref = reference(layer, geom, m, wmask, amask, banks, order, acc)
    assert busy.tolist() == ref.busy
    assert strict.tolist() == ref.strict
    assert_counts_equal(stats, ref, geom)


@settings(deadline=None, max_examples=25)
@given(
    c=st.integers(1, 40),
    k=st.integers(1, 20),
    pes=st.integers(1, 6),
    entries=st.integers(1, 12),
    seed=st.integers(0, 2**31),
    acc=st.sampled_from(ACCUMULATOR),
)
def test_fc_kernel_equals_reference(c, k, pes, entries, seed, acc):
    rng = np.random.default_rng(seed)
    layer = Layer("fc", LayerKind.FC, 1, 1, c, k)
    geom = PlanarGeometry(1, pes, 4, 4, entries)
    wmask = rng.random((k, c, 1, 1)) < 0.5
    amask = rng.random((c, 1, 1)) < 0.6
    m, busy, _strict, stats = fast(layer, geom, wmask, amask, 1, 32, acc=acc)
    ref = reference(layer, geom, m, wmask, amask, 32, acc=acc)
    assert busy.tolist() == ref.busy
    assert_counts_equal(stats, ref, geom)
    assert stats[STAT_VALID] == ref.valid == int((wmask[:, :, 0, 0] & amask[None, :, 0, 0]).sum())


@settings(deadline=None, max_examples=30)
@given(case=conv_cases())
def test_dense_lists_equal_all_ones_sparse_lists(case):
    """DCNN's counted lists give the cycles SCNN's kernel gives on all-ones masks without conflicts."""
    layer, geom, wmask, amask, bands, _ = case
    ones_w, ones_a = np.ones_like(wmask), np.ones_like(amask)
    _, busy_s, strict_s, stats_s = fast(layer, geom, ones_w, ones_a, bands, None)
    _, busy_d, strict_d, stats_d = fast(layer, geom, wmask, amask, bands, None, df=DENSE)
    assert busy_d.tolist() == busy_s.tolist()
    assert strict_d.tolist() == strict_s.tolist()
    assert stats_d[STAT_ISSUED] == stats_s[STAT_ISSUED]
    assert stats_d[STAT_STEPS] == stats_s[STAT_STEPS]


@settings(deadline=None, max_examples=80)
@given(blocks=st.lists(st.lists(st.booleans(), min_size=1, max_size=70), min_size=1, max_size=4),
       max_run=st.integers(1, 15))  # fmt: skip
def test_zero_run_entries_equal_encoder(blocks, max_run):
    block = np.array([b for b, vals in enumerate(blocks) for v in vals if v], dtype=np.int64)
    pos = np.array([p for vals in blocks for p, v in enumerate(vals) if v], dtype=np.int64)
    assert zero_run_entries(block, pos, max_run) == sum(encode_entries(v, max_run) for v in blocks)


def test_zero_run_placeholders_worked_example():
    """4-bit index: 15 zeros fit one index, 16 need a placeholder, 40 need two ([SCNN17 §III])."""
    assert encode_entries([False] * 15 + [True], 15) == 1
    assert encode_entries([False] * 16 + [True], 15) == 2
    assert encode_entries([False] * 40 + [True, True], 15) == 4
    assert encode_entries([True] + [False] * 100, 15) == 1


@pytest.mark.parametrize(
    ("ks", "cycles", "conflict"),
    [
        ((0, 1, 2, 3), 1, 0),  # k & 3 differ: the 16 products of the 2 x 2 tile hit 16 banks
        ((0, 8, 16, 24), 4, 3),  # equal k mod 8: each activation's 4 products hit one bank
        ((0, 4, 8, 12), 2, 1),  # k & 4 flips bit 4 of the bank: pairs collide
    ],
)
def test_two_by_two_tile_bank_conflicts(ks, cycles, conflict):
    """Hand-worked: a 2 x 2 activation tile times 4 weights at r = s = 0, F = I = 4, DNNsim's hash.

    bank = 16 (k2 ^ x1 ^ y1) + 8 x0 + 4 y0 + (k & 3); the four outputs (x, y) in {0, 1}^2 take
    banks 0, 4, 8, 12 (+ k & 3, + 16 k2).
    """
    acts = [(0, 0), (0, 1), (1, 0), (1, 1)]
    weights = [(k, 0, 0) for k in ks]
    run = run_pe(acts, weights, 4, 4, 1, (0, 2, 2), lambda k, x, y: dnnsim_bank(k, x, y, 32))
    assert (run.cycles, run.conflict_cycles, run.valid) == (cycles, conflict, 16)
    layer = Layer("t", LayerKind.CONV, 2, 2, 1, 25, 1, 1)
    wmask = np.zeros((25, 1, 1, 1), dtype=bool)
    wmask[list(ks)] = True
    _, busy, _, _ = fast(layer, PlanarGeometry(1, 1, 4, 4, 100), wmask, np.ones((1, 2, 2), bool), 1, 32)
    assert int(busy.sum()) == cycles


def test_stride_two_phase_split_worked_example():
    """4 x 4 input, 2 x 2 kernel, stride 2, one PE, F = I = 4, dense operands.

    Without phase splitting one 4 x 4 step would form 16 products of which 4 are valid per weight.
    Split into 4 phases, each phase pairs its 1 weight with its 4 activations: 4 steps, 4 cycles,
    16 products issued, all 16 valid (= the layer's 2 x 2 x 4 MACs).
    """
    layer = Layer("s2", LayerKind.CONV, 4, 4, 1, 1, 2, 2, 2)
    m, busy, _strict, stats = fast(layer, PlanarGeometry(1, 1, 4, 4, 16), np.ones((1, 1, 2, 2), bool),
                                  np.ones((1, 4, 4), bool), 1, 32)  # fmt: skip
    assert m.phases == 4
    assert int(busy.sum()) == 4
    assert stats[STAT_ISSUED] == stats[STAT_VALID] == layer.macs == 16


def test_fc_runs_at_a_quarter_of_peak():
    """FC: each activation meets F weights alone, so dense FC uses F of the F x I multipliers."""
    layer = Layer("fc", LayerKind.FC, 1, 1, 256, 64)
    geom = PlanarGeometry(2, 2, 4, 4, 1024)
    _, busy, _, stats = fast(layer, geom, np.ones((64, 256, 1, 1), bool), np.ones((256, 1, 1), bool), 1, 32)
    span = int(busy.max(axis=1).sum())
    assert stats[STAT_VALID] / (geom.pes * 16 * span) == 0.25


def _plain_compressed_entries(layer: Layer, geom: PlanarGeometry, m, wmask, amask, max_run: int, order: str):
    """The zero-run format block by block with plain loops ([SCNN17 §III])."""
    kpg = layer.k_per_group
    w_entries = 0
    for c in range(layer.c_per_group):
        for g in range(layer.groups):
            for k0 in range(0, kpg, m.kc):
                ks = range(k0, min(k0 + m.kc, kpg))
                slots = [(k, r, s) for k in ks for r in range(layer.r) for s in range(layer.s)]
                if order == "rsk":
                    slots.sort(key=lambda t: (t[1], t[2], t[0]))
                seq = [bool(wmask[g * kpg + k, c, r, s]) for k, r, s in slots]
                w_entries += encode_entries(seq, max_run)
    tile_h = -(-layer.out_h // geom.pe_rows)
    a_entries = 0
    for c in range(layer.c):
        tiles: dict[int, list[bool]] = {}
        for y in range(layer.h):
            for x in range(layer.w):
                ay = min(y // layer.stride, layer.out_h - 1)
                ax = min(x // layer.stride, layer.out_w - 1)
                tiles.setdefault((ay // tile_h) * geom.pe_cols + ax // m.tile_w, []).append(
                    bool(amask[c, y, x])
                )
        a_entries += sum(encode_entries(v, max_run) for v in tiles.values())  # row-major within a tile
    return a_entries, w_entries


@settings(deadline=None, max_examples=40)
@given(case=conv_cases(), max_run=st.integers(1, 15), order=st.sampled_from(["krs", "rsk"]))
def test_compressed_entries_equal_plain_encoder(case, max_run, order):
    layer, geom, wmask, amask, _, _ = case
    m = SPARSE.tiling(layer, geom, 1)
    got = SPARSE.compressed_entries(layer, geom, m, amask, wmask, max_run, order)
    assert got == _plain_compressed_entries(layer, geom, m, wmask, amask, max_run, order)


@pytest.mark.parametrize(
    ("k", "order", "cycles", "conflict"), [(1, "krs", 5, 3), (4, "krs", 14, 8), (4, "rsk", 6, 0)]
)
def test_weight_order_same_entry_products_serialise(k, order, cycles, conflict):
    """Hand-worked: one PE, dense 1 x 6 row, k filters of 1 x 3, F = I = 4, DNNsim's hash.

    Activations x0..x3 then x4, x5; out_w = 4; a product lands on ox = x - s. `krs`, k = 1: the
    vector (s0, s1, s2) times x0..x3 sends 3 products each to ox 0 and 1 (same entry, same bank:
    3 cycles), times x4, x5 sends 2 to ox 3 (2 cycles): 5 cycles. `krs`, k = 4: vectors
    [k0s0 k0s1 k0s2 k1s0], [k1s1 k1s2 k2s0 k2s1], [k2s2 k3s0 k3s1 k3s2] take 3, 2, 3 cycles on
    x0..x3 and 2, 2, 2 on x4, x5: 14. `rsk`: each vector holds 4 channels at one s, so its products
    hit distinct (k, ox) entries in distinct banks: 2 x 3 steps of one cycle.
    """
    layer = Layer("row", LayerKind.CONV, 1, 6, 1, k, 1, 3)
    wmask, amask = np.ones((k, 1, 1, 3), bool), np.ones((1, 1, 6), bool)
    geom = PlanarGeometry(1, 1, 4, 4, 64)
    m, busy, _, stats = fast(layer, geom, wmask, amask, 1, 32, order=order)
    ref = reference(layer, geom, m, wmask, amask, 32, order)
    assert (int(busy.sum()), int(stats[STAT_CONFLICT]), int(stats[STAT_VALID])) == (cycles, conflict, 12 * k)
    assert (sum(map(sum, ref.busy)), ref.conflict_cycles) == (cycles, conflict)


@pytest.mark.parametrize(
    ("acc", "cycles", "waits", "drained", "accesses"),
    [
        (("lockstep", 0), 5, 3, 0, 12),
        (("queued", 1), 4, 1, 1, 12),
        (("queued", 2), 3, 0, 1, 12),
        (("merging", 0), 2, 0, 0, 6),
    ],
)
def test_accumulator_models_worked_example(acc, cycles, waits, drained, accesses):
    """Hand-worked: one PE, dense 1 x 6 row, one 1 x 3 filter (krs = rsk with k = 1), F = I = 4.

    Step 1 (x0..x3 x s0..s2) sends 3, 3, 2, 1 products to ox 0, 1, 2, 3 (banks 0, 8, 16, 24); step 2
    (x4, x5) sends 1 to ox 2 and 2 to ox 3. Lock step: 3 + 2 cycles. FIFOs of 1 (a bank holds 2 a
    cycle): step 1 waits 1 cycle and leaves 1, 1, 0, 0 queued; step 2 finds room (bank 24: 0 + 2) and
    leaves bank 24 one product: 2 + 1 cycles + 1 to drain. FIFOs of 2: no wait, step 1 leaves 2, 2,
    1, 0, step 2 leaves 1, 1, 1, 1: 1 + 1 + 1 to drain. Merging: every bank takes one entry per step,
    12 products make 6 accumulator accesses (4 entries, then 2): 1 + 1 cycles.
    """
    layer = Layer("row", LayerKind.CONV, 1, 6, 1, 1, 1, 3)
    wmask, amask = np.ones((1, 1, 1, 3), bool), np.ones((1, 1, 6), bool)
    geom = PlanarGeometry(1, 1, 4, 4, 64)
    m, busy, _, stats = fast(layer, geom, wmask, amask, 1, 32, acc=acc)
    ref = reference(layer, geom, m, wmask, amask, 32, "krs", acc)
    got = (int(busy.sum()), int(stats[STAT_CONFLICT]), int(stats[STAT_DRAIN]))
    assert got == (sum(map(sum, ref.busy)), ref.conflict_cycles, ref.drain_cycles) == (cycles, waits, drained)
    assert int(stats[STAT_VALID] - stats[STAT_MERGED]) == ref.accesses == accesses


@settings(deadline=None, max_examples=40)
@given(case=conv_cases(), order=st.sampled_from(["krs", "rsk"]), depth=st.integers(0, 4))
def test_deeper_fifos_and_merging_never_slow_a_pe(case, order, depth):
    """Every PE's cycles in every group: queued(depth + 1) <= queued(depth) <= lock step (= queued(0)),
    merging <= lock step: a FIFO only lets a step fire earlier, a merge only removes bank accesses."""
    layer, geom, wmask, amask, bands, _ = case

    def busy(acc: tuple[str, int]) -> np.ndarray:
        return fast(layer, geom, wmask, amask, bands, 32, order=order, acc=acc)[1]

    lock = busy(("lockstep", 0))
    assert (busy(("queued", 0)) == lock).all()
    assert (busy(("queued", depth + 1)) <= busy(("queued", depth))).all()
    assert (busy(("queued", depth)) <= lock).all()
    assert (busy(("merging", 0)) <= lock).all()
