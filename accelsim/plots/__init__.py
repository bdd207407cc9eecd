"""Plots of results: DataFrames (or result folders) in, matplotlib Figures out; never simulates.

Every function draws on a Figure with its own Agg canvas (no pyplot, no global backend switch), so
plots work the same in scripts, tests, CI and notebooks; save with `fig.savefig(path)`.
"""

from accelsim.plots.bars import energy_breakdown, speedup_bars, utilization_per_layer
from accelsim.plots.dispatch import PLOT_KINDS, check_kind, figure_for
from accelsim.plots.figure import PlotError
from accelsim.plots.load_balance import load_balance, unit_fractions
from accelsim.plots.losses import PART_COLORS, losses
from accelsim.plots.pareto import pareto_front, pareto_plot
from accelsim.plots.results import ResultTables, load_results
from accelsim.plots.sweep_plot import aggregate_points, sweep_plot

__all__ = [
    "PART_COLORS",
    "PLOT_KINDS",
    "PlotError",
    "ResultTables",
    "aggregate_points",
    "check_kind",
    "energy_breakdown",
    "figure_for",
    "load_balance",
    "load_results",
    "losses",
    "pareto_front",
    "pareto_plot",
    "speedup_bars",
    "sweep_plot",
    "unit_fractions",
    "utilization_per_layer",
]
