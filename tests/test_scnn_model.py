"""SCNN / DCNN models: configs, iso-multiplier set-up, small layers end to end, energy, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slot_checks import check_layer_run
from test_scnn_kernel import reference

from accelsim.accelerators import build
from accelsim.api import resolve_config
from accelsim.config.arch import parse_arch
from accelsim.errors import ConfigError
from accelsim.report.schema import Slots
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.masks import OperandMasks
from accelsim.workload.sparsity import LayerDensity, SparsityProfile


def model(name: str, **changes):
    spec, _ = resolve_config(name)
    if changes:
        spec = parse_arch({**spec.model_dump(mode="json"), **changes}, name)
    return build(spec)


def work(layer: Layer, wd: float, ad: float, seed: int = 0) -> LayerWorkload:
    prof = SparsityProfile("t", "n", "test", {layer.name: LayerDensity(wd, ad)})
    return LayerWorkload("n", layer, prof, seed)


CONV = Layer("conv", LayerKind.CONV, 16, 16, 32, 64, 3, 3, 1, 1)


def test_shipped_configs_are_iso_multiplier_and_iso_clock():
    models = [model(n) for n in ("scnn", "dcnn", "dcnn_opt")]
    assert {m.multipliers for m in models} == {1024}
    assert {m.clock_hz for m in models} == {1e9}


def test_dataflow_must_match_kind():
    spec, _ = resolve_config("scnn")
    with pytest.raises(ValueError, match="pt_is_cp_sparse"):
        build(parse_arch({**spec.model_dump(mode="json"), "dataflow": "pt_is_cp_dense"}, "x"))


def test_unknown_key_is_a_clear_error():
    spec, _ = resolve_config("scnn")
    with pytest.raises(ConfigError, match="bank_hsh"):
        parse_arch({**spec.model_dump(mode="json"), "bank_hsh": "dnnsim"}, "x")


def test_sparse_layer_is_faster_than_dense_and_deterministic():
    scnn, dcnn = model("scnn"), model("dcnn")
    w = work(CONV, 0.3, 0.4)
    r1, tl = scnn.simulate_layer(w)
    r2, _ = scnn.simulate_layer(work(CONV, 0.3, 0.4))
    d, _ = dcnn.simulate_layer(w)
    assert r1 == r2
    assert r1.cycles < d.cycles
    assert r1.macs_effectual <= r1.macs_issued <= CONV.macs
    assert d.macs_issued >= CONV.macs  # dense: every product, incl. those landing in the padding
    assert set(tl.unit) == set(range(64))
    assert set(tl.state) <= {"busy", "idle", "stalled"}


def test_dense_data_scnn_matches_dcnn_up_to_bank_conflicts():
    """At density 1 both run the same steps; SCNN can only add waits for its banks. With sparse data a
    lock-step accumulator waits (the hash spreads dense neighbours, not scattered survivors); the
    shipped bank FIFOs absorb those waits."""
    free = {"dram": {"bandwidth_bytes_per_cycle": None}}
    dense, sparse = work(CONV, 1.0, 1.0), work(CONV, 0.5, 0.5)
    s, _ = model("scnn", **free).simulate_layer(dense)
    ideal, _ = model("scnn", bank_hash="ideal", **free).simulate_layer(dense)
    d, _ = model("dcnn", **free).simulate_layer(dense)
    assert ideal.cycles == d.cycles <= s.cycles
    s, _ = model("scnn", **free).simulate_layer(sparse)
    ideal, _ = model("scnn", bank_hash="ideal", **free).simulate_layer(sparse)
    lock, _ = model("scnn", accumulator="lockstep", **free).simulate_layer(sparse)
    assert ideal.cycles <= s.cycles < lock.cycles


def test_strict_barrier_is_never_faster():
    w = work(CONV, 0.3, 0.5)
    loose, _ = model("scnn").simulate_layer(w)
    strict, _ = model("scnn", barrier="input_channel").simulate_layer(w)
    assert strict.cycles >= loose.cycles


def test_fc_utilization_is_at_most_a_quarter():
    fc = Layer("fc", LayerKind.FC, 1, 1, 2048, 1024)
    r, _ = model("scnn", dram={"bandwidth_bytes_per_cycle": None}).simulate_layer(work(fc, 1.0, 1.0))
    assert 0.2 < r.utilization <= 0.25


def test_depthwise_and_stride_two_run():
    dw = Layer("dw", LayerKind.DEPTHWISE, 14, 14, 32, 32, 3, 3, 2, 1, 32)
    r, _ = model("scnn").simulate_layer(work(dw, 1.0, 0.5))
    assert "Kc=1" in r.mapping
    assert "4 phases" in r.mapping
    assert r.macs_issued >= r.macs_effectual > 0


def test_dcnn_opt_saves_energy_not_cycles():
    w = work(Layer("big", LayerKind.CONV, 112, 112, 64, 32, 3, 3, 1, 1), 0.4, 0.5)
    d, _ = model("dcnn").simulate_layer(w)
    o, _ = model("dcnn_opt").simulate_layer(w)
    assert o.cycles == d.cycles
    assert o.energy_pj["energy_mac_pj"] < d.energy_pj["energy_mac_pj"]
    assert o.dram_bytes < d.dram_bytes  # the layer is tiled in time: activations go through DRAM


def test_layer_too_big_for_iaram_is_tiled_in_time():
    big = Layer("big", LayerKind.CONV, 112, 112, 64, 64, 3, 3, 1, 1)
    r, _ = model("scnn").simulate_layer(work(big, 0.5, 0.9))
    assert "temporal bands" in r.mapping
    assert r.dram_bytes > 0


def test_energy_has_every_component():
    r, _ = model("scnn").simulate_layer(work(CONV, 0.3, 0.4))
    assert all(r.energy_pj[f"energy_{c}_pj"] > 0 for c in ("mac", "rf", "sram", "noc", "static"))
    assert np.isfinite(sum(r.energy_pj.values()))


# -- the layer plan: PE timeline and slot partition ------------------------------------------------

FREE = {"dram": {"bandwidth_bytes_per_cycle": None}}
ROW = Layer("row", LayerKind.CONV, 1, 6, 1, 1, 1, 3)
"""One input row of 6, one 1 x 3 filter: out_w = 4, 12 MACs."""


SCNN_ROWS = {0: [("busy", 0, 2), ("idle", 2, 3), ("stalled", 3, 5)], 1: [("busy", 0, 3), ("stalled", 3, 5)]}


@pytest.mark.parametrize(
    ("config", "accumulator", "cycles", "slots", "rows"),
    [
        ("scnn", "lockstep", 5, Slots(effectual=12, ineffectual=6, packing=62, unit_idle=16, memory_stall=64),
         SCNN_ROWS),
        ("scnn", "queued", 5,
         Slots(effectual=12, ineffectual=6, packing=14, unit_idle=16, memory_stall=64, fill_drain=48),
         SCNN_ROWS),
        (
            "dcnn",
            None,
            3,
            Slots(effectual=12, ineffectual=6, packing=14, memory_stall=64),
            {0: [("busy", 0, 1), ("stalled", 1, 3)], 1: [("busy", 0, 1), ("stalled", 1, 3)]},
        ),
    ],
)  # fmt: skip
def test_slot_partition_hand_checked(config, accumulator, cycles, slots, rows):
    """1 x 2 PEs of F = I = 4 (16 lanes each), dense ROW, DNNsim's hash (rsk = krs with one filter).

    Tiles: out_w 4 over 2 PE columns, tile_w 2. Anchors: x0, x1 -> PE 0; x2..x5 (x4, x5 clamped to
    ox 3) -> PE 1. A product x * s lands on ox = x - s. PE 0: 2 x 3 = 6 products in one step, 3 land
    (ox 0 twice: x0 s0, x1 s1; ox 1 once), 3 fall off the plane; ox 0 takes 2 products in one bank:
    2 cycles. PE 1: 4 x 3 = 12 products, 9 land (ox 0: 1, ox 1: 2, ox 2: 3, ox 3: 3) in banks 0, 8,
    16, 24: 3 cycles. Halo: 2 columns to the left x Kc 1 = 2 cycles after the barrier at 3: 5 cycles.
    Slots (16 per PE-cycle, 160): effectual 12 (= the layer's MACs), ineffectual 18 - 12 = 6 (fell off
    the plane), packing: 5 busy PE-cycles x 16 - 18 products = 62 (PE 0: 10 empty lanes + 16 in its
    conflict cycle; PE 1: 4 + 2 x 16), unit_idle: PE 0 waits 1 cycle at the barrier (16), memory
    stall: both PEs wait 2 cycles for the halo (64). Queued (FIFOs of 4, shipped): each step fires in
    one cycle and its products wait in the FIFOs, which drain in 1 (PE 0: ox 0's second product) and 2
    (PE 1: ox 2, ox 3) cycles: the same busy time, but packing only 2 x 16 - 18 = 14 empty lanes and
    (1 + 2) x 16 = 48 slots of fill / drain. DCNN: no conflicts, one cycle per step, 3 cycles;
    packing 2 x 16 - 18 = 14.
    """
    changes = {} if accumulator is None else {"accumulator": accumulator}
    m = model(config, pe_rows=1, pe_cols=2, f=4, i=4, **changes, **FREE)
    r, tl = m.simulate_layer(work(ROW, 1.0, 1.0))
    check_layer_run(r, tl)
    assert r.cycles == cycles
    assert r.slots == slots
    assert (r.macs_effectual, r.macs_issued) == (12, 18)
    assert r.stall_cycles == 2
    got = {u: [(str(s), int(a), int(b)) for s, a, b in zip(g.state, g.start, g.end, strict=True)]
           for u, g in tl.groupby("unit")}  # fmt: skip
    assert got == rows
    busy = [sum(b - a for s, a, b in rows[u] if s == "busy") for u in (0, 1)]
    assert r.imbalance == max(busy) / (sum(busy) / 2)
    assert r.idle_fraction == sum(b - a for u in rows for s, a, b in rows[u] if s == "idle") / (2 * cycles)


def test_scnn_effectual_slots_are_the_effectual_macs_and_dense_designs_issue_zeros():
    """SCNN issues only non-zero x non-zero products, so its ineffectual slots are the products that
    fall off the output plane; DCNN and DCNN-opt issue every product (ineffectual > 0 on sparse data)."""
    w = work(CONV, 0.3, 0.4)
    s, _ = model("scnn").simulate_layer(w)
    assert s.slots.effectual == s.macs_effectual
    assert s.slots.ineffectual == s.macs_issued - s.macs_effectual
    for name in ("dcnn", "dcnn_opt"):
        d, _ = model(name).simulate_layer(w)
        assert d.slots.effectual == d.macs_effectual
        assert d.slots.ineffectual == d.macs_issued - d.macs_effectual > 0.9 * CONV.macs - d.macs_effectual


def test_halo_exchange_is_a_network_stall():
    """One band, unlimited DRAM: every stalled cycle is a halo exchange (serial: after every group)."""
    m = model("scnn", **FREE)
    w = work(CONV, 0.3, 0.4)
    r, _ = m.simulate_layer(w)
    mapping = m.map_layer(w, 1)
    timing = m.group_timing(mapping)
    halo = int((timing.span - timing.compute).sum())
    assert r.stall_cycles == halo > 0
    assert r.slots.memory_stall == halo * 64 * 16  # 16 x 16 outputs: every PE holds a 2 x 2 tile
    assert "halo exchange" in r.closed_form


def test_pes_without_a_tile_are_unmapped():
    """A 7 x 7 output plane on 8 x 8 PEs leaves PE row 7 and column 7 (15 PEs) without a tile."""
    layer = Layer("c7", LayerKind.CONV, 7, 7, 16, 32, 3, 3, 1, 1)
    r, tl = model("scnn").simulate_layer(work(layer, 0.5, 0.5))
    check_layer_run(r, tl)
    assert r.slots.unmapped == 15 * r.cycles * 16
    idle_pes = tl.groupby("unit").state.agg(lambda s: set(map(str, s)) == {"idle"})
    assert sorted(idle_pes[idle_pes].index) == sorted(
        {7 * 8 + c for c in range(8)} | {r * 8 + 7 for r in range(8)}
    )


OPTIONS = [
    ("scnn", {}),
    ("scnn", {"weight_order": "krs"}),
    ("scnn", {"accumulator": "queued"}),
    ("scnn", {"accumulator": "queued", "queue_depth": 1, "weight_order": "krs"}),
    ("scnn", {"accumulator": "queued", "barrier": "input_channel"}),
    ("scnn", {"accumulator": "merging"}),
    ("scnn", {"accumulator": "merging", "weight_order": "krs"}),
    ("scnn", {"halo": "overlapped"}),
    ("scnn", {"barrier": "input_channel"}),
    ("scnn", {"barrier": "input_channel", "halo": "overlapped"}),
    ("scnn", {"bank_hash": "ideal"}),
    ("scnn", {"weight_order": "rsk"}),
    ("scnn", FREE),
    ("scnn", {"dram": {"bandwidth_bytes_per_cycle": 2}}),
    ("dcnn", {}),
    ("dcnn", {"halo": "overlapped", "barrier": "input_channel"}),
    ("dcnn", {"zero_gating": True}),
    ("dcnn", {"zero_gating": True, "zero_gating_scope": "multiplier"}),
    ("dcnn", {"compress_dram_activations": True}),
    ("dcnn_opt", {}),
    ("dcnn_opt", {"dram": {"bandwidth_bytes_per_cycle": 2}}),
]
SMALL = [
    (Layer("c", LayerKind.CONV, 12, 12, 8, 20, 3, 3, 1, 1), 0.5, 0.6),
    (Layer("band", LayerKind.CONV, 112, 112, 32, 8, 3, 3, 1, 1), 0.6, 0.9),  # several temporal bands
    (Layer("s2", LayerKind.CONV, 15, 15, 3, 8, 5, 5, 2, 2), 0.7, 1.0),
    (Layer("dw", LayerKind.DEPTHWISE, 9, 9, 6, 6, 3, 3, 1, 1, 6), 1.0, 0.5),
    (Layer("pw", LayerKind.POINTWISE, 5, 5, 12, 10), 0.4, 0.4),
    (Layer("fc", LayerKind.FC, 1, 1, 100, 30), 0.3, 0.5),
]


@pytest.mark.parametrize(("config", "changes"), OPTIONS, ids=[f"{c}-{o}" for c, o in OPTIONS])
def test_every_option_passes_the_slot_checks(config, changes):
    m = model(config, **changes)
    for layer, wd, ad in SMALL:
        r, tl = m.simulate_layer(work(layer, wd, ad))
        check_layer_run(r, tl)
        assert r.slots.effectual == r.macs_effectual
        if m.sparse:
            assert r.slots.ineffectual == r.macs_issued - r.macs_effectual
        assert ("reduction" if layer.kind == "fc" else "halo" if layer.r > 1 else "") in r.closed_form


def test_dram_stalls_stall_every_pe_with_a_tile():
    """A banded layer on a slow link: the array waits for each band's inputs, every PE with it."""
    layer, wd, ad = SMALL[1]
    m = model("scnn", dram={"bandwidth_bytes_per_cycle": 2})
    r, _ = m.simulate_layer(work(layer, wd, ad))
    free, _ = model("scnn", **FREE).simulate_layer(work(layer, wd, ad))
    assert "temporal bands" in r.mapping
    assert r.cycles > free.cycles
    assert r.stall_cycles - free.stall_cycles == r.cycles - free.cycles
    assert r.slots.memory_stall - free.slots.memory_stall == (r.cycles - free.cycles) * 64 * 16


@st.composite
def small_cases(draw):
    stride = draw(st.integers(1, 2))
    r = draw(st.integers(1, 3))
    pad = draw(st.integers(0, 1))
    h, w = draw(st.integers(max(r, 2), 8)), draw(st.integers(max(r, 2), 8))
    layer = Layer(
        "t", LayerKind.CONV, h, w, draw(st.integers(1, 3)), draw(st.integers(1, 6)), r, r, stride, pad
    )
    return (
        layer,
        draw(st.sampled_from([0.4, 0.8, 1.0])),
        draw(st.sampled_from([0.5, 1.0])),
        draw(st.integers(0, 99)),
    )


@settings(deadline=None, max_examples=40)
@given(
    case=small_cases(),
    rows=st.integers(1, 3),
    cols=st.integers(1, 3),
    f=st.integers(1, 4),
    i=st.integers(1, 4),
    order=st.sampled_from(["rsk", "krs"]),
    acc=st.sampled_from([("lockstep", 4), ("queued", 1), ("queued", 4), ("merging", 4)]),
)
def test_busy_slots_equal_the_cycle_by_cycle_reference(case, rows, cols, f, i, order, acc):
    """The model's busy slots, split by the kernel's counters, equal the reference's own counts: packing
    lane by lane, fill / drain = the FIFOs' drain cycles x F x I."""
    layer, wd, ad, seed = case
    m = model("scnn", pe_rows=rows, pe_cols=cols, f=f, i=i, bank_entries=4, weight_order=order,
              accumulator=acc[0], queue_depth=acc[1], **FREE)  # fmt: skip
    w = work(layer, wd, ad, seed)
    r, tl = m.simulate_layer(w)
    if r.cycles == 0:  # nothing to multiply (no non-zero weight of a phase meets an activation), no halo
        assert tl.empty
        assert r.slots.total == 0
        return
    check_layer_run(r, tl)
    tiling = m.map_layer(w, 1).tiling
    assert len(tiling.bands) == 1  # small layers fit the RAMs
    depth = acc[1] if acc[0] == "queued" else 0
    masks = w.masks
    ref = reference(layer, m.geometry, tiling, masks.weights, masks.activations, 32, order, (acc[0], depth))
    assert (r.slots.effectual, r.slots.ineffectual) == (ref.valid, ref.issued - ref.valid)
    assert r.slots.packing == ref.packing_slots
    assert r.slots.fill_drain == ref.drain_cycles * f * i
    busy = (tl.end - tl.start)[tl.state.astype(str) == "busy"].groupby(tl.unit).sum()
    assert busy.reindex(range(rows * cols), fill_value=0).tolist() == [
        sum(b) for b in zip(*ref.busy, strict=True)
    ]


@pytest.mark.parametrize("bandwidth", [None, 1])
def test_a_group_without_work_or_halo_leaves_the_others_in_place(bandwidth):
    """A 1 x 1 layer (no halo) whose first output-channel group has only zero weights takes 0 cycles:
    the PEs' busy cycles still land in the groups that ran (the engine leaves no interval for it)."""
    layer = Layer("pw", LayerKind.POINTWISE, 8, 8, 4, 64)
    m = model("scnn", bank_entries=1, dram={"bandwidth_bytes_per_cycle": bandwidth})  # Kc = 32
    w = work(layer, 0.5, 0.5)
    weights = np.ones((64, 4, 1, 1), dtype=bool)
    weights[:32] = False
    w.__dict__["masks"] = OperandMasks(weights, w.masks.activations)  # replace the cached masks
    mapping = m.map_layer(w, 1)
    assert m.group_timing(mapping).span.tolist()[0] == 0 < m.group_timing(mapping).span.tolist()[1]
    r, tl = m.simulate_layer(w)
    check_layer_run(r, tl)
    busy = (tl.end - tl.start)[tl.state.astype(str) == "busy"].groupby(tl.unit).sum()
    assert busy.reindex(range(64), fill_value=0).tolist() == mapping.busy.sum(axis=0).tolist()
    assert r.slots.effectual == r.macs_effectual > 0


def test_dcnn_opt_gates_the_accumulate_of_zero_products():
    """`zero_gating_scope: macc` (shipped) saves the accumulator read-modify-write and the crossbar
    transfer of every product with a zero operand; `multiplier` only its multiply. Cycles are equal."""
    w = work(CONV, 0.4, 0.5)
    macc, _ = model("dcnn_opt").simulate_layer(w)
    mult, _ = model("dcnn_opt", zero_gating_scope="multiplier").simulate_layer(w)
    dense, _ = model("dcnn").simulate_layer(w)
    assert macc.cycles == mult.cycles == dense.cycles
    mac, rf, noc = "energy_mac_pj", "energy_rf_pj", "energy_noc_pj"
    assert macc.energy_pj[mac] == mult.energy_pj[mac] < dense.energy_pj[mac]
    assert macc.energy_pj[rf] < mult.energy_pj[rf] == dense.energy_pj[rf]
    assert macc.energy_pj[noc] < mult.energy_pj[noc]
    assert macc.slots == mult.slots == dense.slots  # gating is energy only
    m = model("dcnn_opt")
    mapping = m.map_layer(w, 1)
    assert m._accumulated(w, mapping) == (w.effectual_macs, w.effectual_macs)


def test_accumulator_models_on_a_layer():
    """On a sparse layer every accumulator model issues the same products; queued and merging are never
    slower than lock step, queued ends each group by draining its FIFOs (fill / drain slots), merging
    makes fewer accumulator accesses than products only when a weight vector repeats an output channel."""
    w = work(CONV, 0.6, 0.8)
    runs = {
        (acc, order): model("scnn", accumulator=acc, weight_order=order, **FREE).simulate_layer(w)[0]
        for acc in ("lockstep", "queued", "merging")
        for order in ("rsk", "krs")
    }
    for order in ("rsk", "krs"):
        lock, queued, merged = (runs[acc, order] for acc in ("lockstep", "queued", "merging"))
        assert lock.macs_issued == queued.macs_issued == merged.macs_issued
        assert queued.cycles <= lock.cycles
        assert merged.cycles <= lock.cycles
        assert lock.slots.fill_drain == merged.slots.fill_drain == 0
        assert queued.slots.packing < lock.slots.packing
    assert runs["queued", "krs"].slots.fill_drain > 0  # krs leaves products queued at a group's end
    assert runs["merging", "krs"].cycles < runs["lockstep", "krs"].cycles  # krs repeats k within vectors
    assert runs["merging", "rsk"].slots == runs["lockstep", "rsk"].slots  # rsk vectors: distinct k here
    rf = "energy_rf_pj"
    assert runs["merging", "krs"].energy_pj[rf] < runs["lockstep", "krs"].energy_pj[rf]


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"queue_depth": 0}, "queue_depth"),
        ({"queue_depth": 64}, "queue_depth"),
        ({"accumulator": "fifo"}, "accumulator"),
        ({"weight_order": "srk"}, "weight_order"),
    ],
)
def test_bad_accumulator_options_are_errors_naming_the_key(changes, key):
    spec, _ = resolve_config("scnn")
    with pytest.raises(ConfigError, match=key):
        parse_arch({**spec.model_dump(mode="json"), **changes}, "x")


def test_bad_gating_scope_is_an_error_naming_the_key():
    spec, _ = resolve_config("dcnn_opt")
    with pytest.raises(ConfigError, match="zero_gating_scope"):
        parse_arch({**spec.model_dump(mode="json"), "zero_gating_scope": "all"}, "x")


def test_shipped_defaults():
    """SCNN ships bank FIFOs of 4 behind the crossbar with k-innermost weight vectors (docs/assumptions.md
    SC4, SC20, SC21); DCNN-opt gates the whole multiply-accumulate of zero products (SC22)."""
    scnn, _ = resolve_config("scnn")
    opt, _ = resolve_config("dcnn_opt")
    assert (scnn.accumulator, scnn.queue_depth, scnn.weight_order, scnn.bank_hash) == (
        "queued",
        4,
        "rsk",
        "dnnsim",
    )
    assert (opt.zero_gating, opt.zero_gating_scope) == (True, "macc")
