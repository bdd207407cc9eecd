"""Writers that use a library, never string concatenation; every file is replaced atomically."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from accelsim.errors import ConfigError
from accelsim.report.outputs import write_set

WRITERS: dict[str, Callable[[pd.DataFrame, Path], None]] = {
    ".csv": lambda df, p: df.to_csv(p, index=False),
    ".parquet": lambda df, p: df.to_parquet(p, index=False),
    ".json": lambda df, p: df.to_json(p, orient="records", indent=1),
}


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame as CSV, Parquet or JSON (by suffix) so that no reader sees half a file."""
    path = Path(path)
    if path.suffix not in WRITERS:
        raise ConfigError(f"{path}: unsupported table format; use one of {sorted(WRITERS)}")
    with write_set(path.parent) as tmp:
        WRITERS[path.suffix](df, tmp / path.name)


def write_json(data: dict[str, Any], path: Path) -> None:
    """Write a JSON document atomically; a non-finite number is an error (JSON has none)."""
    path = Path(path)
    text = json.dumps(data, indent=1, sort_keys=True, default=str, allow_nan=False) + "\n"
    with write_set(path.parent) as tmp:
        (tmp / path.name).write_text(text)
