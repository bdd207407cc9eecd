"""Phantom-2D evaluation: pruned VGG16 and MobileNet v1 against the dense baseline and the other sparse
accelerators at the same multiplier count and clock, under every reading of the sources (the old and
new defaults and each option alone); level-1 / level-2 ablations; the look-ahead window; the core
shapes at about 1,024 multipliers; the speed of the model against the popcount lower bound. Prints
markdown and, with --write, replaces the generated part of docs/phantom.md and draws
docs/img/phantom_load_balance.png.

    python benchmarks/phantom_eval.py [--write] [--networks vgg16 mobilenet_v1] [--no-speed]

Nothing here is tuned: every number is what the shipped configs and their one-key variants give
(docs/phantom.md explains why it differs from the paper's 12x).
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from harness import config_variant, markdown_frame
from lower_bound import popcount_seconds

from accelsim.api import resolve_config, simulate
from accelsim.config.arch import parse_arch
from accelsim.config.sweep_spec import load_sweep
from accelsim.plots import load_balance
from accelsim.report.result import RunResult
from accelsim.report.schema import SLOT_PARTS
from accelsim.sweep.points import expand

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "phantom.md"
FIGURE = ROOT / "docs" / "img" / "phantom_load_balance.png"
SHAPES = ROOT / "arch_configs" / "sweeps" / "phantom_core_shapes.yaml"
PROFILE = "pruned"
BASELINE = "systolic_ws_32x32"
OTHERS = ("scnn", "sparten", "eyeriss_v2_1024", "eyeriss_v2")
"""Other sparse accelerators compared when their configs exist and run."""
PAPER = {"dense": 12.0, "scnn": 4.1, "sparten": 1.98, "eyeriss_v2_1024": 2.36}
"""Phantom-2D's speedups in the Phantom abstract (arXiv 2111.05002): over dense architectures (NeuroMAX),
SCNN, SparTen and Eyeriss v2, on VGG16 and MobileNet."""

Change = Callable[[Any], Any]


def variant(**changes: dict[str, Any]) -> Change:
    """A spec transformer: nested section -> field updates (e.g. core={"window": 1})."""

    def apply(spec: Any) -> Any:
        return config_variant(spec, **changes)

    return apply


OLD = {"dispatch": "fixed", "run_ahead_steps": 1, "neuron_walk": "none"}
OLD_DEFAULT = "old default (fixed, run-ahead 1, FC one output, fixed split)"
NEW_DEFAULT = "new default (compact, run-ahead 0, FC neuron walk, searched split)"
READINGS: dict[str, Change] = {
    "old default (fixed, run-ahead 1, FC one output, fixed split)": variant(
        core=OLD, mesh={"split": "fixed"}
    ),
    "new default (compact, run-ahead 0, FC neuron walk, searched split)": variant(),
    "dispatch fixed": variant(core={"dispatch": "fixed"}),
    "dispatch dynamic": variant(core={"dispatch": "dynamic"}),
    "run-ahead 1": variant(core={"run_ahead_steps": 1}),
    "run-ahead 2": variant(core={"run_ahead_steps": 2}),
    "run-ahead unbounded": variant(core={"run_ahead_steps": None}),
    "dispatch fixed, run-ahead 1": variant(core={"dispatch": "fixed", "run_ahead_steps": 1}),
    "dispatch dynamic, run-ahead 1": variant(core={"dispatch": "dynamic", "run_ahead_steps": 1}),
    "dispatch dynamic, run-ahead unbounded": variant(core={"dispatch": "dynamic", "run_ahead_steps": None}),
    "neuron walk none (FC one output)": variant(core={"neuron_walk": "none"}),
    "neuron walk fc_pointwise": variant(core={"neuron_walk": "fc_pointwise"}),
    "split fixed": variant(mesh={"split": "fixed"}),
}
"""Each reading of the sources: the old and new defaults, then one option (or one pair) changed from the
new default."""

ABLATIONS: dict[str, Change] = {
    "L1 off, L2 off (W=1, fixed dispatch, round robin, fixed split)": variant(
        core={"window": 1, "dispatch": "fixed"}, mesh={"balance": "round_robin", "split": "fixed"}
    ),
    "L1 look-ahead only (W=8, fixed dispatch), L2 off": variant(
        core={"dispatch": "fixed"}, mesh={"balance": "round_robin", "split": "fixed"}
    ),
    "L2 round robin (searched split)": variant(mesh={"balance": "round_robin"}),
    "L2 LPT (default)": variant(),
    "L2 dynamic queue": variant(mesh={"balance": "dynamic"}),
    "split groups (non-atomic bound)": variant(core={"atomic_groups": False}),
}
WINDOWS: dict[str, int | None] = {"1": 1, "2": 2, "4": 4, "8": 8, "unbounded": None}


def run(config: Any, network: str, skip: bool = False) -> RunResult:
    return simulate(config, network, PROFILE, seed=0, skip_unsupported=skip)


def md(df: pd.DataFrame, floatfmt: str = ".3f") -> str:
    """A DataFrame as a markdown table (numbers formatted, thousands separated)."""

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,{floatfmt}}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    return markdown_frame(df, cell)


def per_layer(phantom: RunResult, dense: RunResult) -> pd.DataFrame:
    p, d = phantom.layers.set_index("layer"), dense.layers.set_index("layer")
    total = p["slots_total"]
    out = pd.DataFrame(
        {
            "layer": p.index,
            "kind": p["kind"],
            "eff. MACs / dense": p["macs_effectual"] / p["macs_dense"],
            "dense cycles": d["cycles"].astype(int),
            "Phantom cycles": p["cycles"].astype(int),
            "speedup": d["cycles"] / p["cycles"],
            "utilization": p["utilization"],
            "unit idle": p["slots_unit_idle"] / total,
            "packing": p["slots_packing"] / total,
            "unmapped": p["slots_unmapped"] / total,
            "imbalance": p["slots_imbalance"] / total,
            "energy uJ": p["energy_pj"] / 1e6,
        }
    )
    return out.reset_index(drop=True)


def conv_only(res: RunResult) -> pd.DataFrame:
    """The layers that are not fully connected (conv, depthwise, pointwise)."""
    return res.layers[res.layers["kind"] != "fc"]


def network_row(name: str, res: RunResult, base: RunResult) -> dict[str, Any]:
    """Totals of one run; speedups are latency ratios (cycles when the clocks are equal)."""
    layers = res.layers
    common = base.layers[base.layers["layer"].isin(layers["layer"])]
    cycles = int(layers["cycles"].sum())
    latency = float(layers["latency_s"].sum())
    mult = int(layers["multipliers"].iloc[0])
    speedup = float(common["latency_s"].sum()) / latency
    return {
        "accelerator": name,
        "layers run": len(layers),
        "multipliers": mult,
        "cycles": cycles,
        "latency ms": latency * 1e3,
        "speedup vs dense (same layers)": speedup,
        "per multiplier": speedup * 1024 / mult,
        "utilization": layers["macs_issued"].sum() / (mult * cycles),
        "energy uJ": layers["energy_pj"].sum() / 1e6,
        "dense energy / energy": common["energy_pj"].sum() / layers["energy_pj"].sum(),
    }


def latency_ratio(phantom: pd.DataFrame, other: pd.DataFrame) -> float:
    """Other latency / Phantom-2D latency over the layers both ran."""
    both = phantom["layer"].isin(other["layer"])
    mine = float(phantom.loc[both, "latency_s"].sum())
    theirs = float(other.loc[other["layer"].isin(phantom["layer"]), "latency_s"].sum())
    return theirs / mine


def slot_shares(layers: pd.DataFrame) -> dict[str, float]:
    """The slot partition of some layers in percent of their slots (parts that are 0 everywhere dropped
    by the caller)."""
    total = float(layers["slots_total"].sum())
    return {p: 100 * float(layers[f"slots_{p}"].sum()) / total for p in SLOT_PARTS}


def reading_rows(
    label: str, res: RunResult, refs: dict[str, RunResult]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(published figures, cycles and slot shares) of one reading, all layers and conv only."""
    figures: dict[str, Any] = {"reading": label}
    effect: dict[str, Any] = {"reading": label}
    for scope, pick in (("all", lambda r: r.layers), ("conv", conv_only)):
        mine = pick(res)
        figures[f"dense ({scope})"] = latency_ratio(mine, pick(refs[BASELINE]))
        for name in PAPER:
            if name != "dense" and name in refs:
                figures[f"{name} ({scope})"] = latency_ratio(mine, pick(refs[name]))
        effect[f"cycles ({scope})"] = int(mine["cycles"].sum())
    effect |= {p: v for p, v in slot_shares(res.layers).items() if p not in ("ineffectual", "memory_stall")}
    return figures, effect


