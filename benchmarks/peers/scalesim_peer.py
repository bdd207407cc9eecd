"""Run SCALE-Sim 3.0.0, the dense systolic-array peer, in its own virtual environment.

accelsim's dense systolic model must reproduce SCALE-Sim's per-layer compute cycles, utilisation
and mapping efficiency. SCALE-Sim needs ``numpy<2`` and a handful of other pins, so it lives in
a separate venv (:func:`ensure_venv`) and is driven through a subprocess. The parent side of this
module uses the standard library only, so accelsim's tests and benchmarks can import it from
accelsim's own venv.

The same file is also the driver that runs *inside* the SCALE-Sim venv
(``python scalesim_peer.py {layers,full,compute} ...``); only that part imports ``scalesim``.

Two ways of running a layer:

``full``
    SCALE-Sim's real entry point, ``scalesim.scale_sim.scalesim(...).run_scale()``: operand and
    demand matrices, then the memory simulation that loops in Python once per demand row. The
    numbers are read back from ``COMPUTE_REPORT.csv`` and ``DETAILED_ACCESS_REPORT.csv``.
``compute``
    SCALE-Sim's own compute classes (``operand_matrix`` and ``systolic_compute_{os,ws,is}``),
    set up exactly as ``single_layer_sim.run`` does, without the prefetch matrices and the memory
    simulation. With ``InterfaceBandwidth: CALC`` the memory model never stalls and the last
    output row is serviced at cycle ``rows - 1``, so compute cycles = rows of the OFMAP demand
    matrix - 1. Only valid for dense (no sparsity), default-layout, CALC-bandwidth configs.
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import csv
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

SCALESIM_VERSION = "3.0.0"
"""The SCALE-Sim release accelsim is compared against (PyPI ``scalesim``)."""

REQUIREMENTS_PATH = Path(__file__).with_name("scalesim-requirements.txt")
"""Pinned requirements of the SCALE-Sim venv."""

VENV_ENV_VAR = "ACCELSIM_SCALESIM_VENV"
"""Environment variable that overrides the location of the SCALE-Sim venv."""

DEFAULT_VENV_DIR = Path.home() / ".cache" / "accelsim" / f"scalesim-{SCALESIM_VERSION}-venv"
"""Where :func:`ensure_venv` creates the venv when neither an argument nor the env var says."""

DATAFLOWS = ("os", "ws", "is")
"""SCALE-Sim's dataflows: output, weight and input stationary."""

_MARKER = ".accelsim-scalesim-requirements"
_LAYOUT_COLUMNS = 20
_RESULT_TIMEOUT_S = 24 * 3600.0


class ScaleSimPeerError(RuntimeError):
    """SCALE-Sim could not be installed or run, or its output could not be read."""


class ScaleSimLayer(TypedDict):
    """One layer as SCALE-Sim's own topology loader sees it (after depthwise ``DP`` splitting).

    GEMM topologies (``-i gemm``) are already mapped to conv entries: ifmap M x K, filter 1 x K,
    one channel, N filters, stride 1.
    """

    layer_index: int
    layer_name: str
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    num_filter: int
    stride: int
    ofmap_h: int
    ofmap_w: int


class ScaleSimResult(ScaleSimLayer):
    """A layer's numbers from one SCALE-Sim run (``full``) or compute-only run (``compute``).

    Cycle counts are in array clock cycles, ``*_pct`` values are percentages (0-100) with full
    float precision, SRAM/DRAM counts are in words. ``stall_cycles``,
    ``total_cycles_incl_prefetch`` and the DRAM counts are ``None`` in compute mode, which does not
    run the memory simulation.
    """

    mode: str
    compute_cycles: int
    stall_cycles: int | None
    total_cycles_incl_prefetch: int | None
    overall_util_pct: float
    mapping_eff_pct: float
    compute_util_pct: float
    sram_ifmap_reads: int
    sram_filter_reads: int
    sram_ofmap_writes: int
    dram_ifmap_reads: int | None
    dram_filter_reads: int | None
    dram_ofmap_writes: int | None
    wall_s: float


