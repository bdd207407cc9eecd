"""Area of each shipped config against what its paper publishes (accelsim/energy/area.py).

For every published area figure (SCNN and DCNN in TSMC 16 nm, Eyeriss v2's ratios in 65 nm, IMCE's
ratio to its RRAM counterpart), the model is evaluated at the paper's node (the config with only
`technology.node_nm` changed) and the two are printed side by side with the error. Nothing is fitted:
the primitives come from the area table as they are. Usage:

    python benchmarks/area_vs_papers.py
"""

from __future__ import annotations

from typing import Any

from accelsim.accelerators import build
from accelsim.api import resolve_config
from accelsim.energy.area import area_by_block
from accelsim.workload.loaders import load_network


def at_node(config: str, node_nm: float | None = None) -> Any:
    """The accelerator of a shipped config, moved to `node_nm` (its own node by default)."""
    spec, source = resolve_config(config)
    if node_nm is not None:
        tech = spec.technology.model_copy(update={"node_nm": node_nm})
        spec = spec.model_copy(update={"technology": tech})
    return build(spec, source)


def rows() -> list[tuple[str, str, float, str, float, str]]:
    """(model, quantity, accelsim value, accelsim node, paper value, paper node and source)."""
    out = []
    scnn = at_node("scnn", 16)
    blocks = area_by_block(scnn.area_blocks(()))
    pes = scnn.spec.pes
    chip = scnn.area()["area_mm2"]
    pe_mm2 = chip / pes  # every block of SCNN sits in a PE
    memories = blocks["IARAM + OARAM"] + blocks["accumulator banks"]
    paper = "16 nm; SCNN (Parashar et al., ISCA 2017) area table"
    out += [
        ("SCNN", "chip mm²", chip, "16 nm", 7.9, paper),
        ("SCNN", "PE mm²", pe_mm2, "16 nm", 0.123, paper),
        ("SCNN", "multiplier array per PE mm²", blocks["multipliers"] / pes, "16 nm", 0.008, paper),
        ("SCNN", "scatter crossbar per PE mm²", blocks["scatter crossbars"] / pes, "16 nm", 0.026, paper),
        ("SCNN", "memories share of PE", memories / chip, "16 nm", 0.57, paper),
        ("DCNN", "chip mm²", at_node("dcnn", 16).area()["area_mm2"], "16 nm", 5.9, paper),
    ]
    v2, v15 = at_node("eyeriss_v2"), at_node("eyeriss_v1_5")
    b2, b15 = area_by_block(v2.area_blocks(())), area_by_block(v15.area_blocks(()))
    pe2 = sum(v for k, v in b2.items() if k != "GLB" and "routers" not in k)
    pe15 = sum(v for k, v in b15.items() if k != "GLB" and "routers" not in k)
    spads2 = sum(v for k, v in b2.items() if "spad" in k)
    noc2 = sum(v for k, v in b2.items() if "routers" in k)
    paper = "65 nm; Eyeriss v2 (Chen et al., JETCAS 2019) §III-D, §V-A"
    out += [
        (
            "Eyeriss v2",
            "chip area / v1.5 chip area",
            v2.area()["area_mm2"] / v15.area()["area_mm2"],
            "65 nm",
            2.0,
            paper,
        ),
        ("Eyeriss v2", "PE area / v1.5 PE area", pe2 / pe15, "65 nm", 1.73, paper),
        ("Eyeriss v2", "SPads share of PE area", spads2 / pe2, "65 nm", 0.72, paper),
        (
            "Eyeriss v2",
            "MACs share of PE area",
            b2["multipliers"] / pe2 + b2["adders"] / pe2,
            "65 nm",
            0.05,
            paper,
        ),
        ("Eyeriss v2", "HM-NoC share of chip area", noc2 / v2.area()["area_mm2"], "65 nm", 0.026, paper),
    ]
    alexnet = tuple(load_network("alexnet").compute_layers)
    imce = at_node("imce")
    own = imce.area(_runnable(imce, alexnet))["area_mm2"]
    source = "node unstated; IMCE (Angizi et al., ASP-DAC 2018) abstract, '~4x smaller'"
    for counterpart in ("imce_rram", "imce_rram_crossbar"):
        other = at_node(counterpart)
        ratio = other.area(_runnable(other, alexnet))["area_mm2"] / own
        out.append(("IMCE", f"{counterpart} area / imce area (AlexNet)", ratio, "45 nm", 4.0, source))
    return out


def _runnable(accel: Any, layers: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(x for x in layers if accel.unsupported(x) is None)


def table() -> str:
    """The comparison as a Markdown table."""
    lines = [
        "| model | quantity | accelsim | node | paper | paper's node and source | error |",
        "|---|---|---|---|---|---|---|",
    ]
    for model, what, ours, node, paper, source in rows():
        lines.append(
            f"| {model} | {what} | {ours:.3g} | {node} | {paper:g} | {source} | {ours / paper - 1:+.0%} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
