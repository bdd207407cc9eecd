"""Every command of the README's ```bash blocks runs as written, in README order, in one fresh folder
(later commands read what earlier ones wrote), with the repository's data folders linked in.

Commands are run as a user runs them: the installed `accelsim` entry point in a subprocess. The
exceptions are listed below with their reason; nothing else is skipped or shortened.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
LINKED = ("arch_configs", "workloads", "tests/data")
"""Repository folders the README's commands name, linked into the fresh folder."""

SET_UP = {
    "python3 -m venv": "creates the virtual environment this suite already runs in",
    ".": "activates that environment",
    "pip install": "installs accelsim, which this suite already runs from",
    "python -m pytest": "is the suite this test belongs to",
}
"""Set-up commands not run here, by their first words (`.ci/run` runs them on a fresh machine)."""

SCHEDULER = "tcp://127.0.0.1:8786"
REDUCED = {
    SCHEDULER: "needs a running Dask cluster: the test starts one (`dask scheduler` and `dask worker`, real "
    "processes on 127.0.0.1) on a free port and puts its address in place of port 8786",
}
"""Commands run in a changed form, by a text they contain, and why."""


@dataclass(frozen=True)
class Command:
    line: int
    """Line of README.md."""
    words: list[str]


def readme_commands() -> Iterator[Command | tuple[int, str, str]]:
    """The README's bash commands in order; a set-up command comes as (line, command, reason)."""
    inside = False
    for n, text in enumerate(README.read_text().splitlines(), 1):
        if text.strip().startswith("```"):
            inside = text.strip() == "```bash"
            continue
        if not inside or not text.strip():
            continue
        words = shlex.split(text, comments=True)
        segments: list[list[str]] = [[]]
        for w in words:
            if w == "&&":
                segments.append([])
            else:
                segments[-1].append(w)
        for segment in segments:
            command = " ".join(segment)
            reason = next((why for start, why in SET_UP.items() if command.startswith(start + " ")), None)
            if reason is None and command in SET_UP:
                reason = SET_UP[command]
            yield (n, command, reason) if reason else Command(n, segment)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def cluster() -> Iterator[str]:
    """A Dask scheduler and one worker, started as a user would, on a free port of 127.0.0.1."""
    dask = Path(sys.executable).with_name("dask")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        subprocess.Popen(
            [str(dask), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    procs.append(
        subprocess.Popen(
            [str(dask), "worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    try:
        yield address
    finally:
        for p in reversed(procs):  # the worker first: without its scheduler it would wait to reconnect
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_every_readme_command_runs(tmp_path, cluster):
    for name in LINKED:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).symlink_to(ROOT / name)
    accelsim = shutil.which("accelsim", path=str(Path(sys.executable).parent)) or "accelsim"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCELSIM_")}
    report, ran = [], 0
    for item in readme_commands():
        if isinstance(item, tuple):
            line, command, reason = item
            report.append(f"README.md:{line}  not run: {command!r} {reason}")
            continue
        words = [w.replace(SCHEDULER, cluster) for w in item.words]
        assert words[0] == "accelsim", f"README.md:{item.line}: a command this test does not know: {words}"
        started = time.perf_counter()
        done = subprocess.run(
            [accelsim, *words[1:]], cwd=tmp_path, capture_output=True, text=True, env=env, check=False
        )
        took = time.perf_counter() - started
        shown = " ".join(item.words)
        assert done.returncode == 0, f"README.md:{item.line}: {shown}\nexit {done.returncode}\n{done.stderr}"
        assert "Traceback" not in done.stderr, f"README.md:{item.line}: {shown}\n{done.stderr}"
        out = (
            words[words.index("--out") + 1]
            if "--out" in words
            else ("results" if words[1] == "run" else None)
        )
        if out is not None:
            assert (tmp_path / out).exists(), f"README.md:{item.line}: {shown} did not write {out}"
        changed = " (reduced: " + REDUCED[SCHEDULER] + ")" if words != item.words else ""
        report.append(f"README.md:{item.line}  {took:5.1f} s  {shown}{changed}")
        ran += 1
    print("\n" + "\n".join(report))
    assert ran >= 15, "the README has fewer commands than this test expects; did the parsing break?"
    assert re.search(r"--scheduler", "\n".join(report)), "the remote-cluster example is gone"


def test_readme_model_table_lists_every_shipped_config():
    from accelsim.api import list_configs

    table = "\n".join(line for line in README.read_text().splitlines() if line.startswith("| "))
    named = set(re.findall(r"`([a-z0-9_{},]+)`", table))
    expanded = set()
    for name in named:  # `systolic_{os,ws,is}_32x32` names three configs
        m = re.fullmatch(r"(.*)\{(.*)\}(.*)", name)
        expanded |= {f"{m[1]}{v}{m[3]}" for v in m[2].split(",")} if m else {name}
    missing = sorted(set(list_configs()) - expanded)
    assert not missing, f"README.md's model table does not name these shipped configs: {missing}"
