"""Phantom-2D dataflow on every layer kind: kernel items == golden reference built from raw masks, for
every dispatch, run-ahead and strip walk; the level-2 split search plays what it evaluated."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.dataflows.phantom import (
    CoreGeometry,
    PhantomDataflow,
    PhantomHardware,
    core_items,
    fixed_sets,
    plan_mesh,
    walks_neurons,
)
from accelsim.engine import play
from accelsim.kernels.reference.phantom import CoreOptions, layer_items_reference, neuron_items_reference
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.masks import OperandMasks, activation_shape, effectual_macs, weight_shape

LAYERS = {
    "conv3x3_s1": Layer("c1", LayerKind.CONV, h=7, w=6, c=3, k=4, r=3, s=3, pad=1),
    "conv3x3_s2": Layer("c2", LayerKind.CONV, h=9, w=8, c=2, k=3, r=3, s=3, stride=2, pad=1),
    "conv11x11_s4": Layer("c3", LayerKind.CONV, h=23, w=19, c=2, k=2, r=11, s=11, stride=4),  # AlexNet conv1
    "conv5x5_grouped": Layer("c4", LayerKind.CONV, h=6, w=6, c=4, k=4, r=5, s=5, pad=2, groups=2),  # conv2
    "depthwise_s2": Layer("d", LayerKind.DEPTHWISE, h=8, w=7, c=3, k=3, r=3, s=3, stride=2, pad=1, groups=3),
    "pointwise": Layer("p", LayerKind.POINTWISE, h=4, w=5, c=11, k=3),
    "pointwise_grouped_s2": Layer("pg", LayerKind.POINTWISE, h=5, w=4, c=6, k=4, stride=2, groups=2),
    "fc": Layer("f", LayerKind.FC, h=1, w=1, c=37, k=5),
}


def random_masks(layer: Layer, seed: int, w_density: float, a_density: float) -> OperandMasks:
    rng = np.random.default_rng(seed)
    return OperandMasks(
        weights=rng.random(weight_shape(layer)) < w_density,
        activations=rng.random(activation_shape(layer)) < a_density,
    )


def options(core: CoreGeometry) -> CoreOptions:
    return CoreOptions(
        core.threads,
        core.pes,
        0 if core.window is None else core.window,
        core.split,
        core.run_ahead,
        core.dispatch,
    )


def check_layer(layer: Layer, masks: OperandMasks, core: CoreGeometry, length: int | None = None) -> None:
    """Kernel items == reference items (cycles, products, unmapped and busy PE-cycles), one strip length."""
    neurons = walks_neurons(layer, core)
    length = length or (layer.k_per_group if neurons else core.strip_rows or layer.out_h)
    items = core_items(layer, masks, core, length)
    if neurons:
        ref = neuron_items_reference(layer, masks.weights, masks.activations, options(core), length)
    else:
        ref = layer_items_reference(layer, masks.weights, masks.activations, options(core), length)
    assert items.cycles.tolist() == ref.cycles.tolist()
    assert items.products.tolist() == ref.products.tolist()
    assert items.unmapped_pe_cycles == ref.unmapped
    assert items.pe_busy_cycles == ref.busy
    assert int(items.products.sum()) == effectual_macs(layer, masks)  # only valid products are issued
    assert items.dealt_rows <= items.reduction_rows * items.cycles.size


CORES = {
    "p3t3w8_fixed_barrier": CoreGeometry(pes=3, threads=3, window=8, dispatch="fixed", run_ahead=0),
    "p4t4w2_compact_ahead1_strips": CoreGeometry(
        pes=4, threads=4, window=2, dispatch="compact", run_ahead=1, strip_rows=2
    ),
    "p2t5_dynamic_unbounded_split": CoreGeometry(
        pes=2,
        threads=5,
        window=None,
        split=True,
        dispatch="dynamic",
        run_ahead=None,
        neuron_walk="fc_pointwise",
    ),
    "p4t3_dynamic_ahead2_neurons": CoreGeometry(
        pes=4, threads=3, window=4, dispatch="dynamic", run_ahead=2, neuron_walk="fc_pointwise"
    ),
}


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("core", list(CORES.values()), ids=list(CORES))
def test_layer_kind_equals_reference(name, core):
    layer = LAYERS[name]
    check_layer(layer, random_masks(layer, 7, 0.4, 0.55), core)


@settings(max_examples=80, deadline=None)
@given(
    name=st.sampled_from(list(LAYERS)),
    seed=st.integers(0, 2**16),
    pes=st.integers(1, 4),
    threads=st.integers(1, 6),
    window=st.sampled_from([None, 1, 3, 8]),
    split=st.booleans(),
    dispatch=st.sampled_from(["fixed", "compact", "dynamic"]),
    run_ahead=st.sampled_from([0, 1, 3, None]),
    neuron_walk=st.sampled_from(["none", "fc", "fc_pointwise"]),
    length=st.sampled_from([None, 1, 3]),
    density=st.floats(0.1, 1.0),
)
def test_random_layers_equal_reference(
    name, seed, pes, threads, window, split, dispatch, run_ahead, neuron_walk, length, density
):
    layer = LAYERS[name]
    core = CoreGeometry(pes, threads, window, split, dispatch, run_ahead, None, neuron_walk)
    check_layer(layer, random_masks(layer, seed, density, 0.6), core, length)


def test_strided_windows_waste_no_products():
    """Stride 2 enumerates only the windows the layer computes: issued products = effectual MACs."""
    layer = LAYERS["conv3x3_s2"]
    masks = random_masks(layer, 3, 1.0, 1.0)
    items = core_items(layer, masks, CoreGeometry(3, 3, 8), layer.out_h)
    assert int(items.products.sum()) == effectual_macs(layer, masks)
    assert items.cycles.shape == (layer.k, layer.out_w)  # one strip per output column, not per input column


def test_fc_neuron_walk_lets_the_look_ahead_pack():
    """An FC strip of one output has nothing to look ahead into: each group gets a cycle of its own.
    Walking 64 neurons per strip packs groups of different neurons into one cycle."""
    layer = Layer("f", LayerKind.FC, h=1, w=1, c=256, k=64)
    masks = random_masks(layer, 1, 0.3, 0.5)
    one = core_items(layer, masks, CoreGeometry(4, 4, 8, neuron_walk="none"), 1)
    walk = core_items(layer, masks, CoreGeometry(4, 4, 8, neuron_walk="fc"), 64)
    assert (one.walk, walk.walk) == ("pixels", "neurons")
    assert one.cycles.shape == (64, 1)
    assert walk.cycles.shape == (1, 1)
    assert int(one.products.sum()) == int(walk.products.sum())
    assert walk.pe_busy_cycles < 0.6 * one.pe_busy_cycles


def small_items(policy_core: CoreGeometry | None = None):  # type: ignore[no-untyped-def]
    layer = Layer("c", LayerKind.CONV, h=12, w=16, c=4, k=12, r=3, s=3, pad=1)
    masks = random_masks(layer, 11, 0.5, 0.5)
    return core_items(layer, masks, policy_core or CoreGeometry(3, 3, 8), 4)


@pytest.mark.parametrize("policy", ["round_robin", "lpt", "dynamic"])
def test_mesh_plan_keeps_every_cycle_of_work_and_knows_its_makespan(policy):
    items = small_items()
    plan = plan_mesh(items, (2, 3), policy, 6)
    assert sum(w.cycles for w in plan.work) == int(items.cycles.sum())
    assert (plan.input_sets, plan.filter_sets) == (2, 3)
    assert all((w.unit == -1) == (policy == "dynamic") for w in plan.work)
    run = play(plan.work, units=6, dram_bytes_per_cycle=None)
    assert run.makespan == plan.makespan
    assert run.makespan >= int(items.cycles.sum()) / 6


def test_lpt_fixes_systematic_filter_imbalance():
    """Dense filters k = 0, 3, 6, 9 all land on filter set 0 under round robin; LPT spreads them."""
    layer = Layer("c", LayerKind.CONV, h=12, w=16, c=4, k=12, r=3, s=3, pad=1)
    masks = random_masks(layer, 5, 0.15, 0.6)
    masks.weights[::3] = True
    items = core_items(layer, masks, CoreGeometry(3, 3, 8), 4)
    spans = {
        p: play(plan_mesh(items, (2, 3), p, 6).work, 6, None).makespan
        for p in ("round_robin", "lpt", "dynamic")
    }
    assert spans["lpt"] < 0.8 * spans["round_robin"]
    assert spans["dynamic"] < 0.8 * spans["round_robin"]


def test_scarce_input_strips_spread_filters_over_all_cores():
    assert fixed_sets(1, 2, 2) == (1, 4)
    layer = LAYERS["fc"]
    items = core_items(layer, random_masks(layer, 1, 0.5, 0.5), CoreGeometry(4, 4, 8, neuron_walk="none"), 1)
    plan = plan_mesh(items, fixed_sets(1, 2, 2), "lpt", 4)
    assert (plan.input_sets, plan.filter_sets) == (1, 4)
    assert {w.unit for w in plan.work} <= set(range(4))


def mapped(layer: Layer, masks: OperandMasks, **hardware: Any):  # type: ignore[no-untyped-def]
    base: dict[str, Any] = {"core": CoreGeometry(4, 4, 8), "rows": 4, "cols": 4, "balance": "lpt"}
    return PhantomDataflow().map(layer, PhantomHardware(**(base | hardware)), masks)


@pytest.mark.parametrize("balance", ["round_robin", "lpt", "dynamic"])
@pytest.mark.parametrize("name", ["late_conv", "fc", "depthwise"])
def test_split_search_plays_what_it_chose_and_never_loses_to_the_fixed_split(balance, name):
    """A 7 x 7 layer has 7 output columns for a 4 x 4 mesh: the search's makespan is the engine's,
    and never above the fixed split's (the fixed split is its first candidate)."""
    layer = {
        "late_conv": Layer("c", LayerKind.CONV, h=7, w=7, c=16, k=24, r=3, s=3, pad=1),
        "fc": Layer("f", LayerKind.FC, h=1, w=1, c=300, k=90),
        "depthwise": Layer("d", LayerKind.DEPTHWISE, h=7, w=7, c=40, k=40, r=3, s=3, pad=1, groups=40),
    }[name]
    masks = random_masks(layer, 2, 0.4, 0.5)
    fixed = mapped(layer, masks, balance=balance, split="fixed")
    search = mapped(layer, masks, balance=balance, split="search")
    for m in (fixed, search):
        assert play(m.mesh.work, 16, None).makespan == m.mesh.makespan
        assert sum(w.cycles for w in m.mesh.work) == int(m.items.cycles.sum())
        assert m.mesh.input_sets * m.mesh.filter_sets <= 16
    assert search.mesh.makespan <= fixed.mesh.makespan
    assert (search.mesh.split, fixed.mesh.split) == ("search", "fixed")


def test_split_search_beats_eight_input_sets_on_fourteen_columns():
    """VGG16 conv5-like: 14 output columns; the fixed split puts 2 columns on 6 input sets and 1 on 2."""
    layer = Layer("c", LayerKind.CONV, h=14, w=14, c=16, k=64, r=3, s=3, pad=1)
    masks = random_masks(layer, 4, 0.4, 0.5)
    hardware = {"rows": 8, "cols": 8, "core": CoreGeometry(4, 4, 8, strip_rows=None)}
    fixed = mapped(layer, masks, split="fixed", **hardware)
    search = mapped(layer, masks, split="search", **hardware)
    assert (fixed.mesh.input_sets, fixed.mesh.filter_sets) == (8, 8)
    assert search.mesh.makespan < 0.9 * fixed.mesh.makespan
