"""An immutable CNN layer whose output size and MAC count are derived, never typed in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from accelsim.errors import WorkloadError


class LayerKind(StrEnum):
    """What a layer computes; pooling, residual add and concat layers carry shapes only and cost no MACs."""

    CONV = "conv"
    DEPTHWISE = "depthwise"
    POINTWISE = "pointwise"
    FC = "fc"
    POOL = "pool"
    ADD = "add"
    """Element-wise sum of two or more equal-shaped tensors (a residual connection)."""
    CONCAT = "concat"
    """Channel concatenation of two or more tensors of equal height and width (an Inception merge)."""


NON_COMPUTE = frozenset({LayerKind.POOL, LayerKind.ADD, LayerKind.CONCAT})
"""Kinds no accelerator here maps onto multipliers: in the Network so shapes chain, never simulated."""
MERGE = frozenset({LayerKind.ADD, LayerKind.CONCAT})
"""Kinds that read two or more earlier layers, named in `Layer.inputs`."""


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer: input h x w x c, k output channels, r x s kernel, stride, padding, groups.

    `pad` zeros pad every side; `pad_end` = (rows, cols) adds zeros after the input only (bottom,
    right), for asymmetric schemes such as TF "SAME" at stride 2 or SCALE-Sim v3's partial last
    window. An FC layer is a 1 x 1 conv on a 1 x 1 input whose `c` is the flattened input size.
    A pooling layer has k == c and groups == c.

    `inputs` names the earlier layers whose outputs this layer reads; empty means the previous layer
    (the network input for the first). A branch (e.g. a ResNet shortcut convolution) names its one
    producer; an `add` names the two or more equal-shaped tensors it sums (h x w x c each) and a
    `concat` the tensors it stacks along channels (h x w each, channels summing to c). Both have
    k == c, a 1 x 1 window, stride 1 and cost no MACs.
    """

    name: str
    kind: LayerKind
    h: int
    w: int
    c: int
    k: int
    r: int = 1
    s: int = 1
    stride: int = 1
    pad: int = 0
    groups: int = 1
    pad_end: tuple[int, int] = (0, 0)
    inputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", LayerKind(self.kind))
        where = f"layer {self.name!r}"
        for field in ("h", "w", "c", "k", "r", "s", "stride", "groups"):
            value = getattr(self, field)
            if not isinstance(value, int) or value < 1:
                raise WorkloadError(f"{where}: {field} must be a positive integer, got {value!r}")
        if not isinstance(self.pad, int) or self.pad < 0:
            raise WorkloadError(f"{where}: pad must be a non-negative integer, got {self.pad!r}")
        object.__setattr__(self, "pad_end", tuple(self.pad_end))
        if len(self.pad_end) != 2 or any(not isinstance(p, int) or p < 0 for p in self.pad_end):
            raise WorkloadError(f"{where}: pad_end must be two non-negative integers, got {self.pad_end!r}")
        if self.r > self.padded_h or self.s > self.padded_w:
            raise WorkloadError(
                f"{where}: kernel {self.r}x{self.s} is larger than the padded input "
                f"{self.padded_h}x{self.padded_w}"
            )
        if self.c % self.groups or self.k % self.groups:
            raise WorkloadError(
                f"{where}: channels c={self.c} and k={self.k} must both be divisible by groups={self.groups}"
            )
        if self.kind is LayerKind.DEPTHWISE and not (self.groups == self.c == self.k):
            raise WorkloadError(f"{where}: a depthwise layer needs groups == c == k")
        if self.kind is LayerKind.POINTWISE and (self.r, self.s) != (1, 1):
            raise WorkloadError(f"{where}: a pointwise layer needs a 1x1 kernel")
        if self.kind is LayerKind.FC and (self.h, self.w, self.r, self.s) != (1, 1, 1, 1):
            raise WorkloadError(f"{where}: an fc layer needs h = w = r = s = 1 (flatten into c)")
        if self.kind is LayerKind.POOL and self.k != self.c:
            raise WorkloadError(f"{where}: a pooling layer keeps its channels (k == c)")
        object.__setattr__(self, "inputs", tuple(self.inputs))
        if any(not isinstance(name, str) or not name for name in self.inputs):
            raise WorkloadError(f"{where}: inputs must be layer names, got {self.inputs!r}")
        if self.kind in MERGE:
            self._check_merge(where)
        elif len(self.inputs) > 1:
            raise WorkloadError(
                f"{where}: a {self.kind} layer reads one tensor, got inputs {list(self.inputs)}; "
                "only add and concat layers read several"
            )

    def _check_merge(self, where: str) -> None:
        if len(self.inputs) < 2:
            raise WorkloadError(
                f"{where}: an {self.kind} layer needs at least two inputs (earlier layer names)"
            )
        if self.k != self.c or (self.r, self.s, self.stride, self.pad, self.pad_end) != (1, 1, 1, 0, (0, 0)):
            raise WorkloadError(
                f"{where}: an {self.kind} layer keeps its shape: k == c, r = s = 1, stride 1, no padding"
            )

    @property
    def padded_h(self) -> int:
        """Input rows including padding."""
        return self.h + 2 * self.pad + self.pad_end[0]

    @property
    def padded_w(self) -> int:
        """Input columns including padding."""
        return self.w + 2 * self.pad + self.pad_end[1]

    @property
    def out_h(self) -> int:
        """Output rows: floor((padded h - r) / stride) + 1."""
        return (self.padded_h - self.r) // self.stride + 1

    @property
    def out_w(self) -> int:
        """Output columns: floor((padded w - s) / stride) + 1."""
        return (self.padded_w - self.s) // self.stride + 1

    @property
    def c_per_group(self) -> int:
        """Input channels each filter reads."""
        return self.c // self.groups

    @property
    def k_per_group(self) -> int:
        """Filters in each group."""
        return self.k // self.groups

    @property
    def is_compute(self) -> bool:
        """False for pooling, add and concat layers, which no accelerator here maps onto multipliers."""
        return self.kind not in NON_COMPUTE

    @property
    def macs(self) -> int:
        """Multiply-accumulates, counting padded positions: out_h out_w k r s (c / groups)."""
        if not self.is_compute:
            return 0
        return self.out_h * self.out_w * self.k * self.r * self.s * self.c_per_group

    @property
    def weights(self) -> int:
        """Weight count (no biases)."""
        return self.k * self.r * self.s * self.c_per_group if self.is_compute else 0

    @property
    def input_elems(self) -> int:
        """Input activations (unpadded)."""
        return self.h * self.w * self.c

    @property
    def output_elems(self) -> int:
        """Output activations."""
        return self.out_h * self.out_w * self.k
