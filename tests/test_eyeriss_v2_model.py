"""Eyeriss v2 model: config validation, the sparse MobileNet workload, single-PE ground truth, chip runs."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.accelerators import build
from accelsim.api import resolve_config, resolve_network
from accelsim.config.arch import parse_arch
from accelsim.errors import ConfigError
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer
from accelsim.workload.sparsity import dense_profile, load_profile

NET = "mobilenet_v1_0.5_128"
GROUND_TRUTH = {"pw12": 948_572, "pw13": 775_316, "dw12": 36_864}
"""Single-PE cycles, micro22-sparseloop-artifact @ de0374a fig12_eyerissv2_pe_setup/scripts/
ground_truth_cycles.yaml (L25, L27, L24; REFERENCE §8.6 [repo])."""


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
    assert sum(layer.macs for layer in net.compute_layers) == 49_160_192  # "49.2 M MACs" (REFERENCE §8.5)


def test_real_masks_load_with_the_artifact_densities():
    masks = _work("pw3").masks
    assert masks.activations.shape == (64, 32, 32)
    assert masks.weights.shape == (64, 64, 1, 1)
    assert int(masks.activations.sum()) == 47_716  # REFERENCE §2.6: L07 iact 47,716 of 65,536 ones
    dead = np.flatnonzero(masks.activations.sum(axis=(1, 2)) == 0)
    assert dead.tolist() == np.flatnonzero(masks.weights.sum(axis=(0, 2, 3)) == 0).tolist() == [9, 21, 28, 52]


@pytest.mark.parametrize("layer_name", sorted(GROUND_TRUTH))
def test_single_pe_cycles_match_the_sparseloop_ground_truth(layer_name):
    """One PE, one MAC: the model gives the artifact's ground-truth cycles plus the 7-cycle pipeline fill."""
    result, _ = _model("eyeriss_v2_pe").simulate_layer(_work(layer_name))
    assert result.cycles == GROUND_TRUTH[layer_name] + 7, "REFERENCE §8.6 ground truth"


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
