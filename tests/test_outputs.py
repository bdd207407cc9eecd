"""Outputs are checked before any work and written as a set: a failure keeps the previous results and
leaves no partial set (real files and folders, the command line run in-process)."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from accelsim.api import simulate
from accelsim.cli import run_cli
from accelsim.errors import OutputError
from accelsim.report.outputs import STAGING_SUFFIX, check_output_file, check_output_folder, write_set
from accelsim.report.result import RUN_FILES

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "data" / "scalesim_small"


def cli(folder: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(folder), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_cli(list(args))
    return code, out.getvalue(), err.getvalue()


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- the checks ---------------------------------------------------------------------------------


def test_a_file_in_the_way_a_name_too_long_and_a_wrong_kind_of_entry(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match=r"^--out .*afile/sub: .*afile is a file, not a folder$"):
        check_output_folder(tmp_path / "afile" / "sub", what="--out")
    with pytest.raises(OutputError, match=r"is 300 bytes long; this file system allows 255"):
        check_output_folder(tmp_path / ("n" * 300))
    with pytest.raises(OutputError, match=r"the name 'aaaa.*' is 260 bytes long"):
        check_output_folder(tmp_path / "ok", folders=["a" * 260])
    (tmp_path / "run" / "layers.csv").mkdir(parents=True)
    with pytest.raises(OutputError, match=r"layers\.csv is a folder where the file layers\.csv goes"):
        check_output_folder(tmp_path / "run", files=RUN_FILES.values())
    assert (
        check_output_folder(tmp_path / "new" / "deeper", files=RUN_FILES.values())
        == tmp_path / "new" / "deeper"
    )
    assert not (tmp_path / "new").exists()  # a check creates nothing


def test_a_place_that_cannot_be_written(tmp_path):
    if Path("/proc").is_dir():  # writable by nobody, root included
        with pytest.raises(OutputError, match=r"cannot write in /proc"):
            check_output_folder("/proc/accelsim-out")
    if os.geteuid() != 0:  # permissions bind everyone but root
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(OutputError, match=r"cannot write in .*locked \(permission denied\)"):
            check_output_folder(locked / "out")


def test_plot_files_need_a_known_extension_and_not_a_folder(tmp_path):
    with pytest.raises(OutputError, match=r"unknown file type \(no extension\); allowed: \.png, \.svg"):
        check_output_file(tmp_path / "plot", suffixes=[".png", ".svg"])
    with pytest.raises(OutputError, match=r"unknown file type \.txt"):
        check_output_file(tmp_path / "plot.txt", suffixes=[".png"])
    with pytest.raises(OutputError, match=r"is a folder; give a file name such as .*plot\.png"):
        check_output_file(tmp_path, suffixes=[".png"])
    assert check_output_file(tmp_path / "sub" / "p.PNG", suffixes=[".png"]).name == "p.PNG"


# --- writing a set ------------------------------------------------------------------------------


def fail_half_way(out: Path) -> None:
    with write_set(out) as tmp:
        (tmp / "a.txt").write_text("new a")
        raise RuntimeError("the writer failed half way")


def test_a_set_replaces_its_namesakes_only_when_whole(tmp_path):
    out = tmp_path / "out"
    with write_set(out) as tmp:  # a new folder: one rename
        (tmp / "a.txt").write_text("old a")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "b.txt").write_text("old b")
    (out / "mine.txt").write_text("the user's")
    with pytest.raises(RuntimeError):
        fail_half_way(out)
    assert tree(out) == {"a.txt": b"old a", "mine.txt": b"the user's", "sub/b.txt": b"old b"}
    with write_set(out) as tmp:
        (tmp / "a.txt").write_text("new a")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "c.txt").write_text("new c")
    assert tree(out) == {"a.txt": b"new a", "mine.txt": b"the user's", "sub/c.txt": b"new c"}
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(STAGING_SUFFIX)]


def test_a_run_that_fails_to_write_keeps_the_previous_run(tmp_path):
    run = simulate(SMALL / "ws_8x8.cfg", SMALL / "small.csv")
    paths = run.write(tmp_path / "r")
    assert sorted(p.name for p in paths.values()) == sorted(RUN_FILES.values())
    before = tree(tmp_path / "r")
    broken = type(run)(run.layers, run.timeline, {**run.provenance, "wall_time_s": float("inf")})
    with pytest.raises(ValueError, match="JSON compliant"):  # JSON has no infinity: the last file fails
        broken.write(tmp_path / "r")
    assert tree(tmp_path / "r") == before
    assert json.loads((tmp_path / "r" / "provenance.json").read_text())["wall_time_s"] < 1e6


# --- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--network", "no_such_network"],
        ["compare", "systolic_ws_32x32", "systolic_os_32x32", "--network", "no_such_network"],
        ["sweep", "no_such_spec.yaml"],
        ["plot", "speedup", "no_such_results"],
    ],
    ids=["run", "compare", "sweep", "plot"],
)
def test_outputs_are_checked_before_anything_else(tmp_path, command):
    """The inputs are bad too, yet the message is about --out: it was checked first, before any work."""
    (tmp_path / "afile").write_text("in the way")
    out = "afile/sub.png" if command[0] == "plot" else "afile/sub"
    code, stdout, stderr = cli(tmp_path, *command, "--out", out)
    assert code == 2
    assert stderr == f"error: --out {out}: afile is a file, not a folder\n"
    assert not stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_compare_refuses_a_run_folder_name_too_long_before_simulating(tmp_path):
    config = (ROOT / "arch_configs" / "systolic_os_32x32.yaml").read_text()
    (tmp_path / "long.yaml").write_text(config.replace("name: systolic_os_32x32", "name: " + "a" * 300))
    code, _, stderr = cli(
        tmp_path, "compare", "systolic_ws_32x32", "long.yaml", "--network", "vgg16", "--out", "c"
    )
    assert code == 2
    assert stderr.startswith("error: --out c: the name 'aaaa")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.yaml"]


def test_plot_writes_the_file_it_names_and_refuses_others(tmp_path):
    code, _, stderr = cli(tmp_path, "run", str(SMALL / "ws_8x8.cfg"), "--network", str(SMALL / "small.csv"))
    assert code == 0, stderr
    for out, message in [
        ("lb", "--out lb: unknown file type (no extension); allowed: .png"),
        ("results", "--out results: is a folder; give a file name such as results/plot.png"),
        ("lb.txt", "--out lb.txt: unknown file type .txt"),
    ]:
        code, _, stderr = cli(tmp_path, "plot", "load-balance", "results", "--layer", "odd_3x3", "--out", out)
        assert code == 2
        assert stderr.startswith(f"error: {message}")
    code, stdout, _ = cli(
        tmp_path, "plot", "load-balance", "results", "--layer", "odd_3x3", "--out", "p/lb.svg"
    )
    assert code == 0
    assert stdout == "wrote p/lb.svg\n"
    assert (tmp_path / "p" / "lb.svg").read_bytes().startswith(b"<?xml")
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["lb.svg"]


def test_a_corrupt_table_is_one_message_naming_it(tmp_path):
    code, _, _ = cli(tmp_path, "run", str(SMALL / "ws_8x8.cfg"), "--network", str(SMALL / "small.csv"))
    assert code == 0
    layers = tmp_path / "results" / "layers.parquet"
    layers.write_bytes(layers.read_bytes()[:100])
    code, _, stderr = cli(tmp_path, "plot", "utilization", "results", "--out", "u.png")
    assert code == 2
    assert stderr.startswith(f"error: {Path('results') / 'layers.parquet'}: not a readable parquet table (")
    assert not (tmp_path / "u.png").exists()
    (tmp_path / "t.csv").write_bytes(b"\xff\xfe\x00garbage")
    code, _, stderr = cli(tmp_path, "plot", "utilization", "t.csv", "--out", "u.png")
    assert (code, stderr.startswith("error: t.csv: not a readable csv table (")) == (2, True)


def test_compare_reports_each_accelerator_and_layer(tmp_path):
    from accelsim.compare import compare

    seen: list[tuple[str, str | None]] = []
    result = compare(
        ["systolic_ws_32x32", "systolic_os_32x32"],
        SMALL / "small.csv",
        progress=lambda a, la: seen.append((a, la)),
    )
    layers = list(result.runs["systolic_ws_32x32"].layers["layer"])
    assert seen == [(name, layer) for name in result.runs for layer in [None, *layers]]
    written = result.write(tmp_path / "cmp")
    assert sorted(p.name for p in (tmp_path / "cmp").iterdir()) == sorted(p.name for p in written.values())
    assert pd.read_csv(written["network_csv"])["accelerator"].tolist() == list(result.runs)
