"""compare(): same workload on several accelerators, speedups, the iso condition, and the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from accelsim.accelerators import build
from accelsim.api import resolve_config, resolve_network
from accelsim.compare import (
    COMPARISON_LAYER_COLUMNS,
    COMPARISON_NETWORK_COLUMNS,
    Comparison,
    IsoConditionError,
    compare,
    scale_to_area,
)
from accelsim.errors import AccelsimError, UnknownNameError
from accelsim.report.schema import SLOT_COLUMNS, SLOT_PARTS

DATAFLOWS = ["systolic_os_32x32", "systolic_ws_32x32", "systolic_is_32x32"]


@pytest.fixture(scope="module")
def alexnet() -> Comparison:
    return compare(DATAFLOWS, "alexnet")


def small_array(tmp_path: Path) -> Path:
    """A 16 x 16 variant of the OS config: 256 multipliers instead of 1,024."""
    spec, _ = resolve_config("systolic_os_32x32")
    data = {**spec.model_dump(mode="json"), "name": "systolic_os_16x16", "rows": 16, "cols": 16}
    path = tmp_path / "systolic_os_16x16.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_baseline_speedup_is_one_and_speedups_are_cycle_ratios(alexnet):
    assert alexnet.baseline == "systolic_os_32x32"
    assert list(alexnet.runs) == DATAFLOWS
    assert list(alexnet.layers.columns) == COMPARISON_LAYER_COLUMNS
    assert list(alexnet.network.columns) == COMPARISON_NETWORK_COLUMNS
    base = alexnet.layers[alexnet.layers["accelerator"] == "systolic_os_32x32"]
    assert (base["speedup"] == 1.0).all()
    base_cycles = base.set_index("layer")["cycles"]
    for _, row in alexnet.layers.iterrows():
        assert row["speedup"] == pytest.approx(base_cycles[row["layer"]] / row["cycles"])
    net = alexnet.network.set_index("accelerator")
    assert net.loc["systolic_os_32x32", "speedup"] == 1.0
    for name in DATAFLOWS:
        run = alexnet.runs[name]
        assert net.loc[name, "cycles"] == run.totals["cycles"]
        assert net.loc[name, "speedup"] == pytest.approx(
            alexnet.runs["systolic_os_32x32"].totals["cycles"] / run.totals["cycles"]
        )
        assert net.loc[name, "energy_pj"] == pytest.approx(run.totals["energy_pj"])


def test_same_workload_and_masks_for_every_config(alexnet):
    provs = [run.provenance for run in alexnet.runs.values()]
    assert {p["network_sha256"] for p in provs} == {provs[0]["network_sha256"]}
    assert {(p["profile"], p["seed"]) for p in provs} == {("dense", 0)}
    macs = [run.layers["macs_effectual"].tolist() for run in alexnet.runs.values()]
    assert macs[0] == macs[1] == macs[2]


def test_held_equal_statement_and_nothing_skipped(alexnet):
    assert alexnet.held_equal == "multipliers 1024 and clock 1000 MHz held equal"
    assert alexnet.iso
    assert alexnet.skipped == []


def test_baseline_by_config_or_name():
    by_config = compare(DATAFLOWS[:2], "alexnet", baseline="systolic_ws_32x32")
    assert by_config.baseline == "systolic_ws_32x32"
    ws = by_config.network.set_index("accelerator")
    assert ws.loc["systolic_ws_32x32", "speedup"] == 1.0
    with pytest.raises(UnknownNameError, match="baseline"):
        compare(DATAFLOWS[:2], "alexnet", baseline="systolic_is_32x32")


def test_iso_check_names_configs_and_values(tmp_path):
    small = small_array(tmp_path)
    with pytest.raises(AccelsimError) as caught:
        compare(["systolic_os_32x32", str(small)], "alexnet")
    message = str(caught.value)
    assert "systolic_os_32x32: 1024" in message
    assert "systolic_os_16x16: 256" in message
    assert "--no-iso" in message


def test_no_iso_records_what_differed(tmp_path):
    result = compare(["systolic_os_32x32", str(small_array(tmp_path))], "alexnet", iso=False)
    assert not result.iso
    assert result.held_equal == (
        "clock 1000 MHz held equal; NOT held equal: "
        "multipliers differ (systolic_os_32x32: 1024, systolic_os_16x16: 256)"
    )
    assert list(result.network["multipliers"]) == [1024, 256]
    assert result.network["speedup"].iloc[1] < 1.0


def test_write_tables_and_run_folders(alexnet, tmp_path):
    paths = alexnet.write(tmp_path)
    layers = pd.read_parquet(tmp_path / "comparison_layers.parquet")
    assert len(layers) == 3 * 8
    assert pd.read_csv(tmp_path / "comparison_layers.csv").shape == layers.shape
    assert list(pd.read_csv(tmp_path / "comparison_network.csv")["accelerator"]) == DATAFLOWS
    summary = json.loads((tmp_path / "comparison.json").read_text())
    assert summary["baseline"] == "systolic_os_32x32"
    for name in DATAFLOWS:
        assert (tmp_path / name / "layers.parquet").is_file()
        assert (tmp_path / name / "provenance.json").is_file()
    assert paths["network_csv"] == tmp_path / "comparison_network.csv"


def accelsim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accelsim.cli", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def test_cli_compare_then_plot(tmp_path):
    run = accelsim("compare", *DATAFLOWS, "--network", "alexnet", "--baseline", DATAFLOWS[1], "--out", "cmp",
                   cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "multipliers 1024 and clock 1000 MHz held equal" in run.stdout
    assert "skipped (not run natively): none" in run.stdout
    for name in DATAFLOWS:
        assert name in run.stdout
    assert "where the cycles went" in run.stdout
    table = pd.read_csv(tmp_path / "cmp" / "comparison_network.csv").set_index("accelerator")
    for name in DATAFLOWS:  # the printed shares are the written ones
        shares = " ".join(f"{table.loc[name, f'share_{p}']:.3f}" for p in SLOT_PARTS)
        assert shares in " ".join(run.stdout.split()), name
    assert (tmp_path / "cmp" / "comparison_network.csv").is_file()
    for kind in ("speedup", "energy", "utilization", "load-balance", "losses"):
        out = tmp_path / f"{kind}.png"
        plot = accelsim("plot", kind, "cmp", "--out", str(out), cwd=tmp_path)
        assert plot.returncode == 0, plot.stderr
        assert out.stat().st_size > 1000


def test_cli_compare_iso_failure_is_exit_2(tmp_path):
    small = small_array(tmp_path)
    run = accelsim("compare", "systolic_os_32x32", str(small), "--network", "alexnet", cwd=tmp_path)
    assert run.returncode == 2
    assert "systolic_os_16x16: 256" in run.stderr
    ok = accelsim(
        "compare", "systolic_os_32x32", str(small), "--network", "alexnet", "--no-iso", cwd=tmp_path
    )
    assert ok.returncode == 0, ok.stderr
    assert "NOT held equal" in ok.stdout


def test_cli_plot_unknown_kind_is_exit_2(tmp_path):
    run = accelsim("plot", "pie", str(tmp_path), "--out", "x.png", cwd=tmp_path)
    assert run.returncode == 2
    assert "unknown plot kind 'pie'" in run.stderr
    assert "speedup" in run.stderr
    assert "load-balance" in run.stderr


def test_unsupported_layers_are_skipped_listed_and_left_out_of_speedup():
    """A kind that cannot run FC layers: they are listed, and the network speedup covers the common layers."""
    from accelsim.accelerators import ACCELERATORS, register
    from accelsim.accelerators.systolic import SystolicArray

    @register("test_no_fc")
    class NoFC(SystolicArray):
        def unsupported(self, layer):
            return "no FC support" if layer.name.startswith("fc") else None

    try:
        spec, _ = resolve_config("systolic_ws_32x32")
        no_fc = spec.model_copy(update={"kind": "test_no_fc", "name": "ws_no_fc"})
        result = compare(["systolic_os_32x32", no_fc], "alexnet")
    finally:
        del ACCELERATORS["test_no_fc"]
    assert [(s.accelerator, s.layer, s.reason) for s in result.skipped] == [
        ("ws_no_fc", f, "no FC support") for f in ("fc6", "fc7", "fc8")
    ]
    net = result.network.set_index("accelerator")
    assert net.loc["ws_no_fc", "layers"] == 5
    assert net.loc["ws_no_fc", "skipped_layers"] == 3
    os_conv = result.layers.query("accelerator == 'systolic_os_32x32' and not layer.str.startswith('fc')")
    assert net.loc["ws_no_fc", "speedup"] == pytest.approx(
        os_conv["cycles"].sum() / net.loc["ws_no_fc", "cycles"]
    )
    assert len(result.layers) == 8 + 5
    assert (net["network_layers"] == 8).all()
    assert net.loc["ws_no_fc", "speedup_conv"] == net.loc["ws_no_fc", "speedup"]  # it ran no FC layer
    os_run = result.layers.query("accelerator == 'systolic_os_32x32'")
    assert net.loc["systolic_os_32x32", "speedup_conv"] == 1.0
    assert net.loc["systolic_os_32x32", "cycles"] == os_run["cycles"].sum()


def test_network_table_partitions_each_accelerators_slots(alexnet):
    net = alexnet.network.set_index("accelerator")
    for name, run in alexnet.runs.items():
        for col in SLOT_COLUMNS:
            assert net.loc[name, col] == run.layers[col].sum()
        assert net.loc[name, "slots_total"] == net.loc[name, "multipliers"] * net.loc[name, "cycles"]
        shares = net.loc[name, [f"share_{p}" for p in SLOT_PARTS]]
        assert shares.sum() == pytest.approx(1.0)
        assert net.loc[name, "share_effectual"] == pytest.approx(
            run.layers["macs_effectual"].sum() / net.loc[name, "slots_total"]
        )  # a dense array issues every effectual product once
    assert (alexnet.layers.groupby("accelerator")["layer"].count() == 8).all()


def test_iso_area_refuses_outside_the_tolerance_and_accepts_within(tmp_path):
    small = str(small_array(tmp_path))
    with pytest.raises(IsoConditionError, match="iso-area comparison impossible") as err:
        compare(["systolic_os_32x32", small], "alexnet", iso="area")
    assert "systolic_os_16x16" in str(err.value)
    big, little = (build(resolve_config(c)[0]).area()["area_mm2"] for c in ("systolic_os_32x32", small))
    spread = big / little - 1
    assert spread > 0.10
    result = compare(["systolic_os_32x32", small], "alexnet", iso="area", area_tolerance=spread + 0.01)
    assert result.iso
    assert result.iso_mode == "area"
    assert "area within" in result.held_equal
    assert "NOT held equal: multipliers differ" in result.held_equal
    net = result.network.set_index("accelerator")
    assert net.loc["systolic_os_16x16", "area_ratio"] == pytest.approx(little / big)
    for name, row in net.iterrows():
        assert row["speedup_per_mm2"] == pytest.approx(row["speedup"] / row["area_mm2"])
        assert row["energy_per_inference_uj"] == pytest.approx(row["energy_pj"] * 1e-6)
        assert row["area_mm2"] == result.runs[str(name)].layers["area_mm2"].iloc[0]
    with pytest.raises(UnknownNameError, match="iso condition"):
        compare(["systolic_os_32x32", small], "alexnet", iso="volume")


def test_cli_iso_area_refusal_is_exit_2_and_iso_none_runs(tmp_path):
    small = str(small_array(tmp_path))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return accelsim("compare", "systolic_os_32x32", small, "--network", "alexnet", *args, cwd=tmp_path)

    refused = cli("--iso", "area")
    assert refused.returncode == 2
    assert "iso-area comparison impossible" in refused.stderr
    assert "Traceback" not in refused.stderr
    ran = cli("--iso", "none", "--out", "cmp")
    assert ran.returncode == 0, ran.stderr
    assert "per mm²" in ran.stdout
    table = pd.read_csv(tmp_path / "cmp" / "comparison_network.csv")
    assert (table["area_mm2"] > 0).all()


def test_scale_to_area_gives_the_tile_count_nearest_the_baselines_area(tmp_path):
    """A 16 x 16 copy of the 32 x 32 array (same buffers) scales back to exactly 32 x 32."""
    small = str(small_array(tmp_path))
    specs, scaled = scale_to_area(["systolic_os_32x32", small], "alexnet")
    assert specs[0] == resolve_config("systolic_os_32x32")[0]  # the baseline is never scaled
    (record,) = scaled
    assert (record.keys, record.before, record.after) == (("rows", "cols"), (16, 16), (32, 32))
    assert (specs[1].rows, specs[1].cols, specs[1].name) == (32, 32, "systolic_os_16x16@32x32")
    big = build(resolve_config("systolic_os_32x32")[0]).area()["area_mm2"]
    assert record.area_after_mm2 == pytest.approx(big)
    assert "systolic_os_16x16 rows x cols 16x16 -> 32x32" in record.describe()


def test_scale_to_area_picks_the_nearest_count_and_keeps_everything_else():
    """SparTen scaled to SCNN's area on AlexNet: no other cluster count is nearer (in ratio)."""
    specs, (record,) = scale_to_area(["scnn", "sparten"], "alexnet", area_tolerance=0.0)
    target = build(resolve_config("scnn")[0]).area()["area_mm2"]
    sparten, _ = resolve_config("sparten")
    net = resolve_network("alexnet")

    def area(clusters: int) -> float:
        spec = sparten.model_copy(update={"clusters": clusters})
        accel = build(spec)
        return accel.area(tuple(x for x in net.compute_layers if accel.unsupported(x) is None))["area_mm2"]

    n = record.after[0]
    assert specs[1].clusters == n
    assert record.keys == ("clusters",)
    assert record.area_after_mm2 == pytest.approx(area(n))
    miss = abs(math.log(area(n) / target))
    assert miss <= abs(math.log(area(n - 1) / target))
    assert miss <= abs(math.log(area(n + 1) / target))
    changed = {"clusters", "name"}
    assert specs[1].model_dump(exclude=changed) == sparten.model_dump(exclude=changed)


