"""The FPGA Winograd engine end to end: the [FPGACAFFE16] estimate, CPU fallback, units, DDR, energy,
config."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from slot_checks import check_layer_run

import accelsim
from accelsim.accelerators import build
from accelsim.accelerators.winograd import GFLOPS_DEFINITIONS
from accelsim.api import resolve_config
from accelsim.config.arch import parse_arch
from accelsim.config.workload_spec import UniformPattern
from accelsim.errors import ConfigError
from accelsim.kernels.reference.winograd import run_call
from accelsim.kernels.winograd import used_products
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.sparsity import LayerDensity, SparsityProfile, dense_profile


def spec_with(**changes):  # type: ignore[no-untyped-def]
    spec, _ = resolve_config("winograd_fpga")
    return spec.model_copy(update=changes)


def run_layer(spec, layer: Layer):  # type: ignore[no-untyped-def]
    """One image's share of the spec's batch (the paper quotes figures per image) and the batch's timeline."""
    result, timeline = build(spec).simulate_layer(LayerWorkload("test", layer, dense_profile("test"), seed=0))
    return result.per_image(), timeline


def conv3x3(h: int, c: int, k: int, groups: int = 1) -> Layer:
    return Layer("l", LayerKind.CONV, h=h, w=h, c=c, k=k, r=3, s=3, pad=1, groups=groups)


DATA = Path(__file__).resolve().parent / "data"
SECTION_10_8 = [
    (str(r[0]), *(int(v) for v in r[1:5]), float(r[5]), float(r[6]))
    for r in pd.read_csv(DATA / "winograd_section_10_8.csv", comment="#").itertuples(index=False)
]
"""[FPGACAFFE16] [derived]: (name, H = W, C_in, C_out, groups, est. ms/img, est. GFLOPS) of one CU."""


@pytest.mark.parametrize(("name", "hw", "c", "k", "groups", "ms", "gflops"), SECTION_10_8)
def test_reproduces_the_cycle_model_table(name, hw, c, k, groups, ms, gflops):
    """Printed to 0.1 ms / 0.1 GFLOPS; Overfeat's "38-39" is checked to +-0.6 and VGG-A conv4's
    GFLOPS (printed as the shared 39.7 of conv3/4) to +-0.15."""
    layer = conv3x3(hw, c, k, groups)
    result, _ = run_layer(spec_with(compute_units=1, ddr_gb_per_s=None), layer)
    assert result.fallback == ""
    assert result.latency_s * 1e3 == pytest.approx(ms, abs=0.051), name
    tol = 0.6 if name.startswith("Overfeat") else 0.15
    assert 2 * layer.macs / result.latency_s / 1e9 == pytest.approx(gflops, abs=tol), name


def test_non_3x3_layers_fall_back_to_the_cpu_and_say_so():
    run = accelsim.simulate("winograd_fpga", "alexnet")
    rows = run.layers.set_index("layer")
    on_fpga = rows.index[rows["fallback"] == ""].tolist()
    assert on_fpga == ["conv3", "conv4", "conv5"]  # [FPGACAFFE16]: deploy_winograd.prototxt
    conv1 = rows.loc["conv1"]
    assert "host CPU" in conv1["fallback"]
    assert "11x11 stride 4" in conv1["fallback"]
    assert conv1["macs_issued"] == 0
    assert conv1["cycles"] > 0
    accel = build(spec_with())
    layer = conv3x3(13, 256, 384)
    assert accel.unsupported(layer) is None  # the system runs every layer
    cpu = Layer("c1", LayerKind.CONV, h=227, w=227, c=3, k=96, r=11, s=11, stride=4)
    assert conv1["batch"] == accel.spec.batch == 128  # rows cover the config's batch, image after image
    assert conv1["cycles"] == math.ceil(accel.cpu_seconds(cpu) * accel.clock_hz) * 128


def test_second_unit_takes_the_second_group_or_image():
    grouped = conv3x3(13, 384, 384, groups=2)
    one, _ = run_layer(spec_with(compute_units=1), grouped)
    two, timeline = run_layer(spec_with(compute_units=2), grouped)
    assert set(timeline["unit"]) == {0, 1}
    assert two.imbalance == 1.0
    assert one.cycles / 2 <= two.cycles < one.cycles  # sharing the DDR costs a little
    plain = conv3x3(28, 256, 256)
    single, _ = run_layer(spec_with(batch=1), plain)
    batched, _ = run_layer(spec_with(batch=2), plain)
    assert single.cycles / 2 <= batched.cycles < 0.6 * single.cycles  # cycles are per image


