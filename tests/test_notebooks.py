"""The notebooks run as committed, and the outputs committed with them are the ones they give now.

Each notebook is executed in a fresh kernel (a cell that raises, e.g. a failed assertion on the
numbers its text states, fails the test), and its outputs are compared with the stored ones by
`benchmarks/notebook_outputs.py` (printed text and tables exactly, up to object addresses and
temporary paths; figures by kind). A stale notebook is refreshed with
`python benchmarks/notebook_outputs.py NAME`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from notebook_outputs import execute, selected, stale_cells  # noqa: E402

NOTEBOOKS = selected([])


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 7


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_its_stored_outputs_are_current(path: Path):
    stale = stale_cells(path, execute(path))
    assert not stale, (
        "stored outputs are stale (refresh: python benchmarks/notebook_outputs.py "
        f"{path.stem[:2]}):\n" + "\n".join(stale)
    )
