"""Eyeriss v1 (row stationary) against what is published about it; writes docs/eyeriss_v1.md.

1. The chip (arch_configs/eyeriss_v1.yaml) on AlexNet CONV1-5 and VGG16 conv layers, at batch 1 and
   at the chip's measurement batch (N = 4 AlexNet, N = 3 VGG16; results per image), against the
   JSSC'17 abstract [paper] and its per-layer AlexNet table (Table V) as transcribed in the repository
   cucapra/fodlam, data/eyeriss-alexnet.csv @ 9d4b9f50 [repo: hand-cleaned OCR of the paper's table];
   its totals agree with the abstract: 115.3 ms / 4 frames = 34.7 fps, 15.4 MB / 2 B / 2.66 G MACs =
   0.0029).
2. The scaled v1 that Eyeriss v2 compares with (arch_configs/eyeriss_v1_scaled192.yaml) on MobileNet
   v1 0.5-128 and AlexNet, against the v1 figures derived from the v2 paper's ratios [EYERISSV2-19].

Nothing is fitted: every model number is a prediction from the configs. Run:
    python benchmarks/eyeriss_v1_eval.py [--write]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
from harness import percent_error

import accelsim
from accelsim.api import RunResult, resolve_config
from accelsim.report.schema import SLOT_PARTS

DOC = Path(__file__).resolve().parents[1] / "docs" / "eyeriss_v1.md"

JSSC_BATCH = 4
JSSC_ALEXNET = {  # JSSC'17 Table V via cucapra/fodlam data/eyeriss-alexnet.csv @ 9d4b9f50 [repo]
    # layer: (total latency ms for 4 frames, power mW, active PEs, DRAM MB for 4 frames,
    #         processing latency ms for 4 frames)
    "conv1": (20.9, 332, 154, 5.0, 16.5),
    "conv2": (41.9, 288, 135, 4.0, 39.2),
    "conv3": (23.6, 266, 156, 3.0, 21.8),
    "conv4": (18.4, 235, 156, 2.1, 16.0),
    "conv5": (10.5, 236, 156, 1.3, 10.0),
}
JSSC_MEAN_ACTIVE_PES = 148  # Table V total row: 148 (88 %)
ABSTRACT = {  # JSSC'17 abstract [paper]: conv layers only
    "alexnet": {"fps": 35.0, "dram_per_mac": 0.0029, "batch": 4, "power_mw": 278},
    "vgg16": {"fps": 0.7, "dram_per_mac": 0.0035, "batch": 3, "power_mw": 236},
}
V2_DERIVED = {  # [EYERISSV2-19] [derived] from the Eyeriss v2 paper's ratios: v1 scaled, batch 1
    ("mobilenet_v1_0.5_128", "inf/s"): 116.7,
    ("mobilenet_v1_0.5_128", "inf/J"): 1024.0,
    ("alexnet", "inf/s"): 6.5,
}


def timed(config: object, network: str, profile: str = "dense") -> tuple[RunResult, float]:
    accelsim.simulate(config, network, profile)  # warm the numba cache and the masks
    t0 = time.perf_counter()
    result = accelsim.simulate(config, network, profile)
    return result, time.perf_counter() - t0


def conv_rows(result: RunResult) -> pd.DataFrame:
    df = result.per_image()  # the chip's figures are per frame
    return df[df["kind"] != "fc"]


def alexnet_table(one: RunResult, batched: RunResult) -> list[str]:
    """Per layer: model at batch 1 and at the chip's N = 4 (per frame), the paper, error at N = 4."""
    dfs = [conv_rows(r).set_index("layer") for r in (one, batched)]
    lines = [
        f"| layer | latency ms/frame N=1 | N={JSSC_BATCH} | paper total | error | paper processing "
        f"| active PEs N={JSSC_BATCH} | paper | DRAM MB/frame N=1 | N={JSSC_BATCH} | paper | error "
        f"| chip energy mJ/frame N=1 | N={JSSC_BATCH} | paper | error |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    tot = pd.DataFrame(0.0, index=["lat", "dram", "e"], columns=["m1", "mn", "p"])
    processing = 0.0
    for name, (lat, power, pes, dram, proc) in JSSC_ALEXNET.items():
        rows = [df.loc[name] for df in dfs]
        m_lat = [r["latency_s"] * 1e3 for r in rows]
        m_dram = [r["dram_bytes"] / 1e6 for r in rows]
        m_e = [(r["energy_pj"] - r["energy_dram_pj"]) / 1e9 for r in rows]
        paper = {"lat": lat / JSSC_BATCH, "dram": dram / JSSC_BATCH, "e": power * lat / JSSC_BATCH / 1e3}
        for key, model in (("lat", m_lat), ("dram", m_dram), ("e", m_e)):
            tot.loc[key] += [*model, paper[key]]
        m_pes = rows[1]["mapping_efficiency"] * rows[1]["multipliers"]
        processing += proc / JSSC_BATCH
        lines.append(
            f"| {name} | {_cells(m_lat, paper['lat'])} | {proc / JSSC_BATCH:.2f} | {m_pes:.0f} | {pes} "
            f"| {_cells(m_dram, paper['dram'])} | {_cells(m_e, paper['e'])} |"
        )
    cells = [_cells([tot.loc[k, "m1"], tot.loc[k, "mn"]], tot.loc[k, "p"]) for k in ("lat", "dram", "e")]
    lines.append(
        f"| **CONV1-5** | {cells[0]} | {processing:.2f} | | {JSSC_MEAN_ACTIVE_PES} "
        f"| {cells[1]} | {cells[2]} |"
    )
    return lines


def _cells(model: list[float], paper: float) -> str:
    """Batch 1, batch N, paper, error of batch N."""
    return f"{model[0]:.2f} | {model[1]:.2f} | {paper:.2f} | {percent_error(model[1], paper)}"


def abstract_table(one: dict[str, RunResult], batched: dict[str, RunResult]) -> list[str]:
    lines = [
        "| network (conv layers) | metric | model N=1 | model at the paper's N | paper (abstract) "
        "| error at N |",
        "|---|---|---|---|---|---|",
    ]
    for net, paper in ABSTRACT.items():
        metrics = [_abstract_metrics(conv_rows(r[net])) for r in (one, batched)]
        b = paper["batch"]
        for key, label, fmt in (
            ("fps", "frames/s", ".2f"),
            ("dram_per_mac", "DRAM accesses (16 b) / MAC", ".4f"),
            ("power_mw", "chip power mW", ".0f"),
        ):
            m1, mn = metrics[0][key], metrics[1][key]
            lines.append(
                f"| {net} | {label} | {m1:{fmt}} | {mn:{fmt}} (N = {b}) | {paper[key]} (N = {b}) "
                f"| {percent_error(mn, paper[key])} |"
            )
    return lines


def power_table(by_table: dict[str, dict[str, RunResult]]) -> list[str]:
    """The abstract's chip power (conv layers, DRAM excluded) with each energy table."""
    lines = ["| energy table | network | model mW | paper mW | error |", "|---|---|---|---|---|"]
    for label, runs in by_table.items():
        for net, result in runs.items():
            mw, paper = _abstract_metrics(conv_rows(result))["power_mw"], ABSTRACT[net]["power_mw"]
            gap = percent_error(mw, paper)
            lines.append(f"| {label} | {net} (N = {ABSTRACT[net]['batch']}) | {mw:.0f} | {paper} | {gap} |")
    return lines


def _abstract_metrics(df: pd.DataFrame) -> dict[str, float]:
    """Frames/s, 16-bit DRAM accesses per MAC and chip power (DRAM excluded) of per-image rows."""
    fps = 1 / df["latency_s"].sum()
    return {
        "fps": fps,
        "dram_per_mac": df["dram_bytes"].sum() / 2 / df["macs_dense"].sum(),
        "power_mw": (df["energy_pj"] - df["energy_dram_pj"]).sum() * 1e-12 * fps * 1e3,
    }


def scaled_table(results: dict[str, RunResult]) -> list[str]:
    lines = ["| network | metric | model | v2-derived v1 | error |", "|---|---|---|---|---|"]
    for (net, metric), paper in V2_DERIVED.items():
        t = results[net].totals
        value = 1 / t["latency_s"] if metric == "inf/s" else 1e12 / t["energy_pj"]
        lines.append(f"| {net} | {metric} | {value:.1f} | {paper} | {percent_error(value, paper)} |")
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


def slot_table(runs: dict[str, pd.DataFrame]) -> list[str]:
    """Where the cycles went: each slot part's share of the slots of the given layer rows."""
    lines = ["| run | " + " | ".join(SLOT_PARTS) + " |", "|---|" + "---|" * len(SLOT_PARTS)]
    for label, rows in runs.items():
        t = rows[[f"slots_{part}" for part in SLOT_PARTS]].sum()
        shares = " | ".join(f"{100 * t[f'slots_{part}'] / t.sum():.1f} %" for part in SLOT_PARTS)
        lines.append(f"| {label} | {shares} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {DOC.name}")
    args = parser.parse_args()
    timings = []
    chip: dict[str, RunResult] = {}
    chip_n: dict[str, RunResult] = {}
    spec, _ = resolve_config("eyeriss_v1")
    for net, profile in (("alexnet", "eyeriss_inputs"), ("vgg16", "dense")):
        chip[net], seconds = timed("eyeriss_v1", net, profile)
        timings.append(f"| eyeriss_v1 | {net} ({profile}) | 1 | {seconds:.2f} |")
        batch = int(ABSTRACT[net]["batch"])
        chip_n[net], seconds = timed(spec.model_copy(update={"batch": batch}), net, profile)
        timings.append(f"| eyeriss_v1 | {net} ({profile}) | {batch} | {seconds:.2f} |")
    other_table = {}  # the same batched runs costed with the Eyeriss normalised table (the option)
    for net, profile in (("alexnet", "eyeriss_inputs"), ("vgg16", "dense")):
        tech = spec.technology.model_copy(update={"energy_table": "eyeriss_65nm"})
        batch = int(ABSTRACT[net]["batch"])
        other_table[net], _ = timed(
            spec.model_copy(update={"batch": batch, "technology": tech}), net, profile
        )
    scaled: dict[str, RunResult] = {}
    for net in ("mobilenet_v1_0.5_128", "alexnet"):
        scaled[net], seconds = timed("eyeriss_v1_scaled192", net)
        timings.append(f"| eyeriss_v1_scaled192 | {net} (dense) | 1 | {seconds:.2f} |")
    sections = {
        "AlexNet CONV1-5 on the chip (profile eyeriss_inputs) vs JSSC'17 per-layer table "
        f"(model per frame at batch 1 and N = {JSSC_BATCH}; errors at N = {JSSC_BATCH})": alexnet_table(
            chip["alexnet"], chip_n["alexnet"]
        ),
        "Conv layers on the chip vs the JSSC'17 abstract (default table, `accelergy_40nm`)": abstract_table(
            chip, chip_n
        ),
        "Chip power under each energy table (conv layers, the paper's N; DRAM excluded)": power_table(
            {"accelergy_40nm (default, as Eyeriss v2)": chip_n, "eyeriss_65nm (option)": other_table}
        ),
        "Scaled v1 (192 PEs, 8 bit) vs the v1 figures derived from Eyeriss v2's ratios": scaled_table(scaled),
        "Scaled v1 on MobileNet v1 0.5-128 by layer kind": kind_table(scaled["mobilenet_v1_0.5_128"]),
        "Where the cycles went (shares of the slots, rows x cols x cycles)": slot_table(
            {
                "eyeriss_v1, alexnet eyeriss_inputs CONV1-5, N = 1": conv_rows(chip["alexnet"]),
                f"eyeriss_v1, alexnet eyeriss_inputs CONV1-5, N = {JSSC_BATCH}": conv_rows(chip_n["alexnet"]),
                "eyeriss_v1, alexnet eyeriss_inputs all layers, N = 1": chip["alexnet"].layers,
                "eyeriss_v1, vgg16 dense conv layers, N = 1": conv_rows(chip["vgg16"]),
                "eyeriss_v1_scaled192, mobilenet_v1_0.5_128": scaled["mobilenet_v1_0.5_128"].layers,
                "eyeriss_v1_scaled192, alexnet": scaled["alexnet"].layers,
            }
        ),
        "Energy breakdown (whole network, default table `accelergy_40nm`)": energy_table(
            {
                "eyeriss_v1, alexnet eyeriss_inputs, N = 1": chip["alexnet"],
                f"eyeriss_v1, alexnet eyeriss_inputs, N = {JSSC_BATCH} (per image)": chip_n["alexnet"],
                "eyeriss_v1_scaled192, mobilenet_v1_0.5_128": scaled["mobilenet_v1_0.5_128"],
            }
        ),
        "Wall time of one warm network run (shared 2-core machine)": [
            "| config | network | batch | seconds |",
            "|---|---|---|---|",
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
