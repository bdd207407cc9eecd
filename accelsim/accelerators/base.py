"""The contract every accelerator model fulfils: a spec in, a plan per layer, one LayerResult per layer out.

A family writes `plan(work)`: its dataflow and kernel turn the layer into a `LayerPlan`. The template
`simulate_layer` plays every plan the same way: the engine runs the work items, the timeline lists
every unit over the layer's cycles, and the shared fields of the row (latency, load-balance metrics,
the slot partition, energy) are derived here, once, for all models.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from accelsim.accelerators.plan import Extension, LayerPlan, Units
from accelsim.config.arch.common import Precision
from accelsim.energy import LEAK, Action, ActionEnergy, EnergyModel, energy_breakdown, static_energy_pj
from accelsim.energy.area import AreaBlock, AreaModel, area_breakdown, area_by_block, no_area
from accelsim.engine import play, unit_activity
from accelsim.engine.timeline import (
    IDLE,
    STALLED,
    STATE_DTYPE,
    UnitActivity,
    activity_metrics,
    timeline_frame,
)
from accelsim.report.schema import LayerResult, Slots
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer


class Accelerator(ABC):
    """A model built from a validated spec; it plans one layer at a time."""

    kind: ClassVar[str]

    energy: EnergyModel
    """Per-action energies of the spec's energy table at its node (each family sets it)."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        """The configured accelerator name."""
        return str(self.spec.name)

    @property
    def multipliers(self) -> int:
        """Number of multipliers (the iso-area / iso-multiplier yardstick), as the spec describes them."""
        return int(self.spec.multipliers)

    @property
    def clock_hz(self) -> float:
        """Core clock in Hz."""
        return float(self.spec.clock_mhz) * 1e6

    def plan_actions(self) -> frozenset[Action] | None:
        """The actions this model's plans list (on its own hardware; fallbacks aside), or None when
        the family does not declare them."""
        return None

    def energy_actions(self) -> frozenset[Action] | None:
        """Every action of this model, `static.leak` included: what `technology.energy_map` may name
        (checked before any layer runs); None: not declared, the map is checked as layers run."""
        listed = self.plan_actions()
        return None if listed is None else listed | {LEAK}

    def check_energy_map(self) -> None:
        """A ConfigError when `technology.energy_map` names an action this model does not have."""
        known = self.energy_actions()
        if known is not None:
            self.energy.check_actions(known)

    def unsupported(self, layer: Layer) -> str | None:
        """Why this accelerator cannot run `layer` natively, or None if it can."""
        return None

    def area_blocks(self, layers: tuple[Layer, ...]) -> list[AreaBlock] | None:
        """The chip's blocks (docs/assumptions.md, "Area"); `layers` are the network's compute layers
        for the families whose provisioning depends on them (empty: the chip on its own). None: the
        kind has no area model, and its area columns are NaN."""
        return None

    def area(self, layers: tuple[Layer, ...] = ()) -> dict[str, float]:
        """`area_mm2` and `area_<component>_mm2` of the chip (computed once per network; NaN without
        an area model)."""
        cache: dict[tuple[Layer, ...], dict[str, float]] = self.__dict__.setdefault("_area_cache", {})
        if layers not in cache:
            blocks = self.area_blocks(layers)
            cache[layers] = area_breakdown(self.area_model.apply(blocks)) if blocks is not None else no_area()
        return cache[layers]

    def area_detail(self, layers: tuple[Layer, ...] = ()) -> dict[str, float]:
        """Block name -> mm² of the chip (what `area` sums by component); empty without an area model."""
        blocks = self.area_blocks(layers)
        return {} if blocks is None else area_by_block(self.area_model.apply(blocks))

    @property
    def area_model(self) -> AreaModel:
        """Primitive areas of the spec's area table at its node."""
        return AreaModel.from_technology(self.spec.technology)

    @abstractmethod
    def plan(self, work: LayerWorkload) -> LayerPlan:
        """The layer as work items on units, with its slot causes, actions and mapping."""

    batches_images: ClassVar[bool] = False
    """True for a model whose plan covers a whole batch itself (its images share weight loads); the
    others run the images of a batch one after another."""

    def simulate_layer(self, work: LayerWorkload) -> tuple[LayerResult, pd.DataFrame]:
        """Plan the layer, play the plan through the engine; the result row and its per-unit timeline
        (unit, state, start, end) over the layer's cycles. Counts cover the whole batch: a model that
        does not batch runs the images one after another, each with its own activation masks."""
        if work.batch > 1 and not self.batches_images:
            return in_sequence([self._simulate_plan(image) for image in work.images()], self.clock_hz)
        return self._simulate_plan(work)

    def _simulate_plan(self, work: LayerWorkload) -> tuple[LayerResult, pd.DataFrame]:
        plan = self.plan(work)
        units = plan.units
        if units.count * units.multipliers != self.multipliers:
            raise ValueError(
                f"{self.name}: {units.count} {units.name}s x {units.multipliers} multipliers != "
                f"{self.multipliers} multipliers"
            )
        engine_units = plan.engine_units or units.count
        run = play(plan.items, engine_units, plan.dram_bytes_per_cycle, plan.channels, plan.buffers)
        frame = plan.refine(run) if plan.refine is not None else run.timeline.frame(run.makespan)
        end = run.makespan
        act = unit_activity(frame, units.count)
        slots = slot_partition(act, units, plan.busy, end)
        extensions = []
        if plan.bound is not None and plan.bound.cycles > end:
            extensions.append(Extension(plan.bound.cycles - end, plan.bound.part, plan.bound.what))
        if plan.tail is not None and plan.tail.cycles:
            extensions.append(plan.tail)
        frame, act, slots = _extend(frame, act, units, end, slots, extensions)
        cycles = end + sum(e.cycles for e in extensions)
        metrics = activity_metrics(act, cycles)
        leak = ActionEnergy(LEAK, float(cycles), self._leak_pj_per_cycle(plan.leakage_mw))
        # a model that declares its actions had its energy map checked when it was built
        undeclared = self.plan_actions() is None
        energy = self.energy.apply([*plan.energy, leak], all_mapped=undeclared and not plan.fallback)
        layer = work.layer
        result = LayerResult(
            network=work.network,
            layer=layer.name,
            kind=str(layer.kind),
            accelerator=self.name,
            macs_dense=layer.macs * plan.batch,
            macs_effectual=work.effectual_over(plan.batch),
            macs_issued=plan.macs_issued,
            cycles=cycles,
            latency_s=cycles / self.clock_hz,
            multipliers=self.multipliers,
            units=units.count,
            stall_cycles=metrics.stall_cycles,
            imbalance=metrics.imbalance,
            idle_fraction=metrics.idle_fraction,
            slots=slots,
            dram_bytes=plan.dram_bytes,
            sram_bytes=plan.sram_bytes,
            folds=plan.folds,
            mapping_efficiency=plan.mapping_efficiency,
            mapping=plan.mapping,
            closed_form=_closed_form(plan, end),
            fallback=plan.fallback,
            energy_pj=energy_breakdown(energy),
            batch=plan.batch,
            area_mm2=self.area(work.network_layers),
        )
        return result, frame

    def _leak_pj_per_cycle(self, leakage_mw: float) -> float:
        return static_energy_pj(leakage_mw, 1, self.spec.clock_mhz)


