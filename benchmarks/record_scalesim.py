"""Record SCALE-Sim 3.0.0's per-layer results as accelsim's dense-systolic parity data.

Writes ``tests/data/scalesim_parity.csv`` (one row per topology file, layer, array shape and
dataflow) and a provenance sidecar ``tests/data/scalesim_parity.json``. Run it with accelsim's
python; SCALE-Sim itself runs in its own venv (``benchmarks/peers/scalesim_peer.py``).

Modes (``--mode``):

``full``
    SCALE-Sim's real end-to-end run, the numbers it prints. Slow: its memory model loops in
    Python once per demand row. Layers are run cheapest first, a few per SCALE-Sim call, up to
    ``--max-layer-s`` estimated seconds each; ``--whole`` runs each topology file unmodified in
    one call instead (its total wall time goes to the sidecar).
``verify``
    Runs compute mode on every layer that has a full row and compares the two exactly.
``compute``
    SCALE-Sim's own compute classes without the memory simulation (exact in CALC bandwidth
    mode, see scalesim_peer). Refuses to run before ``verify`` has compared layers without a
    mismatch, unless ``--allow-unverified``.

The CSV is rewritten atomically after every SCALE-Sim call and the script skips work already
recorded, so an interrupted run resumes where it stopped. A key that has a full row never gets
a compute row.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import fnmatch
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.peers.scalesim_peer import (
    REQUIREMENTS_PATH,
    ScaleSimLayer,
    ScaleSimPeerError,
    ScaleSimResult,
    compute_skip_reason,
    demand_estimate,
    ensure_venv,
    run_scalesim_compute,
    run_scalesim_full,
    scalesim_layers,
    scalesim_version,
    venv_python,
    write_config,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The accelsim checkout this script belongs to."""

COLUMNS = [
    "topology",
    "layer_index",
    "layer_name",
    "ifmap_h",
    "ifmap_w",
    "filter_h",
    "filter_w",
    "channels",
    "num_filter",
    "stride",
    "array_rows",
    "array_cols",
    "dataflow",
    "mode",
    "compute_cycles",
    "stall_cycles",
    "total_cycles_incl_prefetch",
    "overall_util_pct",
    "mapping_eff_pct",
    "compute_util_pct",
    "wall_s",
    "input_type",
    "ofmap_h",
    "ofmap_w",
    "sram_ifmap_reads",
    "sram_filter_reads",
    "sram_ofmap_writes",
]
"""CSV columns, in order."""

COLUMN_DOCS = {
    "topology": "topology file: path inside the SCALE-Sim snapshot, or inside this repo",
    "layer_index": "0-based layer id as SCALE-Sim numbers it (after DP splitting)",
    "layer_name": "layer name as SCALE-Sim's loader returns it",
    "ifmap_h..stride": "layer as SCALE-Sim parsed it (GEMM: ifmap MxK, filter 1xK, C=1, N filters)",
    "array_rows, array_cols": "ArrayHeight, ArrayWidth",
    "dataflow": "os | ws | is",
    "mode": "full = SCALE-Sim run_scale end to end; compute = SCALE-Sim's compute classes only",
    "compute_cycles": "'Total Cycles' of COMPUTE_REPORT.csv (SCALE-Sim prints it as 'Compute cycles')",
    "stall_cycles": "full mode only (0 in CALC mode)",
    "total_cycles_incl_prefetch": "full mode only",
    "overall_util_pct": "num_compute*100/(compute_cycles*rows*cols), num_compute = ofmap px * K * window",
    "mapping_eff_pct": "mean over folds of the mapped fraction of the array, in %",
    "compute_util_pct": "mean over folds of SCALE-Sim's per-fold compute utilisation, in %",
    "wall_s": "full: seconds in SCALE-Sim's single_layer_sim.run; compute: seconds in compute mode",
    "input_type": "conv | gemm (SCALE-Sim -i gemm)",
    "ofmap_h, ofmap_w": "SCALE-Sim 3 output size: ceil((H - R + s) / s)",
    "sram_*": "SRAM requests counted by SCALE-Sim's compute engine (DETAILED_ACCESS_REPORT)",
}
"""One line per column (group) for the sidecar."""