class ScaleSimSkip(TypedDict):
    """A layer that compute mode did not run, with the reason."""

    layer_index: int
    layer_name: str
    reason: str


@dataclass(frozen=True, slots=True)
class ComputeRun:
    """Result of :func:`run_scalesim_compute`: the layers run and the layers skipped."""

    results: list[ScaleSimResult]
    skipped: list[ScaleSimSkip]


@dataclass(frozen=True, slots=True)
class FullRun:
    """Result of :func:`run_scalesim_full`: per-layer results and SCALE-Sim's total wall time."""

    results: list[ScaleSimResult]
    wall_s: float
    """Seconds from building the ``scalesim`` object to the end of ``run_scale`` (reports included)."""


@dataclass(frozen=True, slots=True)
class DemandEstimate:
    """Size of SCALE-Sim's demand matrices for one layer, from its fold arithmetic.

    ``demand_rows`` is the row count of each of the three demand matrices (one row per cycle);
    ``demand_bytes`` is what the three float64 matrices take together; ``copy_bytes`` estimates
    the bytes copied by the quadratic ``np.concatenate`` loops of the OS and IS engines (0 for WS,
    which collects folds in a list).
    """

    folds: int
    demand_rows: int
    demand_bytes: int
    copy_bytes: int


# ---------------------------------------------------------------------------------------------
# Parent side (stdlib only)
# ---------------------------------------------------------------------------------------------


def venv_python(venv: Path) -> Path:
    """The interpreter of the virtual environment at ``venv``."""
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (POSIX ``flock``; a no-op elsewhere)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_checked(cmd: Sequence[str], what: str, timeout_s: float | None = None) -> str:
    """Run ``cmd``; return its stdout, or raise :class:`ScaleSimPeerError` naming ``what``."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout_s)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ScaleSimPeerError(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + "\n" + done.stderr).strip().splitlines()[-25:])
        raise ScaleSimPeerError(f"{what} failed (exit {done.returncode}): {' '.join(cmd)}\n{tail}")
    return done.stdout


def venv_dir(path: Path | None = None) -> Path:
    """Where the SCALE-Sim venv lives: ``path``, else ``$ACCELSIM_SCALESIM_VENV``, else
    ``~/.cache/accelsim/scalesim-3.0.0-venv``."""
    return Path(path or os.environ.get(VENV_ENV_VAR) or DEFAULT_VENV_DIR).expanduser().absolute()


def venv_ready(path: Path | None = None) -> bool:
    """True when the venv exists with exactly the pinned requirements (nothing to install)."""
    venv = venv_dir(path)
    marker = venv / _MARKER
    return (
        venv_python(venv).exists() and marker.exists() and marker.read_text() == REQUIREMENTS_PATH.read_text()
    )


def index_unreachable(timeout_s: float = 60.0) -> str | None:
    """Why the pinned SCALE-Sim cannot be fetched from the package index pip is configured with, or
    None if it can (``pip download`` of the one pinned wheel, into a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="scalesim-probe-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", tmp, "--retries", "0"]
        cmd += ["--timeout", "10", f"scalesim=={SCALESIM_VERSION}"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout_s)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"pip download failed: {exc}"
    if done.returncode == 0:
        return None
    lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    network = [
        line for line in lines if re.search(r"could not fetch|connect|unreachable|timed out", line, re.I)
    ]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (network or errors or lines or [f"pip download exited {done.returncode}"])[-1]


def ensure_venv(path: Path | None = None) -> Path:
    """Create (once) the SCALE-Sim venv with the pinned requirements; return its python.

    The location is `venv_dir(path)`. A venv whose recorded requirements match
    ``scalesim-requirements.txt`` is reused as it is; otherwise it is (re)built. Raises
    :class:`ScaleSimPeerError` (a ``RuntimeError``) when it cannot be built.
    """
    venv = venv_dir(path)
    wanted = REQUIREMENTS_PATH.read_text()
    python = venv_python(venv)
    marker = venv / _MARKER
    with _file_lock(venv.parent / f"{venv.name}.lock"):
        if venv_ready(venv):
            return python
        _run_checked([sys.executable, "-m", "venv", "--clear", str(venv)], f"creating venv {venv}")
        _run_checked(
            [str(python), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS_PATH)],
            f"installing {REQUIREMENTS_PATH.name} into {venv}",
        )
        probe = "import importlib.metadata as m, scalesim.scale_sim; print(m.version('scalesim'))"
        version = _run_checked([str(python), "-c", probe], f"importing scalesim in {venv}").strip()
        if version != SCALESIM_VERSION:
            raise ScaleSimPeerError(f"{venv} has scalesim {version}, expected {SCALESIM_VERSION}")
        marker.write_text(wanted)
    return python


