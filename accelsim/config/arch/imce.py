"""Spec of IMCE: the bit-wise in-memory convolution engine on SOT-MRAM (or RRAM) sub-arrays.

[IMCE18] gives the engine's operation sequence but none of its device constants ([IMCE18]): every
number of the cell, array and periphery sections is a documented parameter (docs/imce.md,
docs/assumptions.md). The paper's RRAM counterpart is the same kind either with an RRAM `cell` section
(the cell swapped, periphery kept) or with a `crossbar` section (an analog RRAM crossbar with DAC / ADC
periphery, ISAAC-style).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from accelsim.config.arch.common import CommonSpec
from accelsim.config.yaml_io import StrictModel

SUPPORTED_BITS = (1, 2, 4, 8)
"""Weight and activation widths the engine supports (DoReFa-style unsigned codes, [DOREFA16])."""


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
    """Computational sub-arrays (or crossbars) the chip may use (P): the timeline's units. Area and
    leakage are charged for those the network's weight placement actually uses."""
    rows: int = Field(gt=0)
    """Rows (word lines) of a sub-array: weight bit-planes plus the current activation bit-planes (a
    crossbar: the receptive-field elements one read sums)."""
    cols: int = Field(gt=0)
    """Columns (bit lines) of a sub-array (C): bits ANDed per sense (a crossbar: weight slices of the
    filters one read computes)."""
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


class ImceCrossbar(StrictModel):
    """Analog crossbar periphery (ISAAC, Shafiee et al., ISCA 2016): 1-bit DACs drive the rows with one
    input bit-plane, every column sums its cells' currents, shared ADCs convert the column sums."""

    bits_per_cell: int = Field(default=1, gt=0, le=8)
    """Weight bits one cell stores; an m-bit weight takes ceil(m / bits_per_cell) columns."""
    dac_pj: float = Field(ge=0)
    """Energy of one 1-bit DAC driving one row for one input bit-plane."""
    dac_area_um2: float = Field(ge=0)
    """Area of one row's 1-bit DAC."""
    adcs: int = Field(gt=0)
    """ADCs per crossbar, shared by its columns (converted one after another)."""
    adc_bits: int = Field(gt=0, le=16)
    """ADC resolution; must cover a column sum: rows x (2^bits_per_cell - 1)."""
    adc_pj: float = Field(ge=0)
    """Energy of one conversion at adc_bits."""
    adc_ns: float = Field(gt=0)
    """Time of one conversion (1 / sample rate)."""
    adc_area_um2: float = Field(ge=0)
    """Area of one ADC."""


class ImceSpec(CommonSpec):
    """IMCE: bit-wise AND + bit-count convolution in computational memory sub-arrays ([IMCE18])."""

    kind: Literal["imce"]
    dataflow: str = Field(default="bitwise", min_length=1)
    """Name of a registered imce dataflow: bitwise."""
    cell: ImceCell
    array: ImceArray
    periphery: ImcePeriphery
    signed_weights: bool = True
    """Weights are DoReFa's symmetric w = 2u - (2^m - 1) of unsigned codes u: the engine adds one
    bit-count of each activation plane per chunk and a correction per output."""
    crossbar: ImceCrossbar | None = None
    """null: IMCE's bit-wise engine (dual-row AND senses, bit-count); given: an analog crossbar (the
    cells' currents sum the bit-products of a column, ADCs convert): the RRAM counterpart with its own
    periphery."""
    weight_load: Literal["fit", "resident", "per_layer"] = "fit"
    """Where the weights live. fit: one copy of every weight block is placed (first fit, network
    order) and stays resident, written once at model load, when the whole network fits in the
    sub-arrays; when only part fits, the layers that fit (in network order) stay resident and the others
    are rewritten per inference on the sub-arrays left free. resident: every layer resident; a network
    that does not fit is an error naming the sub-arrays it needs. per_layer: every layer rewritten per
    inference on all sub-arrays. Rewritten weights come from the kernel bank if it holds them, else
    from DRAM; blocks that outnumber their sub-arrays take turns in rounds."""
    max_copies: int | None = Field(default=1, gt=0)
    """Copies of each weight block at most. Resident layers get more than one only when the whole
    network fits, copy by copy into the rows left free; rewritten layers spread over their sub-arrays.
    null: as many as fit."""
    full_precision_layers: tuple[str, ...] = ()
    """Layers DoReFa keeps unquantised (the first and last); `full_precision_run` says where they run."""
    full_precision_bits: int = 8
    """Width of the full-precision layers on the engine (one of 1, 2, 4, 8)."""
    full_precision_run: Literal["engine", "engine_precision", "host"] = "engine"
    """engine: on the sub-arrays at full_precision_bits; engine_precision: on the sub-arrays at the
    engine's W:A; host: off the engine (a host runs them; their rows count no engine time or energy)."""
    count_dram_energy: bool = True
    """Charge DRAM accesses (the input image, weights rewritten from DRAM) to the energy; false counts
    the chip only (the traffic stays in dram_bytes)."""
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
        widest_m = max(self.precision.weight_bits, fp)
        if self.crossbar is not None:
            return self._crossbar_fits(widest_m)
        widest = widest_m + max(self.precision.act_bits, fp)
        if self.array.rows < widest:
            raise ValueError(
                f"array.rows = {self.array.rows} cannot hold one filter's weight planes plus the activation "
                f"planes (needs >= {widest})"
            )
        return self

    def _crossbar_fits(self, widest_m: int) -> ImceSpec:
        """A crossbar column of one filter's slices (and the signed-weight ones column) must fit, and the
        ADC must resolve a whole column sum."""
        xb = self.crossbar
        assert xb is not None
        need = -(-widest_m // xb.bits_per_cell) + (1 if self.signed_weights else 0)
        if self.array.cols < need:
            raise ValueError(
                f"array.cols = {self.array.cols} cannot hold one filter's weight slices (needs >= {need})"
            )
        levels = self.array.rows * (2**xb.bits_per_cell - 1)
        if 2**xb.adc_bits <= levels:
            raise ValueError(
                f"crossbar.adc_bits = {xb.adc_bits} cannot resolve a column sum of up to {levels} "
                f"(rows x (2^bits_per_cell - 1)); needs >= {levels.bit_length()}"
            )
        return self

    @property
    def multipliers(self) -> int:
        """One-bit product lanes working in parallel: sub-arrays x columns (one AND lane per column) for
        the bit-wise engine; crossbars x rows x columns (one cell per bit-product) for a crossbar."""
        lanes = self.array.cols * (self.array.rows if self.crossbar is not None else 1)
        return self.array.subarrays * lanes


SPECS = (ImceSpec,)
