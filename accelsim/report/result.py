"""RunResult: the per-layer table, network totals, per-unit timeline and provenance of one run."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd

from accelsim.report.outputs import check_output_folder, write_set
from accelsim.report.schema import (
    AREA_ROW_COLUMNS,
    ENERGY_COLUMNS,
    LAYER_COLUMNS,
    SLOT_COLUMNS,
    SLOT_PARTS,
    TIMELINE_COLUMNS,
    LayerResult,
    Slots,
)
from accelsim.report.writers import write_json, write_table

RUN_FILES = {
    "csv": "layers.csv",
    "parquet": "layers.parquet",
    "json": "layers.json",
    "timeline": "timeline.parquet",
    "provenance": "provenance.json",
}
"""What `RunResult.write` puts in a run folder (key -> file name)."""


@dataclass(frozen=True)
class RunResult:
    """One accelerator on one network: `layers` (one row per layer), `totals`, `timeline`."""

    layers: pd.DataFrame
    timeline: pd.DataFrame
    provenance: dict[str, Any]

    @classmethod
    def from_rows(
        cls, rows: list[LayerResult], timelines: list[pd.DataFrame], provenance: dict[str, Any]
    ) -> RunResult:
        """Assemble from per-layer results and per-layer timelines (tagged with their layer)."""
        layers = pd.DataFrame([r.to_row() for r in rows], columns=LAYER_COLUMNS)
        tagged = [
            t.assign(network=r.network, layer=r.layer) for r, t in zip(rows, timelines, strict=True) if len(t)
        ]
        timeline = (
            pd.concat(tagged, ignore_index=True)[TIMELINE_COLUMNS]
            if tagged
            else pd.DataFrame(columns=TIMELINE_COLUMNS)
        )
        return cls(layers=layers, timeline=timeline, provenance=provenance)

    @property
    def totals(self) -> pd.Series:
        """Network totals derived from the layer rows."""
        return network_totals(self.layers)

    def per_image(self) -> pd.DataFrame:
        """The layer rows as one image's share of the batch (`LayerResult.per_image`), the way a
        batched accelerator's figures are quoted; the rows themselves count the whole batch."""
        return per_image(self.layers)

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write layers.csv, layers.parquet, layers.json, timeline.parquet and provenance.json as one set.

        They replace an earlier run's files in `out_dir` only once all are written (OutputError if the
        folder cannot be written; other files in it are left alone).
        """
        out_dir = check_output_folder(out_dir, files=RUN_FILES.values())
        with write_set(out_dir) as tmp:
            for key in ("csv", "parquet", "json"):
                write_table(self.layers, tmp / RUN_FILES[key])
            write_table(self.timeline, tmp / RUN_FILES["timeline"])
            write_json(self.provenance, tmp / RUN_FILES["provenance"])
        return {key: out_dir / name for key, name in RUN_FILES.items()}


def network_totals(layers: pd.DataFrame) -> pd.Series:
    """Sums of counts, cycles and energy; utilisation and imbalance recomputed over the network."""
    if layers.empty:
        raise ValueError("no layers to total")
    summed = ["macs_dense", "macs_effectual", "macs_issued", "cycles", "latency_s", "stall_cycles"]
    summed += [*SLOT_COLUMNS, "dram_bytes", "sram_bytes", "energy_pj", *ENERGY_COLUMNS, "folds"]
    sums = layers[summed].sum()
    mult = layers["multipliers"].iloc[0]
    cycles = sums["cycles"]
    out = {
        "network": layers["network"].iloc[0],
        "accelerator": layers["accelerator"].iloc[0],
        "layers": len(layers),
        "batch": int(layers["batch"].iloc[0]) if "batch" in layers else 1,
        "multipliers": int(mult),
        **{k: sums[k] for k in sums.index},
        "utilization": sums["macs_issued"] / (mult * cycles) if cycles else 0.0,
        "effectual_utilization": sums["macs_effectual"] / (mult * cycles) if cycles else 0.0,
        "imbalance": float((layers["imbalance"] * layers["cycles"]).sum() / cycles) if cycles else 1.0,
        "idle_fraction": float((layers["idle_fraction"] * layers["cycles"]).sum() / cycles)
        if cycles
        else 0.0,
        "fallback_layers": int((layers["fallback"] != "").sum()),
        **{col: float(layers[col].iloc[0]) for col in AREA_ROW_COLUMNS},  # one chip: not summed
    }
    return pd.Series(out)


SHARE_COLUMNS = tuple(f"share_{part}" for part in SLOT_PARTS)
"""The slot partition as fractions of slots_total, one column per part."""


def slot_shares(table: pd.DataFrame) -> pd.DataFrame:
    """share_<part> = slots_<part> / slots_total for every row of a table with slot columns."""
    total = table["slots_total"].astype(float)
    return pd.DataFrame(
        {
            share: table[f"slots_{part}"].astype(float) / total
            for share, part in zip(SHARE_COLUMNS, SLOT_PARTS, strict=True)
        },
        index=table.index,
    )


def per_image(layers: pd.DataFrame) -> pd.DataFrame:
    """Layer rows (LAYER_COLUMNS) as one image's share of each row's batch."""
    names = [f.name for f in fields(LayerResult) if f.name not in ("slots", "energy_pj", "area_mm2")]
    rows = []
    for row in layers.to_dict("records"):
        result = LayerResult(
            **{n: row[n] for n in names},
            slots=Slots(**{part: int(row[f"slots_{part}"]) for part in SLOT_PARTS}),
            energy_pj={col: float(row[col]) for col in ENERGY_COLUMNS},
            area_mm2={col: float(row[col]) for col in AREA_ROW_COLUMNS},  # the chip's: not per image
        )
        rows.append(result.per_image().to_row())
    return pd.DataFrame(rows, columns=LAYER_COLUMNS)
