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


CONFIGS = ["imce", "imce_rram", "imce_rram_crossbar"]


@pytest.mark.parametrize("name", CONFIGS)
def test_shipped_configs_build_with_their_cell(name):
    s, _ = resolve_config(name)
    accel = build(s)
    assert accel.kind == "imce"
    lanes = s.array.cols * (s.array.rows if s.crossbar is not None else 1)  # a crossbar: one cell a product
    assert accel.multipliers == s.array.subarrays * lanes
    assert s.cell.technology == {"imce": "sot_mram", "imce_rram": "rram", "imce_rram_crossbar": "rram"}[name]
    assert (s.crossbar is not None) == (name == "imce_rram_crossbar")


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
    assert per_action["dac"] == per_action["adc"] == 0  # the bit-wise engine has no converters
    mac = per_action["compute"] + per_action["bitcount"] + per_action["shift_add"] + per_action["quantize"]
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
    assert reloaded["compute"] == resident["compute"]
    banked = build(spec(weight_load="per_layer", array__kernel_bank_mbit=1.0)).action_energy_pj(CONV)
    assert banked["dram"] == resident["dram"]
    assert banked["read"] > resident["read"]


def test_layer_with_more_blocks_than_subarrays_runs_in_rounds():
    s = spec(array__subarrays=4, weight_load="per_layer")
    accel = build(s)
    assert accel.unsupported(FC) is None
    acts = accel.layer_actions(FC)  # 2048 / 256 = 8 chunks, 1 filter block: 2 rounds of 4 blocks
    mp = acts.mapping
    assert (mp.blocks, mp.rounds, mp.copies) == (8, 2, 1)
    assert "in 2 rounds" in mp.describe()
    assert "8 blocks in 2 rounds" in acts.weights
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
    # weight_load: fit cannot keep FC's 8 blocks on 4 sub-arrays either: the same rounds
    assert build(spec(array__subarrays=4)).layer_actions(FC).mapping.busy.tolist() == mp.busy.tolist()


FC2 = Layer("fc2", LayerKind.FC, h=1, w=1, c=2048, k=300)


def test_weights_stay_resident_when_the_network_fits():
    """One copy of every block, first fit in network order (W1:A2: 510 weight rows a sub-array).

    CONV: 4 blocks of 48 rows on sub-arrays 0-3; FC: 8 blocks of 300 rows, first fit: 0-3 (462 rows
    free each), then 4-7; FC2: 0-3 have 162 rows left and 4-7 210, so 8-15: 16 sub-arrays."""
    accel = build(spec())  # weight_load: fit, 1,024 sub-arrays
    assert accel.residency((CONV,)).fits
    assert "weights resident, one copy" in accel.layer_actions(CONV).weights  # no network: the layer alone
    res = accel.residency((CONV, FC, FC2))
    assert res.fits
    assert res.subarrays_needed == res.used == 16
    assert res.units(CONV) == (0, 1, 2, 3)
    assert res.units(FC) == tuple(range(8))
    assert res.units(FC2) == tuple(range(8, 16))
    occupied = res.placement.occupied
    assert occupied[:4].tolist() == [348] * 4
    assert occupied[4:8].tolist() == [300] * 4
    assert occupied[8:16].tolist() == [300] * 8
    assert not occupied[16:].any()
    # AlexNet at W1:A2 (conv1, fc8 at 8:8) fits the shipped chip: every layer resident
    alexnet = load_network("alexnet")
    for layer in alexnet.compute_layers:
        acts = accel.layer_actions(layer, alexnet.compute_layers)
        assert acts.weights.startswith("weights resident, one copy"), layer.name
        assert not acts.mapping.weights_written
        assert acts.dram_bits == (layer.input_elems * 8 if layer.name == "conv1" else 0)  # only the image


