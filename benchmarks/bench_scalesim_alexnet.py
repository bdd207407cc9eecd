"""AlexNet on SCALE-Sim's own 32x32 WS config: accelsim vs SCALE-Sim 3.0.0, measured in one run.

Both read the same files, SCALE-Sim's `configs/scale.cfg` and `topologies/conv_nets/alexnet.csv`,
taken from a SCALE-Sim repository (a checkout or a bare git dir, `--scalesim-repo`; they are read
at run time, never copied into accelsim). SCALE-Sim runs end to end in its own pinned venv
(benchmarks/peers); accelsim runs `simulate(cfg, csv)` warm (best of several). Prints per-layer
cycles of both (they must be identical) and the wall-time ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from peers.scalesim_peer import ensure_venv, run_scalesim_full
from record_scalesim import Snapshot

import accelsim

DEFAULT_REPO = Path("/work/.mirror/scalesim-project+SCALE-Sim/repo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scalesim-repo", type=Path, default=DEFAULT_REPO)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-alexnet-") as tmp:
        snap = Snapshot(args.scalesim_repo, Path(tmp))
        cfg, topo = snap.extract("configs/scale.cfg"), snap.extract("topologies/conv_nets/alexnet.csv")
        python = ensure_venv()
        theirs = run_scalesim_full(python, cfg, topo, Path(tmp) / "scalesim")
        accelsim.simulate(cfg, topo)  # warm: numba cache loaded, modules imported
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            ours = accelsim.simulate(cfg, topo).layers
            times.append(time.perf_counter() - t0)
    best = min(times)
    print(f"SCALE-Sim commit {snap.commit[:10]}: configs/scale.cfg (32x32, ws, CALC), conv_nets/alexnet.csv")
    print("| layer | SCALE-Sim compute cycles | accelsim cycles | equal |")
    print("|---|---|---|---|")
    equal = 0
    for (_, row), peer in zip(ours.iterrows(), theirs.results, strict=True):
        same = int(row["cycles"]) == int(peer["compute_cycles"])
        equal += same
        verdict = "yes" if same else "NO"
        print(f"| {row['layer']} | {peer['compute_cycles']:,} | {row['cycles']:,} | {verdict} |")
    print(f"layers with identical cycles: {equal} of {len(ours)}")
    print(f"SCALE-Sim wall time (run_scale)      {theirs.wall_s:8.2f} s")
    print(f"accelsim wall time (warm, best of {args.repeat})  {best:8.4f} s")
    print(f"speed-up                              {theirs.wall_s / best:8.0f}x   (target >= 1000x)")


if __name__ == "__main__":
    main()
