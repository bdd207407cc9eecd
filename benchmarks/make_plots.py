"""Draw every plot kind from real runs into docs/img/ (the images the README shows).

Run: python benchmarks/make_plots.py [OUT_DIR]   (default docs/img; about half a minute)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

import accelsim
from accelsim.api import resolve_config
from accelsim.compare import compare
from accelsim.plots import (
    energy_breakdown,
    load_balance,
    losses,
    pareto_plot,
    speedup_bars,
    sweep_plot,
    utilization_per_layer,
)

ROOT = Path(__file__).resolve().parent.parent
DATAFLOWS = ["systolic_os_32x32", "systolic_ws_32x32", "systolic_is_32x32"]
SPARSE = ["systolic_ws_32x32", "dcnn", "scnn", "sparten", "eyeriss_v2_1024", "phantom2d"]
"""The 1,024-multiplier, 1 GHz designs: the dense baselines first, then the sparse ones."""
NETWORKS = ["vgg16", "mobilenet_v1", "alexnet"]


def tiny_sweep(network: str = "alexnet", sizes: tuple[int, ...] = (8, 16, 32, 64, 128)) -> pd.DataFrame:
    """A sweep-shaped table (one row per point and layer, axes as columns) from a loop of simulate calls."""
    frames = []
    for config in DATAFLOWS:
        spec, _ = resolve_config(config)
        for n in sizes:
            point = type(spec).model_validate(
                {**spec.model_dump(), "rows": n, "cols": n, "name": f"{spec.name}_{n}"}
            )
            layers = accelsim.simulate(point, network).layers
            axes = {"point_id": f"{spec.dataflow}_{n}", "rows": n, "cols": n, "dataflow": spec.dataflow}
            frames.append(layers.assign(**axes, profile="dense", seed=0))
    return pd.concat(frames, ignore_index=True)


def main(out_dir: Path) -> None:
    """Simulate, then save speedup, energy, utilization, load-balance, sweep, losses and Pareto PNGs."""
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    comparisons = {net: compare(SPARSE, net, profile="pruned") for net in NETWORKS}
    network_tables = pd.concat([c.network for c in comparisons.values()], ignore_index=True)
    lpddr4 = accelsim.simulate("systolic_ws_32x32_lpddr4", "alexnet")
    phantom = comparisons["vgg16"].runs["phantom2d"]
    sweep = tiny_sweep()
    vgg_conv = comparisons["vgg16"].layers.query("kind != 'fc'").assign(multipliers=1024)  # iso: cycles
    figures = {
        "speedup": speedup_bars(
            network_tables, title="Speedup over the dense WS array, pruned networks (1,024 MACs, 1 GHz)"
        ),
        "energy": energy_breakdown(network_tables, title="Energy per network and design (pruned)"),
        "energy_layers": energy_breakdown(lpddr4.layers, title="Energy per layer: WS 32x32, LPDDR4, AlexNet"),
        "utilization": utilization_per_layer(comparisons["vgg16"].layers),
        "load-balance": load_balance(phantom.timeline, title="Load balance: Phantom-2D's 64 cores on VGG16"),
        "sweep": sweep_plot(
            sweep, "rows", series="dataflow", title="AlexNet cycles vs array size (rows = cols)"
        ),
        "losses": losses(
            vgg_conv, by="accelerator", title="Where the cycles went: VGG16 convolutions, pruned, 1,024 MACs"
        ),
        "pareto": pareto_plot(
            sweep,
            "latency",
            "area",
            size="energy",
            color="dataflow",
            title="AlexNet on dense arrays of 8x8 to 128x128 PEs: latency against area",
        ),
    }
    for kind, fig in figures.items():
        path = out_dir / f"{kind}.png"
        fig.savefig(path, dpi=120)
        print(f"wrote {path}")
    print(f"{len(figures)} plots in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img")
