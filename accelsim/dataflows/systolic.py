"""The OS, WS and IS dataflows of a rows x cols systolic array (SCALE-Sim v3 semantics).

A layer is one GEMM per group: M output pixels, Kd = r s c/groups reduction, N = k/groups filters.
Each dataflow puts two of (M, Kd, N) on the array's rows and columns and streams the third in time:

| dataflow | array rows | array cols | streamed (T) |
|---|---|---|---|
| os | M | N | Kd |
| ws | Kd | N | M |
| is | Kd | M | N |

Groups run one after another. A fold is one rows x cols tile; folds of a group run back to back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.dataflows.registry import Dataflow, register_dataflow
from accelsim.kernels.systolic import IS, OS, WS, fold_stats
from accelsim.workload.layer import Layer
from accelsim.workload.masks import OperandMasks


@dataclass(frozen=True, slots=True)
class ArrayGeometry:
    """Size of the MAC array."""

    rows: int
    cols: int


@dataclass(frozen=True, slots=True)
class SystolicMapping:
    """How one layer maps onto the array: GEMM extents, folds and SCALE-Sim's per-fold metrics."""

    dataflow: str
    pes: int
    """PEs of the array."""
    sr: int
    sc: int
    t: int
    groups: int
    row_folds: int
    col_folds: int
    fold_cycles: int
    """Cycles of every fold (independent of how full it is)."""
    mapping_efficiency: float
    """Mean over folds of the fraction of PEs holding a mapped operand (SCALE-Sim's definition)."""
    compute_utilization: float
    """Mean over folds of SCALE-Sim's per-fold compute utilisation."""
    mac_slots: int
    """MACs the array performs (= dense MACs: no zero skipping)."""
    ifmap_reads: int
    """Input words read from the ifmap SRAM into the array (im2col stream, all folds and groups)."""
    filter_reads: int
    """Weight words read from the filter SRAM into the array."""
    ofmap_writes: int
    """Output / partial-sum words written to the ofmap SRAM (once per fold along the reduction)."""
    outputs: int
    """Distinct output words of the layer (M x N x groups)."""

    @property
    def folds(self) -> int:
        """Folds of the whole layer (all groups)."""
        return self.row_folds * self.col_folds * self.groups

    @property
    def array_slots(self) -> int:
        """PE-cycles of every fold's streaming phase (t cycles per fold), used by a mapped operand or not."""
        return self.folds * self.t * self.pes

    @property
    def stream_cycles(self) -> int:
        """Cycles of all folds back to back."""
        return self.fold_cycles * self.folds

    def describe(self) -> str:
        """One line for the results table: what is unrolled where and how many folds."""
        rows_of, cols_of, time_of = _ROLES[self.dataflow]
        g = f"; {self.groups} groups in sequence" if self.groups > 1 else ""
        return (
            f"{self.dataflow}: {rows_of}={self.sr} on rows x{self.row_folds} folds, "
            f"{cols_of}={self.sc} on cols x{self.col_folds} folds, {time_of}={self.t} streamed{g}"
        )


_ROLES = {"os": ("M", "N", "Kd"), "ws": ("Kd", "N", "M"), "is": ("Kd", "M", "N")}


class SystolicDataflow(Dataflow[ArrayGeometry, SystolicMapping]):
    """One of OS / WS / IS: which GEMM extent sits on rows, on columns, and in time."""

    family = "systolic"

    def __init__(self, name: str, code: int) -> None:
        self.name = name
        self.code = code

    def extents(self, layer: Layer) -> tuple[int, int, int]:
        """(rows extent, cols extent, streamed extent) of one group's GEMM."""
        m = layer.out_h * layer.out_w
        kd = layer.r * layer.s * layer.c_per_group
        n = layer.k_per_group
        return {"os": (m, n, kd), "ws": (kd, n, m), "is": (kd, m, n)}[self.name]

    def map(self, layer: Layer, geom: ArrayGeometry, masks: OperandMasks | None = None) -> SystolicMapping:
        """Fold the layer onto the array and compute the per-fold metrics with the kernel (a dense
        array: the masks do not change the mapping)."""
        sr, sc, t = self.extents(layer)
        stats = fold_stats(self.code, geom.rows, geom.cols, sr, sc, t)
        folds = int(stats[1])
        row_folds, col_folds = math.ceil(sr / geom.rows), math.ceil(sc / geom.cols)
        m = layer.out_h * layer.out_w
        kd = layer.r * layer.s * layer.c_per_group
        n = layer.k_per_group
        # The stationary operand is read once; a streamed one once per fold of the other spatial
        # extent; outputs are written once per fold of the reduction extent (SCALE-Sim's counters).
        ifmap, filt, ofmap = {
            "os": (col_folds * m * kd, row_folds * kd * n, m * n),
            "ws": (col_folds * m * kd, kd * n, row_folds * m * n),
            "is": (kd * m, col_folds * kd * n, row_folds * m * n),
        }[self.name]
        g = layer.groups
        return SystolicMapping(
            dataflow=self.name,
            pes=geom.rows * geom.cols,
            sr=sr,
            sc=sc,
            t=t,
            groups=layer.groups,
            row_folds=row_folds,
            col_folds=col_folds,
            fold_cycles=int(stats[0]) // folds,
            mapping_efficiency=float(stats[2]) / folds,
            compute_utilization=float(stats[3]) / folds,
            mac_slots=int(stats[4]) * g,
            ifmap_reads=ifmap * g,
            filter_reads=filt * g,
            ofmap_writes=ofmap * g,
            outputs=m * n * g,
        )


OUTPUT_STATIONARY = register_dataflow("systolic", "os")(SystolicDataflow("os", OS))
WEIGHT_STATIONARY = register_dataflow("systolic", "ws")(SystolicDataflow("ws", WS))
INPUT_STATIONARY = register_dataflow("systolic", "is")(SystolicDataflow("is", IS))
