"""A sweep folder is one sweep's, one run at a time: the lock names its holder, a stale lock is taken
over, another spec is refused without --force, and a point file that cannot be read runs again.

Real processes hold the lock, real point files are written by `run_point` (the task a Dask worker
runs), and the one recomputation runs on a real local Dask cluster.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from accelsim.cli import run_cli
from accelsim.config.sweep_spec import load_sweep
from accelsim.sweep import expand, store
from accelsim.sweep.executor import run_point, run_sweep
from accelsim.sweep.lock import LOCK_NAME, SweepLockedError
from accelsim.sweep.store import SweepMismatchError

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "data" / "scalesim_small" / "small.csv"
SPEC = "name: {name}\nbase: systolic_ws_32x32\naxes: {{rows: {rows}}}\nnetworks: [./small.csv]\n"


def sweep_spec(folder: Path, name: str = "a", rows: str = "[8, 16]") -> Path:
    shutil.copyfile(SMALL, folder / "small.csv")
    path = folder / f"{name}.yaml"
    path.write_text(SPEC.format(name=name, rows=rows))
    return path


def finish_points(spec: Path, out: Path) -> list[str]:
    """Run every point of `spec` into `out` here, as workers would; returns the point ids."""
    points = expand(load_sweep(spec))
    for p in points:
        assert run_point(p.to_dict(), str(out)) == (p.point_id, "done")
    return [p.point_id for p in points]


def sweep_now(spec: Path, out: Path, **kwargs) -> tuple[object, list[str]]:  # type: ignore[no-untyped-def]
    sweep = load_sweep(spec)
    notes: list[str] = []
    manifest = {"name": sweep.name, "source": str(spec)}
    summary = run_sweep(expand(sweep), out, manifest=manifest, notify=notes.append, **kwargs)
    return summary, notes


def cli(folder: Path, *args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.chdir(folder), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = run_cli(list(args))
    return code, err.getvalue()


@pytest.fixture
def holder(tmp_path):  # type: ignore[no-untyped-def]
    """A real process that holds the lock of tmp_path/out until it is killed."""
    out = tmp_path / "out"
    out.mkdir()
    code = (
        "import sys\nfrom pathlib import Path\nfrom accelsim.sweep.lock import sweep_lock\n"
        "with sweep_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n    sys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_a_second_sweep_is_refused_naming_the_holder_then_takes_over_its_stale_lock(tmp_path, holder):
    spec, out = sweep_spec(tmp_path), tmp_path / "out"
    finish_points(spec, out)
    code, stderr = cli(tmp_path, "sweep", "a.yaml", "--out", "out")
    assert code == 2
    assert stderr.startswith(
        f"error: {out}: another sweep is running on this folder (process {holder.pid} on host "
    )
    assert f"host {socket.gethostname()}, started 20" in stderr
    assert not (out / "sweep.json").exists()  # refused before anything was written
    with pytest.raises(SweepLockedError):
        sweep_now(spec, out)
    holder.send_signal(signal.SIGKILL)  # killed: it never removes its lock
    holder.wait()
    assert (out / LOCK_NAME).is_file()
    summary, notes = sweep_now(spec, out)  # every point finished: no cluster needed
    assert notes == [
        f"took over the stale lock of a sweep that is no longer running (process {holder.pid} on host "
        f"{socket.gethostname()}, started {notes[0].split(', started ')[1]}"
    ]
    assert (summary.done, summary.skipped, summary.failed) == (0, 2, 0)
    assert not (out / LOCK_NAME).exists()  # released at the end


def test_a_lock_of_a_pid_now_used_by_another_process_is_stale(tmp_path):
    """The holder's kernel start time tells a reused process id (here: our own) from the holder."""
    spec, out = sweep_spec(tmp_path), tmp_path / "out"
    finish_points(spec, out)
    (out / LOCK_NAME).write_text(
        f'{{"pid": {os.getpid()}, "host": "{socket.gethostname()}", "started": "then", "process_start": "1"}}'
    )
    _, notes = sweep_now(spec, out)
    me = f"process {os.getpid()} on host {socket.gethostname()}, started then"
    assert notes == [f"took over the stale lock of a sweep that is no longer running ({me})"]


def test_another_spec_is_refused_unless_forced(tmp_path):
    out = tmp_path / "out"
    first = sweep_spec(tmp_path, "a", "[8, 16]")
    finish_points(first, out)
    sweep_now(first, out)
    kept = {name: (out / name).read_bytes() for name in ("sweep.json", "results.parquet")}
    second = sweep_spec(tmp_path, "b", "[8]")  # a different sweep whose one point is finished
    with pytest.raises(
        SweepMismatchError, match=r"holds another sweep: sweep 'a' of 2 points; this spec is 'b' of 1"
    ):
        sweep_now(second, out)
    code, stderr = cli(tmp_path, "sweep", "b.yaml", "--out", "out")
    assert code == 2
    assert "use --force" not in stderr
    assert "replace it with --force" in stderr
    assert {name: (out / name).read_bytes() for name in kept} == kept
    code, stderr = cli(tmp_path, "sweep", "b.yaml", "--out", "out", "--force")
    assert code == 0, stderr
    assert pd.read_parquet(out / "results.parquet")["point_id"].nunique() == 1
    (out / "sweep.json").write_bytes(b"\x00\x01 not json")
    with pytest.raises(SweepMismatchError, match=r"sweep\.json cannot be read .*not a text file"):
        sweep_now(second, out)


def test_an_unreadable_point_file_is_set_aside_and_computed_again(tmp_path):
    spec, out = sweep_spec(tmp_path), tmp_path / "out"
    ids = finish_points(spec, out)
    expected = pd.read_parquet(store.point_path(out, ids[1]))
    truncated = store.point_path(out, ids[1])
    truncated.write_bytes(truncated.read_bytes()[:200])
    summary, notes = sweep_now(spec, out, workers=1)
    assert len(notes) == 1
    assert notes[0].startswith(f"point {ids[1][:12]}: its file could not be read (")
    assert (summary.done, summary.skipped, summary.failed) == (1, 1, 0)
    (aside,) = (out / "points" / "unreadable").iterdir()
    assert aside.name.startswith(ids[1])
    pd.testing.assert_frame_equal(pd.read_parquet(store.point_path(out, ids[1])), expected)
    assert pd.read_parquet(out / "results.parquet")["point_id"].unique().tolist() == ids
