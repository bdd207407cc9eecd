"""The result store of a sweep: one file per point, written atomically, so a sweep can resume.

Layout of a sweep folder DIR:

- `DIR/sweep.json`: the sweep's name, source and its points in order (ids, axis values, ...);
- `DIR/points/<id>.parquet`: one finished point: its per-layer rows plus point_id, the axis values,
  profile and seed; the run's provenance sits in the Parquet metadata (key `accelsim.provenance`);
- `DIR/points/<id>.error.json`: a point that failed (error type and message); retried on a rerun;
- `DIR/results.parquet`: every finished point of the sweep, one row per point and layer;
- `DIR/sweep.lock`: held while a sweep runs (`accelsim.sweep.lock`);
- `DIR/points/unreadable/`: point files that could not be read, moved aside (their points run again).

Points are keyed by content (see `accelsim.sweep.points`), so a point shared by two sweeps written to
the same folder runs once. Files appear whole or not at all: each is written into a temporary `.part`
folder with a unique name and moved into place (`accelsim.report.outputs.write_set`).
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from accelsim.errors import AccelsimError, ResultsError
from accelsim.report.outputs import remove_staging, write_set
from accelsim.report.readers import read_json_file
from accelsim.report.schema import LAYER_COLUMNS

PROVENANCE_KEY = b"accelsim.provenance"
"""Parquet metadata key of a point file's provenance (JSON)."""

POINT_COLUMNS = ["point_id", "profile", "seed"]
"""Columns a point adds to the layer rows, besides its axis values (`network` is a layer column)."""

MANIFEST_NAME = "sweep.json"
RESULTS_NAME = "results.parquet"
POINTS_NAME = "points"


class SweepMismatchError(AccelsimError):
    """The sweep folder holds another sweep (its sweep.json differs) and replacing it was not asked."""


def points_dir(out_dir: Path) -> Path:
    """DIR/points."""
    return Path(out_dir) / POINTS_NAME


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
    """The error record of a failed point (a placeholder record if the file cannot be read)."""
    try:
        data = read_json_file(error_path(out_dir, point_id), "a point's error record (JSON)")
    except ResultsError as e:
        return {"point_id": point_id, "type": "ResultsError", "message": str(e), "traceback": ""}
    return data if isinstance(data, dict) else {"point_id": point_id, "type": "?", "message": str(data)}


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
    """Delete `.part` files and folders a killed sweep left behind; call only while holding the lock."""
    return remove_staging(points_dir(out_dir)) + remove_staging(out_dir)


def set_aside_unreadable(out_dir: Path, ids: Iterable[str]) -> dict[str, str]:
    """Move point files of `ids` that cannot be read to DIR/points/unreadable/, so their points run
    again; returns point id -> why it could not be read. Call only while holding the lock."""
    moved: dict[str, str] = {}
    done = finished(out_dir)
    for pid in ids:
        if pid not in done:
            continue
        path = point_path(out_dir, pid)
        try:
            pq.read_table(path)
        except Exception as e:  # a truncated or corrupt file: pyarrow's errors, or the OS's
            aside = points_dir(out_dir) / "unreadable" / f"{pid}.{time.strftime('%Y%m%dT%H%M%S')}.parquet"
            aside.parent.mkdir(exist_ok=True)
            path.replace(aside)
            moved[pid] = f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0]}"
    return moved


def check_manifest(out_dir: Path, manifest: dict[str, Any], force: bool = False) -> None:
    """Refuse (SweepMismatchError) to run a sweep into a folder that holds a different sweep.

    Two sweeps are the same when their names and their points (ids, in order) are equal. With
    `force`, the folder's sweep.json and results.parquet are replaced (finished point files stay and
    are reused where ids match).
    """
    path = Path(out_dir) / MANIFEST_NAME
    if force or not path.is_file():
        return
    how = "run it into another --out, or replace it with --force (finished points are kept)"
    try:
        old = read_json_file(path, "a sweep manifest (JSON)")
        old_ids = [str(p["point_id"]) for p in old["points"]]
        old_name = old.get("name")
    except (ResultsError, KeyError, TypeError, AttributeError) as e:
        raise SweepMismatchError(
            f"{out_dir} holds a sweep whose {MANIFEST_NAME} cannot be read ({e}); {how}"
        ) from None
    new_ids = [str(p["point_id"]) for p in manifest["points"]]
    new_name = manifest.get("name")
    if old_name == new_name and old_ids == new_ids:
        return
    if old_name != new_name or len(old_ids) != len(new_ids):
        differs = f"sweep {old_name!r} of {len(old_ids)} points; this spec is {new_name!r} of {len(new_ids)}"
    else:
        changed = sum(a != b for a, b in zip(old_ids, new_ids, strict=True))
        differs = f"sweep {old_name!r} whose points differ from this spec's ({changed} of {len(old_ids)})"
    where = f" (from {old['source']})" if isinstance(old.get("source"), str) else ""
    raise SweepMismatchError(f"{out_dir} holds another sweep: {differs}{where}; {how}")


def write_manifest(out_dir: Path, manifest: dict[str, Any]) -> Path:
    """DIR/sweep.json: what the sweep is and its points in order (combine follows this order)."""
    path = Path(out_dir) / MANIFEST_NAME
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
        manifest = out_dir / MANIFEST_NAME
        if manifest.is_file():
            ids = [p["point_id"] for p in read_json_file(manifest, "a sweep manifest (JSON)")["points"]]
        else:
            ids = sorted(finished(out_dir))
    done = finished(out_dir)
    frames = [_read_point(point_path(out_dir, i)) for i in ids if i in done]
    frames = [f for f in frames if len(f)]
    table = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["point_id", *LAYER_COLUMNS[:1], "profile", "seed", *LAYER_COLUMNS[1:]])
    )
    path = out_dir / RESULTS_NAME
    _atomic(path, lambda tmp: table.to_parquet(tmp, index=False))
    return path


def _read_point(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as e:  # corrupt since the run started: say which file, and how to recover
        raise ResultsError(
            f"{path}: point file cannot be read ({type(e).__name__}); rerun the sweep to recompute it"
        ) from None


def _atomic(path: Path, write: Callable[[Path], Any]) -> None:
    """Call `write(tmp)` on a file in a temporary folder next to `path`, then move it into place."""
    with write_set(path.parent) as tmp:
        write(tmp / path.name)
