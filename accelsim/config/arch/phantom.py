"""Spec of Phantom-2D: a 2D mesh of multi-threaded sparse Phantom cores (REFERENCE §5)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from accelsim.config.arch.common import CommonSpec
from accelsim.config.yaml_io import StrictModel


class PhantomCore(StrictModel):
    """One Phantom core: P PEs of T multiplier threads, the look-ahead mask unit and the scheduler."""

    pes: int = Field(gt=0, le=64)
    """P: PEs per core; each takes reduction rows (input channel x kernel row) round robin (§5.5)."""
    threads: int = Field(gt=0, le=62)
    """T: multiplier threads per PE (the worked example has 3, Sparse-PE-27 has 27 per core)."""
    window: int | None = Field(default=8, gt=0)
    """W: look-ahead window in pending work groups per PE; null = unbounded; 1 = in order (§5.13 #2)."""
    atomic_groups: bool = True
    """A work group is issued in one cycle or not at all (§5.6); false = the `split` ablation."""
    prefetch_next_tile: bool = True
    """Level-1b balancing: a PE that drains early starts its next strip, one step ahead at most."""
    strip_rows: int | None = Field(default=None, gt=0)
    """Output rows per strip (the LAM's look-ahead horizon); null = the whole output column."""
    l1_adder_cycles: int = Field(default=1, ge=0)
    """L1 adder latency (§5.8 [assumption])."""
    l2_stage_cycles: int = Field(default=1, ge=0)
    """Latency of each of the two L2 accumulation stages (§5.8 [assumption])."""


class PhantomMesh(StrictModel):
    """The R x C mesh: inputs broadcast along rows, filter sets along columns."""

    rows: int = Field(gt=0)
    cols: int = Field(gt=0)
    balance: Literal["round_robin", "lpt", "dynamic"] = "lpt"
    """Level-2 (inter-core) balancing: static round robin (off), static LPT by exact valid-product
    count, or a dynamic shared work queue."""


class PhantomBuffers(StrictModel):
    """On-chip storage in KiB: the shared global buffer and each core's local buffer (masks + data)."""

    global_kib: float = Field(gt=0)
    core_kib: float = Field(gt=0)


class Phantom2DSpec(CommonSpec):
    """Phantom-2D: R x C Phantom cores of P x T threads with two-level load balancing."""

    kind: Literal["phantom2d"]
    dataflow: str = "phantom"
    """Name of a registered phantom2d dataflow."""
    mesh: PhantomMesh
    core: PhantomCore
    buffers: PhantomBuffers

    @property
    def multipliers(self) -> int:
        """Mesh rows x cols cores of P PEs x T threads."""
        return self.mesh.rows * self.mesh.cols * self.core.pes * self.core.threads


SPECS = (Phantom2DSpec,)
