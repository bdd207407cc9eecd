"""Live parity: run SCALE-Sim 3.0.0 itself (its own venv) on small layers and compare with accelsim.

The venv is built once from `benchmarks/peers/scalesim-requirements.txt` (numpy < 2, pinned) under
~/.cache/accelsim (or $ACCELSIM_SCALESIM_VENV); later runs reuse it. The inputs are accelsim's own
small topology and configs in `tests/data/scalesim_small/`: odd sizes, stride 2 with a partial
last window, 1x1, a window smaller than the array, an FC-like 1x1 input, a depthwise 'DP' row, and
a GEMM file, on square and non-square arrays in all three dataflows.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import accelsim

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "data" / "scalesim_small"
sys.path.insert(0, str(ROOT / "benchmarks"))

from peers.scalesim_peer import ensure_venv, run_scalesim  # noqa: E402

pytestmark = pytest.mark.peer


@pytest.fixture(scope="module")
def scalesim_python() -> Path:
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
