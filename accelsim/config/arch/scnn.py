"""Specs of SCNN (Parashar et al., ISCA 2017) and its dense baselines DCNN / DCNN-opt.

All three share one planar-tiled array: pe_rows x pe_cols PEs, each an F x I multiplier array fed
input-stationary with Cartesian products ([SCNN17 §III]). SCNN works on compressed operands
(kind `scnn`); DCNN and DCNN-opt run the same array on dense operands (kind `dcnn`, the two differing
only in zero gating and compressed DRAM transfers of activations, [SCNN17]).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from accelsim.config.arch.common import CommonSpec


class PlanarTiledSpec(CommonSpec):
    """The PT-IS-CP array shared by SCNN and its dense baselines."""

    dataflow: str = Field(min_length=1)
    """Name of a registered scnn-family dataflow: pt_is_cp_sparse (SCNN) or pt_is_cp_dense (DCNN)."""
    pe_rows: int = Field(default=8, gt=0)
    """PE rows: output rows are tiled over them (SCNN: 8, [SCNN17])."""
    pe_cols: int = Field(default=8, gt=0)
    """PE columns: output columns are tiled over them (SCNN: 8, [SCNN17])."""
    tile_keys: ClassVar[tuple[str, ...]] = ("pe_rows", "pe_cols")
    f: int = Field(default=4, gt=0)
    """Weights per Cartesian-product vector (multiplier-array rows; SCNN: 4)."""
    i: int = Field(default=4, gt=0)
    """Activations per Cartesian-product vector (multiplier-array columns; SCNN: 4)."""
    accumulator_banks: int = Field(default=32, gt=0)
    """Accumulator banks behind the scatter crossbar (SCNN: A = 2 F I = 32)."""
    bank_entries: int = Field(default=32, gt=0)
    """Entries per accumulator bank; banks x entries partial sums size the output-channel group Kc."""
    iaram_kib: float = Field(default=10.0, gt=0)
    """Input activation RAM per PE (SCNN: 10 KB, [SCNN17]); a layer whose inputs overflow it is
    tiled in time."""
    oaram_kib: float = Field(default=10.0, gt=0)
    """Output activation RAM per PE (SCNN: 10 KB)."""
    weight_fifo_entries: int = Field(default=50, gt=0)
    """Weight FIFO depth per PE (SCNN: 50 entries); costed as a register file."""
    index_bits: int = Field(default=4, ge=1, le=16)
    """Bits of the zero-run index of the compressed format (SCNN: 4, runs of up to 15 zeros)."""
    barrier: Literal["output_group", "input_channel"] = "output_group"
    """PEs wait for each other after every output-channel group (paper) or after every input
    channel of it (DNNsim's stricter model, [DNNSIM20])."""
    halo: Literal["serial", "overlapped"] = "serial"
    """Halo exchange after each output-channel group: added to the group's time (DNNsim), or hidden
    behind the next group's compute by the double-buffered accumulators."""

    @property
    def pes(self) -> int:
        """Number of PEs."""
        return self.pe_rows * self.pe_cols

    @property
    def accumulator_entries(self) -> int:
        """Partial sums one PE's accumulator holds."""
        return self.accumulator_banks * self.bank_entries

    @property
    def multipliers(self) -> int:
        """PEs x F x I."""
        return self.pes * self.f * self.i


class ScnnSpec(PlanarTiledSpec):
    """SCNN: compressed-sparse weights and activations, PT-IS-CP-sparse dataflow."""

    kind: Literal["scnn"]
    bank_hash: Literal["dnnsim", "ideal"] = "dnnsim"
    """Accumulator bank of a product: DNNsim's hash of (k, x, y) ([DNNSIM20]), or `ideal` (no
    bank conflicts, for ablation)."""
    weight_order: Literal["krs", "rsk"] = "rsk"
    """How a group's weights are linearised into F-vectors (and compressed), slowest index first:
    `rsk` (k innermost: F output channels at one tap per vector, as DNNsim's `computeSCNNTile` builds
    its weight queue) or `krs` (s innermost, the dense loop nest `K/Kc -> C -> W -> H -> Kc -> R -> S`
    of the SCNN paper read as the vector order). It decides which products share a step, hence bank
    conflicts: with `krs` on dense data products of one step hit the same accumulator entries."""
    accumulator: Literal["lockstep", "queued", "merging"] = "queued"
    """How the banks take a step's products (each bank adds one product to one entry per cycle):
    `lockstep` (the multiplier array waits until every bank has taken its products: a step lasts as
    long as its busiest bank, DNNsim's reading), `queued` (a FIFO of `queue_depth` products per bank
    behind the scatter crossbar; the array waits only while a product finds its bank's FIFO full, and
    the FIFOs empty after each output-channel group) or `merging` (as lockstep, but products of one
    step bound for the same entry are added before the bank and cost it one access). The default is
    `queued`: docs/assumptions.md SC20 gives the reasons. Irrelevant with `bank_hash: ideal`."""
    queue_depth: int = Field(default=4, ge=1, le=63)
    """Products each bank's FIFO holds besides the one its adder takes (`accumulator: queued` only)."""


class DcnnSpec(PlanarTiledSpec):
    """DCNN / DCNN-opt: the same array and dataflow on dense operands (PT-IS-CP-dense)."""

    kind: Literal["dcnn"]
    zero_gating: bool = False
    """Gate the products with a zero operand (energy only; DCNN-opt)."""
    zero_gating_scope: Literal["macc", "multiplier"] = "macc"
    """What `zero_gating` saves of a product with a zero operand: `macc` its multiply and its
    accumulate (the multiplier, the crossbar transfer and the accumulator read-modify-write, the
    "gate MACC" of the SCNN paper's Table 2), or `multiplier` the multiply only (the zero product is
    still added into its entry). Operand reads are never saved: a dense dataflow reads an operand
    before it can see that it is zero."""
    compress_dram_activations: bool = False
    """Move activations to and from DRAM in SCNN's compressed format (DCNN-opt)."""


SPECS = (ScnnSpec, DcnnSpec)