def scalesim_version(python: Path) -> str:
    """The installed ``scalesim`` version of the interpreter ``python``."""
    probe = "import importlib.metadata as m; print(m.version('scalesim'))"
    return _run_checked([str(python), "-c", probe], "querying the scalesim version").strip()


def write_dummy_layout(topology: Path, layout: Path) -> None:
    """Write a layout CSV with one all-ones row per topology row.

    SCALE-Sim 3 always parses a layout file, even with custom layouts off; its content is then
    unused.
    """
    lines = [line for line in topology.read_text(encoding="utf-8-sig").splitlines()[1:] if line.strip()]
    names = [line.replace("\t", ",").split(",")[0].strip() or "layer" for line in lines]
    header = "Layer name," + ",".join(f"x{i}" for i in range(_LAYOUT_COLUMNS)) + ",\n"
    body = "".join(f"{name}," + ",".join(["1"] * _LAYOUT_COLUMNS) + ",\n" for name in names)
    layout.write_text(header + body)


def _drive(python: Path, args: Sequence[str], workdir: Path, what: str) -> dict[str, Any]:
    """Run this file as the driver inside the SCALE-Sim venv and return its JSON answer."""
    out = workdir / "driver-result.json"
    out.unlink(missing_ok=True)
    cmd = [str(python), str(Path(__file__).absolute()), *args, "--out", str(out)]
    _run_checked(cmd, what, timeout_s=_RESULT_TIMEOUT_S)
    try:
        answer: dict[str, Any] = json.loads(out.read_text())
    except (OSError, ValueError) as exc:
        raise ScaleSimPeerError(f"{what}: the driver wrote no readable result ({exc})") from exc
    return answer


def scalesim_layers(python: Path, topology: Path, gemm: bool = False) -> list[ScaleSimLayer]:
    """The layers of ``topology`` as SCALE-Sim's loader parses them (raises if it cannot)."""
    with tempfile.TemporaryDirectory(prefix="scalesim-layers-") as tmp:
        args = ["layers", "--topology", str(topology.absolute()), *(["--gemm"] if gemm else [])]
        answer = _drive(python, args, Path(tmp), f"SCALE-Sim loading {topology}")
    layers: list[ScaleSimLayer] = answer["layers"]
    return layers


