"""Load balance: per-unit busy / stalled / idle fractions per layer, and one layer's unit timeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from accelsim.plots.figure import STATE_COLORS, PlotError, new_figure, ordered_unique, require_columns

STATES = ("busy", "stalled", "idle")

_MAX_ANNOTATED_CELLS = 120
"""Heatmaps with at most this many cells per panel print their values."""


def unit_fractions(timeline: pd.DataFrame) -> pd.DataFrame:
    """One row per (layer, unit): busy, stalled and idle fractions of the layer's span.

    The span of a layer is the end of its last interval; time a unit has no interval for is idle.
    """
    require_columns(timeline, ["layer", "unit", "state", "start", "end"], "load balance")
    tl = timeline.assign(length=timeline["end"] - timeline["start"])
    span = tl.groupby("layer", sort=False)["end"].max()
    cycles = tl.pivot_table(
        index=["layer", "unit"], columns="state", values="length", aggfunc="sum", fill_value=0
    )
    cycles = cycles.reindex(columns=list(STATES), fill_value=0)
    out = cycles.div(span.reindex(cycles.index.get_level_values("layer")).to_numpy(), axis=0)
    out["idle"] = (1.0 - out["busy"] - out["stalled"]).clip(lower=0.0)
    order = {name: i for i, name in enumerate(ordered_unique(timeline["layer"]))}
    out = out.reset_index()
    out["layer"] = out["layer"].astype(str)
    out["order"] = out["layer"].map(order)
    out = out.sort_values(["order", "unit"], kind="stable").reset_index(drop=True)
    return out[["layer", "unit", *STATES]]


_MAX_WIDTH_IN = 16.0
"""Widest figure in inches, however many units (a 1,024-unit array would otherwise be metres wide)."""
_MAX_TIMELINE_IN = 8.0
"""Tallest timeline panel in inches; beyond it units are thinner bars."""


def load_balance(timeline: pd.DataFrame, *, layer: str | None = None, title: str | None = None) -> Figure:
    """Heatmaps of busy / stalled / idle fraction (layer x unit) over a broken_barh timeline of one layer.

    `timeline`: a run's timeline table (network, layer, unit, state, start, end; RunResult.timeline or
    timeline.parquet). `layer`: the layer whose units are drawn over time; by default the layer with
    the largest stalled + idle fraction (the first layer if all are fully busy).
    """
    fractions = unit_fractions(timeline)
    layers = ordered_unique(fractions["layer"])
    units = sorted(int(u) for u in fractions["unit"].unique())
    if layer is None:
        waste = fractions.groupby("layer", sort=False)[["stalled", "idle"]].sum().sum(axis=1)
        layer = str(waste.idxmax()) if float(waste.max()) > 0 else layers[0]
    if layer not in layers:
        raise PlotError(f"layer {layer!r} is not in the timeline; layers: {', '.join(layers)}")

    width = min(_MAX_WIDTH_IN, max(8.0, 3.0 + 1.5 * len(units)))
    timeline_height = min(_MAX_TIMELINE_IN, max(1.2, 0.2 * len(units)))
    fig = new_figure(width, 3.0 + 0.28 * len(layers) + timeline_height)
    grid = fig.add_gridspec(2, 3, height_ratios=[max(2.0, 0.3 * len(layers)), timeline_height])
    annotate = len(layers) * len(units) <= _MAX_ANNOTATED_CELLS
    image = None
    heat_axes = []
    for col, state in enumerate(STATES):
        ax = fig.add_subplot(grid[0, col])
        heat_axes.append(ax)
        matrix = fractions.pivot(index="layer", columns="unit", values=state).reindex(
            index=layers, columns=units
        )
        image = ax.imshow(matrix.to_numpy(dtype=float), aspect="auto", vmin=0.0, vmax=1.0, cmap="viridis")
        ax.set_title(f"{state} fraction")
        ax.set_xticks(range(len(units)), [str(u) for u in units] if len(units) <= 16 else [""] * len(units))
        ax.set_xlabel("unit")
        ax.set_yticks(range(len(layers)), layers if col == 0 else [""] * len(layers), fontsize=7)
        if col == 0:
            ax.set_ylabel("layer")
        if annotate:
            for (i, j), value in np.ndenumerate(matrix.to_numpy(dtype=float)):
                ax.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if value < 0.6 else "black",
                )
    if image is not None:
        fig.colorbar(image, ax=heat_axes, shrink=0.8, label="fraction of the layer's cycles")

    ax = fig.add_subplot(grid[1, :])
    rows = timeline[timeline["layer"].astype(str) == layer]
    span = int(rows["end"].max())
    active = rows[rows["state"].isin(["busy", "stalled"])]
    by_unit = dict(iter(active.groupby("unit", sort=False)))  # numpy int keys equal Python ints
    for unit in units:
        mine = by_unit.get(unit, active.iloc[:0])
        for state, spans in _spans(mine, span).items():
            ax.broken_barh(spans, (unit - 0.4, 0.8), facecolors=STATE_COLORS[state])
    ax.set_xlim(0, span)
    ax.set_ylim(min(units) - 0.5, max(units) + 0.5)
    ax.set_yticks(units if len(units) <= 16 else [])
    ax.set_xlabel("cycle")
    ax.set_ylabel("unit")
    ax.set_title(f"timeline of {layer} ({span:,} cycles)")
    ax.legend(
        handles=[Patch(color=STATE_COLORS[s], label=s) for s in STATES],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=8,
    )
    networks = ordered_unique(timeline["network"]) if "network" in timeline.columns else []
    fig.suptitle(title or f"Load balance{': ' + networks[0] if len(networks) == 1 else ''}")
    return fig


def _spans(intervals: pd.DataFrame, span: int) -> dict[str, list[tuple[float, float]]]:
    """(start, length) per state of one unit's busy / stalled intervals, with the gaps as idle."""
    out: dict[str, list[tuple[float, float]]] = {state: [] for state in STATES}
    cursor = 0
    for start, end, state in sorted(
        zip(intervals["start"], intervals["end"], intervals["state"], strict=True)
    ):
        if start > cursor:
            out["idle"].append((float(cursor), float(start - cursor)))
        out[str(state)].append((float(start), float(end - start)))
        cursor = max(cursor, int(end))
    if span > cursor:
        out["idle"].append((float(cursor), float(span - cursor)))
    return out
