"""The figure `accelsim plot KIND RESULTS...` draws: which tables each kind reads, and from where."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure

from accelsim.errors import UnknownNameError
from accelsim.plots.bars import energy_breakdown, speedup_bars, utilization_per_layer
from accelsim.plots.figure import PlotError
from accelsim.plots.load_balance import load_balance
from accelsim.plots.losses import losses
from accelsim.plots.pareto import pareto_plot
from accelsim.plots.results import ResultTables
from accelsim.plots.sweep_plot import sweep_plot

PLOT_KINDS = ("speedup", "energy", "utilization", "load-balance", "losses", "sweep", "pareto")
"""Kinds of `accelsim plot KIND`."""


def check_kind(kind: str) -> str:
    """`kind` if it is a plot kind, else UnknownNameError listing the kinds."""
    if kind not in PLOT_KINDS:
        raise UnknownNameError("plot kind", kind, list(PLOT_KINDS))
    return kind


def figure_for(
    kind: str,
    results: Sequence[ResultTables],
    *,
    accelerator: str | None = None,
    layer: str | None = None,
    x: str | None = None,
    series: str | None = None,
    metric: str = "cycles",
    y: str | None = None,
    size: str | None = None,
    color: str | None = None,
) -> Figure:
    """Draw plot `kind` from loaded results (several results are concatenated where that makes sense).

    speedup: comparison network tables (several networks side by side); energy: a comparison per
    accelerator, or one run per layer (`accelerator` picks a comparison's run); utilization: per-layer
    rows; load-balance: one run's timeline (`accelerator` picks a comparison's run, `layer` the
    timeline's layer); losses: the slot partition of a comparison per accelerator, of one run per
    layer (`accelerator` picks a comparison's run), or of a sweep per point; sweep: a sweep's results
    (`x`, `series`, `metric`).
    """
    check_kind(kind)
    if not results:
        raise PlotError("no results given")
    if kind == "speedup":
        return speedup_bars(
            _concat(results, "network", "a comparison (a folder written by `accelsim compare`)")
        )
    if kind == "energy":
        if accelerator is not None:
            return energy_breakdown(
                _concat([r.run(accelerator) for r in results], "layers", "a run"), by="layer"
            )
        if all(r.network is not None for r in results):
            return energy_breakdown(_concat(results, "network", "a comparison"), by="accelerator")
        return energy_breakdown(_concat(results, "layers", "a run or a comparison"))
    if kind == "utilization":
        return utilization_per_layer(_concat(results, "layers", "per-layer results"))
    if kind == "load-balance":
        if len(results) != 1:
            raise PlotError("load-balance draws one run; give one results folder")
        return load_balance(
            _concat([results[0].run(accelerator)], "timeline", "a run with timeline.parquet"), layer=layer
        )
    if kind == "losses":
        if accelerator is not None:
            return losses(_concat([r.run(accelerator) for r in results], "layers", "a run"), by="layer")
        if all(r.network is not None for r in results):
            return losses(_concat(results, "network", "a comparison"), by="accelerator")
        return losses(_concat(results, "layers", "a run, a comparison or a sweep"))
    table = _concat(results, "layers", "a sweep's results.parquet")
    if kind == "pareto":
        return pareto_plot(table, x or "latency", y or "energy", size=size, color=color)
    return sweep_plot(table, x, metric=metric, series=series)


def _concat(results: Sequence[ResultTables], table: str, needs: str) -> pd.DataFrame:
    frames = []
    for r in results:
        df = getattr(r, table)
        if df is None:
            raise PlotError(f"{r.source}: no {table} table here; this plot needs {needs}")
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