def test_less_ddr_bandwidth_is_never_faster():
    layer = conv3x3(28, 64, 128)
    cycles = [run_layer(spec_with(ddr_gb_per_s=bw), layer)[0].cycles for bw in (1.0, 4.0, 10.7, None)]
    assert cycles == sorted(cycles, reverse=True)
    assert cycles[0] > cycles[-1]


def test_issued_multiplies_and_the_2_25x_saving():
    layer = conv3x3(32, 64, 64)  # even H, W a multiple of 16: no padded tiles
    result, _ = run_layer(spec_with(), layer)
    assert result.macs_issued * 2.25 == layer.macs
    assert result.multipliers == 128
    assert result.mapping_efficiency == 1.0


def test_energy_is_power_times_time_plus_ddr_bits():
    spec = spec_with()
    layer = conv3x3(28, 64, 128)
    result, _ = run_layer(spec, layer)
    e = result.energy_pj
    assert e["energy_static_pj"] == pytest.approx(spec.power.static_w * result.latency_s * 1e12)
    assert e["energy_dram_pj"] == pytest.approx(result.dram_bytes * 8 * 70)  # DDR3 ([ACCELERGY19])
    assert 0 < e["energy_mac_pj"] < spec.compute_units * spec.power.cu_datapath_w * result.latency_s * 1e12
    cpu, _ = run_layer(spec, Layer("f", LayerKind.FC, h=1, w=1, c=4096, k=1000))
    assert cpu.energy_pj["energy_mac_pj"] == pytest.approx(spec.host.power_w * cpu.latency_s * 1e12)


def test_pcie_copies_add_time_when_modelled():
    layer = conv3x3(28, 64, 128)
    without, _ = run_layer(spec_with(), layer)
    with_pcie, _ = run_layer(spec_with(pcie_gb_per_s=3.0), layer)
    nbytes = 4 * (28 * 28 * 64 + 28 * 32 * 128)
    assert with_pcie.cycles - without.cycles == math.ceil(nbytes / 3e9 * 200e6)


def test_same_config_and_seed_give_identical_rows():
    a = accelsim.simulate("winograd_fpga", "alexnet").layers
    b = accelsim.simulate("winograd_fpga", "alexnet").layers
    assert a.equals(b)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"precision": {"weight_bits": 8, "act_bits": 8, "psum_bits": 32}}, "fp32"),
        ({"dram": {"kind": "ddr3", "bandwidth_bytes_per_cycle": 50}}, "ddr_gb_per_s"),
        ({"tiles_per_cu": 0}, "tiles_per_cu"),
        (
            {"host": {"name": "x", "peak_gflops": 1, "efficiency": 2, "memory_gb_per_s": 1, "power_w": 1}},
            "efficiency",
        ),
    ],
)
def test_bad_config_gives_a_clear_error(change, words):
    spec, _ = resolve_config("winograd_fpga")
    data = {**spec.model_dump(mode="json"), **change}
    with pytest.raises(ConfigError, match=words):
        parse_arch(data, "test")


def sparse_work(layer: Layer, weights: float, activations: float, seed: int = 0) -> LayerWorkload:
    density = LayerDensity(weights, activations, UniformPattern(), UniformPattern())
    return LayerWorkload("t", layer, SparsityProfile("p", "t", "test profile", {layer.name: density}), seed)


