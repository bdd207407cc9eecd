"""Sparsity profiles: per-layer weight and input-activation densities plus the mask pattern model.

A profile file (ProfileSpec format) lives in `workloads/profiles/<network>/<id>.yaml`; the id 'dense'
exists for every network without a file. Layers a profile does not list are dense.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from accelsim.config.workload_spec import (
    KernelPattern,
    PatternSpec,
    ProfileSpec,
    RealPattern,
    UniformPattern,
    check_operand_pattern,
)
from accelsim.config.yaml_io import load_model
from accelsim.errors import ConfigError
from accelsim.workload.catalog import DENSE_PROFILE, looks_like_path, profile_path
from accelsim.workload.network import Network

__all__ = [
    "DENSE_PROFILE",
    "LayerDensity",
    "SparsityProfile",
    "check_profile",
    "dense_profile",
    "load_profile",
    "profile_from_spec",
    "uniform_counterpart",
]


@dataclass(frozen=True, slots=True)
class LayerDensity:
    """Fraction of non-zero weights and input activations of one layer, and how the zeros are placed."""

    weights: float = 1.0
    activations: float = 1.0
    weight_pattern: PatternSpec = field(default_factory=UniformPattern)
    activation_pattern: PatternSpec = field(default_factory=UniformPattern)

    def __post_init__(self) -> None:
        for name in ("weights", "activations"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ConfigError(f"{name} density must be in (0, 1], got {value!r}")
        try:
            check_operand_pattern("weights", self.weight_pattern)
            check_operand_pattern("activations", self.activation_pattern)
        except ValueError as e:
            raise ConfigError(str(e)) from None

    @property
    def is_dense(self) -> bool:
        """True when both operands are fully non-zero (and no mask is loaded from a file)."""
        real = any(isinstance(p, RealPattern) for p in (self.weight_pattern, self.activation_pattern))
        return self.weights == 1.0 and self.activations == 1.0 and not real


_DENSE_LAYER = LayerDensity()


@dataclass(frozen=True, slots=True)
class SparsityProfile:
    """Per-layer densities of one network; `base_dir` anchors relative paths of `real` mask files."""

    id: str
    network: str
    source: str
    layers: Mapping[str, LayerDensity]
    base_dir: Path | None = None
    path: Path | None = None
    """The file the profile was read from (None for 'dense' or a profile built in code)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", MappingProxyType(dict(self.layers)))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle as plain fields (a read-only mapping proxy cannot be pickled): runs in other processes."""
        return (
            SparsityProfile,
            (self.id, self.network, self.source, dict(self.layers), self.base_dir, self.path),
        )

    def __hash__(self) -> int:
        layers = tuple(sorted(self.layers.items(), key=lambda item: item[0]))
        return hash((self.id, self.network, self.source, layers, self.base_dir, self.path))

    def density(self, layer_name: str) -> LayerDensity:
        """The densities of `layer_name`; a layer the profile does not list is dense and uniform."""
        return self.layers.get(layer_name, _DENSE_LAYER)

    @property
    def is_dense(self) -> bool:
        """True when every listed density is 1.0 (and no mask comes from a file)."""
        return all(d.is_dense for d in self.layers.values())

    @property
    def where(self) -> str:
        """How error messages name this profile: its file, else its id."""
        return str(self.path) if self.path is not None else f"sparsity profile {self.id!r}"


def dense_profile(network: str) -> SparsityProfile:
    """The implicit 'dense' profile of `network`: every weight and activation non-zero."""
    return SparsityProfile(
        id=DENSE_PROFILE, network=network, source="dense: no zeros (implicit profile)", layers={}
    )


def profile_from_spec(spec: ProfileSpec, path: Path | None = None) -> SparsityProfile:
    """Resolve a validated ProfileSpec: each layer's pattern is its own, else the profile's default."""
    layers = {
        name: LayerDensity(
            weights=d.weights,
            activations=d.activations,
            weight_pattern=d.weight_pattern if d.weight_pattern is not None else spec.weight_pattern,
            activation_pattern=(
                d.activation_pattern if d.activation_pattern is not None else spec.activation_pattern
            ),
        )
        for name, d in spec.layers.items()
    }
    base_dir = path.parent if path is not None else None
    return SparsityProfile(spec.id, spec.network, spec.source, layers, base_dir=base_dir, path=path)


