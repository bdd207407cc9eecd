"""Every shipped accelerator on random small layers: the slot partition is exact and the metrics are the
timeline's (the shared definitions of docs/architecture.md, "Where the cycles went")."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slot_checks import check_layer_run, check_row

import accelsim
from accelsim.accelerators import build
from accelsim.api import list_configs, resolve_config
from accelsim.config.workload_spec import UniformPattern
from accelsim.plots import load_results
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.sparsity import LayerDensity, SparsityProfile

CONFIGS = list_configs()


@st.composite
def small_layers(draw: st.DrawFn) -> Layer:
    kind = draw(st.sampled_from([LayerKind.CONV, LayerKind.DEPTHWISE, LayerKind.POINTWISE, LayerKind.FC]))
    if kind is LayerKind.FC:
        return Layer("l", kind, h=1, w=1, c=draw(st.integers(1, 80)), k=draw(st.integers(1, 40)))
    h, w = draw(st.integers(3, 14)), draw(st.integers(3, 14))
    c = draw(st.integers(1, 12))
    if kind is LayerKind.POINTWISE:
        return Layer("l", kind, h=h, w=w, c=c, k=draw(st.integers(1, 24)))
    r = draw(st.sampled_from([1, 3, 5]))
    r = min(r, h, w)
    stride = draw(st.sampled_from([1, 1, 2]))
    pad = draw(st.integers(0, r // 2))
    if kind is LayerKind.DEPTHWISE:
        return Layer("l", kind, h=h, w=w, c=c, k=c, r=r, s=r, stride=stride, pad=pad, groups=c)
    return Layer("l", kind, h=h, w=w, c=c, k=draw(st.integers(1, 24)), r=r, s=r, stride=stride, pad=pad)


def workload(layer: Layer, weights: float, activations: float, seed: int) -> LayerWorkload:
    density = LayerDensity(weights, activations, UniformPattern(), UniformPattern())
    profile = SparsityProfile("p", "t", "random test profile", {layer.name: density})
    return LayerWorkload("t", layer, profile, seed, (layer,))


@pytest.mark.parametrize("config", CONFIGS)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    layer=small_layers(),
    weights=st.sampled_from([1.0, 0.7, 0.3]),
    activations=st.sampled_from([1.0, 0.6, 0.25]),
    seed=st.integers(0, 1000),
)
def test_slot_partition_and_metrics_on_random_layers(config, layer, weights, activations, seed):
    spec, source = resolve_config(config)
    accel = build(spec, source)
    if accel.unsupported(layer) is not None:
        return
    result, timeline = accel.simulate_layer(workload(layer, weights, activations, seed))
    check_layer_run(result, timeline)  # a batched model's row covers its batch, as its timeline does


WRITTEN = ["systolic_ws_32x32_lpddr4", "phantom2d", "scnn", "dcnn", "sparten", "eyeriss_v1_scaled192"]
WRITTEN += ["eyeriss_v2_1024", "eyeriss_v2_ddr4", "imce", "winograd_fpga"]


@pytest.mark.parametrize("config", WRITTEN)
def test_written_metrics_are_the_written_timelines(config, tmp_path):
    """layers.parquet's imbalance, idle_fraction and stall_cycles are those of timeline.parquet, which lists
    every unit of every layer (a real network, written and read back)."""
    run = accelsim.simulate(config, "mobilenet_v1_0.5_128", "pruned", skip_unsupported=True)
    run.write(tmp_path)
    tables = load_results(tmp_path)
    assert tables.layers is not None
    assert tables.timeline is not None
    assert len(tables.layers) > 0
    for row in tables.layers.to_dict("records"):
        timeline = tables.timeline[tables.timeline["layer"] == row["layer"]]
        check_row(row, timeline)
