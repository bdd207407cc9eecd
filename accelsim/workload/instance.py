"""One layer of one network under one sparsity profile and seed: what an accelerator simulates."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from accelsim.workload.layer import Layer
from accelsim.workload.masks import OperandMasks, dense_effectual_macs, effectual_macs, layer_masks
from accelsim.workload.sparsity import LayerDensity, SparsityProfile


@dataclass(frozen=True)
class LayerWorkload:
    """A layer with its densities; masks are generated only when a model asks for them.

    `network_layers` are the compute layers of the whole network the layer belongs to (the ones the
    accelerator runs), for a model whose cost of one layer depends on the others (IMCE: whether every
    layer's weights fit in the arrays at once); empty means the layer is simulated on its own.
    """

    network: str
    layer: Layer
    profile: SparsityProfile
    seed: int
    network_layers: tuple[Layer, ...] = ()

    @property
    def density(self) -> LayerDensity:
        """Weight and input-activation density of this layer under the profile."""
        return self.profile.density(self.layer.name)

    @property
    def is_dense(self) -> bool:
        """True when both operands are dense (no masks needed)."""
        return self.density.is_dense

    @cached_property
    def masks(self) -> OperandMasks:
        """Exact operand masks, generated deterministically from (network, layer, profile, seed)."""
        return layer_masks(self.network, self.layer, self.profile, self.seed)

    @cached_property
    def effectual_macs(self) -> int:
        """MACs whose weight and activation are both non-zero (exact; zero padding is not effectual)."""
        if self.is_dense:
            return dense_effectual_macs(self.layer)
        return effectual_macs(self.layer, self.masks)
