"""Sweeps: spec validation before any point runs, expansion and ids, a real Dask cluster, kill and resume.

No mocks: a real LocalCluster over TCP on 127.0.0.1, real files, a real `accelsim sweep` process
killed with a real signal.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numba
import pandas as pd
import pytest

from accelsim.api import simulate
from accelsim.config.arch import parse_arch
from accelsim.config.sweep_spec import SweepSpec, load_sweep
from accelsim.errors import AccelsimError, ConfigError
from accelsim.report.schema import LAYER_COLUMNS
from accelsim.sweep import expand, store
from accelsim.sweep.executor import DONE, run_point, run_sweep

# conv1 + conv2 + fc: small enough for many points, and with a finite DRAM bandwidth on an 8 x 8
# array the engine plays out enough transfers to take ~0.5 s a point.
TINY_NETWORK = """\
name: tiny
source: a test network
layers:
  - {name: conv1, kind: conv, h: 32, w: 32, c: 16, k: 32, r: 3, stride: 1, pad: 1}
  - {name: conv2, kind: conv, h: 32, w: 32, c: 32, k: 32, r: 3, stride: 1, pad: 1}
  - {name: fc, kind: fc, h: 1, w: 1, c: 32768, k: 10}
"""


def write_sweep(folder: Path, body: str, name: str = "sweep.yaml") -> Path:
    """A sweep file in `folder` next to the tiny network (networks: [tiny.yaml] finds it)."""
    (folder / "tiny.yaml").write_text(TINY_NETWORK)
    path = folder / name
    path.write_text(body)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- validation: every error names the sweep file and the key, before any point runs -------------


def test_unknown_axis_path_lists_the_allowed_keys(tmp_path):
    path = write_sweep(
        tmp_path, "name: s\nbase: systolic_ws_32x32\naxes: {memory.ifmap_kib: [32]}\nnetworks: [tiny.yaml]\n"
    )
    with pytest.raises(ConfigError) as err:
        expand(load_sweep(path))
    msg = str(err.value)
    assert str(path) in msg
    assert "axes.memory.ifmap_kib" in msg
    assert "allowed here: filter_sram_kib, ifmap_sram_kib, ofmap_sram_kib" in msg


def test_unknown_top_level_axis_and_section_axis(tmp_path):
    path = write_sweep(
        tmp_path, "name: s\nbase: systolic_ws_32x32\naxes: {row: [8]}\nnetworks: [tiny.yaml]\n"
    )
    with pytest.raises(ConfigError, match=r"axes\.row: 'row' is not a key .* allowed here: .*rows"):
        expand(load_sweep(path))
    path.write_text("name: s\nbase: systolic_ws_32x32\naxes: {memory: [8]}\nnetworks: [tiny.yaml]\n")
    with pytest.raises(ConfigError, match=r"axes\.memory: is a section.*memory\.ifmap_sram_kib"):
        expand(load_sweep(path))


def test_bad_value_names_axis_value_and_pydantic_message(tmp_path):
    path = write_sweep(
        tmp_path, "name: s\nbase: systolic_ws_32x32\naxes: {rows: [8, big]}\nnetworks: [tiny.yaml]\n"
    )
    with pytest.raises(ConfigError) as err:
        expand(load_sweep(path))
    msg = str(err.value)
    assert f"{path}: axes.rows: value 'big'" in msg
    assert "Input should be a valid integer" in msg
    path.write_text(
        "name: s\nbase: systolic_ws_32x32\naxes: {dataflow: [ws, diagonal]}\nnetworks: [tiny.yaml]\n"
    )
    with pytest.raises(
        ConfigError, match=r"(?s)axes\.dataflow: value 'diagonal'.*dataflow.*known: .*is, os, ws"
    ):
        expand(load_sweep(path))
    path.write_text(
        "name: s\nbase: systolic_ws_32x32\n"
        "axes: {dram.bandwidth_bytes_per_cycle: [-1]}\nnetworks: [tiny.yaml]\n"
    )
    with pytest.raises(
        ConfigError, match=r"(?s)axes\.dram\.bandwidth_bytes_per_cycle: value -1.*greater than 0"
    ):
        expand(load_sweep(path))


def test_zip_groups_need_equal_lengths_and_known_axes(tmp_path):
    body = "name: s\nbase: systolic_ws_32x32\naxes: {rows: [8, 16], cols: [8]}\nzip: [[rows, cols]]\n"
    path = write_sweep(tmp_path, body + "networks: [tiny.yaml]\n")
    with pytest.raises(
        ConfigError, match=r"sweep\.yaml: zip\.0: .*equal lengths; axes\.rows has 2, axes\.cols has 1"
    ):
        load_sweep(path)
    path.write_text(body.replace("[[rows, cols]]", "[[rows, colz]]") + "networks: [tiny.yaml]\n")
    with pytest.raises(ConfigError, match=r"zip\.0: 'colz' is not an axis; allowed here: rows, cols"):
        load_sweep(path)


def test_zip_axes_may_repeat_values_but_not_tuples(tmp_path):
    body = "name: s\nbase: systolic_ws_32x32\naxes: {rows: [8, 8, 16], cols: [8, 16, 16]}\n"
    path = write_sweep(tmp_path, body + "zip: [[rows, cols]]\nnetworks: [tiny.yaml]\n")
    points = expand(load_sweep(path))
    assert [(p.axes["rows"], p.axes["cols"]) for p in points] == [(8, 8), (8, 16), (16, 16)]
    path.write_text(body.replace("16, 16]}", "8, 16]}") + "zip: [[rows, cols]]\nnetworks: [tiny.yaml]\n")
    with pytest.raises(
        ConfigError, match=r"sweep\.yaml: zip\.0 \(rows, cols\): value \(8, 8\) is listed twice"
    ):
        load_sweep(path)
    path.write_text(body + "networks: [tiny.yaml]\n")  # not zipped: each axis lists a value once
    with pytest.raises(ConfigError, match=r"sweep\.yaml: axes\.rows: value 8 is listed twice"):
        load_sweep(path)


def test_unknown_sweep_key_network_profile_and_base(tmp_path):
    path = write_sweep(tmp_path, "name: s\nbase: systolic_ws_32x32\nnetwork: [tiny.yaml]\n")
    with pytest.raises(
        ConfigError, match=r"network: unknown key \(allowed here: axes, base, batches, name, networks"
    ):
        load_sweep(path)
    path.write_text("name: s\nbase: systolic_ws_32x32\nnetworks: [alexnet, resnet101]\n")
    with pytest.raises(
        ConfigError, match=r"sweep\.yaml: networks\.1: unknown network 'resnet101'; known: alexnet"
    ):
        expand(load_sweep(path))
    path.write_text("name: s\nbase: systolic_ws_32x32\nnetworks: [alexnet]\nprofiles: [dense, prunned]\n")
    with pytest.raises(
        ConfigError, match=r"profiles\.1: unknown sparsity profile .*'prunned'; known: .*pruned"
    ):
        expand(load_sweep(path))
    path.write_text("name: s\nbase: systolic_xx\nnetworks: [alexnet]\n")
    with pytest.raises(ConfigError, match=r"sweep\.yaml: base: unknown accelerator config 'systolic_xx'"):
        expand(load_sweep(path))


def test_unreachable_scheduler_fails_before_any_point_runs(tmp_path):
    path = write_sweep(tmp_path, "name: s\nbase: systolic_ws_32x32\nnetworks: [tiny.yaml]\n")
    points = expand(load_sweep(path))
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.perf_counter()
    with pytest.raises(AccelsimError, match=f"cannot reach the Dask scheduler at {address}"):
        run_sweep(points, tmp_path / "out", scheduler=address, connect_timeout_s=1.0)
    assert time.perf_counter() - started < 20
    assert not (tmp_path / "out").exists()  # nothing ran, nothing was written


# --- expansion and ids ----------------------------------------------------------------------------

SIX_CONFIGS = """\
name: s
base: systolic_ws_32x32
axes:
  dataflow: [os, ws, is]
  rows: [8, 16]
  cols: [8, 16]
