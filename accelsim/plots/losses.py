"""Where the cycles went: stacked bars of the slot partition (one slot = one multiplier for one cycle).

Per accelerator (network totals of a comparison, or of several runs), per layer of one run, or per
point of a sweep. Bars are in cycles (slots / multipliers) when every bar has the same multiplier count,
so that at iso-multipliers the bars' heights are the accelerators' cycles and their effectual parts
nearly equal; otherwise in shares of each bar's slots.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from accelsim.plots.figure import PlotError, new_figure, ordered_unique, require_columns
from accelsim.plots.sweep_plot import aggregate_points, axis_columns
from accelsim.report.schema import SLOT_COLUMNS, SLOT_PARTS

PART_COLORS = {
    "effectual": "#2ca02c",
    "ineffectual": "#98df8a",
    "unmapped": "#7f7f7f",
    "packing": "#ff7f0e",
    "unit_idle": "#ffbb78",
    "imbalance": "#9467bd",
    "memory_stall": "#d62728",
    "fill_drain": "#1f77b4",
}
"""One colour per slot part, the same in every plot."""

_SLOT_PART_COLUMNS = [f"slots_{part}" for part in SLOT_PARTS]


def losses(
    table: pd.DataFrame,
    *,
    by: Literal["auto", "accelerator", "layer", "point"] = "auto",
    title: str | None = None,
) -> Figure:
    """Stacked bars of slots_<part> per accelerator, per layer of one run, or per sweep point.

    `table`: a comparison's network table, per-layer rows (a run, a comparison's layers) or a sweep's
    results. `by="auto"`: per point for a sweep table, per layer for one accelerator's layers, else
    per accelerator (network totals; one panel per network).
    """
    require_columns(table, ["accelerator", *SLOT_COLUMNS], "losses")
    if by == "auto":
        if "point_id" in table.columns:
            by = "point"
        elif "layer" in table.columns and len(ordered_unique(table["accelerator"])) == 1:
            by = "layer"
        else:
            by = "accelerator"
    if by == "point":
        return _per_point(table, title)
    if by == "layer":
        return _per_layer(table, title)
    return _per_accelerator(table, title)


def _per_accelerator(table: pd.DataFrame, title: str | None) -> Figure:
    networks = ordered_unique(table["network"]) if "network" in table.columns else [""]
    accels = ordered_unique(table["accelerator"])
    fig = new_figure(max(6.5, 2.2 + len(networks) * (0.9 + 0.55 * len(accels))), 5.0)
    axes = fig.subplots(1, len(networks), squeeze=False)[0]
    for ax, net in zip(axes, networks, strict=True):
        rows = table if net == "" else table[table["network"].astype(str) == net]
        names = rows["accelerator"].astype(str)
        sums = rows.groupby(names, sort=False)[[*SLOT_COLUMNS, "multipliers"]].agg(
            {**dict.fromkeys(SLOT_COLUMNS, "sum"), "multipliers": "first"}
        )
        labels = [_coverage_label(rows, str(a)) for a in sums.index]
        ylabel = _draw(ax, labels, sums, rotate=len(labels) > 3)
        ax.set_ylabel(ylabel)
        ax.set_title(net)
    fig.suptitle(title or "Where the cycles went, per accelerator")
    _legend(fig, axes[0])
    return fig


def _per_layer(table: pd.DataFrame, title: str | None) -> Figure:
    require_columns(table, ["layer"], "losses(by='layer')")
    accels = ordered_unique(table["accelerator"])
    if len(accels) > 1:
        raise PlotError(f"losses(by='layer') draws one run; the table has {', '.join(accels)}")
    rows = table.set_index(table["layer"].astype(str))
    fig = new_figure(max(6.5, 2.0 + 0.42 * len(rows)), 5.0)
    ax = fig.add_subplot()
    ylabel = _draw(ax, list(rows.index), rows, rotate=len(rows) > 6)
    ax.set_xlabel("layer")
    ax.set_ylabel(ylabel)
    ax.set_title(title or f"Where the cycles went, per layer: {accels[0]}")
    _legend(fig, ax)
    return fig


def _per_point(table: pd.DataFrame, title: str | None) -> Figure:
    points = aggregate_points(table)
    axes = axis_columns(table)
    group = [c for c in ("network", "profile") if c in points.columns and points[c].nunique() > 1]
    labels = [
        ", ".join(f"{c}={row[c]}" for c in (*axes, *group)) or str(row["point_id"])[:8]
        for _, row in points.iterrows()
    ]
    fig = new_figure(max(6.5, 2.0 + 0.5 * len(points)), 5.2)
    ax = fig.add_subplot()
    ylabel = _draw(ax, labels, points, rotate=True)
    ax.set_xlabel("sweep point")
    ax.set_ylabel(ylabel)
    ax.set_title(title or "Where the cycles went, per sweep point")
    _legend(fig, ax)
    return fig


def _draw(ax: Axes, labels: list[str], rows: pd.DataFrame, *, rotate: bool) -> str:
    """Stack the parts of each row; in cycles when the rows share one multiplier count, else shares."""
    slots = rows[_SLOT_PART_COLUMNS].astype(float).to_numpy()
    total = rows["slots_total"].astype(float).to_numpy()
    multipliers = rows["multipliers"].astype(float).to_numpy() if "multipliers" in rows else np.array([])
    if multipliers.size and np.all(multipliers == multipliers[0]):
        data = slots / multipliers[0]
        scale, unit = _cycle_unit(float(data.sum(axis=1).max()))
        data, ylabel = data / scale, f"cycles ({unit}; slots / {int(multipliers[0]):,} multipliers)"
    else:
        data, ylabel = slots / np.where(total > 0, total, 1.0)[:, None], "share of multiplier-cycles"
    x = np.arange(len(labels))
    bottom = np.zeros(len(labels))
    for j, part in enumerate(SLOT_PARTS):
        ax.bar(x, data[:, j], 0.7, bottom=bottom, color=PART_COLORS[part], label=part.replace("_", " "))
        bottom += data[:, j]
    ax.set_xticks(x, labels, rotation=30 if rotate else 0, ha="right" if rotate else "center")
    return ylabel


def _cycle_unit(largest: float) -> tuple[float, str]:
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if largest >= scale:
            return scale, unit
    return 1.0, "cycles"


def _coverage_label(rows: pd.DataFrame, accelerator: str) -> str:
    """The accelerator's name, with 'k/n layers' when it ran fewer than the network's layers."""
    if not {"layers", "network_layers"} <= set(rows.columns):
        return accelerator
    row = rows[rows["accelerator"].astype(str) == accelerator].iloc[0]
    ran, of = int(row["layers"]), int(row["network_layers"])
    return accelerator if ran == of else f"{accelerator}\n({ran}/{of} layers)"


def _legend(fig: Figure, ax: Axes) -> None:
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles[::-1], labels[::-1], title="slots", fontsize=8, loc="outside right center")
