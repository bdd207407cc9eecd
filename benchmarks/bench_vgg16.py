"""Speed of the main job: VGG16 (dense) on the default accelerator.

Prints, measured in this one run: numba compile time (a cold process with an empty numba cache),
warm wall time of a whole-network simulation (best of several in one process), the time of the
stall-free closed form it must not be much slower than (the ratio is the engine's overhead), and
the peak resident memory of a process that runs the job once. It never fails: it reports.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time

CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
import accelsim
from accelsim.kernels.systolic import fold_stats
t1 = time.perf_counter()
fold_stats(1, 32, 32, 100, 100, 10)
t2 = time.perf_counter()
run = accelsim.simulate("systolic_ws_32x32", "vgg16")
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_kernel_call_s": t2 - t1, "first_run_s": t3 - t2,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "cycles": int(run.totals["cycles"])}))
"""


def child(cache_dir: str | None) -> dict[str, float]:
    env = None
    if cache_dir is not None:
        import os

        env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout)


def closed_form_cycles() -> tuple[int, float]:
    """The stall-free count straight from the kernel, no engine, no energy: the lower bound."""
    from accelsim.dataflows import get_dataflow
    from accelsim.dataflows.systolic import ArrayGeometry
    from accelsim.workload.loaders import load_network

    net = load_network("vgg16")
    df, geom = get_dataflow("systolic", "ws"), ArrayGeometry(32, 32)
    t0 = time.perf_counter()
    cycles = sum(df.map(layer, geom).stream_cycles - 1 for layer in net.compute_layers)
    return cycles, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as empty_cache:
        cold = child(empty_cache)
    warm_process = child(None)

    import accelsim

    accelsim.simulate("systolic_ws_32x32", "vgg16")  # warm up this process
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        run = accelsim.simulate("systolic_ws_32x32", "vgg16")
        times.append(time.perf_counter() - t0)
    best = min(times)
    cycles, bound_s = closed_form_cycles()
    assert int(run.totals["cycles"]) == cycles, "engine and closed form disagree"

    print("VGG16 dense on systolic_ws_32x32 (13 conv + 3 fc layers)")
    print(f"  simulated cycles                       {cycles:,}")
    print(f"  numba compile (cold cache, first call)  {cold['first_kernel_call_s']:.2f} s")
    print(f"  first kernel call with a warm cache     {warm_process['first_kernel_call_s']:.3f} s")
    print(f"  import accelsim                         {warm_process['import_s']:.2f} s")
    print(f"  first run in a fresh process            {warm_process['first_run_s']:.3f} s")
    print(f"  warm run, best of {args.repeat}                  {best:.3f} s   (target < 1 s)")
    print(f"  closed-form lower bound                 {bound_s:.4f} s   ratio {best / bound_s:.0f}x")
    print(
        f"  peak RSS of a process running it once   {warm_process['peak_rss_mb']:.0f} MB   (target < 500 MB)"
    )


if __name__ == "__main__":
    main()