def load_profile(
    network: str, profile: str | Path, *, check_against: Network | None = None
) -> SparsityProfile:
    """Load 'dense', a shipped profile id of `network`, or a profile YAML file.

    An unknown id raises UnknownNameError listing the ids of that network; a file written for another
    network, or naming a missing `real` mask file, raises ConfigError. With `check_against`, the layer
    names are checked against that network too (see `check_profile`).
    """
    if not looks_like_path(profile) and str(profile) == DENSE_PROFILE:
        result = dense_profile(network)
    else:
        by_id = not looks_like_path(profile)
        path = profile_path(network, str(profile)) if by_id else Path(profile)
        spec = load_model(ProfileSpec, path, "sparsity profile")
        if spec.network != network:
            raise ConfigError(
                f"{path}: network: this profile is for network {spec.network!r}; "
                f"allowed here: {network!r} (the network being simulated)"
            )
        if by_id and spec.id != path.stem:
            raise ConfigError(f"{path}: id: {spec.id!r} must equal the file name {path.stem!r}")
        result = profile_from_spec(spec, path)
        _check_real_files(result)
    if check_against is not None:
        check_profile(result, check_against)
    return result


def check_profile(profile: SparsityProfile, network: Network) -> None:
    """Raise ConfigError unless the profile is for `network` and names only its compute layers."""
    if profile.network != network.name:
        raise ConfigError(
            f"{profile.where}: network: this profile is for network {profile.network!r}; "
            f"allowed here: {network.name!r}"
        )
    allowed = [layer.name for layer in network.compute_layers]
    for name in profile.layers:
        if name not in allowed:
            raise ConfigError(
                f"{profile.where}: layers.{name}: network {network.name!r} has no compute layer "
                f"{name!r} (pooling, add and concat layers have no densities); allowed: {', '.join(allowed)}"
            )


def uniform_counterpart(profile: SparsityProfile, profile_id: str = "independent") -> SparsityProfile:
    """The same densities with every pattern uniform: the zeros of each operand placed independently.

    A layer with pre-defined kernels gets the mean kept share of its tap masks as weight density (4/9 for
    pSConv's corners, so the counterpart has exactly as many non-zero weights); `real` masks are kept.
    """

    def independent(pattern: PatternSpec) -> PatternSpec:
        return pattern if isinstance(pattern, RealPattern) else UniformPattern()

    layers = {}
    for name, d in profile.layers.items():
        weights, pattern = d.weights, d.weight_pattern
        if isinstance(pattern, KernelPattern) and weights < 1.0:
            weights = CORNER_SHARE if pattern.taps == "corners" else _kept_share(pattern.taps)
        layers[name] = LayerDensity(
            weights, d.activations, independent(d.weight_pattern), independent(d.activation_pattern)
        )
    return SparsityProfile(profile_id, profile.network, profile.source, layers, base_dir=profile.base_dir)


CORNER_SHARE = 4 / 9
"""Kept share of pSConv's corner kernels: 4 of 9 taps."""


def _kept_share(taps: Sequence[Sequence[Sequence[int]]]) -> float:
    return sum(sum(map(sum, m)) for m in taps) / sum(len(m) * len(m[0]) for m in taps)


def real_mask_path(profile: SparsityProfile, pattern: RealPattern) -> Path:
    """The .npz file a `real` pattern names, relative to the profile's folder unless absolute."""
    path = Path(pattern.file)
    if not path.is_absolute() and profile.base_dir is not None:
        path = profile.base_dir / path
    return path


def _check_real_files(profile: SparsityProfile) -> None:
    for name, d in profile.layers.items():
        for key in ("weight_pattern", "activation_pattern"):
            pattern = getattr(d, key)
            if not isinstance(pattern, RealPattern):
                continue
            path = real_mask_path(profile, pattern)
            if not path.is_file():
                raise ConfigError(
                    f"{profile.where}: layers.{name}.{key}.file: mask file {path} not found "
                    "(a relative path is relative to the profile's folder)"
                )
