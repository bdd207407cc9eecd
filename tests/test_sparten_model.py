"""The SparTen model end to end: configs, modes, MAC accounting, timeline, energy, reproducibility."""

from __future__ import annotations

import pytest

from accelsim.accelerators import build
from accelsim.api import resolve_config
from accelsim.config.arch import parse_arch
from accelsim.errors import ConfigError
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.sparsity import LayerDensity, SparsityProfile, dense_profile

CONFIGS = ("sparten", "sparten_one_sided", "sparten_dense")
CONV = Layer("c", LayerKind.CONV, h=14, w=14, c=96, k=80, r=3, s=3, pad=1)
STRIDED = Layer("d", LayerKind.CONV, h=15, w=15, c=48, k=40, r=5, s=5, stride=2, pad=2, groups=2)


def spec(name: str, **changes):  # type: ignore[no-untyped-def]
    base, _ = resolve_config(name)
    return base.model_copy(update=changes)


def workload(layer: Layer, wd: float = 0.35, ad: float = 0.45, seed: int = 0) -> LayerWorkload:
    profile = SparsityProfile("t", "test", "test", {layer.name: LayerDensity(wd, ad)})
    return LayerWorkload("test", layer, profile, seed)


@pytest.mark.parametrize("name", CONFIGS)
def test_shipped_configs_are_iso_multiplier_and_iso_clock(name):
    accel = build(spec(name))
    assert accel.multipliers == 1024
    assert accel.spec.clock_mhz == 1000


def test_balancing_needs_two_sided_mode():
    data = spec("sparten_dense").model_dump(mode="json") | {"balancing": "gb_s"}
    with pytest.raises(ConfigError, match=r"balancing.*needs mode: two_sided"):
        parse_arch(data, "test.yaml")
    data = spec("sparten").model_dump(mode="json") | {"balancing": "gb_x"}
    with pytest.raises(ConfigError, match="balancing"):
        parse_arch(data, "test.yaml")


def test_fc_is_reported_unsupported():
    fc = Layer("fc", LayerKind.FC, h=1, w=1, c=256, k=10)
    assert "fully connected" in build(spec("sparten")).unsupported(fc)
    assert build(spec("sparten")).unsupported(CONV) is None


@pytest.mark.parametrize("layer", [CONV, STRIDED])
def test_mac_accounting_per_mode(layer):
    work = workload(layer)
    two, _ = build(spec("sparten")).simulate_layer(work)
    one, _ = build(spec("sparten_one_sided")).simulate_layer(work)
    dense, _ = build(spec("sparten_dense")).simulate_layer(work)
    assert two.macs_issued == two.macs_effectual == work.effectual_macs  # only matched pairs
    assert dense.macs_issued == layer.macs  # every position, padding included
    assert two.macs_issued < one.macs_issued < dense.macs_issued
    assert two.cycles < one.cycles < dense.cycles


def test_dense_cycles_follow_the_pass_and_block_arithmetic():
    s = spec("sparten_dense")
    result, _ = build(s).simulate_layer(LayerWorkload("test", CONV, dense_profile("test"), 0))
    passes = -(-CONV.k // s.cus_per_cluster)  # 80 filters on 32 CUs: 3 passes
    block = -(-(CONV.out_h * CONV.out_w) // s.clusters)  # the largest cluster block of positions
    window = CONV.r * CONV.s * CONV.c  # one cycle per position of the window
    assert result.cycles == passes * (block * window + s.join_latency_cycles)
    assert result.mapping_efficiency == pytest.approx(80 / 96)


def test_timeline_has_every_cu_and_covers_the_layer():
    result, timeline = build(spec("sparten")).simulate_layer(workload(CONV))
    assert set(timeline["unit"]) == set(range(1024))
    assert (timeline.groupby("unit")["end"].last() == result.cycles).all()  # a closing idle row each
    length = (timeline["end"] - timeline["start"]).groupby(timeline["unit"]).sum()
    assert (length <= result.cycles).all()  # idle gaps between passes are implicit
    busy = timeline[timeline["state"] == "busy"]
    busy_per_cu = (busy["end"] - busy["start"]).groupby(busy["unit"]).sum()
    assert busy_per_cu.max() / busy_per_cu.mean() == pytest.approx(result.imbalance)
    assert result.idle_fraction == pytest.approx(1 - busy_per_cu.sum() / (1024 * result.cycles))


def test_finite_dram_bandwidth_adds_stalls():
    s = spec("sparten")
    slow = s.model_copy(update={"dram": s.dram.model_copy(update={"bandwidth_bytes_per_cycle": 0.5})})
    free, _ = build(s).simulate_layer(workload(CONV))
    stalled, timeline = build(slow).simulate_layer(workload(CONV))
    assert stalled.stall_cycles > 0
    assert stalled.cycles > free.cycles
    assert "stalled" in set(timeline["state"])


def test_bitmask_metadata_costs_energy_on_dense_data():
    """REFERENCE §7.3 item 4: with no zeros to skip, SparseMaps and the join are pure overhead."""
    unpadded = Layer("u", LayerKind.CONV, h=14, w=14, c=96, k=80, r=3, s=3)  # padding zeros would be skipped
    work = LayerWorkload("test", unpadded, dense_profile("test"), 0)
    two, _ = build(spec("sparten", balancing="none")).simulate_layer(work)
    dense, _ = build(spec("sparten_dense")).simulate_layer(work)
    assert two.cycles == dense.cycles
    assert two.energy_pj["energy_sram_pj"] > dense.energy_pj["energy_sram_pj"]
    assert two.dram_bytes > dense.dram_bytes
    for r in (two, dense):
        assert all(v >= 0 for v in r.energy_pj.values())
        assert r.energy_pj["energy_mac_pj"] > 0


def test_same_seed_same_result_other_seed_other_masks():
    a, ta = build(spec("sparten")).simulate_layer(workload(STRIDED, seed=4))
    b, tb = build(spec("sparten")).simulate_layer(workload(STRIDED, seed=4))
    c, _ = build(spec("sparten")).simulate_layer(workload(STRIDED, seed=5))
    assert a == b
    assert ta.equals(tb)
    assert c.macs_issued != a.macs_issued


def test_input_buffering_only_removes_waits():
    """Deeper CU input buffers shorten the layer, never change its work; the timeline stays consistent."""
    work = workload(CONV)
    runs = [build(spec("sparten", input_buffer_chunks=b)).simulate_layer(work) for b in (1, 2, 4)]
    (one, _), (two, _), (four, timeline) = runs
    assert four.cycles < two.cycles < one.cycles
    assert one.macs_issued == two.macs_issued == four.macs_issued
    assert one.imbalance == pytest.approx(four.imbalance)  # the same busy cycles per CU
    assert (timeline.groupby("unit")["end"].last() == four.cycles).all()
    data = spec("sparten").model_dump(mode="json") | {"input_buffer_chunks": 0}
    with pytest.raises(ConfigError, match="input_buffer_chunks"):
        parse_arch(data, "test.yaml")