def _num(text: str) -> int | float:
    """A number from a SCALE-Sim report cell: int when integral in form, else float."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return float(text)


def _read_report(path: Path) -> list[list[str]]:
    """The data rows of a SCALE-Sim report CSV (header skipped, trailing empty cell dropped)."""
    with path.open(newline="") as handle:
        rows = [row for row in csv.reader(handle) if row]
    return [[cell for cell in row if cell.strip() != ""] for row in rows[1:]]


def _as_int(value: int | float) -> int:
    """An integral report value as int (raises on a fractional one)."""
    if value != int(value):
        raise ScaleSimPeerError(f"expected an integral count, got {value!r}")
    return int(value)


def run_scalesim(
    python: Path, cfg: Path, topology: Path, workdir: Path, gemm: bool = False
) -> list[ScaleSimResult]:
    """Run SCALE-Sim end to end (``scalesim.run_scale``) and return one result per layer.

    Runs in a subprocess with ``python`` (from :func:`ensure_venv`), ``save_disk_space=True``,
    ``verbose=False`` and a dummy layout file; reports go under ``workdir``. ``gemm`` selects
    SCALE-Sim's ``-i gemm`` topology format (``Layer,M,N,K``). ``wall_s`` is the time SCALE-Sim
    spent in ``single_layer_sim.run`` for that layer (compute and memory simulation).
    """
    return run_scalesim_full(python, cfg, topology, workdir, gemm).results


def run_scalesim_full(python: Path, cfg: Path, topology: Path, workdir: Path, gemm: bool = False) -> FullRun:
    """:func:`run_scalesim`, also returning SCALE-Sim's total wall time."""
    workdir.mkdir(parents=True, exist_ok=True)
    layout = workdir / "dummy_layout.csv"
    write_dummy_layout(topology, layout)
    args = [
        "full",
        "--config",
        str(cfg.absolute()),
        "--topology",
        str(topology.absolute()),
        "--layout",
        str(layout.absolute()),
        "--workdir",
        str(workdir.absolute()),
        *(["--gemm"] if gemm else []),
    ]
    answer = _drive(python, args, workdir, f"SCALE-Sim on {topology} with {cfg}")
    report_dir = Path(answer["report_dir"])
    compute = _read_report(report_dir / "COMPUTE_REPORT.csv")
    detail = _read_report(report_dir / "DETAILED_ACCESS_REPORT.csv")
    layers: list[ScaleSimLayer] = answer["layers"]
    walls: dict[str, float] = answer["layer_wall_s"]
    if not len(compute) == len(detail) == len(layers):
        raise ScaleSimPeerError(
            f"{report_dir}: {len(compute)} compute rows, {len(detail)} detail rows, {len(layers)} layers"
        )
    results: list[ScaleSimResult] = []
    for layer, crow, drow in zip(layers, compute, detail, strict=True):
        c = [_num(x) for x in crow]
        d = [_num(x) for x in drow]
        if int(c[0]) != layer["layer_index"] or int(d[0]) != layer["layer_index"]:
            raise ScaleSimPeerError(f"{report_dir}: report rows out of order at layer {layer['layer_index']}")
        results.append(
            ScaleSimResult(
                **layer,
                mode="full",
                total_cycles_incl_prefetch=_as_int(c[1]),
                compute_cycles=_as_int(c[2]),
                stall_cycles=_as_int(c[3]),
                overall_util_pct=float(c[4]),
                mapping_eff_pct=float(c[5]),
                compute_util_pct=float(c[6]),
                sram_ifmap_reads=_as_int(d[3]),
                sram_filter_reads=_as_int(d[6]),
                sram_ofmap_writes=_as_int(d[9]),
                dram_ifmap_reads=_as_int(d[12]),
                dram_filter_reads=_as_int(d[15]),
                dram_ofmap_writes=_as_int(d[18]),
                wall_s=float(walls[str(layer["layer_index"])]),
            )
        )
    return FullRun(results=results, wall_s=float(answer["wall_s"]))


