"""The FPGA Winograd engine end to end: REFERENCE §10.8's table, CPU fallback, units, DDR, energy, config."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import accelsim
from accelsim.accelerators import build
from accelsim.api import resolve_config
from accelsim.config.arch import parse_arch
from accelsim.errors import ConfigError
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.sparsity import dense_profile


def spec_with(**changes):  # type: ignore[no-untyped-def]
    spec, _ = resolve_config("winograd_fpga")
    return spec.model_copy(update=changes)


def run_layer(spec, layer: Layer):  # type: ignore[no-untyped-def]
    return build(spec).simulate_layer(LayerWorkload("test", layer, dense_profile("test"), seed=0))


def conv3x3(h: int, c: int, k: int, groups: int = 1) -> Layer:
    return Layer("l", LayerKind.CONV, h=h, w=h, c=c, k=k, r=3, s=3, pad=1, groups=groups)


DATA = Path(__file__).resolve().parent / "data"
SECTION_10_8 = [
    (str(r[0]), *(int(v) for v in r[1:5]), float(r[5]), float(r[6]))
    for r in pd.read_csv(DATA / "winograd_section_10_8.csv", comment="#").itertuples(index=False)
]
"""REFERENCE §10.8 [derived]: (name, H = W, C_in, C_out, groups, est. ms/img, est. GFLOPS) of one CU."""


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
    assert on_fpga == ["conv3", "conv4", "conv5"]  # REFERENCE §10.7: deploy_winograd.prototxt
    conv1 = rows.loc["conv1"]
    assert "host CPU" in conv1["fallback"]
    assert "11x11 stride 4" in conv1["fallback"]
    assert conv1["macs_issued"] == 0
    assert conv1["cycles"] > 0
    accel = build(spec_with())
    layer = conv3x3(13, 256, 384)
    assert accel.unsupported(layer) is None  # the system runs every layer
    cpu = Layer("c1", LayerKind.CONV, h=227, w=227, c=3, k=96, r=11, s=11, stride=4)
    assert conv1["cycles"] == math.ceil(accel.cpu_seconds(cpu) * accel.clock_hz)


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
    assert e["energy_dram_pj"] == pytest.approx(result.dram_bytes * 8 * 70)  # DDR3 (REFERENCE §3.7)
    assert 0 < e["energy_mac_pj"] < spec.power.cu_datapath_w * result.latency_s * 1e12
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
