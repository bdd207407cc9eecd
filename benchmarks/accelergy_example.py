"""The example of docs/accelergy.md: the Eyeriss-like design of timeloop-accelergy-exercises priced with
the ERT and ART Accelergy exported for it, against the same config on accelsim's default tables.

Prints, for one network, the energy per component (µJ) and the area per component (mm²) with and
without the Accelergy tables:

    python benchmarks/accelergy_example.py [--network alexnet]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from accelsim.accelerators import build
from accelsim.api import resolve_config, simulate
from accelsim.energy import ENERGY_COLUMNS
from accelsim.energy.area import AREA_ROW_COLUMNS

CONFIG = Path(__file__).resolve().parents[1] / "docs" / "examples" / "accelergy" / "eyeriss_like.yaml"
"""The example config (ERT.yaml and ART.yaml beside it)."""

ACCELERGY_KEYS = ("energy_table", "energy_map", "energy_table_node_nm", "area_table", "area_map",
                  "area_table_node_nm")  # fmt: skip


def without_tables(spec: Any) -> Any:
    """The spec with accelsim's default energy and area tables instead of Accelergy's."""
    defaults = type(spec.technology).model_fields
    tech = spec.technology.model_copy(update={k: defaults[k].get_default(call_default_factory=True)
                                              for k in ACCELERGY_KEYS})  # fmt: skip
    return spec.model_copy(update={"technology": tech})


def table(network: str) -> str:
    """Markdown rows: per energy and area column, the default tables, Accelergy's and their ratio."""
    spec, _ = resolve_config(CONFIG)
    specs = {"accelsim default tables": without_tables(spec), "Accelergy ERT + ART": spec}
    energy = {k: simulate(s, network).layers for k, s in specs.items()}
    area = {k: build(s).area() for k, s in specs.items()}
    lines = [f"| {network} | {' | '.join(specs)} | Accelergy / default |", "|---|---:|---:|---:|"]
    for column in (*ENERGY_COLUMNS, "energy_pj"):
        uj = [float(df[column].sum()) * 1e-6 for df in energy.values()]
        lines.append(f"| {column.replace('_pj', '_uJ')} | {uj[0]:,.2f} | {uj[1]:,.2f} | {_ratio(uj)} |")
    for column in AREA_ROW_COLUMNS:
        mm2 = [a[column] for a in area.values()]
        lines.append(f"| {column} | {mm2[0]:.4f} | {mm2[1]:.4f} | {_ratio(mm2)} |")
    return "\n".join(lines)


def _ratio(values: list[float]) -> str:
    return f"{values[1] / values[0]:.2f}" if values[0] else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="alexnet")
    args = parser.parse_args()
    print(table(args.network))


if __name__ == "__main__":
    main()
