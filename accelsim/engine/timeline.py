"""Per-unit busy / stalled intervals recorded by the engine; idle time is what remains."""

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
        """The intervals as a table (unit, state, start, end), idle gaps included."""
        rows = sorted(self._rows, key=lambda r: (r[0], r[2]))
        out: list[tuple[int, str, int, int]] = []
        cursor = dict.fromkeys(range(self.units), 0)
        for unit, state, start, end in rows:
            if start > cursor[unit]:
                out.append((unit, "idle", cursor[unit], start))
            out.append((unit, STATES[state], start, end))
            cursor[unit] = max(cursor[unit], end)
        for unit, at in cursor.items():
            if makespan > at:
                out.append((unit, "idle", at, makespan))
        return pd.DataFrame(out, columns=["unit", "state", "start", "end"])
