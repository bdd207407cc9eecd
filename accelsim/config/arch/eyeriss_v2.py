"""Spec of Eyeriss v2: clusters of sparse PEs on a hierarchical mesh NoC ([EYERISSV2-19])."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from accelsim.config.arch.common import CommonSpec
from accelsim.config.yaml_io import StrictModel


class EyerissV2Pe(StrictModel):
    """The sparse PE: SPad sizes, SIMD width and the pipeline behaviour ([EYERISSV2-19 §II-§IV])."""

    simd: int = Field(default=2, ge=1, le=8)
    """MACs per PE per cycle: two weights are read per iact (paper §IV-B)."""
    iact_spad_entries: int = Field(default=16, gt=0)
    """Iact data SPad: 16 x 12 b (largest iact window 16)."""
    weight_spad_entries: int = Field(default=192, gt=0)
    """Weight data SPad: 96 x 24 b = 192 8-bit weights (non-zero count, sparsity-aware mapping)."""
    psum_spad_entries: int = Field(default=32, gt=0)
    """Psum SPad: 32 x 20 b (M0 <= 32)."""
    pipeline_depth: int = Field(default=7, ge=0)
    """Pipeline stages (paper §IV-A); paid once per PE and layer as fill cycles."""
    empty_column_cycles: int = Field(default=0, ge=0)
    """Bubble cycles of a non-zero iact with an empty weight column (paper: "may not necessarily" stall)."""
    compress_below: float = Field(default=1.0, gt=0, le=1)
    """An operand is sent in CSC when its density is below this; else uncompressed (paper §IV-A)."""
    sparse: bool = True
    """False: a dense PE (Eyeriss v1 / v1.5, paper §V-A): operands always raw, no address SPads, every
    MAC position costs a cycle; zeros are only gated (energy), never skipped."""
    double_buffered: bool = False
    """True: a second weight SPad, so a tile's weights load while the previous tile computes. False
    (the paper's SPads hold one tile: 192 weights, one iact window, M0 psums): a tile's weights load
    after the previous tile is done (docs/assumptions.md E2-18). Only with `noc.timing: played`."""


class EyerissV2Mapping(StrictModel):
    """Per-PE tile of the row-stationary-plus mapping ([EYERISSV2-19 §II-§IV]; [SPARSELOOP22] mappings)."""

    c0: int = Field(default=8, gt=0)
    """Input channels per PE tile (the iact window of a 1x1 layer)."""
    m0: int = Field(default=16, gt=0)
    """Output channels per PE tile (psums held in the psum SPad)."""
    items_per_pe: int = Field(default=4, gt=0)
    """Output positions are cut into blocks so that each PE gets about this many work items."""
    assignment: Literal["clusters", "round_robin"] = "clusters"
    """How tiles go to PEs: "clusters" (a weight tile to a row of PEs sharing its weight multicast,
    the row's PEs splitting its output positions, neighbouring rows of a cluster sharing iacts) or
    "round_robin" (tile i on PE i mod PEs, clusters ignored). docs/assumptions.md E2-6."""


class EyerissV2Noc(StrictModel):
    """Hierarchical mesh NoC: routers per cluster and their port widths (paper §II, §III-C)."""

    iact_routers: int = Field(default=3, gt=0)
    weight_routers: int = Field(default=3, gt=0)
    psum_routers: int = Field(default=4, gt=0)
    data_port_bits: int = Field(default=24, ge=12)
    """Iact / weight port width: three 8-bit raw values or two 12-bit CSC words per cycle (at least one
    CSC word: the model divides by the words per cycle)."""
    psum_port_bits: int = Field(default=40, ge=20)
    """Psum port width: two 20-bit psums per cycle (at least one psum)."""
    timing: Literal["played", "bound", "free"] = "played"
    """How the NoC and DRAM time the layer: "played" (per-tile weight loads, iact / psum streams and
    output write-backs over per-cluster network channels and the DRAM channel, through the engine),
    "bound" (the closed-form lower bound max(PE makespan, slowest cluster's NoC time, DRAM bytes /
    bandwidth)) or "free" (transfers take no time: the PEs alone, as the single-PE ground truth is
    counted). docs/assumptions.md E2-7."""


class EyerissV2Memory(StrictModel):
    """Global buffer of each GLB cluster (paper §II)."""

    glb_kib_per_cluster: float = Field(default=12.0, gt=0)
    """12 KB per GLB cluster: iacts in 3 banks of 1.5 kB, psums in 4 banks of 1.875 kB."""


class EyerissV2Spec(CommonSpec):
    """Eyeriss v2: clusters x PEs sparse PEs with SIMD MACs, CSC operands and the HM-NoC."""

    kind: Literal["eyeriss_v2"]
    tile_keys: ClassVar[tuple[str, ...]] = ("clusters",)
    dataflow: str = "rs_plus"
    """Name of a registered eyeriss_v2 dataflow (row-stationary plus)."""
    clusters: int = Field(gt=0)
    """PE clusters (16 in an 8 x 2 array)."""
    pes_per_cluster: int = Field(gt=0)
    """PEs per cluster (12 = 3 x 4)."""
    pe: EyerissV2Pe = EyerissV2Pe()
    mapping: EyerissV2Mapping = EyerissV2Mapping()
    noc: EyerissV2Noc = EyerissV2Noc()
    memory: EyerissV2Memory = EyerissV2Memory()

    @model_validator(mode="after")
    def _tile_fits(self) -> EyerissV2Spec:
        if self.mapping.m0 > self.pe.psum_spad_entries:
            raise ValueError(
                f"mapping.m0 = {self.mapping.m0} exceeds pe.psum_spad_entries = {self.pe.psum_spad_entries}; "
                "allowed: m0 <= psum_spad_entries (one psum per output channel of the tile)"
            )
        if self.mapping.c0 > self.pe.iact_spad_entries:
            raise ValueError(
                f"mapping.c0 = {self.mapping.c0} exceeds pe.iact_spad_entries = {self.pe.iact_spad_entries}; "
                "allowed: c0 <= iact_spad_entries"
            )
        return self

    @property
    def multipliers(self) -> int:
        """clusters x PEs per cluster x SIMD width."""
        return self.clusters * self.pes_per_cluster * self.pe.simd


SPECS = (EyerissV2Spec,)