def test_slot_partition_of_a_small_layer_worked_by_hand():
    """8 x 8, 2 -> 1 channels on one CU (64 multipliers), no DDR limit. Host tiling: ytile 4,
    offshape 16 doubled to 32 (16 x 4 / 8 < 12), xtile_pad 16, fact 2, burstchannels 2, rpo 1.
    Phases: bias 1, input rows 16 x 8 = 128, tiling 16 x 16 = 256, filters 128 B / 64 = 2, bias init
    4 x 2 = 8, MAC loop 2 x 4 x 16 / 4 = 32, merge 8, partial sums 1,024 B / 64 = 16: 451 cycles, of
    which 147 memcpy (stalled). Busy 304 x 64 = 19,456 slots: the MAC loop issues 32 x 64 = 2,048
    products, of which a real output needs 2 channels x 16 x 16 = 512 (the 4 tile columns of 8 outputs;
    the other 12 of 16 are padding: 1,536 unmapped); the even map's tiles always mix a real input
    into each transformed element, so all 512 are effectual when dense. Tiling, bias init and merge
    (272 x 64 = 17,408) are fill / drain."""
    spec = spec_with(compute_units=1, ddr_gb_per_s=None, batch=1)
    layer = conv3x3(8, 2, 1)
    result, timeline = run_layer(spec, layer)
    check_layer_run(result, timeline)
    assert (result.cycles, result.multipliers, result.units) == (451, 64, 1)
    s = result.slots
    assert (s.effectual, s.ineffectual, s.unmapped, s.fill_drain) == (512, 0, 1536, 17_408)
    assert (s.memory_stall, s.unit_idle, s.imbalance, s.packing) == (147 * 64, 0, 0, 0)
    assert result.stall_cycles == 147
    assert result.macs_issued == 2048


@pytest.mark.parametrize(("weights", "activations"), [(0.5, 1.0), (1.0, 0.3), (0.3, 0.4)])
def test_sparse_operands_make_ineffectual_products_counted_as_the_reference(weights, activations):
    """The FPGA multiplies zeros too: a product with a zero transformed operand is ineffectual. Its
    count is the reference's, product by product on values with the workload's zeros."""
    layer = conv3x3(13, 6, 4)
    work = sparse_work(layer, weights, activations, seed=3)
    result, timeline = build(spec_with(batch=1)).simulate_layer(work)
    check_layer_run(result, timeline)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 13, 13)).astype(np.float32) * work.masks.activations
    w = rng.standard_normal((4, 6, 3, 3)).astype(np.float32) * work.masks.weights
    trace = run_call(13, 13, 7, 8, 6, 1, 4, 4, x=x, w=w)
    assert result.slots.effectual == trace.effectual_products
    assert result.slots.ineffectual == trace.used_products - trace.effectual_products > 0
    assert result.slots.effectual != result.macs_effectual  # a Winograd product is not a direct MAC


def test_cpu_layers_leave_every_multiplier_unmapped():
    work = LayerWorkload("test", Layer("f", LayerKind.FC, h=1, w=1, c=4096, k=1000), dense_profile("test"), 0)
    result, timeline = build(spec_with()).simulate_layer(work)  # the whole batch: row and timeline agree
    check_layer_run(result, timeline)
    assert result.fallback
    assert result.slots.unmapped == result.slots.total
    assert set(timeline["state"]) == {"idle"}
    assert (result.imbalance, result.idle_fraction, result.stall_cycles) == (1.0, 1.0, 0)
    assert "roofline" in result.closed_form


def test_pcie_copies_are_a_memory_stall_tail():
    layer = conv3x3(28, 64, 128)
    without, _ = run_layer(spec_with(batch=1), layer)
    result, timeline = run_layer(spec_with(pcie_gb_per_s=3.0, batch=1), layer)
    check_layer_run(result, timeline)
    pcie = result.cycles - without.cycles
    assert result.slots.memory_stall - without.slots.memory_stall == pcie * result.multipliers
    assert result.stall_cycles == without.stall_cycles + pcie
    assert "PCIe" in result.closed_form


def test_batch_counts_cover_the_images_and_the_row_is_per_image():
    layer = conv3x3(14, 32, 16)
    one, _ = run_layer(spec_with(batch=1), layer)
    two, timeline = run_layer(spec_with(batch=2), layer)
    assert int(timeline["end"].max()) >= 2 * two.cycles - 1  # the timeline covers the batch
    assert two.slots.total == two.multipliers * two.cycles
    assert two.macs_issued == one.macs_issued
    assert two.energy_pj["energy_dram_pj"] == pytest.approx(one.energy_pj["energy_dram_pj"])
    # Batch 1 is one call: the mapping gives the second CU nothing, and all its slots are unmapped
    padding = one.macs_issued - used_products(14, 14) * 32 * 16
    assert one.slots.unmapped == one.cycles * one.multipliers // 2 + padding
    assert two.slots.unmapped / two.slots.total < one.slots.unmapped / one.slots.total
    assert (one.slots.imbalance, two.slots.imbalance) == (0, 0)


