"""Run sweep points on Dask: a local cluster by default, or any scheduler given by its address.

Both cases take one code path: a local cluster (worker processes, one thread each, listening on
127.0.0.1 only, no dashboard) is started and then reached through its address exactly as a remote
scheduler is. Each task is `run_point`, which simulates one point and writes its own file, so what
finished survives an interrupted sweep, and a rerun submits only the points without a result file.
Workers on other machines need accelsim installed and DIR on a shared file system.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster, WorkerPlugin, as_completed

from accelsim.errors import AccelsimError
from accelsim.report.outputs import check_output_folder, made_folder
from accelsim.sweep import store
from accelsim.sweep.lock import LOCK_NAME, sweep_lock
from accelsim.sweep.points import SweepPoint

CONNECT_TIMEOUT_S = 5.0
"""How long to wait for a scheduler before giving up (an unreachable one fails before any point runs)."""

_KEY = "accelsim-point-"
"""Dask key prefix of a point's task; the key is unique per point id, so Dask never runs one twice."""

DONE, SKIPPED, FAILED = "done", "skipped", "failed"
"""Statuses of a point in a sweep."""


@dataclass(frozen=True)
class SweepSummary:
    """What a sweep run did: points run now, already finished (skipped), failed; the combined table."""

    done: int
    skipped: int
    failed: int
    results: Path
    errors: dict[str, str] = field(default_factory=dict)
    """point id -> 'ErrorType: message' of each failed point."""


def run_point(point: dict[str, Any], out_dir: str) -> tuple[str, str]:
    """Simulate one point and write its result (or its error) file; returns (point id, status).

    A top-level function so that Dask can ship it to any worker; the result is a function of the
    point alone (masks come from SeedSequence), so any worker produces the same bytes of data.
    """
    import numba

    from accelsim.api import simulate
    from accelsim.config.arch import parse_arch

    numba.set_num_threads(1)  # points already run one per core; a parallel kernel would oversubscribe
    p = SweepPoint.from_dict(point)
    try:
        spec = parse_arch(p.spec, f"sweep point {p.point_id}")
        started = time.perf_counter()
        result = simulate(
            spec, p.network, p.profile, p.seed, batch=p.batch, skip_unsupported=p.skip_unsupported
        )
        simulate_s = time.perf_counter() - started  # the whole call, result assembly included
        table = store.point_table(result.layers, p.point_id, p.axes, p.profile, p.seed)
        provenance = {**result.provenance, "point_id": p.point_id, "simulate_s": simulate_s}
        store.write_point(Path(out_dir), table, provenance)
    except Exception as e:  # a failed point is recorded and does not stop the sweep
        store.write_error(Path(out_dir), p.point_id, e)
        return p.point_id, FAILED
    return p.point_id, DONE


@contextmanager
def dask_client(
    scheduler: str | None = None, workers: int | None = None, connect_timeout_s: float = CONNECT_TIMEOUT_S
) -> Iterator[Any]:
    """A Dask client of `scheduler` (tcp://host:port) or of a new local cluster of `workers` processes."""
    if scheduler is not None and workers is not None:
        raise AccelsimError("--workers sizes the local cluster; it cannot be used with --scheduler")
    if workers is not None and workers < 1:
        raise AccelsimError(f"--workers must be at least 1, got {workers}")
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers or _cores(),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            worker_dashboard_address=None,
            # the scheduler's health / metrics HTTP server always runs: a free port on 127.0.0.1
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
        )
        address = cluster.scheduler_address
    else:
        address = scheduler
    try:
        client = Client(address, timeout=f"{connect_timeout_s}s")
    except (OSError, TimeoutError, ValueError) as e:
        if cluster is not None:
            cluster.close()
        raise AccelsimError(
            f"cannot reach the Dask scheduler at {address} within {connect_timeout_s:g} s: {e}"
        ) from None
    try:
        if cluster is not None:  # Ctrl-C reaches the whole process group: let only the CLI handle it
            client.register_plugin(IgnoreInterrupt(), name="accelsim-ignore-sigint")
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class IgnoreInterrupt(WorkerPlugin):
    """Worker plugin of the local cluster: workers ignore SIGINT; the client closes them on Ctrl-C."""

    def setup(self, worker: Any) -> None:
        """Runs in the worker's main thread when the plugin is registered."""
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)