def in_sequence(
    parts: list[tuple[LayerResult, pd.DataFrame]], clock_hz: float
) -> tuple[LayerResult, pd.DataFrame]:
    """The images of a batch run one after another: their rows summed, their timelines end to end
    (load balance recomputed over the whole batch's timeline)."""
    rows = [row for row, _ in parts]
    first = rows[0]
    offsets = np.cumsum([0] + [row.cycles for row in rows[:-1]])
    frames = []
    for (_, frame), offset in zip(parts, offsets, strict=True):
        shifted = frame.copy()
        shifted["start"] += offset
        shifted["end"] += offset
        frames.append(shifted)
    frame = pd.concat(frames, ignore_index=True)
    cycles = sum(row.cycles for row in rows)
    metrics = activity_metrics(unit_activity(frame, first.units), cycles)
    slots = rows[0].slots
    for row in rows[1:]:
        slots = slots + row.slots
    energy = {k: sum(row.energy_pj.get(k, 0.0) for row in rows) for k in first.energy_pj}
    total = {
        name: sum(getattr(row, name) for row in rows)
        for name in ("macs_dense", "macs_effectual", "macs_issued", "dram_bytes", "sram_bytes", "folds")
    }
    result = replace(
        first,
        **total,
        cycles=cycles,
        latency_s=cycles / clock_hz,
        stall_cycles=metrics.stall_cycles,
        imbalance=metrics.imbalance,
        idle_fraction=metrics.idle_fraction,
        slots=slots,
        energy_pj=energy,
        batch=sum(row.batch for row in rows),
    )
    return result, frame


