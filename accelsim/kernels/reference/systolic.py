"""Cycle-by-cycle model of one systolic-array fold, to hold the fast kernel honest.

Every PE has registers for the operand moving right (from the left edge), the operand moving down
(from the top edge) and, for WS / IS, the stationary operand preloaded one row per cycle. Inputs
enter skewed (row i is delayed by i cycles, column j by j). Padding tokens flow through unused PEs
exactly like data (SCALE-Sim streams null requests), so the fold ends when the last token has
passed PE (R-1, C-1). The model counts cycles and the MACs performed on valid operands.
"""

from __future__ import annotations

from dataclasses import dataclass

Token = tuple[int, bool] | None
"""(step, carries data) of an operand in a PE register; None is an empty register."""
Grid = list[list[Token]]

_PAD: Token = None  # a padding token: occupies a pipeline slot, performs no MAC


def _grid(rows: int, cols: int) -> Grid:
    return [[None] * cols for _ in range(rows)]


@dataclass(frozen=True)
class FoldRun:
    """What the reference observed for one fold."""

    cycles: int
    macs: int


def run_fold(dataflow: str, rows: int, cols: int, rows_used: int, cols_used: int, t: int) -> FoldRun:
    """Step one fold cycle by cycle: dataflow 'os', 'ws' or 'is'; t temporal steps."""
    if not (0 < rows_used <= rows and 0 < cols_used <= cols and t > 0):
        raise ValueError("need 0 < rows_used <= rows, 0 < cols_used <= cols and t > 0")
    if dataflow == "os":
        return _run_output_stationary(rows, cols, rows_used, cols_used, t)
    if dataflow in ("ws", "is"):
        return _run_preloaded(rows, cols, rows_used, cols_used, t)
    raise ValueError(f"unknown dataflow {dataflow!r}")


def _run_output_stationary(rows: int, cols: int, rows_used: int, cols_used: int, t: int) -> FoldRun:
    # Row i streams its output pixel's operands (k = 0..t-1) from the left, skewed by i cycles;
    # column j streams its filter's operands from the top, skewed by j. PE (i, j) accumulates.
    right, down = _grid(rows, cols), _grid(rows, cols)
    macs, cycle, last_active = 0, 0, -1
    while True:
        new_right, new_down = _grid(rows, cols), _grid(rows, cols)
        for i in range(rows):
            for j in range(cols):
                new_right[i][j] = right[i][j - 1] if j > 0 else _edge_token(cycle - i, t, i < rows_used)
                new_down[i][j] = down[i - 1][j] if i > 0 else _edge_token(cycle - j, t, j < cols_used)
        right, down = new_right, new_down
        active = False
        for i in range(rows):
            for j in range(cols):
                a, b = right[i][j], down[i][j]
                if a is not None or b is not None:
                    active = True
                if a is not None and b is not None:
                    if a[0] != b[0]:
                        raise AssertionError("skew broken: operands of different steps met")
                    macs += a[1] and b[1]
        if active:
            last_active = cycle
        elif last_active >= 0:
            return FoldRun(cycles=last_active + 1, macs=macs)
        cycle += 1


def _run_preloaded(rows: int, cols: int, rows_used: int, cols_used: int, t: int) -> FoldRun:
    # Preload: the stationary operand shifts in from the top, one array row per cycle (rows cycles).
    stationary: list[list[bool | None]] = [[None] * cols for _ in range(rows)]
    cycle = 0
    for _ in range(rows):
        for i in range(rows - 1, 0, -1):
            stationary[i] = stationary[i - 1]
        stationary[0] = [j < cols_used for j in range(cols)]  # rows enter bottom-first
        cycle += 1
    for i in range(rows):
        if stationary[i] is None:
            raise AssertionError("preload incomplete")
        stationary[i] = [bool(x) and (rows - 1 - i) < rows_used for x in stationary[i]]
    # Stream: step s of row i enters the left edge at cycle rows + s + i and moves right; the partial
    # sum of step s in column j moves down and leaves the bottom row.
    right = _grid(rows, cols)
    macs, last_active = 0, cycle - 1
    start = cycle
    while True:
        new_right = _grid(rows, cols)
        for i in range(rows):
            for j in range(cols):
                new_right[i][j] = right[i][j - 1] if j > 0 else _edge_token(cycle - start - i, t, True)
        right = new_right
        active = False
        for i in range(rows):
            for j in range(cols):
                token = right[i][j]
                if token is not None:
                    active = True
                    macs += bool(stationary[i][j]) and token[1]
        if active:
            last_active = cycle
        elif last_active >= start:
            return FoldRun(cycles=last_active + 1, macs=macs)
        cycle += 1


def _edge_token(step: int, t: int, valid: bool) -> Token:
    """The token entering an edge register: step number and whether it carries data."""
    if 0 <= step < t:
        return (step, valid)
    return _PAD
