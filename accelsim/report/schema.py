"""One result row type for every accelerator, and the column order of every table.

Every row carries the slot partition of its layer: one slot is one multiplier for one cycle, so a
layer has `slots_total` = multipliers x cycles slots, and `Slots` says where each of them went.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from accelsim.energy import ENERGY_COLUMNS
from accelsim.energy.area import AREA_ROW_COLUMNS

SLOT_PARTS = (
    "effectual",
    "ineffectual",
    "unmapped",
    "packing",
    "unit_idle",
    "imbalance",
    "memory_stall",
    "fill_drain",
)
"""Where a multiplier-cycle goes, in the order of `Slots` (docs/architecture.md, "Where the cycles went")."""

SLOT_COLUMNS = ("slots_total", *(f"slots_{part}" for part in SLOT_PARTS))
"""The slot columns of a result row: the total, then one column per part."""


@dataclass(frozen=True, slots=True)
class Slots:
    """A partition of multiplier-cycles (slots) by cause; every part is a non-negative integer.

    - effectual: a product with both operands non-zero was issued;
    - ineffectual: a product with a zero operand was issued (gated or not);
    - unmapped: the mapping leaves the multiplier without work (geometry, padding, a kernel shorter
      than the PE rows, a unit given nothing, a layer run off the accelerator);
    - packing: the unit works but this multiplier cannot be filled (fragmentation, atomic groups, bank
      or port conflicts);
    - unit_idle: the multiplier's unit waits for the slowest lane inside it or at a barrier;
    - imbalance: the unit has finished its work and waits for other units to finish theirs;
    - memory_stall: the unit waits for data from DRAM or an on-chip network;
    - fill_drain: pipeline fill and drain.
    """

    effectual: int = 0
    ineffectual: int = 0
    unmapped: int = 0
    packing: int = 0
    unit_idle: int = 0
    imbalance: int = 0
    memory_stall: int = 0
    fill_drain: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"slots_{f.name} must be an int, got {value!r}")
            if value < 0:
                raise ValueError(f"slots_{f.name} must be >= 0, got {value}")

    @property
    def total(self) -> int:
        """All slots."""
        return sum(self.as_tuple())

    def as_tuple(self) -> tuple[int, ...]:
        """The parts in SLOT_PARTS order."""
        return tuple(getattr(self, part) for part in SLOT_PARTS)

    def __add__(self, other: Slots) -> Slots:
        return Slots(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def columns(self) -> dict[str, int]:
        """slots_total and slots_<part> -> value."""
        parts = zip(SLOT_PARTS, self.as_tuple(), strict=True)
        return {"slots_total": self.total, **{f"slots_{p}": v for p, v in parts}}

    def apportioned(self, total: int) -> Slots:
        """These proportions over `total` slots, in integers (largest remainder; ties to earlier parts)."""
        own = self.total
        if total < 0:
            raise ValueError(f"cannot apportion {total} slots")
        if own == 0:
            return Slots(unmapped=total)
        exact = [v * total for v in self.as_tuple()]
        floor = [e // own for e in exact]
        left = total - sum(floor)
        order = sorted(range(len(floor)), key=lambda i: (-(exact[i] % own), i))
        for i in order[:left]:
            floor[i] += 1
        return Slots(*floor)


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
    units: int
    """Units of the layer's timeline (cores, PEs, compute units, clusters, sub-arrays, or 1 array)."""
    stall_cycles: int
    """Cycles in which at least one unit waited for data (DRAM or an on-chip network)."""
    imbalance: float
    """max / mean busy cycles over the timeline's units."""
    idle_fraction: float
    """Idle unit-cycles / (units x cycles); idle = neither busy nor stalled."""
    slots: Slots
    """Where the multipliers x cycles slots went."""
    dram_bytes: float
    sram_bytes: float
    folds: int
    """Passes of the array / tiles the layer was cut into."""
    mapping_efficiency: float
    """Mean fraction of multipliers holding a mapped operand per fold (NaN where not defined)."""
    mapping: str
    """How the layer was mapped: spatial unrolling, folds, temporal streaming."""
    closed_form: str = ""
    """Empty when the engine played every cost; otherwise which costs the model took in closed form."""
    fallback: str = ""
    """Empty when the layer ran natively; otherwise how it was handled."""
    energy_pj: dict[str, float] = field(default_factory=dict)
    """energy_<component>_pj -> value, one entry per energy component (accelsim.energy.COMPONENTS)."""
    batch: int = 1
    """Images the row covers: MACs, cycles, slots, bytes and energy are totals over the batch."""
    area_mm2: dict[str, float] = field(default_factory=dict)
    """area_mm2 (the whole chip) and area_<component>_mm2 (accelsim.energy.area.AREA_COMPONENTS): the
    same on every row of a run; NaN where a model gives no area."""

    def __post_init__(self) -> None:
        if self.slots.total != self.multipliers * self.cycles:
            raise ValueError(
                f"{self.accelerator} {self.layer}: the slot partition sums to {self.slots.total}, "
                f"not multipliers x cycles = {self.multipliers * self.cycles}"
            )

    @property
    def utilization(self) -> float:
        """macs_issued / (multipliers x cycles)."""
        return self.macs_issued / (self.multipliers * self.cycles) if self.cycles else 0.0

    @property
    def effectual_utilization(self) -> float:
        """macs_effectual / (multipliers x cycles)."""
        return self.macs_effectual / (self.multipliers * self.cycles) if self.cycles else 0.0

    def per_image(self) -> LayerResult:
        """The row as one image's share of the batch: cycles and stalls rounded up, counts, bytes and
        energy divided by the batch, the slot partition apportioned over the new cycles (how a batched
        model's figures per image are quoted)."""
        if self.batch == 1:
            return self
        n = self.batch
        cycles = -(-self.cycles // n)
        return replace(
            self,
            macs_dense=self.macs_dense // n,
            macs_effectual=self.macs_effectual // n,
            macs_issued=self.macs_issued // n,
            cycles=cycles,
            latency_s=self.latency_s * cycles / self.cycles if self.cycles else 0.0,
            stall_cycles=-(-self.stall_cycles // n),
            slots=self.slots.apportioned(self.multipliers * cycles),
            dram_bytes=self.dram_bytes / n,
            sram_bytes=self.sram_bytes / n,
            energy_pj={k: v / n for k, v in self.energy_pj.items()},
            batch=1,
        )

    def to_row(self) -> dict[str, Any]:
        """A flat dict in LAYER_COLUMNS order."""
        row = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("energy_pj", "slots", "area_mm2")
        }
        row["utilization"] = self.utilization
        row["effectual_utilization"] = self.effectual_utilization
        row.update(self.slots.columns())
        for col in ENERGY_COLUMNS:
            row[col] = float(self.energy_pj.get(col, 0.0))
        row["energy_pj"] = sum(row[c] for c in ENERGY_COLUMNS)
        for col in AREA_ROW_COLUMNS:
            row[col] = float(self.area_mm2.get(col, float("nan")))
        return {c: row[c] for c in LAYER_COLUMNS}


LAYER_COLUMNS = [
    "network",
    "layer",
    "kind",
    "accelerator",
    "batch",
    "macs_dense",
    "macs_effectual",
    "macs_issued",
    "cycles",
    "latency_s",
    "multipliers",
    "units",
    "utilization",
    "effectual_utilization",
    "imbalance",
    "idle_fraction",
    "stall_cycles",
    *SLOT_COLUMNS,
    "dram_bytes",
    "sram_bytes",
    "energy_pj",
    *ENERGY_COLUMNS,
    *AREA_ROW_COLUMNS,
    "folds",
    "mapping_efficiency",
    "mapping",
    "closed_form",
    "fallback",
]
"""Column order of every per-layer table (CSV, Parquet, JSON, DataFrame)."""

TIMELINE_COLUMNS = ["network", "layer", "unit", "state", "start", "end"]
"""Column order of the per-unit busy / stalled / idle timeline."""

__all__ = [
    "AREA_ROW_COLUMNS",
    "LAYER_COLUMNS",
    "SLOT_COLUMNS",
    "SLOT_PARTS",
    "TIMELINE_COLUMNS",
    "LayerResult",
    "Slots",
]
