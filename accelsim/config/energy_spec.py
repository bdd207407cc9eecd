"""Spec of an energy-table file: per-action energies of one primitive family, each with its citation.

A table gives, at one technology node and supply voltage, the energy of a MAC (multiplier and adder at
reference widths), a register-file access, an SRAM access at a reference size and port width, a NoC hop,
DRAM per bit for each DRAM kind, and leakage. Every number is an entry that states its value, unit,
source and a tag saying how it was obtained (the provenance tags of docs/references.md). The scaling
rules that turn these
reference points into the cost of any width, size and node live in accelsim/energy/.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from accelsim.config.yaml_io import StrictModel

Tag = Literal["paper", "secondary", "repo", "derived", "assumption", "unverified"]
"""How a number was obtained, as docs/references.md tags it; read in the paper, restated by a secondary
source, read in a public code base, derived by arithmetic from tagged numbers, assumed, or not verified."""


class Cited(StrictModel):
    """Where a number comes from: a citation and a tag."""

    source: str = Field(min_length=1)
    """Citation: paper, table, repository file or the derivation, precise enough to check."""
    tag: Tag
    """How the number was obtained (docs/references.md tag)."""
    note: str = ""
    """Optional remark: caveats, cross-checks against other sources."""


class EnergyEntry(Cited):
    """Energy of one operation or access of a `bits`-wide word."""

    value: float = Field(ge=0)
    unit: Literal["pJ"]
    bits: int = Field(gt=0, le=1024)
    """Reference width in bits at which `value` holds."""


class SramEntry(EnergyEntry):
    """Energy of one access through a `bits`-wide port of an SRAM of `size_kib`."""

    size_kib: float = Field(gt=0)
    """Reference capacity in KiB at which `value` holds."""


class RatioEntry(Cited):
    """A dimensionless number: a ratio, an exponent or a fraction."""

    value: float = Field(ge=0)
    unit: Literal["1"]


class DramEntry(Cited):
    """DRAM access energy per bit transferred."""

    value: float = Field(ge=0)
    unit: Literal["pJ/bit"]


class PowerEntry(Cited):
    """Leakage power of one unit of a `bits`-wide datapath."""

    value: float = Field(ge=0)
    unit: Literal["mW"]
    bits: int = Field(gt=0, le=1024)
    """Reference width in bits at which `value` holds."""


class PowerPerKibEntry(Cited):
    """Leakage power per KiB of SRAM capacity."""

    value: float = Field(ge=0)
    unit: Literal["mW/KiB"]


class MacSpec(StrictModel):
    """A MAC is a multiplier plus an adder; each is given at one or more reference widths."""

    multiplier: tuple[EnergyEntry, ...] = Field(min_length=1)
    """Integer multiply; scaled quadratically in width from the nearest reference width (Aladdin rule)."""
    adder: tuple[EnergyEntry, ...] = Field(min_length=1)
    """Integer add (the accumulation); scaled linearly in width from the nearest reference width."""
    gated: RatioEntry
    """Energy of a gated MAC (an operand is zero, the datapath holds still) as a fraction of a MAC."""
    fp_multiplier: tuple[EnergyEntry, ...] = ()
    """Floating-point multiply, where the family gives it (same scaling rules)."""
    fp_adder: tuple[EnergyEntry, ...] = ()
    """Floating-point add, where the family gives it (same scaling rules)."""


class SramSpec(StrictModel):
    """One SRAM reference point and the CACTI-style rules that scale it in depth and port width."""

    read: SramEntry
    """Read energy of one full-port access at the reference size and port width."""
    write_to_read: RatioEntry
    """Write energy divided by read energy."""
    depth_exponent: RatioEntry
    """Energy grows as depth^exponent at a fixed port width (CACTI rule: 0.78)."""
    width_fixed_fraction: RatioEntry
    """Part of the access energy that does not grow with port width: E ∝ (1 - f)·w/w0 + f (CACTI: 0.3)."""


class DramSpec(StrictModel):
    """Energy per bit for every DRAM kind an accelerator spec may name (accelsim.config.arch.Dram.kind)."""

    lpddr4: DramEntry
    lpddr: DramEntry
    ddr3: DramEntry
    gddr5: DramEntry
    hbm2: DramEntry
    hmc: DramEntry


class LeakageSpec(StrictModel):
    """Static power, zero with a stated reason where the family publishes none."""

    multiplier: PowerEntry
    """Leakage of one multiplier; scaled quadratically in width like its area."""
    adder: PowerEntry
    """Leakage of one adder; scaled linearly in width."""
    sram: PowerPerKibEntry
    """Leakage per KiB of SRAM; linear in capacity."""


class TableHeader(StrictModel):
    """What every cost table (energy or area) states about itself."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    """Short name used in accelerator specs (`technology.energy_table` / `area_table`); the file is
    `<id>.yaml`."""
    family: str = Field(min_length=1)
    """Primitive family, e.g. `aladdin+cacti`, `horowitz`, `eyeriss-normalised`; never mix families."""
    source: str = Field(min_length=1)
    """Citation of the family as a whole."""
    description: str = ""


class EnergyTableSpec(TableHeader):
    """An energy-table file: one primitive family at one node and voltage, every number cited."""

    node_nm: float = Field(ge=7, le=130)
    """Technology node at which the entries hold; must lie in the node-scaling range 7..130 nm."""
    vdd: float = Field(gt=0)
    """Supply voltage at which the entries hold."""
    node_source: Cited
    """Where node and voltage come from (or that they are assumed)."""
    mac: MacSpec
    rf: EnergyEntry
    """One register-file (scratchpad) access of a word; linear in width, independent of depth."""
    sram: SramSpec
    noc: EnergyEntry
    """One word moved one hop; linear in width."""
    dram: DramSpec
    leakage: LeakageSpec
