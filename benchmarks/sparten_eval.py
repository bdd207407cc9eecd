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
import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd
from lower_bound import popcount_seconds

import accelsim
from accelsim.api import resolve_config, resolve_network
from accelsim.config.workload_spec import ChannelPattern, ClusteredPattern, PatternSpec
from accelsim.report.result import RunResult
from accelsim.report.schema import SLOT_PARTS
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import LayerKind
from accelsim.workload.masks import nonzero_count
from accelsim.workload.sparsity import SparsityProfile, load_profile

NETWORKS = ("alexnet", "vgg16")
PROFILE = "pruned"
VARIANTS = ("none", "gb_s", "gb_h")
PAPER = {"dense": 4.7, "one_sided": 1.8, "scnn": 3.0}
"""SparTen's simulated average speedups over dense, one-sided and SCNN (REFERENCE §7.5 [paper])."""
DOC = Path(__file__).resolve().parent.parent / "docs" / "sparten.md"


SWEEP = {
    "chunk_bits": (32, 64, 128, 256),
    "min_chunk_cycles": (0, 1, 2),
    "join_latency_cycles": (0, 3, 10),
    "input_buffer_chunks": (1, 2, 4),
    "cus_per_cluster": (16, 32, 64),
}
"""SparTen spec keys swept one at a time around the `sparten` config (whose values are the defaults);
`cus_per_cluster` keeps 1,024 multipliers (clusters = 1,024 / CUs per cluster)."""
SWEEP_BALANCING = ("none", "gb_h")
MASKS = {"channel 0.1": ChannelPattern(pattern="channel", dead_fraction=0.1),
         "channel 0.25": ChannelPattern(pattern="channel", dead_fraction=0.25),
         "clustered 0.9": ClusteredPattern(pattern="clustered", p11=0.9)}  # fmt: skip
"""Weight-mask patterns replacing the `pruned` profiles' uniform one (densities unchanged)."""


def run(config: str, network: str, profile: str | SparsityProfile = PROFILE, **changes: object) -> RunResult:
    """One network on one config (with spec changes), FC layers skipped."""
    spec, _ = resolve_config(config)
    return accelsim.simulate(spec.model_copy(update=changes), network, profile, skip_unsupported=True)


def cycles_by_layer(result: RunResult) -> pd.Series:
    """Cycles of each layer of a run."""
    return result.layers.set_index("layer")["cycles"]


def evaluate(
    network: str,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, int], pd.DataFrame]:
    """(speedup rows, per-layer table, energy table, total cycles per design, slot shares per design)
    of one network."""
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
    totals = {name: int(cyc[name].sum()) for name in cyc.columns}
    return (
        pd.DataFrame(rows),
        per_layer,
        energy.reset_index(names="design"),
        totals,
        slot_shares(runs, network),
    )


def slot_shares(runs: dict[str, RunResult], network: str) -> pd.DataFrame:
    """Per SparTen design: where its multiplier-cycles went over the network's convolution layers (%)."""
    rows = []
    for name, r in runs.items():
        if name == "scnn":
            continue
        total = r.layers["slots_total"].sum()
        row: dict[str, object] = {"design": name, "network": network}
        row |= {part: 100 * r.layers[f"slots_{part}"].sum() / total for part in SLOT_PARTS}
        rows.append(row)
    return pd.DataFrame(rows)


def total_cycles(result: RunResult) -> int:
    """Cycles of a run summed over its (convolution) layers."""
    return int(result.layers["cycles"].sum())


def sensitivity(network: str, base: dict[str, int]) -> pd.DataFrame:
    """Speedup over dense and over SCNN as each swept key moves away from the `sparten` default.

    `base`: the evaluation's total cycles of `dense`, `scnn` and each balancing variant at the defaults
    (reused for the default value of every key). The baselines stay at their own configs.
    """
    defaults, _ = resolve_config("sparten")
    rows = []
    for key, values in SWEEP.items():
        for value in values:
            for variant in SWEEP_BALANCING:
                if value == getattr(defaults, key):
                    cycles = base[variant]
                else:
                    changes: dict[str, object] = {key: value}
                    if key == "cus_per_cluster":  # iso-multiplier
                        changes["clusters"] = defaults.multipliers // value
                    cycles = total_cycles(run("sparten", network, balancing=variant, **changes))
                rows.append(
                    {"key": key, "value": f"{value}{'*' if value == getattr(defaults, key) else ''}",
                     "balancing": variant, "network": network,
                     "over_dense": base["dense"] / cycles, "over_scnn": base["scnn"] / cycles}
                )  # fmt: skip
    return pd.DataFrame(rows)


