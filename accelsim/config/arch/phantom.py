"""Spec of Phantom-2D: a 2D mesh of multi-threaded sparse Phantom cores ([PHANTOM21])."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from accelsim.config.arch.common import CommonSpec
from accelsim.config.yaml_io import StrictModel


class PhantomCore(StrictModel):
    """One Phantom core: P PEs of T multiplier threads, the look-ahead mask unit and the scheduler."""

    pes: int = Field(gt=0, le=64)
    """P: PEs per core; reduction rows (input channel x kernel row) reach them P per step ([MUNIR23])."""
    threads: int = Field(gt=0, le=62)
    """T: multiplier threads per PE (the worked example has 3, Sparse-PE-27 has 27 per core)."""
    window: int | None = Field(default=8, gt=0)
    """W: look-ahead window in pending work groups per PE; null = unbounded; 1 = in order ([PHANTOM21])."""
    atomic_groups: bool = True
    """A work group is issued in one cycle or not at all ([MUNIR23]); false = the `split` ablation."""
    dispatch: Literal["fixed", "compact", "dynamic"] = "compact"
    """How a core item's reduction rows reach its PEs, P per step: `fixed` deals every row (an all-zero
    weight row keeps its PE's slot); `compact` drops all-zero weight rows when the weights are loaded
    and deals the rest; `dynamic` drops them too and gives each strip to the PE that frees first."""
    run_ahead_steps: int | None = Field(default=0, ge=0)
    """Steps a PE may run ahead of the slowest PE of its core: the output buffer holds the tags of
    run_ahead_steps + 1 steps. 0 = every PE waits for the slowest at each step; null = unbounded (only
    the core item's end is a barrier). Replaces `prefetch_next_tile` (true = 1, false = 0)."""
    strip_rows: int | None = Field(default=None, gt=0)
    """Output rows per strip (the LAM's look-ahead horizon); null = the whole output column."""
    neuron_walk: Literal["none", "fc", "fc_pointwise"] = "fc"
    """Which 1 x 1 layers walk output neurons in a strip (the activation chunk held, each group one
    neuron's weights against it) instead of output pixels (the weight chunk held): `none`, FC layers
    only (`fc`), or FC and pointwise layers (`fc_pointwise`). An FC pixel strip holds one output."""
    l1_adder_cycles: int = Field(default=1, ge=0)
    """L1 adder latency ([MUNIR23] [assumption])."""
    l2_stage_cycles: int = Field(default=1, ge=0)
    """Latency of each of the two L2 accumulation stages ([MUNIR23] [assumption])."""

    @model_validator(mode="before")
    @classmethod
    def _prefetch_key_replaced(cls, data: Any) -> Any:
        """The old key is one message naming its replacement, not a bare "unknown key"."""
        if isinstance(data, dict) and "prefetch_next_tile" in data:
            raise ValidationError.from_exception_data(
                cls.__name__,
                [
                    InitErrorDetails(
                        type=_REPLACED, loc=("prefetch_next_tile",), input=data["prefetch_next_tile"]
                    )
                ],
            )
        return data


_REPLACED = PydanticCustomError(
    "key_replaced",
    "replaced by core.run_ahead_steps, the steps a PE may run ahead of the slowest PE "
    "(prefetch_next_tile: true is run_ahead_steps: 1, false is 0)",
)


class PhantomMesh(StrictModel):
    """The R x C mesh: inputs broadcast along rows, filter sets along columns."""

    rows: int = Field(gt=0)
    cols: int = Field(gt=0)
    balance: Literal["round_robin", "lpt", "dynamic"] = "lpt"
    """Level-2 (inter-core) balancing: static round robin (off), static LPT by exact valid-product
    count, or a dynamic shared work queue."""
    split: Literal["fixed", "search"] = "search"
    """How a layer's cores divide into input sets x filter sets and how long its strips are: `fixed`
    (one input set per mesh row, strips as `core.strip_rows`) or `search` (per layer, the split and
    strip halving with the smallest makespan, evaluated exactly)."""


class PhantomBuffers(StrictModel):
    """On-chip storage in KiB: the shared global buffer and each core's local buffer (masks + data)."""

    global_kib: float = Field(gt=0)
    core_kib: float = Field(gt=0)


class Phantom2DSpec(CommonSpec):
    """Phantom-2D: R x C Phantom cores of P x T threads with two-level load balancing."""

    kind: Literal["phantom2d"]
    tile_keys: ClassVar[tuple[str, ...]] = ("mesh.rows", "mesh.cols")
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
