"""Accelerator configs: shipped files validate; bad input gets a message naming file, key and value."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from accelsim.accelerators import build
from accelsim.api import list_configs, resolve_config
from accelsim.config.arch import load_arch
from accelsim.config.scalesim_cfg import load_scalesim_cfg
from accelsim.errors import ConfigError, UnknownNameError
from accelsim.workload.catalog import data_dir
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.sparsity import LayerDensity, SparsityProfile

DEFAULT = data_dir("arch_configs") / "systolic_ws_32x32.yaml"


def write_variant(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(DEFAULT.read_text())
    edit(data)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("name", list_configs())
def test_every_shipped_config_builds(name):
    spec, source = resolve_config(name)
    accel = build(spec, source)
    assert accel.kind == spec.kind
    assert accel.multipliers > 0
    assert accel.clock_hz > 0
    if spec.kind == "systolic":
        assert accel.multipliers == spec.rows * spec.cols
    assert spec.source


SMALL = Layer("small", LayerKind.CONV, h=14, w=14, c=32, k=32, r=3, s=3, pad=1)


@pytest.mark.parametrize("name", list_configs())
def test_every_shipped_config_runs_a_layer(name):
    """Each shipped config simulates a small 3x3 / s1 / p1 conv (the one layer kind all of them run)."""
    spec, source = resolve_config(name)
    accel = build(spec, source)
    profile = SparsityProfile(id="half", network="t", source="test", layers={"small": LayerDensity(0.5, 0.5)})
    result, timeline = accel.simulate_layer(LayerWorkload("t", SMALL, profile, seed=0))
    assert result.cycles > 0
    assert result.latency_s > 0
    images = getattr(spec, "batch", 1)  # a row counts the config's whole batch
    assert result.batch == images
    assert result.macs_dense == SMALL.macs * images
    assert 0 < result.macs_effectual < SMALL.macs * images
    assert sum(result.energy_pj.values()) > 0
    assert {"unit", "state", "start", "end"} <= set(timeline.columns)


def test_default_is_iso_multiplier_weight_stationary():
    spec = load_arch(DEFAULT)
    assert (spec.rows, spec.cols, spec.dataflow) == (32, 32, "ws")


def test_unknown_key_names_file_path_and_allowed_keys(tmp_path):
    path = write_variant(tmp_path, lambda d: d["memory"].update(ifmap_kib=3))
    with pytest.raises(ConfigError) as e:
        load_arch(path)
    msg = str(e.value)
    assert str(path) in msg
    assert "memory.ifmap_kib: unknown key" in msg
    assert "filter_sram_kib, ifmap_sram_kib, ofmap_sram_kib" in msg


def test_wrong_type_and_bad_value(tmp_path):
    path = write_variant(tmp_path, lambda d: d.update(rows="many", cols=0))
    with pytest.raises(ConfigError) as e:
        load_arch(path)
    msg = str(e.value)
    assert "rows: Input should be a valid integer" in msg
    assert "'many'" in msg
    assert "cols: Input should be greater than 0 (got 0)" in msg


def test_unknown_kind_lists_known_kinds(tmp_path):
    path = write_variant(tmp_path, lambda d: d.update(kind="tpu"))
    with pytest.raises(ConfigError, match="'systolic'"):
        load_arch(path)


def test_unknown_dataflow_is_a_config_error_listing_dataflows(tmp_path):
    path = write_variant(tmp_path, lambda d: d.update(dataflow="rs"))
    spec, source = resolve_config(path)
    with pytest.raises(ConfigError) as e:
        build(spec, source)
    assert "systolic.dataflow" in str(e.value)
    assert "is, os, ws" in str(e.value)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_arch(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [systolic\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_arch(bad)


def test_unknown_config_name_lists_shipped():
    with pytest.raises(UnknownNameError, match="systolic_ws_32x32"):
        resolve_config("no_such_config")


SCALESIM_CFG = """\
[general]
run_name = my_run

[architecture_presets]
ArrayHeight:    8
ArrayWidth:     16
IfmapSramSzkB:   64
FilterSramSzkB:  32
OfmapSramSzkB:   16
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : os
MemoryBanks:   1

[run_presets]
InterfaceBandwidth: {mode}
"""


def test_scalesim_cfg_is_translated(tmp_path):
    path = tmp_path / "scale.cfg"
    path.write_text(SCALESIM_CFG.format(mode="CALC"))
    spec = load_scalesim_cfg(path)
    assert (spec.name, spec.rows, spec.cols, spec.dataflow) == ("my_run", 8, 16, "os")
    assert (spec.memory.ifmap_sram_kib, spec.memory.filter_sram_kib, spec.memory.ofmap_sram_kib) == (
        64,
        32,
        16,
    )
    assert spec.dram.bandwidth_bytes_per_cycle is None  # CALC: stall-free
    path.write_text(SCALESIM_CFG.format(mode="USER"))
    assert load_scalesim_cfg(path).dram.bandwidth_bytes_per_cycle == 10


def build_from(path: Path) -> None:
    spec, source = resolve_config(path)
    build(spec, source)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.replace("ArrayHeight:    8\n", ""), "ArrayHeight: missing"),
        (
            lambda s: s.replace("ArrayWidth:     16", "ArrayWidth: wide"),
            "ArrayWidth: expected an integer, got 'wide'",
        ),
        (
            lambda s: s.replace("CALC", "USER").replace("Bandwidth : 10", "Bandwidth : ten"),
            "Bandwidth: expected an integer, got 'ten'",
        ),
        (lambda s: s.replace("IfmapSramSzkB:   64", "IfmapSramSzkB: inf"), "Input should be a finite number"),
        (
            lambda s: s.replace("IfmapSramSzkB:   64", "IfmapSramSzkB: 6%4"),
            "IfmapSramSzkB: expected a number,",
        ),
        (lambda s: s.replace("ArrayHeight:    8", "ArrayHeight: 0"), "rows: Input should be greater than 0"),
        (lambda s: s.replace("Dataflow : os", "Dataflow : rs"), "unknown systolic dataflow 'rs'"),
        (lambda s: s.replace("[architecture_presets]", "[arch]"), "missing section [architecture_presets]"),
        (lambda s: s.replace("CALC", "FAST"), "InterfaceBandwidth: expected CALC or USER"),
        (lambda s: "no sections here\n" + s, "not a valid SCALE-Sim config"),
    ],
)
def test_malformed_scalesim_cfg(tmp_path, edit, message):
    path = tmp_path / "scale.cfg"
    path.write_text(edit(SCALESIM_CFG.format(mode="CALC")))
    with pytest.raises(ConfigError) as e:
        build_from(path)
    assert message in str(e.value)
    assert str(path) in str(e.value)


def test_a_folder_named_like_a_config_does_not_shadow_it(tmp_path, monkeypatch):
    (tmp_path / "scnn").mkdir()
    monkeypatch.chdir(tmp_path)
    spec, source = resolve_config("scnn")
    assert spec.kind == "scnn"
    assert source.endswith("scnn.yaml")