SWEEP_FILES = (store.MANIFEST_NAME, store.RESULTS_NAME, LOCK_NAME)
"""The files a sweep keeps in DIR, besides DIR/points/."""


def check_sweep_folder(out_dir: Path, what: str = "sweep folder") -> Path:
    """`out_dir` if a sweep can be written there (before any work); else OutputError."""
    return check_output_folder(out_dir, files=SWEEP_FILES, folders=[store.POINTS_NAME], what=what)


def run_sweep(
    points: Sequence[SweepPoint],
    out_dir: Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    manifest: dict[str, Any] | None = None,
    progress: Callable[[str, str], None] | None = None,
    notify: Callable[[str], None] | None = None,
    force: bool = False,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
) -> SweepSummary:
    """Run the points without a result file in DIR on Dask, then write DIR/results.parquet.

    Before any point runs: DIR must be writable (OutputError), no other live sweep may hold it
    (`accelsim.sweep.lock`, SweepLockedError), and it must not hold a different sweep unless `force`
    (SweepMismatchError). Point files that cannot be read are moved aside and run again.
    `progress(point_id, status)` is called once per point: first for the skipped ones, then as
    points finish; `notify(message)` reports a stale lock taken over or a point file set aside. The
    scheduler is reached before any point runs (and not at all when every point has finished);
    failed points are recorded in DIR/points/<id>.error.json and retried next run.
    """
    out_dir = check_sweep_folder(Path(out_dir).resolve())
    entries = {**(manifest or {}), "points": [_manifest_entry(p) for p in points]}
    with made_folder(out_dir), sweep_lock(out_dir, notify):
        store.check_manifest(out_dir, entries, force)
        store.remove_partial(out_dir)  # left by a killed run; no sweep writes here while we hold the lock
        unreadable = store.set_aside_unreadable(out_dir, [p.point_id for p in points])
        for pid, why in unreadable.items():
            if notify is not None:
                notify(
                    f"point {pid[:12]}: its file could not be read ({why}); moved to points/unreadable/, "
                    "running it again"
                )
        already = store.finished(out_dir)
        todo = [p for p in points if p.point_id not in already]
        done: int = 0
        errors: dict[str, str] = {}
        with dask_client(scheduler, workers, connect_timeout_s) if todo else nullcontext() as client:
            store.points_dir(out_dir).mkdir(parents=True, exist_ok=True)
            store.write_manifest(out_dir, entries)
            if progress is not None:
                for p in points:
                    if p.point_id in already:
                        progress(p.point_id, SKIPPED)
            if client is not None:
                done, errors = _run_points(client, todo, out_dir, progress)
        results = store.combine(out_dir, [p.point_id for p in points])
    skipped = len(points) - len(todo)
    return SweepSummary(done=done, skipped=skipped, failed=len(errors), results=results, errors=errors)


def _run_points(
    client: Any, todo: Sequence[SweepPoint], out_dir: Path, progress: Callable[[str, str], None] | None
) -> tuple[int, dict[str, str]]:
    """Submit one task per point (keyed by id, so never twice) and collect statuses as they finish."""
    futures = [
        client.submit(run_point, p.to_dict(), str(out_dir), key=_KEY + p.point_id, pure=False) for p in todo
    ]
    done, errors = 0, {}
    for future in as_completed(futures):
        pid = str(future.key).removeprefix(_KEY)
        try:
            _, status = future.result()
        except Exception as e:  # the worker itself died (KilledWorker) or the task could not run
            store.write_error(out_dir, pid, e)
            status = FAILED
        if status == DONE:
            done += 1
        else:
            record = store.read_error(out_dir, pid)
            errors[pid] = f"{record['type']}: {record['message']}"
        if progress is not None:
            progress(pid, status)
    return done, errors


def _manifest_entry(p: SweepPoint) -> dict[str, Any]:
    return {k: v for k, v in p.to_dict().items() if k != "spec"}


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
