"""Sections every accelerator spec shares: clock, technology, precision, DRAM."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from accelsim.config.yaml_io import StrictModel, names_a_file


class ErtAction(StrictModel):
    """An `energy_map` entry in full: the ERT action, which of its argument sets, and how many ERT
    actions one accelsim action is."""

    action: str = Field(min_length=3)
    """Accelergy `component.action` (the component a full name or its last segment)."""
    arguments: dict[str, Any] | None = None
    """The argument set to take (e.g. `{address_delta: 1, data_delta: 1}`); none: the most expensive."""
    scale: float = Field(default=1.0, gt=0)
    """pJ of one accelsim action = scale x pJ of one ERT action (e.g. 0.125 for one 8-bit word of a
    64-bit SRAM access, 1/64 for `dram.bit` from a 64-bit DRAM read)."""


class Technology(StrictModel):
    """Process node and the energy and area tables whose costs are scaled to it."""

    node_nm: float = Field(gt=0)
    """Technology node of the modelled chip; energies are scaled to it ([STILLMAKER17])."""
    vdd: float = Field(default=0.8, gt=0)
    """Supply voltage used for node scaling (Accelergy's default 0.8 V, [STILLMAKER17])."""
    energy_table: str = "accelergy_40nm"
    """Id of a table in accelsim/energy/tables/, a path to one, or a path to an Accelergy ERT.yaml (a
    relative path in a config file is relative to that file's folder; then
    with `energy_map` and `energy_table_node_nm`; the actions it does not map keep the default table)."""
    energy_map: dict[str, str | ErtAction] = Field(default_factory=dict)
    """With an Accelergy ERT as `energy_table`: accelsim action `component.op` (e.g. `mac.mac`,
    `rf.psum_access`, `sram.ifmap_read`, `dram.bit`) -> ERT `component.action`, or a mapping with
    `action`, `arguments` and `scale` (ErtAction). Mapped actions cost the ERT's pJ scaled to the
    chip's node and voltage (DRAM is off-chip: not scaled)."""
    energy_table_node_nm: float | None = Field(default=None, ge=7, le=130)
    """Node at which an Accelergy ERT's energies hold (the file does not record it)."""
    energy_table_vdd: float | None = Field(default=None, gt=0)
    """Supply voltage at which an Accelergy ERT's energies hold; default: the chip's `vdd`."""
    area_table: str = "accelergy_45nm"
    """Id of an area table in accelsim/energy/area_tables/, a path to one, or a path to an Accelergy
    ART.yaml (then with `area_map` and `area_table_node_nm`); areas are scaled to `node_nm`. A relative
    path in a config file is relative to that file's folder."""
    area_map: dict[str, str] = Field(default_factory=dict)
    """With an Accelergy ART as `area_table`: accelsim block name (see the model's `area_blocks`) ->
    ART component (its full name or last segment) whose area per instance replaces the block's;
    `included` for a block another ART entry already holds. Blocks not named keep the shipped table."""
    area_table_node_nm: float | None = Field(default=None, ge=7, le=130)
    """Node at which an Accelergy ART's areas hold (the file does not record it)."""

    def anchored(self, folder: Path) -> Technology:
        """This section with its relative table paths taken as relative to `folder` (the config file's;
        a shipped id or an absolute path is kept)."""
        update = {
            key: str(folder / value)
            for key in ("energy_table", "area_table")
            if names_a_file(value := getattr(self, key)) and not Path(value).is_absolute()
        }
        return self.model_copy(update=update)


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
    """DRAM type; selects pJ/bit from the energy table ([ACCELERGY19])."""


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

    tile_keys: ClassVar[tuple[str, ...]] = ()
    """Dotted keys of the design's replicated tiles, which an iso-area comparison changes to scale it
    to another design's area (`compare(..., scale_to_area=True)`): one key, a count (clusters); two
    keys, the rows and columns of a grid (array, PE mesh), scaled at its aspect ratio; none: the design
    has no such tile and is not scaled."""

    @property
    def multipliers(self) -> int:
        """Multipliers of the described hardware (the iso-multiplier yardstick); each kind says how many."""
        raise NotImplementedError(f"{type(self).__name__} does not say how many multipliers it has")
