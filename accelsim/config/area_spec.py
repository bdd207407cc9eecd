"""Spec of an area-table file: the area of each hardware primitive at a node, each with its citation.

A table gives the area of a multiplier and an adder at a reference width, of one register bit, of a
comparator (a register file's address decode, per word), of one crossbar crosspoint bit and of SRAM
per KiB, each at the node its source states. The rules that scale them to any width, size and node
live in accelsim/energy/area.py.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from accelsim.config.energy_spec import Cited, TableHeader


class AreaEntry(Cited):
    """Area of one `bits`-wide primitive at `node_nm`."""

    value: float = Field(ge=0)
    unit: Literal["um2"]
    bits: int = Field(gt=0, le=1024)
    """Reference width in bits at which `value` holds."""
    node_nm: float = Field(ge=7, le=130)
    """Technology node at which `value` holds (scaled to the modelled node)."""


class SramAreaEntry(Cited):
    """SRAM area per KiB of capacity at `node_nm` (from one reference macro of `size_kib`)."""

    value: float = Field(ge=0)
    unit: Literal["mm2/KiB"]
    size_kib: float = Field(gt=0)
    """Capacity of the reference macro the per-KiB figure comes from."""
    node_nm: float = Field(ge=7, le=130)


class AreaTableSpec(TableHeader):
    """An area-table file: one primitive family, every number cited."""

    multiplier: AreaEntry
    """Integer multiplier; area ∝ product of the operand widths (Accelergy's quadratic width rule)."""
    adder: AreaEntry
    """Integer adder; area ∝ width."""
    flip_flop: AreaEntry
    """One flip-flop bit (register files, pipeline registers, FIFOs, mask registers)."""
    comparator: AreaEntry
    """Equality comparator; area ∝ width (a register file's per-word address decode)."""
    crosspoint: AreaEntry
    """One bit of one crossbar crosspoint (input x output x bit); NoC routers and crossbars."""
    sram: SramAreaEntry
    """SRAM macro area per KiB; linear in capacity."""