def evaluate(network: str, out: list[str], summary: dict[str, Any], sink: dict[str, RunResult]) -> None:
    spec, _ = resolve_config("phantom2d")
    refs = {BASELINE: run(BASELINE, network)}
    for name in OTHERS:
        refs[name] = run(resolve_config(name)[0], network, skip=True)
    results = {label: run(change(spec), network) for label, change in READINGS.items()}
    default = results[NEW_DEFAULT]
    sink[network] = default
    out.append(f"## {network} ({PROFILE})\n")
    published_figures(network, results, refs, out, summary)
    out.append(
        "### Per layer: new default vs the dense baseline (`systolic_ws_32x32`), with the slot shares\n"
    )
    out.append(md(per_layer(default, refs[BASELINE])) + "\n")
    rows = [network_row("phantom2d (new default)", default, refs[BASELINE])]
    rows.append(network_row("phantom2d (old default)", results[OLD_DEFAULT], refs[BASELINE]))
    rows += [network_row(name, res, refs[BASELINE]) for name, res in refs.items()]
    out.append(
        "### Network totals (speedups are latency ratios; `per multiplier` scales a preset that is not "
        "iso-multiplier to 1,024 multipliers)\n"
    )
    out.append(md(pd.DataFrame(rows)) + "\n")
    ablations(network, spec, refs[BASELINE], out)