def spread_profile(network: str, name: str, pattern: PatternSpec) -> SparsityProfile:
    """The `pruned` profile with `pattern` for the weights of every layer, densities unchanged.

    A `channel` pattern zeroes whole filters; its dead fraction is capped per layer so that the
    remaining filters can still hold the layer's non-zeros (AlexNet conv1, density 0.84, keeps 16 %).
    """
    base = load_profile(network, PROFILE)
    shapes = {layer.name: layer for layer in resolve_network(network).compute_layers}
    layers = {}
    for layer_name, density in base.layers.items():
        chosen = pattern
        if isinstance(pattern, ChannelPattern):
            layer = shapes[layer_name]
            per_filter = layer.c_per_group * layer.r * layer.s
            alive = -(-nonzero_count(density.weights, layer.k * per_filter) // per_filter)
            dead = min(pattern.dead_fraction, (layer.k - alive) / layer.k)
            chosen = ChannelPattern(pattern="channel", dead_fraction=dead)
        layers[layer_name] = dataclasses.replace(density, weight_pattern=chosen)
    pid = f"{PROFILE}_{name.replace(' ', '_')}"
    return SparsityProfile(pid, network, f"{base.source} Weights: {name} pattern.", layers)


def filter_spread(network: str, profile: str | SparsityProfile) -> float:
    """Coefficient of variation (std / mean) of the non-zeros per filter, mean over the conv layers."""
    prof = load_profile(network, profile) if isinstance(profile, str) else profile
    cvs = []
    for layer in resolve_network(network).compute_layers:
        if layer.kind is LayerKind.FC:
            continue
        nnz = np.count_nonzero(LayerWorkload(network, layer, prof, 0).masks.weights, axis=(1, 2, 3))
        cvs.append(float(nnz.std() / nnz.mean()) if nnz.mean() > 0 else 0.0)
    return float(np.mean(cvs))


def mask_sensitivity(network: str, base: dict[str, int]) -> pd.DataFrame:
    """GB-S and GB-H gains (cycles without balancing / with) as the filter-density spread grows."""
    rows = []
    patterns: dict[str, str | SparsityProfile] = {"uniform": PROFILE}
    patterns |= {name: spread_profile(network, name, pattern) for name, pattern in MASKS.items()}
    for name, profile in patterns.items():
        if name == "uniform":
            cycles = {variant: base[variant] for variant in VARIANTS}
        else:
            cycles = {v: total_cycles(run("sparten", network, profile, balancing=v)) for v in VARIANTS}
        rows.append(
            {"network": network, "weights": name, "filter_cv": filter_spread(network, profile),
             "none_over_dense": base["dense"] / cycles["none"],
             "gb_s_gain": cycles["none"] / cycles["gb_s"], "gb_h_gain": cycles["none"] / cycles["gb_h"]}
        )  # fmt: skip
    return pd.DataFrame(rows)


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


def sensitivity_table(long: pd.DataFrame) -> pd.DataFrame:
    """One row per (key, value, balancing), a column per (network, baseline)."""
    wide = long.pivot_table(
        index=["key", "value", "balancing"], columns="network", values=["over_dense", "over_scnn"],
        sort=False,
    )  # fmt: skip
    wide.columns = [f"{net} over {base.removeprefix('over_')}" for base, net in wide.columns]
    order = [f"{net} over {base}" for net in NETWORKS for base in ("dense", "scnn")]
    out = wide[order].reset_index()
    for net in NETWORKS:  # cycles against the default of the same key and balancing
        speed = out[f"{net} over dense"]
        default = out["value"].str.endswith("*")
        base = out[default].set_index(["key", "balancing"])[f"{net} over dense"]
        ref = pd.Series([base[(k, b)] for k, b in zip(out["key"], out["balancing"], strict=True)])
        out[f"{net} cycles %"] = 100 * (ref / speed - 1)
    return out


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
    slots = pd.concat([r[4] for r in results], ignore_index=True)
    t0 = time.perf_counter()
    sens = sensitivity_table(
        pd.concat([sensitivity(net, r[3]) for net, r in zip(NETWORKS, results, strict=True)])
    )
    masks = pd.concat(
        [mask_sensitivity(net, r[3]) for net, r in zip(NETWORKS, results, strict=True)], ignore_index=True
    )
    sweep_s = time.perf_counter() - t0
    times = timings()
    print(fmt(speedups))
    print()
    print(fmt(table))
    print()
    print(fmt(energy, 1))
    print()
    print(fmt(slots, 1))
    print()
    print(fmt(sens))
    print()
    print(fmt(masks))
    print(f"\nsensitivity sweeps: {sweep_s:.0f} s")
    print(
        f"\nVGG16/{PROFILE} on sparten (GB-H), warm: {times['sparten_s']:.2f} s; popcount lower bound "
        f"{times['popcount_s']:.2f} s; ratio {times['sparten_s'] / times['popcount_s']:.2f}"
    )
    if args.write:
        DOC.write_text(render(speedups, table, [r[1] for r in results], energy, slots, times, sens, masks))
        print(f"wrote {DOC}")


def render(
    speedups: pd.DataFrame,
    table: pd.DataFrame,
    per_layer: list[pd.DataFrame],
    energy: pd.DataFrame,
    slots: pd.DataFrame,
    times: dict[str, float],
    sens: pd.DataFrame,
    masks: pd.DataFrame,
) -> str:
    """The docs page: model summary, validation table, per-layer tables, where the cycles went, energy,
    sensitivity, timings."""
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
        "the 1,024 CUs (the shared definition, from the timeline). The timeline in the results gives every "
        "CU, in every pass, its DRAM stall (if it holds a filter), then its barrier waits as one idle row, "
        "then its busy cycles up to the end of the pass; its rows tile the layer, exact per pass. A layer "
        "whose rows would pass 100k (none of these networks') merges consecutive passes of a cluster into "
        "windows, keeping each CU's busy and stalled cycles and the end of its last activity exact "
        "(docs/assumptions.md SP12).\n",
    ]
    for net, df in zip(NETWORKS, per_layer, strict=True):
        parts += [f"\n### {net}\n", fmt(df)]
    parts += [
        "\n## Where the cycles went\n",
        SLOTS_NOTE,
        fmt(slots, 1),
        "\n## Energy (µJ, convolution layers)\n",
        "Action counts x the `accelergy_40nm` table scaled to 45 nm; `sram` includes the SparseMap metadata "
        "reads of every join and the per-CU filter buffers, `noc` the input broadcasts (map + values to "
        "every CU of a cluster) and, for GB-H, a partial sum per chunk.\n",
        fmt(energy, 1),
        "\n## Sensitivity\n",
        SENSITIVITY_NOTE,
        fmt(sens),
        "\n### Filter-density spread and greedy balancing\n",
        MASKS_NOTE,
        fmt(masks),
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
  `imbalance_*` per layer below, and `unit_idle` under "Where the cycles went"). The Sensitivity
  section below lets CUs buffer more than one chunk: most of this loss goes away.
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