def test_only_the_layers_that_fit_stay_resident():
    """On 12 sub-arrays CONV and FC fit (0-7) but FC2 needs 8 more: it is rewritten per inference on
    the 4 sub-arrays left empty (8-11), in 2 rounds, its weights fetched from DRAM."""
    accel = build(spec(array__subarrays=12))
    res = accel.residency((CONV, FC, FC2))
    assert not res.fits
    assert res.resident(CONV)
    assert res.resident(FC)
    assert not res.resident(FC2)
    assert res.units(FC2) == (8, 9, 10, 11)
    acts = accel.layer_actions(FC2, (CONV, FC, FC2))
    assert acts.mapping.rounds == 2
    assert acts.mapping.weights_written
    assert "rewritten per inference from DRAM on 4 free sub-arrays, 8 blocks in 2 rounds" in acts.weights
    assert acts.dram_bits == FC2.weights
    assert acts.mapping.busy[:8].tolist() == [0] * 8  # the resident weights' sub-arrays stay out of it
    # The resident layers are unchanged by the rewritten one
    alone = build(spec(array__subarrays=12)).layer_actions(FC, (CONV, FC))
    assert accel.layer_actions(FC, (CONV, FC, FC2)).mapping.busy.tolist() == alone.mapping.busy.tolist()
    # AlexNet on a 512-sub-array chip: conv1 .. fc7 stay, fc8 (256 blocks at 8:8) is rewritten
    alexnet = load_network("alexnet")
    small = build(spec(array__subarrays=512))
    net = small.residency(small.network_layers(alexnet["fc8"], alexnet.compute_layers))
    assert [x.name for x in net.layers if not net.resident(x)] == ["fc8"]
    assert net.used == 512


def test_the_last_resident_layers_give_up_their_sub_arrays_for_the_rewritten_ones():
    """On 8 sub-arrays CONV (0-3) and FC (0-7) fit and fill every sub-array; FC2 fits nowhere. A
    rewritten layer needs an empty sub-array, so FC gives its own up: CONV stays, FC and FC2 are
    rewritten on 4-7."""
    res = build(spec(array__subarrays=8)).residency((CONV, FC, FC2))
    assert res.resident(CONV)
    assert not res.resident(FC)
    assert not res.resident(FC2)
    assert res.units(FC) == res.units(FC2) == (4, 5, 6, 7)


def test_resident_weights_that_do_not_fit_are_a_clear_error():
    accel = build(spec(array__subarrays=12, weight_load="resident"))
    with pytest.raises(ConfigError, match=r"need 16 sub-arrays, array\.subarrays is 12") as err:
        accel.layer_actions(FC2, (CONV, FC, FC2))
    assert "weight_load: resident" in str(err.value)
    assert build(spec(array__subarrays=16, weight_load="resident")).residency((CONV, FC, FC2)).fits


def test_max_copies_replicates_resident_blocks_into_the_free_rows():
    """With room, every resident layer gets more copies, one whole copy per layer and pass, up to
    max_copies; copies take the pixels round-robin, so the layer is faster, its energy the same but
    for leakage."""
    one, two, many = (build(spec(array__subarrays=16, max_copies=c)) for c in (1, 2, None))
    layers = (CONV, FC)
    assert one.residency(layers).placement.copies == {0: 1, 1: 1}
    assert two.residency(layers).placement.copies == {0: 2, 1: 2}
    copies = many.residency(layers).placement.copies
    assert copies[0] > 2
    assert copies[1] == 2
    units = many.residency(layers).units(CONV)
    assert len(units) == 4 * copies[0]
    assert len(set(units)) == len(units)
    a, b = one.layer_actions(CONV, layers), two.layer_actions(CONV, layers)
    assert b.mapping.copies == 2
    assert int(b.mapping.busy.max()) < int(a.mapping.busy.max())
    assert b.energy_pj()["compute"] == a.energy_pj()["compute"]
    # A rewritten layer spreads over its free sub-arrays, up to max_copies
    per_layer = build(spec(weight_load="per_layer", max_copies=3)).layer_actions(CONV)
    assert per_layer.mapping.copies == 3
    assert int((per_layer.mapping.busy > 0).sum()) == 4 * 3


