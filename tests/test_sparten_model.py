"""The SparTen model end to end: configs, modes, MAC accounting, timeline, energy, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
from slot_checks import check_layer_run

from accelsim.accelerators import build
from accelsim.accelerators.sparten import cu_buffers
from accelsim.api import resolve_config
from accelsim.config.arch import parse_arch
from accelsim.errors import ConfigError
from accelsim.report.schema import Slots
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.masks import OperandMasks
from accelsim.workload.sparsity import LayerDensity, SparsityProfile, dense_profile

CONFIGS = ("sparten", "sparten_one_sided", "sparten_one_sided_activations", "sparten_dense")
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
    with pytest.raises(ConfigError, match=r"balancing.*needs a mode whose work depends on the weights"):
        parse_arch(data, "test.yaml")
    data = spec("sparten_one_sided_activations").model_dump(mode="json") | {"balancing": "gb_h"}
    with pytest.raises(ConfigError, match="balancing"):
        parse_arch(data, "test.yaml")
    weights = spec("sparten_one_sided").model_dump(mode="json") | {"balancing": "gb_h"}
    assert parse_arch(weights, "test.yaml").balancing == "gb_h"  # its CUs' work depends on the filters
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
    dense, _ = build(spec("sparten_dense")).simulate_layer(work)
    assert two.macs_issued == two.macs_effectual == work.effectual_macs  # only matched pairs
    assert dense.macs_issued == layer.macs  # every position, padding included
    for name in ("sparten_one_sided", "sparten_one_sided_activations"):
        one, _ = build(spec(name)).simulate_layer(work)
        assert two.macs_issued < one.macs_issued < dense.macs_issued
        assert two.cycles < one.cycles < dense.cycles
    weights_only, _ = build(spec("sparten_one_sided")).simulate_layer(work)
    assert weights_only.macs_issued == int(work.masks.weights.sum()) * layer.out_h * layer.out_w  # every
    # non-zero weight meets every window position (padding included, activations stored dense)


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
    check_layer_run(result, timeline)  # every CU tiles [0, cycles); the metrics are the timeline's
    assert set(timeline["unit"]) == set(range(1024))
    busy = timeline[timeline["state"] == "busy"]
    busy_per_cu = (busy["end"] - busy["start"]).groupby(busy["unit"]).sum()
    assert busy_per_cu.max() / busy_per_cu.mean() == pytest.approx(result.imbalance)
    assert result.idle_fraction == pytest.approx(1 - busy_per_cu.sum() / (1024 * result.cycles))


# Hand-checked slot partition: 1 x 2 pixels of 8 channels, k = 3 filters of 1 x 1, 2 clusters x 2 CUs,
# 8-channel chunks, join fill 3 per pass. Cluster j takes output position j; pass 0 puts filters 0, 1 on
# CUs 0, 1, pass 1 filter 2 on CU 0 (CU 1 holds none).
#   pixel 0 = INPUT 11010011, pixel 1 = 11111111; f0 = FILTER 01011001, f1 = 00100000, f2 = 11000000.
#   two-sided matches: cluster 0 pass 0: CU0 3, CU1 0 (costs 1 cycle: packing); pass 1: CU0 2.
#                      cluster 1 pass 0: CU0 4, CU1 1; pass 1: CU0 2.
#   passes last 3 + 3, 2 + 3 (cluster 0) and 4 + 3, 2 + 3 (cluster 1): 12 cycles, 4 CUs: 48 slots.
#   busy: CU0 6 + 5 = 11, CU1 1 + 3 = 4, CU2 7 + 5 = 12, CU3 1 + 3 = 4 (31 = 12 products + 1 packing
#   + 6 held passes x 3 fill). Idle: CU1 waits 2 cycles at the pass-0 barrier, CU3 3 (unit_idle 5);
#   after their last pass CU0 1, CU1 6, CU3 5 (imbalance 12).
#   weight skipping: 4, 1 (pass 0) and 2 (pass 1) cycles per chunk whatever the pixel, 14 products of which
#   12 effectual; both clusters end at 12; busy 12, 4, 12, 4; CU1 and CU3 wait 3 in pass 0 (unit_idle 6)
#   and idle through pass 1 after their last one (imbalance 10).
#   activation skipping: 5 (pixel 0) or 8 (pixel 1) cycles per chunk, 39 products of which 12 effectual;
#   cluster 0 ends at 16, cluster 1 at 22: busy 16, 8, 22, 11 and imbalance 6 + 14 + 0 + 11 = 31.
#   dense: 8 cycles per chunk, 48 products; both clusters end at 22; busy 22, 11, 22, 11; imbalance 22.
HAND = {
    "two_sided": (12, Slots(12, 0, 0, 1, 5, 12, 0, 18)),
    "one_sided_weights": (12, Slots(12, 2, 0, 0, 6, 10, 0, 18)),
    "one_sided_activations": (22, Slots(12, 27, 0, 0, 0, 31, 0, 18)),
    "dense": (22, Slots(12, 36, 0, 0, 0, 22, 0, 18)),
}


@pytest.mark.parametrize("mode", list(HAND))
def test_hand_checked_slot_partition(mode):
    layer = Layer("x", LayerKind.CONV, h=1, w=2, c=8, k=3, r=1, s=1)
    pixels = np.array([[1, 1, 0, 1, 0, 0, 1, 1], [1] * 8], dtype=bool)
    filters = np.array([[0, 1, 0, 1, 1, 0, 0, 1], [0, 0, 1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0, 0]])
    work = workload(layer, 0.5, 0.5)
    work.__dict__["masks"] = OperandMasks(filters.astype(bool).reshape(3, 8, 1, 1), pixels.T.reshape(8, 1, 2))
    config = {"two_sided": "sparten", "one_sided_weights": "sparten_one_sided"}.get(mode, f"sparten_{mode}")
    s = spec(config, clusters=2, cus_per_cluster=2, chunk_bits=8, balancing="none", join_latency_cycles=3)
    result, timeline = build(s).simulate_layer(work)
    check_layer_run(result, timeline)
    cycles, slots = HAND[mode]
    assert (result.cycles, result.slots) == (cycles, slots)
    assert result.slots.effectual == result.macs_effectual == 12
    assert result.macs_issued == slots.effectual + slots.ineffectual
    if mode == "two_sided":
        assert result.imbalance == pytest.approx(12 / (31 / 4))
        assert result.idle_fraction == pytest.approx(17 / 48)


@pytest.mark.parametrize("layer", [CONV, STRIDED])
def test_slot_parts_per_mode(layer):
    """Every effectual product takes one slot; only the baselines issue products with a zero operand; only
    the designs whose CUs' work depends on their filters wait at the broadcast barriers (SparTen and the
    weight-skipping baseline; the others give a pass's CUs the same work)."""
    work = workload(layer)
    for name in CONFIGS:
        result, timeline = build(spec(name)).simulate_layer(work)
        check_layer_run(result, timeline)
        slots = result.slots
        assert slots.effectual == result.macs_effectual == work.effectual_macs
        assert slots.effectual + slots.ineffectual == result.macs_issued
        assert slots.fill_drain > 0
        assert slots.memory_stall == 0  # unlimited DRAM bandwidth
        if name == "sparten":
            assert slots.ineffectual == 0
            assert slots.unit_idle > 0
        else:
            assert slots.ineffectual > 0
            assert (slots.unit_idle > 0) == (name == "sparten_one_sided")
        # STRIDED: 20 filters per group on 32 CUs: 12 CUs of every cluster never hold one
        assert slots.unmapped == (12 * 32 * result.cycles if layer is STRIDED else 0)


