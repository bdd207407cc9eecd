"""Accelergy ERT.yaml as `technology.energy_table`: hand-written tables in the formats Accelergy writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from accelsim.accelerators import build, check
from accelsim.api import list_configs, resolve_config
from accelsim.config.arch import parse_arch
from accelsim.energy import Action, EnergyModel
from accelsim.energy.scaling import energy_factor
from accelsim.errors import ConfigError
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.sparsity import dense_profile

# Format 0.4 as timeloop-model writes it (timeloop-accelergy-exercises example_designs/eyeriss_like/
# ref_outputs/default_problem/timeloop-mapper.ERT.yaml): every action once, `arguments` of the run.
ERT_04 = """\
ERT:
    version: '0.4'
    tables:
      - name: system_top_level.DRAM[1..1]
        actions:
          - name: read
            arguments:
                global_cycle_seconds: 1e-09
                action_latency_cycles: 1
            energy: 512.0
      - name: system_top_level.mac[1..168]
        actions:
          - name: compute
            arguments: {}
            energy: 0.207692
          - name: leak
            arguments: {}
            energy: 0.002374
      - name: system_top_level.ifmap_spad[1..168]
        actions:
          - name: read
            arguments: {}
            energy: 0.202442
      - name: system_top_level.psum_spad[1..168]
        actions:
          - name: read
            arguments: {}
            energy: 0.2513
"""

# Format 0.3 as Accelergy writes it (timeloop-accelergy-exercises tutorial 04_eyeriss_like ref-output/
# ERT.yaml): one entry per argument set, `arguments: null` for an action without arguments.
ERT_03 = """\
ERT:
  version: 0.3
  tables:
  - name: eyeriss_like.PE[0..167].mac
    actions:
    - name: mac_random
      arguments: null
      energy: 2.20035
    - name: mac_gated
      arguments: null
      energy: 0.10285
  - name: eyeriss_like.PE[0..167].ifmap_spad
    actions:
    - name: read
      arguments:
        address_delta: 0
        data_delta: 0
      energy: 0.0549
    - name: read
      arguments:
        address_delta: 1
        data_delta: 1
      energy: 0.23632
    - name: read
      arguments:
        address_delta: 1
        data_delta: 0
      energy: 0.09824
  - name: eyeriss_like.weights_glb
    actions:
    - name: read
      arguments:
        address_delta: 1
        data_delta: 1
      energy: 8.422
  - name: eyeriss_like.shared_glb
    actions:
    - name: read
      arguments:
        address_delta: 1
        data_delta: 1
      energy: 56.092
