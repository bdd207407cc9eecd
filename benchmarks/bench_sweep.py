"""Sweep throughput on Dask: a 64-point sweep with 1 worker, then with 2, on a local cluster.

Each point is MobileNet v1 on a weight-stationary array with a finite DRAM bandwidth (4 array sizes x
16 bandwidths), so the engine plays out every transfer: ~0.3-1 s a point. The cluster is started and
its workers warmed (accelsim imported, numba cache loaded) before the clock starts; the sweep itself
goes through `run_sweep` with the cluster's address, exactly as `accelsim sweep --scheduler` does.
Prints the wall times, the speed-up and the executor overhead per point:
(workers x wall - sum of in-worker simulate times) / points, i.e. worker time not spent simulating.
It never fails: it reports.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from accelsim.config.sweep_spec import SweepSpec
from accelsim.sweep import expand
from accelsim.sweep.executor import dask_client, run_sweep
from accelsim.sweep.points import SweepPoint
from accelsim.sweep.store import point_path, read_provenance

SPEC = SweepSpec(
    name="bench",
    base="systolic_ws_32x32",
    axes={
        "rows": [24, 32, 40, 48],
        "cols": [24, 32, 40, 48],
        "dram.bandwidth_bytes_per_cycle": [8.0 + 4.0 * i for i in range(16)],
    },
    zip=[["rows", "cols"]],
    networks=["mobilenet_v1"],
)


def _warm() -> bool:
    import accelsim

    accelsim.simulate("systolic_ws_32x32", "alexnet")
    return True


def measure(points: list[SweepPoint], workers: int) -> dict[str, float]:
    """Wall time of the sweep on a warmed `workers`-process local cluster, and the simulate times."""
    t0 = time.perf_counter()
    with dask_client(workers=workers) as client:
        client.run(_warm)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            summary = run_sweep(points, Path(out), scheduler=client.scheduler.address)
            wall = time.perf_counter() - started
            simulate_s = sum(read_provenance(point_path(Path(out), p.point_id))["simulate_s"] for p in points)
    return {
        "cluster_start_s": started - t0,
        "wall_s": wall,
        "simulate_s": simulate_s,
        "done": summary.done,
        "overhead_per_point_s": (workers * wall - simulate_s) / len(points),
    }


def main() -> None:
    """Run the 1-worker and 2-worker sweeps and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    points = expand(SPEC)
    print(f"{len(points)} points (MobileNet v1, ws, 4 array sizes x 16 DRAM bandwidths)")
    results = {}
    for n in args.workers:
        r = measure(points, n)
        results[n] = r
        print(
            f"{n} worker(s): wall {r['wall_s']:.2f} s, simulate (sum in workers) {r['simulate_s']:.2f} s, "
            f"{r['simulate_s'] / len(points):.3f} s/point, "
            f"executor overhead {r['overhead_per_point_s'] * 1e3:.1f} "
            f"ms/point, cluster start {r['cluster_start_s']:.2f} s, {int(r['done'])} done"
        )
    base = min(results)
    for n in sorted(results):
        if n != base:
            print(f"speed-up {base} -> {n} workers: {results[base]['wall_s'] / results[n]['wall_s']:.2f}x")


if __name__ == "__main__":
    main()