networks: [tiny.yaml, alexnet]
seeds: [0, 1]
"""


def test_cartesian_and_zipped_counts(tmp_path):
    path = write_sweep(tmp_path, SIX_CONFIGS)
    assert len(expand(load_sweep(path))) == 3 * 2 * 2 * 2 * 2
    path.write_text(SIX_CONFIGS + "zip: [[rows, cols]]\n")
    points = expand(load_sweep(path))
    assert len(points) == 3 * 2 * 2 * 2
    assert {(p.axes["rows"], p.axes["cols"]) for p in points} == {(8, 8), (16, 16)}
    assert len({p.point_id for p in points}) == len(points)
    first = points[0]
    assert first.spec["rows"] == first.axes["rows"] == 8
    assert first.network == str(tmp_path / "tiny.yaml")


def test_ids_follow_what_is_simulated(tmp_path):
    a = write_sweep(
        tmp_path,
        "name: a\nbase: systolic_ws_32x32\naxes: {memory.ifmap_sram_kib: [64]}\nnetworks: [alexnet]\n",
        "a.yaml",
    )
    b = write_sweep(
        tmp_path,
        "name: b\nbase: systolic_ws_32x32\naxes: {memory.ifmap_sram_kib: [64.0]}\n"
        "networks: [alexnet]\nseeds: [0, 1]\n",
        "b.yaml",
    )
    (pa,), (pb0, pb1) = expand(load_sweep(a)), expand(load_sweep(b))
    assert pa.point_id == pb0.point_id  # 64 and 64.0 resolve to the same config: one simulation
    assert pb0.point_id != pb1.point_id  # another seed, another simulation


def test_ids_are_stable_across_processes(tmp_path):
    path = write_sweep(tmp_path, SIX_CONFIGS + "zip: [[rows, cols]]\n")
    here = [p.point_id for p in expand(load_sweep(path))]
    code = (
        "import json, sys; from accelsim.sweep import expand, load_sweep; "
        "print(json.dumps([p.point_id for p in expand(load_sweep(sys.argv[1]))]))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert json.loads(other.stdout) == here


def test_spec_built_in_code_needs_no_file():
    spec = SweepSpec(name="s", base="systolic_os_32x32", axes={"rows": [8, 16]}, networks=["alexnet"])
    assert [p.axes for p in expand(spec)] == [{"rows": 8}, {"rows": 16}]


# --- a real LocalCluster over TCP on 127.0.0.1 ----------------------------------------------------


@pytest.fixture(scope="module")
def cluster_sweep(tmp_path_factory):
    """Four good points plus one that passes validation but fails when run, on a 2-worker cluster."""
    folder = tmp_path_factory.mktemp("cluster")
    path = write_sweep(
        folder,
        "name: s\nbase: systolic_ws_32x32\n"
        "axes: {dataflow: [os, is], dram.bandwidth_bytes_per_cycle: [null, 16]}\n"
        "networks: [tiny.yaml]\n",
    )
    points = expand(load_sweep(path))
    broken = dataclasses.replace(
        points[0],
        point_id=hashlib.sha256(b"broken").hexdigest(),
        spec={**points[0].spec, "dataflow": "diagonal"},  # as if the spec changed after validation
    )
    seen: list[tuple[str, str]] = []
    summary = run_sweep(
        [*points, broken], folder / "out", workers=2, progress=lambda pid, st: seen.append((pid, st))
    )
    return folder / "out", points, broken, summary, seen


def test_cluster_results_equal_serial_simulation(cluster_sweep):
    out, points, _, summary, _ = cluster_sweep
    assert summary.done == len(points) == 4
    assert summary.skipped == 0
    combined = pd.read_parquet(summary.results)
    assert list(combined["point_id"].unique()) == [p.point_id for p in points]  # sweep order
    for p in points:
        stored = pd.read_parquet(store.point_path(out, p.point_id))
        serial = simulate(parse_arch(p.spec, "test"), p.network, p.profile, p.seed).layers
        pd.testing.assert_frame_equal(stored[LAYER_COLUMNS], serial, check_exact=True)
        assert (stored["profile"] == "dense").all()
        assert (stored["seed"] == 0).all()
        assert stored["dataflow"].iloc[0] == p.axes["dataflow"]
        assert store.read_provenance(store.point_path(out, p.point_id))["point_id"] == p.point_id
        rows = combined[combined["point_id"] == p.point_id].reset_index(drop=True)
        pd.testing.assert_frame_equal(rows[LAYER_COLUMNS], serial, check_exact=True)


def test_failing_point_is_recorded_and_others_finish(cluster_sweep):
    out, points, broken, summary, seen = cluster_sweep
    assert summary.failed == 1
    assert set(summary.errors) == {broken.point_id}
    record = store.read_error(out, broken.point_id)
    assert record["type"] == "ConfigError"
    assert "diagonal" in record["message"]
    assert store.failed(out) == {broken.point_id}
    assert store.finished(out) == {p.point_id for p in points}
    assert sorted(seen) == sorted([(p.point_id, "done") for p in points] + [(broken.point_id, "failed")])
    assert broken.point_id not in set(pd.read_parquet(summary.results)["point_id"])


def test_skip_unsupported_runs_what_the_accelerator_can_and_is_part_of_the_id(tmp_path):
    body = "name: s\nbase: sparten\naxes: {clusters: [16, 32]}\nnetworks: [tiny.yaml]\n"
    path = write_sweep(tmp_path, body)
    strict = expand(load_sweep(path))
    path.write_text(body + "skip_unsupported: true\n")
    skipping = expand(load_sweep(path))
    assert not {p.point_id for p in strict} & {p.point_id for p in skipping}
    assert all(p.skip_unsupported for p in skipping)
    failed = run_sweep(strict[:1], tmp_path / "strict", workers=1)
    assert failed.failed == 1  # SparTen has no FC path: without the key the point fails
    assert "fc" in store.read_error(tmp_path / "strict", strict[0].point_id)["message"]
    summary = run_sweep(skipping, tmp_path / "out", workers=1)
    assert summary.done == 2
    rows = pd.read_parquet(summary.results)
    assert set(rows["layer"]) == {"conv1", "conv2"}
    provenance = store.read_provenance(store.point_path(tmp_path / "out", skipping[0].point_id))
    assert set(provenance["skipped_layers"]) == {"fc"}


# --- kill and resume: a real `accelsim sweep` process, killed with its Dask workers ---------------

SLOW_SWEEP = """\
name: slow
base: systolic_ws_32x32
axes:
  dataflow: [ws, is]
  rows: [8]
  cols: [8]
  dram.bandwidth_bytes_per_cycle: [2, 3, 4, 8, 16]
