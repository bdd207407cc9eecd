"""Property: bad input of every class drives the command line (in-process, `accelsim.cli.run_cli`) to
exit code 2 with one message naming the file or argument, no traceback, and nothing written.

Generated inputs: shipped configs, networks, sparsity profiles and sweep specs with one mutation each
(a value of the wrong type, a boolean, an infinity or NaN, an unknown key, a required key removed,
bytes that are not UTF-8, a NUL, a YAML syntax error, a document that is not a mapping); SCALE-Sim
.cfg and topology .csv files with a bad value, a missing key or column, or binary content; and output
paths that cannot be written (under a file, a name too long, a read-only place, a folder or an unknown
extension for a plot) for run, compare, sweep and plot. Every mutation makes the input invalid by
construction, so any other outcome is a bug.

The tally of generated inputs and outcomes is printed at the end of the module (`pytest -s`) and
written to $ACCELSIM_PROPERTY_TALLY when that is set; `--hypothesis-show-statistics` shows it too.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import tempfile
import traceback
from collections import Counter
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accelsim.cli import run_cli
from accelsim.workload.catalog import data_dir

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "data" / "scalesim_small"
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
EXAMPLES = int(os.environ.get("ACCELSIM_PROPERTY_EXAMPLES", "1000"))

ARCH = sorted(data_dir("arch_configs").glob("*.yaml"))
NETWORKS = sorted(data_dir("workloads").glob("*.yaml"))
PROFILES = sorted(data_dir("workloads").glob("profiles/*/*.yaml"))
SWEEPS = sorted(data_dir("arch_configs").glob("sweeps/*.yaml"))
REQUIRED = {
    "config": ["kind", "name", "source", "clock_mhz", "technology"],
    "network": ["name", "source", "layers"],
    "profile": ["id", "network", "source"],
    "sweep": ["name", "base", "networks"],
}
"""Keys each kind of file cannot do without (removing one is a mutation)."""

TALLY: Counter[str] = Counter()


@dataclass
class Case:
    """One generated bad input: files to write, the command line, and what the message must name."""

    what: str
    """Input class and mutation, for the tally."""
    argv: list[str]
    names: str
    """A text the message's first line must contain: the file's name or the argument."""
    files: dict[str, bytes] = field(default_factory=dict)
    links: dict[str, Path] = field(default_factory=dict)
    """Extra input files copied in (a profile's mask file)."""
    folders: list[str] = field(default_factory=list)


# --- mutations of a YAML document ---------------------------------------------------------------


def leaves(data: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(path, value) of every scalar leaf (None excluded) of parsed YAML."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from leaves(v, (*at, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from leaves(v, (*at, i))
    elif data is not None:
        yield at, data


def mappings(data: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths of every mapping of parsed YAML (the document itself included)."""
    if isinstance(data, dict):
        yield at
        for k, v in data.items():
            yield from mappings(v, (*at, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from mappings(v, (*at, i))


def node(data: Any, at: tuple[Any, ...]) -> Any:
    for part in at:
        data = data[part]
    return data


def wrong_values(value: Any) -> list[Any]:
    """Values no field that holds `value` accepts."""
    bad_containers: list[Any] = [[1], {"zz_unknown": 1}]
    if isinstance(value, bool):
        return ["abc", 2, math.inf, *bad_containers]
    if isinstance(value, int | float):
        return [True, False, math.inf, -math.inf, math.nan, "abc", *bad_containers]
    return [1.5, True, *bad_containers]


@st.composite
def mutated_yaml(draw: st.DrawFn, kind: str, path: Path) -> tuple[str, bytes]:
    """(mutation name, bytes) of the shipped YAML file `path` with one mutation."""
    text = path.read_bytes()
    data = yaml.safe_load(text)
    how = draw(
        st.sampled_from(["value", "unknown key", "required key", "not utf-8", "nul", "syntax", "shape"])
    )
    if how == "value":
        at, value = draw(st.sampled_from(list(leaves(data))))
        bad = draw(st.sampled_from(wrong_values(value)))
        copy = deepcopy(data)
        node(copy, at[:-1])[at[-1]] = bad
        return f"value {type(value).__name__}->{bad!r}", yaml.dump(copy, Dumper=DUMPER).encode()
    if how == "unknown key":
        at = draw(st.sampled_from(list(mappings(data))))
        copy = deepcopy(data)
        node(copy, at)["zz_unknown"] = 1
        return how, yaml.dump(copy, Dumper=DUMPER).encode()
    if how == "required key":
        key = draw(st.sampled_from([k for k in REQUIRED[kind] if k in data]))
        copy = {k: v for k, v in data.items() if k != key}
        return f"{how} {key}", yaml.dump(copy, Dumper=DUMPER).encode()
    if how in ("not utf-8", "nul"):
        at = draw(st.integers(0, len(text)))
        byte = draw(st.sampled_from([b"\xff", b"\xfe", b"\xc3"])) if how == "not utf-8" else b"\x00"
        return how, text[:at] + byte + text[at:]
    if how == "syntax":
        return how, text + b"\nzz_broken: [unclosed\n"
    shape = draw(st.sampled_from([b"", b"42\n", b"- a\n- list\n", b"just text\n"]))
    return f"{how} {shape!r}", shape


# --- the generated cases ----------------------------------------------------------------------------


@st.composite
def config_cases(draw: st.DrawFn) -> Case:
    path = draw(st.sampled_from(ARCH))
    how, content = draw(mutated_yaml("config", path))
    command = draw(st.sampled_from(["validate", "run", "compare"]))
    argv = {
        "validate": ["validate", "bad.yaml"],
        "run": ["run", "bad.yaml", "--network", str(SMALL / "small.csv"), "--out", "out"],
        "compare": [
            "compare",
            "systolic_ws_32x32",
            "bad.yaml",
            "--network",
            str(SMALL / "small.csv"),
            "--out",
            "o",
        ],
    }[command]
    return Case(f"config {command}: {how}", argv, "bad.yaml", {"bad.yaml": content})


@st.composite
def network_cases(draw: st.DrawFn) -> Case:
    path = draw(st.sampled_from(NETWORKS))
    how, content = draw(mutated_yaml("network", path))
    command = draw(st.sampled_from(["validate", "run"]))
    argv = (
        ["validate", "bad.yaml"] if command == "validate" else ["run", "--network", "bad.yaml", "--out", "o"]
    )
    return Case(f"network {command}: {how}", argv, "bad.yaml", {"bad.yaml": content})


@st.composite
def profile_cases(draw: st.DrawFn) -> Case:
    path = draw(st.sampled_from(PROFILES))
    how, content = draw(mutated_yaml("profile", path))
    command = draw(st.sampled_from(["validate", "run"]))
    network = path.parent.name
    argv = (
        ["validate", "bad.yaml"]
        if command == "validate"
        else ["run", "--network", network, "--profile", "bad.yaml", "--out", "o"]
    )
    links = {p.name: p for p in path.parent.glob("*.npz")}
    return Case(f"profile {command}: {how}", argv, "bad.yaml", {"bad.yaml": content}, links)


@st.composite
def sweep_cases(draw: st.DrawFn) -> Case:
    path = draw(st.sampled_from(SWEEPS))
    how, content = draw(mutated_yaml("sweep", path))
    command = draw(st.sampled_from(["validate", "sweep"]))
    argv = ["validate", "bad.yaml"] if command == "validate" else ["sweep", "bad.yaml", "--out", "o"]
    return Case(f"sweep {command}: {how}", argv, "bad.yaml", {"bad.yaml": content})


CFG_NUMBERS = ["ArrayHeight", "ArrayWidth", "IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB"]


@st.composite
def scalesim_cfg_cases(draw: st.DrawFn) -> Case:
    lines = (SMALL / "ws_8x8.cfg").read_text().splitlines()
    how = draw(
        st.sampled_from(["number", "missing key", "dataflow", "bandwidth mode", "user bandwidth", "binary"])
    )
    if how == "number":
        key = draw(st.sampled_from(CFG_NUMBERS))
        value = draw(st.sampled_from(["0", "-3", "abc", "1e999", "inf", "nan", "", "true", "0x10"]))
        lines = [f"{key}: {value}" if line.startswith(f"{key}:") else line for line in lines]
        how = f"{key}={value!r}"
    elif how == "missing key":
        key = draw(st.sampled_from([*CFG_NUMBERS, "Dataflow"]))
        lines = [line for line in lines if not line.startswith(f"{key}:")]
        how = f"missing {key}"
    elif how == "dataflow":
        lines = [
            ("Dataflow: " + draw(st.sampled_from(["rs", "", "OSS"])))
            if line.startswith("Dataflow:")
            else line
            for line in lines
        ]
    elif how == "bandwidth mode":
        lines = [line.replace("CALC", draw(st.sampled_from(["FAST", "calc2", ""]))) for line in lines]
    elif how == "user bandwidth":
        value = draw(st.sampled_from(["", "abc", "0", "-1", "10,x"]))
        lines = [line.replace("CALC", "USER") for line in lines]
        lines = [f"Bandwidth: {value}" if line.startswith("Bandwidth:") else line for line in lines]
        how = f"USER Bandwidth={value!r}"
    content = "\n".join(lines).encode() + b"\n"
    if how == "binary":
        at = draw(st.integers(0, len(content)))
        content = content[:at] + draw(st.sampled_from([b"\xff", b"\x00", b"\xc3("])) + content[at:]
    command = draw(st.sampled_from(["validate", "run"]))
    argv = (
        ["validate", "bad.cfg"]
        if command == "validate"
        else ["run", "bad.cfg", "--network", str(SMALL / "small.csv"), "--out", "o"]
    )
    return Case(f"scalesim cfg {command}: {how}", argv, "bad.cfg", {"bad.cfg": content})


@st.composite
def scalesim_topology_cases(draw: st.DrawFn) -> Case:
    header, *rows = (SMALL / "small.csv").read_text().splitlines()
    row = draw(st.integers(0, len(rows) - 1))
    cells = rows[row].split(",")
    how = draw(st.sampled_from(["cell", "short row", "kernel too large", "binary", "empty", "header only"]))
    if how == "cell":
        column = draw(st.integers(1, 7))
        value = draw(st.sampled_from(["0", "-1", "x", "", "1.5", "1e3"]))
        cells[column] = f" {value}"
        rows[row] = ",".join(cells)
        how = f"column {column}={value!r}"
    elif how == "short row":
        rows[row] = ",".join(cells[: draw(st.integers(1, 6))])
    elif how == "kernel too large":
        cells[3] = " 999"
        rows[row] = ",".join(cells)
    content = ("\n".join([header, *rows]) + "\n").encode()
    if how == "binary":
        at = draw(st.integers(0, len(content)))
        content = content[:at] + draw(st.sampled_from([b"\xff", b"\x00"])) + content[at:]
    elif how == "empty":
        content = b""
    elif how == "header only":
        content = (header + "\n").encode()
    command = draw(st.sampled_from(["validate", "run"]))
    argv = ["validate", "bad.csv"] if command == "validate" else ["run", "--network", "bad.csv", "--out", "o"]
    return Case(f"scalesim topology {command}: {how}", argv, "bad.csv", {"bad.csv": content})


TINY_SWEEP = b"name: tiny\nbase: systolic_ws_32x32\naxes: {rows: [8, 16]}\nnetworks: [small.csv]\n"


@st.composite
def output_cases(draw: st.DrawFn) -> Case:
    command = draw(st.sampled_from(["run", "compare", "sweep", "plot"]))
    places = ["under a file", "a file", "long name", "long nested name"]
    places += ["read-only"] if Path("/proc").is_dir() else []
    places += ["a folder", "no extension", "unknown extension"] if command == "plot" else []
    place = draw(st.sampled_from(places))
    long_name = "n" * draw(st.integers(256, 300))
    suffix = ".png" if command == "plot" else ""
    out = {
        "under a file": f"afile/sub{suffix}",
        "a file": "afile",
        "long name": long_name + suffix,
        "long nested name": f"ok/{long_name}/x{suffix}",
        "read-only": f"/proc/accelsim-out/x{suffix}",
        "a folder": "adir",
        "no extension": "plot",
        "unknown extension": draw(st.sampled_from(["plot.txt", "plot.png2", "plot.csv", "plot.PNG.gz"])),
    }[place]
    if command == "plot" and place == "a file":
        out = "afile"  # an existing file without an extension
    small = str(SMALL / "small.csv")
    argv = {
        "run": ["run", "--network", small],
        "compare": ["compare", "systolic_ws_32x32", "systolic_os_32x32", "--network", small],
        "sweep": ["sweep", "tiny.yaml"],
        "plot": ["plot", "speedup", "no_such_results"],
    }[command] + ["--out", out]
    files = {"afile": b"a file in the way\n", "tiny.yaml": TINY_SWEEP}
    links = {"small.csv": SMALL / "small.csv"}
    return Case(f"output {command}: {place}", argv, "--out", files, links, ["adir"])


@st.composite
def long_accelerator_name(draw: st.DrawFn) -> Case:
    """compare writes one run folder per accelerator, named after it: too long a name is refused."""
    data = yaml.safe_load((data_dir("arch_configs") / "systolic_os_32x32.yaml").read_text())
    data["name"] = "a" * draw(st.integers(256, 400))
    argv = [
        "compare",
        "systolic_ws_32x32",
        "long.yaml",
        "--network",
        str(SMALL / "small.csv"),
        "--out",
        "cmp",
    ]
    return Case(
        "output compare: accelerator name too long",
        argv,
        "--out",
        {"long.yaml": yaml.safe_dump(data).encode()},
    )


ACCELERGY = ROOT / "docs" / "examples" / "accelergy"
"""The example config priced with an Accelergy ERT and ART, and the two tables."""


@st.composite
def accelergy_cases(draw: st.DrawFn) -> Case:
    """The Accelergy example with one mutation of its ERT or of the config's energy keys; each makes
    the ERT unreadable or the map name what the ERT or the model does not have (the message names
    the ERT file, as the key it breaks is read against it)."""
    config = yaml.safe_load((ACCELERGY / "eyeriss_like.yaml").read_text())
    ert_text = (ACCELERGY / "ERT.yaml").read_bytes()
    ert = yaml.safe_load(ert_text)
    tech = config["technology"]
    how = draw(st.sampled_from(["version", "energy", "component", "syntax", "map target", "map key", "drop"]))
    if how == "version":
        ert["ERT"]["version"] = draw(st.sampled_from(["0.2", 9, "abc"]))
    elif how == "energy":
        table = draw(st.sampled_from(ert["ERT"]["tables"]))
        action = draw(st.sampled_from(table["actions"]))
        action["energy"] = draw(st.sampled_from([-1.0, "abc", math.inf, [1]]))
    elif how == "component":  # every component of the ERT is mapped
        draw(st.sampled_from(ert["ERT"]["tables"]))["name"] = "system_top_level.zz_unknown[1..1]"
    elif how == "map target":
        key = draw(st.sampled_from(sorted(tech["energy_map"])))
        tech["energy_map"][key] = draw(st.sampled_from(["zz_unknown.read", "mac.zz_unknown", "compute"]))
    elif how == "map key":
        key = draw(st.sampled_from(sorted(tech["energy_map"])))
        bad = draw(st.sampled_from(["zz.read", "noc.zz_unknown", "mac", "mac."]))
        tech["energy_map"][bad] = tech["energy_map"].pop(key)
    elif how == "drop":
        del tech[draw(st.sampled_from(["energy_map", "energy_table_node_nm"]))]
    ert_bytes = (
        ert_text + b"\nzz_broken: [unclosed\n" if how == "syntax" else yaml.dump(ert, Dumper=DUMPER).encode()
    )
    command = draw(st.sampled_from(["validate", "run", "compare"]))
    argv = {
        "validate": ["validate", "bad.yaml"],
        "run": ["run", "bad.yaml", "--network", str(SMALL / "small.csv"), "--out", "out"],
        "compare": ["compare", "eyeriss_v1", "bad.yaml", "--network", str(SMALL / "small.csv"), "--out", "o"],
    }[command]
    files = {"bad.yaml": yaml.dump(config, Dumper=DUMPER).encode(), "ERT.yaml": ert_bytes}
    return Case(f"accelergy {command}: {how}", argv, "ERT.yaml", files, {"ART.yaml": ACCELERGY / "ART.yaml"})


BAD_INPUTS = st.one_of(
    config_cases(),
    accelergy_cases(),
    network_cases(),
    profile_cases(),
    sweep_cases(),
    scalesim_cfg_cases(),
    scalesim_topology_cases(),
    output_cases(),
    long_accelerator_name(),
)


# --- the property -------------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under `folder`: relative path -> (size, mtime in ns)."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in [*dirnames, *filenames]:
            p = Path(dirpath) / name
            st_ = p.lstat()
            found[str(p.relative_to(folder))] = (st_.st_size if name in filenames else 0, st_.st_mtime_ns)
    return found


def run_in(folder: Path, argv: list[str]) -> tuple[int | str, str, str]:
    """Exit code (or the uncaught exception's traceback), stdout and stderr of `accelsim ARGV` in `folder`."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(folder), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: int | str = run_cli(argv)
        except BaseException:  # a traceback is exactly what this property forbids: report it as the result
            code = traceback.format_exc()
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module", autouse=True)
def tally() -> Iterator[Counter[str]]:
    TALLY.clear()
    yield TALLY
    total = sum(n for key, n in TALLY.items() if key.startswith("outcome "))
    lines = [f"bad-input property: {total} generated inputs"] + [
        f"  {k}: {n}" for k, n in sorted(TALLY.items())
    ]
    print("\n" + "\n".join(lines))
    if target := os.environ.get("ACCELSIM_PROPERTY_TALLY"):
        Path(target).write_text(json.dumps(dict(TALLY), indent=1, sort_keys=True) + "\n")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=BAD_INPUTS)
def test_bad_input_is_one_message_exit_2_and_nothing_written(tmp_path, case):
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    try:
        for name, content in case.files.items():
            (folder / name).write_bytes(content)
        for name, source in case.links.items():
            shutil.copyfile(source, folder / name)
        for name in case.folders:
            (folder / name).mkdir()
        before = snapshot(folder)
        code, out, err = run_in(folder, case.argv)
        after = snapshot(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    outcome = "exit 2, one message, nothing written"
    if not isinstance(code, int):
        outcome = "traceback"
    elif code != 2:
        outcome = f"exit {code}"
    elif not err.startswith("error: ") or err.count("error:") != 1 or "Traceback" in err:
        outcome = "not one error message"
    elif case.names not in err.splitlines()[0]:
        outcome = "message does not name the input"
    elif after != before:
        outcome = "something written"
    TALLY[f"outcome {outcome}"] += 1
    TALLY[f"class {case.what.split(':')[0]}"] += 1
    event(case.what.split(":")[0])
    event(outcome)
    detail = f"{case.what}\nargv: {case.argv}\nexit: {code}\nstdout: {out}\nstderr: {err}"
    assert outcome == "exit 2, one message, nothing written", detail
    assert not out, detail
