"""SparTen against its baselines on AlexNet and VGG16 (pruned): the readings table and the speed check.

Runs the dense baseline (`sparten_dense`), both one-sided baselines (weight skipping, `sparten_one_sided`;
activation skipping, `sparten_one_sided_activations`), SparTen (`sparten`) under each reading of its
synchronisation (the barrier per window of the shipped config, the barrier per chunk of the old
default, deeper input buffers) and each greedy balancing variant, and SCNN (`scnn`). All are 1,024
multipliers at 1 GHz (iso-multiplier, iso-clock); FC layers are unsupported by every design (SparTen's
evaluation covers convolutions), so every speedup is over the same convolution layers, which are all
the layers the designs run. Speedup = baseline cycles / SparTen cycles, summed over the layers; the
paper's averages (SparTen MICRO'19 abstract) are compared with the mean over the two networks. Nothing
is tuned to them.

    python benchmarks/sparten_eval.py            # print the tables and timings
    python benchmarks/sparten_eval.py --write    # also write docs/sparten.md
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from harness import config_variant, markdown_frame
from lower_bound import popcount_seconds

import accelsim
from accelsim.accelerators.sparten import cu_buffers
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
"""SparTen's simulated average speedups over dense, one-sided and SCNN ([SPARTEN19] [paper])."""
DOC = Path(__file__).resolve().parent.parent / "docs" / "sparten.md"


PAPER_FPGA = {"dense": 4.3, "one_sided": 1.9}
"""SparTen's FPGA speedups over dense and one-sided (SparTen MICRO'19 abstract)."""
READINGS: dict[str, dict[str, object]] = {
    "old default": {"barrier": "chunk", "input_buffer_depth": 1},
    "new default": {"barrier": "window", "input_buffer_depth": 1},
    "window, depth 2": {"barrier": "window", "input_buffer_depth": 2},
    "chunk, depth 2": {"barrier": "chunk", "input_buffer_depth": 2},
    "chunk, depth 4": {"barrier": "chunk", "input_buffer_depth": 4},
}
"""SparTen's synchronisation readings (with the shipped GB-H): where the CUs of a cluster meet the
broadcast and how many steps each CU's input buffer holds. The weight-skipping baseline, whose CUs' work
also depends on their filters, is run under the same reading (the same clusters)."""
ONE_SIDED = {"weights": "sparten_one_sided", "activations": "sparten_one_sided_activations"}
"""The two one-sided readings: zero weights skipped (Cambricon-X-like, the shipped `sparten_one_sided`)
or zero activations skipped (Cnvlutin-like; the old default)."""
RANKING_NETWORKS = ("vgg16", "mobilenet_v1")
"""Networks whose SparTen cycles the cross-model ranking table takes (old and new default)."""