networks: [tiny.yaml]
"""


def sweep_cli(spec: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "accelsim.cli", "sweep", str(spec), "--out", str(out), "--workers", "2"]


def snapshot(out: Path) -> dict[str, tuple[int, bytes]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in store.points_dir(out).glob("*.parquet")}


def test_killed_sweep_resumes_without_losing_or_duplicating_points(tmp_path):
    spec = write_sweep(tmp_path, SLOW_SWEEP)
    ids = [p.point_id for p in expand(load_sweep(spec))]
    assert len(ids) == 10
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        sweep_cli(spec, out),
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not store.finished(out) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI, the scheduler and every Dask worker
        proc.wait()
    before = snapshot(out)
    assert 0 < len(before) < len(ids), f"kill landed after {len(before)} of {len(ids)} points"

    rerun = subprocess.run(sweep_cli(spec, out), cwd=tmp_path, capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    after = snapshot(out)
    assert (
        f"{len(ids) - len(before)} done, {len(before)} skipped (already finished), 0 failed" in rerun.stdout
    )
    assert sorted(after) == sorted(f"{i}.parquet" for i in ids)  # every point, once
    assert all(after[name] == before[name] for name in before)  # finished points untouched
    assert not list(out.rglob("*.part"))

    # The uninterrupted sweep, point by point in this process (what each Dask task runs; that a cluster
    # gives the serial result is test_cluster_results_equal_serial_simulation's).
    clean = tmp_path / "clean"
    threads = numba.get_num_threads()
    try:
        statuses = {run_point(p.to_dict(), str(clean))[1] for p in expand(load_sweep(spec))}
    finally:
        numba.set_num_threads(threads)
    assert statuses == {DONE}
    resumed, uninterrupted = (
        pd.read_parquet(out / "results.parquet"),
        pd.read_parquet(store.combine(clean, ids)),
    )
    assert len(resumed) == 3 * len(ids)
    assert resumed["point_id"].value_counts().eq(3).all()
    pd.testing.assert_frame_equal(resumed, uninterrupted, check_exact=True)


def test_cli_sweep_bad_spec_exits_2_with_file_and_key(tmp_path):
    spec = write_sweep(
        tmp_path, "name: s\nbase: systolic_ws_32x32\naxes: {rowz: [8]}\nnetworks: [tiny.yaml]\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "accelsim.cli", "sweep", str(spec), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "axes.rowz" in run.stderr
    assert "sweep.yaml" in run.stderr
    assert not (tmp_path / "o").exists()