def test_clusters_without_positions_are_unmapped():
    small = Layer("s", LayerKind.CONV, h=4, w=4, c=16, k=32, r=3, s=3)  # 2 x 2 outputs on 32 clusters
    result, timeline = build(spec("sparten")).simulate_layer(workload(small))
    check_layer_run(result, timeline)
    assert result.slots.unmapped == 28 * 32 * result.cycles


OPTIONS = [
    {"mode": "two_sided", "balancing": "none"},
    {"mode": "two_sided", "balancing": "gb_s"},
    {"mode": "two_sided", "balancing": "gb_h"},
    {"mode": "one_sided_weights", "balancing": "none"},
    {"mode": "one_sided_weights", "balancing": "gb_h"},
    {"mode": "one_sided_weights", "barrier": "chunk", "input_buffer_depth": 2},
    {"mode": "one_sided_activations", "balancing": "none"},
    {"mode": "dense", "balancing": "none"},
    {"chunk_bits": 16},
    {"chunk_bits": 256},
    {"min_chunk_cycles": 0, "join_latency_cycles": 0},
    {"min_chunk_cycles": 2},
    {"join_latency_cycles": 10},
    {"barrier": "chunk"},
    {"barrier": "chunk", "input_buffer_depth": 2},
    {"barrier": "chunk", "input_buffer_depth": 4},
    {"input_buffer_depth": 2},
    {"barrier": "chunk", "mode": "dense", "balancing": "none"},
    {"clusters": 64, "cus_per_cluster": 16},
    {"clusters": 16, "cus_per_cluster": 64},
    {"dram": 0.5},
    {"dram": 0.5, "mode": "dense", "balancing": "none"},
]


