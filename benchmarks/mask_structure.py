"""How the real masks the project ships are structured: per-filter density spread of the weights,
per-channel density spread and spatial correlation length of the input activations.

Reads workloads/profiles/mobilenet_v1_0.5_128/sparseloop_masks.npz (nine layers of the sparse MobileNet
v1 0.5-128 of the Sparseloop artifact, see that folder's pruned.yaml) and prints one row per layer and the
means the `structured` profiles use. The relative CV is the coefficient of variation as a share of the
largest one possible at the layer's density, sqrt((1 - d) / d); the length is fitted by simulation
(`accelsim.workload.mask_stats.fit_correlation_length`), the naive one read off the lag-1 correlation.

    python benchmarks/mask_structure.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from accelsim.workload.mask_stats import (
    correlation_length,
    fit_correlation_length,
    group_density_cv,
    relative_group_cv,
)

ROOT = Path(__file__).resolve().parent.parent
MASKS = ROOT / "workloads" / "profiles" / "mobilenet_v1_0.5_128" / "sparseloop_masks.npz"
LARGE_MAP = 16
"""Maps of at least this side (pw3 32x32, pw4 16x16) form the 'large map' length; 8x8 the 'small map' one."""
SMALLEST_FIT = 8
"""On 4x4 maps the fit runs into its 50 px bound: no length in the model is as clustered; left out."""


def measure(path: Path = MASKS) -> tuple[list[dict[str, float | str]], dict[str, float]]:
    """Per-layer statistics of the real masks and their means (pointwise weights, all activations)."""
    rows: list[dict[str, float | str]] = []
    with np.load(path, allow_pickle=False) as npz:
        layers = sorted({key.split(".")[0] for key in npz.files}, key=lambda n: int(n[2:]))
        for layer in layers:
            w, a = npz[f"{layer}.weights"] != 0, npz[f"{layer}.activations"] != 0
            channel_rel = relative_group_cv(a, 0)
            rows.append(
                {
                    "layer": layer,
                    "weight_density": float(w.mean()),
                    "filter_cv": group_density_cv(w, 0),
                    "filter_relative_cv": relative_group_cv(w, 0),
                    "act_shape": "x".join(map(str, a.shape)),
                    "act_density": float(a.mean()),
                    "channel_cv": group_density_cv(a, 0),
                    "channel_relative_cv": channel_rel,
                    "dead_channels": int(np.count_nonzero(a.reshape(a.shape[0], -1).sum(axis=1) == 0)),
                    "length_naive": correlation_length(a),
                    "length": fit_correlation_length(a, channel_rel),
                }
            )
    pointwise = [r for r in rows if str(r["layer"]).startswith("pw")]

    def side(r: dict[str, float | str]) -> int:
        return int(str(r["act_shape"]).split("x")[1])

    means = {
        "filter_relative_cv": float(np.mean([r["filter_relative_cv"] for r in pointwise])),
        "filter_cv": float(np.mean([r["filter_cv"] for r in pointwise])),
        "channel_relative_cv": float(np.mean([r["channel_relative_cv"] for r in rows])),
        "length_large": float(np.mean([r["length"] for r in rows if side(r) >= LARGE_MAP])),
        "length_small": float(np.mean([r["length"] for r in rows if SMALLEST_FIT <= side(r) < LARGE_MAP])),
    }
    return rows, means


def markdown(rows: list[dict[str, float | str]], means: dict[str, float]) -> str:
    """The measurements as a markdown table with the means below it."""
    head = (
        "| layer | weight density | filter CV | filter rel. CV | input (c x h x w) | input density | "
        "channel CV | channel rel. CV | dead channels | length, naive (px) | length, fitted (px) |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    body = "".join(
        f"| {r['layer']} | {r['weight_density']:.4f} | {r['filter_cv']:.3f} | "
        f"{r['filter_relative_cv']:.3f} | {r['act_shape']} | {r['act_density']:.4f} | "
        f"{r['channel_cv']:.3f} | {r['channel_relative_cv']:.3f} | "
        f"{r['dead_channels']} | {r['length_naive']:.3f} | {_length(float(r['length']))} |\n"
        for r in rows
    )
    tail = (
        f"\nMeans: filter CV {means['filter_cv']:.3f}, filter relative CV {means['filter_relative_cv']:.3f} "
        f"(the 8 pointwise layers); channel relative CV {means['channel_relative_cv']:.3f} (all 9 inputs); "
        f"fitted correlation length {means['length_large']:.3f} px on maps of {LARGE_MAP} px or more, "
        f"{means['length_small']:.3f} px on the 8x8 maps (4x4 maps: not determined).\n"
    )
    return head + body + tail


def _length(value: float) -> str:
    return f"{value:.3f}" if value < 49.0 else "> 49 (not determined)"


if __name__ == "__main__":
    print(markdown(*measure()))