SLOTS_NOTE = """\
Shares (%) of the multiplier-cycles (`slots_total` = 1,024 x cycles) of the convolution layers, from
the result rows (docs/architecture.md, "Where the cycles went"). A CU's busy cycles are its products,
effectual (both operands non-zero; one slot each, so `slots_effectual` = `macs_effectual` in every
mode) or ineffectual (the baselines' products with a zero weight, or, dense, a zero of either operand);
`packing`, the cycles a chunk with fewer products than `min_chunk_cycles` still costs; and `fill_drain`,
the join pipeline fill of every pass in which the CU holds a filter. Its idle cycles before its last
busy (or stalled) cycle are `unit_idle`: the waits at the per-chunk broadcast barrier and at the end
of a pass for the CU with the most matches (SparTen only: the baselines give every CU of a pass the
same work), and passes in which it holds no filter while a later one follows. Its idle cycles after it
are `imbalance`:
its cluster's block of output positions is done while others still run, or the last pass has fewer
filters than CUs. `unmapped`: CUs that never hold a filter (fewer filters per group than CUs) or
clusters without output positions; `memory_stall`: DRAM stalls (none with the shipped unlimited
bandwidth). docs/assumptions.md SP12-SP14.
"""

SENSITIVITY_NOTE = """\
One `sparten` key at a time moves away from its default (`*`), on every convolution layer of
AlexNet and VGG16 `pruned` (the same seeded masks), without balancing and with GB-H. The baselines
stay at their configs (`sparten_dense`, `scnn`), so each column is that baseline's cycles over
SparTen's; `cycles %` is the change of SparTen's cycles against the default. `chunk_bits`: SparseMap
chunk size (assumption SP2); `min_chunk_cycles`: cycles a chunk
without enough matches still costs (0 = an idealised join that skips empty chunks; SP3);
`join_latency_cycles`: pipeline fill once per pass (SP3); `input_buffer_chunks`: chunks a CU can hold,
1 = the next chunk waits for every CU of the cluster (the barrier, SP4), b = CUs run up to b - 1
chunks ahead of the slowest; it changes cycles only (the storage of the deeper buffer is not costed);
`cus_per_cluster`: CUs sharing a broadcast (and a barrier), at 1,024 multipliers (SP1).
"""

MASKS_NOTE = """\
The weight masks of the `pruned` profiles are uniform, so the filters of a layer have nearly the
same density (binomial spread). These profiles are built in code (`spread_profile`): the `pruned`
densities with another weight pattern of `accelsim.workload.masks`. `channel d`: a fraction d of
the filters of every layer is all zero and the layer's non-zeros are spread uniformly over the rest
(d capped per layer so they fit: AlexNet conv1, density 0.84, keeps at most 16 % dead); `clustered
0.9`: runs of non-zeros along each filter row (p11 = 0.9), the same mean density, a wider spread
per filter. `filter_cv` = std / mean of the non-zeros per filter, mean over the conv layers; the
gains are cycles without balancing over cycles with GB-S or GB-H. Activations stay uniform.
"""

if __name__ == "__main__":
    main()
