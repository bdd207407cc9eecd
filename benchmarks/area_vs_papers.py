"""Area of each shipped config against what its paper publishes (accelsim/energy/area.py).

For every published area figure (SCNN and DCNN in TSMC 16 nm, Eyeriss v2's ratios in 65 nm, IMCE's
ratio to its RRAM counterpart), the model is evaluated at the paper's node (the config with only
`technology.node_nm` changed) and the two are printed side by side with the error. Nothing is fitted:
the primitives come from the area table as they are. Each model page ends with its part of the table
(`page_section`), which its own evaluation script writes with the page and `--write` here refreshes.
Usage:

    python benchmarks/area_vs_papers.py [--write]
"""

from __future__ import annotations

import sys
from pathlib import Path
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


def table(models: tuple[str, ...] | None = None) -> str:
    """The comparison as a Markdown table (the rows of `models` only, when given)."""
    lines = [
        "| model | quantity | accelsim | node | paper | paper's node and source | error |",
        "|---|---|---|---|---|---|---|",
    ]
    for model, what, ours, node, paper, source in rows():
        if models is None or model in models:
            lines.append(
                f"| {model} | {what} | {ours:.3g} | {node} | {paper:g} | {source} | {ours / paper - 1:+.0%} |"
            )
    return "\n".join(lines)


DOCS = Path(__file__).resolve().parent.parent / "docs"
RULES = (
    'Blocks, rules and assumptions: docs/assumptions.md, "Area" (AR1-AR9); '
    "`python benchmarks/area_vs_papers.py`"
)
PAGES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "scnn.md": (
        ("SCNN", "DCNN"),
        "SCNN publishes its area in TSMC 16 nm (Parashar et al., ISCA 2017, area table, read through a "
        "secondary source); the shipped configs are at 45 nm, so the model is evaluated at 16 nm (only "
        "`technology.node_nm` changed) and compared. Nothing is fitted.",
        f"{RULES} prints this table, and the two chip areas are figures of `accelsim validate-papers` "
        "(`scnn.area.*`, the config with `set: {technology.node_nm: 16}`).",
    ),
    "eyeriss_v2.md": (
        ("Eyeriss v2",),
        "Eyeriss v2 publishes area ratios, not a chip area: about 2x v1.5, PE 73 % larger, SPads 72 % of "
        "the PE, MACs 5 %, HM-NoC 2.6 % of the chip (§III-D, §V-A). The shipped `eyeriss_v2` and "
        "`eyeriss_v1_5` configs at 65 nm give:",
        f"{RULES} prints this table, and the chip ratio is a figure of `accelsim validate-papers` "
        "(`eyeriss_v2.area.chip_over_v1_5`).",
    ),
    "imce.md": (
        ("IMCE",),
        "The chip areas of `imce_rram` and `imce_rram_crossbar` over `imce` on AlexNet (the sub-arrays each "
        "uses), the same reading as the table above, against the abstract's ~4x:",
        f"{RULES} prints this table, and the two ratios are figures of `accelsim validate-papers` "
        "(`imce.alexnet.*_area_ratio`).",
    ),
}
"""Model page -> (the models of its rows, the text before the table, the text after it)."""


def page_section(page: str) -> str:
    """The `## Area` section that ends the model page `page` (e.g. "scnn.md")."""
    models, before, after = PAGES[page]
    return f"## Area\n\n{before}\n\n{table(models)}\n\n{after}\n"


def with_section(text: str, page: str) -> str:
    """The page's text with its `## Area` section (the last section) replaced or appended."""
    head = text.split("\n## Area\n")[0].rstrip()
    return f"{head}\n\n{page_section(page)}"


def main() -> None:
    print(table())
    if "--write" in sys.argv[1:]:
        for page in PAGES:
            path = DOCS / page
            path.write_text(with_section(path.read_text(), page))
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
