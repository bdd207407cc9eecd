"""Live parity: run SCALE-Sim 3.0.0 itself (its own venv) on small layers and compare with accelsim.

The venv is built once from `benchmarks/peers/scalesim-requirements.txt` (numpy < 2, pinned) under
~/.cache/accelsim (or $ACCELSIM_SCALESIM_VENV); later runs reuse it. When it must be built and the
package index cannot be reached, the tests skip with that reason instead of failing.

The inputs are accelsim's own small topology and configs in `tests/data/scalesim_small/`: odd
sizes, stride 2 with a partial last window, 1x1, a window smaller than the array, an FC-like 1x1
input, a depthwise 'DP' row, and a GEMM file, on square and non-square arrays in all three
dataflows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import accelsim

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "data" / "scalesim_small"
sys.path.insert(0, str(ROOT / "benchmarks"))

from peers.scalesim_peer import (  # noqa: E402
    SCALESIM_VERSION,
    ensure_venv,
    index_unreachable,
    run_scalesim,
    venv_ready,
)

pytestmark = pytest.mark.peer


@pytest.fixture(scope="module")
def scalesim_python() -> Path:
    if not venv_ready() and (why := index_unreachable()) is not None:
        pytest.skip(
            f"SCALE-Sim {SCALESIM_VERSION} is not installed and the package index cannot be reached: {why}"
        )
    return ensure_venv()


CONFIGS = sorted(p.name for p in SMALL.glob("*.cfg"))


@pytest.mark.parametrize("cfg", CONFIGS)
@pytest.mark.parametrize("topology", ["small.csv", "gemm.csv"])
def test_accelsim_equals_scalesim_run_now(scalesim_python, tmp_path, cfg, topology):
    gemm = topology == "gemm.csv"
    theirs = run_scalesim(scalesim_python, SMALL / cfg, SMALL / topology, tmp_path, gemm=gemm)
    ours = accelsim.simulate(SMALL / cfg, SMALL / topology).layers
    assert len(ours) == len(theirs)
    for (_, row), peer in zip(ours.iterrows(), theirs, strict=True):
        assert peer["stall_cycles"] == 0
        assert row["cycles"] == peer["compute_cycles"], row["layer"]
        assert row["mapping_efficiency"] * 100 == peer["mapping_eff_pct"], row["layer"]
        assert row["utilization"] * 100 == pytest.approx(peer["overall_util_pct"], rel=1e-12), row["layer"]


def test_without_the_venv_or_the_index_the_live_tests_skip_with_the_reason(tmp_path):
    """A fresh venv location and a package index that refuses connections: skipped, not failed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env |= {
        "PIP_CONFIG_FILE": os.devnull,  # no configured index, mirror or wheel folder
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",  # the discard port: connection refused
        "ACCELSIM_SCALESIM_VENV": str(tmp_path / "venv"),
    }
    args = [sys.executable, "-m", "pytest", __file__, "-q", "-rs", "-p", "no:cacheprovider"]
    args += ["-k", "run_now", "-o", "addopts="]
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, check=False, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(CONFIGS) * 2} skipped" in done.stdout
    assert "the package index cannot be reached: " in done.stdout
    assert not (tmp_path / "venv").exists()
