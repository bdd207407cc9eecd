"""Spec of IMCE: the bit-wise in-memory convolution engine on SOT-MRAM (or RRAM) sub-arrays.

REFERENCE §9 gives the engine's operation sequence but none of its device constants (§12.7): every
number of the cell, array and periphery sections is a documented parameter (docs/imce.md,
docs/assumptions.md). The RRAM baseline of the paper is the same kind with an RRAM `cell` section.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from accelsim.config.arch.common import CommonSpec
from accelsim.config.yaml_io import StrictModel

SUPPORTED_BITS = (1, 2, 4, 8)
"""Weight and activation widths the engine supports (DoReFa-style unsigned codes, REFERENCE §9.4)."""


class ImceCell(StrictModel):
    """One memory cell technology: resistances, read / write conditions, size."""

    technology: Literal["sot_mram", "rram"]
    """sot_mram: 2T1MTJ spin-orbit-torque cell (IMCE); rram: 1T1R resistive cell (the paper's baseline)."""
    source: str = Field(min_length=1)
    """Where the device numbers come from (all assumptions where the IMCE paper is unavailable)."""
    r_low_ohm: float = Field(gt=0)
    """Low-resistance state (MTJ parallel / RRAM LRS)."""
    r_high_ohm: float = Field(gt=0)
    """High-resistance state (MTJ anti-parallel / RRAM HRS); must exceed r_low_ohm."""
    read_voltage_v: float = Field(gt=0)
    """Bit-line voltage during a read or AND sense."""
    sense_ns: float = Field(gt=0)
    """Duration of one single-row read or dual-row AND sense (bit-line development + sense amplifier)."""
    write_voltage_v: float = Field(gt=0)
    """Voltage across the write path (SOT: heavy-metal strip + access transistor; RRAM: cell + transistor)."""
    write_current_ua: float = Field(gt=0)
    """Write current per cell."""
    write_ns: float = Field(gt=0)
    """Write pulse width; one row of a sub-array is written in parallel in this time."""
    cell_area_f2: float = Field(gt=0)
    """Cell area in F² (F = technology.node_nm)."""
    write_driver_area_um2: float = Field(ge=0)
    """Area of the write driver of one column (scales with the write current and voltage)."""

    @model_validator(mode="after")
    def _resistances_ordered(self) -> ImceCell:
        if self.r_high_ohm <= self.r_low_ohm:
            raise ValueError(
                f"cell.r_high_ohm ({self.r_high_ohm}) must be larger than cell.r_low_ohm ({self.r_low_ohm})"
            )
        return self


class ImceArray(StrictModel):
    """The computational sub-arrays and the storage banks built from the same cells."""

    subarrays: int = Field(gt=0)
    """Computational sub-arrays working in parallel (P)."""
    rows: int = Field(gt=0)
    """Rows (word lines) of a sub-array: weight bit-planes plus the current activation bit-planes."""
    cols: int = Field(gt=0)
    """Columns (bit lines, each with a sense amplifier) of a sub-array (C): bits ANDed per sense."""
    bitline_ff_per_cell: float = Field(gt=0)
    """Bit-line capacitance each cell adds (fF)."""
    wordline_ff_per_cell: float = Field(gt=0)
    """Word-line capacitance each cell adds (fF)."""
    sense_amp_fj: float = Field(ge=0)
    """Energy of one sense-amplifier decision (fJ)."""
    sense_amp_area_um2: float = Field(ge=0)
    """Area of one column's sense amplifier with its AND / read reference selection."""
    row_driver_area_um2: float = Field(ge=0)
    """Area of one row's decoder and word-line drivers."""
    image_bank_mbit: float = Field(ge=0)
    """On-chip storage of layer inputs / outputs (same cells), counted in the area."""
    kernel_bank_mbit: float = Field(ge=0)
    """On-chip storage of all weights (same cells), counted in the area."""
    bank_array_efficiency: float = Field(gt=0, le=1)
    """Fraction of a storage bank's area that is cells (the rest is its periphery)."""


class ImcePeriphery(StrictModel):
    """CMOS around the arrays: the digital processing unit and the SRAM buffer."""

    buffer_kib: float = Field(gt=0)
    """SRAM buffer that replicates receptive fields into sub-arrays and holds cross-chunk partial sums."""
    full_adder_area_um2: float = Field(gt=0)
    """Area of one full adder; a sub-array's DPU has cols (bit-count tree) + 2 x psum_bits of them."""
    sram_area_mm2_per_kib: float = Field(gt=0)
    """SRAM buffer area per KiB."""
    dpu_clock_cycles_per_level: int = Field(default=1, gt=0)
    """Cycles per level of the bit-count / accumulation adder trees (pipelined)."""


class ImceSpec(CommonSpec):
    """IMCE: bit-wise AND + bit-count convolution in computational memory sub-arrays (REFERENCE §9)."""

    kind: Literal["imce"]
    dataflow: str = Field(default="bitwise", min_length=1)
    """Name of a registered imce dataflow: bitwise."""
    cell: ImceCell
    array: ImceArray
    periphery: ImcePeriphery
    signed_weights: bool = True
    """Weights are DoReFa's symmetric w = 2u - (2^m - 1) of unsigned codes u: the engine adds one
    bit-count of each activation plane per chunk and a correction per output."""
    weight_load: Literal["fit", "resident", "per_layer"] = "fit"
    """fit: the network's weight planes (with the copies the mapping places) stay resident, written
    once at model load, if they fit in the sub-arrays' rows all at once; otherwise every layer rewrites
    its weight planes per inference. resident: always resident (a chip with enough rows, whatever it
    has). per_layer: always rewritten per inference. Rewritten weights come from the kernel bank if it
    holds the network's weights, else from DRAM. A layer whose weight blocks outnumber the sub-arrays
    rewrites its blocks every round in every mode."""
    full_precision_layers: tuple[str, ...] = ()
    """Layers run at full_precision_bits for weights and activations (DoReFa keeps the first and last)."""
    full_precision_bits: int = 8
    """Width of the full-precision layers (one of 1, 2, 4, 8)."""
    dram_input_layers: tuple[str, ...] = ()
    """Layers whose input comes from DRAM (the network's input image); other inputs are on chip."""

    @model_validator(mode="after")
    def _supported_widths(self) -> ImceSpec:
        allowed = ", ".join(map(str, SUPPORTED_BITS))
        for key, bits in (
            ("precision.weight_bits", self.precision.weight_bits),
            ("precision.act_bits", self.precision.act_bits),
            ("full_precision_bits", self.full_precision_bits),
        ):
            if bits not in SUPPORTED_BITS:
                raise ValueError(f"{key} = {bits} is not a width the engine supports (allowed: {allowed})")
        fp = self.full_precision_bits if self.full_precision_layers else 0
        widest = max(self.precision.weight_bits, fp) + max(self.precision.act_bits, fp)
        if self.array.rows < widest:
            raise ValueError(
                f"array.rows = {self.array.rows} cannot hold one filter's weight planes plus the activation "
                f"planes (needs >= {widest})"
            )
        return self

    @property
    def multipliers(self) -> int:
        """One-bit AND lanes sensed in parallel: sub-arrays x columns."""
        return self.array.subarrays * self.array.cols


SPECS = (ImceSpec,)
