"""Eyeriss v1.5 (`eyeriss_v1_5`): the eyeriss_v2 model with dense PEs ([EYERISSV2-19 §V-A], paper §V-A).

A dense PE takes raw operands, spends a cycle on every MAC position (zeros, padding included) and only
gates zero operands for energy; with SIMD 1 its busy cycles are the layer's nominal MAC count.
"""

from __future__ import annotations

import pytest

from accelsim.accelerators import build
from accelsim.api import resolve_config, resolve_network
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.sparsity import dense_profile, load_profile

NET = "mobilenet_v1_0.5_128"


def _model(name: str):
    spec, source = resolve_config(name)
    return build(spec, source)


def _work(layer_name: str, profile: str) -> LayerWorkload:
    net = resolve_network(NET)
    layer = next(layer for layer in net.compute_layers if layer.name == layer_name)
    prof = dense_profile(NET) if profile == "dense" else load_profile(NET, profile)
    return LayerWorkload(NET, layer, prof, 0)


def test_config_is_a_dense_192_mac_array():
    model = _model("eyeriss_v1_5")
    assert model.spec.pe.sparse is False
    assert model.spec.pe.simd == 1
    assert model.multipliers == 192  # v1 and v1.5: one MAC per PE ([EYERISSV2-19 §V-A])


@pytest.mark.parametrize("layer_name", ["conv1", "dw12", "pw13", "fc"])
def test_dense_pe_cycles_equal_nominal_mac_slots(layer_name):
    """Strided padded conv, depthwise, pointwise, FC: the PEs' busy cycles sum to the dense MACs."""
    model = _model("eyeriss_v1_5")
    work = _work(layer_name, "pruned")
    lc = model.count(work)
    assert int(lc.item_cycles.sum()) == work.layer.macs
    assert lc.slots == work.layer.macs
    assert lc.empty == 0  # no weight-column look-up on a dense PE
    assert lc.iact_raw
    assert lc.weight_raw


@pytest.mark.parametrize("layer_name", ["pw1", "dw3", "pw9", "fc"])
def test_dense_pe_never_skips_a_zero(layer_name):
    """Sparse data changes the energy (gated MACs), never the cycles or the MACs issued."""
    model = _model("eyeriss_v1_5")
    sparse, _ = model.simulate_layer(_work(layer_name, "pruned"))
    dense, _ = model.simulate_layer(_work(layer_name, "dense"))
    assert sparse.macs_issued == dense.macs_issued == sparse.macs_dense
    assert sparse.macs_effectual < sparse.macs_issued
    assert sparse.cycles == dense.cycles
    assert sparse.energy_pj["energy_mac_pj"] < dense.energy_pj["energy_mac_pj"]
    assert sparse.energy_pj["energy_rf_pj"] == dense.energy_pj["energy_rf_pj"]  # every slot reads a weight


def test_sparse_pe_is_faster_than_the_dense_pe_on_sparse_data():
    """Same array, NoC and tiling limits: only the PE differs (v1.5 vs v2 at SIMD 1)."""
    spec, source = resolve_config("eyeriss_v1_5")
    sparse_spec = spec.model_copy(update={"pe": spec.pe.model_copy(update={"sparse": True})})
    work = _work("pw9", "pruned")
    dense, _ = build(spec, source).simulate_layer(work)
    sparse, _ = build(sparse_spec, source).simulate_layer(work)
    assert sparse.macs_issued == work.effectual_macs < dense.macs_issued
    assert sparse.cycles < dense.cycles