def run_scalesim_compute(
    python: Path,
    cfg: Path,
    topology: Path,
    workdir: Path,
    gemm: bool = False,
    layer_indices: Sequence[int] | None = None,
    max_demand_bytes: int = 3 * 2**30,
    max_copy_bytes: int = 400 * 2**30,
) -> ComputeRun:
    """Run only SCALE-Sim's compute classes for each layer (see the module docstring).

    Layers whose demand matrices would exceed ``max_demand_bytes``, or whose OS/IS fold
    concatenation would copy more than ``max_copy_bytes``, are skipped and reported in
    :attr:`ComputeRun.skipped` with the reason. ``layer_indices`` limits the run to some layers.
    Raises :class:`ScaleSimPeerError` for configs where compute mode is not exact (sparsity,
    custom layouts, USER bandwidth).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    layout = workdir / "dummy_layout.csv"
    write_dummy_layout(topology, layout)
    args = [
        "compute",
        "--config",
        str(cfg.absolute()),
        "--topology",
        str(topology.absolute()),
        "--layout",
        str(layout.absolute()),
        "--max-demand-bytes",
        str(max_demand_bytes),
        "--max-copy-bytes",
        str(max_copy_bytes),
        *(["--gemm"] if gemm else []),
        *(["--layers", ",".join(map(str, layer_indices))] if layer_indices is not None else []),
    ]
    answer = _drive(python, args, workdir, f"SCALE-Sim compute classes on {topology} with {cfg}")
    return ComputeRun(results=answer["results"], skipped=answer["skipped"])


def read_array_config(cfg: Path) -> tuple[int, int, str]:
    """``(rows, cols, dataflow)`` of a SCALE-Sim config (ArrayHeight, ArrayWidth, Dataflow)."""
    parser = configparser.ConfigParser()
    parser.read(cfg)
    section = parser["architecture_presets"]
    return int(section["ArrayHeight"]), int(section["ArrayWidth"]), section["Dataflow"].strip()


def write_config(base: Path, out: Path, rows: int, cols: int, dataflow: str, run_name: str) -> None:
    """Copy the SCALE-Sim config ``base`` to ``out`` with another array shape and dataflow."""
    if dataflow not in DATAFLOWS:
        raise ValueError(f"dataflow must be one of {DATAFLOWS}, got {dataflow!r}")
    if rows <= 0 or cols <= 0:
        raise ValueError(f"array rows and cols must be > 0, got {rows}x{cols}")
    parser = configparser.ConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep SCALE-Sim's key case
    parser.read(base)
    parser["general"]["run_name"] = run_name
    parser["architecture_presets"]["ArrayHeight"] = str(rows)
    parser["architecture_presets"]["ArrayWidth"] = str(cols)
    parser["architecture_presets"]["Dataflow"] = dataflow
    with out.open("w") as handle:
        parser.write(handle)


def demand_estimate(layer: ScaleSimLayer, rows: int, cols: int, dataflow: str) -> DemandEstimate:
    """SCALE-Sim's fold count and demand-matrix size for ``layer`` on a ``rows`` x ``cols`` array.

    Mirrors ``systolic_compute_{os,ws,is}``: with P output pixels per filter, W = R*S*C window
    elements and K filters, (Sr, Sc, T) is (P, K, W) for OS, (W, K, P) for WS and (W, P, K) for
    IS; folds = ceil(Sr/rows) * ceil(Sc/cols); each fold lasts rows+cols+T-2 (OS) or
    2*rows+cols+T-2 (WS, IS) demand rows.
    """
    pixels = layer["ofmap_h"] * layer["ofmap_w"]
    window = layer["filter_h"] * layer["filter_w"] * layer["channels"]
    filters = layer["num_filter"]
    if dataflow == "os":
        s_r, s_c, t, per_fold = pixels, filters, window, rows + cols + window - 2
    elif dataflow == "ws":
        s_r, s_c, t, per_fold = window, filters, pixels, 2 * rows + cols + pixels - 2
    elif dataflow == "is":
        s_r, s_c, t, per_fold = window, pixels, filters, 2 * rows + cols + filters - 2
    else:
        raise ValueError(f"dataflow must be one of {DATAFLOWS}, got {dataflow!r}")
    del t
    folds = math.ceil(s_r / rows) * math.ceil(s_c / cols)
    demand_rows = folds * per_fold
    width = rows + 2 * cols
    demand_bytes = 8 * demand_rows * width
    copy_bytes = 0 if dataflow == "ws" else 8 * per_fold * width * folds * (folds + 1) // 2
    return DemandEstimate(
        folds=folds, demand_rows=demand_rows, demand_bytes=demand_bytes, copy_bytes=copy_bytes
    )


def compute_skip_reason(est: DemandEstimate, max_demand_bytes: int, max_copy_bytes: int) -> str:
    """Why compute mode skips a layer with estimate ``est`` under these limits ("" if it does not)."""
    if est.demand_bytes > max_demand_bytes:
        return f"demand matrices ~{est.demand_bytes / 2**30:.1f} GiB > {max_demand_bytes / 2**30:.1f} GiB"
    if est.copy_bytes > max_copy_bytes:
        return (
            f"{est.folds} folds: SCALE-Sim's per-fold np.concatenate would copy"
            f" ~{est.copy_bytes / 2**30:.0f} GiB > {max_copy_bytes / 2**30:.0f} GiB"
        )
    return ""


# ---------------------------------------------------------------------------------------------
# Driver side: runs inside the SCALE-Sim venv (imports scalesim)
# ---------------------------------------------------------------------------------------------


def _layers_of(topo: Any) -> list[ScaleSimLayer]:
    """Layers from a loaded ``scalesim.topology_utils.topologies`` object."""
    layers: list[ScaleSimLayer] = []
    for index in range(topo.get_num_layers()):
        entry = topo.get_layer_params(index)
        ofmap_h, ofmap_w = topo.get_layer_ofmap_dims(index)
        layers.append(
            ScaleSimLayer(
                layer_index=index,
                layer_name=str(entry[0]),
                ifmap_h=int(entry[1]),
                ifmap_w=int(entry[2]),
                filter_h=int(entry[3]),
                filter_w=int(entry[4]),
                channels=int(entry[5]),
                num_filter=int(entry[6]),
                stride=int(entry[7]),
                ofmap_h=int(ofmap_h),
                ofmap_w=int(ofmap_w),
            )
        )
    return layers


def _driver_layers(ns: argparse.Namespace) -> dict[str, Any]:
    """``layers``: parse a topology with SCALE-Sim's loader."""
    from scalesim.topology_utils import topologies  # type: ignore[import-not-found,unused-ignore]

    topo = topologies()
    topo.load_arrays(topofile=ns.topology, mnk_inputs=ns.gemm)
    topo.topo_calc_hyperparams()
    return {"layers": _layers_of(topo)}


