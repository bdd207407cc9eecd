"""Speed of every sparse model on one network, against the popcount lower bound, measured in one run.

For each config: one warm-up run (numba compiles or loads its cache), then the best of `--repeat`
whole-network runs of `accelsim.simulate` (exact seeded masks, generated inside each run as a user's
run does). The yardstick is the same masks' generation time plus `lower_bound.popcount_seconds`, the
time to count every valid product window by window; the ratio is model time / yardstick. Peak RSS is
of this whole process. It never fails: it reports.

    python benchmarks/bench_sparse.py                      # VGG16, pruned
    python benchmarks/bench_sparse.py mobilenet_v1 --repeat 3
"""

from __future__ import annotations

import argparse
import resource
import time

from lower_bound import network_workloads, popcount_seconds

import accelsim

CONFIGS = ("phantom2d", "scnn", "sparten", "eyeriss_v2_1024", "eyeriss_v2")


def mask_seconds(network: str, profile: str, seed: int) -> float:
    """Time to generate every compute layer's masks once."""
    works = network_workloads(network, profile, seed)
    t0 = time.perf_counter()
    for w in works:
        _ = w.masks
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("network", nargs="?", default="vgg16")
    parser.add_argument("profile", nargs="?", default="pruned")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS))
    args = parser.parse_args()

    masks_s = mask_seconds(args.network, args.profile, args.seed)
    count_s, valid = popcount_seconds(args.network, args.profile, args.seed)
    bound = masks_s + count_s
    print(f"{args.network}/{args.profile}, seed {args.seed}: {valid:,} valid products")
    print(f"yardstick: masks {masks_s:.2f} s + popcount {count_s:.2f} s = {bound:.2f} s\n")
    print(f"| config | skipped layers | best of {args.repeat} (s) | / yardstick |")
    print("|---|---|---|---|")
    for name in args.configs:
        accelsim.simulate(name, args.network, args.profile, args.seed, skip_unsupported=True)  # warm-up
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            run = accelsim.simulate(name, args.network, args.profile, args.seed, skip_unsupported=True)
            best = min(best, time.perf_counter() - t0)
        skipped = len(run.provenance["skipped_layers"])
        print(f"| {name} | {skipped} | {best:.2f} | {best / bound:.1f}x |")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process: {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