OPTIONS = [
    {},
    {"compute_units": 1},
    {"compute_units": 3},
    {"tiles_per_cu": 6},
    {"ddr_gb_per_s": None},
    {"ddr_gb_per_s": 1.0},
    {"memcpy_setup_cycles": 30, "loop_fill_cycles": 20},
    {"pcie_gb_per_s": 6.0},
    {"batch": 2},
    {"batch": 3},
    {"batch": 128},
]


@pytest.mark.parametrize("changes", OPTIONS)
@pytest.mark.parametrize(
    "layer",
    [
        conv3x3(13, 24, 16, groups=2),
        conv3x3(9, 8, 8),
        Layer("p", LayerKind.CONV, h=14, w=14, c=8, k=8, r=3, s=3, stride=2, pad=1),
    ],
)
def test_every_option_gives_an_exact_slot_partition(changes, layer):
    spec = spec_with(**{"batch": 1, **changes})
    result, timeline = build(spec).simulate_layer(sparse_work(layer, 0.6, 0.5))
    if spec.batch == 1:
        check_layer_run(result, timeline)
    assert result.slots.total == result.multipliers * result.cycles
    if not result.fallback:
        assert result.slots.effectual > 0
        assert result.slots.ineffectual > 0
        assert result.slots.fill_drain > 0
        assert result.slots.memory_stall > 0


def test_the_shipped_batch_keeps_both_units_busy():
    """The benchmark's own batch (convnet-benchmarks: input_dim 128): one call per image, so both CUs
    work on an ungrouped layer, and any even batch gives the same figures per image; an odd one leaves
    a CU idle for the last call; batch 1 leaves one idle throughout."""
    assert spec_with().batch == 128
    layer = conv3x3(13, 192, 384)  # convnet-benchmarks AlexNet conv3: one group
    shipped, timeline = run_layer(spec_with(), layer)
    assert set(timeline[timeline["state"] == "busy"]["unit"]) == {0, 1}
    assert shipped.imbalance == 1.0
    two, _ = run_layer(spec_with(batch=2), layer)
    assert (two.cycles, two.slots) == (shipped.cycles, shipped.slots)
    three, _ = run_layer(spec_with(batch=3), layer)
    assert three.imbalance > 1.0
    assert three.cycles > shipped.cycles
    one, _ = run_layer(spec_with(batch=1), layer)
    assert one.cycles > 1.8 * shipped.cycles
    assert one.slots.unmapped >= one.cycles * one.multipliers // 2  # the idle CU


def test_gflops_under_each_definition():
    """An aligned map (H even, W a multiple of 16) wastes no tile: the engine performs 16 multiplies
    (Winograd definition) for 36 direct MACs (72 direct FLOP), and 280 operations per 64 multiplies."""
    accel = build(spec_with())
    layer = conv3x3(32, 64, 64)
    ops = accel.flops_per_image(layer)
    assert set(ops) == set(GFLOPS_DEFINITIONS) == {"direct", "performed", "winograd_mults"}
    assert ops["direct"] == 2 * layer.macs
    assert ops["direct"] / ops["winograd_mults"] == 4.5
    assert ops["performed"] / ops["winograd_mults"] == 280 / 64
    result, _ = run_layer(spec_with(), layer)
    rates = accel.gflops(layer, result.latency_s)
    assert rates["direct"] == pytest.approx(2 * layer.macs / result.latency_s / 1e9)
    assert rates["winograd_mults"] == pytest.approx(result.macs_issued / result.latency_s / 1e9)
    assert "FLOP per image: direct" in result.mapping
    cpu = Layer("f", LayerKind.FC, h=1, w=1, c=64, k=10)
    assert accel.flops_per_image(cpu) == {"direct": 1280.0, "performed": 1280.0, "winograd_mults": 0.0}


def test_batch_is_a_sweep_axis(tmp_path):
    from accelsim.config.sweep_spec import load_sweep
    from accelsim.sweep.points import expand

    spec = tmp_path / "batch.yaml"
    spec.write_text("name: b\nbase: winograd_fpga\naxes:\n  batch: [1, 2, 128]\nnetworks: [alexnet]\n")
    points = expand(load_sweep(spec))
    assert [p.spec["batch"] for p in points] == [1, 2, 128]
