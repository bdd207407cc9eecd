"""One layer of one network under one sparsity profile and seed: what an accelerator simulates."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from accelsim.errors import ConfigError
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
    batch: int = 1
    """Images of the batch; each has its own activation masks, all share the weights."""
    image: int = 0
    """The first image of the batch (whose masks `masks` and `effectual_macs` give): the batch is the
    images image, image + 1, ..., image + batch - 1 of the profile."""

    def __post_init__(self) -> None:
        for name in ("batch", "image"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (name == "batch"):
                raise ConfigError(
                    f"{name} must be a {'positive' if name == 'batch' else 'non-negative'} integer"
                )

    @property
    def image_ids(self) -> range:
        """The profile's image indices of this batch."""
        return range(self.image, self.image + self.batch)

    def images(self) -> list[LayerWorkload]:
        """One workload per image of the batch (each a batch of one), in order."""
        return [replace(self, batch=1, image=i) for i in self.image_ids] if self.batch > 1 else [self]

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
        """Exact operand masks of `image`, generated deterministically from (network, layer, profile,
        seed, image)."""
        return layer_masks(self.network, self.layer, self.profile, self.seed, self.image)

    def image_masks(self, image: int) -> OperandMasks:
        """The operand masks of image `image` of the profile (one of `image_ids`)."""
        return (
            self.masks
            if image == self.image
            else layer_masks(self.network, self.layer, self.profile, self.seed, image)
        )

    @cached_property
    def batch_effectual_macs(self) -> int:
        """Effectual MACs summed over the images of the batch."""
        if self.batch == 1:
            return self.effectual_macs
        if self.is_dense:
            return self.batch * dense_effectual_macs(self.layer)
        return sum(effectual_macs(self.layer, self.image_masks(i)) for i in self.image_ids)

    def effectual_over(self, images: int) -> int:
        """Effectual MACs of `images` images: the batch's own masks when this workload is that batch;
        a one-image workload on a model configured for more images repeats its masks."""
        if images == self.batch:
            return self.batch_effectual_macs
        if self.batch != 1:
            raise ConfigError(f"a workload of {self.batch} images cannot stand for {images}")
        return images * self.effectual_macs

    @cached_property
    def effectual_macs(self) -> int:
        """MACs whose weight and activation are both non-zero (exact; zero padding is not effectual)."""
        if self.is_dense:
            return dense_effectual_macs(self.layer)
        return effectual_macs(self.layer, self.masks)
