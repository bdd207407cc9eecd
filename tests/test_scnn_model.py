"""SCNN / DCNN models: configs, iso-multiplier set-up, small layers end to end, energy, errors."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.accelerators import build
from accelsim.api import resolve_config
from accelsim.config.arch import parse_arch
from accelsim.errors import ConfigError
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
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
    """At density 1 both run the same steps; SCNN can only add bank-conflict cycles. With sparse
    data the conflicts appear (the hash spreads dense neighbours, not scattered survivors)."""
    free = {"dram": {"bandwidth_bytes_per_cycle": None}}
    dense, sparse = work(CONV, 1.0, 1.0), work(CONV, 0.5, 0.5)
    s, _ = model("scnn", **free).simulate_layer(dense)
    ideal, _ = model("scnn", bank_hash="ideal", **free).simulate_layer(dense)
    d, _ = model("dcnn", **free).simulate_layer(dense)
    assert ideal.cycles == d.cycles <= s.cycles
    s, _ = model("scnn", **free).simulate_layer(sparse)
    ideal, _ = model("scnn", bank_hash="ideal", **free).simulate_layer(sparse)
    assert s.cycles > ideal.cycles


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