@pytest.mark.parametrize("changes", OPTIONS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
@pytest.mark.parametrize("layer", [CONV, STRIDED])
def test_every_option_passes_the_slot_checks(changes, layer):
    changes = dict(changes)
    s = spec("sparten")
    if "dram" in changes:
        changes["dram"] = s.dram.model_copy(update={"bandwidth_bytes_per_cycle": changes["dram"]})
    result, timeline = build(s.model_copy(update=changes)).simulate_layer(workload(layer))
    check_layer_run(result, timeline)
    assert result.slots.effectual == result.macs_effectual
    if "dram" in changes:
        assert result.slots.memory_stall > 0


def test_finite_dram_bandwidth_adds_stalls():
    s = spec("sparten")
    slow = s.model_copy(update={"dram": s.dram.model_copy(update={"bandwidth_bytes_per_cycle": 0.5})})
    free, _ = build(s).simulate_layer(workload(CONV))
    stalled, timeline = build(slow).simulate_layer(workload(CONV))
    assert stalled.stall_cycles > 0
    assert stalled.cycles > free.cycles
    assert "stalled" in set(timeline["state"])


def test_bitmask_metadata_costs_energy_on_dense_data():
    """[SPARTEN19]: with no zeros to skip, SparseMaps and the join are pure overhead."""
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


@pytest.mark.parametrize("barrier", ["chunk", "window"])
def test_input_buffering_only_removes_waits(barrier):
    """Deeper CU input buffers shorten the layer, never change its work; the timeline stays consistent."""
    work = workload(CONV)
    runs = [
        build(spec("sparten", barrier=barrier, input_buffer_depth=b)).simulate_layer(work) for b in (1, 2, 4)
    ]
    (one, _), (two, _), (four, timeline) = runs
    assert four.cycles <= two.cycles < one.cycles
    assert one.macs_issued == two.macs_issued == four.macs_issued
    assert one.imbalance == pytest.approx(four.imbalance)  # the same busy cycles per CU
    check_layer_run(four, timeline)
    busy = [r.slots.effectual + r.slots.packing + r.slots.fill_drain for r in (one, two, four)]
    assert busy[0] == busy[1] == busy[2]  # ... so the same busy slots: only the waits shrink
    assert one.slots.unit_idle > two.slots.unit_idle >= four.slots.unit_idle
    data = spec("sparten").model_dump(mode="json") | {"input_buffer_depth": 0}
    with pytest.raises(ConfigError, match="input_buffer_depth"):
        parse_arch(data, "test.yaml")
    data = spec("sparten").model_dump(mode="json") | {"barrier": "pass"}
    with pytest.raises(ConfigError, match="barrier"):
        parse_arch(data, "test.yaml")


def test_barrier_per_window_moves_only_barrier_waits():
    """The barrier per window relaxes the one per chunk (a CU syncs at window ends only): fewer cycles,
    the same busy slots; the saved slots are unit_idle (waits at chunk barriers inside a window)."""
    work = workload(CONV)
    chunk, _ = build(spec("sparten", barrier="chunk")).simulate_layer(work)
    window, timeline = build(spec("sparten", barrier="window")).simulate_layer(work)
    check_layer_run(window, timeline)
    assert window.cycles < chunk.cycles
    for part in ("effectual", "ineffectual", "packing", "fill_drain", "unmapped"):
        assert getattr(window.slots, part) == getattr(chunk.slots, part)
    assert window.slots.unit_idle < chunk.slots.unit_idle


def test_cu_buffers_are_sized_for_the_network_and_costed():
    """The input buffer holds `input_buffer_depth` steps of the network's largest step; its accesses and
    leakage are in the energy, so a deeper buffer costs more energy per access."""
    s = spec("sparten")
    bigger = Layer("big", LayerKind.CONV, h=7, w=7, c=512, k=32, r=3, s=3, pad=1)
    window = cu_buffers(s, (CONV, bigger))
    assert window.input_bits == 3 * 3 * 512 * (8 + 1)  # every value of the window and its SparseMap
    assert window.output_entries == 1
    assert cu_buffers(s.model_copy(update={"input_buffer_depth": 2}), (CONV,)).input_bits == 2 * 9 * 96 * 9
    chunk = cu_buffers(s.model_copy(update={"barrier": "chunk", "input_buffer_depth": 3}), (CONV, bigger))
    assert chunk.input_bits == 3 * 128 * 9
    assert chunk.output_entries == 2  # 2 chunks ahead of 9 (CONV) or 36 per window: into the next window
    dense = cu_buffers(spec("sparten_dense"), (CONV,))
    assert dense.input_bits == 96 * 8  # one chunk of dense values, no SparseMap
    profile = SparsityProfile("t", "test", "test", {"c": LayerDensity(0.35, 0.45)})
    work = LayerWorkload("test", CONV, profile, 0, (CONV, bigger))
    small, _ = build(s).simulate_layer(LayerWorkload("test", CONV, work.profile, 0, (CONV,)))
    large, _ = build(s).simulate_layer(work)
    assert large.cycles == small.cycles  # the buffer is sized for the network: cycles do not change
    assert large.energy_pj["energy_sram_pj"] > small.energy_pj["energy_sram_pj"]
    assert large.energy_pj["energy_static_pj"] > small.energy_pj["energy_static_pj"]
    assert "5.06 KiB per CU" in large.mapping
