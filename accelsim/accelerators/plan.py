"""The layer-plan contract: what an accelerator family makes of one layer, before the engine plays it.

A family turns a layer into a `LayerPlan`: work items on its units (with the exact cycles its kernel
counted and the bytes they move before, during and after their compute), the DRAM link and the other
named links they share, how the busy slots of those items divide into causes, the
actions and their energies, and the mapping text. `Accelerator.simulate_layer` (accelerators/base.py)
plays every plan the same way and derives every shared field of the result row from the timeline,
so that a column means the same thing for every model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from accelsim.energy import ActionEnergy
from accelsim.engine import EngineResult, WorkItem
from accelsim.report.schema import Slots

ExtensionPart = Literal["fill_drain", "memory_stall", "unmapped"]


@dataclass(frozen=True, slots=True)
class Units:
    """The units of a layer's timeline: what one is, how many, and the multipliers in each."""

    name: str
    """What a unit is, in the singular: "core", "PE", "cluster", "compute unit", "sub-array", "array"."""
    count: int
    multipliers: int
    """Multipliers in one unit (all units are alike)."""

    def __post_init__(self) -> None:
        if self.count < 1 or self.multipliers < 1:
            raise ValueError(f"a timeline needs at least one unit of at least one multiplier, got {self}")


@dataclass(frozen=True, slots=True)
class Extension:
    """Layer cycles that the engine does not play: every unit spends them in one slot part.

    A `bound` (closed form, e.g. a network's delivery time) extends the layer to at least `cycles`;
    a `tail` adds `cycles` after the last compute (e.g. an adder tree draining the last outputs).
    """

    cycles: int
    part: ExtensionPart
    """memory_stall (recorded as stalled in the timeline), fill_drain or unmapped (recorded idle)."""
    what: str
    """What the cycles are, for the result's `closed_form` text."""

    def __post_init__(self) -> None:
        if self.cycles < 0:
            raise ValueError(f"extension cycles must be >= 0, got {self.cycles}")


TimelineRefiner = Callable[[EngineResult], pd.DataFrame]
"""From the engine's run of coarse units (e.g. an array that moves in lock step between barriers)
to the timeline (unit, state, start, end) of the plan's finer units over [0, makespan)."""


@dataclass(frozen=True)
class LayerPlan:
    """One layer on one accelerator, ready to play. Counts cover the whole batch of the plan."""

    units: Units
    """The units of the timeline (and of the engine, unless `engine_units` says otherwise)."""
    items: Sequence[WorkItem]
    """Work items on the engine's units, with their exact cycles from the family's kernel."""
    busy: Slots
    """The busy slots of the timeline's units (busy unit-cycles x multipliers per unit) by cause; its
    `imbalance` and `memory_stall` parts are 0 (the template derives those from the timeline)."""
    energy: Sequence[ActionEnergy]
    """Every dynamic action with its count and pJ; leakage is added from `leakage_mw`."""
    leakage_mw: float
    """Static power (mW) of the chip while the layer runs: leakage, or a board's static power."""
    macs_issued: int
    dram_bytes: float
    sram_bytes: float
    folds: int
    mapping_efficiency: float
    mapping: str
    dram_bytes_per_cycle: float | None = None
    """Bandwidth of the DRAM link the items' transfers share (None: transfers take no time)."""
    channels: Mapping[str, float | None] = field(default_factory=dict)
    """Further bandwidth-limited links the items' `fetch` / `stream` / `spill` transfers name (e.g. one
    on-chip network per cluster), in bytes or words per cycle (None: unlimited)."""
    buffers: int = 2
    """Operand buffers per engine unit: 2 overlaps a job's fetch with the previous job's compute, 1
    loads it only after that compute."""
    engine_units: int | None = None
    """Units the engine plays when they are coarser than the timeline's (then `refine` is given)."""
    refine: TimelineRefiner | None = None
    bound: Extension | None = None
    """A closed-form lower bound on the layer's cycles (the excess over the engine's makespan)."""
    tail: Extension | None = None
    """Cycles after the engine's makespan that every layer pays."""
    batch: int = 1
    """Images the plan covers (a model that batches images itself); the result row covers them all."""
    closed_form: str = ""
    """Which costs the model takes in closed form instead of playing them through the engine."""
    fallback: str = ""
    """How a layer the accelerator does not run natively was handled (empty: natively)."""

    def __post_init__(self) -> None:
        if self.busy.imbalance or self.busy.memory_stall:
            raise ValueError("a plan's busy slots hold no imbalance or memory stall (the timeline's)")
        if self.batch < 1:
            raise ValueError(f"batch must be >= 1, got {self.batch}")
        if (self.engine_units is None) != (self.refine is None):
            raise ValueError("a plan gives engine_units and refine together, or neither")
