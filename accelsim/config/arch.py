"""Accelerator specs: one pydantic model per kind, sharing small common sections."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from accelsim.config.yaml_io import StrictModel, read_yaml, validate


class Technology(StrictModel):
    """Process node and the energy table whose per-action costs are scaled to it."""

    node_nm: float = Field(gt=0)
    """Technology node of the modelled chip; energies are scaled to it (REFERENCE §3.6)."""
    vdd: float = Field(default=0.8, gt=0)
    """Supply voltage used for node scaling (Accelergy's default 0.8 V, REFERENCE §3.6)."""
    energy_table: str = "accelergy_40nm"
    """Id of a table in accelsim/energy/tables/ (or a path to one)."""


class Precision(StrictModel):
    """Operand widths in bits."""

    weight_bits: int = Field(default=8, gt=0, le=64)
    act_bits: int = Field(default=8, gt=0, le=64)
    psum_bits: int = Field(default=32, gt=0, le=64)


class Dram(StrictModel):
    """Off-chip memory: bandwidth (None = unlimited, stall-free) and technology."""

    bandwidth_bytes_per_cycle: float | None = Field(default=None, gt=0)
    """Sustained DRAM bandwidth in bytes per core clock cycle; null means unlimited."""
    kind: Literal["lpddr4", "lpddr", "ddr3", "gddr5", "hbm2", "hmc"] = "lpddr4"
    """DRAM type; selects pJ/bit from the energy table (REFERENCE §3.4)."""


class SystolicMemory(StrictModel):
    """The three double-buffered operand SRAMs of a SCALE-Sim-style systolic array."""

    ifmap_sram_kib: float = Field(gt=0)
    filter_sram_kib: float = Field(gt=0)
    ofmap_sram_kib: float = Field(gt=0)


class CommonSpec(StrictModel):
    """Sections every accelerator kind shares."""

    name: str = Field(min_length=1)
    source: str = Field(min_length=1)
    """Where the numbers come from; assumptions are marked in comments and docs/assumptions.md."""
    clock_mhz: float = Field(gt=0)
    """Core clock; every cycle count is in this clock."""
    technology: Technology
    precision: Precision = Precision()
    dram: Dram = Dram()


class SystolicSpec(CommonSpec):
    """A rows x cols systolic array of MACs with an OS, WS or IS dataflow (SCALE-Sim semantics)."""

    kind: Literal["systolic"]
    dataflow: str = Field(min_length=1)
    """Name of a registered systolic dataflow: os, ws or is."""
    rows: int = Field(gt=0)
    cols: int = Field(gt=0)
    memory: SystolicMemory
    zero_gating: bool = False
    """Gate the MAC when an operand is zero (saves energy, never cycles)."""


ArchSpec = Annotated[SystolicSpec, Field(discriminator="kind")]
"""Every accelerator kind's spec; new kinds add their model to this union."""

_ARCH: TypeAdapter[Any] = TypeAdapter(ArchSpec)


def parse_arch(data: Any, source: str) -> SystolicSpec:
    """Validate already-parsed data as an accelerator spec."""
    return validate(_ARCH, data, source, "accelerator spec")


def load_arch(path: Path) -> SystolicSpec:
    """The one place where an accelerator YAML file becomes a spec."""
    return parse_arch(read_yaml(path), str(path))
