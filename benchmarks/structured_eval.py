"""Independent against structured masks: how each accelerator's speedup and slot partition move when the
zeros of pruned VGG16 and MobileNet v1 have the structure measured on real masks (per-filter density
spread, per-channel spread and spatially correlated activations) at unchanged densities.

`independent` is the network's `structured` profile with every pattern replaced by `uniform` (the same
densities, zeros placed independently); `structured` is the shipped profile. Same seed, same configs,
speedups over the dense systolic array. Then pSConv's pre-defined sparse kernels against unstructured
pruning at the same density. Prints markdown; with --write, writes docs/structured_sparsity.md (with the
measurements of benchmarks/mask_structure.py).

    python benchmarks/structured_eval.py [--write] [--networks vgg16 mobilenet_v1] [--psconv-networks ...]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
from mask_structure import markdown as structure_markdown
from mask_structure import measure

from accelsim.compare import compare
from accelsim.report.schema import SLOT_PARTS
from accelsim.workload.sparsity import load_profile, uniform_counterpart

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "structured_sparsity.md"
CONFIGS = ("systolic_ws_32x32", "phantom2d", "scnn", "sparten", "eyeriss_v2_1024")
"""The dense baseline first (every speedup is over it), then the sparse accelerators."""
SHARES = SLOT_PARTS


def evaluate(network: str, seed: int = 0, *, psconv: bool = False) -> pd.DataFrame:
    """One row per (masks, accelerator): speedup over the baseline and the slot shares in %.

    Independent against structured masks, or (`psconv`) pSConv kernels against unstructured pruning."""
    if psconv:
        kernels = load_profile(network, "psconv")
        pairs = (("unstructured", uniform_counterpart(kernels, "unstructured")), ("psconv", kernels))
    else:
        structured = load_profile(network, "structured")
        pairs = (("independent", uniform_counterpart(structured)), ("structured", structured))
    rows = []
    for masks, profile in pairs:
        result = compare(list(CONFIGS), network, profile, seed, iso=False)
        for _, r in result.network.iterrows():
            total = float(r["slots_total"])
            shares = {p: 100.0 * float(r[f"slots_{p}"]) / total for p in SLOT_PARTS}
            rows.append(
                {"network": network, "masks": masks, "accelerator": r["accelerator"], "speedup": r["speedup"]}
                | {p: shares[p] for p in SHARES}
                | {"imbalance_ratio": r["imbalance"]}
            )
    return pd.DataFrame(rows)


def table(df: pd.DataFrame) -> str:
    """Speedups side by side, then the slot shares of both mask kinds."""
    first, second = df.masks.unique()[:2]
    out = [
        f"| network | accelerator | speedup, {first} | speedup, {second} | change |",
        "|---|---|---|---|---|",
    ]
    for (net, acc), g in df.groupby(["network", "accelerator"], sort=False):
        ind = float(g[g.masks == first].speedup.iloc[0])
        st = float(g[g.masks == second].speedup.iloc[0])
        out.append(f"| {net} | {acc} | {ind:.3f} | {st:.3f} | {100 * (st / ind - 1):+.1f} % |")
    out += ["", _reading(df), "", "Slot partition (% of multiplier-cycles):", ""]
    out.append("| network | accelerator | masks | " + " | ".join(SHARES) + " |")
    out.append("|---|---|---|" + "---|" * len(SHARES))
    for _, r in df.iterrows():
        cells = " | ".join(f"{r[p]:.1f}" for p in SHARES)
        out.append(f"| {r.network} | {r.accelerator} | {r.masks} | {cells} |")
    return "\n".join(out) + "\n"


def _reading(df: pd.DataFrame) -> str:
    """One sentence per network: who loses and who gains, and the slot part that moved most for each."""
    lines = []
    for net, g in df.groupby("network", sort=False):
        parts = []
        first, second = g.masks.unique()[:2]
        for acc, a in g.groupby("accelerator", sort=False):
            ind, st = a[a.masks == first].iloc[0], a[a.masks == second].iloc[0]
            if acc == CONFIGS[0]:
                continue
            moved = max((p for p in SHARES if p != "effectual"), key=lambda p: abs(st[p] - ind[p]))
            change = 100 * (st.speedup / ind.speedup - 1)
            parts.append(f"{acc} {change:+.1f} % ({moved} {ind[moved]:.1f} -> {st[moved]:.1f} %)")
        lines.append(
            f"- {net}: speedup change, and the lost-slot share that moved most: " + "; ".join(parts) + "."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {DOC.relative_to(ROOT)}")
    parser.add_argument("--networks", nargs="+", default=["vgg16", "mobilenet_v1"])
    parser.add_argument(
        "--psconv-networks", nargs="*", default=["vgg16_cifar10", "resnet18_cifar10", "resnet18", "vgg16"]
    )
    args = parser.parse_args()
    t0 = time.time()
    rows, means = measure()
    structure = structure_markdown(rows, means)
    results = pd.concat([evaluate(net) for net in args.networks], ignore_index=True)
    speed = table(results)
    kernels = [evaluate(net, psconv=True) for net in args.psconv_networks]
    psconv = table(pd.concat(kernels, ignore_index=True)) if kernels else "(not run)\n"
    print(structure)
    print(speed)
    print(psconv)
    print(f"({time.time() - t0:.0f} s)")
    if args.write:
        DOC.write_text(
            PAGE.format(
                structure=structure,
                speed=speed,
                psconv=psconv,
                networks=", ".join(args.networks),
                psconv_networks=", ".join(args.psconv_networks),
            )
        )


PAGE = """# Structured sparsity

