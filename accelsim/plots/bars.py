"""Bar and line charts of result tables: speedup, energy breakdown, utilization per layer."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from accelsim.plots.figure import PlotError, energy_unit, new_figure, ordered_unique, require_columns


def speedup_bars(network: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Grouped bars: one group per network, one bar per accelerator, speedup vs each group's baseline.

    `network`: comparison network tables (`Comparison.network`, comparison_network.csv), possibly
    of several networks concatenated; columns network, accelerator, speedup (baseline optional). An
    accelerator that ran fewer layers than the network has is marked in the legend (`13/16 layers`).
    """
    require_columns(network, ["network", "accelerator", "speedup"], "speedup_bars")
    networks = ordered_unique(network["network"])
    accels = ordered_unique(network["accelerator"])
    fig = new_figure(max(6.0, 1.2 + 0.55 * len(networks) * len(accels)), 4.5)
    ax = fig.add_subplot()
    width = 0.8 / len(accels)
    x = np.arange(len(networks))
    for i, accel in enumerate(accels):
        mine = network[network["accelerator"].astype(str) == accel]
        speed = {str(n): float(v) for n, v in zip(mine["network"], mine["speedup"], strict=True)}
        values = [speed.get(n, np.nan) for n in networks]
        label = accel + _partial_coverage(mine)
        bars = ax.bar(x + (i - (len(accels) - 1) / 2) * width, values, width, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_xticks(x, networks)
    ax.set_xlabel("network")
    ax.set_ylabel("speedup (baseline cycles / cycles)")
    baselines = ordered_unique(network["baseline"]) if "baseline" in network.columns else []
    ax.set_title(title or (f"Speedup vs {baselines[0]}" if len(baselines) == 1 else "Speedup vs baseline"))
    ax.margins(y=0.12)
    ax.legend(title="accelerator", fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def _partial_coverage(rows: pd.DataFrame) -> str:
    """' (13/16 layers)' for an accelerator that ran fewer layers than the network has, else ''."""
    if not {"layers", "network_layers"} <= set(rows.columns):
        return ""
    ran = rows["layers"].astype(int).tolist()
    of = rows["network_layers"].astype(int).tolist()
    partial = [f"{a}/{b}" for a, b in zip(ran, of, strict=True) if a < b]
    return f" ({', '.join(partial)} layers)" if partial else ""


def energy_breakdown(
    table: pd.DataFrame,
    *,
    by: Literal["auto", "accelerator", "layer"] = "auto",
    title: str | None = None,
) -> Figure:
    """Stacked energy_<component>_pj bars per accelerator, or per layer of one run.

    `table`: a per-layer table (RunResult.layers, Comparison.layers) or a network table; `by="auto"`
    draws per layer when the table has a `layer` column and a single accelerator, else per accelerator
    (summing its rows; a table of several networks gets one panel per network).
    """
    components = [c for c in table.columns if str(c).startswith("energy_") and str(c).endswith("_pj")]
    components = [c for c in components if c != "energy_pj"]
    if not components:
        raise PlotError("energy_breakdown needs energy_<component>_pj columns; the table has none")
    require_columns(table, ["accelerator"], "energy_breakdown")
    accels = ordered_unique(table["accelerator"])
    if by == "auto":
        by = "layer" if "layer" in table.columns and len(accels) == 1 else "accelerator"
    if by == "accelerator":
        return _energy_per_accelerator(table, components, title)
    require_columns(table, ["layer"], "energy_breakdown(by='layer')")
    if len(accels) > 1:
        raise PlotError(f"energy_breakdown(by='layer') draws one run; the table has {', '.join(accels)}")
    labels = [str(v) for v in table["layer"]]
    data = table[components].astype(float).to_numpy()
    unit, scale = energy_unit(float(data.sum(axis=1).max()))
    fig = new_figure(max(6.0, 1.5 + 0.45 * len(labels)), 4.8)
    ax = fig.add_subplot()
    _stack(ax, labels, data / scale, components, rotate=len(labels) > 6)
    ax.set_xlabel("layer")
    ax.set_ylabel(f"energy ({unit})")
    ax.set_title(title or f"Energy per layer: {accels[0]}")
    ax.legend(title="component", fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def _energy_per_accelerator(table: pd.DataFrame, components: list[str], title: str | None) -> Figure:
    """One panel per network (each with its own energy scale), one stacked bar per accelerator."""
    networks = ordered_unique(table["network"]) if "network" in table.columns else [""]
    accels = ordered_unique(table["accelerator"])
    fig = new_figure(max(6.0, 1.8 + len(networks) * (0.9 + 0.45 * len(accels))), 4.8)
    axes = fig.subplots(1, len(networks), squeeze=False)[0]
    for ax, net in zip(axes, networks, strict=True):
        rows = table if net == "" else table[table["network"].astype(str) == net]
        grouped = rows.groupby(rows["accelerator"].astype(str), sort=False)[components].sum()
        data = grouped.astype(float).to_numpy()
        unit, scale = energy_unit(float(data.sum(axis=1).max()))
        _stack(ax, [str(a) for a in grouped.index], data / scale, components, rotate=True)
        ax.set_ylabel(f"energy ({unit})")
        ax.set_title(net)
    fig.supxlabel("accelerator")
    fig.suptitle(title or "Energy breakdown per accelerator")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, title="component", fontsize=8, loc="outside right upper")
    return fig


def _stack(ax: Axes, labels: list[str], data: np.ndarray, components: list[str], *, rotate: bool) -> None:
    """Stacked bars, one column of `data` per component (already in the axis unit)."""
    x = np.arange(len(labels))
    bottom = np.zeros(len(labels))
    for j, col in enumerate(components):
        ax.bar(x, data[:, j], 0.7, bottom=bottom, label=str(col)[len("energy_") : -len("_pj")])
        bottom += data[:, j]
    ax.set_xticks(x, labels, rotation=30 if rotate else 0, ha="right" if rotate else "center")


def utilization_per_layer(layers: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Utilization (solid) and effectual utilization (dashed) per layer, one colour per accelerator.

    `layers`: per-layer rows of one network (RunResult.layers, Comparison.layers or several runs' layers).
    """
    require_columns(
        layers,
        ["network", "layer", "accelerator", "utilization", "effectual_utilization"],
        "utilization_per_layer",
    )
    networks = ordered_unique(layers["network"])
    if len(networks) > 1:
        raise PlotError(f"utilization_per_layer draws one network; the table has {', '.join(networks)}")
    order = ordered_unique(layers["layer"])
    fig = new_figure(max(7.0, 1.5 + 0.35 * len(order)), 4.8)
    ax = fig.add_subplot()
    for i, accel in enumerate(ordered_unique(layers["accelerator"])):
        mine = layers[layers["accelerator"].astype(str) == accel]
        rows = mine.set_index(mine["layer"].astype(str)).reindex(order)
        color = f"C{i % 10}"
        x = np.arange(len(order))
        ax.plot(x, rows["utilization"], marker="o", color=color, label=f"{accel} utilization")
        ax.plot(
            x,
            rows["effectual_utilization"],
            marker="x",
            linestyle="--",
            color=color,
            label=f"{accel} effectual",
        )
    ax.set_xticks(
        np.arange(len(order)),
        order,
        rotation=45 if len(order) > 6 else 0,
        ha="right" if len(order) > 6 else "center",
    )
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("layer")
    ax.set_ylabel("fraction of multiplier-cycles")
    ax.set_title(title or f"Utilization per layer: {networks[0]}")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def _tuples(index: pd.Index) -> list[tuple[object, ...]]:
    return [k if isinstance(k, tuple) else (k,) for k in index]
