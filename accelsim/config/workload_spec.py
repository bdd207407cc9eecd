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


class SpreadPattern(StrictModel):
    """Densities spread over groups (filters or channels): each group's density drawn around the layer's.

    Group densities follow a Beta distribution with the layer density as mean and a coefficient of
    variation given as `cv`, or as `relative_cv`, a share of the largest possible one
    (cv = relative_cv * sqrt((1 - d) / d) at density d); a `dead_fraction` of the groups is empty first
    (whole-filter or whole-channel pruning). The overall count is exact, round(density * size).
    """

    pattern: Literal["spread"]
    axis: Literal["filters", "channels"] = "filters"
    """Weights: 'filters' (output channels) or 'channels' (input channels); activations: 'channels'."""
    cv: float | None = Field(default=None, ge=0)
    """Coefficient of variation (std / mean) of the group densities; neither given: equal densities."""
    relative_cv: float | None = Field(default=None, ge=0, lt=1)
    """The coefficient of variation as a share of the largest a density distribution on [0, 1] can have."""
    dead_fraction: float = Field(default=0.0, ge=0, lt=1)
    """Share of the groups that are all zero (rounded to a whole number of groups)."""

    @model_validator(mode="after")
    def _one_spread(self) -> SpreadPattern:
        if self.cv is not None and self.relative_cv is not None:
            raise ValueError("give cv or relative_cv, not both")
        return self


class CorrelatedPattern(StrictModel):
    """Activations from a thresholded 2-D Gaussian field per channel: zeros come in spatial clusters.

    The latent field has correlation exp(-|dy| / length) exp(-|dx| / length) (separable, lengths in
    pixels); the non-zeros are the round(density * size) largest values, over the whole tensor, or per
    channel when a channel spread is given (channel densities drawn as in the spread pattern).
    """

    pattern: Literal["correlated"]
    length: float = Field(gt=0)
    """Correlation length of the latent field, in pixels."""
    channel_cv: float | None = Field(default=None, ge=0)
    """Coefficient of variation of the channel densities; no spread given: as the global threshold gives."""
    channel_relative_cv: float | None = Field(default=None, ge=0, lt=1)
    """The channel spread as a share of the largest possible coefficient of variation (see spread)."""

    @model_validator(mode="after")
    def _one_spread(self) -> CorrelatedPattern:
        if self.channel_cv is not None and self.channel_relative_cv is not None:
            raise ValueError("give channel_cv or channel_relative_cv, not both")
        return self


class KernelPattern(StrictModel):
    """Pre-defined sparse kernels (pSConv): every r x s weight kernel keeps a fixed set of its taps.

    `taps` lists the tap masks to choose from (rows of 0 / 1), or names a set: 'corners' is pSConv's
    four 2 x 2 squares of a 3 x 3 kernel (4 of 9 taps). `assign` picks a mask per kernel: 'fixed' the
    first everywhere, 'per_filter' filter f's kernels all take mask f mod n, 'rotating' the kernel of
    filter f and input channel c takes mask (f + c) mod n, as pSConv does. No random draw: the weight
    density is the share of kept taps and must be written as such (e.g. 0.4444 for 4 of 9).
    """

    pattern: Literal["kernel"]
    taps: Literal["corners"] | list[list[list[Literal[0, 1]]]] = "corners"
    assign: Literal["fixed", "per_filter", "rotating"] = "rotating"

    @model_validator(mode="after")
    def _taps_rectangular(self) -> KernelPattern:
        if isinstance(self.taps, list):
            shapes = {(len(m), *{len(row) for row in m}) for m in self.taps}
            if not self.taps or len(shapes) != 1 or len(next(iter(shapes))) != 2:
                raise ValueError("taps: give one or more masks of equal r x s shape (lists of 0 / 1 rows)")
        return self


class RealPattern(StrictModel):
    """Masks loaded from an .npz file with arrays '<layer>.weights' and '<layer>.activations'."""

    pattern: Literal["real"]
    file: str


PatternSpec = Annotated[
    UniformPattern
    | ClusteredPattern
    | ChannelPattern
    | SpreadPattern
    | CorrelatedPattern
    | KernelPattern
    | RealPattern,
    Field(discriminator="pattern"),
]


def check_operand_pattern(operand: str, pattern: PatternSpec | None) -> None:
    """Raise ValueError if `pattern` cannot shape this operand (correlated, axis 'filters': one-sided)."""
    if operand == "activations" and isinstance(pattern, KernelPattern):
        raise ValueError(
            "activation_pattern: the kernel pattern shapes weight kernels only; "
            "allowed for activations: uniform, clustered, channel, spread (axis: channels), correlated, real"
        )
    if operand == "weights" and isinstance(pattern, CorrelatedPattern):
        raise ValueError(
            "weight_pattern: the correlated pattern shapes activation maps only; "
            "allowed for weights: uniform, clustered, channel, spread, kernel, real"
        )
    if operand == "activations" and isinstance(pattern, SpreadPattern) and pattern.axis == "filters":
        raise ValueError(
            "activation_pattern: the spread pattern's axis 'filters' applies to weights only; "
            "allowed for activations: axis: channels"
        )


class LayerDensitySpec(StrictModel):
    """Density (fraction of non-zeros) of one layer's weights and input activations."""

    weights: float = Field(default=1.0, gt=0, le=1)
    activations: float = Field(default=1.0, gt=0, le=1)
    weight_pattern: PatternSpec | None = None
    activation_pattern: PatternSpec | None = None

    @model_validator(mode="after")
    def _patterns_fit(self) -> LayerDensitySpec:
        check_operand_pattern("weights", self.weight_pattern)
        check_operand_pattern("activations", self.activation_pattern)
        return self


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

    @model_validator(mode="after")
    def _patterns_fit(self) -> ProfileSpec:
        check_operand_pattern("weights", self.weight_pattern)
        check_operand_pattern("activations", self.activation_pattern)
        return self
