"""SparTen against its baselines on AlexNet and VGG16 (pruned): the validation table and the speed check.

Runs the dense and one-sided baselines (`sparten_dense`, `sparten_one_sided`), SparTen with each greedy
balancing variant (none, GB-S, GB-H; the `balancing` key of `sparten`), and SCNN (`scnn`). All are
1,024 multipliers at 1 GHz (iso-multiplier, iso-clock); FC layers are excluded from every design
(REFERENCE §4.1 policy (b)), so speedups are over the same convolution layers.
Speedup = baseline cycles / SparTen cycles, summed over the layers; the paper's averages (REFERENCE
§7.5) are compared with the mean over the two networks. Nothing is tuned to them.

    python benchmarks/sparten_eval.py            # print the tables and timings
    python benchmarks/sparten_eval.py --write    # also write docs/sparten.md
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
from lower_bound import popcount_seconds

import accelsim
from accelsim.api import resolve_config
from accelsim.report.result import RunResult

NETWORKS = ("alexnet", "vgg16")
PROFILE = "pruned"
VARIANTS = ("none", "gb_s", "gb_h")
PAPER = {"dense": 4.7, "one_sided": 1.8, "scnn": 3.0}
"""SparTen's simulated average speedups over dense, one-sided and SCNN (REFERENCE §7.5 [paper])."""
DOC = Path(__file__).resolve().parent.parent / "docs" / "sparten.md"


def run(config: str, network: str, **changes: str) -> RunResult:
    """One network on one config (with spec changes), FC layers skipped."""
    spec, _ = resolve_config(config)
    return accelsim.simulate(spec.model_copy(update=changes), network, PROFILE, skip_unsupported=True)


def cycles_by_layer(result: RunResult) -> pd.Series:
    """Cycles of each layer of a run."""
    return result.layers.set_index("layer")["cycles"]


