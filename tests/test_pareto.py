"""The Pareto front of a sweep and its plot: the one-sort front against the pairwise definition,
a hand-worked front, the plot's marks, and `accelsim plot pareto` as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.plots import PlotError, pareto_front, pareto_plot
from accelsim.plots.pareto import pareto_front_pairwise

coords = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(coords)
def test_front_equals_the_pairwise_definition(points):
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    assert pareto_front(x, y).tolist() == pareto_front_pairwise(x, y).tolist()


def test_hand_worked_front():
    # (1, 5) (2, 3) (2, 3) (3, 4) (4, 1) (5, 1) (1, 6): the front is the lowest y at each x step;
    # (2, 3) twice (neither beats the other), (3, 4) is beaten by (2, 3), (5, 1) by (4, 1), (1, 6) by (1, 5)
    x = np.array([1, 2, 2, 3, 4, 5, 1])
    y = np.array([5, 3, 3, 4, 1, 1, 6])
    assert pareto_front(x, y).tolist() == [True, True, True, False, True, False, False]
    with pytest.raises(ValueError, match="one length"):
        pareto_front(x, y[:3])


def sweep_points() -> pd.DataFrame:
    """Six points of two layers each: rows x dataflow, cycles and energy trading off."""
    rows = []
    for flow, e_scale in (("os", 1.0), ("ws", 0.7)):
        for n in (8, 16, 32):
            for layer in ("l1", "l2"):
                cycles = 4000 // n
                rows.append(
                    {
                        "point_id": f"{flow}{n}",
                        "rows": n,
                        "dataflow": flow,
                        "network": "net",
                        "profile": "dense",
                        "seed": 0,
                        "layer": layer,
                        "cycles": cycles,
                        "latency_s": cycles * 1e-9,
                        "energy_pj": e_scale * n * 1e6 * (1.2 if flow == "ws" and n == 32 else 1.0),
                        "area_mm2": n * n * 0.01,
                        "macs_issued": 10,
                        "multipliers": n * n,
                    }
                )
    return pd.DataFrame(rows)


def test_plot_marks_the_front_of_a_sweep(tmp_path):
    table = sweep_points()
    fig = pareto_plot(table, "latency", "energy", size="area", color="dataflow")
    ax = fig.axes[0]
    (front_line,) = ax.lines
    # per point: latency (ms) = 2 x 4000 / n ns; energy = 2 x scale x n uJ.
    # os: (1e-3, 16), (5e-4, 32), (2.5e-4, 64); ws: (1e-3, 11.2), (5e-4, 22.4), (2.5e-4, 53.76)
    # every ws point beats the os point at its n: the front is the three ws points
    assert np.allclose(front_line.get_xdata(), [2.5e-4, 5e-4, 1e-3])
    assert np.allclose(front_line.get_ydata(), [53.76, 22.4, 11.2])
    assert "(ms)" in ax.get_xlabel()
    assert "µJ" in ax.get_ylabel()
    labels = ax.get_legend_handles_labels()[1]
    assert {"dataflow=os", "dataflow=ws", "Pareto front"} <= set(labels)
    sizes = sorted({float(s) for c in ax.collections[:2] for s in c.get_sizes()})
    assert sizes[0] < sizes[-1]  # marker area follows area_mm2
    fig.savefig(tmp_path / "pareto.png")
    assert (tmp_path / "pareto.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_refuses_what_it_cannot_draw():
    table = sweep_points()
    with pytest.raises(PlotError, match=r"needs column.*power_w"):
        pareto_plot(table, "latency", "power_w")
    with pytest.raises(
        PlotError, match=r"--color must be one of rows, dataflow, .*network, profile, seed; got cycles"
    ):
        pareto_plot(table, color="cycles")
    with pytest.raises(PlotError, match="finite"):
        pareto_plot(table.assign(energy_pj=np.inf))


def test_cli_plot_pareto(tmp_path):
    folder = tmp_path / "sweep"
    folder.mkdir()
    sweep_points().to_parquet(folder / "results.parquet")

    def plot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "accelsim.cli", "plot", "pareto", "sweep", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
        )

    done = plot("--x", "latency", "--y", "energy", "--size", "area", "--color", "dataflow", "--out", "p.png")
    assert done.returncode == 0, done.stderr
    assert Path(tmp_path / "p.png").stat().st_size > 1000
    bad = plot("--y", "power", "--out", "q.png")
    assert bad.returncode == 2
    assert "power" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert not (tmp_path / "q.png").exists()
