"""Spec of Eyeriss v1: the dense row-stationary (RS) accelerator and its scaled variants."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from accelsim.config.arch.common import CommonSpec
from accelsim.config.yaml_io import StrictModel


class PeArray(StrictModel):
    """The physical PE array: rows x cols PEs, one 1-D row convolution (one MAC per cycle) each."""

    rows: int = Field(gt=0)
    """PE rows; a PE set of R filter rows needs R <= rows (taller filters are split into row chunks)."""
    cols: int = Field(gt=0)
    """PE columns; a strip of e output rows occupies e columns."""


class Spads(StrictModel):
    """Per-PE scratch pads (register files), in words of the operand width."""

    ifmap_words: int = Field(gt=0)
    """Ifmap spad: holds the q x S sliding windows of the q channels a PE convolves (q S <= this)."""
    filter_words: int = Field(gt=0)
    """Filter spad: holds p x q filter rows of S taps (p q S <= this)."""
    psum_words: int = Field(gt=0)
    """Psum spad: one running sum per filter (p <= this)."""


class NocBandwidth(StrictModel):
    """Words per cycle each data type's bus moves between the GLB (or DRAM) and the PE array."""

    ifmap_bits: int = Field(gt=0)
    """Ifmap bus width in bits per cycle (GLB -> array, multicast to every PE reading the word)."""
    filter_bits: int = Field(gt=0)
    """Filter bus width in bits per cycle (-> PE filter spads)."""
    psum_in_bits: int = Field(gt=0)
    """Psum bus GLB -> array, in bits per cycle (earlier partial sums to accumulate on)."""
    psum_out_bits: int = Field(gt=0)
    """Psum bus array -> GLB, in bits per cycle."""


class EyerissV1Spec(CommonSpec):
    """A rows x cols array of single-MAC PEs running the row-stationary dataflow, a shared global
    buffer (GLB) for ifmaps and psums, and DRAM."""

    kind: Literal["eyeriss_v1"]
    tile_keys: ClassVar[tuple[str, ...]] = ("array.rows", "array.cols")
    dataflow: Literal["row_stationary"] = "row_stationary"
    """Only row stationary; the mapping (strip width, p, q, unit order) is searched per layer."""
    array: PeArray
    spads: Spads
    glb_kib: float = Field(gt=0)
    """Global buffer for ifmaps and psums, KiB."""
    noc: NocBandwidth
    weights_via_glb: bool = False
    """False: filters go from DRAM straight to the PE array (not stored in the GLB), so a filter
    block used by several passes is fetched from DRAM for each."""
    zero_gating: bool = True
    """Gate the MAC and skip the filter-spad read when the input activation is zero (energy only)."""
    rlc_dram: bool = True
    """Run-length-code input activations read from DRAM (fewer DRAM bytes and cycles)."""
    rlc_run_bits: int = Field(default=5, gt=0, le=16)
    """Bits of a zero-run field of the run-length code."""
    rlc_pairs_per_word: int = Field(default=3, gt=0)
    """(run, value) pairs per 64-bit DRAM word of the run-length code."""
    batch: int = Field(default=1, gt=0, le=64)
    """Images per batch (N). The images of a batch share each filter load and filter DRAM fetch
    (blocks of n <= N images per pass, searched); rows count the whole batch (`per_image()` divides),
    each image with its own activation masks. A run's `--batch` replaces it."""

    @model_validator(mode="after")
    def _buses_carry_a_word(self) -> EyerissV1Spec:
        p = self.precision
        for key, bits, word in (
            ("noc.ifmap_bits", self.noc.ifmap_bits, p.act_bits),
            ("noc.filter_bits", self.noc.filter_bits, p.weight_bits),
            ("noc.psum_in_bits", self.noc.psum_in_bits, p.psum_bits),
            ("noc.psum_out_bits", self.noc.psum_out_bits, p.psum_bits),
        ):
            if bits < word:
                raise ValueError(f"{key} = {bits} is narrower than one {word}-bit word; allowed: >= {word}")
        return self

    @property
    def multipliers(self) -> int:
        """One MAC per PE."""
        return self.array.rows * self.array.cols


SPECS = (EyerissV1Spec,)
