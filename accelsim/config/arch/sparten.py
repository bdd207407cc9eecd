"""Spec of SparTen (Gondimalla et al., MICRO 2019) and of its dense and one-sided baselines."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from accelsim.config.arch.common import CommonSpec
from accelsim.config.yaml_io import StrictModel

WEIGHTS_SPARSE_MODES = ("two_sided", "one_sided_weights")
"""Modes that store filters as SparseMap + non-zeros and skip zero weights: a CU's work depends on its
filter, so filters of unequal density unbalance a pass."""
ACTIVATIONS_SPARSE_MODES = ("two_sided", "one_sided_activations")
"""Modes that store input and output maps as SparseMap + non-zeros and skip zero activations."""


class SpartenMemory(StrictModel):
    """On-chip storage: the shared buffer and each compute unit's local filter buffer (sizes set their
    energy). Each CU's input buffer is sized from `input_buffer_depth` and the network (see there)."""

    global_buffer_kib: float = Field(gt=0)
    """Shared buffer holding the layer's input map, output map and filters (SparseMaps + non-zeros)."""
    cu_filter_buffer_kib: float = Field(gt=0)
    """Each CU's local buffer for the filter it holds."""


class SpartenSpec(CommonSpec):
    """Clusters of single-MAC compute units joining bitmask (SparseMap) chunks; modes give the baselines."""

    kind: Literal["sparten"]
    tile_keys: ClassVar[tuple[str, ...]] = ("clusters",)
    mode: Literal["two_sided", "one_sided_weights", "one_sided_activations", "dense"] = "two_sided"
    """two_sided: SparTen (inner join of both SparseMaps); one_sided_weights: zero weights skipped,
    activations dense (Cambricon-X-like); one_sided_activations: zero activations skipped, weights dense
    (Cnvlutin-like); dense: every position multiplied (the same clusters without sparsity support)."""
    clusters: int = Field(gt=0)
    """Clusters; each computes its own block of output positions."""
    cus_per_cluster: int = Field(gt=0)
    """Compute units per cluster, one multiplier each; they share the broadcast input chunks."""
    chunk_bits: int = Field(default=128, gt=0, le=4096)
    """SparseMap chunk size n: positions per chunk (the channels of one pixel are cut into chunks)."""
    balancing: Literal["none", "gb_s", "gb_h"] = "none"
    """Greedy balancing: none, gb_s (whole-filter density) or gb_h (chunk density, hardware-assisted)."""
    min_chunk_cycles: int = Field(default=1, ge=0)
    """Cycles a CU spends on a chunk with fewer matches than this (default 1: a chunk with none still
    costs a cycle; 0: an idealised join that skips chunks without matches at no cost)."""
    join_latency_cycles: int = Field(default=3, ge=0)
    """Pipeline fill of the inner join (AND, priority encoder, prefix popcount) before a pass's first MAC."""
    barrier: Literal["window", "chunk"] = "window"
    """Where the CUs of a cluster synchronise with the broadcast. window: a CU joins the chunks of an
    input window at its own pace and the cluster moves to the next window together; chunk: the step is
    one SparseMap chunk (every CU is done with it before the next goes out, at depth 1)."""
    input_buffer_depth: int = Field(default=1, ge=1, le=64)
    """Steps (windows or chunks, by `barrier`) each CU's input buffer holds, the one it works on
    included: step n is broadcast once every CU of the cluster is done with step n - depth, so a CU runs
    up to depth - 1 steps ahead of the slowest. The buffer is sized to hold that many steps of the
    largest layer of the network (SparseMaps and dense values, the worst case)."""
    memory: SpartenMemory

    @model_validator(mode="after")
    def _balancing_needs_weight_sensitive_work(self) -> SpartenSpec:
        if self.balancing != "none" and self.mode not in WEIGHTS_SPARSE_MODES:
            raise ValueError(
                f"balancing: {self.balancing!r} needs a mode whose work depends on the weights "
                f"({' or '.join(WEIGHTS_SPARSE_MODES)}; got mode: {self.mode!r}); greedy balancing sorts "
                "filters by density, which changes nothing when the work of every CU is set by the input "
                "alone; allowed with this mode: balancing: none"
            )
        return self

    @property
    def multipliers(self) -> int:
        """clusters x CUs per cluster."""
        return self.clusters * self.cus_per_cluster


SPECS = (SpartenSpec,)
