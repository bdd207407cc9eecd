"""The IMCE model end to end: config validation, energy accounting, device equations, area, mapping limits."""

from __future__ import annotations

import math

import pytest

from accelsim.accelerators import build
from accelsim.accelerators.imce import ACTION_GROUPS, device_energies
from accelsim.api import resolve_config, simulate
from accelsim.config.arch import parse_arch
from accelsim.errors import ConfigError
from accelsim.report.schema import ENERGY_COLUMNS
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.network import Network
from accelsim.workload.sparsity import dense_profile

CONV = Layer("conv", LayerKind.CONV, h=13, w=13, c=64, k=96, r=3, s=3, pad=1, groups=2)
FC = Layer("fc", LayerKind.FC, h=1, w=1, c=2048, k=300)


def spec(name: str = "imce", **changes):  # type: ignore[no-untyped-def]
    base, _ = resolve_config(name)
    data = base.model_dump()
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            data[section][field] = value
        else:
            data[key] = value
    return parse_arch(data, "<test>")


def run(s, layer: Layer):  # type: ignore[no-untyped-def]
    return build(s).simulate_layer(LayerWorkload("t", layer, dense_profile("t"), seed=0))


@pytest.mark.parametrize("name", ["imce", "imce_rram"])
def test_shipped_configs_build_with_their_cell(name):
    s, _ = resolve_config(name)
    accel = build(s)
    assert accel.kind == "imce"
    assert accel.multipliers == s.array.subarrays * s.array.cols
    assert s.cell.technology == {"imce": "sot_mram", "imce_rram": "rram"}[name]


@pytest.mark.parametrize(("key", "bits"), [("weight_bits", 3), ("act_bits", 16)])
def test_unsupported_width_names_key_and_allowed_values(key, bits):
    s, _ = resolve_config("imce")
    data = s.model_dump()
    data["precision"][key] = bits
    with pytest.raises(ConfigError) as e:
        parse_arch(data, "<test>")
    assert f"precision.{key} = {bits}" in str(e.value)
    assert "allowed: 1, 2, 4, 8" in str(e.value)


def test_bad_cell_and_array_are_config_errors():
    with pytest.raises(ConfigError, match="r_high_ohm"):
        spec(cell__r_high_ohm=100.0)
    with pytest.raises(ConfigError, match=r"array\.rows = 9"):
        spec(array__rows=9)  # 8-bit conv1 / fc8 need 8 + 8 rows


@pytest.mark.parametrize("layer", [CONV, FC])
@pytest.mark.parametrize(("m", "n"), [(1, 1), (1, 2), (2, 2), (8, 8)])
def test_energy_columns_equal_the_per_action_breakdown(layer, m, n):
    s = spec(precision={"weight_bits": m, "act_bits": n, "psum_bits": 32}, full_precision_layers=[])
    accel = build(s)
    result, timeline = run(s, layer)
    per_action = accel.action_energy_pj(layer, result.cycles)
    assert list(per_action) == list(ACTION_GROUPS)
    assert sum(result.energy_pj.values()) == pytest.approx(sum(per_action.values()), rel=1e-12)
    mac = per_action["and"] + per_action["bitcount"] + per_action["shift_add"] + per_action["quantize"]
    assert result.energy_pj["energy_mac_pj"] == pytest.approx(mac, rel=1e-12)
    sram = per_action["read"] + per_action["write"] + per_action["buffer"]
    assert result.energy_pj["energy_sram_pj"] == pytest.approx(sram, rel=1e-12)
    assert result.energy_pj["energy_static_pj"] == pytest.approx(per_action["leakage"], rel=1e-12)
    assert set(result.energy_pj) == set(ENERGY_COLUMNS)
    # Dense engine: every MAC is computed; one MAC takes m x n lane-senses of t_and cycles
    assert result.macs_issued == layer.macs
    assert 0 < result.utilization <= 1 / (m * n * accel.timing.t_and)
    assert 0 < result.mapping_efficiency <= 1
    assert set(timeline["state"]) >= {"busy"}


def test_cycles_are_the_busiest_subarray_plus_the_periphery():
    s = spec()
    accel = build(s)
    result, _ = run(s, CONV)
    mp = accel.layer_actions(CONV).mapping
    assert result.cycles == int(mp.busy.max()) + mp.dpu_cycles
    # Per (pixel, block) task: n row writes, n x-plane reads in the chunk's first block, f m n AND senses
    m, n = accel.bits(CONV)
    tasks = math.ceil(mp.pixels / mp.copies)
    first_block = tasks * (n * accel.timing.t_write + (n + mp.filters_per_block * m * n) * accel.timing.t_and)
    assert int(mp.busy.max()) == first_block


def test_device_energies_follow_the_circuit_equations():
    s = spec()
    d = device_energies(s)
    cell, arr, vdd = s.cell, s.array, s.technology.vdd
    g = (1 / cell.r_low_ohm + 1 / cell.r_high_ohm) / 2
    bitline_fj = arr.rows * arr.bitline_ff_per_cell * cell.read_voltage_v * vdd
    conduct_fj = cell.read_voltage_v**2 * g * cell.sense_ns * 1e-9 * 1e15
    assert d.and_column_pj * 1e3 == pytest.approx(bitline_fj + 2 * conduct_fj + arr.sense_amp_fj)
    assert d.read_column_pj * 1e3 == pytest.approx(bitline_fj + conduct_fj + arr.sense_amp_fj)
    assert d.write_bit_pj == pytest.approx(
        cell.write_voltage_v * cell.write_current_ua * 1e-6 * cell.write_ns * 1e-9 * 1e12
    )


def test_rram_costs_more_energy_and_time_than_sot_mram():
    mram, _ = run(spec("imce"), CONV)
    rram, _ = run(spec("imce_rram"), CONV)
    assert sum(rram.energy_pj.values()) > sum(mram.energy_pj.values())
    assert rram.cycles > mram.cycles


def test_area_parts_from_cell_and_periphery():
    s = spec()
    area = build(s).area_mm2()
    f_um = s.technology.node_nm * 1e-3
    cells = s.array.subarrays * s.array.rows * s.array.cols * s.cell.cell_area_f2 * f_um**2 * 1e-6
    assert area["cells"] == pytest.approx(cells)
    assert area["total"] == pytest.approx(sum(v for key, v in area.items() if key != "total"))


def test_resident_weights_cost_nothing_per_layer_reloaded_weights_do():
    resident = build(spec()).action_energy_pj(CONV)
    reloaded = build(spec(weight_load="per_layer")).action_energy_pj(CONV)
    assert reloaded["write"] > resident["write"]
    assert reloaded["read"] > resident["read"]
    assert reloaded["and"] == resident["and"]


def test_layer_with_more_blocks_than_subarrays_is_reported_unsupported():
    s = spec(array__subarrays=4)
    reason = build(s).unsupported(FC)  # 2048 / 256 = 8 chunks > 4 sub-arrays
    assert reason is not None
    assert "8 weight blocks" in reason
    net = Network("tiny", (CONV, Layer("fc", LayerKind.FC, h=1, w=1, c=2048, k=10)), check_chain=False)
    result = simulate(s, net, dense_profile("tiny"), skip_unsupported=True)
    assert list(result.layers["layer"]) == ["conv"]


def test_same_config_and_seed_give_identical_results():
    a, _ = run(spec(), CONV)
    b, _ = run(spec(), CONV)
    assert a == b
