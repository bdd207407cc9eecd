"""SCNN against its dense baselines DCNN / DCNN-opt: the validation table of REFERENCE §6.5 / §11.

Prints (and with --write, writes docs/scnn.md and docs/img/scnn_density_sweep.png): speedup over
DCNN on AlexNet, VGG16 and MobileNet v1 (pruned), FC utilisation, performance at density 1.0 / 1.0,
the density-sweep crossover, energy ratios, sensitivity of the network results to the modelling
options, per-layer tables, and the time of a warm VGG16 run next to the popcount lower bound.

    python benchmarks/scnn_eval.py [--write]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lower_bound import network_workloads, popcount_seconds

from accelsim.accelerators import build
from accelsim.accelerators.base import Accelerator
from accelsim.api import resolve_config, resolve_network, simulate
from accelsim.config.arch import parse_arch
from accelsim.report.result import slot_shares
from accelsim.report.schema import SLOT_COLUMNS, SLOT_PARTS
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.sparsity import LayerDensity, SparsityProfile, load_profile

DOC = Path(__file__).resolve().parent.parent / "docs" / "scnn.md"
PLOT = DOC.parent / "img" / "scnn_density_sweep.png"
NETWORKS = ("alexnet", "vgg16", "mobilenet_v1")
SENSITIVITY_NETS = ("alexnet", "vgg16")
UNLIMITED = {"bandwidth_bytes_per_cycle": None, "kind": "lpddr4"}
RSK = "weight_order: rsk (k innermost, DNNsim)"
VARIANTS: dict[str, dict[str, object]] = {
    "shipped (krs weights, serial halo, group barrier, DNNsim hash, 50 GB/s)": {},
    RSK: {"weight_order": "rsk"},
    "halo: overlapped": {"halo": "overlapped"},
    "barrier: input_channel": {"barrier": "input_channel"},
    "bank_hash: ideal (no conflicts)": {"bank_hash": "ideal"},
    "DRAM 4 GB/s": {"dram": {"bandwidth_bytes_per_cycle": 4, "kind": "lpddr4"}},
    "DRAM unlimited": {"dram": UNLIMITED},
}
BEFORE_S = 27.08
"""VGG16 / pruned warm time this script measured before the kernel rewrite (same machine, shared)."""
SWEEP_NET, SWEEP_LAYERS = "alexnet", ("conv2", "conv3", "conv4", "conv5")
DENSITIES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 1.0)
PAPER = {
    "alexnet": 2.37,  # REFERENCE §6.5 [secondary]
    "vgg16": 3.52,
    "mobilenet_v1": float("nan"),  # the paper does not evaluate MobileNet
}


def model(name: str, **changes: object) -> Accelerator:
    """A shipped config, optionally with top-level keys replaced (validated again)."""
    spec, _ = resolve_config(name)
    if changes:
        spec = parse_arch({**spec.model_dump(mode="json"), **changes}, name)
    return build(spec)


def run_layers(config: str, works: list[LayerWorkload], **changes: object) -> pd.DataFrame:
    """One result row per workload."""
    m = model(config, **changes)
    return pd.DataFrame([m.simulate_layer(w)[0].to_row() for w in works])


def uniform_profile(network: str, density: float) -> SparsityProfile:
    """Every compute layer at `density` for weights and activations, uniform pattern."""
    net = resolve_network(network)
    layers = {layer.name: LayerDensity(density, density) for layer in net.compute_layers}
    return SparsityProfile(f"uniform_{density}", network, f"uniform {density}/{density}", layers)


def sweep() -> pd.DataFrame:
    """SCNN (shipped krs, and rsk) / DCNN / DCNN-opt at uniform densities on the sweep layers."""
    net = resolve_network(SWEEP_NET)
    layers = [layer for layer in net.compute_layers if layer.name in SWEEP_LAYERS]
    rows = []
    for d in DENSITIES:
        prof = uniform_profile(SWEEP_NET, d)
        works = [LayerWorkload(net.name, layer, prof, 0) for layer in layers]
        tot = {c: run_layers(c, works)[["cycles", "energy_pj"]].sum() for c in ("scnn", "dcnn", "dcnn_opt")}
        rsk = run_layers("scnn", works, weight_order="rsk")[["cycles", "energy_pj"]].sum()
        rows.append(
            {
                "density": d,
                "speedup": tot["dcnn"].cycles / tot["scnn"].cycles,
                "energy_vs_dcnn": tot["dcnn"].energy_pj / tot["scnn"].energy_pj,
                "energy_vs_dcnn_opt": tot["dcnn_opt"].energy_pj / tot["scnn"].energy_pj,
                "speedup_rsk": tot["dcnn"].cycles / rsk.cycles,
                "energy_vs_dcnn_rsk": tot["dcnn"].energy_pj / rsk.energy_pj,
                "energy_vs_dcnn_opt_rsk": tot["dcnn_opt"].energy_pj / rsk.energy_pj,
            }
        )
    return pd.DataFrame(rows)


def crossover(df: pd.DataFrame, col: str) -> float:
    """Density where `col` falls through 1.0 (linear interpolation); NaN if it never does."""
    d, v = df.density.to_numpy(), df[col].to_numpy()
    for j in range(len(d) - 1):
        if v[j] >= 1.0 > v[j + 1]:
            return float(d[j] + (v[j] - 1.0) * (d[j + 1] - d[j]) / (v[j] - v[j + 1]))
    return float("nan")


CONFIGS = ("scnn", "dcnn", "dcnn_opt")


def network_rows(network: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per layer: SCNN, DCNN, DCNN-opt cycles and energy on the pruned profile; and where each
    config's slots went (shares of multipliers x cycles, all layers and the non-FC ones)."""
    runs = {c: simulate(c, network, "pruned", 0).layers.set_index("layer") for c in CONFIGS}
    s, d, o = runs["scnn"], runs["dcnn"], runs["dcnn_opt"]
    return slot_rows(network, runs), pd.DataFrame(
        {
            "kind": s.kind,
            "scnn_cycles": s.cycles,
            "dcnn_cycles": d.cycles,
            "speedup": d.cycles / s.cycles,
            "scnn_util": s.utilization,
            "dcnn_util": d.utilization,
            "scnn_imbalance": s.imbalance,
            "scnn_uj": s.energy_pj / 1e6,
            "dcnn_uj": d.energy_pj / 1e6,
            "opt_uj": o.energy_pj / 1e6,
            "scnn_dram_mb": s.dram_bytes / 1e6,
            "dcnn_dram_mb": d.dram_bytes / 1e6,
            "mapping": s.mapping,
        }
    )


