"""One result row type for every accelerator, and the column order of every table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from accelsim.energy import ENERGY_COLUMNS


@dataclass(frozen=True, slots=True)
class LayerResult:
    """What one accelerator did on one layer. Units are in the names; fractions are 0..1."""

    network: str
    layer: str
    kind: str
    accelerator: str
    macs_dense: int
    """MACs of the layer counting every weight and activation (padding included)."""
    macs_effectual: int
    """MACs whose weight and activation are both non-zero."""
    macs_issued: int
    """MACs the hardware actually performed (dense arrays: all of them; sparse: the scheduled ones)."""
    cycles: int
    latency_s: float
    multipliers: int
    stall_cycles: int
    """Cycles the busiest-stalled unit waited for operands (DRAM / buffers)."""
    imbalance: float
    """max / mean busy cycles over the accelerator's units."""
    idle_fraction: float
    """Fraction of unit-cycles neither busy nor stalled."""
    dram_bytes: float
    sram_bytes: float
    folds: int
    """Passes of the array / tiles the layer was cut into."""
    mapping_efficiency: float
    """Mean fraction of multipliers holding a mapped operand per fold (NaN where not defined)."""
    mapping: str
    """How the layer was mapped: spatial unrolling, folds, temporal streaming."""
    fallback: str = ""
    """Empty when the layer ran natively; otherwise how it was handled."""
    energy_pj: dict[str, float] = field(default_factory=dict)
    """energy_<component>_pj -> value, one entry per energy component (accelsim.energy.COMPONENTS)."""

    @property
    def utilization(self) -> float:
        """macs_issued / (multipliers x cycles)."""
        return self.macs_issued / (self.multipliers * self.cycles) if self.cycles else 0.0

    @property
    def effectual_utilization(self) -> float:
        """macs_effectual / (multipliers x cycles)."""
        return self.macs_effectual / (self.multipliers * self.cycles) if self.cycles else 0.0

    def to_row(self) -> dict[str, Any]:
        """A flat dict in LAYER_COLUMNS order."""
        row = asdict(self)
        energy = row.pop("energy_pj")
        row["utilization"] = self.utilization
        row["effectual_utilization"] = self.effectual_utilization
        for col in ENERGY_COLUMNS:
            row[col] = float(energy.get(col, 0.0))
        row["energy_pj"] = sum(row[c] for c in ENERGY_COLUMNS)
        return {c: row[c] for c in LAYER_COLUMNS}


LAYER_COLUMNS = [
    "network",
    "layer",
    "kind",
    "accelerator",
    "macs_dense",
    "macs_effectual",
    "macs_issued",
    "cycles",
    "latency_s",
    "multipliers",
    "utilization",
    "effectual_utilization",
    "imbalance",
    "idle_fraction",
    "stall_cycles",
    "dram_bytes",
    "sram_bytes",
    "energy_pj",
    *ENERGY_COLUMNS,
    "folds",
    "mapping_efficiency",
    "mapping",
    "fallback",
]
"""Column order of every per-layer table (CSV, Parquet, JSON, DataFrame)."""

TIMELINE_COLUMNS = ["network", "layer", "unit", "state", "start", "end"]
"""Column order of the per-unit busy / stalled / idle timeline."""
