"""Checks every accelerator's result row must pass: the slot partition and the metrics of its timeline.

`check_layer_run` recomputes `imbalance`, `idle_fraction` and `stall_cycles` from the timeline with
pandas (independently of `accelsim.engine.timeline`) and checks the slot partition against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import pytest

from accelsim.report.schema import SLOT_PARTS, LayerResult


def timeline_metrics_by_hand(timeline: pd.DataFrame, units: int, cycles: int) -> tuple[float, float, int]:
    """(imbalance, idle_fraction, stall_cycles) straight from the definitions."""
    length = timeline["end"] - timeline["start"]
    per_state = length.groupby([timeline["unit"], timeline["state"].astype(str)]).sum().unstack(fill_value=0)
    per_state = per_state.reindex(index=range(units), fill_value=0)
    busy = per_state["busy"] if "busy" in per_state else pd.Series(0, index=per_state.index)
    stalled = per_state["stalled"] if "stalled" in per_state else pd.Series(0, index=per_state.index)
    imbalance = float(busy.max() / busy.mean()) if busy.mean() > 0 else 1.0
    idle = units * cycles - int(busy.sum()) - int(stalled.sum())
    covered: set[int] = set()
    for row in timeline[timeline["state"].astype(str) == "stalled"].itertuples():
        covered.update(range(int(row.start), int(row.end)))
    return imbalance, idle / (units * cycles) if cycles else 0.0, len(covered)


def check_layer_run(result: LayerResult, timeline: pd.DataFrame) -> None:
    """The invariants of one (result, timeline) pair: the row and the timeline cover the same batch."""
    assert result.slots.total == result.multipliers * result.cycles
    check_row(result.to_row(), timeline)


def check_row(row: Mapping[str, Any], timeline: pd.DataFrame) -> None:
    """The invariants of one result row (LAYER_COLUMNS) and its layer's timeline (of the same batch)."""
    parts = [int(row[f"slots_{part}"]) for part in SLOT_PARTS]
    assert all(p >= 0 for p in parts)
    cycles, units, multipliers = int(row["cycles"]), int(row["units"]), int(row["multipliers"])
    assert sum(parts) == int(row["slots_total"]) == multipliers * cycles
    assert multipliers % units == 0
    per_unit = multipliers // units
    # The timeline lists every unit and covers each one's [0, cycles) exactly once.
    assert set(timeline["unit"]) == set(range(units))
    length = (timeline["end"] - timeline["start"]).groupby(timeline["unit"]).sum()
    assert (length == cycles).all(), length[length != cycles]
    assert int(timeline["end"].max()) == cycles
    for _, rows in timeline.sort_values(["unit", "start"]).groupby("unit"):
        assert (rows["start"].to_numpy()[1:] == rows["end"].to_numpy()[:-1]).all()
    imbalance, idle, stall = timeline_metrics_by_hand(timeline, units, cycles)
    assert row["imbalance"] == pytest.approx(imbalance, rel=1e-12)
    assert row["idle_fraction"] == pytest.approx(idle, abs=1e-12)
    assert row["stall_cycles"] == stall
    stalled = int((timeline["end"] - timeline["start"])[timeline["state"].astype(str) == "stalled"].sum())
    assert int(row["slots_memory_stall"]) == stalled * per_unit