def published_figures(
    network: str,
    results: dict[str, RunResult],
    refs: dict[str, RunResult],
    out: list[str],
    summary: dict[str, Any],
) -> None:
    """The paper's speedups under every reading, and every reading's cycles and slot shares."""
    figures, effects = [], []
    for label, res in results.items():
        fig, eff = reading_rows(label, res, refs)
        figures.append(fig)
        effects.append(eff)
        summary.setdefault(network, {})[label] = eff
    paper = {"reading": "paper (VGG16 + MobileNet, Phantom abstract)"}
    for col in figures[0]:
        if col != "reading":
            paper[col] = PAPER[col.split(" ")[0]]
    out.append(
        "### The paper's figures under each reading (Phantom-2D's latency speedup over each design, "
        "same masks, on the layers both ran; conv = every layer but the FC ones)\n"
    )
    out.append(md(pd.DataFrame([paper, *figures]), ".2f") + "\n")
    out.append(
        "### Every reading's cycles and where they went (% of the network's multiplier-cycles; "
        "ineffectual and memory stall are 0 throughout)\n"
    )
    out.append(md(pd.DataFrame(effects), ".1f") + "\n")


def ablations(network: str, spec: Any, dense: RunResult, out: list[str]) -> None:
    """Level-1 / level-2 ablations and the look-ahead window, from the new default."""
    rows, where = [], []
    variants = {
        **ABLATIONS,
        **{f"W = {k}": variant(core={"window": w}) for k, w in WINDOWS.items()},
    }
    for label, change in variants.items():
        res = run(change(spec), network)
        row = network_row(label, res, dense)
        row["imbalance (cycle-weighted)"] = _weighted_imbalance(res)
        rows.append(row)
        if label in ABLATIONS:
            shares = slot_shares(res.layers)
            where.append({"variant": label, **{p: shares[p] for p in SLOT_PARTS}})
    table = pd.DataFrame(rows).drop(columns=["layers run", "multipliers", "per multiplier", "latency ms"])
    out.append("### Load-balancing ablations and the look-ahead window W (from the new default)\n")
    out.append(md(table.rename(columns={"accelerator": "variant"})) + "\n")
    out.append("### Where the cycles went in the ablations (% of the network's multiplier-cycles)\n")
    out.append(md(pd.DataFrame(where), ".1f") + "\n")


