"""Plots read tables and return Figures: known inputs give known bars, lines and patches."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

import accelsim
from accelsim.energy import ENERGY_COLUMNS
from accelsim.plots import (
    PlotError,
    aggregate_points,
    energy_breakdown,
    figure_for,
    load_balance,
    load_results,
    losses,
    speedup_bars,
    sweep_plot,
    unit_fractions,
    utilization_per_layer,
)
from accelsim.report.schema import SLOT_PARTS

ACCELS = ["a", "b", "c"]


def saved(fig: Figure, tmp_path: Path, name: str = "plot.png") -> Path:
    path = tmp_path / name
    fig.savefig(path)
    assert path.stat().st_size > 1000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def bars(ax) -> int:
    return sum(len(c) for c in ax.containers)


def layer_table(accels=ACCELS, layers=("l1", "l2", "l3", "l4"), network="net") -> pd.DataFrame:
    rows = []
    for i, accel in enumerate(accels):
        for j, layer in enumerate(layers):
            energy = {col: float(10 * (k + 1) + i + j) for k, col in enumerate(ENERGY_COLUMNS)}
            rows.append(
                {
                    "network": network,
                    "layer": layer,
                    "accelerator": accel,
                    "cycles": 100 * (j + 1),
                    "utilization": 0.5 + 0.1 * j,
                    "effectual_utilization": 0.4 + 0.1 * j,
                    **energy,
                }
            )
    return pd.DataFrame(rows)


def test_speedup_bars_one_bar_per_network_and_accelerator(tmp_path):
    table = pd.DataFrame(
        [{"network": n, "accelerator": a, "baseline": "a", "speedup": s}
         for n in ("n1", "n2") for a, s in zip(ACCELS, (1.0, 2.0, 0.5), strict=True)]
    )  # fmt: skip
    fig = speedup_bars(table)
    ax = fig.axes[0]
    assert bars(ax) == 6
    heights = sorted(round(p.get_height(), 6) for c in ax.containers for p in c)
    assert heights == [0.5, 0.5, 1.0, 1.0, 2.0, 2.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ACCELS
    assert "speedup" in ax.get_ylabel()
    saved(fig, tmp_path)


def test_energy_breakdown_per_layer_stacks_components(tmp_path):
    table = layer_table(accels=["a"])
    fig = energy_breakdown(table)
    ax = fig.axes[0]
    assert len(ax.patches) == 4 * len(ENERGY_COLUMNS)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["l1", "l2", "l3", "l4"]
    total_l1 = table.loc[0, list(ENERGY_COLUMNS)].sum()
    top = max(p.get_y() + p.get_height() for p in ax.patches if abs(p.get_x() + p.get_width() / 2) < 1e-9)
    assert total_l1 < 1e3  # below 1 nJ the axis stays in pJ
    assert top == pytest.approx(total_l1)
    assert ax.get_ylabel() == "energy (pJ)"
    saved(fig, tmp_path)


def test_energy_breakdown_per_accelerator_one_panel_per_network(tmp_path):
    table = pd.concat([layer_table(network="n1"), layer_table(network="n2")], ignore_index=True)
    fig = energy_breakdown(table)
    panels = [ax for ax in fig.axes if ax.patches]
    assert len(panels) == 2
    assert all(len(ax.patches) == len(ACCELS) * len(ENERGY_COLUMNS) for ax in panels)
    with pytest.raises(PlotError, match="one run"):
        energy_breakdown(table, by="layer")
    saved(fig, tmp_path)


def test_utilization_two_lines_per_accelerator(tmp_path):
    fig = utilization_per_layer(layer_table())
    ax = fig.axes[0]
    assert len(ax.lines) == 2 * len(ACCELS)
    assert list(ax.lines[0].get_ydata()) == pytest.approx([0.5, 0.6, 0.7, 0.8])
    assert list(ax.lines[1].get_ydata()) == pytest.approx([0.4, 0.5, 0.6, 0.7])
    with pytest.raises(PlotError, match="one network"):
        utilization_per_layer(pd.concat([layer_table(network="n1"), layer_table(network="n2")]))
    saved(fig, tmp_path)


TIMELINE = pd.DataFrame(
    [  # layer l1: unit 0 busy 0-6, stalled 6-10; unit 1 busy 0-5, idle after; layer l2: both busy 0-4
        ("net", "l1", 0, "busy", 0, 6),
        ("net", "l1", 0, "stalled", 6, 10),
        ("net", "l1", 1, "busy", 0, 5),
        ("net", "l2", 0, "busy", 0, 4),
        ("net", "l2", 1, "busy", 0, 4),
    ],
    columns=["network", "layer", "unit", "state", "start", "end"],
)


def test_unit_fractions_of_a_known_timeline():
    f = unit_fractions(TIMELINE).set_index(["layer", "unit"])
    assert f.loc[("l1", 0)].tolist() == pytest.approx([0.6, 0.4, 0.0])
    assert f.loc[("l1", 1)].tolist() == pytest.approx([0.5, 0.0, 0.5])
    assert f.loc[("l2", 1)].tolist() == pytest.approx([1.0, 0.0, 0.0])
    assert list(f.index.get_level_values("layer").unique()) == ["l1", "l2"]


def test_load_balance_heatmaps_and_timeline(tmp_path):
    fig = load_balance(TIMELINE)
    heatmaps = [ax for ax in fig.axes if ax.images]
    assert len(heatmaps) == 3
    assert heatmaps[0].images[0].get_array().shape == (2, 2)  # layers x units
    timeline_ax = next(
        ax for ax in fig.axes if ax.collections and not ax.images and ax.get_xlabel() == "cycle"
    )
    assert len(timeline_ax.collections) == 2 * 3  # units x (busy, stalled, idle)
    assert "l1" in timeline_ax.get_title()  # the layer with stalls and idle time is the default
    with pytest.raises(PlotError, match="not in the timeline"):
        load_balance(TIMELINE, layer="nope")
    saved(fig, tmp_path)


def sweep_table() -> pd.DataFrame:
    rows = []
    for flow in ("os", "ws"):
        for n in (8, 16, 32):
            for layer, share in (("l1", 1), ("l2", 2)):
                rows.append(
                    {
                        "point_id": f"{flow}{n}",
                        "rows": n,
                        "cols": n,
                        "dataflow": flow,
                        "network": "net",
                        "profile": "dense",
                        "seed": 0,
                        "layer": layer,
                        "cycles": share * 1000 // n,
                        "macs_issued": 10,
                        "multipliers": n * n,
                        "energy_pj": 5.0,
                    }
                )
    return pd.DataFrame(rows)


def test_sweep_plot_one_line_per_series_with_summed_cycles(tmp_path):
    table = sweep_table()
    points = aggregate_points(table)
    assert len(points) == 6
    assert points.set_index("point_id").loc["os8", "cycles"] == 125 + 250
    fig = sweep_plot(table, "rows", series="dataflow")
    ax = fig.axes[0]
    assert len(ax.lines) == 2
    assert list(ax.lines[0].get_xdata()) == [8, 16, 32]
    assert list(ax.lines[0].get_ydata()) == [375, 187, 93]
    with pytest.raises(PlotError, match="dataflow"):
        sweep_plot(table, "rows")  # dataflow varies at equal rows: averaging would hide it
    with pytest.raises(PlotError, match="axis columns"):
        sweep_plot(table)
    saved(fig, tmp_path)


def test_plot_kinds_from_written_results(tmp_path):
    run = accelsim.simulate("systolic_ws_32x32", "alexnet")
    run.write(tmp_path / "run")
    loaded = load_results(tmp_path / "run")
    assert loaded.layers is not None
    assert loaded.timeline is not None
    assert loaded.network is None
    assert load_results(tmp_path / "run" / "timeline.parquet").timeline is not None
    for kind in ("energy", "utilization", "load-balance", "losses"):
        saved(figure_for(kind, [loaded]), tmp_path, f"{kind}.png")
    with pytest.raises(PlotError, match="accelsim compare"):
        figure_for("speedup", [loaded])
    with pytest.raises(PlotError, match="not a results folder"):
        load_results(tmp_path)
    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    sweep_table().to_parquet(sweep_dir / "results.parquet")
    saved(figure_for("sweep", [load_results(sweep_dir)], x="rows", series="dataflow"), tmp_path, "sweep.png")


def slot_table(accels=ACCELS, layers=("l1", "l2"), multipliers=(64, 64, 64)) -> pd.DataFrame:
    rows = []
    for i, (accel, mult) in enumerate(zip(accels, multipliers, strict=True)):
        for j, layer in enumerate(layers):
            parts = {f"slots_{p}": (k + 1) * 10 * (i + 1) * (j + 1) for k, p in enumerate(SLOT_PARTS)}
            total = sum(parts.values())
            rows.append(
                {
                    "network": "net",
                    "layer": layer,
                    "accelerator": accel,
                    "multipliers": mult,
                    "cycles": total / mult,
                    "slots_total": total,
                    **parts,
                }
            )
    return pd.DataFrame(rows)


def stacked_heights(fig: Figure) -> list[float]:
    """Top of each bar stack (the last part's bars), left to right."""
    ax = fig.axes[0]
    tops = [rect.get_y() + rect.get_height() for rect in ax.containers[-1]]
    return [round(t, 9) for t in tops]


def test_losses_per_accelerator_in_cycles_at_iso_multipliers(tmp_path):
    table = slot_table()
    fig = losses(table)
    assert len(fig.axes[0].containers) == len(SLOT_PARTS)  # one stacked series per part
    expected = table.groupby("accelerator", sort=False)["slots_total"].sum() / 64
    assert stacked_heights(fig) == pytest.approx(list(expected))
    assert "cycles" in fig.axes[0].get_ylabel()
    saved(fig, tmp_path)


def test_losses_in_shares_when_multipliers_differ_and_per_layer(tmp_path):
    fig = losses(slot_table(multipliers=(64, 128, 256)))
    assert stacked_heights(fig) == pytest.approx([1.0, 1.0, 1.0])
    assert "share" in fig.axes[0].get_ylabel()
    one = slot_table(accels=["a"], multipliers=(64,))
    per_layer = losses(one)
    assert stacked_heights(per_layer) == pytest.approx(list(one["slots_total"] / 64))
    assert [t.get_text() for t in per_layer.axes[0].get_xticklabels()] == ["l1", "l2"]
    with pytest.raises(PlotError, match="slots_total"):
        losses(layer_table())
    saved(per_layer, tmp_path)


def test_losses_marks_an_accelerator_that_ran_fewer_layers():
    table = slot_table(layers=("l1",)).assign(layers=[2, 1, 2], network_layers=2)
    labels = [t.get_text() for t in losses(table, by="accelerator").axes[0].get_xticklabels()]
    assert labels == ["a", "b\n(1/2 layers)", "c"]
    speed = speedup_bars(table.assign(speedup=[1.0, 2.0, 3.0]))
    assert [t.get_text() for t in speed.axes[0].get_legend().get_texts()] == ["a", "b (1/2 layers)", "c"]


def test_losses_per_sweep_point_sums_layers_and_labels_axes(tmp_path):
    table = pd.concat(
        [
            slot_table(accels=["a"], multipliers=(64,)).assign(point_id=f"p{i}", rows=8 * (i + 1))
            for i in range(3)
        ],
        ignore_index=True,
    )
    table.loc[table["point_id"] == "p2", "multipliers"] = 128  # points differ: shares
    fig = losses(table)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["rows=8", "rows=16", "rows=24"]
    assert stacked_heights(fig) == pytest.approx([1.0, 1.0, 1.0])
    saved(fig, tmp_path)
