"""The command line, run as a user runs it: a real subprocess, real files, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from accelsim.report.schema import LAYER_COLUMNS

HEADER = (
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
)
CFG = """\
[general]
run_name = cli_test
[architecture_presets]
ArrayHeight: 32
ArrayWidth: 32
IfmapSramSzkB: 64
FilterSramSzkB: 64
OfmapSramSzkB: 64
Dataflow: ws
[run_presets]
InterfaceBandwidth: CALC
"""


def accelsim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accelsim.cli", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def test_run_on_defaults_writes_tables_and_provenance(tmp_path):
    run = accelsim("run", "--out", "out", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "systolic_ws_32x32 on vgg16" in run.stdout
    layers = pd.read_parquet(tmp_path / "out" / "layers.parquet")
    assert list(layers.columns) == LAYER_COLUMNS
    assert len(layers) == 16  # 13 conv + 3 fc; pooling is not a compute layer
    assert layers.equals(
        pd.read_csv(tmp_path / "out" / "layers.csv", keep_default_na=False).astype(layers.dtypes)
    )
    prov = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert prov["network"] == "vgg16"
    assert prov["profile"] == "dense"
    assert len(prov["config_sha256"]) == 64
    assert prov["config"]["rows"] == 32


def test_run_scalesim_files_directly(tmp_path):
    """A SCALE-Sim .cfg and topology .csv run as-is; cycles are SCALE-Sim 3.0.0's compute cycles.

    Expected values were printed by SCALE-Sim 3.0.0 (configs/scale.cfg, WS 32x32, CALC) for these two layers.
    """
    (tmp_path / "scale.cfg").write_text(CFG)
    (tmp_path / "t.csv").write_text(HEADER + "A, 8, 8, 3, 3, 5, 7, 1,\nB, 10, 9, 2, 3, 40, 50, 2,\n")
    run = accelsim("run", "scale.cfg", "--network", "t.csv", "--out", "o", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    layers = pd.read_csv(tmp_path / "o" / "layers.csv")
    assert layers["cycles"].tolist() == [259, 1823]
    assert (layers["mapping_efficiency"] * 100).tolist() == [15.380859375, 73.2421875]
    assert (layers["utilization"] * 100).round(10).tolist() == [4.2757601351, 12.8565551289]


@pytest.mark.parametrize(
    "what", ["networks", "profiles", "accelerators", "configs", "dataflows", "energy-tables"]
)
def test_list(tmp_path, what):
    run = accelsim("list", what, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    expected = {
        "networks": "vgg16",
        "profiles": "mobilenet_v1: pruned",
        "accelerators": "systolic",
        "configs": "systolic_ws_32x32",
        "dataflows": "systolic: ws",
        "energy-tables": "accelergy_40nm",
    }[what]
    assert expected in run.stdout.splitlines()


def test_validate_good_and_bad(tmp_path):
    (tmp_path / "scale.cfg").write_text(CFG)
    ok = accelsim("validate", "scale.cfg", cwd=tmp_path)
    assert ok.returncode == 0
    assert "1024 multipliers" in ok.stdout
    (tmp_path / "bad.yaml").write_text("kind: systolic\nname: x\nrows: 0\n")
    bad = accelsim("validate", "bad.yaml", cwd=tmp_path)
    assert bad.returncode == 2
    assert "bad.yaml: not a valid accelerator spec" in bad.stderr
    assert "systolic.rows: Input should be greater than 0" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_validate_networks_and_profiles(tmp_path):
    from accelsim.workload.catalog import data_dir

    net = accelsim("validate", str(data_dir("workloads") / "vgg16.yaml"), cwd=tmp_path)
    assert net.returncode == 0, net.stderr
    assert "network vgg16, 21 layers, 15,470,264,320 MACs" in net.stdout
    prof = accelsim(
        "validate", str(data_dir("workloads") / "profiles" / "alexnet" / "pruned.yaml"), cwd=tmp_path
    )
    assert prof.returncode == 0, prof.stderr
    assert "sparsity profile 'pruned' of alexnet" in prof.stdout
    (tmp_path / "p.yaml").write_text(
        "id: p\nnetwork: alexnet\nsource: me\nlayers:\n  conv9: {weights: 0.5}\n"
    )
    bad = accelsim("validate", "p.yaml", cwd=tmp_path)
    assert bad.returncode == 2
    assert "layers.conv9" in bad.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", "--network", "resnet"],
            "unknown network 'resnet'; known: alexnet, googlenet, mobilenet_v1, mobilenet_v1_0.5_128, "
            "resnet18, resnet18_cifar10, resnet18_tinyimagenet, resnet50, vgg16, vgg16_cifar10, "
            "vgg16_tinyimagenet",
        ),
        (
            ["run", "--network", "alexnet", "--profile", "sparse"],
            "unknown sparsity profile of network 'alexnet'",
        ),
        (["run", "missing.yaml"], "missing.yaml: file not found"),
        (["run", "nope"], "unknown accelerator config 'nope'"),
        (["run", "scale.cfg", "--network", "broken.csv"], "broken.csv:2: expected 7 numbers"),
        (["validate", "missing.cfg"], "missing.cfg: file not found"),
        (["run", "--bogus"], "No such option: --bogus"),
    ],
)
def test_bad_input_is_a_message_and_exit_2(tmp_path, args, message):
    (tmp_path / "scale.cfg").write_text(CFG)
    (tmp_path / "broken.csv").write_text(HEADER + "Conv1, 224,\n")
    run = accelsim(*args, cwd=tmp_path)
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr
