"""Checks every accelerator's result row must pass: the slot partition and the metrics of its timeline.

`check_layer_run` recomputes `imbalance`, `idle_fraction` and `stall_cycles` from the timeline with
pandas (independently of `accelsim.engine.timeline`) and checks the slot partition against it.
"""

from __future__ import annotations

import pandas as pd

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
    """The invariants of one (result, timeline) pair of a batch-1 run."""
    slots = result.slots
    assert all(getattr(slots, part) >= 0 for part in SLOT_PARTS)
    assert slots.total == result.multipliers * result.cycles
    assert result.multipliers % result.units == 0
    per_unit = result.multipliers // result.units
    # The timeline lists every unit and covers each one's [0, cycles) exactly once.
    assert set(timeline["unit"]) == set(range(result.units))
    length = (timeline["end"] - timeline["start"]).groupby(timeline["unit"]).sum()
    assert (length == result.cycles).all(), length[length != result.cycles]
    assert int(timeline["end"].max()) == result.cycles
    for _, rows in timeline.sort_values(["unit", "start"]).groupby("unit"):
        assert (rows["start"].to_numpy()[1:] == rows["end"].to_numpy()[:-1]).all()
    imbalance, idle, stall = timeline_metrics_by_hand(timeline, result.units, result.cycles)
    assert result.imbalance == imbalance
    assert abs(result.idle_fraction - idle) < 1e-12
    assert result.stall_cycles == stall
    stalled = int((timeline["end"] - timeline["start"])[timeline["state"].astype(str) == "stalled"].sum())
    assert slots.memory_stall == stalled * per_unit
