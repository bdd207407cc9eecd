"""The IMCE model end to end: config validation, energy accounting, device equations, area, mapping limits."""

from __future__ import annotations

import math

import pytest
from slot_checks import check_layer_run

from accelsim.accelerators import build
from accelsim.accelerators.imce import ACTION_GROUPS, device_energies
from accelsim.api import resolve_config
from accelsim.config.arch import parse_arch
from accelsim.config.workload_spec import UniformPattern
from accelsim.errors import ConfigError
from accelsim.kernels import imce as k
from accelsim.report.schema import ENERGY_COLUMNS
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.loaders import load_network
from accelsim.workload.sparsity import LayerDensity, SparsityProfile, dense_profile

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
    resident = build(spec(weight_load="resident")).action_energy_pj(CONV)
    reloaded = build(spec(weight_load="per_layer")).action_energy_pj(CONV)
    assert reloaded["write"] > resident["write"]
    assert reloaded["dram"] > resident["dram"]  # no kernel bank in the shipped config: from DRAM
    assert reloaded["and"] == resident["and"]
    banked = build(spec(weight_load="per_layer", array__kernel_bank_mbit=1.0)).action_energy_pj(CONV)
    assert banked["dram"] == resident["dram"]
    assert banked["read"] > resident["read"]


def test_layer_with_more_blocks_than_subarrays_runs_in_rounds():
    s = spec(array__subarrays=4, weight_load="resident")
    accel = build(s)
    assert accel.unsupported(FC) is None
    acts = accel.layer_actions(FC)  # 2048 / 256 = 8 chunks, 1 filter block: 2 rounds of 4 blocks
    mp = acts.mapping
    assert (mp.blocks, mp.rounds, mp.copies) == (8, 2, 1)
    assert "in 2 rounds" in mp.describe()
    assert "in every round" in acts.weights
    # Every weight bit is written into a sub-array once, fetched once (from DRAM: no kernel bank)
    assert mp.counts[k.WEIGHT_BITS] == FC.weights
    assert acts.dram_bits == FC.weights
    # The 300 outputs (and the x-sum) wait in the buffer once between the two rounds
    assert mp.counts[k.PSUM_SPILLS] == FC.k + 1
    result, _ = run(s, FC)
    assert "in 2 rounds" in result.mapping
    assert result.cycles == int(mp.busy.max()) + mp.dpu_cycles
    # A sub-array runs both its rounds: twice the weight rows and the pixel of both its blocks
    t = accel.timing
    m, n = accel.bits(FC)
    first = 2 * (FC.k * m * t.t_write + n * t.t_write + (FC.k * m * n) * t.t_and)
    assert int(mp.busy.max()) == first + 2 * n * t.t_and  # unit 0 runs chunks 0 and 4, each with x-sum reads


def test_weights_stay_resident_only_when_the_network_fits():
    accel = build(spec())  # weight_load: fit
    assert accel.residency((CONV,)).fits
    assert "weights resident" in accel.layer_actions(CONV).weights  # no network given: the layer alone
    small = build(spec(array__subarrays=16))
    # 16 sub-arrays: CONV's 4 blocks x 4 copies of 48 rows and FC's 8 blocks x 2 copies of 300 rows
    # stack to 348 of the 510 weight rows of every sub-array; a second FC (648 rows) does not fit.
    assert small.residency((CONV, FC)).fits
    res = small.residency((CONV, FC, Layer("fc2", LayerKind.FC, h=1, w=1, c=2048, k=300)))
    assert not res.fits
    assert res.rows_needed == 16 * 48 + 2 * 16 * 300
    assert res.subarrays_needed == math.ceil(res.rows_needed / 510)
    alexnet = load_network("alexnet")
    layer = alexnet["conv2"]
    acts = accel.layer_actions(layer, alexnet.compute_layers)
    assert not accel.residency(accel.network_layers(layer, alexnet.compute_layers)).fits
    assert "rewritten per inference from DRAM" in acts.weights
    assert acts.mapping.weights_written
    kept = build(spec(weight_load="resident")).layer_actions(layer, alexnet.compute_layers)
    assert kept.weights.startswith("weights resident (assumed")
    assert not kept.mapping.weights_written
    assert acts.dram_bits - kept.dram_bits == layer.weights * 1  # W1 weights fetched once