COMPARED_FIELDS = (
    "compute_cycles",
    "overall_util_pct",
    "mapping_eff_pct",
    "compute_util_pct",
    "sram_ifmap_reads",
    "sram_filter_reads",
    "sram_ofmap_writes",
)
"""Fields that must be identical between full and compute mode."""

DEFAULT_SNAPSHOT_TOPOLOGIES = ["topologies/conv_nets/*.csv"]
"""Topology files recorded by default (paths inside the SCALE-Sim snapshot)."""

DEFAULT_SHAPES = "32x32,8x16,16x8"
"""Array shapes (rows x cols) recorded by default."""

# Calibrated on this repo's 2-core machine: SCALE-Sim's memory model costs ~this many seconds
# per demand-matrix element (rows x (array rows + 2 x array cols)) in full mode.
_FULL_S_PER_ELEMENT = 2.6e-6

Key = tuple[str, int, int, int, str]


@dataclass(frozen=True, slots=True)
class Topology:
    """A topology file to record: its label in the CSV, its file on disk and its format."""

    label: str
    path: Path
    gemm: bool


@dataclass(frozen=True, slots=True)
class Setup:
    """An array shape and dataflow, with the SCALE-Sim config file written for it."""

    rows: int
    cols: int
    dataflow: str
    config: Path

    @property
    def name(self) -> str:
        """E.g. ``32x32_ws``."""
        return f"{self.rows}x{self.cols}_{self.dataflow}"


def _now() -> str:
    """The current UTC time in ISO 8601."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _git(git_dir: Path, *args: str) -> str:
    """Output of ``git --git-dir=git_dir args``."""
    done = subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed in {git_dir}: {done.stderr.strip()}")
    return done.stdout


class Snapshot:
    """A SCALE-Sim repository (bare git dir or checkout) read at its HEAD commit."""

    def __init__(self, path: Path, scratch: Path) -> None:
        self.git_dir = path / ".git" if (path / ".git").exists() else path
        if not (self.git_dir / "HEAD").exists():
            raise SystemExit(f"{path}: not a git repository")
        self.commit = _git(self.git_dir, "rev-parse", "HEAD").strip()
        self.commit_date = _git(self.git_dir, "show", "-s", "--format=%cI", "HEAD").strip()
        self.files = _git(self.git_dir, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
        self.scratch = scratch / "snapshot"

    def glob(self, pattern: str) -> list[str]:
        """Paths in the snapshot that match a shell pattern."""
        return sorted(f for f in self.files if fnmatch.fnmatch(f, pattern))

    def extract(self, rel: str) -> Path:
        """Write file ``rel`` of the snapshot under the scratch dir and return its path."""
        out = self.scratch / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        blob = subprocess.run(
            ["git", f"--git-dir={self.git_dir}", "show", f"HEAD:{rel}"], capture_output=True, check=True
        ).stdout
        out.write_bytes(blob)
        return out


# ---------------------------------------------------------------------------------------------
# Persistent state: the CSV and its sidecar
# ---------------------------------------------------------------------------------------------


def _key(row: dict[str, Any]) -> Key:
    """The identity of a CSV row."""
    return (
        str(row["topology"]),
        int(row["layer_index"]),
        int(row["array_rows"]),
        int(row["array_cols"]),
        str(row["dataflow"]),
    )


def _key_text(key: Key) -> str:
    """A key as one string (JSON object keys)."""
    return f"{key[0]}|{key[1]}|{key[2]}x{key[3]}|{key[4]}"


def _cell(value: object) -> str:
    """A CSV cell: floats with full precision (repr), None as empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text)
    os.replace(tmp, path)


