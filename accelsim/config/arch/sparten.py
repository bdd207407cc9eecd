"""Spec of SparTen (Gondimalla et al., MICRO 2019) and of its dense and one-sided baselines."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from accelsim.config.arch.common import CommonSpec
from accelsim.config.yaml_io import StrictModel


class SpartenMemory(StrictModel):
    """On-chip storage: the shared buffer and each compute unit's local buffers (sizes set their energy)."""

    global_buffer_kib: float = Field(gt=0)
    """Shared buffer holding the layer's input map, output map and filters (SparseMaps + non-zeros)."""
    cu_filter_buffer_kib: float = Field(gt=0)
    """Each CU's local buffer for the filter it holds."""
    cu_input_buffer_kib: float = Field(gt=0)
    """Each CU's buffer for the broadcast input chunks."""


class SpartenSpec(CommonSpec):
    """Clusters of single-MAC compute units joining bitmask (SparseMap) chunks; modes give the baselines."""

    kind: Literal["sparten"]
    mode: Literal["two_sided", "one_sided", "dense"] = "two_sided"
    """two_sided: SparTen (inner join of both SparseMaps); one_sided: skip zero activations only;
    dense: every position multiplied (the same clusters without sparsity support)."""
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
    input_buffer_chunks: int = Field(default=1, ge=1, le=64)
    """Broadcast input chunks a CU can hold, the one it is joining included. 1: the next chunk is
    broadcast only when every CU of the cluster is done with the current one (a barrier per chunk);
    b > 1: a CU may run up to b - 1 chunks ahead of the cluster's slowest CU."""
    memory: SpartenMemory

    @model_validator(mode="after")
    def _balancing_needs_two_sided(self) -> SpartenSpec:
        if self.balancing != "none" and self.mode != "two_sided":
            raise ValueError(
                f"balancing: {self.balancing!r} needs mode: two_sided (got mode: {self.mode!r}); greedy "
                "balancing sorts filters by density, which changes nothing when the work of every CU is "
                "set by the input alone; allowed with this mode: balancing: none"
            )
        return self

    @property
    def multipliers(self) -> int:
        """clusters x CUs per cluster."""
        return self.clusters * self.cus_per_cluster


SPECS = (SpartenSpec,)
