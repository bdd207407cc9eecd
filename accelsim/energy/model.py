"""Energy is action counts x per-action energies: the scaled table, the actions and the breakdown.

`EnergyModel` turns one energy table into per-action energies (pJ) at the modelled node and voltage:
widths and SRAM sizes are scaled with the family's rules, the node with Stillmaker & Baas
([STILLMAKER17]). `energy_breakdown` multiplies an accelerator's action counts by those energies and
sums them into one `energy_<component>_pj` column per component. An accelerator lists its actions as
`ActionEnergy` triples (action, count, pJ each), checked in one place.

With an Accelergy ERT as `technology.energy_table`, the actions `technology.energy_map` names cost the
ERT's energies (scaled from the ERT's node and voltage to the chip's; DRAM, off-chip, as it is), and
every other action keeps the default table's primitives, as an ART falls back to the default area table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from accelsim.config.accelergy import Ert, ert_energy_pj, read_ert, table_path
from accelsim.config.arch.common import ErtAction
from accelsim.config.energy_spec import DramSpec, EnergyEntry, PowerEntry
from accelsim.energy.scaling import energy_factor, sram_access_factor
from accelsim.energy.table import DEFAULT_TABLE, EnergyTable, load_energy_table
from accelsim.errors import AccelsimError, ConfigError, UnknownNameError

if TYPE_CHECKING:
    from accelsim.config.arch import Technology

COMPONENTS = ("mac", "rf", "sram", "noc", "dram", "static")
"""Energy components; each becomes one `energy_<component>_pj` result column."""

ENERGY_COLUMNS = tuple(f"energy_{c}_pj" for c in COMPONENTS)
"""The per-component energy columns of a result row, in COMPONENTS order."""


@dataclass(frozen=True, slots=True, order=True)
class Action:
    """One kind of countable event: a component (one of COMPONENTS) and an operation on it."""

    component: str
    op: str
    """Operation, e.g. "mac", "gated", "read", "write", "hop", "leak"."""

    def __post_init__(self) -> None:
        if self.component not in COMPONENTS:
            raise ValueError(f"unknown energy component {self.component!r}; known: {', '.join(COMPONENTS)}")
        if not self.op:
            raise ValueError("an Action needs a non-empty op")

    @classmethod
    def parse(cls, name: str) -> Action:
        """The action a `component.op` name (e.g. `sram.ifmap_read`) stands for."""
        component, _, op = name.partition(".")
        return cls(component, op)

    @property
    def name(self) -> str:
        """`component.op`."""
        return f"{self.component}.{self.op}"


def actions(*names: str) -> frozenset[Action]:
    """The actions `component.op` names stand for (a family's declared actions)."""
    return frozenset(Action.parse(n) for n in names)


LEAK = Action("static", "leak")
"""Static energy, which the template adds to every plan's actions."""


def _check_bits(name: str, bits: int) -> None:
    if bits <= 0:
        raise ValueError(f"{name} must be > 0 bits, got {bits}")


def _nearest(entries: Sequence[EnergyEntry], bits: int) -> EnergyEntry:
    """The entry whose reference width is closest to `bits` (the wider one on a tie)."""
    return min(entries, key=lambda e: (abs(e.bits - bits), -e.bits))


def _scaled(entries: Sequence[EnergyEntry], bits: int, power: int) -> float:
    """Energy at `bits` from the nearest reference width, scaled as width^power."""
    ref = _nearest(entries, bits)
    return ref.value * (bits / ref.bits) ** power


class EnergyModel:
    """Per-action energies (pJ) of one table scaled to one node and voltage."""

    __slots__ = ("factor", "node_nm", "overrides", "source", "table", "vdd")

    def __init__(
        self,
        table: EnergyTable,
        node_nm: float,
        vdd: float,
        overrides: dict[Action, float] | None = None,
        source: str = "technology.energy_map",
    ) -> None:
        self.table = table
        """The energy table the costs come from."""
        self.node_nm = float(node_nm)
        """Technology node of the modelled chip."""
        self.vdd = float(vdd)
        """Supply voltage of the modelled chip."""
        self.factor = energy_factor(table.node_nm, table.vdd, self.node_nm, self.vdd)
        """Scale factor from the table's (node, Vdd) to the modelled one; applies to all on-chip energies."""
        self.overrides = dict(overrides or {})
        """Action -> pJ at the modelled node that replaces the accelerator's own (from an Accelergy ERT)."""
        self.source = source
        """Where the overrides come from, for error messages (file and key)."""

    @classmethod
    def from_technology(cls, tech: Technology) -> EnergyModel:
        """The model an accelerator spec's `technology` section describes (with an Accelergy ERT: the
        ERT's energies for the actions `energy_map` names, the default table for the rest)."""
        path = table_path(tech.energy_table)
        ert = None if path is None else read_ert(path)
        if ert is None:
            for key in ("energy_map", "energy_table_node_nm", "energy_table_vdd"):
                if getattr(tech, key):
                    raise ConfigError(
                        f"technology.{key}: needs an Accelergy ERT.yaml as technology.energy_table, "
                        f"got {tech.energy_table!r}"
                    )
            return cls(load_energy_table(tech.energy_table), tech.node_nm, tech.vdd)
        overrides = _ert_overrides(ert, tech)
        source = f"{tech.energy_table}: technology.energy_map"
        return cls(load_energy_table(DEFAULT_TABLE), tech.node_nm, tech.vdd, overrides, source)

    @classmethod
    def from_table(cls, id_or_path: str | Path, node_nm: float, vdd: float) -> EnergyModel:
        """The model of a table given by id or path."""
        return cls(load_energy_table(id_or_path), node_nm, vdd)

    def __repr__(self) -> str:
        return f"EnergyModel({self.table.id!r}, node_nm={self.node_nm}, vdd={self.vdd})"

    def pj(self, action: Action, default: float) -> float:
        """The energy of one `action`: the ERT's when `energy_map` names it, else `default` (pJ)."""
        return self.overrides.get(action, default)

    def apply(self, entries: Iterable[ActionEnergy], *, all_mapped: bool = True) -> list[ActionEnergy]:
        """`entries` with the mapped actions at their ERT energy. With `all_mapped`, a mapped action the
        entries do not list is an error: it is no action of this accelerator (a layer that ran on
        other hardware, a fallback, lists other actions and is not checked)."""
        out = [
            ActionEnergy(e.action, e.count, self.overrides[e.action]) if e.action in self.overrides else e
            for e in entries
        ]
        if all_mapped:
            self.check_actions({e.action for e in out})
        return out

    def check_actions(self, known: Iterable[Action]) -> None:
        """Every mapped action is one of `known` (the accelerator's actions), else a ConfigError."""
        listed = set(known)
        unknown = sorted(set(self.overrides) - listed)
        if unknown:
            names = ", ".join(a.name for a in unknown)
            its = ", ".join(a.name for a in sorted(listed))
            raise ConfigError(f"{self.source}: no action {names} in this accelerator; its actions: {its}")

    def _mac_parts(self, fp: bool) -> tuple[Sequence[EnergyEntry], Sequence[EnergyEntry]]:
        mac = self.table.spec.mac
        if not fp:
            return mac.multiplier, mac.adder
        if not mac.fp_multiplier or not mac.fp_adder:
            raise ConfigError(f"energy table {self.table.id!r} has no floating-point MAC energies")
        return mac.fp_multiplier, mac.fp_adder

    def mac_pj(self, bits: int, acc_bits: int | None = None, *, fp: bool = False) -> float:
        """One MAC: a `bits` x `bits` multiply (∝ width²) and an `acc_bits` add (∝ width; default `bits`)."""
        acc = bits if acc_bits is None else acc_bits
        _check_bits("MAC operand width", bits)
        _check_bits("accumulator width", acc)
        multipliers, adders = self._mac_parts(fp)
        return (_scaled(multipliers, bits, 2) + _scaled(adders, acc, 1)) * self.factor

    def mac_gated_pj(self, bits: int, acc_bits: int | None = None, *, fp: bool = False) -> float:
        """One gated MAC (an operand is zero and the datapath holds still): the table's fraction of a MAC."""
        return self.table.spec.mac.gated.value * self.mac_pj(bits, acc_bits, fp=fp)

    def adder_pj(self, bits: int) -> float:
        """One `bits`-wide integer add alone (the table's adder, linear in width)."""
        _check_bits("adder width", bits)
        return _scaled(self.table.spec.mac.adder, bits, 1) * self.factor

    def rf_pj(self, bits: int) -> float:
        """One register-file access of a `bits`-wide word (linear in width, independent of depth)."""
        _check_bits("register-file word", bits)
        rf = self.table.spec.rf
        return rf.value * bits / rf.bits * self.factor

    def sram_pj(self, size_kib: float, bits: int, write: bool = False, port_bits: int | None = None) -> float:
        """One access of a `bits`-wide word in an SRAM of `size_kib`.

        The SRAM has a `port_bits`-wide port (default: the wider of `bits` and the table's reference port);
        a word narrower than the port pays its share `bits / port_bits` of one port access.
        """
        _check_bits("SRAM word", bits)
        sram = self.table.spec.sram
        port = max(bits, sram.read.bits) if port_bits is None else port_bits
        _check_bits("SRAM port", port)
        if bits > port:
            raise ValueError(f"a {bits}-bit word does not fit a {port}-bit SRAM port")
        access = sram.read.value * sram_access_factor(
            size_kib, port, sram.read.size_kib, sram.read.bits,
            sram.depth_exponent.value, sram.width_fixed_fraction.value,
        )  # fmt: skip
        if write:
            access *= sram.write_to_read.value
        return access * bits / port * self.factor

    def noc_pj(self, bits: int) -> float:
        """One `bits`-wide word moved one hop (linear in width)."""
        _check_bits("NoC word", bits)
        noc = self.table.spec.noc
        return noc.value * bits / noc.bits * self.factor

    def dram_pj_per_bit(self, kind: str) -> float:
        """DRAM energy per bit for a DRAM kind; off-chip, so never scaled with the accelerator's node."""
        known = list(DramSpec.model_fields)
        if kind not in known:
            raise UnknownNameError("DRAM kind", kind, known)
        return float(getattr(self.table.spec.dram, kind).value)

    def leakage_mw(
        self, multipliers: int, sram_kib: float, bits: int = 8, acc_bits: int | None = None
    ) -> float:
        """Static power of `multipliers` MAC units (`bits`-wide multiplier, `acc_bits` adder) and `sram_kib`.

        Multiplier leakage scales with width² (like its area), adder leakage linearly, SRAM linearly in
        capacity; node and voltage scale it by the same factor as dynamic energy (as hwcomponents does).
        """
        if multipliers < 0 or sram_kib < 0:
            raise ValueError(f"multipliers and sram_kib must be >= 0, got {multipliers} and {sram_kib}")
        acc = bits if acc_bits is None else acc_bits
        _check_bits("multiplier width", bits)
        _check_bits("accumulator width", acc)
        leak = self.table.spec.leakage
        per_mac = _scaled_power(leak.multiplier, bits, 2) + _scaled_power(leak.adder, acc, 1)
        return (multipliers * per_mac + sram_kib * leak.sram.value) * self.factor


def _ert_overrides(ert: Ert, tech: Technology) -> dict[Action, float]:
    """Action -> pJ at the chip's node and voltage, for every action `tech.energy_map` names."""
    where = f"{tech.energy_table}: technology"
    if tech.energy_table_node_nm is None:
        raise ConfigError(
            f"{where}.energy_table_node_nm: give the node of the ERT's energies (it is not in the file)"
        )
    if not tech.energy_map:
        raise ConfigError(
            f"{where}.energy_map: name the accelsim actions (`component.op`, e.g. mac.mac) the ERT's "
            f"actions (`component.action`) price"
        )
    ert_vdd = tech.vdd if tech.energy_table_vdd is None else tech.energy_table_vdd
    factor = energy_factor(tech.energy_table_node_nm, ert_vdd, tech.node_nm, tech.vdd)
    out: dict[Action, float] = {}
    for key, ref in tech.energy_map.items():
        source = f"{where}.energy_map.{key}"
        action = _action(key, source)
        entry = ref if isinstance(ref, ErtAction) else ErtAction(action=ref)
        pj = ert_energy_pj(ert, entry.action, entry.arguments, source) * entry.scale
        out[action] = pj if action.component == "dram" else pj * factor  # DRAM is off-chip: not scaled
    return out


def _action(key: str, source: str) -> Action:
    """The accelsim action an `energy_map` key names (`component.op`)."""
    try:
        return Action.parse(key)
    except ValueError as e:
        raise ConfigError(f"{source}: {key!r} is not an accelsim action `component.op`: {e}") from None


def _scaled_power(entry: PowerEntry, bits: int, power: int) -> float:
    return entry.value * (bits / entry.bits) ** power


def static_energy_pj(leakage_mw: float, cycles: float, clock_mhz: float) -> float:
    """Energy leaked at `leakage_mw` over `cycles` of a `clock_mhz` clock (mW x µs = nJ = 1000 pJ)."""
    if clock_mhz <= 0:
        raise ValueError(f"clock_mhz must be > 0, got {clock_mhz}")
    return leakage_mw * cycles / clock_mhz * 1e3


@dataclass(frozen=True, slots=True)
class ActionEnergy:
    """One kind of action of a layer: how many times it happened and the energy of one (pJ)."""

    action: Action
    count: float
    pj: float

    @classmethod
    def of(cls, component: str, op: str, count: float, pj: float) -> ActionEnergy:
        """`count` actions `component.op` of `pj` each."""
        return cls(Action(component, op), float(count), float(pj))

    @property
    def energy_pj(self) -> float:
        """count x pJ per action."""
        return self.count * self.pj


def energy_breakdown(entries: Iterable[ActionEnergy]) -> dict[str, float]:
    """Sum (action, count, pJ) triples into one `energy_<component>_pj` entry per component.

    The one place energies are checked: counts and energies must be finite and non-negative, and an
    action listed twice must cost the same each time (its counts add up).
    """
    out = dict.fromkeys(ENERGY_COLUMNS, 0.0)
    cost: dict[Action, float] = {}
    for e in entries:
        what = f"{e.action.component}.{e.action.op}"
        if not (math.isfinite(e.count) and e.count >= 0):
            raise AccelsimError(f"energy action {what}: count must be finite and >= 0, got {e.count}")
        if not (math.isfinite(e.pj) and e.pj >= 0):
            raise AccelsimError(f"energy action {what}: pJ per action must be finite and >= 0, got {e.pj}")
        if cost.setdefault(e.action, e.pj) != e.pj:
            raise AccelsimError(f"energy action {what} is listed at {cost[e.action]} pJ and at {e.pj} pJ")
        out[f"energy_{e.action.component}_pj"] += e.energy_pj
    return out
