"""Phantom-2D dataflow on every layer kind: kernel items == golden reference built from raw masks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.dataflows.phantom import CoreGeometry, core_items, plan_mesh
from accelsim.engine import play
from accelsim.kernels.reference.phantom import layer_items_reference
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.masks import OperandMasks, activation_shape, effectual_macs, weight_shape

LAYERS = {
    "conv3x3_s1": Layer("c1", LayerKind.CONV, h=7, w=6, c=3, k=4, r=3, s=3, pad=1),
    "conv3x3_s2": Layer("c2", LayerKind.CONV, h=9, w=8, c=2, k=3, r=3, s=3, stride=2, pad=1),
    "conv11x11_s4": Layer("c3", LayerKind.CONV, h=23, w=19, c=2, k=2, r=11, s=11, stride=4),  # AlexNet conv1
    "conv5x5_grouped": Layer("c4", LayerKind.CONV, h=6, w=6, c=4, k=4, r=5, s=5, pad=2, groups=2),  # conv2
    "depthwise_s2": Layer("d", LayerKind.DEPTHWISE, h=8, w=7, c=3, k=3, r=3, s=3, stride=2, pad=1, groups=3),
    "pointwise": Layer("p", LayerKind.POINTWISE, h=4, w=5, c=11, k=3),
    "fc": Layer("f", LayerKind.FC, h=1, w=1, c=37, k=5),
}


def random_masks(layer: Layer, seed: int, w_density: float, a_density: float) -> OperandMasks:
    rng = np.random.default_rng(seed)
    return OperandMasks(
        weights=rng.random(weight_shape(layer)) < w_density,
        activations=rng.random(activation_shape(layer)) < a_density,
    )


def check_layer(layer: Layer, masks: OperandMasks, core: CoreGeometry) -> None:
    items = core_items(layer, masks, core)
    ref = layer_items_reference(
        layer,
        masks.weights,
        masks.activations,
        core.threads,
        core.pes,
        0 if core.window is None else core.window,
        core.split,
        core.prefetch,
        core.strip_rows or layer.out_h,
    )
    assert items.cycles.tolist() == ref.cycles.reshape(layer.k, -1).tolist()
    assert items.products.tolist() == ref.products.reshape(layer.k, -1).tolist()
    assert items.unmapped_pe_cycles == ref.unmapped
    assert int(items.products.sum()) == effectual_macs(layer, masks)  # only valid products are issued


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize(
    "core",
    [
        CoreGeometry(pes=3, threads=3, window=8),
        CoreGeometry(pes=4, threads=4, window=2, prefetch=False, strip_rows=2),
        CoreGeometry(pes=2, threads=5, window=None, split=True),
    ],
    ids=["p3t3w8", "p4t4w2_barrier_strips", "p2t5_unbounded_split"],
)
def test_layer_kind_equals_reference(name, core):
    layer = LAYERS[name]
    check_layer(layer, random_masks(layer, 7, 0.6, 0.55), core)


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(list(LAYERS)),
    seed=st.integers(0, 2**16),
    pes=st.integers(1, 4),
    threads=st.integers(1, 6),
    window=st.sampled_from([None, 1, 3, 8]),
    split=st.booleans(),
    prefetch=st.booleans(),
    strip_rows=st.sampled_from([None, 1, 3]),
    density=st.floats(0.1, 1.0),
)
def test_random_layers_equal_reference(
    name, seed, pes, threads, window, split, prefetch, strip_rows, density
):
    layer = LAYERS[name]
    core = CoreGeometry(pes, threads, window, split, prefetch, strip_rows)
    check_layer(layer, random_masks(layer, seed, density, 0.6), core)


def test_strided_windows_waste_no_products():
    """Stride 2 enumerates only the windows the layer computes: issued products = effectual MACs."""
    layer = LAYERS["conv3x3_s2"]
    masks = random_masks(layer, 3, 1.0, 1.0)
    items = core_items(layer, masks, CoreGeometry(3, 3, 8))
    assert int(items.products.sum()) == effectual_macs(layer, masks)
    assert items.cycles.shape == (layer.k, layer.out_w)  # one strip per output column, not per input column


def small_items():  # type: ignore[no-untyped-def]
    layer = Layer("c", LayerKind.CONV, h=12, w=16, c=4, k=12, r=3, s=3, pad=1)
    masks = random_masks(layer, 11, 0.5, 0.5)
    return core_items(layer, masks, CoreGeometry(3, 3, 8, strip_rows=4))


@pytest.mark.parametrize("policy", ["round_robin", "lpt", "dynamic"])
def test_mesh_plan_keeps_every_cycle_of_work(policy):
    items = small_items()
    plan = plan_mesh(items, rows=2, cols=3, policy=policy)
    assert sum(w.cycles for w in plan.work) == int(items.cycles.sum())
    assert (plan.input_sets, plan.filter_sets) == (2, 3)
    assert all((w.unit == -1) == (policy == "dynamic") for w in plan.work)
    run = play(plan.work, units=6, dram_bytes_per_cycle=None)
    assert run.makespan >= int(items.cycles.sum()) / 6


def test_lpt_fixes_systematic_filter_imbalance():
    """Dense filters k = 0, 3, 6, 9 all land on filter set 0 under round robin; LPT spreads them."""
    layer = Layer("c", LayerKind.CONV, h=12, w=16, c=4, k=12, r=3, s=3, pad=1)
    masks = random_masks(layer, 5, 0.15, 0.6)
    masks.weights[::3] = True
    items = core_items(layer, masks, CoreGeometry(3, 3, 8, strip_rows=4))
    spans = {
        p: play(plan_mesh(items, 2, 3, p).work, 6, None).makespan for p in ("round_robin", "lpt", "dynamic")
    }
    assert spans["lpt"] < 0.8 * spans["round_robin"]
    assert spans["dynamic"] < 0.8 * spans["round_robin"]


def test_scarce_input_strips_spread_filters_over_all_cores():
    layer = LAYERS["fc"]
    items = core_items(layer, random_masks(layer, 1, 0.5, 0.5), CoreGeometry(4, 4, 8))
    plan = plan_mesh(items, rows=2, cols=2, policy="lpt")
    assert (plan.input_sets, plan.filter_sets) == (1, 4)
    assert {w.unit for w in plan.work} <= set(range(4))
