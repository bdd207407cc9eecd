"""The systolic accelerator end to end: engine coupling, sparsity accounting, energy, reproducibility."""

from __future__ import annotations

import pytest

import accelsim
from accelsim.accelerators import build
from accelsim.api import resolve_config
from accelsim.report.schema import ENERGY_COLUMNS
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.sparsity import dense_profile

VGG_SMALL = ["conv5_1", "conv5_2", "fc7"]


def spec_with(**changes):  # type: ignore[no-untyped-def]
    spec, _ = resolve_config("systolic_ws_32x32")
    dram = spec.dram.model_copy(update=changes.pop("dram", {}))
    return spec.model_copy(update={"dram": dram, **changes})


def run_layer(spec, layer: Layer, profile=None):  # type: ignore[no-untyped-def]
    accel = build(spec)
    work = LayerWorkload("test", layer, profile or dense_profile("test"), seed=0)
    return accel.simulate_layer(work)


CONV = Layer("c", LayerKind.CONV, h=28, w=28, c=128, k=96, r=3, s=3, pad=1)


def test_enough_bandwidth_matches_the_stall_free_count():
    free, _ = run_layer(spec_with(), CONV)
    wide, _ = run_layer(spec_with(dram={"bandwidth_bytes_per_cycle": 1e9}), CONV)
    assert wide.cycles == free.cycles
    assert wide.stall_cycles == 0


@pytest.mark.parametrize("bandwidth", [0.25, 1.0, 4.0])
def test_finite_bandwidth_adds_stalls(bandwidth):
    free, _ = run_layer(spec_with(), CONV)
    slow, timeline = run_layer(spec_with(dram={"bandwidth_bytes_per_cycle": bandwidth}), CONV)
    assert slow.stall_cycles > 0
    assert slow.cycles >= free.cycles + slow.stall_cycles
    # DRAM-bound: the run cannot be shorter than moving every byte over the link, except the first
    # fold's operands and the last two folds' outputs (double-buffered), which overlap the next layer.
    accel = build(spec_with())
    traffic = accel.dram_traffic(CONV, accel.dataflow.map(CONV, accel.geometry))
    overlapped = traffic.read_bytes / slow.folds + 2 * traffic.ofmap_bytes / slow.folds
    assert slow.cycles + 1 >= (slow.dram_bytes - overlapped) / bandwidth
    assert slow.cycles + 1 < slow.dram_bytes / bandwidth + free.cycles  # and no slower than serialising both
    assert set(timeline["state"]) >= {"busy", "stalled"}


def test_operands_that_fit_are_fetched_once():
    small = Layer("s", LayerKind.CONV, h=8, w=8, c=16, k=64, r=3, s=3, pad=1)  # ifmap 1 KiB, weights 9 KiB
    result, _ = run_layer(spec_with(), small)
    ifmap, weights, outputs = 8 * 8 * 16, 9 * 16 * 64, 8 * 8 * 64
    assert result.dram_bytes == ifmap + weights + outputs


def test_partial_sums_spill_when_the_ofmap_sram_is_too_small():
    big = Layer("b", LayerKind.CONV, h=56, w=56, c=64, k=64, r=3, s=3, pad=1)  # 18 row folds, 784 KiB psums
    accel = build(spec_with())
    mapping = accel.dataflow.map(big, accel.geometry)
    traffic = accel.dram_traffic(big, mapping)
    outputs = 56 * 56 * 64
    assert mapping.row_folds == 18
    assert traffic.ofmap_bytes == outputs + 17 * 2 * outputs * 4


def test_sparse_profile_counts_effectual_macs_and_gating_saves_energy_not_cycles():
    run = accelsim.simulate("systolic_ws_32x32", "vgg16", profile="pruned")
    dense = accelsim.simulate("systolic_ws_32x32", "vgg16", profile="dense")
    assert (run.layers["macs_issued"] == run.layers["macs_dense"]).all()
    assert (run.layers["cycles"] == dense.layers["cycles"]).all()
    ratio = run.totals["macs_effectual"] / run.totals["macs_dense"]
    assert 0.18 < ratio < 0.24  # Han'15 VGG16: 21% of the work left ([HAN15])
    gated = accelsim.simulate(spec_with(zero_gating=True), "vgg16", profile="pruned")
    assert (gated.layers["cycles"] == run.layers["cycles"]).all()
    assert gated.totals["energy_mac_pj"] < 0.5 * run.totals["energy_mac_pj"]


def test_energy_columns_add_up_and_are_positive():
    layers = accelsim.simulate("systolic_os_32x32", "alexnet").layers
    assert (layers[list(ENERGY_COLUMNS)].sum(axis=1) - layers["energy_pj"]).abs().max() < 1e-6 * layers[
        "energy_pj"
    ].max()
    for col in ("energy_mac_pj", "energy_sram_pj", "energy_dram_pj", "energy_static_pj", "energy_rf_pj"):
        assert (layers[col] > 0).all(), col


def test_depthwise_groups_run_in_sequence():
    dw = Layer("dw", LayerKind.DEPTHWISE, h=14, w=14, c=64, k=64, r=3, s=3, pad=1, groups=64)
    result, _ = run_layer(spec_with(), dw)
    per_group = 2 * 32 + 32 + 14 * 14 - 2  # WS: one fold per group (Kd = 9, N = 1)
    assert result.folds == 64
    assert result.cycles == 64 * per_group - 1
    assert result.macs_issued == dw.macs