SWEEP = {
    "chunk_bits": (32, 64, 128, 256),
    "min_chunk_cycles": (0, 1, 2),
    "join_latency_cycles": (0, 3, 10),
    "barrier": ("window", "chunk"),
    "input_buffer_depth": (1, 2, 4),
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
    return accelsim.simulate(config_variant(config, **changes), network, profile, skip_unsupported=True)


def cycles_by_layer(result: RunResult) -> pd.Series:
    """Cycles of each layer of a run."""
    return result.layers.set_index("layer")["cycles"]


@dataclass(frozen=True)
class NetworkRuns:
    """Every design's run of one network: baselines, SparTen and the weight-skipping baseline per
    reading, SparTen per balancing variant at the shipped reading."""

    network: str
    runs: dict[str, RunResult]

    def layers(self, name: str) -> pd.DataFrame:
        """A design's rows of the layers SparTen runs (the convolutions: SCNN also runs the FC
        layers, which SparTen cannot, so they are left out of every comparison)."""
        rows = self.runs[name].layers
        return rows[rows["layer"].isin(self.runs["sparten gb_h"].layers["layer"])]

    def cycles(self, name: str) -> int:
        """Cycles of a design summed over the layers SparTen runs."""
        return int(self.layers(name)["cycles"].sum())

    def energy_uj(self, name: str) -> float:
        """Energy of a design over the layers SparTen runs, in microjoules."""
        return float(self.layers(name)["energy_pj"].sum() / 1e6)


def sparten_name(reading: str) -> str:
    """Run name of SparTen (GB-H) under a reading."""
    return f"sparten, {reading}"


def weights_name(reading: str) -> str:
    """Run name of the weight-skipping baseline under a reading."""
    return f"one-sided weights, {reading}"


def evaluate(network: str) -> NetworkRuns:
    """Run every design of the page on one network."""
    runs = {
        "dense": run("sparten_dense", network),
        "one-sided activations": run(ONE_SIDED["activations"], network),
        "scnn": accelsim.simulate("scnn", network, PROFILE, skip_unsupported=True),
    }
    for reading, changes in READINGS.items():
        runs[sparten_name(reading)] = run("sparten", network, **changes)
        runs[weights_name(reading)] = run(ONE_SIDED["weights"], network, **changes)
    for variant in ("none", "gb_s"):
        runs[f"sparten {variant}"] = run("sparten", network, balancing=variant)
    runs["sparten gb_h"] = runs[sparten_name("new default")]
    return NetworkRuns(network, runs)


def ideal_over_dense(ev: NetworkRuns) -> float:
    """Dense MACs / effectual MACs: the speedup bound of any design that only skips work."""
    layers = ev.runs["dense"].layers
    return float(layers["macs_dense"].sum() / layers["macs_effectual"].sum())


def readings_rows(ev: NetworkRuns) -> list[dict[str, object]]:
    """SparTen's published figures under each reading on one network (old one-sided: activations)."""
    rows = []
    dense, acts, scnn = ev.cycles("dense"), ev.cycles("one-sided activations"), ev.cycles("scnn")
    for reading in READINGS:
        mine = ev.cycles(sparten_name(reading))
        rows.append(
            {"network": ev.network, "reading": reading, "cycles": mine,
             "ideal_over_dense": ideal_over_dense(ev), "over_dense": dense / mine,
             "over_one_sided_weights": ev.cycles(weights_name(reading)) / mine,
             "over_one_sided_activations": acts / mine, "over_scnn": scnn / mine,
             "energy_uj": ev.energy_uj(sparten_name(reading)),
             "dense_energy_ratio": ev.energy_uj("dense") / ev.energy_uj(sparten_name(reading))}
        )  # fmt: skip
    return rows


def paper_table(readings: pd.DataFrame) -> pd.DataFrame:
    """Mean over the networks of each reading, against the paper's simulation averages (error in %)."""
    rows = []
    for reading, group in readings.groupby("reading", sort=False):
        own, other = ("activations", "weights") if reading == "old default" else ("weights", "activations")
        model = {
            "dense": float(group["over_dense"].mean()),
            "one_sided": float(group[f"over_one_sided_{own}"].mean()),
            "scnn": float(group["over_scnn"].mean()),
        }
        rows.append(
            {"reading": reading, "one-sided reading": own, "over dense": model["dense"],
             "over one-sided": model["one_sided"], "over scnn": model["scnn"],
             "over the other one-sided": float(group[f"over_one_sided_{other}"].mean()),
             **{f"error % {base}": 100 * (model[base] / PAPER[base] - 1) for base in PAPER}}
        )  # fmt: skip
    paper = {"reading": "paper (average)", "one-sided reading": "not stated", "over dense": PAPER["dense"],
             "over one-sided": PAPER["one_sided"], "over scnn": PAPER["scnn"]}  # fmt: skip
    return pd.DataFrame([paper, *rows])


def one_sided_rows(ev: NetworkRuns) -> list[dict[str, object]]:
    """Each one-sided reading over dense (and dense over it), with the paper's implied ratio 4.7 / 1.8."""
    dense = ev.cycles("dense")
    rows = [{"network": ev.network, "one-sided": "activations", "reading": "any",
             "over_dense": dense / ev.cycles("one-sided activations")}]  # fmt: skip
    for reading in READINGS:
        rows.append(
            {"network": ev.network, "one-sided": "weights", "reading": reading,
             "over_dense": dense / ev.cycles(weights_name(reading))}
        )  # fmt: skip
    return rows


def balancing_rows(ev: NetworkRuns) -> list[dict[str, object]]:
    """SparTen's balancing variants at the shipped reading, over each baseline."""
    dense, scnn = ev.cycles("dense"), ev.cycles("scnn")
    weights, acts = ev.cycles(weights_name("new default")), ev.cycles("one-sided activations")
    rows = []
    for variant in ("none", "gb_s", "gb_h"):
        mine = ev.cycles(f"sparten {variant}")
        rows.append(
            {"network": ev.network, "balancing": variant, "cycles": mine, "over_dense": dense / mine,
             "over_one_sided_weights": weights / mine, "over_one_sided_activations": acts / mine,
             "over_scnn": scnn / mine}
        )  # fmt: skip
    return rows


SLOT_DESIGNS = (
    "dense",
    "one-sided activations",
    weights_name("old default"),
    weights_name("new default"),
    *(sparten_name(r) for r in READINGS),
)
"""Designs whose slot partition the page shows."""


def slot_rows(ev: NetworkRuns, absolute: bool) -> list[dict[str, object]]:
    """Where each design's multiplier-cycles went over the network's convolution layers: shares (%) or,
    `absolute`, millions of slots (so the parts of two readings can be subtracted)."""
    rows = []
    for name in SLOT_DESIGNS:
        layers = ev.runs[name].layers
        total = layers["slots_total"].sum()
        row: dict[str, object] = {"design": name, "network": ev.network}
        if absolute:
            row["total"] = total / 1e6
            row |= {part: layers[f"slots_{part}"].sum() / 1e6 for part in SLOT_PARTS}
        else:
            row |= {part: 100 * layers[f"slots_{part}"].sum() / total for part in SLOT_PARTS}
        rows.append(row)
    return rows


ENERGY_DESIGNS = (
    "dense",
    "one-sided activations",
    weights_name("new default"),
    sparten_name("old default"),
    sparten_name("new default"),
    sparten_name("window, depth 2"),
)


def energy_rows(ev: NetworkRuns) -> pd.DataFrame:
    """Energy components (µJ) of the main designs over the network's convolution layers."""
    energy = pd.DataFrame(
        {name: ev.runs[name].layers.filter(like="energy_").sum() / 1e6 for name in ENERGY_DESIGNS}
    ).T
    energy.columns = [c.removeprefix("energy_").removesuffix("_pj") or "total" for c in energy.columns]
    energy = energy.rename(columns={"pj": "total"})
    energy.insert(0, "network", ev.network)
    return energy.reset_index(names="design")


def buffer_rows(network: str) -> list[dict[str, object]]:
    """Each CU's input and output buffer under each reading, sized for the network (SRAM size, no area
    model yet), for SparTen and the baselines."""
    layers = tuple(resolve_network(network).compute_layers)
    rows = []
    designs = [("sparten", reading, changes) for reading, changes in READINGS.items()]
    designs += [(config, "shipped", {}) for config in (*ONE_SIDED.values(), "sparten_dense")]
    for config, reading, changes in designs:
        spec, _ = resolve_config(config)
        buffers = cu_buffers(spec.model_copy(update=changes), layers)
        rows.append(
            {"network": network, "design": config, "reading": reading,
             "input KiB per CU": buffers.input_kib,
             "input KiB, all CUs": buffers.input_kib * spec.multipliers,
             "output entries per CU": buffers.output_entries}
        )  # fmt: skip
    return rows


def per_layer_table(ev: NetworkRuns) -> pd.DataFrame:
    """Per-layer cycles of every main design, with utilisation and imbalance of the two defaults."""
    names = {"dense": "dense", "one-sided activations": "one_sided_acts",
             weights_name("new default"): "one_sided_weights", sparten_name("old default"): "old_default",
             sparten_name("new default"): "new_default", "scnn": "scnn"}  # fmt: skip
    cyc = pd.DataFrame({short: cycles_by_layer(ev.runs[name]) for name, short in names.items()}).dropna()
    table = cyc.astype("int64").reset_index(names="layer")
    for reading, short in (("old default", "old"), ("new default", "new")):
        layers = ev.runs[sparten_name(reading)].layers.set_index("layer")
        table[f"util_{short}"] = table["layer"].map(layers["utilization"])
        table[f"imbalance_{short}"] = table["layer"].map(layers["imbalance"])
    return table


def ranking_rows() -> list[dict[str, object]]:
    """SparTen's cycles on the ranking networks (pruned) under the old and the new default."""
    rows = []
    for network in RANKING_NETWORKS:
        for reading in ("old default", "new default"):
            result = run("sparten", network, **READINGS[reading])
            layers = result.layers
            rows.append(
                {"network": network, "reading": reading,
                 "layers run": f"{len(layers)} (conv; FC unsupported)", "cycles": total_cycles(result),
                 "unit_idle %": 100 * layers["slots_unit_idle"].sum() / layers["slots_total"].sum()}
            )  # fmt: skip
    return rows


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
        if isinstance(v, float):
            return "" if v != v else f"{v:.{digits}f}"  # NaN: no figure
        return str(v)

    return markdown_frame(df, cell)


def base_cycles(ev: NetworkRuns) -> dict[str, int]:
    """Cycles of the baselines and of each balancing variant at the shipped reading (the sweeps' base)."""
    base = {"dense": ev.cycles("dense"), "scnn": ev.cycles("scnn")}
    return base | {variant: ev.cycles(f"sparten {variant}") for variant in VARIANTS}


def frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Rows of every network as one table."""
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {DOC}")
    args = parser.parse_args()
    t0 = time.perf_counter()
    evs = [evaluate(net) for net in NETWORKS]
    tables = {
        "readings": frame([row for ev in evs for row in readings_rows(ev)]),
        "one_sided": frame([row for ev in evs for row in one_sided_rows(ev)]),
        "balancing": frame([row for ev in evs for row in balancing_rows(ev)]),
        "slots": frame([row for ev in evs for row in slot_rows(ev, absolute=False)]),
        "slots_abs": frame([row for ev in evs for row in slot_rows(ev, absolute=True)]),
        "energy": pd.concat([energy_rows(ev) for ev in evs], ignore_index=True),
        "buffers": frame([row for net in (*NETWORKS, "mobilenet_v1") for row in buffer_rows(net)]),
        "ranking": frame(ranking_rows()),
    }
    tables["paper"] = paper_table(tables["readings"])
    eval_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    bases = [base_cycles(ev) for ev in evs]
    tables["sensitivity"] = sensitivity_table(
        pd.concat([sensitivity(net, base) for net, base in zip(NETWORKS, bases, strict=True)])
    )
    tables["masks"] = pd.concat(
        [mask_sensitivity(net, base) for net, base in zip(NETWORKS, bases, strict=True)], ignore_index=True
    )
    sweep_s = time.perf_counter() - t0
    times = timings()
    for name, table in tables.items():
        print(f"\n## {name}\n")
        print(fmt(table, 1 if name in ("energy", "slots") else 2))
    print(f"\nevaluation runs: {eval_s:.0f} s; sensitivity sweeps: {sweep_s:.0f} s")
    print(
        f"\nVGG16/{PROFILE} on sparten (GB-H), warm: {times['sparten_s']:.2f} s; popcount lower bound "
        f"{times['popcount_s']:.2f} s; ratio {times['sparten_s'] / times['popcount_s']:.2f}"
    )
    if args.write:
        per_layer = [per_layer_table(ev) for ev in evs]
        DOC.write_text(render(tables, per_layer, times))
        print(f"wrote {DOC}")


def render(tables: dict[str, pd.DataFrame], per_layer: list[pd.DataFrame], times: dict[str, float]) -> str:
    """The docs page: model, the published figures under each reading, the one-sided readings, where the
    cycles went, energy, buffers, per-layer tables, sensitivity, ranking cycles, timings."""
    parts = [
        "# SparTen and its baselines\n",
        "Generated by `python benchmarks/sparten_eval.py --write`; do not edit by hand. Model: "
        "`accelsim/accelerators/sparten.py`; every choice with its source and sensitivity: "
        "`docs/assumptions.md` (SparTen, SP1-SP16).\n",
        "## Model in one paragraph\n",
        MODEL,
        "## The published figures under each reading\n",
        READINGS_NOTE,
        fmt(tables["paper"]),
        "\nPer network (`cycles`: SparTen's, GB-H; `energy_uj`: its energy; `dense_energy_ratio`: the dense "
        "baseline's energy over SparTen's; the weight-skipping baseline runs under the row's reading, the "
        "activation-skipping and dense ones are the same under every reading):\n",
        fmt(tables["readings"]),
        "\nThe paper's FPGA prototype: "
        f"{PAPER_FPGA['dense']}x over dense and {PAPER_FPGA['one_sided']}x over one-sided (abstract); the "
        "model has no FPGA set-up, so these are not compared.\n",
        "### Balancing variants (new default reading)\n",
        fmt(tables["balancing"]),
        "\n## Which one-sided design\n",
        ONE_SIDED_NOTE,
        fmt(tables["one_sided"]),
        "\n## Why the numbers differ from the paper\n",
        EXPLANATION,
        "\n## Where the cycles went\n",
        SLOTS_NOTE,
        fmt(tables["slots"], 1),
        "\nThe same partition in millions of slots (1,024 x cycles), so that two readings can be "
        "subtracted part by part:\n",
        fmt(tables["slots_abs"], 1),
        "\n## Energy (µJ, convolution layers)\n",
        ENERGY_NOTE,
        fmt(tables["energy"], 1),
        "\n## Compute-unit buffers\n",
        BUFFERS_NOTE,
        fmt(tables["buffers"]),
        "\n## Per-layer cycles and CU utilisation\n",
        "`util_*` = multiplications / (1,024 x cycles); `imbalance_*` = max / mean busy cycles over the "
        "1,024 CUs (the shared definition, from the timeline); `old` / `new`: SparTen (GB-H) under the old "
        "and the new default. The timeline gives every CU, in every pass, its DRAM stall (if it holds a "
        "filter), then its barrier waits as one idle row, then its busy cycles up to the end of the pass; "
        "its rows tile the layer, exact per pass (docs/assumptions.md SP12).\n",
    ]
    for net, df in zip(NETWORKS, per_layer, strict=True):
        parts += [f"\n### {net}\n", fmt(df)]
    parts += [
        "\n## Sensitivity\n",
        SENSITIVITY_NOTE,
        fmt(tables["sensitivity"]),
        "\n### Filter-density spread and greedy balancing\n",
        MASKS_NOTE,
        fmt(tables["masks"]),
        "\n## Cycles for the cross-model ranking\n",
        "SparTen (`sparten`, GB-H) on the `pruned` profiles, seed 0, under the old and the new default. "
        "FC layers are unsupported, so all the layers SparTen runs are its convolution layers.\n",
        fmt(tables["ranking"]),
        "\n## Speed\n",
        f"VGG16/{PROFILE} with the exact seeded masks on `sparten` (GB-H), warm: "
        f"**{times['sparten_s']:.2f} s**; popcount lower bound (`benchmarks/lower_bound.py`) on the same "
        f"masks: {times['popcount_s']:.2f} s (ratio {times['sparten_s'] / times['popcount_s']:.2f}). "
        "One run on a 2-core machine shared with other jobs.\n",
    ]
    return "\n".join(parts) + "\n"


MODEL = """\
32 clusters x 32 compute units (CUs), one 8-bit MAC each (1,024 multipliers, 1 GHz, iso-multiplier and
iso-clock with `systolic_ws_32x32` and SCNN). Each CU holds one filter per pass; a cluster broadcasts
the SparseMap chunks (128 channels of one pixel) of its input windows, and each CU joins them with its
filter chunks, one matched pair per cycle (`max(matches, 1)` cycles per chunk). The CUs are
asynchronous, with input and output buffers (SparTen §3.2): under the shipped reading (`barrier:
window`, `input_buffer_depth: 1`) a CU works through the chunks of the current window at its own pace
and the cluster moves to the next window when every CU is done with it (the synchronisation "between
consecutive input maps" that BARISTA, by the same group, removes). Options: `input_buffer_depth` d lets
a CU run d - 1 windows ahead; `barrier: chunk` synchronises per chunk (depth 1: the old default, the
next chunk goes out only when every CU is done with the current one). Each CU's input buffer is sized
to hold d steps (windows or chunks) of the network's largest layer and is costed in energy. Clusters
take contiguous blocks of output positions; a layer's cycles are the engine makespan over the
clusters. The baselines are modes of the same clusters: *one-sided* skips zero weights (activations
dense, Cambricon-X-like; `sparten_one_sided`) or zero activations (weights dense, Cnvlutin-like [CNVLUTIN16];
`sparten_one_sided_activations`), *dense* takes one cycle per window position. FC layers are
unsupported (SparTen's evaluation covers convolutions), so all the layers every design runs are the
convolution layers. Greedy balancing: *none* keeps filter order; *GB-S* sorts filters by whole-filter
density so that a pass holds filters of similar density; *GB-H* does the same sort per chunk with the
chunk's density (partial sums are gathered by the output permutation hardware).
"""

READINGS_NOTE = """\
SparTen's published simulation averages (abstract): 4.7x over dense, 1.8x over one-sided, 3x over SCNN.
Each SparTen reading (with the shipped GB-H) against them, as the mean over AlexNet and VGG16 (`pruned`:
Han'15 densities, uniform random masks, seed 0; the paper's averages also cover GoogLeNet-class
networks on its own pruned models). *old default*: barrier per chunk, one chunk buffered, one-sided =
activation skipping; *new default* (shipped): barrier per window, one window buffered, one-sided =
weight skipping; *window, depth 2*, *chunk, depth 2 / 4*: the buffer-depth options. "the other
one-sided" is the one-sided reading a row does not use. SCNN is the `scnn` config of this repository
on the same masks. Nothing is tuned to the paper's figures.
"""

ONE_SIDED_NOTE = """\
SparTen's abstract contrasts it with "semi-sparse architectures [that] exploit one-sided sparsity
either in the feature maps or the filters"; which one its 1.8x is measured against is not in the
sources. Its two averages imply that the one-sided design runs 4.7 / 1.8 = 2.6x faster than dense
(FPGA: 4.3 / 1.9 = 2.3x). On these pruned networks, which are sparser in weights than in activations,
the weight-skipping baseline runs 2.1-2.8x faster than dense (1.8-2.4x with a barrier per chunk) and the
activation-skipping one 1.5-1.6x
(table below: each one-sided design over `sparten_dense`; the weight-skipping one under each
synchronisation reading, since its CUs' work depends on their filters), so weight skipping is the
reading consistent with the paper's own pair of figures and is the default of `sparten_one_sided`
(docs/assumptions.md SP9). This is a choice between two discrete designs made with two published
figures, so it is in-sample; no SparTen figure is held out for it.
"""

EXPLANATION = """\
- **Sparsity of the inputs.** The `pruned` profiles have Han'15 densities (AlexNet conv: weights
  0.35-0.84, activations 0.37-1.0; VGG16: weights 0.22-0.58, activations 0.29-1.0) with independent
  uniform random masks. No design that only skips work can beat dense MACs / effectual MACs over dense
  (column `ideal_over_dense`: 3.24x AlexNet, 4.94x VGG16), so the paper's 4.7x average implies sparser
  data than these profiles (its own pruned models and measured activations, and GoogLeNet-class
  networks). SparTen reaches 89 % (AlexNet) / 90 % (VGG16) of that ceiling under the new default and
  83 % / 81 % under the old one.
- **Where the barrier sits.** With a barrier per chunk every 128-channel chunk waits for the CU with
  the most matches; the max of 32 match counts is well above their mean. With a barrier per window a
  CU's chunks add up before it waits, so the spread of a window's total is what is lost: unit_idle
  falls by about half (tables below). Buffering a second chunk (`chunk, depth 2`) recovers about as
  much with a buffer of 0.28 KiB instead of a window (2.5-5.1 KiB per CU).
- **Greedy balancing and the window barrier.** GB-H as modelled gives a pass's CU u the u-th densest
  filter chunk at every chunk position (docs/assumptions.md SP6), which evens out each chunk, the unit
  of a barrier per chunk, but makes CU 0's window total the sum of the densest chunks: under the barrier
  per window GB-H gains nothing over no balancing, while GB-S (whole-filter density) gains 3 %
  (balancing table above). That GB-H exists at all is a hint that per-chunk imbalance mattered in
  SparTen, the one argument in the sources for a barrier per chunk. On real pruned filters, whose
  densities vary much more than uniform masks give, both schemes gain more (Sensitivity, below).
- **One-sided baseline.** Weight skipping (the default) is 2.1-2.8x faster than dense on these
  networks, so SparTen's gain over it is smaller than the paper's 1.8x; over activation skipping it is
  larger. The paper's own 4.7 / 1.8 ratio sits between the two and closer to weight skipping.
- **Small-channel layers.** AlexNet conv1 (3 channels) and VGG16 conv1_1 make 3-channel chunks: the
  per-chunk minimum of one cycle weighs more (conv1 is dense in activations anyway).
"""

SLOTS_NOTE = """\
Shares (%) of the multiplier-cycles (`slots_total` = 1,024 x cycles) of the convolution layers, from
the result rows (docs/architecture.md, "Where the cycles went"). A CU's busy cycles are its products,
effectual (both operands non-zero; one slot each, so `slots_effectual` = `macs_effectual` in every
mode) or ineffectual (a baseline's product with a zero operand: weight skipping multiplies non-zero
weights by zero activations, activation skipping the reverse, dense any zero); `packing`, the cycles a
chunk with fewer products than `min_chunk_cycles` still costs; and `fill_drain`, the join pipeline
fill of every pass in which the CU holds a filter. Its idle cycles before its last busy (or stalled)
cycle are `unit_idle`: its waits at the broadcast barriers (per chunk or per window) and at the end of
a pass for the CU with the most work (SparTen and the weight-skipping baseline: the other baselines
give every CU of a pass the same work), and passes in which it holds no filter while a later one
follows. Its idle cycles after it are `imbalance`: its cluster's block of output positions is done
while others still run, or the last pass has fewer filters than CUs. `unmapped`: CUs that never hold
a filter or clusters without output positions; `memory_stall`: DRAM stalls (none with the shipped
unlimited bandwidth). docs/assumptions.md SP12-SP14.

Where the per-chunk barrier's unit_idle goes: moving from the old to the new default removes the
waits inside a window. Those slots do not move to another part, they disappear with the cycles they
filled: in the absolute table, the old default's unit_idle minus the new default's is most of the
difference of their totals (the small rest is imbalance, since the clusters' blocks end closer
together); what is left of unit_idle is the waits at window ends. Every busy part (effectual,
packing, fill_drain) is the same under every reading: the barrier moves only waits.
"""

ENERGY_NOTE = """\
Action counts x the `accelergy_40nm` table scaled to 45 nm. `sram` includes each CU's input buffer
(every broadcast bit written into each receiving CU's buffer, an input value read per product, and the
input SparseMap bits each join reads, when activations are stored sparse), the filter buffer (values,
SparseMap bits of each join, loads) and the global buffer; `rf` the accumulator and the output buffer
(a write by the CU and a read by the collector per output, or per chunk partial sum under GB-H);
`noc` the input broadcasts (map + values to every CU of a cluster), the filter loads and the partial
sums; `static` the leakage of the multipliers and every SRAM over the layer's cycles. A window-sized
input buffer in each of the 1,024 CUs (below) is the new default's energy cost: it raises both the
per-access energy of the input buffer and the leakage, so the new default, although faster, uses more
energy than the old one, and the dense baseline's energy over SparTen's falls.
"""

BUFFERS_NOTE = """\
Each CU's input buffer holds `input_buffer_depth` steps (windows, or chunks with `barrier: chunk`) of
the network's largest convolution, at the worst case: every value (8 bits) and, when the mode stores
activations sparse, its SparseMap bit (docs/assumptions.md SP15). Its output buffer holds one output
(32-bit partial sum) more than the windows the CU can run ahead. These are the SRAM sizes the energy
model uses; there is no area model yet. The weight-skipping baseline's buffer is the same as SparTen's
without the SparseMap bits (activations are stored dense); the dense and activation-skipping baselines
keep a one-chunk buffer, since their CUs never run ahead of one another. The sources give no buffer
size (SparTen's CUs have "buffers for inputs and output", size unstated).
"""

SENSITIVITY_NOTE = """\
One `sparten` key at a time moves away from its default (`*`), on every convolution layer of
AlexNet and VGG16 `pruned` (the same seeded masks), without balancing and with GB-H. The baselines
stay at their configs (`sparten_dense`, `scnn`), so each column is that baseline's cycles over
SparTen's; `cycles %` is the change of SparTen's cycles against the default. `chunk_bits`: SparseMap
chunk size (assumption SP2); `min_chunk_cycles`: cycles a chunk without enough matches still costs
(0 = an idealised join that skips empty chunks; SP3); `join_latency_cycles`: pipeline fill once per
pass (SP3); `barrier`: where the CUs meet the broadcast (chunk at depth 1 = the old default; SP4);
`input_buffer_depth`: windows a CU's input buffer holds (a CU runs up to depth - 1 windows ahead; the
deeper buffer is costed in energy, SP15); `cus_per_cluster`: CUs sharing a broadcast (and a barrier),
at 1,024 multipliers (SP1).
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