def test_area_and_leakage_are_charged_for_the_sub_arrays_used():
    accel = build(spec())
    alexnet = load_network("alexnet")
    used = accel.used_subarrays(alexnet.compute_layers)
    assert used == accel.residency(accel.network_layers(alexnet["conv1"], alexnet.compute_layers)).used
    assert 0 < used < accel.geometry.subarrays
    chip, net = accel.area_mm2(), accel.area_mm2(alexnet.compute_layers)
    assert net["cells"] == pytest.approx(chip["cells"] * used / accel.geometry.subarrays)
    assert net["buffer"] == chip["buffer"]
    assert net["banks"] == chip["banks"]
    acts = accel.layer_actions(alexnet["conv2"], alexnet.compute_layers)
    assert acts.used == used
    assert accel.leakage_mw(used) < accel.leakage_mw()


def test_full_precision_layers_run_where_the_option_says():
    alexnet = load_network("alexnet")
    conv1 = alexnet["conv1"]
    assert build(spec()).bits(conv1) == (8, 8)
    assert build(spec(full_precision_run="engine_precision")).bits(conv1) == (1, 2)
    host = spec(full_precision_run="host")
    accel = build(host)
    assert accel.unsupported(conv1) is None  # the system runs it, off the engine
    result, timeline = run(host, conv1)
    assert result.fallback.startswith("ran on the host")
    assert (result.cycles, result.macs_issued, sum(result.energy_pj.values())) == (0, 0, 0.0)
    assert result.slots.total == 0
    assert timeline.empty
    assert accel.action_energy_pj(conv1)["compute"] == 0.0
    # conv1 and fc8 leave the placement: the rest fits in fewer sub-arrays
    rest = accel.used_subarrays(alexnet.compute_layers)
    assert rest < build(spec()).used_subarrays(alexnet.compute_layers)


def test_dram_energy_is_counted_or_not_and_the_traffic_stays():
    alexnet = load_network("alexnet")
    conv1 = alexnet["conv1"]
    counted, _ = run(spec(), conv1)
    chip_only, _ = run(spec(count_dram_energy=False), conv1)
    assert counted.dram_bytes == chip_only.dram_bytes == conv1.input_elems  # the 8-bit input image
    assert counted.energy_pj["energy_dram_pj"] == pytest.approx(conv1.input_elems * 8 * 8.0)  # LPDDR4
    assert chip_only.energy_pj["energy_dram_pj"] == 0.0
    assert chip_only.energy_pj["energy_mac_pj"] == counted.energy_pj["energy_mac_pj"]


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
    assert all("the network uses 709 of 1,024" in m for m in mine["mapping"])


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
    accel = build(spec(array__subarrays=512))
    alexnet = load_network("alexnet")
    layer = alexnet["fc8"]
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
    {"weight_load": "per_layer", "max_copies": None},
    {"max_copies": None},
    {"max_copies": 2},
    {"signed_weights": False},
    {"full_precision_layers": []},
    {"full_precision_layers": ["conv", "fc"], "full_precision_bits": 4},
    {"full_precision_layers": ["conv", "fc"], "full_precision_run": "engine_precision"},
    {"count_dram_energy": False},
    {"dram_input_layers": ["conv", "fc"], "dram": {"bandwidth_bytes_per_cycle": 8.0, "kind": "lpddr4"}},
    {"periphery__dpu_clock_cycles_per_level": 2},
    {"array__subarrays": 4},  # FC's 8 blocks take turns in 2 rounds, CONV then FC rewritten
    {"array__subarrays": 12},  # CONV resident, FC rewritten on the 8 left empty
]


@pytest.mark.parametrize("name", CONFIGS)
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


