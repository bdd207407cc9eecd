"""Phantom-2D end to end: config, iso-multiplier preset, counts, ablations, energy, reproducibility."""

from __future__ import annotations

from pathlib import Path

import pytest
from slot_checks import check_layer_run

from accelsim.accelerators import build
from accelsim.api import resolve_config, simulate
from accelsim.config.arch import parse_arch
from accelsim.config.sweep_spec import load_sweep
from accelsim.config.workload_spec import UniformPattern
from accelsim.errors import ConfigError
from accelsim.report.schema import ENERGY_COLUMNS
from accelsim.sweep.points import expand
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.sparsity import LayerDensity, SparsityProfile, dense_profile, load_profile

ROOT = Path(__file__).resolve().parent.parent
CONV = Layer("conv5_1", LayerKind.CONV, h=14, w=14, c=64, k=32, r=3, s=3, pad=1)


def spec_with(**core_changes):  # type: ignore[no-untyped-def]
    spec, _ = resolve_config("phantom2d")
    mesh = core_changes.pop("mesh", {})
    dram = core_changes.pop("dram", {})
    return spec.model_copy(
        update={
            "core": spec.core.model_copy(update=core_changes),
            "mesh": spec.mesh.model_copy(update=mesh),
            "dram": spec.dram.model_copy(update=dram),
        }
    )


def sparse_work(layer: Layer = CONV) -> LayerWorkload:
    profile = load_profile("vgg16", "pruned")  # conv5_1 densities of pruned VGG16
    return LayerWorkload("vgg16", layer, profile, seed=0)


def test_preset_is_iso_multiplier_and_iso_clock_with_the_dense_baseline():
    phantom = build(resolve_config("phantom2d")[0])
    dense = build(resolve_config("systolic_ws_32x32")[0])
    assert phantom.multipliers == dense.multipliers == 1024
    assert phantom.clock_hz == dense.clock_hz
    assert build(resolve_config("phantom2d_p3t3")[0]).multipliers == 8 * 14 * 9


def test_bad_config_names_the_key():
    data = resolve_config("phantom2d")[0].model_dump()
    data["core"]["threads"] = 0
    with pytest.raises(ConfigError, match=r"core\.threads"):
        parse_arch(data, "bad.yaml")
    data["core"]["threads"] = 4
    data["mesh"]["balance"] = "greedy"
    with pytest.raises(ConfigError, match=r"mesh\.balance"):
        parse_arch(data, "bad.yaml")
    data["mesh"]["balance"] = "lpt"
    data["core"]["look_ahead"] = 4
    with pytest.raises(ConfigError, match="unknown key"):
        parse_arch(data, "bad.yaml")
    del data["core"]["look_ahead"]
    for key, value in [
        ("dispatch", "greedy"),
        ("run_ahead_steps", -1),
        ("run_ahead_steps", True),
        ("neuron_walk", "pointwise"),
    ]:
        bad = data | {"core": data["core"] | {key: value}}
        with pytest.raises(ConfigError, match=rf"core\.{key}"):
            parse_arch(bad, "bad.yaml")
    with pytest.raises(ConfigError, match=r"mesh\.split"):
        parse_arch(data | {"mesh": data["mesh"] | {"split": "auto"}}, "bad.yaml")


@pytest.mark.parametrize("value", [True, False])
def test_the_old_prefetch_key_names_its_replacement(value):
    data = resolve_config("phantom2d")[0].model_dump()
    data["core"]["prefetch_next_tile"] = value
    with pytest.raises(ConfigError) as err:
        parse_arch(data, "old.yaml")
    message = str(err.value)
    assert "core.prefetch_next_tile: replaced by core.run_ahead_steps" in message
    assert "true is run_ahead_steps: 1, false is 0" in message


def test_only_valid_products_are_issued():
    work = sparse_work()
    result, timeline = build(spec_with()).simulate_layer(work)
    assert result.macs_issued == result.macs_effectual == work.effectual_macs
    assert result.macs_issued < result.macs_dense
    assert 0 < result.utilization <= 1
    assert set(timeline.columns) >= {"unit", "state", "start", "end"}
    assert timeline["unit"].nunique() == 64
    assert result.cycles == int(timeline["end"].max())  # the timeline covers the layer
    drain = timeline[timeline["start"] >= result.cycles - 3]  # L1 + two L2 stages after the makespan
    assert set(drain["state"]) == {"idle"}
    assert drain["unit"].nunique() == 64
    assert result.slots.fill_drain == 3 * 1024


def test_dense_layer_cycles_bounded_by_ideal():
    layer = Layer("d", LayerKind.CONV, h=8, w=8, c=16, k=64, r=3, s=3, pad=1)
    work = LayerWorkload("t", layer, dense_profile("t"), seed=0)
    result, _ = build(spec_with()).simulate_layer(work)
    assert result.macs_issued == work.effectual_macs
    assert result.cycles >= result.macs_issued / 1024


def test_level1_ablations_order():
    work = sparse_work()
    cycles = {
        name: build(spec_with(**changes)).simulate_layer(work)[0].cycles
        for name, changes in {
            "off": {"window": 1, "dispatch": "fixed"},
            "w8_fixed": {"dispatch": "fixed"},
            "w8_compact": {},
            "w8_ahead1": {"run_ahead_steps": 1},
            "w8_dynamic_unbounded": {"dispatch": "dynamic", "run_ahead_steps": None},
            "unbounded_split": {
                "window": None,
                "atomic_groups": False,
                "dispatch": "dynamic",
                "run_ahead_steps": None,
            },
        }.items()
    }
    assert cycles["off"] > cycles["w8_fixed"] > cycles["w8_compact"] > cycles["w8_ahead1"]
    assert cycles["w8_ahead1"] > cycles["w8_dynamic_unbounded"] >= cycles["unbounded_split"]