def test_same_config_and_seed_give_identical_results():
    a, _ = run(spec(), CONV)
    b, _ = run(spec(), CONV)
    assert a == b


def test_simulate_gives_the_whole_network_to_the_model(tmp_path):
    """Residency is decided on the network `simulate` runs, whatever its name or file."""
    import yaml

    from accelsim import simulate
    from accelsim.workload.catalog import network_path

    data = yaml.safe_load(network_path("alexnet").read_text())
    data["name"] = "my_alexnet"
    copy = tmp_path / "my_alexnet.yaml"
    copy.write_text(yaml.safe_dump(data))
    shipped = simulate("imce", "alexnet", "dense").layers
    mine = simulate("imce", copy, "dense").layers
    assert list(mine["energy_pj"]) == list(shipped["energy_pj"])
    assert all("rewritten per inference" in m for m in mine["mapping"])


def sparse_run(s, layer: Layer, weights: float, activations: float, context: tuple[Layer, ...] = ()):  # type: ignore[no-untyped-def]
    density = LayerDensity(weights, activations, UniformPattern(), UniformPattern())
    profile = SparsityProfile("p", "t", "test profile", {layer.name: density})
    work = LayerWorkload("t", layer, profile, 0, context)
    return build(s).simulate_layer(work), work


def test_slot_partition_of_the_hand_worked_layer():
    """The hand-worked 1 x 1 filter over four inputs (test_imce_kernel) on 2 sub-arrays of 3 columns.

    Chunks of 3 and 1 columns, one per sub-array. Each sub-array writes 2 x-plane rows (2 cycles,
    stalled), then senses 2 x-planes alone and 2 AND row pairs (4 cycles busy); the DPU then takes
    ceil(log2 3) + 1 + ceil(log2 2) + 1 = 5 cycles: 11 cycles x 6 lanes = 66 slots.
    Busy: 2 sub-arrays x 4 senses x 3 lanes = 24 = 8 AND lanes (3 + 3 + 1 + 1: the 4 dense MACs x m n
    = 2, all effectual) + 8 correction-read lanes (packing) + 8 columns beyond the chunk (unmapped).
    Stalled 2 x 2 x 3 = 12; the tail 5 x 6 = 30 fill / drain.
    """
    s = spec(
        precision={"weight_bits": 1, "act_bits": 2, "psum_bits": 32},
        full_precision_layers=[],
        weight_load="resident",
        array__subarrays=2,
        array__rows=4,
        array__cols=3,
    )
    layer = Layer("fc", LayerKind.FC, h=1, w=1, c=4, k=1)
    result, timeline = run(s, layer)
    check_layer_run(result, timeline)
    assert (result.cycles, result.units, result.multipliers) == (11, 2, 6)
    slots = result.slots
    assert (slots.effectual, slots.ineffectual, slots.packing, slots.unmapped) == (8, 0, 8, 8)
    assert (slots.memory_stall, slots.fill_drain, slots.unit_idle, slots.imbalance) == (12, 30, 0, 0)
    assert result.stall_cycles == 2


