"""Eyeriss v2 model: config validation, the sparse MobileNet workload, single-PE ground truth, chip runs."""

from __future__ import annotations

import numpy as np
import pytest
from slot_checks import check_layer_run

from accelsim.accelerators import build
from accelsim.accelerators import eyeriss_v2 as eyeriss_v2_module
from accelsim.api import resolve_config, resolve_network
from accelsim.config.arch import parse_arch
from accelsim.errors import ConfigError
from accelsim.report.schema import Slots
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.sparsity import LayerDensity, SparsityProfile, dense_profile, load_profile

NET = "mobilenet_v1_0.5_128"
GROUND_TRUTH = {"pw12": 948_572, "pw13": 775_316, "dw12": 36_864}
"""Single-PE cycles, micro22-sparseloop-artifact @ de0374a fig12_eyerissv2_pe_setup/scripts/
ground_truth_cycles.yaml (L25, L27, L24; [SPARSELOOP22] [repo])."""


def _model(name: str):
    spec, source = resolve_config(name)
    return build(spec, source)


def _work(layer_name: str, profile: str = "pruned", seed: int = 0) -> LayerWorkload:
    net = resolve_network(NET)
    layer = next(layer for layer in net.compute_layers if layer.name == layer_name)
    return LayerWorkload(NET, layer, load_profile(NET, profile), seed)


def test_network_shapes_match_the_paper_mac_count():
    net = resolve_network(NET)
    assert len(net.compute_layers) == 28  # the artifact's L01..L28
    assert sum(layer.macs for layer in net.compute_layers) == 49_160_192  # [EYERISSV2-19 §V-A]: "49.2 M"


def test_real_masks_load_with_the_artifact_densities():
    masks = _work("pw3").masks
    assert masks.activations.shape == (64, 32, 32)
    assert masks.weights.shape == (64, 64, 1, 1)
    assert int(masks.activations.sum()) == 47_716  # [SPARSELOOP22]: L07 iact 47,716 of 65,536 ones
    dead = np.flatnonzero(masks.activations.sum(axis=(1, 2)) == 0)
    assert dead.tolist() == np.flatnonzero(masks.weights.sum(axis=(0, 2, 3)) == 0).tolist() == [9, 21, 28, 52]


@pytest.mark.parametrize("layer_name", sorted(GROUND_TRUTH))
def test_single_pe_cycles_match_the_sparseloop_ground_truth(layer_name):
    """One PE, one MAC: the model gives the artifact's ground-truth cycles plus the 7-cycle pipeline fill."""
    result, _ = _model("eyeriss_v2_pe").simulate_layer(_work(layer_name))
    assert result.cycles == GROUND_TRUTH[layer_name] + 7, "[SPARSELOOP22] ground truth"


