"""Specs of the workload files: networks (layer shapes) and sparsity profiles."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from accelsim.config.yaml_io import StrictModel


class LayerSpec(StrictModel):
    """One layer as written in a network file; output size and MACs are derived, not given."""

    name: str
    kind: Literal["conv", "depthwise", "pointwise", "fc", "pool", "add", "concat"]
    h: int = Field(gt=0)
    w: int = Field(gt=0)
    c: int = Field(gt=0)
    k: int | None = Field(default=None, gt=0)
    """Output channels; defaults to c for depthwise, pool, add and concat layers."""
    r: int = Field(default=1, gt=0)
    s: int | None = Field(default=None, gt=0)
    """Kernel width; defaults to r (square kernels)."""
    stride: int = Field(default=1, gt=0)
    pad: int = Field(default=0, ge=0)
    pad_end: tuple[int, int] = (0, 0)
    """Extra zero rows and columns after the input only (asymmetric padding, e.g. TF "SAME" at stride 2)."""
    groups: int | None = Field(default=None, gt=0)
    """Defaults to c for depthwise, pool, add and concat layers, else 1."""
    inputs: list[str] = Field(default_factory=list)
    """Earlier layers this one reads (empty: the previous layer); an add or concat names two or more."""

    @model_validator(mode="after")
    def _k_given(self) -> LayerSpec:
        if self.k is None and self.kind not in ("depthwise", "pool", "add", "concat"):
            raise ValueError(f"layer {self.name!r}: k (output channels) is required for a {self.kind} layer")
        return self


class NetworkSpec(StrictModel):
    """A network file: its name, where the shapes come from, and its layers in order."""

    name: str
    source: str = Field(min_length=1)
    """Citation for the layer shapes."""
    description: str = ""
    layers: list[LayerSpec] = Field(min_length=1)


class UniformPattern(StrictModel):
    """Exactly round(density * n) non-zeros at uniformly random positions."""

    pattern: Literal["uniform"] = "uniform"


class ClusteredPattern(StrictModel):
    """Row-wise two-state Markov chain per channel; p11 = P(next non-zero | this non-zero)."""

    pattern: Literal["clustered"]
    p11: float = Field(gt=0, lt=1)


class ChannelPattern(StrictModel):
    """Whole channels (activations) or whole filters (weights) zero, the rest uniform."""

    pattern: Literal["channel"]
    dead_fraction: float = Field(ge=0, lt=1)


class RealPattern(StrictModel):
    """Masks loaded from an .npz file with arrays '<layer>.weights' and '<layer>.activations'."""

    pattern: Literal["real"]
    file: str


PatternSpec = Annotated[
    UniformPattern | ClusteredPattern | ChannelPattern | RealPattern, Field(discriminator="pattern")
]


class LayerDensitySpec(StrictModel):
    """Density (fraction of non-zeros) of one layer's weights and input activations."""

    weights: float = Field(default=1.0, gt=0, le=1)
    activations: float = Field(default=1.0, gt=0, le=1)
    weight_pattern: PatternSpec | None = None
    activation_pattern: PatternSpec | None = None


class ProfileSpec(StrictModel):
    """A sparsity profile file: per-layer densities and the mask pattern model."""

    id: str
    network: str
    source: str = Field(min_length=1)
    """Where the densities come from."""
    description: str = ""
    weight_pattern: PatternSpec = UniformPattern()
    activation_pattern: PatternSpec = UniformPattern()
    layers: dict[str, LayerDensitySpec] = Field(default_factory=dict)
    """Layers not listed are dense."""
