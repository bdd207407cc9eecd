"""Phantom-2D evaluation: pruned VGG16 and MobileNet v1 against the dense baseline and the other sparse
accelerators at the same multiplier count and clock; level-1 / level-2 load-balancing ablations; the
look-ahead window sweep; the speed of the model against the popcount lower bound. Prints markdown
and, with --write, replaces docs/phantom.md and draws docs/img/phantom_load_balance.png.

    python benchmarks/phantom_eval.py [--write] [--networks vgg16 mobilenet_v1]

Nothing here is tuned: every number is what the shipped configs give (docs/phantom.md explains why
it differs from the paper's 12x).
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from lower_bound import popcount_seconds

from accelsim.api import resolve_config, simulate
from accelsim.plots import load_balance
from accelsim.report.result import RunResult
from accelsim.report.schema import SLOT_PARTS

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "phantom.md"
FIGURE = ROOT / "docs" / "img" / "phantom_load_balance.png"
PROFILE = "pruned"
BASELINE = "systolic_ws_32x32"
OTHERS = ("scnn", "sparten", "eyeriss_v2_1024", "eyeriss_v2")
"""Other sparse accelerators compared when their configs exist and run."""

Change = Callable[[Any], Any]


def variant(**changes: dict[str, Any]) -> Change:
    """A spec transformer: nested section -> field updates (e.g. core={"window": 1})."""

    def apply(spec: Any) -> Any:
        return spec.model_copy(
            update={sec: getattr(spec, sec).model_copy(update=upd) for sec, upd in changes.items()}
        )

    return apply


L1_L2 = {
    "L1 off, L2 off (W=1, no prefetch, round robin)": variant(
        core={"window": 1, "prefetch_next_tile": False}, mesh={"balance": "round_robin"}
    ),
    "L1 off (W=1, no prefetch), L2 LPT": variant(core={"window": 1, "prefetch_next_tile": False}),
    "L1 look-ahead only (W=8, no prefetch), L2 LPT": variant(core={"prefetch_next_tile": False}),
    "L1 on, L2 off (round robin)": variant(mesh={"balance": "round_robin"}),
    "L1 on, L2 LPT (default)": variant(),
    "L1 on, L2 dynamic queue": variant(mesh={"balance": "dynamic"}),
    "L1 on, L2 LPT, split groups (non-atomic bound)": variant(core={"atomic_groups": False}),
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

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def per_layer(phantom: RunResult, dense: RunResult) -> pd.DataFrame:
    p, d = phantom.layers.set_index("layer"), dense.layers.set_index("layer")
    out = pd.DataFrame(
        {
            "layer": p.index,
            "kind": p["kind"],
            "eff. MACs / dense": p["macs_effectual"] / p["macs_dense"],
            "dense cycles": d["cycles"].astype(int),
            "Phantom cycles": p["cycles"].astype(int),
            "speedup": d["cycles"] / p["cycles"],
            "utilization": p["utilization"],
            "imbalance": p["imbalance"],
            "idle": p["idle_fraction"],
            "energy uJ": p["energy_pj"] / 1e6,
            "dense energy uJ": d["energy_pj"] / 1e6,
        }
    )
    return out.reset_index(drop=True)


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


def same_layer_speedup(phantom: RunResult, other: RunResult) -> tuple[float, int]:
    """Other latency / Phantom-2D latency over the layers the other ran, and how many it skipped."""
    ran = phantom.layers["layer"].isin(other.layers["layer"])
    mine = float(phantom.layers.loc[ran, "latency_s"].sum())
    return float(other.layers["latency_s"].sum()) / mine, int((~ran).sum())


def evaluate(network: str, out: list[str], timeline_sink: dict[str, RunResult]) -> None:
    spec, _ = resolve_config("phantom2d")
    dense = run(BASELINE, network)
    phantom = run(spec, network)
    timeline_sink[network] = phantom
    out.append(f"## {network} ({PROFILE})\n")
    out.append("### Per layer: Phantom-2D (`phantom2d`) vs the dense baseline (`systolic_ws_32x32`)\n")
    out.append(md(per_layer(phantom, dense)) + "\n")
    rows = [network_row("phantom2d", phantom, dense), network_row(BASELINE, dense, dense)]
    others: dict[str, RunResult] = {}
    for name in OTHERS:
        other_spec, _ = resolve_config(name)
        others[name] = run(other_spec, network, skip=True)
        rows.append(network_row(name, others[name], dense))
    out.append(
        "### Network totals (speedups are latency ratios; `per multiplier` scales a preset that is not "
        "iso-multiplier to 1,024 multipliers)\n"
    )
    out.append(md(pd.DataFrame(rows)) + "\n")
    ratios = ", ".join(
        f"{name} {speedup:.2f}x ({speedup * res.layers['multipliers'].iloc[0] / 1024:.2f}x per multiplier"
        f"{'' if skipped == 0 else f'; {skipped} layer(s) it cannot run left out of both'})"
        for name, res in others.items()
        for speedup, skipped in [same_layer_speedup(phantom, res)]
    )
    out.append(f"Phantom-2D latency speedup over the others, on the layers both ran: {ratios}.\n")
    where = [slot_row("phantom2d (default)", phantom)]
    ablation = []
    variants = {
        **L1_L2,
        **{f"W = {k} (prefetch on, LPT)": variant(core={"window": w}) for k, w in WINDOWS.items()},
    }
    for label, change in variants.items():
        res = run(change(spec), network)
        row = network_row(label, res, dense)
        row["imbalance (cycle-weighted)"] = _weighted_imbalance(res)
        ablation.append(row)
        if label in L1_L2:
            where.append(slot_row(label, res))
    table = pd.DataFrame(ablation).drop(columns=["layers run", "multipliers", "per multiplier", "latency ms"])
    out.append("### Load-balancing ablations and the look-ahead window W\n")
    out.append(md(table.rename(columns={"accelerator": "variant"})) + "\n")
    out.append(
        "### Where the cycles went (% of the network's multiplier-cycles; the ablations move slots "
        "between packing, unit idle and imbalance)\n"
    )
    out.append(md(pd.DataFrame(where), ".1f") + "\n")


def slot_row(label: str, res: RunResult) -> dict[str, Any]:
    """The network's slot partition in percent of its slots."""
    layers = res.layers
    total = float(layers["slots_total"].sum())
    return {"variant": label, **{p: 100 * float(layers[f"slots_{p}"].sum()) / total for p in SLOT_PARTS}}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write docs/phantom.md and the figure")
    parser.add_argument("--networks", nargs="+", default=["vgg16", "mobilenet_v1"])
    parser.add_argument("--no-speed", action="store_true", help="skip the timing run")
    args = parser.parse_args()
    out: list[str] = []
    runs: dict[str, RunResult] = {}
    if not args.no_speed:
        speed(out)
    for network in args.networks:
        evaluate(network, out, runs)
    text = "\n".join(out)
    print(text)
    if args.write:
        head = DOC.read_text().split(GENERATED)[0] if DOC.is_file() else ""
        DOC.write_text(head + GENERATED + "\n\n" + text)
        if "vgg16" in runs:
            draw_figure(runs["vgg16"])


def draw_figure(result: RunResult) -> None:
    """Load balance on VGG16 for 16 of the 64 cores (filter sets 0 and 1 of every input set), so the
    figure stays readable; core id = input set x 8 + filter set."""
    timeline = result.timeline[result.timeline["unit"] % 8 < 2]
    title = "Phantom-2D (8x8 cores, LPT) on pruned VGG16: cores of filter sets 0-1 in every input set"
    load_balance(timeline, title=title).savefig(FIGURE, dpi=80)


GENERATED = "<!-- generated by benchmarks/phantom_eval.py --write; everything below is replaced -->"


if __name__ == "__main__":
    main()