def slot_partition(act: UnitActivity, units: Units, busy: Slots, end: int) -> Slots:
    """The slots of `units` over [0, end) of a timeline whose units did `act`, by cause.

    Busy unit-cycles divide as the plan's `busy` says (the kernel knows what happened inside a unit);
    stalled ones are memory stalls; a unit's idle cycles before its last activity are waits at a
    barrier (unit_idle), those after it imbalance (others still work); a unit that never works is
    unmapped.
    """
    m = units.multipliers
    if int(act.last.max(initial=0)) > end:
        raise ValueError(f"timeline runs to cycle {int(act.last.max())}, past the makespan {end}")
    busy_slots = int(act.busy.sum()) * m
    if busy.total != busy_slots:
        raise ValueError(
            f"the plan accounts for {busy.total} busy slots, the timeline has {busy_slots} "
            f"({int(act.busy.sum())} busy {units.name}-cycles x {m} multipliers)"
        )
    worked = act.last > 0
    gaps = act.last[worked] - act.busy[worked] - act.stalled[worked]
    return busy + Slots(
        unmapped=int((~worked).sum()) * end * m,
        unit_idle=int(gaps.sum()) * m,
        imbalance=int((end - act.last[worked]).sum()) * m,
        memory_stall=int(act.stalled.sum()) * m,
    )


def _extend(
    frame: pd.DataFrame,
    act: UnitActivity,
    units: Units,
    end: int,
    slots: Slots,
    extensions: list[Extension],
) -> tuple[pd.DataFrame, UnitActivity, Slots]:
    """Append each extension's cycles to every unit (stalled for a memory stall, else idle)."""
    if not extensions:
        return frame, act, slots
    n = units.count
    unit = np.tile(np.arange(n, dtype=np.int64), len(extensions))
    state = np.repeat([STALLED if e.part == "memory_stall" else IDLE for e in extensions], n)
    bounds = np.cumsum([end] + [e.cycles for e in extensions])
    start, stop = np.repeat(bounds[:-1], n), np.repeat(bounds[1:], n)
    rows = timeline_frame(unit, state, start, stop)
    extended = pd.concat([frame.astype({"state": STATE_DTYPE}), rows], ignore_index=True)
    extended = extended.sort_values(["unit", "start"], kind="stable", ignore_index=True)
    stalled = sum(e.cycles for e in extensions if e.part == "memory_stall")
    for e in extensions:
        slots = slots + Slots(**{e.part: e.cycles * n * units.multipliers})
    act = UnitActivity(
        act.busy, act.stalled + stalled, np.maximum(act.last, end + stalled), act.stall_cycles + stalled
    )
    return extended, act, slots


def _closed_form(plan: LayerPlan, end: int) -> str:
    text = plan.closed_form
    bound = plan.bound
    if bound is not None and bound.cycles > end:
        binding = f"{bound.what} set the layer time ({bound.cycles:,} > engine {end:,} cycles)"
        text = f"{text}; {binding}" if text else binding
    return text


def mac_blocks(am: AreaModel, count: int, p: Precision, adders_per_mac: float = 1.0) -> list[AreaBlock]:
    """`count` weight x activation multipliers and their psum-wide accumulate adders."""
    return [
        AreaBlock("mac", "multipliers", count, am.multiplier_um2(p.weight_bits, p.act_bits)),
        AreaBlock("mac", "adders", count * adders_per_mac, am.adder_um2(p.psum_bits)),
    ]


__all__ = ["Accelerator", "LayerPlan", "Units", "in_sequence", "mac_blocks", "slot_partition"]