def crossbar_spec(**changes):  # type: ignore[no-untyped-def]
    return spec("imce_rram_crossbar", **changes)


def test_crossbar_slot_partition_of_a_hand_worked_layer():
    """FC of 4 inputs and 1 output at W1:A2 on 2 crossbars of 4 x 2 cells (worked by hand).

    One block: the filter in column 0, the ones column in 1, rows 0-3. A read settles in 5 ns = 3
    cycles; its 2 conversions by one 1.2 GS/s ADC take ceil(2 x 0.416) = 1 cycle, so a read takes 3.
    2 input planes = 2 reads = 6 cycles on crossbar 0, then shift-add + quantiser = 2 cycles: 8 cycles x
    16 cells = 128 slots. Busy 6 x 8 = 48: the 4 MACs x 1 slice x 2 planes x 3 cycles = 24 effectual, the
    ones column's 2 x 4 cells x 3 = 24 packing; crossbar 1 holds nothing: 8 x 6 = 48 unmapped; the tail
    2 x 16 = 32 fill / drain."""
    s = crossbar_spec(
        precision={"weight_bits": 1, "act_bits": 2, "psum_bits": 32},
        full_precision_layers=[],
        array__subarrays=2,
        array__rows=4,
        array__cols=2,
    )
    layer = Layer("fc", LayerKind.FC, h=1, w=1, c=4, k=1)
    result, timeline = run(s, layer)
    check_layer_run(result, timeline)
    assert (result.cycles, result.units, result.multipliers) == (8, 2, 16)
    slots = result.slots
    assert (slots.effectual, slots.ineffectual, slots.packing, slots.unmapped) == (24, 0, 24, 48)
    assert (slots.fill_drain, slots.memory_stall, slots.imbalance, slots.unit_idle) == (32, 0, 0, 0)


def test_crossbar_drives_its_inputs_and_converts_its_columns():
    """No activation rows are written (DACs drive them); every used column of every read is converted
    once; the ADC's conversions, not the 5 ns settling, set a full 128-column read's time."""
    s = crossbar_spec()
    accel = build(s)
    acts = accel.layer_actions(CONV)
    c = acts.mapping.counts
    assert int(c[k.XB_WRITE_BITS]) == 0  # resident weights, and inputs are never written
    assert int(c[k.XB_CONVERSIONS]) * s.array.rows >= int(c[k.XB_CELLS])
    per = acts.energy_pj()
    assert per["adc"] > 0
    assert per["dac"] > 0
    assert per["bitcount"] == 0
    assert per["adc"] == pytest.approx(int(c[k.XB_CONVERSIONS]) * s.crossbar.adc_pj)
    reads = int(c[k.XB_READS])
    assert int(c[k.XB_WAIT]) > 0  # 49 conversions at 0.42 cycles each = 21 cycles > 3 cycles of settling
    assert int(acts.mapping.busy.max()) <= reads * 21
    area = accel.area_mm2()
    assert "sense_amps" not in area
    assert area["adcs"] == pytest.approx(s.array.subarrays * s.crossbar.adc_area_um2 * 1e-6)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("adc_bits", 7, "crossbar.adc_bits = 7 cannot resolve a column sum of up to 128"),
        ("bits_per_cell", 2, "crossbar.adc_bits = 8 cannot resolve a column sum of up to 384"),
    ],
)
def test_crossbar_adc_must_resolve_a_column(key, value, words):
    base, _ = resolve_config("imce_rram_crossbar")
    data = base.model_dump()
    data["crossbar"][key] = value
    with pytest.raises(ConfigError, match=words):
        parse_arch(data, "<test>")


def test_crossbar_too_narrow_for_a_filter_is_a_config_error():
    with pytest.raises(ConfigError, match=r"array\.cols = 8 cannot hold one filter's weight slices"):
        crossbar_spec(array__cols=8)  # 8-bit conv1 / fc8: 8 columns a filter plus the ones column
