"""Read results back: tables by suffix (Parquet, CSV, JSON) and JSON documents; a file that is not
what its name says is a ResultsError naming it, never a parser's traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from accelsim.config.text import read_text
from accelsim.errors import ConfigError, ResultsError

READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    ".parquet": pd.read_parquet,
    ".csv": pd.read_csv,
    ".json": pd.read_json,
}
"""Table readers by file suffix (the counterparts of `accelsim.report.writers.WRITERS`)."""


def read_table(path: str | Path) -> pd.DataFrame:
    """The table in `path` (.parquet, .csv or .json); ResultsError if it is missing or unreadable."""
    path = Path(path)
    if path.suffix not in READERS:
        raise ResultsError(f"{path}: unsupported table format; use one of {', '.join(sorted(READERS))}")
    if not path.is_file():
        raise ResultsError(f"{path}: file not found")
    try:
        return READERS[path.suffix](path)
    except Exception as e:  # pyarrow, pandas' parsers and the codecs each raise their own errors
        raise ResultsError(f"{path}: not a readable {path.suffix[1:]} table ({_first_line(e)})") from None


def read_json_file(path: str | Path, expected: str) -> Any:
    """The JSON document in `path`; ResultsError naming the file and `expected` if it is not one."""
    path = Path(path)
    try:
        text = read_text(path, expected)
    except ConfigError as e:
        raise ResultsError(str(e)) from None
    try:
        return json.loads(text)
    except ValueError as e:
        raise ResultsError(f"{path}: not valid JSON ({e}); expected {expected}") from None


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__
