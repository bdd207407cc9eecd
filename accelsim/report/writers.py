"""Writers that use a library, never string concatenation; every file is replaced atomically."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from accelsim.errors import ConfigError

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
    tmp = path.with_name(path.name + ".part")
    WRITERS[path.suffix](df, tmp)
    os.replace(tmp, path)


def write_json(data: dict[str, Any], path: Path) -> None:
    """Write a JSON document atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)