def slot_rows(network: str, runs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Network slot shares of each config, over all layers and over the non-FC layers."""
    rows = []
    for config, df in runs.items():
        for which, part in (("all", df), ("non-FC", df[df.kind != "fc"])):
            total = part[list(SLOT_COLUMNS)].sum().to_frame().T
            shares = slot_shares(total).iloc[0]
            rows.append(
                {
                    "network": network,
                    "config": config,
                    "layers": which,
                    "cycles": int(part.cycles.sum()),
                    "stall_cycles": int(part.stall_cycles.sum()),
                    **{p: float(shares[f"share_{p}"]) for p in SLOT_PARTS},
                }
            )
    return pd.DataFrame(rows)


def fc_utilization(**changes: object) -> pd.DataFrame:
    """SCNN's FC layers with unlimited DRAM (compute alone) and at the config's 50 GB/s."""
    rows = []
    for network in ("alexnet", "vgg16"):
        net = resolve_network(network)
        prof = load_profile(network, "pruned")
        works = [
            LayerWorkload(net.name, layer, prof, 0) for layer in net.compute_layers if layer.kind == "fc"
        ]
        free = run_layers("scnn", works, dram=UNLIMITED, **changes)
        bound = run_layers("scnn", works, **changes)
        dense = [LayerWorkload(net.name, w.layer, uniform_profile(network, 1.0), 0) for w in works]
        dense_free = run_layers("scnn", dense, dram=UNLIMITED, **changes)
        for j, w in enumerate(works):
            rows.append(
                {
                    "network": network,
                    "layer": w.layer.name,
                    "util_pruned_compute": free.utilization[j],
                    "util_pruned_50GBs": bound.utilization[j],
                    "util_dense_compute": dense_free.utilization[j],
                }
            )
    return pd.DataFrame(rows)


def sensitivity() -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Whole-network SCNN cycles under each modelling option, against the shipped SCNN and DCNN;
    also each variant's speedup over DCNN on the non-FC layers."""
    rows: dict[str, dict[str, object]] = {v: {} for v in VARIANTS}
    nonfc_speedup: dict[str, dict[str, float]] = {v: {} for v in VARIANTS}
    for network in SENSITIVITY_NETS:
        works = network_workloads(network, "pruned", 0)
        dcnn_df = run_layers("dcnn", works)
        dcnn = float(dcnn_df.cycles.sum())
        dcnn_nonfc = float(dcnn_df[dcnn_df.kind != "fc"].cycles.sum())
        base = base_nonfc = 0
        for v, changes in VARIANTS.items():
            df = run_layers("scnn", works, **changes)
            cycles, nonfc = int(df.cycles.sum()), int(df[df.kind != "fc"].cycles.sum())
            base, base_nonfc = base or cycles, base_nonfc or nonfc
            rows[v][f"{network}_cycles"] = cycles
            rows[v][f"{network}_vs_shipped"] = cycles / base
            rows[v][f"{network}_nonfc_vs_shipped"] = nonfc / base_nonfc
            rows[v][f"{network}_speedup_vs_dcnn"] = dcnn / cycles
            nonfc_speedup[v][network] = dcnn_nonfc / nonfc
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("scnn variant").reset_index()
    return table, nonfc_speedup


def order_table(
    val: pd.DataFrame, sw: pd.DataFrame, sens: pd.DataFrame, nonfc: dict[str, dict[str, float]], fc_rsk: float
) -> pd.DataFrame:
    """The validation figures that depend on the weight order, for the shipped krs and for rsk."""
    shipped = val.set_index("figure")
    rsk_row = sens.set_index("scnn variant").loc[RSK]
    at_one = sw[sw.density == 1.0].iloc[0]
    rows = [
        ("performance at 1.0/1.0 relative to DCNN", "speedup_rsk"),
        ("energy at 1.0/1.0 relative to DCNN (DCNN / SCNN)", "energy_vs_dcnn_rsk"),
    ]
    out = [(f, shipped.paper[f], shipped.model[f], float(at_one[col])) for f, col in rows]
    for f, col in (
        ("performance crossover density", "speedup"),
        ("energy crossover density vs DCNN", "energy_vs_dcnn"),
        ("energy crossover density vs DCNN-opt", "energy_vs_dcnn_opt"),
    ):
        out.append((f, shipped.paper[f], shipped.model[f], crossover(sw, f"{col}_rsk")))
    for n in SENSITIVITY_NETS:
        f = f"{n} speedup over DCNN (all layers)"
        out.append((f, shipped.paper[f], shipped.model[f], float(rsk_row[f"{n}_speedup_vs_dcnn"])))
        f = f"{n} speedup over DCNN (non-FC layers)"
        out.append((f, shipped.paper[f], shipped.model[f], nonfc[RSK][n]))
    f = "FC utilisation, dense data, compute only"
    out.append((f, shipped.paper[f], shipped.model[f], fc_rsk))
    return pd.DataFrame(out, columns=["figure", "paper", "krs (shipped)", "rsk"])


def plot_sweep(sw: pd.DataFrame, path: Path) -> None:
    """Speedup and energy ratios against density (SCNN over DCNN and DCNN-opt)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    ax.plot(sw.density, sw.speedup, "o-", label="SCNN speedup over DCNN (cycles)")
    ax.plot(sw.density, sw.energy_vs_dcnn, "s-", label="energy DCNN / SCNN")
    ax.plot(sw.density, sw.energy_vs_dcnn_opt, "^-", label="energy DCNN-opt / SCNN")
    ax.plot(sw.density, sw.speedup_rsk, "o--", color="C0", alpha=0.6, label="speedup, weight_order rsk")
    ax.plot(sw.density, sw.energy_vs_dcnn_rsk, "s--", color="C1", alpha=0.6, label="energy DCNN / SCNN, rsk")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.axvline(0.85, color="C0", ls=":", lw=1, label="paper: performance crossover ~0.85")
    ax.axvline(0.83, color="C1", ls=":", lw=1, label="paper: energy crossover vs DCNN ~0.83")
    ax.axvline(0.60, color="C2", ls=":", lw=1, label="paper: energy crossover vs DCNN-opt ~0.6")
    ax.set_yscale("log")
    ax.set_xlabel("weight density = activation density (uniform masks)")
    ax.set_ylabel("ratio (log scale; > 1: SCNN better)")
    ax.set_title(
        f"SCNN (krs; dashed: rsk) vs DCNN / DCNN-opt, {SWEEP_NET} "
        f"{'-'.join((SWEEP_LAYERS[0], SWEEP_LAYERS[-1]))}, seed 0"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def timing() -> dict[str, float]:
    """Warm VGG16 / pruned on scnn (masks generated beforehand, as for the popcount bound)."""
    works = network_workloads("vgg16", "pruned", 0)
    for w in works:
        _ = w.masks, w.effectual_macs
    m = model("scnn")
    m.simulate_layer(works[-1])  # compile
    t0 = time.perf_counter()
    for w in works:
        m.simulate_layer(w)
    seconds = time.perf_counter() - t0
    bound, _ = popcount_seconds("vgg16", "pruned", 0)
    return {"scnn_s": seconds, "popcount_s": bound, "ratio": seconds / bound}


def _cell(v: object) -> str:
    if isinstance(v, float | np.floating):
        return f"{v:,.3f}"
    if isinstance(v, int | np.integer):
        return f"{v:,}"
    return str(v)


def fmt(df: pd.DataFrame) -> str:
    """A DataFrame as a markdown table (3 significant decimals)."""
    cols = list(df.columns)
    out = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        cells = [_cell(v) for v in row]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {DOC}")
    args = parser.parse_args()
    t = timing()
    runs = {n: network_rows(n) for n in NETWORKS}
    nets = {n: r[1] for n, r in runs.items()}
    slots = pd.concat([r[0] for r in runs.values()], ignore_index=True)
    fc = fc_utilization()
    sw = sweep()
    sens, nonfc = sensitivity()
    fc_rsk = float(fc_utilization(weight_order="rsk").util_dense_compute.mean())
    rows = []
    for n, df in nets.items():
        conv = df[df.kind != "fc"]
        rows.append(
            (f"{n} speedup over DCNN (all layers)", PAPER[n], df.dcnn_cycles.sum() / df.scnn_cycles.sum())
        )
        rows.append(
            (
                f"{n} speedup over DCNN (non-FC layers)",
                PAPER[n],
                conv.dcnn_cycles.sum() / conv.scnn_cycles.sum(),
            )
        )
    fc_compute = float(fc.util_dense_compute.mean())
    rows.append(("FC utilisation, dense data, compute only", 0.25, fc_compute))
    rows.append(("FC utilisation, pruned, compute only (mean)", 0.25, float(fc.util_pruned_compute.mean())))
    at_one = sw[sw.density == 1.0].iloc[0]
    rows.append(("performance at 1.0/1.0 relative to DCNN", 0.79, float(at_one.speedup)))
    rows.append(("performance crossover density", 0.85, crossover(sw, "speedup")))
    rows.append(("energy crossover density vs DCNN", 0.83, crossover(sw, "energy_vs_dcnn")))
    rows.append(("energy crossover density vs DCNN-opt", 0.6, crossover(sw, "energy_vs_dcnn_opt")))
    rows.append(("energy at 1.0/1.0 relative to DCNN (DCNN / SCNN)", 1 / 1.33, float(at_one.energy_vs_dcnn)))
    for n, df in nets.items():
        paper_gain = 2.3 if n != "mobilenet_v1" else float("nan")
        paper_opt = 2.0 if n != "mobilenet_v1" else float("nan")
        rows.append(
            (f"{n} energy gain over DCNN (DCNN / SCNN)", paper_gain, df.dcnn_uj.sum() / df.scnn_uj.sum())
        )
        rows.append((f"{n} DCNN-opt energy gain over DCNN", paper_opt, df.dcnn_uj.sum() / df.opt_uj.sum()))
    val = pd.DataFrame(rows, columns=["figure", "paper", "model"])
    val["error_%"] = 100 * (val.model - val.paper) / val.paper
    orders = order_table(val, sw, sens, nonfc, fc_rsk)
    text = render(val, nets, fc, sw, sens, orders, slots, t)
    print(text)
    if args.write:
        DOC.write_text(text)
        plot_sweep(sw, PLOT)


def render(val: pd.DataFrame, nets: dict[str, pd.DataFrame], fc: pd.DataFrame, sw: pd.DataFrame,
           sens: pd.DataFrame, orders: pd.DataFrame, slots: pd.DataFrame,
           t: dict[str, float]) -> str:  # fmt: skip
    """The docs page."""
    parts = [
        "# SCNN, DCNN and DCNN-opt: validation",
        "",
        "Generated by `python benchmarks/scnn_eval.py --write`; every number below is what the model",
        "gives (seed 0), none is fitted. Paper figures: REFERENCE §6.5 / §11 (mostly [secondary]).",
        "Model description and assumptions: docs/assumptions.md (SCNN section).",
        "",
        "## Validation table",
        "",
        fmt(val),
        "",
        "The paper does not evaluate MobileNet v1, so its rows have no paper figure (nan). Its SCNN",
        "gain is small: conv1, dw1-dw13 and pw1-pw3 have dense weights in the `pruned` profile, the",
        "depthwise layers run with Kc = 1 (F x I products of one channel at a time), and the early",
        "layers overflow SCNN's 10 KB IARAM / OARAM and go through DRAM in temporal bands (stalls).",
        "",
        "## Weight order (krs shipped, rsk for comparison)",
        "",
        "A group's weights stream to the multipliers in F-vectors; `weight_order` says how they are",
        "linearised. `krs` (shipped) puts s innermost, as the paper's loop nest",
        "`K/Kc -> C -> W -> H -> Kc -> R -> S` (REFERENCE §6.2); `rsk` puts k innermost, as DNNsim",
        "(`core/src/SCNN.cpp` lines 114-124 build each PE's weight queue with `for r, for s, for k`).",
        "With `krs` on dense data one vector holds neighbouring taps (r, s) of one output channel and",
        "the activations of one vector are neighbours in a row, so several products of one step land",
        "on the *same* accumulator entry (x_out = x_in - s). Same entry means same bank: the model",
        "serialises them, one product per bank per cycle, exactly as DNNsim counts them (`SCNN.cpp`",
        "lines 43-58: every valid product adds one to its bank's count, the step lasts the largest",
        "count, whatever the coordinates). Hardware could merge products bound for one entry with an",
        "adder in front of the bank (a combining crossbar); the paper describes a plain scatter",
        "crossbar with one adder per bank, so the model does not merge. With `rsk` the F weights of a",
        "vector are F output channels at one tap, whose products never share an entry, and DNNsim's",
        "hash spreads them over distinct banks on dense data. FC layers have R = S = 1, so both",
        "orders give them the same lists.",
        "",
        "DCNN and DCNN-opt are the same array on dense operands with a conflict-free accumulator; they",
        "stream weights k innermost (rsk). A dense design knows its access pattern statically and",
        "would not feed a Cartesian product whose outputs collide: rsk on dense data is conflict-free",
        "under DNNsim's hash (SCNN-rsk equals DCNN's cycles at 1.0/1.0 below), so DCNN's cycles are",
        "what this array achieves on dense data with that order. DCNN would suffer the same",
        "collisions only if it were fed krs vectors, which no dense dataflow needs to do.",
        "",
        fmt(orders),
        "",
        "## Where the cycles went",
        "",
        "Every layer's multipliers x cycles slots (docs/architecture.md) divide as follows. The",
        "timeline's units are the 64 PEs (F x I = 16 multipliers each); the array is one engine unit",
        "that moves from output-channel group to group, and each PE's timeline is drawn from the",
        "kernel's exact cycles of it in every group. A busy PE-cycle is either a step's firing cycle",
        "or a cycle the step waits for a busy accumulator bank. Its 16 slots are *effectual* when the",
        "product is accumulated into an output (SCNN: the kernel's valid products, exactly the layer's",
        "effectual MACs; DCNN / DCNN-opt: the effectual MACs), *ineffectual* when a product is formed",
        "but adds to no output (a zero operand for the dense designs; for all three a product that",
        "falls outside the output plane or the band and is discarded before the crossbar), and",
        "*packing* when no product is formed (lanes a short F- or I-vector leaves empty, and all 16",
        "lanes of a bank-conflict cycle; an FC step holds one activation by the mapping, so its other",
        "12 lanes are *unmapped*). A PE waiting at the group barrier for the slowest PE is",
        "*unit_idle*; the halo exchange after each group (and the FC partial-sum reduction) is a wait",
        "for the on-chip network and the array's waits for DRAM are waits for data: both are",
        "*memory_stall* and count in `stall_cycles` (cycles in which at least one PE waits). A PE",
        "without an output tile in the layer is *unmapped* (13 x 13 and 27 x 27 planes use 7 x 7 of",
        "the 8 x 8 PEs); one without a tile in a short last band, or done with the last group of a",
        "layer without a halo (1 x 1) before the slowest PE, waits for the others: *imbalance*. DCNN-opt",
        "gates zero products for energy only: its slots are DCNN's. Columns are shares of the slots.",
        "",
        fmt(slots),
        "",
        "## Speed",
        "",
        f"VGG16 / pruned on `scnn`, warm, masks generated beforehand: {t['scnn_s']:.2f} s; popcount lower",
        f"bound (`benchmarks/lower_bound.py`) {t['popcount_s']:.2f} s in the same run;",
        f"ratio {t['ratio']:.1f}x (before the kernel rewrite: {BEFORE_S:.2f} s).",
        "Measured once on a 2-core machine shared with other jobs; the kernel runs output-channel",
        "groups on parallel threads (numba prange, results independent of threads).",
        "",
        f"## Density sweep ({SWEEP_NET} {', '.join(SWEEP_LAYERS)}, uniform masks, weights = activations)",
        "",
        f"![density sweep](img/{PLOT.name})",
        "",
        fmt(sw),
        "",
        "## Sensitivity to the modelling options (pruned, whole network incl. FC)",
        "",
        "Each row changes one option of `arch_configs/scnn.yaml`; DCNN stays as shipped (50 GB/s).",
        "`vs_shipped` = cycles / the shipped SCNN's cycles (`nonfc`: the same without the FC layers).",
        "",
        fmt(sens),
        "",
        "## FC layers",
        "",
        fmt(fc),
        "",
    ]
    for n, df in nets.items():
        parts += [f"## {n} / pruned, per layer", "", fmt(df.reset_index()), ""]
    return "\n".join(parts)


if __name__ == "__main__":
    main()
