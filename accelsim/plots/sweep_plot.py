"""A metric against one sweep axis, one line per value of a series column."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter, NullLocator

from accelsim.plots.figure import PlotError, energy_unit, new_figure, ordered_unique, require_columns
from accelsim.report.schema import LAYER_COLUMNS

SUMMED = ("cycles", "latency_s", "stall_cycles", "macs_dense", "macs_effectual", "macs_issued")
"""Per-layer columns a point's value is the sum of (plus energy_*, slots_* and *_bytes)."""

RESULT_COLUMNS = frozenset([*LAYER_COLUMNS, "profile", "seed", "point_id"])
"""Columns of a sweep table that are results or workload ids, not sweep axes."""


def summed_columns(columns: pd.Index) -> list[str]:
    """The columns of `columns` a point's value is the sum of over its layers."""
    extra = [c for c in columns if str(c).startswith(("energy_", "slots_")) or str(c).endswith("_bytes")]
    return [c for c in (*SUMMED, *extra) if c in columns]


def axis_columns(results: pd.DataFrame) -> list[str]:
    """Columns of a sweep table that are neither result columns nor ids: the swept axes."""
    return [
        str(c)
        for c in results.columns
        if c not in RESULT_COLUMNS and not str(c).startswith(("energy_", "slots_"))
    ]


def aggregate_points(results: pd.DataFrame) -> pd.DataFrame:
    """One row per point (point_id): summed cycles, energy and bytes; utilizations recomputed.

    `results`: a sweep's results.parquet, one row per (point, layer), axis values as columns.
    """
    require_columns(results, ["point_id", "cycles"], "aggregate_points")
    summed = summed_columns(results.columns)
    keep = [
        c for c in results.columns if c not in summed and c not in ("layer", "kind", "mapping", "fallback")
    ]
    first = results.groupby("point_id", sort=False)[[c for c in keep if c != "point_id"]].first()
    sums = results.groupby("point_id", sort=False)[summed].sum()
    out = first.join(sums)
    if {"macs_issued", "multipliers"} <= set(results.columns):
        denom = out["multipliers"].astype(float) * out["cycles"].astype(float)
        out["utilization"] = out["macs_issued"] / denom
        if "macs_effectual" in out.columns:
            out["effectual_utilization"] = out["macs_effectual"] / denom
    for col in ("imbalance", "idle_fraction"):
        if col in results.columns:  # cycle-weighted, as the network totals weigh them
            weighted = (results[col] * results["cycles"]).groupby(results["point_id"], sort=False).sum()
            out[col] = weighted / out["cycles"]
    return out.reset_index()


def sweep_plot(
    results: pd.DataFrame,
    x: str | None = None,
    *,
    metric: str = "cycles",
    series: str | None = None,
    title: str | None = None,
) -> Figure:
    """`metric` of each point against axis column `x`, one line per value of `series`.

    Points are aggregated over their layers first (`aggregate_points`). Points that share `x` and
    `series` (other seeds or profiles) are averaged; an axis column that varies among such points
    is an error, since averaging would hide it (one that follows `x`, like cols = rows, is fine).
    `x` defaults to the only axis column; `series` to `network` when the table holds several networks.
    """
    points = aggregate_points(results)
    axes = axis_columns(results)
    if x is None:
        if len(axes) != 1:
            raise PlotError(
                f"sweep_plot needs x (CLI: --x), one of the axis columns: {', '.join(axes) or '(none)'}"
            )
        x = axes[0]
    if series is None and "network" in points.columns and points["network"].nunique() > 1:
        series = "network"
    require_columns(points, [x, metric, *([series] if series else [])], "sweep_plot")
    keys = [x] if series is None else [series, x]
    grouped = points.groupby(keys, sort=False)
    hidden = [a for a in axes if a not in keys and int(grouped[a].nunique(dropna=False).max()) > 1]
    if hidden:
        raise PlotError(
            f"sweep_plot: axis column(s) {', '.join(hidden)} vary at equal {' and '.join(keys)}; "
            "pick one as series or filter the table first"
        )
    mean = points.groupby(keys, sort=True)[metric].mean().reset_index()
    name, scale, unit = metric, 1.0, ""
    if metric.startswith("energy_") and metric.endswith("_pj"):
        unit, scale = energy_unit(float(mean[metric].abs().max()))
        name, unit = metric.removesuffix("_pj"), f" ({unit})"
    elif metric.endswith("_s"):
        name, unit, scale = metric.removesuffix("_s"), " (ms)", 1e-3
    elif metric.endswith("_bytes"):
        name, unit, scale = metric.removesuffix("_bytes"), " (MB)", 1e6
    fig = new_figure(7.5, 4.5)
    ax = fig.add_subplot()
    groups = [(None, mean)] if series is None else list(mean.groupby(series, sort=True))
    for value, rows in groups:
        rows = rows.sort_values(x)
        label = metric if value is None else f"{series}=" + str(value)
        ax.plot(rows[x], rows[metric] / scale, marker="o", label=label)
    if pd.api.types.is_numeric_dtype(mean[x]):
        values = sorted(mean[x].unique())
        if np.all(mean[x] > 0) and mean[x].max() / mean[x].min() >= 16:
            ax.set_xscale("log", base=2)
        if len(values) <= 12:
            ax.set_xticks(values, [f"{v:g}" for v in values])
            ax.xaxis.set_minor_locator(NullLocator())
    if not unit:
        ax.yaxis.set_major_formatter(EngFormatter())
    ax.set_xlabel(x)
    ax.set_ylabel(
        f"{name}{unit}" + (", sum over layers" if metric in summed_columns(results.columns) else "")
    )
    networks = ordered_unique(points["network"]) if "network" in points.columns else []
    ax.set_title(title or f"{name} vs {x}" + (f": {networks[0]}" if len(networks) == 1 else ""))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig
