"""Spec of the dense systolic array (SCALE-Sim semantics)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from accelsim.config.arch.common import CommonSpec
from accelsim.config.yaml_io import StrictModel


class SystolicMemory(StrictModel):
    """The three double-buffered operand SRAMs of a SCALE-Sim-style systolic array."""

    ifmap_sram_kib: float = Field(gt=0)
    filter_sram_kib: float = Field(gt=0)
    ofmap_sram_kib: float = Field(gt=0)


class SystolicSpec(CommonSpec):
    """A rows x cols systolic array of MACs with an OS, WS or IS dataflow (SCALE-Sim semantics)."""

    kind: Literal["systolic"]
    tile_keys: ClassVar[tuple[str, ...]] = ("rows", "cols")
    dataflow: str = Field(min_length=1)
    """Name of a registered systolic dataflow: os, ws or is."""
    rows: int = Field(gt=0)
    cols: int = Field(gt=0)
    memory: SystolicMemory
    zero_gating: bool = False
    """Gate the MAC when an operand is zero (saves energy, never cycles)."""

    @property
    def multipliers(self) -> int:
        """rows x cols MACs."""
        return self.rows * self.cols


SPECS = (SystolicSpec,)