def small_workload(layer: Layer, seed: int) -> LayerWorkload:
    density = LayerDensity(0.4, 0.6, UniformPattern(), UniformPattern())
    profile = SparsityProfile("p", "t", "test profile", {layer.name: density})
    return LayerWorkload("t", layer, profile, seed, (layer,))


SMALL = [
    Layer("c", LayerKind.CONV, h=9, w=7, c=5, k=10, r=3, s=3, pad=1),
    Layer("d", LayerKind.DEPTHWISE, h=8, w=8, c=6, k=6, r=3, s=3, stride=2, pad=1, groups=6),
    Layer("p", LayerKind.POINTWISE, h=5, w=6, c=13, k=9),
    Layer("f", LayerKind.FC, h=1, w=1, c=70, k=30),
]
OPTIONS = (
    [{"core": {"dispatch": d}} for d in ("fixed", "compact", "dynamic")]
    + [{"core": {"run_ahead_steps": r}} for r in (0, 1, 3, None)]
    + [{"core": {"neuron_walk": w}} for w in ("none", "fc", "fc_pointwise")]
    + [
        {"mesh": {"split": s, "balance": b}}
        for s in ("fixed", "search")
        for b in ("round_robin", "lpt", "dynamic")
    ]
)


@pytest.mark.parametrize(
    "changes", OPTIONS, ids=lambda c: "-".join(f"{k}={v}" for sec in c.values() for k, v in sec.items())
)
def test_slot_partition_is_exact_for_every_option(changes):
    spec = spec_with(**changes.get("core", {}), mesh=changes.get("mesh", {}))
    model = build(spec.model_copy(update={"mesh": spec.mesh.model_copy(update={"rows": 2, "cols": 3})}))
    for seed, layer in enumerate(SMALL):
        result, timeline = model.simulate_layer(small_workload(layer, seed))
        check_layer_run(result, timeline)
        assert result.macs_issued == result.macs_effectual


def test_all_zero_weight_rows_move_from_unit_idle_to_nothing_under_compact():
    """On pruned conv5_1 an all-zero weight row keeps its PE's slot under fixed dispatch (unit idle);
    compact dispatch drops those rows: fewer cycles, a smaller unit-idle share, the same products."""
    work = sparse_work()
    fixed, _ = build(spec_with(dispatch="fixed")).simulate_layer(work)
    compact, _ = build(spec_with(dispatch="compact")).simulate_layer(work)
    assert compact.cycles < fixed.cycles
    assert compact.slots.effectual == fixed.slots.effectual
    assert compact.slots.unit_idle / compact.slots.total < fixed.slots.unit_idle / fixed.slots.total


def test_finite_dram_bandwidth_stalls():
    """The fixed split gives each core 4 items here, so the later items' operands must stream in (the
    searched split gives each core one item, whose operands arrived with the previous layer)."""
    work = sparse_work()
    mesh = {"split": "fixed"}
    free, _ = build(spec_with(mesh=mesh)).simulate_layer(work)
    slow, timeline = build(spec_with(mesh=mesh, dram={"bandwidth_bytes_per_cycle": 0.5})).simulate_layer(work)
    assert slow.stall_cycles > 0
    assert slow.cycles > free.cycles
    assert slow.dram_bytes == free.dram_bytes
    assert "stalled" in set(timeline["state"])


def test_energy_components_and_mask_traffic():
    result, _ = build(spec_with()).simulate_layer(sparse_work())
    row = result.to_row()
    for col in ("energy_mac_pj", "energy_rf_pj", "energy_sram_pj", "energy_noc_pj", "energy_dram_pj"):
        assert row[col] > 0, col
    assert row["energy_pj"] == pytest.approx(sum(row[c] for c in ENERGY_COLUMNS))
    dense_bytes = CONV.input_elems + CONV.weights + CONV.output_elems  # int8, uncompressed
    assert result.dram_bytes < dense_bytes  # mask format: 1 bit per element + the non-zeros


def test_whole_small_network_is_reproducible_and_runs_every_kind():
    a = simulate("phantom2d", "mobilenet_v1", "pruned", seed=3).layers
    b = simulate("phantom2d", "mobilenet_v1", "pruned", seed=3).layers
    assert a.equals(b)
    assert set(a["kind"]) == {"conv", "depthwise", "pointwise", "fc"}
    assert (a["macs_issued"] == a["macs_effectual"]).all()


def test_core_shape_sweep_is_about_1024_multipliers():
    points = expand(load_sweep(ROOT / "arch_configs" / "sweeps" / "phantom_core_shapes.yaml"))
    shapes = {(p.spec["core"]["pes"], p.spec["core"]["threads"]) for p in points}
    assert shapes == {(3, 3), (3, 6), (3, 9), (4, 4)}
    assert build(resolve_config("phantom2d")[0]).multipliers == 1024
    p4t4 = next(p for p in points if p.spec["core"]["pes"] == 4)
    assert build(parse_arch(p4t4.spec, "sweep")).multipliers == 1024  # the shipped phantom2d's shape
    for point in points:
        mult = build(parse_arch(point.spec, "sweep")).multipliers
        assert abs(mult - 1024) <= 0.06 * 1024, (point.spec["core"], mult)


def test_window_sweep_reaches_core_keys():
    points = expand(load_sweep(ROOT / "arch_configs" / "sweeps" / "phantom_window.yaml"))
    got = {(p.spec["core"]["window"], p.spec["core"]["threads"]) for p in points}
    assert got == {(w, t) for w in (1, 2, 4, 8, None) for t in (4, 8)}
