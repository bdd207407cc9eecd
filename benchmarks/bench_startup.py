"""Start-up time of the command line, as whole processes, and what a small run imports.

Times `accelsim --help`, `validate` of a network, a config and a sweep spec, `list accelerators` and
`run` of SCALE-Sim's AlexNet topology on its 32 x 32 WS config (the layer shapes recorded in
tests/data/scalesim_parity.csv), each as a fresh `python -m accelsim.cli` process: one warm-up run
(bytecode and numba caches written), then --repeat timed runs; prints median, min and max. Then lists
the accelsim modules a small run imported, and whether --help and validate imported numpy, pandas or
numba. The load average is printed too: on a shared machine it explains a slow median.

`--against DIR` times another source tree of accelsim too, e.g. the commit before a change
(`git archive <commit> | tar -x -C /tmp/before`, then `--against /tmp/before`): the two trees run
alternately, one process each in turn, so that a load that comes and goes weighs on both alike.
`--source DIR` times another tree instead of this one.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARITY = ROOT / "tests" / "data" / "scalesim_parity.csv"
SCALE_CFG = """\
[general]
run_name = scale_alexnet
[architecture_presets]
ArrayHeight: 32
ArrayWidth: 32
IfmapSramSzkB: 6144
FilterSramSzkB: 6144
OfmapSramSzkB: 2048
Dataflow: ws
[run_presets]
InterfaceBandwidth: CALC
"""
"""SCALE-Sim's configs/scale.cfg as far as accelsim reads it (32 x 32, weight stationary, CALC)."""
HEAVY = ("numpy", "pandas", "numba", "pyarrow", "matplotlib", "dask")


def alexnet_topology(folder: Path) -> Path:
    """SCALE-Sim's topologies/conv_nets/alexnet.csv, rebuilt from the recorded parity rows."""
    rows: dict[int, list[str]] = {}
    with PARITY.open(newline="") as f:
        for r in csv.DictReader(f):
            if r["topology"] == "topologies/conv_nets/alexnet.csv":
                cells = [r[k] for k in ("layer_name", "ifmap_h", "ifmap_w", "filter_h", "filter_w")]
                cells += [r[k] for k in ("channels", "num_filter", "stride")]
                rows[int(r["layer_index"])] = cells
    header = (
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,"
    )
    path = folder / "alexnet.csv"
    path.write_text("\n".join([header, *(", ".join(rows[i]) + "," for i in sorted(rows))]) + "\n")
    return path


def environment(source: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as installed: .pyc used
    env["PYTHONPATH"] = str(source)
    return env


def timed(args: list[str], cwd: Path, envs: list[dict[str, str]], repeat: int) -> list[list[float] | int]:
    """Per environment: wall times of `repeat` runs after a warm-up (environments taking turns), or
    the exit code if the command fails there."""
    cmd = [sys.executable, "-m", "accelsim.cli", *args]
    results: list[list[float] | int] = []
    for env in envs:  # warm-up: bytecode and numba caches written
        warm = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
        results.append([] if warm.returncode == 0 else warm.returncode)
    for _ in range(repeat):
        for env, times in zip(envs, results, strict=True):
            if isinstance(times, list):
                started = time.perf_counter()
                subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=True)
                times.append(time.perf_counter() - started)
    return results


def cell(times: list[float] | int) -> str:
    if isinstance(times, int):
        return f"fails (exit {times}) | | "
    return f"{statistics.median(times):.3f} | {min(times):.3f} | {max(times):.3f}"


def imported(args: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """The modules a fresh interpreter holds after `accelsim ARGS`."""
    code = (
        "import json, sys\nfrom accelsim.cli import app\n"
        f"try:\n    app({args!r}, standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print('MODULES=' + json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return list(json.loads(done.stdout.rpartition("MODULES=")[2]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--source", type=Path, default=ROOT, help="source tree of accelsim to time")
    parser.add_argument("--against", type=Path, default=None, help="another source tree, timed in turn")
    args = parser.parse_args()
    source = args.source.resolve()
    env = environment(source)
    trees = [source] + ([args.against.resolve()] if args.against else [])
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        folder = Path(tmp)
        (folder / "scale.cfg").write_text(SCALE_CFG)
        alexnet_topology(folder)
        commands = {
            "accelsim --help": ["--help"],
            "validate network (vgg16.yaml)": ["validate", str(ROOT / "workloads" / "vgg16.yaml")],
            "validate config (systolic_ws_32x32)": [
                "validate",
                str(ROOT / "arch_configs" / "systolic_ws_32x32.yaml"),
            ],
            "validate sweep spec (example, 9 points)": [
                "validate",
                str(ROOT / "arch_configs" / "sweeps" / "example.yaml"),
            ],
            "list accelerators": ["list", "accelerators"],
            "run SCALE-Sim AlexNet (scale.cfg)": [
                "run",
                "scale.cfg",
                "--network",
                "alexnet.csv",
                "--out",
                "out",
            ],
        }
        print(f"python {sys.version.split()[0]}, {args.repeat} runs of each after one warm-up")
        for i, tree in enumerate(trees):
            print(f"tree {'AB'[i]}: {tree}")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        head = " | ".join(
            f"{'AB'[i]} median s | {'AB'[i]} min s | {'AB'[i]} max s" for i in range(len(trees))
        )
        print(f"| command | {head} |\n|---|{'---|---|---|' * len(trees)}")
        for name, cmd in commands.items():
            results = timed(cmd, folder, [environment(t) for t in trees], args.repeat)
            print(f"| {name} | {' | '.join(cell(r) for r in results)} |", flush=True)
        print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"\nimports of tree A ({source}):")
        run = imported(commands["run SCALE-Sim AlexNet (scale.cfg)"], folder, env)
        ours = [m for m in run if m == "accelsim" or m.startswith("accelsim.")]
        print(f"\naccelsim modules a small run imported ({len(ours)}):")
        for family in ("accelerators", "dataflows", "kernels"):
            found = sorted(
                m.split(".", 2)[2] for m in ours if m.startswith(f"accelsim.{family}.") and m.count(".") == 2
            )
            print(f"  accelsim.{family}: {', '.join(found) or '(none)'}")
        others = sorted(
            m for m in ours if m.split(".")[1:2] not in (["accelerators"], ["dataflows"], ["kernels"])
        )
        print(f"  other: {', '.join(others)}")
        for name in (
            "accelsim --help",
            "validate network (vgg16.yaml)",
            "validate config (systolic_ws_32x32)",
        ):
            mods = imported(commands[name], folder, env)
            heavy = [h for h in HEAVY if h in mods]
            print(f"{name}: imports {', '.join(heavy) or 'none of ' + ', '.join(HEAVY)}")


if __name__ == "__main__":
    main()