class Store:
    """The recorded rows (CSV) and the provenance sidecar (JSON), saved after every change."""

    def __init__(self, csv_path: Path) -> None:
        self.csv_path = csv_path
        self.json_path = csv_path.with_suffix(".json")
        self.rows: dict[Key, dict[str, str]] = {}
        if csv_path.exists():
            with csv_path.open(newline="") as handle:
                for row in csv.DictReader(handle):
                    self.rows[_key(row)] = {c: row.get(c, "") for c in COLUMNS}
        self.meta: dict[str, Any] = json.loads(self.json_path.read_text()) if self.json_path.exists() else {}
        self.meta.setdefault("invocations", [])
        self.meta.setdefault("whole_topology_runs", [])
        self.meta.setdefault("skipped", {})
        self.meta.setdefault("verification", {"compared": 0, "equal": 0, "keys": {}, "mismatches": []})

    def mode_of(self, key: Key) -> str | None:
        """``full``, ``compute`` or None for a key."""
        row = self.rows.get(key)
        return row["mode"] if row else None

    def put(self, topology: Topology, setup: Setup, result: ScaleSimResult, layer: ScaleSimLayer) -> None:
        """Add or replace the row of ``layer`` (as loaded from the topology file).

        A compute row never replaces a full one.
        """
        row = {column: _cell(value) for column, value in layer.items() if column in COLUMNS}
        row |= {
            "topology": topology.label,
            "array_rows": str(setup.rows),
            "array_cols": str(setup.cols),
            "dataflow": setup.dataflow,
            "input_type": "gemm" if topology.gemm else "conv",
        }
        for column in COLUMNS:
            if column not in row:
                row[column] = _cell(result.get(column))
        key = _key(row)
        if result["mode"] == "compute" and self.mode_of(key) == "full":
            return
        self.rows[key] = row
        self.meta["skipped"].pop(_key_text(key), None)

    def skip(self, key: Key, layer_name: str, mode: str, reason: str) -> None:
        """Record that a key was not recorded in ``mode`` and why."""
        self.meta["skipped"][_key_text(key)] = {"layer_name": layer_name, "mode": mode, "reason": reason}

    def save(self) -> None:
        """Write the CSV (sorted by key) and the sidecar, each atomically."""
        lines: list[str] = []

        class _Sink:
            def write(self, text: str) -> int:
                lines.append(text)
                return len(text)

        writer = csv.DictWriter(_Sink(), fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for key in sorted(self.rows):
            writer.writerow(self.rows[key])
        _atomic_write(self.csv_path, "".join(lines))
        counts: dict[str, int] = {}
        for row in self.rows.values():
            counts[row["mode"]] = counts.get(row["mode"], 0) + 1
        self.meta["row_counts"] = counts
        _atomic_write(self.json_path, json.dumps(self.meta, indent=1, sort_keys=False) + "\n")


# ---------------------------------------------------------------------------------------------
# Planning and running
# ---------------------------------------------------------------------------------------------


def _full_seconds(layer: ScaleSimLayer, setup: Setup) -> float:
    """Estimated seconds of SCALE-Sim's full run for one layer."""
    est = demand_estimate(layer, setup.rows, setup.cols, setup.dataflow)
    return est.demand_rows * (setup.rows + 2 * setup.cols) * _FULL_S_PER_ELEMENT


def _write_subtopology(topology: Topology, layers: Sequence[ScaleSimLayer], out: Path) -> None:
    """A topology file holding only ``layers``, in the format of ``topology``."""
    if topology.gemm:
        text = "Layer,M,N,K,\n" + "".join(
            f"{x['layer_name']},{x['ifmap_h']},{x['num_filter']},{x['ifmap_w']},\n" for x in layers
        )
    else:
        header = (
            "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,"
            " Channels, Num Filter, Strides,\n"
        )
        text = header + "".join(
            f"{x['layer_name']},{x['ifmap_h']},{x['ifmap_w']},{x['filter_h']},{x['filter_w']},"
            f"{x['channels']},{x['num_filter']},{x['stride']},\n"
            for x in layers
        )
    out.write_text(text)


def _chunks(layers: Sequence[ScaleSimLayer], setup: Setup, max_chunk_s: float) -> list[list[ScaleSimLayer]]:
    """Split layers (cheapest first) into SCALE-Sim calls of about ``max_chunk_s`` seconds."""
    chunks: list[list[ScaleSimLayer]] = []
    current: list[ScaleSimLayer] = []
    spent = 0.0
    for layer in sorted(layers, key=lambda x: _full_seconds(x, setup)):
        cost = _full_seconds(layer, setup)
        if current and spent + cost > max_chunk_s:
            chunks.append(current)
            current, spent = [], 0.0
        current.append(layer)
        spent += cost
    if current:
        chunks.append(current)
    return chunks


def _round_robin(groups: Iterable[list[Any]]) -> list[Any]:
    """Interleave lists: first items of each, then second items, and so on."""
    pending = [list(g) for g in groups]
    out: list[Any] = []
    while any(pending):
        for group in pending:
            if group:
                out.append(group.pop(0))
    return out


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a recording pass needs."""

    python: Path
    store: Store
    topologies: list[Topology]
    layers: dict[str, list[ScaleSimLayer]]
    setups: list[Setup]
    scratch: Path
    deadline: float
    args: argparse.Namespace


def _out_of_time(ctx: Context) -> bool:
    """True once the wall-time budget is spent."""
    return time.monotonic() > ctx.deadline


def record_full(ctx: Context) -> None:
    """Full-mode pass: run SCALE-Sim end to end, cheapest layers first, round robin."""
    jobs: list[list[tuple[Topology, Setup, list[ScaleSimLayer]]]] = []
    for topology in ctx.topologies:
        all_layers = ctx.layers[topology.label]
        for setup in ctx.setups:
            todo = [
                x
                for x in all_layers
                if ctx.store.mode_of(
                    (topology.label, x["layer_index"], setup.rows, setup.cols, setup.dataflow)
                )
                != "full"
            ]
            if ctx.args.whole:
                if todo:
                    jobs.append([(topology, setup, list(all_layers))])
                continue
            todo = [x for x in todo if _full_seconds(x, setup) <= ctx.args.max_layer_s]
            jobs.append([(topology, setup, c) for c in _chunks(todo, setup, ctx.args.max_chunk_s)])
    queue = _round_robin(jobs)
    print(f"full mode: {len(queue)} SCALE-Sim calls planned", flush=True)
    for n, (topology, setup, layers) in enumerate(queue, 1):
        if _out_of_time(ctx):
            print("full mode: time budget spent, stopping", flush=True)
            return
        guess = sum(_full_seconds(x, setup) for x in layers)
        names = ",".join(str(x["layer_index"]) for x in layers)
        print(f"[{n}/{len(queue)}] {topology.label} {setup.name} layers {names} (~{guess:.0f} s)", flush=True)
        layers = sorted(layers, key=lambda x: x["layer_index"])  # SCALE-Sim runs them in file order
        whole = len(layers) == len(ctx.layers[topology.label])
        work = Path(tempfile.mkdtemp(prefix="full-", dir=ctx.scratch))
        try:
            if whole:
                topo_file = topology.path
            else:
                topo_file = work / "topology.csv"
                _write_subtopology(topology, layers, topo_file)
            try:
                run = run_scalesim_full(ctx.python, setup.config, topo_file, work, gemm=topology.gemm)
            except ScaleSimPeerError as exc:
                print(f"  failed: {exc}", flush=True)
                for x in layers:
                    key = (topology.label, x["layer_index"], setup.rows, setup.cols, setup.dataflow)
                    ctx.store.skip(key, x["layer_name"], "full", f"SCALE-Sim failed: {str(exc)[-300:]}")
                ctx.store.save()
                continue
        finally:
            shutil.rmtree(work, ignore_errors=True)
        for layer, result in zip(layers, run.results, strict=True):
            ctx.store.put(topology, setup, result, layer)
        if whole:
            ctx.store.meta["whole_topology_runs"].append(
                {
                    "topology": topology.label,
                    "setup": setup.name,
                    "layers": len(layers),
                    "wall_s": run.wall_s,
                    "sum_layer_wall_s": sum(r["wall_s"] for r in run.results),
                    "date": _now(),
                    "note": "wall_s: scalesim(...) construction + run_scale (reports included)",
                }
            )
        ctx.store.save()
        print(f"  done in {run.wall_s:.1f} s", flush=True)


def _compare(full: dict[str, str], comp: ScaleSimResult) -> list[str]:
    """Fields on which a full row and a compute result differ (exact comparison)."""
    values: dict[str, object] = dict(comp)
    diffs = []
    for field in COMPARED_FIELDS:
        if full[field] != _cell(values[field]):
            diffs.append(f"{field}: full {full[field]} != compute {_cell(values[field])}")
    if full["stall_cycles"] not in ("", "0"):
        diffs.append(f"stall_cycles: full {full['stall_cycles']} != 0")
    return diffs


def record_compute(ctx: Context, verify_only: bool) -> None:
    """Compute-mode pass; with ``verify_only``, only layers that have a full row, compared."""
    ver = ctx.store.meta["verification"]
    unverified = ver["compared"] == 0 or bool(ver["mismatches"])
    if not verify_only and not ctx.args.allow_unverified and unverified:
        raise SystemExit(
            f"compute mode refused: verification compared {ver['compared']} layers with"
            f" {len(ver['mismatches'])} mismatches; run --mode verify first (or --allow-unverified)"
        )
    max_demand = int(ctx.args.max_demand_gib * 2**30)
    max_copy = int(ctx.args.max_copy_gib * 2**30)
    groups: list[list[tuple[Topology, Setup, list[ScaleSimLayer]]]] = []
    for topology in ctx.topologies:
        for setup in ctx.setups:
            pending: list[ScaleSimLayer] = []
            for x in ctx.layers[topology.label]:
                key = (topology.label, x["layer_index"], setup.rows, setup.cols, setup.dataflow)
                mode = ctx.store.mode_of(key)
                if verify_only:
                    if mode == "full" and _key_text(key) not in ver["keys"]:
                        pending.append(x)
                elif mode is None:
                    est = demand_estimate(x, setup.rows, setup.cols, setup.dataflow)
                    reason = compute_skip_reason(est, max_demand, max_copy)
                    if reason:
                        ctx.store.skip(key, x["layer_name"], "compute", reason)
                    else:
                        pending.append(x)
            pending.sort(key=lambda x: _compute_seconds(x, setup))
            size = ctx.args.compute_batch
            groups.append([(topology, setup, pending[i : i + size]) for i in range(0, len(pending), size)])
    for topology, setup, batch in _round_robin(groups):
        if _out_of_time(ctx):
            print("compute mode: time budget spent, stopping", flush=True)
            break
        _compute_batch(ctx, topology, setup, batch, verify_only)
    if not verify_only:
        for topology in ctx.topologies:
            for setup in ctx.setups:
                for x in ctx.layers[topology.label]:
                    key = (topology.label, x["layer_index"], setup.rows, setup.cols, setup.dataflow)
                    if ctx.store.mode_of(key) is None and _key_text(key) not in ctx.store.meta["skipped"]:
                        ctx.store.skip(key, x["layer_name"], "compute", "not run: --budget-min reached")
        ctx.store.save()


def _compute_seconds(layer: ScaleSimLayer, setup: Setup) -> float:
    """Rough seconds of compute mode for one layer (ordering only)."""
    est = demand_estimate(layer, setup.rows, setup.cols, setup.dataflow)
    return est.copy_bytes / 8e9 + est.demand_bytes / 0.5e9


def _compute_batch(
    ctx: Context, topology: Topology, setup: Setup, batch: list[ScaleSimLayer], verify_only: bool
) -> None:
    """Run compute mode on some layers of one topology and one setup; store or compare."""
    names = ",".join(str(x["layer_index"]) for x in batch)
    print(
        f"{'verify' if verify_only else 'compute'} {topology.label} {setup.name} layers {names}", flush=True
    )
    work = Path(tempfile.mkdtemp(prefix="compute-", dir=ctx.scratch))
    start = time.monotonic()
    try:
        run = run_scalesim_compute(
            ctx.python,
            setup.config,
            topology.path,
            work,
            gemm=topology.gemm,
            layer_indices=[x["layer_index"] for x in batch],
            max_demand_bytes=int(ctx.args.max_demand_gib * 2**30),
            max_copy_bytes=int(ctx.args.max_copy_gib * 2**30),
        )
    except ScaleSimPeerError as exc:
        print(f"  failed: {exc}", flush=True)
        for x in batch:
            key = (topology.label, x["layer_index"], setup.rows, setup.cols, setup.dataflow)
            ctx.store.skip(key, x["layer_name"], "compute", f"compute mode failed: {str(exc)[-300:]}")
        ctx.store.save()
        return
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ver = ctx.store.meta["verification"]
    for result in run.results:
        key = (topology.label, result["layer_index"], setup.rows, setup.cols, setup.dataflow)
        if verify_only:
            diffs = _compare(ctx.store.rows[key], result)
            ver["keys"][_key_text(key)] = not diffs
            ver["compared"] += 1
            ver["equal"] += not diffs
            if diffs:
                ver["mismatches"].append({"key": _key_text(key), "diffs": diffs})
                print(f"  MISMATCH {_key_text(key)}: {diffs}", flush=True)
        else:
            ctx.store.put(topology, setup, result, ctx.layers[topology.label][result["layer_index"]])
    for skipped in run.skipped:
        key = (topology.label, skipped["layer_index"], setup.rows, setup.cols, setup.dataflow)
        ctx.store.skip(key, skipped["layer_name"], "compute", skipped["reason"])
    ctx.store.save()
    print(
        f"  {len(run.results)} run, {len(run.skipped)} skipped, {time.monotonic() - start:.1f} s", flush=True
    )


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def _parse_shapes(text: str) -> list[tuple[int, int]]:
    """``"32x32,8x16"`` -> ``[(32, 32), (8, 16)]`` (rows x cols)."""
    shapes = []
    for item in text.split(","):
        rows, _, cols = item.strip().partition("x")
        shapes.append((int(rows), int(cols)))
    return shapes


def _label_for(path: Path) -> str:
    """A topology file's label: relative to this repo when inside it, else as given."""
    resolved = path.resolve()
    if resolved.is_relative_to(REPO_ROOT):
        return resolved.relative_to(REPO_ROOT).as_posix()
    return path.as_posix()


def _build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=("full", "verify", "compute"), required=True)
    p.add_argument(
        "--snapshot",
        type=Path,
        default=os.environ.get("ACCELSIM_SCALESIM_REPO"),
        help="SCALE-Sim git repository (bare or checkout; default $ACCELSIM_SCALESIM_REPO)",
    )
    p.add_argument(
        "--topologies",
        nargs="*",
        default=None,
        help=f"conv topology patterns inside the snapshot (default {DEFAULT_SNAPSHOT_TOPOLOGIES})",
    )
    p.add_argument("--gemm-topologies", nargs="*", default=[], help="GEMM (M,N,K) patterns in the snapshot")
    p.add_argument("--topology-file", type=Path, nargs="*", default=[], help="conv topology files on disk")
    p.add_argument(
        "--gemm-topology-file", type=Path, nargs="*", default=[], help="GEMM topology files on disk"
    )
    p.add_argument("--base-config", default="configs/scale.cfg", help="config inside the snapshot")
    p.add_argument("--base-config-file", type=Path, default=None, help="config file on disk (overrides)")
    p.add_argument("--shapes", default=DEFAULT_SHAPES, help="array shapes, rows x cols")
    p.add_argument("--dataflows", default="os,ws,is")
    p.add_argument("--out-csv", type=Path, default=REPO_ROOT / "tests" / "data" / "scalesim_parity.csv")
    p.add_argument("--venv", type=Path, default=None, help="SCALE-Sim venv (default: scalesim_peer's)")
    p.add_argument("--scratch", type=Path, default=None, help="scratch directory (default: a temp dir)")
    p.add_argument("--budget-min", type=float, default=float("inf"), help="stop starting work after this")
    p.add_argument("--whole", action="store_true", help="full mode: run each topology file unmodified")
    p.add_argument("--max-layer-s", type=float, default=30.0, help="full mode: skip layers estimated slower")
    p.add_argument("--max-chunk-s", type=float, default=60.0, help="full mode: estimated seconds per call")
    p.add_argument("--max-demand-gib", type=float, default=3.0, help="compute mode: demand-matrix limit")
    p.add_argument("--max-copy-gib", type=float, default=400.0, help="compute mode: OS/IS concat-copy limit")
    p.add_argument("--compute-batch", type=int, default=8, help="compute mode: layers per SCALE-Sim call")
    p.add_argument("--allow-unverified", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> None:
    """Record SCALE-Sim results as described in the module docstring."""
    args = _build_parser().parse_args(argv)
    started = time.monotonic()
    python = ensure_venv(args.venv) if args.venv is None or args.venv.is_dir() else args.venv
    if args.venv is not None and args.venv.is_dir() and not venv_python(args.venv).exists():
        raise SystemExit(f"{args.venv}: no python in this venv")
    scratch = Path(tempfile.mkdtemp(prefix="record-scalesim-", dir=args.scratch))
    store = Store(args.out_csv)
    try:
        topologies: list[Topology] = []
        snapshot_meta: dict[str, Any] | None = None
        snapshot = Snapshot(args.snapshot, scratch) if args.snapshot else None
        conv_patterns = args.topologies
        if conv_patterns is None:
            no_files = not args.topology_file and not args.gemm_topology_file and not args.gemm_topologies
            conv_patterns = DEFAULT_SNAPSHOT_TOPOLOGIES if no_files else []
        if (conv_patterns or args.gemm_topologies) and snapshot is None:
            raise SystemExit("--snapshot (or $ACCELSIM_SCALESIM_REPO) is needed for snapshot topologies")
        if snapshot is not None:
            snapshot_meta = {
                "repository": "https://github.com/scalesim-project/SCALE-Sim",
                "commit": snapshot.commit,
                "commit_date": snapshot.commit_date,
            }
            for pattern_list, gemm in ((conv_patterns, False), (args.gemm_topologies, True)):
                for pattern in pattern_list:
                    for rel in snapshot.glob(pattern):
                        topologies.append(Topology(rel, snapshot.extract(rel), gemm))
        topologies += [Topology(_label_for(p), p, False) for p in args.topology_file]
        topologies += [Topology(_label_for(p), p, True) for p in args.gemm_topology_file]
        if args.base_config_file is not None:
            base_cfg, base_label = args.base_config_file, _label_for(args.base_config_file)
        elif snapshot is not None:
            base_cfg, base_label = snapshot.extract(args.base_config), args.base_config
        else:
            raise SystemExit("--base-config-file is needed without a snapshot")
        setups = []
        for rows, cols in _parse_shapes(args.shapes):
            for dataflow in args.dataflows.split(","):
                cfg = scratch / f"{rows}x{cols}_{dataflow}.cfg"
                write_config(base_cfg, cfg, rows, cols, dataflow, f"run_{rows}x{cols}_{dataflow}")
                setups.append(Setup(rows, cols, dataflow, cfg))
        layers: dict[str, list[ScaleSimLayer]] = {}
        for topology in topologies:
            try:
                layers[topology.label] = scalesim_layers(python, topology.path, topology.gemm)
            except ScaleSimPeerError as exc:
                reason = str(exc).strip().splitlines()[-1]
                print(f"{topology.label}: SCALE-Sim cannot load it: {reason}", flush=True)
                store.meta["skipped"][f"{topology.label}|*|*|*"] = {
                    "layer_name": "*",
                    "mode": "any",
                    "reason": f"SCALE-Sim 3.0.0's topology loader fails: {reason}",
                }
        topologies = [t for t in topologies if t.label in layers]
        store.meta.update(
            {
                "description": "SCALE-Sim per-layer results: parity data for accelsim's dense systolic model",
                "scalesim_version": scalesim_version(python),
                "requirements": [
                    line
                    for line in REQUIREMENTS_PATH.read_text().splitlines()
                    if line.strip() and not line.startswith("#")
                ],
                "columns": COLUMN_DOCS,
            }
        )
        if snapshot_meta is not None:
            store.meta["snapshot"] = snapshot_meta
        configs = store.meta.setdefault("configs", {})
        for setup in setups:
            shape = f"ArrayHeight={setup.rows}, ArrayWidth={setup.cols}, Dataflow={setup.dataflow}"
            configs[setup.name] = f"{base_label} with {shape}"
        invocation = {
            "command": ["python", *sys.argv],
            "mode": args.mode,
            "date": _now(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "scalesim_python": str(python),
        }
        store.meta["invocations"].append(invocation)
        store.save()
        ctx = Context(
            python=python,
            store=store,
            topologies=topologies,
            layers=layers,
            setups=setups,
            scratch=scratch,
            deadline=started + args.budget_min * 60,
            args=args,
        )
        if args.mode == "full":
            record_full(ctx)
        else:
            record_compute(ctx, verify_only=args.mode == "verify")
        invocation["wall_s"] = round(time.monotonic() - started, 1)
        store.save()
        ver = store.meta["verification"]
        print(
            f"rows: {store.meta['row_counts']}; verification: {ver['equal']}/{ver['compared']} equal",
            flush=True,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