def evaluate(network: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(speedup rows, per-layer table, energy table) of one network."""
    runs = {"dense": run("sparten_dense", network), "one_sided": run("sparten_one_sided", network)}
    for variant in VARIANTS:
        runs[variant] = run("sparten", network, balancing=variant)
    runs["scnn"] = accelsim.simulate("scnn", network, PROFILE, skip_unsupported=True)
    cyc = pd.DataFrame({name: cycles_by_layer(r) for name, r in runs.items()}).dropna()
    conv = runs["none"].layers
    ideal = conv["macs_dense"].sum() / conv["macs_effectual"].sum()  # dense work / matched pairs
    rows = []
    for variant in VARIANTS:
        row = {"network": network, "balancing": variant, "cycles": int(cyc[variant].sum())}
        row["ideal_over_dense"] = float(ideal)
        for base in PAPER:
            row[f"over_{base}"] = cyc[base].sum() / cyc[variant].sum() if base in cyc else float("nan")
        rows.append(row)
    per_layer = cyc.astype("int64").reset_index(names="layer")
    for variant in VARIANTS:
        layers = runs[variant].layers.set_index("layer")
        per_layer[f"util_{variant}"] = per_layer["layer"].map(layers["utilization"])
        per_layer[f"imbalance_{variant}"] = per_layer["layer"].map(layers["imbalance"])
    energy = pd.DataFrame(
        {name: r.layers.filter(like="energy_").sum() / 1e6 for name, r in runs.items() if name != "scnn"}
    ).T  # microjoules
    energy.columns = [c.removeprefix("energy_").removesuffix("_pj") or "total" for c in energy.columns]
    energy = energy.rename(columns={"pj": "total"})
    energy.insert(0, "network", network)
    return pd.DataFrame(rows), per_layer, energy.reset_index(names="design")


def timings() -> dict[str, float]:
    """Warm VGG16/pruned wall time of SparTen (GB-H) and the popcount lower bound of the same masks."""
    run("sparten", "vgg16")  # warm: numba compiled and cached
    t0 = time.perf_counter()
    run("sparten", "vgg16")
    sparten_s = time.perf_counter() - t0
    bound_s, _ = popcount_seconds("vgg16", PROFILE)
    return {"sparten_s": sparten_s, "popcount_s": bound_s}


def validation_table(speedups: pd.DataFrame) -> pd.DataFrame:
    """Mean over the networks of each balancing variant, with the error against the paper's averages."""
    out = []
    for variant, group in speedups.groupby("balancing", sort=False):
        for base, paper in PAPER.items():
            model = float(group[f"over_{base}"].mean())
            out.append(
                {
                    "balancing": variant,
                    "speedup over": base,
                    "model (mean of AlexNet, VGG16)": model,
                    "paper (average)": paper,
                    "error %": 100 * (model - paper) / paper,
                }
            )
    return pd.DataFrame(out)


def fmt(df: pd.DataFrame, digits: int = 2) -> str:
    """A markdown table with floats rounded."""

    def cell(v: object) -> str:
        return f"{v:.{digits}f}" if isinstance(v, float) else str(v)

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {DOC}")
    args = parser.parse_args()
    results = [evaluate(net) for net in NETWORKS]
    speedups = pd.concat([r[0] for r in results], ignore_index=True)
    table = validation_table(speedups)
    energy = pd.concat([r[2] for r in results], ignore_index=True)
    times = timings()
    print(fmt(speedups))
    print()
    print(fmt(table))
    print()
    print(fmt(energy, 1))
    print(
        f"\nVGG16/{PROFILE} on sparten (GB-H), warm: {times['sparten_s']:.2f} s; popcount lower bound "
        f"{times['popcount_s']:.2f} s; ratio {times['sparten_s'] / times['popcount_s']:.2f}"
    )
    if args.write:
        DOC.write_text(render(speedups, table, [r[1] for r in results], energy, times))
        print(f"wrote {DOC}")


def render(
    speedups: pd.DataFrame,
    table: pd.DataFrame,
    per_layer: list[pd.DataFrame],
    energy: pd.DataFrame,
    times: dict[str, float],
) -> str:
    """The docs page: model summary, validation table, per-layer tables, energy, timings."""
    scnn_note = "SCNN is the `scnn` config of this repository, on the same masks."
    parts = [
        "# SparTen and its baselines\n",
        "Generated by `python benchmarks/sparten_eval.py --write`; do not edit by hand. Model, sources and "
        "assumptions: `accelsim/accelerators/sparten.py`, REFERENCE §7 / §4.6, "
        "`docs/assumptions.md` (SparTen).\n",
        "## Model in one paragraph\n",
        "32 clusters x 32 compute units (CUs), one 8-bit MAC each (1,024 multipliers, 1 GHz, iso-multiplier "
        "and iso-clock with `systolic_ws_32x32` and SCNN). Each CU holds one filter per pass; a cluster "
        "broadcasts the SparseMap chunks (128 channels of one pixel) of one input window at a time, and the "
        "next chunk goes out only when every CU of the cluster has finished its inner join (the implicit "
        "barrier). A CU does one matched pair per cycle (`max(matches, 1)` cycles per chunk). Clusters take "
        "contiguous blocks of output positions; a layer's cycles are the engine makespan over the clusters. "
        "The baselines are the same clusters: *one-sided* does one cycle per non-zero input value (zero "
        "activations skipped, zero weights multiplied), *dense* one cycle per window position. FC layers "
        "are excluded from every design (REFERENCE §4.1 (b)); speedups are over the convolution layers. "
        "Greedy balancing: *none* keeps filter order; *GB-S* sorts filters by whole-filter density so that "
        "a pass holds filters of similar density; *GB-H* does the same sort per chunk with the chunk's "
        "density (partial sums are gathered by the output permutation hardware).\n",
        "## Validation: speedups against the paper's averages (REFERENCE §7.5)\n",
        scnn_note + " Paper figures are averages over the paper's own networks and data (AlexNet, VGGNet, "
        "GoogLeNet-class, real pruned weights and activations); the model uses the `pruned` profiles (Han'15 "
        "densities, uniform random masks, seed 0) and is not tuned to any figure.\n",
        fmt(table),
        "\nPer network:\n",
        fmt(speedups),
        "\n## Why the numbers differ from the paper\n",
        EXPLANATION,
        "\n## Per-layer cycles and CU utilisation\n",
        "`util_*` = multiplications / (1,024 x cycles); `imbalance_*` = max / mean busy cycles over "
        "the 1,024 CUs. The timeline in the results gives every CU a busy row per pass (stalls as "
        "stalled rows, the barrier wait as idle gaps, one closing idle row), exact in time; a layer whose "
        "rows would pass 100k (depthwise layers, a pass per channel) merges consecutive passes of a cluster "
        "into windows, keeping each CU's busy and stalled cycles exact.\n",
    ]
    for net, df in zip(NETWORKS, per_layer, strict=True):
        parts += [f"\n### {net}\n", fmt(df)]
    parts += [
        "\n## Energy (µJ, convolution layers)\n",
        "Action counts x the `accelergy_40nm` table scaled to 45 nm; `sram` includes the SparseMap metadata "
        "reads of every join and the per-CU filter buffers, `noc` the input broadcasts (map + values to "
        "every CU of a cluster) and, for GB-H, a partial sum per chunk.\n",
        fmt(energy, 1),
        "\n## Speed\n",
        f"VGG16/{PROFILE} with the exact seeded masks on `sparten` (GB-H), warm: "
        f"**{times['sparten_s']:.2f} s**; popcount lower bound (`benchmarks/lower_bound.py`) on the same "
        f"masks: {times['popcount_s']:.2f} s (ratio {times['sparten_s'] / times['popcount_s']:.2f}). "
        "One run on a 2-core machine shared with other jobs.\n",
    ]
    return "\n".join(parts) + "\n"


EXPLANATION = """\
- **Sparsity of the inputs.** The `pruned` profiles have Han'15 densities (AlexNet conv: weights
  0.35-0.84, activations 0.37-1.0; VGG16: weights 0.22-0.58, activations 0.29-1.0) with uniform random
  placement. No design that only skips work can beat dense MACs / effectual MACs over dense (column
  `ideal_over_dense`); SparTen's barrier, per-chunk minimum and idle slots keep it below that
  bound. The paper's 4.7x average over
  dense also covers GoogLeNet-class networks and its own pruned models, whose densities are not known
  here (REFERENCE §7.5, §12.3).
- **Barrier per chunk.** Every chunk waits for the CU with the most matches; with 32 CUs per cluster
  the max of 32 match counts is well above the mean at these densities (see `util_*` and
  `imbalance_*` per layer below).
- **Greedy balancing gains little on uniform masks.** GB-S sorts by whole-filter density; with uniform
  random pruning every filter of a layer has almost the same density (binomial spread), so sorting
  hardly changes a pass's slowest CU. GB-H sorts per chunk and helps more, but the match count also
  depends on the input chunk, which no offline sort sees. On real pruned filters, whose densities vary
  much more, both schemes would gain more (a kernel test with alternating dense / sparse filters
  shows the mechanism).
- **One-sided baseline.** The model's one-sided design skips zero activations only; its speedup over
  dense is 1 / activation density, so SparTen's gain over it is about 1 / weight density times the
  SparTen efficiency. The paper's one-sided design is not described in REFERENCE (§4.6 [unverified]).
- **Small-channel layers.** AlexNet conv1 (3 channels) and VGG16 conv1_1 make 3-channel chunks: the
  per-chunk minimum of one cycle and the barrier weigh more (conv1 is dense in activations anyway).
"""


if __name__ == "__main__":
    main()
