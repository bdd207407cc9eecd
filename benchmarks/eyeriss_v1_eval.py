"""Eyeriss v1 (row stationary) against what is published about it; writes docs/eyeriss_v1.md.

1. The chip (arch_configs/eyeriss_v1.yaml) on AlexNet CONV1-5 and VGG16 conv layers, against the
   JSSC'17 abstract [paper] and its per-layer AlexNet table (recalled, [unverified]; its totals agree
   with the abstract: 115.3 ms / 4 frames = 34.7 fps, 15.4 MB / 2 B / 2663 M MACs = 0.0029).
2. The scaled v1 that Eyeriss v2 compares with (arch_configs/eyeriss_v1_scaled192.yaml) on MobileNet
   v1 0.5-128 and AlexNet, against the v1 figures REFERENCE §11 derives from the v2 paper's ratios.

Nothing is fitted: every model number is a prediction from the configs. Run:
    python benchmarks/eyeriss_v1_eval.py [--write]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

import accelsim
from accelsim.api import RunResult

DOC = Path(__file__).resolve().parents[1] / "docs" / "eyeriss_v1.md"

JSSC_BATCH = 4
JSSC_ALEXNET = {  # layer: (latency ms for 4 frames, power mW, active PEs, DRAM MB for 4 frames) [unverified]
    "conv1": (20.9, 332, 154, 5.0),
    "conv2": (41.9, 288, 135, 4.0),
    "conv3": (23.6, 266, 156, 3.0),
    "conv4": (18.4, 235, 156, 2.1),
    "conv5": (10.5, 236, 156, 1.3),
}
ABSTRACT = {  # JSSC'17 abstract [paper]: conv layers only
    "alexnet": {"fps": 35.0, "dram_per_mac": 0.0029, "batch": 4, "power_mw": 278},
    "vgg16": {"fps": 0.7, "dram_per_mac": 0.0035, "batch": 3, "power_mw": 236},
}
V2_DERIVED = {  # REFERENCE §11 [derived] from the Eyeriss v2 paper's ratios: v1 scaled, batch 1
    ("mobilenet_v1_0.5_128", "inf/s"): 116.7,
    ("mobilenet_v1_0.5_128", "inf/J"): 1024.0,
    ("alexnet", "inf/s"): 6.5,
}


def err(model: float, paper: float) -> str:
    return f"{100 * (model - paper) / paper:+.0f} %"


def timed(config: str, network: str, profile: str = "dense") -> tuple[RunResult, float]:
    accelsim.simulate(config, network, profile)  # warm the numba cache and the masks
    t0 = time.perf_counter()
    result = accelsim.simulate(config, network, profile)
    return result, time.perf_counter() - t0


def conv_rows(result: RunResult) -> pd.DataFrame:
    df = result.layers
    return df[df["kind"] != "fc"]


def alexnet_table(result: RunResult) -> list[str]:
    df = conv_rows(result).set_index("layer")
    lines = [
        "| layer | latency ms/frame model | paper | error | mean active PEs model | paper "
        "| DRAM MB/frame model | paper | chip energy mJ/frame model | paper |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    tot = {"m_lat": 0.0, "p_lat": 0.0, "m_dram": 0.0, "p_dram": 0.0, "m_e": 0.0, "p_e": 0.0}
    for name, (lat, power, pes, dram) in JSSC_ALEXNET.items():
        row = df.loc[name]
        m_lat, p_lat = row["latency_s"] * 1e3, lat / JSSC_BATCH
        m_pes = row["mapping_efficiency"] * row["multipliers"]
        m_dram, p_dram = row["dram_bytes"] / 1e6, dram / JSSC_BATCH
        m_e = (row["energy_pj"] - row["energy_dram_pj"]) / 1e9
        p_e = power * lat / JSSC_BATCH / 1e3
        for key, v in zip(tot, (m_lat, p_lat, m_dram, p_dram, m_e, p_e), strict=True):
            tot[key] += v
        lines.append(
            f"| {name} | {m_lat:.2f} | {p_lat:.2f} | {err(m_lat, p_lat)} | {m_pes:.0f} | {pes} "
            f"| {m_dram:.2f} | {p_dram:.2f} | {m_e:.2f} | {p_e:.2f} |"
        )
    lines.append(
        f"| **CONV1-5** | {tot['m_lat']:.2f} | {tot['p_lat']:.2f} | {err(tot['m_lat'], tot['p_lat'])} "
        f"| | 148 | {tot['m_dram']:.2f} | {tot['p_dram']:.2f} | {tot['m_e']:.2f} | {tot['p_e']:.2f} |"
    )
    return lines


def abstract_table(results: dict[str, RunResult]) -> list[str]:
    lines = [
        "| network (conv layers) | metric | model (batch 1) | paper (abstract) | error |",
        "|---|---|---|---|---|",
    ]
    for net, paper in ABSTRACT.items():
        df = conv_rows(results[net])
        fps = 1 / df["latency_s"].sum()
        per_mac = df["dram_bytes"].sum() / 2 / df["macs_dense"].sum()
        power = (df["energy_pj"] - df["energy_dram_pj"]).sum() * 1e-12 * fps * 1e3
        b = paper["batch"]
        lines += [
            f"| {net} | frames/s | {fps:.2f} | {paper['fps']} (N = {b}) | {err(fps, paper['fps'])} |",
            f"| {net} | DRAM accesses (16 b) / MAC | {per_mac:.4f} | {paper['dram_per_mac']} (N = {b}) "
            f"| {err(per_mac, paper['dram_per_mac'])} |",
            f"| {net} | chip power mW | {power:.0f} | {paper['power_mw']} (N = {b}) "
            f"| {err(power, paper['power_mw'])} |",
        ]
    return lines


def scaled_table(results: dict[str, RunResult]) -> list[str]:
    lines = ["| network | metric | model | v2-derived v1 | error |", "|---|---|---|---|---|"]
    for (net, metric), paper in V2_DERIVED.items():
        t = results[net].totals
        value = 1 / t["latency_s"] if metric == "inf/s" else 1e12 / t["energy_pj"]
        lines.append(f"| {net} | {metric} | {value:.1f} | {paper} | {err(value, paper)} |")
    return lines


def kind_table(result: RunResult) -> list[str]:
    df = result.layers
    lines = ["| layer kind | MACs % | cycles % | mean utilisation |", "|---|---|---|---|"]
    for kind, g in df.groupby("kind"):
        util = g["macs_issued"].sum() / (g["multipliers"].iloc[0] * g["cycles"].sum())
        lines.append(
            f"| {kind} | {100 * g['macs_dense'].sum() / df['macs_dense'].sum():.1f} "
            f"| {100 * g['cycles'].sum() / df['cycles'].sum():.1f} | {util:.3f} |"
        )
    return lines


def energy_table(results: dict[str, RunResult]) -> list[str]:
    parts = ["mac", "rf", "noc", "sram", "dram"]
    lines = ["| run | energy uJ | " + " | ".join(parts) + " |", "|---|---|" + "---|" * len(parts)]
    for label, result in results.items():
        t = result.totals
        shares = " | ".join(f"{100 * t[f'energy_{c}_pj'] / t['energy_pj']:.0f} %" for c in parts)
        lines.append(f"| {label} | {t['energy_pj'] / 1e6:,.0f} | {shares} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {DOC.name}")
    args = parser.parse_args()
    timings = []
    chip: dict[str, RunResult] = {}
    for net, profile in (("alexnet", "eyeriss_inputs"), ("vgg16", "dense")):
        chip[net], seconds = timed("eyeriss_v1", net, profile)
        timings.append(f"| eyeriss_v1 | {net} ({profile}) | {seconds:.2f} |")
    scaled: dict[str, RunResult] = {}
    for net in ("mobilenet_v1_0.5_128", "alexnet"):
        scaled[net], seconds = timed("eyeriss_v1_scaled192", net)
        timings.append(f"| eyeriss_v1_scaled192 | {net} (dense) | {seconds:.2f} |")
    sections = {
        "AlexNet CONV1-5 on the chip (profile eyeriss_inputs) vs JSSC'17 per-layer table": alexnet_table(
            chip["alexnet"]
        ),
        "Conv layers on the chip vs the JSSC'17 abstract": abstract_table(chip),
        "Scaled v1 (192 PEs, 8 bit) vs the v1 figures derived from Eyeriss v2's ratios": scaled_table(scaled),
        "Scaled v1 on MobileNet v1 0.5-128 by layer kind": kind_table(scaled["mobilenet_v1_0.5_128"]),
        "Energy breakdown (whole network, Eyeriss normalised costs)": energy_table(
            {
                "eyeriss_v1, alexnet eyeriss_inputs": chip["alexnet"],
                "eyeriss_v1_scaled192, mobilenet_v1_0.5_128": scaled["mobilenet_v1_0.5_128"],
            }
        ),
        "Wall time of one warm network run (shared 2-core machine)": [
            "| config | network | seconds |",
            "|---|---|---|",
            *timings,
        ],
    }
    text = "\n\n".join(f"### {title}\n\n" + "\n".join(lines) for title, lines in sections.items())
    print(text)
    if args.write:
        template = DOC.read_text() if DOC.exists() else ""
        begin, end = "<!-- results: begin -->", "<!-- results: end -->"
        if begin in template and end in template:
            head, rest = template.split(begin, 1)
            text = f"{head}{begin}\n\n{text}\n\n{end}{rest.split(end, 1)[1]}"
        else:
            text = f"{template}{begin}\n\n{text}\n\n{end}\n"
        DOC.write_text(text)


if __name__ == "__main__":
    main()