def test_compare_scaled_to_area_runs_and_records_it(tmp_path):
    small = str(small_array(tmp_path))
    result = compare(["systolic_os_32x32", small], "alexnet", iso="area", scale_to_area=True)
    assert list(result.runs) == ["systolic_os_32x32", "systolic_os_16x16@32x32"]
    assert [s.after for s in result.scaled] == [(32, 32)]
    assert "scaled to the baseline's area by tile count" in result.held_equal
    assert result.summary()["scaled_to_area"][0]["after"] == [32, 32]
    net = result.network.set_index("accelerator")
    assert net.loc["systolic_os_16x16@32x32", "cycles"] == net.loc["systolic_os_32x32", "cycles"]
    with pytest.raises(AccelsimError, match="needs iso='area'"):
        compare(["systolic_os_32x32", small], "alexnet", iso="multipliers", scale_to_area=True)
    with pytest.raises(IsoConditionError, match="no replicated tile"):
        scale_to_area(["scnn", "imce"], "alexnet")


def test_cli_scale_to_area_writes_the_scaled_run(tmp_path):
    small = str(small_array(tmp_path))
    done = accelsim(
        "compare", "systolic_os_32x32", small, "--network", "alexnet", "--iso", "area", "--scale-to-area",
        "--out", "cmp", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "systolic_os_16x16 rows x cols 16x16 -> 32x32" in " ".join(done.stdout.split())
    summary = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert summary["folders"]["systolic_os_16x16@32x32"] == "systolic_os_16x16_32x32"
    assert (tmp_path / "cmp" / "systolic_os_16x16_32x32").is_dir()


def test_the_documented_iso_area_scaling_holds():
    """docs/architecture.md, "Scaled to one area": the tile counts it states, from the area model."""
    configs = ["scnn", "sparten", "phantom2d", "eyeriss_v2_1024", "systolic_ws_32x32"]
    specs, scaled = scale_to_area(configs, "alexnet")
    assert [s.name for s in specs] == [
        "scnn",
        "sparten",
        "phantom2d@20x20",
        "eyeriss_v2_1024@clusters=77",
        "systolic_ws_32x32@190x190",
    ]
    doc = " ".join((Path(__file__).resolve().parent.parent / "docs" / "architecture.md").read_text().split())
    stated = (
        "Phantom-2D's mesh 8 x 8 -> 20 x 20 cores, Eyeriss v2's clusters 32 -> 77, "
        "the array 32 x 32 -> 190 x 190"
    )
    assert stated in doc
    assert all(abs(s.area_after_mm2 / 35.86 - 1) < 0.01 for s in scaled)
