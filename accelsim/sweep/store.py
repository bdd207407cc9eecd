"""The result store of a sweep: one file per point, written atomically, so a sweep can resume.

Layout of a sweep folder DIR:

- `DIR/sweep.json`: the sweep's name, source and its points in order (ids, axis values, ...);
- `DIR/points/<id>.parquet`: one finished point: its per-layer rows plus point_id, the axis values,
  profile and seed; the run's provenance sits in the Parquet metadata (key `accelsim.provenance`);
- `DIR/points/<id>.error.json`: a point that failed (error type and message); retried on a rerun;
- `DIR/results.parquet`: every finished point of the sweep, one row per point and layer.

Points are keyed by content (see `accelsim.sweep.points`), so a point shared by two sweeps written to
the same folder runs once. Files appear whole or not at all: each is written to a `.part` file with a
unique name and moved into place with `os.replace`.
"""

from __future__ import annotations

import json
import os
import traceback
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from accelsim.report.schema import LAYER_COLUMNS

PROVENANCE_KEY = b"accelsim.provenance"
"""Parquet metadata key of a point file's provenance (JSON)."""

POINT_COLUMNS = ["point_id", "profile", "seed"]
"""Columns a point adds to the layer rows, besides its axis values (`network` is a layer column)."""


def points_dir(out_dir: Path) -> Path:
    """DIR/points."""
    return Path(out_dir) / "points"


def point_path(out_dir: Path, point_id: str) -> Path:
    """DIR/points/<id>.parquet."""
    return points_dir(out_dir) / f"{point_id}.parquet"


def error_path(out_dir: Path, point_id: str) -> Path:
    """DIR/points/<id>.error.json."""
    return points_dir(out_dir) / f"{point_id}.error.json"


def axis_column(axis: str) -> str:
    """The column of an axis: its dotted path, prefixed with 'axis.' where it would hide a result column."""
    return f"axis.{axis}" if axis in LAYER_COLUMNS or axis in POINT_COLUMNS else axis


def point_table(
    layers: pd.DataFrame, point_id: str, axes: dict[str, Any], profile: str, seed: int
) -> pd.DataFrame:
    """The layer rows of one point with its id, axis values, profile and seed in front."""
    n = len(layers)
    columns: dict[str, Any] = {"point_id": [point_id] * n}
    columns.update({axis_column(a): [v] * n for a, v in axes.items()})
    for col in layers.columns:
        columns[col] = layers[col].to_numpy()
        if col == "network":
            columns["profile"] = [profile] * n
            columns["seed"] = [seed] * n
    return pd.DataFrame(columns)


def write_point(out_dir: Path, table: pd.DataFrame, provenance: dict[str, Any]) -> Path:
    """Write one finished point atomically and drop an error file left by an earlier failed attempt."""
    point_id = str(table["point_id"].iloc[0])
    path = point_path(out_dir, point_id)
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    meta = {**(arrow.schema.metadata or {}), PROVENANCE_KEY: json.dumps(provenance, default=str).encode()}
    _atomic(path, lambda tmp: pq.write_table(arrow.replace_schema_metadata(meta), tmp))
    error_path(out_dir, point_id).unlink(missing_ok=True)
    return path


def write_error(out_dir: Path, point_id: str, error: BaseException) -> Path:
    """Record a failed point: error type, message and traceback."""
    path = error_path(out_dir, point_id)
    record = {
        "point_id": point_id,
        "type": type(error).__name__,
        "message": str(error),
        "traceback": "".join(traceback.format_exception(error)),
    }
    _atomic(path, lambda tmp: tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n"))
    return path


def read_error(out_dir: Path, point_id: str) -> dict[str, Any]:
    """The error record of a failed point."""
    data: dict[str, Any] = json.loads(error_path(out_dir, point_id).read_text())
    return data


def read_provenance(path: Path) -> dict[str, Any]:
    """The provenance stored in a point file's metadata."""
    meta = pq.read_schema(path).metadata or {}
    data: dict[str, Any] = json.loads(meta[PROVENANCE_KEY])
    return data


def finished(out_dir: Path) -> set[str]:
    """Ids of the points whose result file exists."""
    folder = points_dir(out_dir)
    if not folder.is_dir():
        return set()
    return {p.name.removesuffix(".parquet") for p in folder.glob("*.parquet")}


def failed(out_dir: Path) -> set[str]:
    """Ids of the points whose last attempt failed (and that have not finished since)."""
    folder = points_dir(out_dir)
    if not folder.is_dir():
        return set()
    return {p.name.removesuffix(".error.json") for p in folder.glob("*.error.json")} - finished(out_dir)


def remove_partial(out_dir: Path) -> int:
    """Delete `.part` files a killed sweep left behind; call only while no sweep writes to DIR."""
    folder = points_dir(out_dir)
    stale = list(folder.glob("*.part")) if folder.is_dir() else []
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale)


def write_manifest(out_dir: Path, manifest: dict[str, Any]) -> Path:
    """DIR/sweep.json: what the sweep is and its points in order (combine follows this order)."""
    path = Path(out_dir) / "sweep.json"
    text = json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n"
    _atomic(path, lambda tmp: tmp.write_text(text))
    return path


def combine(out_dir: Path, ids: Iterable[str] | None = None) -> Path:
    """Concatenate the finished points into DIR/results.parquet (one row per point and layer).

    `ids` (default: the points of DIR/sweep.json, else every point file by id) fixes the order;
    ids without a result file (failed points) are left out.
    """
    out_dir = Path(out_dir)
    if ids is None:
        manifest = out_dir / "sweep.json"
        if manifest.is_file():
            ids = [p["point_id"] for p in json.loads(manifest.read_text())["points"]]
        else:
            ids = sorted(finished(out_dir))
    done = finished(out_dir)
    frames = [pd.read_parquet(point_path(out_dir, i)) for i in ids if i in done]
    frames = [f for f in frames if len(f)]
    table = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["point_id", *LAYER_COLUMNS[:1], "profile", "seed", *LAYER_COLUMNS[1:]])
    )
    path = out_dir / "results.parquet"
    _atomic(path, lambda tmp: table.to_parquet(tmp, index=False))
    return path


def _atomic(path: Path, write: Any) -> None:
    """Call `write(tmp)` on a uniquely named `.part` file next to `path`, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