def _driver_full(ns: argparse.Namespace) -> dict[str, Any]:
    """``full``: SCALE-Sim's real end-to-end run, timing each layer's ``single_layer_sim.run``."""
    from scalesim import single_layer_sim as sls  # type: ignore[import-not-found,unused-ignore]
    from scalesim.scale_sim import scalesim  # type: ignore[import-not-found,unused-ignore]

    walls: dict[str, float] = {}
    original: Callable[[Any], None] = sls.single_layer_sim.run

    def timed_run(self: Any) -> None:
        """Call SCALE-Sim's own ``run`` and record how long it took."""
        start = time.perf_counter()
        original(self)
        walls[str(self.layer_id)] = time.perf_counter() - start

    sls.single_layer_sim.run = timed_run  # NOTE: timing only; behaviour is unchanged
    start = time.perf_counter()
    sim = scalesim(
        save_disk_space=True,
        verbose=False,
        config=ns.config,
        topology=ns.topology,
        layout=ns.layout,
        input_type_gemm=ns.gemm,
    )
    sim.run_scale(top_path=ns.workdir)
    total = time.perf_counter() - start
    report_dir = os.path.join(ns.workdir, sim.config.get_run_name())
    return {
        "report_dir": report_dir,
        "layers": _layers_of(sim.topo),
        "layer_wall_s": walls,
        "wall_s": total,
    }