"""

ENERGY_MAP = {
    "mac.mac": "mac.compute",
    "mac.gated": "mac.leak",  # a gated MAC (a zero ifmap, padding here) holds still: its leakage
    "dram.bit": {"action": "DRAM.read", "scale": 1 / 64},
}
ERT_NODE_NM = 45  # the chip (eyeriss_v1) is at 65 nm: the on-chip energies scale by a factor != 1
LAYER = Layer("conv", LayerKind.CONV, h=6, w=6, c=4, k=8, r=3, s=3, pad=1)


def technology(path: Path, **changes: object) -> dict[str, object]:
    spec, _ = resolve_config("eyeriss_v1")
    tech = spec.technology.model_dump(mode="json")
    tech.update(energy_table=str(path), energy_map=ENERGY_MAP, energy_table_node_nm=ERT_NODE_NM)
    tech.update(changes)
    return tech


def eyeriss_spec(tmp_path: Path, ert: str | None = ERT_04, **changes: object) -> object:
    path = tmp_path / "ERT.yaml"
    if ert is not None:
        path.write_text(ert)
    spec, _ = resolve_config("eyeriss_v1")
    data = spec.model_dump(mode="json")
    data["technology"] = technology(path, **changes)
    return parse_arch(data, "test")


def run(spec: object) -> object:
    work = LayerWorkload("test", LAYER, dense_profile("test"), 0)
    return build(spec).simulate_layer(work)[0]


def test_mapped_actions_take_the_ert_energy_scaled_to_the_node_and_the_rest_is_unchanged(tmp_path):
    with_ert = run(eyeriss_spec(tmp_path))
    default = run(resolve_config("eyeriss_v1")[0])
    factor = energy_factor(ERT_NODE_NM, 0.8, 65, 0.8)
    assert factor != pytest.approx(1, abs=0.05)
    issued, effectual = with_ert.macs_issued, with_ert.macs_effectual
    assert issued == default.macs_issued > effectual  # dense weights and ifmaps: the padding is gated
    mac_pj = (effectual * 0.207692 + (issued - effectual) * 0.002374) * factor
    assert with_ert.energy_pj["energy_mac_pj"] == pytest.approx(mac_pj, rel=1e-12)
    # DRAM is off-chip: the ERT's 512 pJ per 64-bit read, not node-scaled
    assert with_ert.energy_pj["energy_dram_pj"] == pytest.approx(with_ert.dram_bytes * 8 * 512.0 / 64)
    assert with_ert.energy_pj["energy_mac_pj"] != pytest.approx(default.energy_pj["energy_mac_pj"])
    for column in ("energy_rf_pj", "energy_sram_pj", "energy_noc_pj", "energy_static_pj"):
        assert with_ert.energy_pj[column] == default.energy_pj[column], column
    assert (with_ert.cycles, with_ert.dram_bytes) == (default.cycles, default.dram_bytes)


def test_the_ert_voltage_defaults_to_the_chips_and_may_be_given(tmp_path):
    at_chip = EnergyModel.from_technology(eyeriss_spec(tmp_path).technology)
    at_1v = EnergyModel.from_technology(eyeriss_spec(tmp_path, energy_table_vdd=1.0).technology)
    mac = Action("mac", "mac")
    assert at_chip.overrides[mac] == pytest.approx(0.207692 * energy_factor(45, 0.8, 65, 0.8))
    assert at_1v.overrides[mac] == pytest.approx(0.207692 * energy_factor(45, 1.0, 65, 0.8))


def test_format_03_argument_sets_the_most_expensive_unless_one_is_named(tmp_path):
    energy_map = {
        "mac.mac": "mac.mac_random",
        "mac.gated": "eyeriss_like.PE[0..167].mac.mac_gated",
        "rf.ifmap_read": "ifmap_spad.read",  # three argument sets: the most expensive
        "rf.filter_read": {"action": "ifmap_spad.read", "arguments": {"address_delta": 1, "data_delta": 0}},
        "sram.ifmap_read": {"action": "shared_glb.read", "scale": 0.25},  # a 16-bit word of a 64-bit access
    }
    tech = eyeriss_spec(tmp_path, ERT_03, energy_map=energy_map, energy_table_node_nm=65).technology
    got = EnergyModel.from_technology(tech).overrides
    assert got == {
        Action("mac", "mac"): 2.20035,
        Action("mac", "gated"): 0.10285,
        Action("rf", "ifmap_read"): 0.23632,
        Action("rf", "filter_read"): 0.09824,
        Action("sram", "ifmap_read"): 56.092 * 0.25,
    }


@pytest.mark.parametrize(
    ("changes", "ert", "message"),
    [
        (
            {"energy_map": {"mac.mac": "adder.compute"}},
            ERT_04,
            r"no component 'adder' in the ERT; it has: DRAM",
        ),
        (
            {"energy_map": {"mac.mac": "mac.mac_random"}},
            ERT_04,
            r"no action 'mac_random'; its actions: compute",
        ),
        ({"energy_map": {"mac.mac": "compute"}}, ERT_04, r"'compute' is not an Accelergy `component.action`"),
        (
            {"energy_map": {"mac.multiply": "mac.compute", "cpu.x": "mac.compute"}},
            ERT_04,
            "'cpu.x' is not an accel",
        ),
        ({"energy_map": {"rf.ifmap_read": "read"}}, ERT_04, "not an Accelergy"),
        (
            {"energy_map": {"sram.ifmap_read": "glb.read"}},
            ERT_03.replace("weights_glb", "PE.glb").replace("shared_glb", "glb"),
            r"'glb' names several ERT components",
        ),
        (
            {"energy_map": {"rf.ifmap_read": {"action": "ifmap_spad.read", "arguments": {"data_delta": 5}}}},
            ERT_03,
            r"no argument set \{'data_delta': 5\}; it has: \{'address_delta': 0",
        ),
        (
            {},
            ERT_04.replace("'0.4'", "'0.2'"),
            r"ERT.version: '0.2' is not a supported ERT format \(0.3, 0.4\)",
        ),
        ({"energy_map": {}}, ERT_04, r"technology.energy_map: name the accelsim actions"),
        ({"energy_table_node_nm": None}, ERT_04, r"technology.energy_table_node_nm: give the node"),
        ({"energy_table": "accelergy_40nm"}, None, r"technology.energy_map: needs an Accelergy ERT.yaml"),
        (
            {"energy_table": "accelergy_40nm", "energy_map": {}},
            None,
            r"energy_table_node_nm: needs an Accelergy",
        ),
    ],
)
def test_ert_errors_name_the_file_the_key_and_what_is_allowed(tmp_path, changes, ert, message):
    spec = eyeriss_spec(tmp_path, ert, **changes)
    with pytest.raises(ConfigError, match=message) as e:
        check(spec, "test")  # what `accelsim validate` runs: no layer is simulated
    if "energy_table" not in changes:
        assert str(tmp_path / "ERT.yaml") in str(e.value)


def test_a_mapped_action_the_accelerator_does_not_have_is_refused_before_any_layer_runs(
    tmp_path, monkeypatch
):
    spec = eyeriss_spec(tmp_path, energy_map={**ENERGY_MAP, "noc.hop": "ifmap_spad.read"})
    message = r"energy_map: no action noc.hop in this accelerator; its actions: .*noc.psum.*static.leak"
    with pytest.raises(ConfigError, match=message):
        check(spec, "test")  # what `accelsim validate` runs
    with pytest.raises(ConfigError, match=message):
        build(spec)  # what every run, comparison and sweep point does first
    # a model that does not declare its actions: the first layer's plan is checked instead
    monkeypatch.setattr(type(build(resolve_config("eyeriss_v1")[0])), "plan_actions", lambda self: None)
    accel = build(spec)
    with pytest.raises(ConfigError, match=r"no action noc.hop in this accelerator; its actions: .*noc.psum"):
        accel.simulate_layer(LayerWorkload("test", LAYER, dense_profile("test"), 0))


@pytest.mark.parametrize("config", list_configs())
def test_every_shipped_model_declares_exactly_the_actions_its_plans_list(config):
    accel = build(resolve_config(config)[0])
    layer = Layer("conv", LayerKind.CONV, h=8, w=8, c=4, k=8, r=3, s=3, pad=1)
    plan = accel.plan(LayerWorkload("test", layer, dense_profile("test"), 0))
    assert not plan.fallback
    assert {e.action for e in plan.energy} == accel.plan_actions()
    assert accel.energy_actions() == accel.plan_actions() | {Action("static", "leak")}


def test_runs_with_an_ert_are_reproducible(tmp_path):
    spec = eyeriss_spec(tmp_path)
    assert run(spec).to_row() == run(spec).to_row()


def test_validate_and_run_from_the_cli(tmp_path):
    spec = eyeriss_spec(tmp_path)
    config = tmp_path / "eyeriss_ert.yaml"
    config.write_text(yaml.safe_dump(spec.model_dump(mode="json")))  # type: ignore[attr-defined]
    cli = [sys.executable, "-m", "accelsim.cli"]
    ok = subprocess.run(
        [*cli, "validate", str(config)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stderr
    (tmp_path / "ERT.yaml").write_text(ERT_04.replace("mac[1..168]", "multiplier[1..168]"))
    bad = subprocess.run(
        [*cli, "validate", str(config)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2
    assert "ERT.yaml: technology.energy_map.mac." in bad.stderr
    assert "no component 'mac' in the ERT" in bad.stderr
    assert "Traceback" not in bad.stderr


ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "accelergy" / "eyeriss_like.yaml"


def test_the_docs_example_runs_with_the_exported_tables_and_its_page_is_current(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the example's table paths are relative to its own folder
    spec, source = resolve_config(EXAMPLE)
    check(spec, source)
    model = EnergyModel.from_technology(spec.technology)  # ERT and chip at 32 nm: factor 1
    glb, dram = 18.183829, 512.0  # shared_glb.read and DRAM.read of the exported ERT
    assert model.overrides[Action("mac", "mac")] == 0.207692
    assert model.overrides[Action("rf", "filter_read")] == 1.976602 * 0.5
    assert model.overrides[Action("sram", "psum_read")] == glb * 0.25
    assert model.overrides[Action("dram", "bit")] == dram / 64
    row = run(spec)
    gated = row.macs_issued - row.macs_effectual  # padding: the default table's gated MAC
    mac_pj = row.macs_effectual * 0.207692 + gated * model.mac_gated_pj(8, 16)
    assert row.energy_pj["energy_mac_pj"] == pytest.approx(mac_pj, rel=1e-12)
    assert row.energy_pj["energy_dram_pj"] == pytest.approx(row.dram_bytes * 8 * 8.0, rel=1e-12)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from accelergy_example import table

    page = (ROOT / "docs" / "accelergy.md").read_text(encoding="utf-8")
    for line in table("alexnet").splitlines():
        assert line in page, f"docs/accelergy.md is stale (benchmarks/accelergy_example.py): {line}"