Generated by `python benchmarks/structured_eval.py --write`; the prose is the script's, the numbers are what
the shipped code gives.

## What the real masks look like

The only real masks the project ships are nine layers of the sparse MobileNet v1 0.5-128 of the
Sparseloop artifact (`workloads/profiles/mobilenet_v1_0.5_128/sparseloop_masks.npz`). Measured by
`benchmarks/mask_structure.py`:

{structure}
- *filter CV*: coefficient of variation (std / mean) of the per-filter weight densities; *relative*: as a
  share of the largest one possible at that density, sqrt((1 - d) / d). Independent masks have about
  1 / sqrt(filter length) relative CV from sampling alone (0.04-0.13 here).
- *channel CV*: the same for the per-channel densities of the input activations. The relative channel CV is
  close to 0.75 in every layer, while independent masks would give 0.03-0.2: whole channels are much
  denser or sparser than the layer.
- *length*: correlation length of the `correlated` pattern's latent Gaussian field, in pixels. The naive
  value inverts the pooled lag-1 autocorrelation; it reads low on small maps and with spread channel
  densities, so the fitted value is the length whose generated masks (same shape, density and channel
  spread, 6 draws) have the same statistic. On 4x4 maps no length reaches the real masks' clustering.

## The patterns

- `spread` (weights by filter or input channel, activations by channel): group densities from a Beta
  distribution with the layer density as mean and a given `cv` or `relative_cv`; `dead_fraction` empties
  whole groups first (whole-filter or whole-channel pruning). Counts are apportioned exactly, so the layer
  has exactly round(density x size) non-zeros.
- `correlated` (activations): per channel, a stationary Gaussian field with correlation
  exp(-|dx| / length) exp(-|dy| / length); the non-zeros are the largest values, over the whole tensor or,
  with a channel spread, per channel with apportioned counts. Exact count again.
- Both draw from the operand's own seeded stream: the same masks in every process. Profiles that name no
  pattern stay `uniform`.

## Independent against structured masks ({networks})

Profiles: the network's `structured` profile and the same densities with uniform patterns. Speedup over
`systolic_ws_32x32` (network cycles of the layers both ran), seed 0.

{speed}
## pSConv kernels against unstructured pruning ({psconv_networks})

The `psconv` profiles (every 3x3 kernel but the first layer's keeps 4 of 9 taps, a 2x2 square rotating
with filter and input channel; activations dense) against the same layers pruned to exactly 4/9 at random
positions. Speedup over `systolic_ws_32x32`, seed 0; notebooks/08_psconv.ipynb walks through the CIFAR-10
VGG16 case.

{psconv}
"""


if __name__ == "__main__":
    main()
