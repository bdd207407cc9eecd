"""Per-unit busy / stalled intervals recorded by the engine; idle time is what remains.

The layer metrics every result row carries are defined here, once, from a timeline table
(unit, state, start, end): `imbalance`, `idle_fraction` and `stall_cycles` (`timeline_metrics`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

STATES = ("busy", "stalled", "idle")


@dataclass
class Timeline:
    """Intervals [start, end) per unit and state, in cycles; a run's makespan closes it."""

    units: int
    _rows: list[tuple[int, int, int, int]] = field(default_factory=list)

    def record(self, unit: int, state: str, start: int, end: int) -> None:
        """Add one interval; empty intervals are dropped."""
        if end > start:
            self._rows.append((unit, STATES.index(state), start, end))

    def totals(self, makespan: int) -> np.ndarray:
        """int64[units, 3]: busy, stalled and idle cycles of each unit over [0, makespan)."""
        out = np.zeros((self.units, 3), dtype=np.int64)
        for unit, state, start, end in self._rows:
            out[unit, state] += end - start
        out[:, 2] = makespan - out[:, 0] - out[:, 1]
        return out

    def frame(self, makespan: int) -> pd.DataFrame:
        """The intervals as a table (unit, state, start, end), idle gaps included; every unit appears
        (a unit that never worked has one idle row over [0, makespan))."""
        rows = sorted(self._rows, key=lambda r: (r[0], r[2]))
        out: list[tuple[int, int, int, int]] = []
        cursor = dict.fromkeys(range(self.units), 0)
        for unit, state, start, end in rows:
            if start > cursor[unit]:
                out.append((unit, IDLE, cursor[unit], start))
            out.append((unit, state, start, end))
            cursor[unit] = max(cursor[unit], end)
        for unit, at in cursor.items():
            if makespan > at:
                out.append((unit, IDLE, at, makespan))
        table = np.array(out, dtype=np.int64).reshape(-1, 4)
        return timeline_frame(table[:, 0], table[:, 1], table[:, 2], table[:, 3])


STATE_DTYPE = pd.CategoricalDtype(list(STATES))
"""The dtype of a timeline's `state` column."""

BUSY, STALLED, IDLE = range(len(STATES))
"""State codes (indices into STATES)."""


def timeline_frame(unit: np.ndarray, state: np.ndarray, start: np.ndarray, end: np.ndarray) -> pd.DataFrame:
    """A timeline table from arrays of intervals (`state` holds codes into STATES): empty intervals are
    dropped and the rows put in unit, then time order."""
    unit = np.asarray(unit, dtype=np.int64)
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    state = np.asarray(state, dtype=np.int8)
    keep = end > start
    order = np.lexsort((start[keep], unit[keep]))
    return pd.DataFrame(
        {
            "unit": unit[keep][order],
            "state": pd.Categorical.from_codes(state[keep][order], dtype=STATE_DTYPE),
            "start": start[keep][order],
            "end": end[keep][order],
        }
    )


@dataclass(frozen=True)
class UnitActivity:
    """What each unit of a timeline did, from its intervals."""

    busy: np.ndarray
    """int64[units]: busy cycles of each unit."""
    stalled: np.ndarray
    """int64[units]: cycles each unit waited for data."""
    last: np.ndarray
    """int64[units]: end of each unit's last busy or stalled interval (0: the unit never worked)."""
    stall_cycles: int
    """Cycles in which at least one unit waited for data (the union of the stalled intervals)."""


def unit_activity(frame: pd.DataFrame, units: int) -> UnitActivity:
    """Busy and stalled cycles per unit, each unit's last activity and the stalled union of `frame`."""
    unit = frame["unit"].to_numpy(dtype=np.int64)
    if unit.size and (unit.min() < 0 or unit.max() >= units):
        raise ValueError(f"timeline names unit {int(unit.max())}, but there are {units} units")
    state = _state_codes(frame["state"])
    start = frame["start"].to_numpy(dtype=np.int64)
    end = frame["end"].to_numpy(dtype=np.int64)
    length = end - start
    busy = np.bincount(unit[state == 0], weights=length[state == 0], minlength=units).astype(np.int64)
    stalled = np.bincount(unit[state == 1], weights=length[state == 1], minlength=units).astype(np.int64)
    active = state < 2
    last = np.zeros(units, dtype=np.int64)
    np.maximum.at(last, unit[active], end[active])
    return UnitActivity(busy, stalled, last, union_length(start[state == 1], end[state == 1]))


def union_length(start: np.ndarray, end: np.ndarray) -> int:
    """Cycles covered by at least one of the intervals [start, end)."""
    if start.size == 0:
        return 0
    order = np.argsort(start, kind="stable")
    s, e = start[order], end[order]
    reach = np.maximum.accumulate(e)
    # A new run of overlapping intervals starts where an interval begins after every earlier one ended.
    new = np.concatenate([[True], s[1:] > reach[:-1]])
    run = np.cumsum(new) - 1
    run_start = s[new]
    run_end = np.zeros(run_start.size, dtype=np.int64)
    np.maximum.at(run_end, run, e)
    return int((run_end - run_start).sum())


@dataclass(frozen=True)
class TimelineMetrics:
    """The load-balance metrics of one layer, defined once for every accelerator."""

    imbalance: float
    """max over units of busy cycles / mean over units of busy cycles (1.0 when nothing ran)."""
    idle_fraction: float
    """idle unit-cycles / (units x layer cycles); idle = neither busy nor stalled."""
    stall_cycles: int
    """Cycles in which at least one unit waits for data."""


def timeline_metrics(frame: pd.DataFrame, units: int, cycles: int) -> TimelineMetrics:
    """The metrics of a timeline of `units` units over a layer of `cycles` cycles."""
    return activity_metrics(unit_activity(frame, units), cycles)


def activity_metrics(act: UnitActivity, cycles: int) -> TimelineMetrics:
    """The metrics of a layer of `cycles` cycles whose units did `act`."""
    units = act.busy.size
    mean = float(act.busy.mean()) if units else 0.0
    imbalance = float(act.busy.max()) / mean if mean > 0 else 1.0
    span = units * cycles
    idle = span - int(act.busy.sum()) - int(act.stalled.sum())
    return TimelineMetrics(imbalance, idle / span if span else 0.0, act.stall_cycles)


def _state_codes(state: pd.Series) -> np.ndarray:
    """0 busy, 1 stalled, 2 idle for every row."""
    if state.dtype == STATE_DTYPE:
        return state.cat.codes.to_numpy(dtype=np.int8)
    codes = pd.Categorical(state, categories=list(STATES)).codes
    if (codes < 0).any():
        raise ValueError(f"timeline states must be one of {STATES}")
    return np.asarray(codes, dtype=np.int8)
