"""Read written results back as tables: a run folder, a comparison folder, a sweep, or one table file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from accelsim.plots.figure import PlotError
from accelsim.report.readers import READERS, read_json_file, read_table


@dataclass(frozen=True)
class ResultTables:
    """The tables found at a results path; absent ones are None."""

    source: Path
    layers: pd.DataFrame | None = None
    """Per-layer rows: a run's or a comparison's layers, or a sweep's results (a row per point and layer)."""
    network: pd.DataFrame | None = None
    """A comparison's network table (one row per accelerator)."""
    timeline: pd.DataFrame | None = None
    """A run's per-unit timeline."""
    runs: dict[str, Path] = field(default_factory=dict)
    """A comparison's accelerators -> their run folders, baseline first."""
    summary: dict[str, Any] = field(default_factory=dict)
    """A comparison's conditions (comparison.json)."""

    def run(self, accelerator: str | None = None) -> ResultTables:
        """The tables of one run of a comparison (the baseline's if `accelerator` is None)."""
        if not self.runs:
            if accelerator is not None:
                raise PlotError(f"{self.source} holds a single run; --accelerator applies to comparisons")
            return self
        name = accelerator or next(iter(self.runs))
        if name not in self.runs:
            raise PlotError(f"{self.source}: no run of {name!r}; accelerators: {', '.join(self.runs)}")
        return load_results(self.runs[name])


def load_results(path: str | Path) -> ResultTables:
    """Tables written by `accelsim run` / `compare` / `sweep` (a folder) or one .parquet/.csv/.json table."""
    path = Path(path)
    if path.is_dir():
        return _load_folder(path)
    if not path.is_file():
        raise PlotError(f"{path}: no such results folder or file")
    if path.suffix not in READERS:
        raise PlotError(f"{path}: unsupported table format; use one of {sorted(READERS)}")
    df = read_table(path)
    columns = set(df.columns)
    if {"unit", "state", "start", "end"} <= columns:
        return ResultTables(path, timeline=df)
    if "speedup" in columns and "layer" not in columns:
        return ResultTables(path, network=df)
    return ResultTables(path, layers=df)


def _load_folder(folder: Path) -> ResultTables:
    if (folder / "comparison_network.csv").is_file():
        summary = (
            read_json_file(folder / "comparison.json", "a comparison summary (JSON)")
            if (folder / "comparison.json").is_file()
            else {}
        )
        folders = summary.get("folders") or {
            p.name: p.name for p in sorted(folder.iterdir()) if (p / "layers.parquet").is_file()
        }
        return ResultTables(
            folder,
            layers=_read(folder / "comparison_layers.parquet"),
            network=read_table(folder / "comparison_network.csv"),
            runs={name: folder / sub for name, sub in folders.items()},
            summary=summary,
        )
    if (folder / "layers.parquet").is_file():
        timeline = folder / "timeline.parquet"
        return ResultTables(
            folder,
            layers=_read(folder / "layers.parquet"),
            timeline=_read(timeline) if timeline.is_file() else None,
        )
    if (folder / "results.parquet").is_file():
        return ResultTables(folder, layers=_read(folder / "results.parquet"))
    raise PlotError(
        f"{folder}: not a results folder (expected comparison_network.csv, layers.parquet or results.parquet)"
    )


def _read(path: Path) -> pd.DataFrame | None:
    return read_table(path) if path.is_file() else None