def test_a_dense_engine_senses_zero_operands():
    """IMCE does not skip zeros: every MAC is m n lane-senses, effectual only if both operands are
    non-zero; the row writes are memory stalls, never busy."""
    s = spec()
    (result, timeline), work = sparse_run(s, CONV, 0.5, 0.4)
    check_layer_run(result, timeline)
    accel = build(s)
    m, n = accel.bits(CONV)
    t_and = accel.timing.t_and
    slots = result.slots
    assert slots.effectual == work.effectual_macs * m * n * t_and
    assert slots.ineffectual == (CONV.macs - work.effectual_macs) * m * n * t_and > 0
    mp = accel.layer_actions(CONV).mapping
    assert slots.memory_stall == int(mp.written.sum()) * s.array.cols
    assert result.macs_issued == CONV.macs
    dense, _ = run(s, CONV)
    assert dense.slots.ineffectual > 0  # zero padding: the border MACs have a zero activation
    assert dense.cycles == result.cycles  # zeros cost the same time


def test_the_network_travels_in_the_workload_in_any_order():
    """Residency depends on the network's layers given with each layer, not on an earlier call."""
    accel = build(spec())
    alexnet = load_network("alexnet")
    layer = alexnet["conv2"]
    profile = dense_profile("t")
    alone = accel.simulate_layer(LayerWorkload("alexnet", layer, profile, 0))[0]
    within = accel.simulate_layer(LayerWorkload("alexnet", layer, profile, 0, alexnet.compute_layers))[0]
    again = accel.simulate_layer(LayerWorkload("alexnet", layer, profile, 0))[0]
    assert "weights resident" in alone.mapping
    assert "rewritten per inference" in within.mapping
    assert again == alone
    assert within.slots.memory_stall > alone.slots.memory_stall  # the weight rows are written too


OPTIONS = [
    {},
    {"weight_load": "resident"},
    {"weight_load": "per_layer"},
    {"weight_load": "per_layer", "array__kernel_bank_mbit": 1.0},
    {"signed_weights": False},
    {"full_precision_layers": []},
    {"full_precision_layers": ["conv", "fc"], "full_precision_bits": 4},
    {"dram_input_layers": ["conv", "fc"], "dram": {"bandwidth_bytes_per_cycle": 8.0, "kind": "lpddr4"}},
    {"periphery__dpu_clock_cycles_per_level": 2},
    {"array__subarrays": 4, "weight_load": "resident"},  # FC's 8 blocks take turns in 2 rounds
]


@pytest.mark.parametrize("name", ["imce", "imce_rram"])
@pytest.mark.parametrize("changes", OPTIONS)
@pytest.mark.parametrize("layer", [CONV, FC])
def test_every_option_gives_an_exact_slot_partition(name, changes, layer):
    s = spec(name, **changes)
    (result, timeline), _ = sparse_run(s, layer, 0.6, 0.5, (CONV, FC))
    check_layer_run(result, timeline)
    assert result.slots.ineffectual > 0
    assert result.slots.fill_drain == build(s).layer_actions(layer, (CONV, FC)).mapping.dpu_cycles * (
        result.multipliers
    )


def test_timeline_draws_each_subarray_from_the_kernel():
    """6 sub-arrays for CONV's 4 blocks (2 groups x 2 chunks, one copy each): 2 hold no block and are
    unmapped throughout; the others write their rows (stalled), sense (busy), then idle."""
    s = spec(array__subarrays=6, weight_load="resident")
    accel = build(s)
    mp = accel.layer_actions(CONV).mapping
    result, timeline = run(s, CONV)
    check_layer_run(result, timeline)
    assert mp.blocks == 4
    assert mp.busy[4:].tolist() == [0, 0]
    for unit in range(4):
        rows = timeline[timeline["unit"] == unit]
        states = list(zip(rows["state"].astype(str), rows["start"], rows["end"], strict=True))
        assert states[:2] == [("stalled", 0, mp.written[unit]), ("busy", mp.written[unit], mp.busy[unit])]
    idle = timeline[timeline["unit"] >= 4]
    assert set(idle["state"].astype(str)) == {"idle"}
    cols = s.array.cols
    assert result.slots.unmapped >= 2 * result.cycles * cols
    assert result.slots.memory_stall == int(mp.written.sum()) * cols
    assert result.stall_cycles == int(mp.written.max())