def core_shapes(networks: list[str], out: list[str]) -> None:
    """The standard core shapes at about 1,024 multipliers, as the core-shape sweep lists them."""
    configs: list[tuple[str, Any]] = []
    seen = set()
    for point in expand(load_sweep(SHAPES)):
        core, mesh = point.spec["core"], point.spec["mesh"]
        label = f"P{core['pes']} T{core['threads']} on {mesh['rows']} x {mesh['cols']}"
        if label not in seen:
            seen.add(label)
            configs.append((label, parse_arch(point.spec, str(SHAPES))))
    rows = []
    for network in networks:
        for label, config in configs:
            res = run(config, network)
            layers = res.layers
            mult = int(layers["multipliers"].iloc[0])
            cycles = int(layers["cycles"].sum())
            shares = slot_shares(layers)
            rows.append(
                {
                    "network": network,
                    "core shape": label,
                    "multipliers": mult,
                    "cycles": cycles,
                    "cycles per multiplier (x mult / 1,024)": round(cycles * mult / 1024),
                    "conv cycles per multiplier": round(int(conv_only(res)["cycles"].sum()) * mult / 1024),
                    "utilization": layers["macs_issued"].sum() / (mult * cycles),
                    **{p: shares[p] for p in ("unmapped", "packing", "unit_idle", "imbalance")},
                }
            )
    out.append(
        "## Core shapes at about 1,024 multipliers (`arch_configs/sweeps/phantom_core_shapes.yaml`; "
        "new defaults; slot shares in %)\n"
    )
    out.append(md(pd.DataFrame(rows), ".3f") + "\n")


def _weighted_imbalance(res: RunResult) -> float:
    layers = res.layers
    return float((layers["imbalance"] * layers["cycles"]).sum() / layers["cycles"].sum())


def speed(out: list[str]) -> None:
    spec, _ = resolve_config("phantom2d")
    run(spec, "mobilenet_v1")  # loads the numba cache
    t0 = time.perf_counter()
    run(spec, "vgg16")
    seconds = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bound, products = popcount_seconds("vgg16", PROFILE)
    out.append("## Speed of the model\n")
    out.append(
        f"VGG16/{PROFILE} on `phantom2d` with exact seeded masks (numba cache warm, masks generated inside "
        f"the run): **{seconds:.2f} s**, peak RSS of the whole evaluation process {rss_mb:,.0f} MB. Popcount "
        f"lower bound (count the {products:,} valid products, masks generated beforehand): {bound:.2f} s; "
        f"ratio **{seconds / bound:.1f}x**. Measured on a 2-core machine shared with other jobs.\n"
    )


def summary_table(summary: dict[str, Any]) -> str:
    """Old and new default cycles per network (all layers and conv only), for the cross-model tables."""
    rows = []
    for network, readings in summary.items():
        for label in (OLD_DEFAULT, NEW_DEFAULT):
            eff = readings[label]
            rows.append(
                {
                    "network": network,
                    "reading": label,
                    **{k: eff[k] for k in ("cycles (all)", "cycles (conv)")},
                }
            )
    return md(pd.DataFrame(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write docs/phantom.md and the figure")
    parser.add_argument("--networks", nargs="+", default=["vgg16", "mobilenet_v1"])
    parser.add_argument("--no-speed", action="store_true", help="skip the timing run")
    args = parser.parse_args()
    out: list[str] = []
    runs: dict[str, RunResult] = {}
    summary: dict[str, Any] = {}
    if not args.no_speed:
        speed(out)
    for network in args.networks:
        evaluate(network, out, summary, runs)
    core_shapes(args.networks, out)
    out.insert(0, "## Old and new defaults in brief\n\n" + summary_table(summary) + "\n")
    text = "\n".join(out)
    print(text)
    if args.write:
        head = DOC.read_text().split(GENERATED)[0] if DOC.is_file() else ""
        DOC.write_text(head + GENERATED + "\n\n" + text)
        if "vgg16" in runs:
            draw_figure(runs["vgg16"])


def draw_figure(result: RunResult) -> None:
    """Load balance on VGG16 for cores 0-15 of the 64, so the figure stays readable."""
    timeline = result.timeline[result.timeline["unit"] < 16]
    title = "Phantom-2D (8x8 cores, searched split, LPT) on pruned VGG16: cores 0-15"
    load_balance(timeline, title=title).savefig(FIGURE, dpi=80)


GENERATED = "<!-- generated by benchmarks/phantom_eval.py --write; everything below is replaced -->"


if __name__ == "__main__":
    main()
