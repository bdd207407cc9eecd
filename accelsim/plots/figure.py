"""Shared plumbing of the plots: an Agg-backed Figure, column checks, energy units."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from accelsim.errors import AccelsimError

ENERGY_UNITS = (("pJ", 1.0), ("nJ", 1e3), ("µJ", 1e6), ("mJ", 1e9), ("J", 1e12))
"""Energy units from small to large, as (name, pJ per unit)."""

STATE_COLORS = {"busy": "#2ca02c", "stalled": "#d62728", "idle": "#c7c7c7"}
"""Colour of each unit state in load-balance plots."""


class PlotError(AccelsimError, ValueError):
    """A table lacks what a plot needs (columns, rows, a unique network)."""


def new_figure(width_in: float = 8.0, height_in: float = 4.5) -> Figure:
    """A Figure drawn by the Agg canvas, independent of pyplot's global state."""
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise PlotError naming the columns `what` needs that `df` lacks."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise PlotError(
            f"{what} needs column(s) {', '.join(missing)}; the table has {', '.join(map(str, df.columns))}"
        )
    if df.empty:
        raise PlotError(f"{what}: the table is empty")


def energy_unit(max_pj: float) -> tuple[str, float]:
    """The largest unit in which `max_pj` is at least 1 (pJ .. J), as (name, pJ per unit)."""
    chosen = ENERGY_UNITS[0]
    for unit in ENERGY_UNITS:
        if max_pj >= unit[1]:
            chosen = unit
    return chosen


def ordered_unique(values: Iterable[object]) -> list[str]:
    """Distinct values as strings, in order of first appearance."""
    return list(dict.fromkeys(str(v) for v in values))
