"""Trade-off plots of a sweep: one metric against another per point, the Pareto front marked.

A point dominates another when it is no worse in both metrics and better in one (both are minimised:
latency, energy, area, cycles). `pareto_front` finds the non-dominated points by one sort; the test
suite holds it equal to the pairwise definition (`pareto_front_pairwise`) on random tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from accelsim.plots.figure import PlotError, energy_unit, new_figure, ordered_unique, require_columns
from accelsim.plots.sweep_plot import aggregate_points, axis_columns, summed_columns

IDS = ("accelerator", "network", "profile", "seed")
"""Columns besides the sweep axes that tell points apart and may colour them."""

METRIC_ALIASES = {"latency": "latency_s", "energy": "energy_pj", "area": "area_mm2"}
"""Short names `plot pareto` accepts for a point's columns (any other column is used by its name)."""


def pareto_front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Boolean mask of the points no other point dominates (both coordinates minimised).

    Sorted by x then y, a point is on the front when its y is below every y seen before it; equal
    points are all kept (none is better than the other).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of one length, got {x.shape} and {y.shape}")
    order = np.lexsort((y, x))
    front = np.zeros(x.size, dtype=bool)
    best_y = np.inf
    best_x = np.nan
    for i in order:
        if y[i] < best_y:
            front[i] = True
            best_y, best_x = y[i], x[i]
        elif y[i] == best_y and x[i] == best_x:
            front[i] = True  # the same point as the last one on the front
    return front


def pareto_front_pairwise(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The definition, point against point: kept unless another is <= in both and < in one."""
    n = len(x)
    return np.array(
        [
            not any(
                x[j] <= x[i] and y[j] <= y[i] and (x[j] < x[i] or y[j] < y[i]) for j in range(n) if j != i
            )
            for i in range(n)
        ],
        dtype=bool,
    )


def _column(name: str) -> str:
    return METRIC_ALIASES.get(name, name)


def _scaled(values: pd.Series, column: str) -> tuple[pd.Series, str]:
    """Values in a readable unit and the axis label."""
    if column.startswith("energy") and column.endswith("_pj"):
        unit, scale = energy_unit(float(values.abs().max()))
        return values / scale, f"{column.removesuffix('_pj')} ({unit})"
    if column.endswith("_s"):
        return values * 1e3, f"{column.removesuffix('_s')} (ms)"
    if column.endswith("_mm2"):
        return values, f"{column.removesuffix('_mm2')} (mm²)"
    return values, column


def pareto_plot(
    results: pd.DataFrame,
    x: str = "latency",
    y: str = "energy",
    *,
    size: str | None = None,
    color: str | None = None,
    title: str | None = None,
) -> Figure:
    """`y` against `x` for every point of a sweep (summed over its layers), the Pareto front of each
    network marked and joined; marker area follows `size`, colour the values of axis `color`.

    `x`, `y` and `size` are point columns or the short names latency, energy and area. Points that
    differ only in seed or profile are kept apart (each is a point of the trade-off).
    """
    points = aggregate_points(results)
    xc, yc = _column(x), _column(y)
    sc = _column(size) if size is not None else None
    needed = [xc, yc, *([sc] if sc else []), *([color] if color else [])]
    require_columns(points, needed, "pareto plot")
    colorable = [*axis_columns(results), *(c for c in IDS if c in results.columns)]
    if color is not None and color not in colorable:
        raise PlotError(f"pareto plot: --color must be one of {', '.join(colorable)}; got {color}")
    for col in (xc, yc, *([sc] if sc else [])):
        if not pd.api.types.is_numeric_dtype(points[col]) or not np.isfinite(points[col]).all():
            raise PlotError(f"pareto plot: column {col} must be finite numbers")
    fig = new_figure(7.5, 4.8)
    ax = fig.add_subplot()
    xs, xlabel = _scaled(points[xc], xc)
    ys, ylabel = _scaled(points[yc], yc)
    sizes = np.full(len(points), 36.0)
    if sc is not None:
        s = points[sc].to_numpy(dtype=float)
        sizes = 16 + 240 * (s - s.min()) / (s.max() - s.min()) if s.max() > s.min() else sizes
    if color is None:
        ax.scatter(xs, ys, s=sizes, color="#1f77b4", alpha=0.6, label="points")
    else:
        for value in ordered_unique(points[color]):
            rows = (points[color].astype(str) == value).to_numpy()
            ax.scatter(xs[rows], ys[rows], s=sizes[rows], alpha=0.7, label=f"{color}={value}")
    networks = ordered_unique(points["network"]) if "network" in points.columns else [""]
    for net in networks:
        rows = (points["network"].astype(str) == net).to_numpy() if net else np.ones(len(points), bool)
        front = np.flatnonzero(rows)[pareto_front(xs[rows].to_numpy(), ys[rows].to_numpy())]
        front = front[np.argsort(xs.to_numpy()[front], kind="stable")]
        label = "Pareto front" + (f" ({net})" if len(networks) > 1 else "")
        ax.step(xs.to_numpy()[front], ys.to_numpy()[front], where="post", color="k", lw=1, label=label)
        ax.scatter(xs.to_numpy()[front], ys.to_numpy()[front], s=90, facecolors="none", edgecolors="k")
    summed = summed_columns(results.columns)
    ax.set_xlabel(xlabel + (", sum over layers" if xc in summed else ""))
    ax.set_ylabel(ylabel + (", sum over layers" if yc in summed else ""))
    note = f"; marker area: {sc}" if sc else ""
    ax.set_title(title or f"{yc} vs {xc}: {', '.join(n for n in networks if n) or 'sweep'}{note}")
    ax.grid(alpha=0.3)
    legend = ax.legend(
        fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), title=f"marker area: {sc}" if sc else None
    )
    legend.get_title().set_fontsize(8)
    for handle in legend.legend_handles:  # one marker size in the legend: the points' sizes carry `size`
        if isinstance(handle, PathCollection):
            handle.set_sizes([36.0])
    return fig