def _driver_compute(ns: argparse.Namespace) -> dict[str, Any]:
    """``compute``: SCALE-Sim's compute classes only, as ``single_layer_sim.run`` sets them up."""
    from scalesim.scale_sim import scalesim  # type: ignore[import-not-found,unused-ignore]
    from scalesim.single_layer_sim import single_layer_sim  # type: ignore[import-not-found,unused-ignore]

    sim = scalesim(
        save_disk_space=True,
        verbose=False,
        config=ns.config,
        topology=ns.topology,
        layout=ns.layout,
        input_type_gemm=ns.gemm,
    )
    config, topo, layouts = sim.config, sim.topo, sim.layout
    if config.sparsity_support or config.using_ifmap_custom_layout or config.using_filter_custom_layout:
        raise ScaleSimPeerError("compute mode needs a dense config without custom layouts")
    if config.use_user_dram_bandwidth():
        raise ScaleSimPeerError("compute mode needs InterfaceBandwidth: CALC (USER mode can stall)")
    rows, cols = config.get_array_dims()
    dataflow = config.get_dataflow()
    topo.topo_calc_hyperparams()
    layers = _layers_of(topo)
    wanted = range(len(layers)) if ns.layers is None else [int(x) for x in ns.layers.split(",") if x]
    results: list[ScaleSimResult] = []
    skipped: list[ScaleSimSkip] = []
    for index in wanted:
        layer = layers[index]
        reason = compute_skip_reason(
            demand_estimate(layer, rows, cols, dataflow), ns.max_demand_bytes, ns.max_copy_bytes
        )
        if reason:
            skipped.append(ScaleSimSkip(layer_index=index, layer_name=layer["layer_name"], reason=reason))
            continue
        start = time.perf_counter()
        layer_sim = single_layer_sim()
        layer_sim.set_params(
            layer_id=index, config_obj=config, topology_obj=topo, layout_obj=layouts, verbose=False
        )
        op_mat = layer_sim.op_mat_obj
        _, ifmap_op_mat = op_mat.get_ifmap_matrix()
        _, filter_op_mat = op_mat.get_filter_matrix()
        _, ofmap_op_mat = op_mat.get_ofmap_matrix()
        num_compute = topo.get_layer_num_ofmap_px(index) * topo.get_layer_window_size(index)
        engine = layer_sim.compute_system
        if dataflow == "ws":
            engine.set_params(
                config_obj=config,
                ifmap_op_mat=ifmap_op_mat,
                filter_op_mat=filter_op_mat,
                ofmap_op_mat=ofmap_op_mat,
                sparsity_ratio_N=layer_sim.sparsity_ratio_N,
                sparsity_ratio_M=layer_sim.sparsity_ratio_M,
                ifmap_op_mat_original=op_mat.ifmap_addr_matrix_original,
                sparsity_filter_array=op_mat.sparse_filter_array,
            )
        else:
            engine.set_params(
                config_obj=config,
                ifmap_op_mat=ifmap_op_mat,
                filter_op_mat=filter_op_mat,
                ofmap_op_mat=ofmap_op_mat,
            )
        # NOTE: get_prefetch_matrices() is skipped: it only feeds the memory simulation.
        _, _, ofmap_demand = engine.get_demand_matrices()
        cycles = int(ofmap_demand.shape[0]) - 1
        results.append(
            ScaleSimResult(
                **layer,
                mode="compute",
                compute_cycles=cycles,
                stall_cycles=None,
                total_cycles_incl_prefetch=None,
                overall_util_pct=(num_compute * 100) / (cycles * layer_sim.num_mac_unit),
                mapping_eff_pct=engine.get_avg_mapping_efficiency() * 100,
                compute_util_pct=engine.get_avg_compute_utilization() * 100,
                sram_ifmap_reads=int(engine.get_ifmap_requests()),
                sram_filter_reads=int(engine.get_filter_requests()),
                sram_ofmap_writes=int(engine.get_ofmap_requests()),
                dram_ifmap_reads=None,
                dram_filter_reads=None,
                dram_ofmap_writes=None,
                wall_s=time.perf_counter() - start,
            )
        )
        del layer_sim, op_mat, engine, ifmap_op_mat, filter_op_mat, ofmap_op_mat, ofmap_demand
    return {"results": results, "skipped": skipped}


def _driver_main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the driver (inside the SCALE-Sim venv); writes its answer as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("layers", "full", "compute"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--topology", required=True)
        cmd.add_argument("--gemm", action="store_true")
        cmd.add_argument("--out", required=True, type=Path)
        if name != "layers":
            cmd.add_argument("--config", required=True)
            cmd.add_argument("--layout", required=True)
        if name == "full":
            cmd.add_argument("--workdir", required=True)
        if name == "compute":
            cmd.add_argument("--layers", default=None)
            cmd.add_argument("--max-demand-bytes", type=int, required=True)
            cmd.add_argument("--max-copy-bytes", type=int, required=True)
    ns = parser.parse_args(argv)
    handlers: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
        "layers": _driver_layers,
        "full": _driver_full,
        "compute": _driver_compute,
    }
    answer = handlers[ns.command](ns)
    tmp = ns.out.with_name(ns.out.name + ".part")
    tmp.write_text(json.dumps(answer))
    os.replace(tmp, ns.out)


if __name__ == "__main__":
    _driver_main()