def test_chip_run_conserves_work_and_bounds_cycles():
    model = _model("eyeriss_v2")
    work = _work("pw13")
    result, timeline = model.simulate_layer(work)
    lc = model.count(work)
    busy = timeline[timeline.state == "busy"]
    assert int((busy.end - busy.start).sum()) == sum(lc.item_cycles) + 7 * len(set(lc.item_pe))
    assert result.macs_issued == result.macs_effectual == 775_316  # CSC on both operands: no wasted slot
    assert result.cycles >= -(-775_316 // model.multipliers)  # never faster than 384 MACs a cycle
    assert set(timeline.unit) == set(range(192))
    assert result.imbalance >= 1.0
    assert 0.0 <= result.idle_fraction < 1.0


def test_depthwise_iacts_are_not_skipped_and_simd_is_unused():
    result, _ = _model("eyeriss_v2").simulate_layer(_work("dw12"))
    work = _work("dw12")
    assert result.macs_issued == work.layer.macs  # dense weights, raw iacts: every MAC slot used
    assert result.macs_effectual < result.macs_issued


def test_same_seed_same_result_and_pooling_unsupported():
    model = _model("eyeriss_v2")
    a, _ = model.simulate_layer(_work("pw5", seed=3))
    b, _ = model.simulate_layer(_work("pw5", seed=3))
    assert a == b
    pool = Layer("pool", "pool", 4, 4, 8, 8, r=4, groups=8)
    assert "off-chip" in model.unsupported(pool)


def test_dram_bandwidth_bounds_a_layer():
    fast, _ = _model("eyeriss_v2").simulate_layer(_work("fc"))
    slow, _ = _model("eyeriss_v2_ddr4").simulate_layer(_work("fc"))
    assert slow.cycles >= fast.cycles
    assert slow.cycles >= slow.dram_bytes / 128


def test_dense_profile_runs_every_layer_kind():
    net = resolve_network(NET)
    model = _model("eyeriss_v2")
    dense = dense_profile(NET)
    for name in ("conv1", "dw1", "pw1", "fc"):
        layer = next(x for x in net.compute_layers if x.name == name)
        result, _ = model.simulate_layer(LayerWorkload(NET, layer, dense, 0))
        assert result.macs_issued == layer.macs  # dense: raw operands, every slot used
        assert result.cycles >= -(-layer.macs // model.multipliers)


def test_bad_tile_is_a_clear_error():
    spec, _ = resolve_config("eyeriss_v2")
    data = spec.model_dump()
    data["mapping"]["m0"] = 64
    with pytest.raises(ConfigError, match=r"mapping\.m0 = 64 exceeds pe\.psum_spad_entries = 32"):
        parse_arch(data, "test")


def _spec(name: str = "eyeriss_v2", **changes):  # type: ignore[no-untyped-def]
    """A shipped spec with nested sections updated (validated)."""
    spec, _ = resolve_config(name)
    data = spec.model_dump()
    for key, value in changes.items():
        if isinstance(value, dict):
            data[key].update(value)
        else:
            data[key] = value
    return parse_arch(data, "test")


def test_slot_partition_by_hand():
    """One PE with SIMD 2 and a 7-stage pipeline; a dense 1x1 layer of 3 channels, 3 filters and 2 x 2
    outputs (36 MACs), so raw operands.

    Tiling: C0 = 3, M0 = 3, the 4 output positions in 4 tiles (items_per_pe = 4). Each tile: 3 iacts
    enter, each meets a raw column of 3 weights: ceil(3 / 2) = 2 cycles, 1 of its 4 lanes empty; 6
    cycles a tile, 24 in all, plus the fill of 7: 31 cycles, 62 slots = 36 effectual MACs + 12 empty
    lanes (packing) + 14 fill. The NoC needs 2 cycles (12 psums over 4 routers x 2 a cycle): no bound.

    Played (the default): the one weight tile (9 raw weights) is one row job, loaded once over the
    PE row's weight router at 3 raw bytes a cycle: 3 cycles stalled before the first tile; the iacts
    (3 a tile, 9 a cycle) and psums (3 a tile, 8 a cycle) stream within each tile's compute: 34 cycles.
    """
    layer = Layer("tiny", LayerKind.POINTWISE, 2, 2, 3, 3)
    work = LayerWorkload("test", layer, dense_profile("test"), 0)
    model = build(_spec(clusters=1, pes_per_cluster=1, noc={"timing": "bound"}))
    result, timeline = model.simulate_layer(work)
    assert model.noc_cycles(model.count(work)) == 2
    assert (result.cycles, result.folds, result.stall_cycles) == (31, 4, 0)
    assert result.slots == Slots(effectual=36, packing=12, fill_drain=14)
    assert result.closed_form == "lower bound: HM-NoC time of the slowest cluster"
    check_layer_run(result, timeline)
    played, timeline = build(_spec(clusters=1, pes_per_cluster=1)).simulate_layer(work)
    assert (played.cycles, played.folds, played.stall_cycles, played.closed_form) == (34, 4, 3, "")
    assert played.slots == Slots(effectual=36, packing=12, fill_drain=14, memory_stall=6)
    check_layer_run(played, timeline)


@pytest.mark.parametrize("layer_name", ["conv1", "dw1", "pw3", "dw12", "pw13", "fc"])
def test_slots_of_the_sparse_chip(layer_name):
    """CSC on both operands: every issued MAC is effectual; raw depthwise iacts multiply zeros."""
    model = _model("eyeriss_v2")
    work = _work(layer_name)
    result, timeline = model.simulate_layer(work)
    check_layer_run(result, timeline)
    lc = model.count(work)
    assert lc.effectual == work.effectual_macs == result.slots.effectual
    assert result.slots.effectual + result.slots.ineffectual == result.macs_issued
    if lc.iact_raw or lc.weight_raw:
        assert result.slots.ineffectual > 0
    else:
        assert result.slots.ineffectual == 0
    assert result.slots.unit_idle == 0  # a PE runs its tiles back to back
    assert result.slots.fill_drain == 7 * 2 * len(set(lc.item_pe.tolist()))
    assert result.closed_form == ""  # the NoC and DRAM are played, nothing closed form


BOUND = {"noc": {"timing": "bound"}}


def test_noc_bound_is_a_memory_stall_of_every_pe():
    result, timeline = build(_spec(**BOUND)).simulate_layer(_work("fc"))
    assert "the HM-NoC set the layer time" in result.closed_form
    assert result.stall_cycles > 0
    stalled = timeline[timeline.state == "stalled"]
    assert set(stalled.unit) == set(range(192))
    assert (stalled.end - stalled.start == result.stall_cycles).all()
    assert result.slots.memory_stall == result.stall_cycles * result.multipliers


def test_dram_bound_names_dram():
    result, _ = build(_spec("eyeriss_v2_ddr4", **BOUND)).simulate_layer(_work("fc"))
    assert result.closed_form.startswith("lower bounds: HM-NoC time of the slowest cluster, DRAM time")


OPTIONS = [
    {},
    {"pe": {"simd": 1}},
    {"pe": {"simd": 3}},
    {"pe": {"sparse": False, "simd": 1}},
    {"pe": {"empty_column_cycles": 2}},
    {"pe": {"pipeline_depth": 0}},
    {"pe": {"compress_below": 0.5}},
    {"mapping": {"c0": 2, "m0": 4, "items_per_pe": 1}},
    {"noc": {"iact_routers": 1, "weight_routers": 1, "psum_routers": 1}},
    {"dram": {"bandwidth_bytes_per_cycle": 1.0}},
    {"clusters": 3, "pes_per_cluster": 5},
    {"pe": {"double_buffered": True}},
    {"mapping": {"assignment": "round_robin"}},
    {"noc": {"timing": "bound"}},
    {"noc": {"timing": "free"}},
    {"mapping": {"assignment": "round_robin"}, "dram": {"bandwidth_bytes_per_cycle": 1.0}},
    {"pe": {"double_buffered": True}, "dram": {"bandwidth_bytes_per_cycle": 1.0}},
    {"noc": {"timing": "bound", "data_port_bits": 12}, "mapping": {"assignment": "round_robin"}},
]
SMALL = [
    Layer("conv", LayerKind.CONV, 9, 9, 6, 10, r=3, s=3, pad=1),
    Layer("dw", LayerKind.DEPTHWISE, 8, 8, 6, 6, r=3, s=3, stride=2, pad=1, groups=6),
    Layer("pw", LayerKind.POINTWISE, 6, 6, 12, 20),
    Layer("fc", LayerKind.FC, 1, 1, 64, 30),
    Layer("grouped", LayerKind.CONV, 7, 7, 8, 8, r=3, s=3, pad=1, groups=2),
]


@pytest.mark.parametrize("changes", OPTIONS, ids=lambda c: ",".join(f"{k}" for k in c) or "shipped")
@pytest.mark.parametrize("layer", SMALL, ids=lambda layer: layer.name)
def test_every_option_passes_the_slot_checks(changes, layer):
    spec = _spec(**changes)
    density = LayerDensity(weights=0.5, activations=0.6)
    profile = SparsityProfile("half", "test", "test", {layer.name: density})
    work = LayerWorkload("test", layer, profile, 1)
    model = build(spec)
    result, timeline = model.simulate_layer(work)
    check_layer_run(result, timeline)
    assert result.slots.effectual == result.macs_effectual
    if not spec.pe.sparse:
        assert result.slots.ineffectual > 0  # a dense PE multiplies the zeros


def test_played_fc_waits_for_the_network():
    """FC: every weight is used once, so the weight routers, not the MACs, set the pace; the waits
    are stalled PE-cycles (memory_stall), nothing is closed form."""
    result, timeline = _model("eyeriss_v2").simulate_layer(_work("fc"))
    check_layer_run(result, timeline)
    assert result.closed_form == ""
    assert result.slots.memory_stall > result.slots.effectual


def test_multicast_moves_a_weight_tile_once_per_row():
    """The cluster assignment's row of PEs shares each weight load: the weight words moved are those
    of the row jobs (one per row), fewer than the PEs' loads added up; iacts shared down a column of
    rows are moved once too."""
    model = _model("eyeriss_v2")
    lc = model.count(_work("pw3"))
    items = model.played_items(lc)
    moved = eyeriss_v2_module._moved(items)
    loads = sum(t.nbytes for item in items for t in item.fetch if t.channel.startswith("weight"))
    iacts = sum(t.nbytes for item in items for t in item.stream if t.channel.startswith("iact"))
    weight_moved = sum(v for k, v in moved.items() if k.startswith("weight"))
    iact_moved = sum(v for k, v in moved.items() if k.startswith("iact"))
    assert weight_moved * 4 == pytest.approx(loads)  # rows of 4 PEs
    assert iact_moved < iacts


def test_double_buffering_hides_weight_loads():
    """A second weight SPad loads the next row job's weights while the PE computes: never slower, and
    faster on a layer with many row jobs per PE (pw7: 11 rounds)."""
    work = _work("pw7")
    single, _ = _model("eyeriss_v2").simulate_layer(work)
    double, timeline = build(_spec(pe={"double_buffered": True})).simulate_layer(work)
    check_layer_run(double, timeline)
    assert double.cycles < single.cycles
    assert double.slots.memory_stall < single.slots.memory_stall


def test_dram_is_played_per_tile():
    """At 128 B a cycle DRAM moves each layer's bytes as its tiles ask for them: the run is never
    faster than with unlimited DRAM, and the DRAM bytes are the same."""
    work = _work("pw13")
    free, _ = _model("eyeriss_v2").simulate_layer(work)
    ddr4, timeline = _model("eyeriss_v2_ddr4").simulate_layer(work)
    check_layer_run(ddr4, timeline)
    assert ddr4.cycles >= free.cycles
    assert ddr4.dram_bytes == pytest.approx(free.dram_bytes)
    assert ddr4.closed_form == ""
