"""Operand masks (which weights and input activations are non-zero) and the exact effectual-MAC count.

Masks are generated deterministically from (network, layer, profile id, seed, operand): the names are
hashed with SHA-256 (never Python's `hash`, which is salted per process) into the entropy of a
`numpy.random.SeedSequence`, so a mask is bit-identical in any process on any machine.
"""

from __future__ import annotations

import hashlib
import json
import math
import zipfile
from dataclasses import dataclass
from typing import Literal

import numpy as np

from accelsim.config.workload_spec import (
    ChannelPattern,
    ClusteredPattern,
    CorrelatedPattern,
    KernelPattern,
    PatternSpec,
    RealPattern,
    SpreadPattern,
    UniformPattern,
)
from accelsim.errors import ConfigError, WorkloadError
from accelsim.workload.layer import Layer
from accelsim.workload.sparsity import SparsityProfile, real_mask_path
from accelsim.workload.structured import correlated_mask, kernel_mask, spread_mask

__all__ = [
    "Operand",
    "OperandMasks",
    "activation_shape",
    "dense_effectual_macs",
    "effectual_macs",
    "effectual_macs_reference",
    "layer_masks",
    "mask_rng",
    "nonzero_count",
    "operand_mask",
    "weight_shape",
]

Operand = Literal["weights", "activations"]

_CHUNK = 1 << 20  # elements drawn per block: bounds memory for the largest tensors (VGG16 fc6)


@dataclass(frozen=True, slots=True)
class OperandMasks:
    """Boolean masks of one layer: weights (k, c // groups, r, s) and unpadded input activations (c, h, w)."""

    weights: np.ndarray
    activations: np.ndarray


def weight_shape(layer: Layer) -> tuple[int, int, int, int]:
    """Shape of a layer's weight mask: (k, c // groups, r, s)."""
    return (layer.k, layer.c_per_group, layer.r, layer.s)


def activation_shape(layer: Layer) -> tuple[int, int, int]:
    """Shape of a layer's input-activation mask (unpadded): (c, h, w)."""
    return (layer.c, layer.h, layer.w)


def nonzero_count(density: float, n: int) -> int:
    """Non-zeros of a uniform mask: round(density * n), halves rounded up, at least 1 if density > 0."""
    count = min(n, math.floor(density * n + 0.5))
    return max(count, 1) if density > 0 and n > 0 else count


def _stable_words(*parts: str) -> list[int]:
    digest = hashlib.sha256(json.dumps(parts).encode("utf-8")).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, len(digest), 4)]


def mask_rng(
    network: str, layer: str, profile_id: str, seed: int, operand: Operand, image: int = 0
) -> np.random.Generator:
    """The random stream of one operand mask: PCG64 seeded by [seed, *sha256 words of the names].

    Image i > 0 of a batch hashes its index too (image 0 keeps the stream of a one-image run)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    names = (network, layer, profile_id, operand, *((f"image {image}",) if image else ()))
    entropy = [int(seed), *_stable_words(*names)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def layer_masks(
    network: str, layer: Layer, profile: SparsityProfile, seed: int, image: int = 0
) -> OperandMasks:
    """Weight and input-activation masks of `layer` under `profile` (non-compute layers have none);
    `image` picks the image of a batch (every image shares the weights)."""
    return OperandMasks(
        weights=operand_mask(network, layer, profile, seed, "weights"),
        activations=operand_mask(network, layer, profile, seed, "activations", image),
    )


def operand_mask(
    network: str, layer: Layer, profile: SparsityProfile, seed: int, operand: Operand, image: int = 0
) -> np.ndarray:
    """One operand's boolean mask (activations: of image `image` of a batch); a dense operand is all
    ones and never touches the random stream."""
    if not layer.is_compute:
        raise WorkloadError(
            f"layer {layer.name!r} is a {layer.kind} layer (pooling, add and concat have no masks)"
        )
    d = profile.density(layer.name)
    if operand == "weights":
        shape: tuple[int, ...] = weight_shape(layer)
        density, pattern = d.weights, d.weight_pattern
    elif operand == "activations":
        shape, density, pattern = activation_shape(layer), d.activations, d.activation_pattern
    else:
        raise WorkloadError(f"unknown operand {operand!r}; allowed: weights, activations")
    if isinstance(pattern, RealPattern):
        return _load_real(profile, pattern, layer, operand, shape, image)
    if density >= 1.0:
        return np.ones(shape, dtype=bool)
    if isinstance(pattern, KernelPattern):  # pre-defined: no random draw
        return kernel_mask(shape, density, pattern, f"{profile.where}: layers.{layer.name} (weights)")
    rng = mask_rng(network, layer.name, profile.id, seed, operand, image if operand == "activations" else 0)
    where = f"{profile.where}: layers.{layer.name} ({operand})"
    return _generate(shape, density, pattern, rng, where, operand)


def _generate(
    shape: tuple[int, ...],
    density: float,
    pattern: PatternSpec,
    rng: np.random.Generator,
    where: str,
    operand: Operand,
) -> np.ndarray:
    n = math.prod(shape)
    if isinstance(pattern, UniformPattern):
        return _uniform(n, nonzero_count(density, n), rng).reshape(shape)
    if isinstance(pattern, ClusteredPattern):
        return _clustered(shape, density, pattern.p11, rng, where)
    if isinstance(pattern, ChannelPattern):
        return _channel(shape, density, pattern.dead_fraction, rng, where)
    if isinstance(pattern, SpreadPattern):
        return spread_mask(shape, nonzero_count(density, n), pattern, operand, rng, where)
    if isinstance(pattern, CorrelatedPattern):
        return correlated_mask(shape, nonzero_count(density, n), pattern, rng, where)
    raise ConfigError(
        f"{where}: unknown pattern {pattern!r}; "
        "allowed: uniform, clustered, channel, spread, correlated, kernel, real"
    )


def _uniform(n: int, nnz: int, rng: np.random.Generator) -> np.ndarray:
    """Exactly `nnz` of `n` flat positions non-zero, every subset equally likely.

    Blocks of _CHUNK elements get their share from a multivariate hypergeometric draw, then positions
    inside each block; the result is uniform over all subsets, with memory bounded by one block.
    """
    out = np.zeros(n, dtype=bool)
    if nnz >= n:
        out[:] = True
        return out
    starts = list(range(0, n, _CHUNK))
    sizes = np.array([min(_CHUNK, n - s) for s in starts], dtype=np.int64)
    counts = rng.multivariate_hypergeometric(sizes, nnz, method="marginals") if len(starts) > 1 else [nnz]
    for start, size, count in zip(starts, sizes, counts, strict=True):
        out[start + rng.choice(int(size), int(count), replace=False)] = True
    return out


def _clustered(
    shape: tuple[int, ...], density: float, p11: float, rng: np.random.Generator, where: str
) -> np.ndarray:
    """Two-state Markov chain along the last axis of every row; stationary density `density`."""
    p01 = density * (1.0 - p11) / (1.0 - density)  # [TFSLIM17]
    if p01 > 1.0:
        raise ConfigError(
            f"{where}: clustered pattern with p11={p11} cannot reach density {density}: "
            f"allowed densities for this p11 are at most 1 / (2 - p11) = {1.0 / (2.0 - p11):.4f}"
        )
    cols = shape[-1]
    rows = math.prod(shape) // cols
    out = np.empty((rows, cols), dtype=bool)
    block = max(1, _CHUNK // cols)
    for r0 in range(0, rows, block):
        u = rng.random((min(block, rows - r0), cols))
        part = out[r0 : r0 + block]
        part[:, 0] = u[:, 0] < density  # the chain starts in its stationary distribution
        for j in range(1, cols):
            part[:, j] = u[:, j] < np.where(part[:, j - 1], p11, p01)
    return out.reshape(shape)


def _channel(
    shape: tuple[int, ...], density: float, dead_fraction: float, rng: np.random.Generator, where: str
) -> np.ndarray:
    """A fraction of whole channels (axis 0: input channels or filters) zero, the rest uniform."""
    channels = shape[0]
    per_channel = math.prod(shape[1:])
    n_dead = min(channels, math.floor(dead_fraction * channels + 0.5))
    nnz = nonzero_count(density, channels * per_channel)
    alive = channels - n_dead
    if nnz > alive * per_channel:
        raise ConfigError(
            f"{where}: channel pattern with dead_fraction={dead_fraction} leaves {alive} of {channels} "
            f"channels, too few for density {density}; allowed: density <= {alive / channels:.4f} "
            f"or a smaller dead_fraction"
        )
    dead = rng.choice(channels, n_dead, replace=False)
    alive_idx = np.setdiff1d(np.arange(channels), dead)
    out = np.zeros((channels, per_channel), dtype=bool)
    out[alive_idx] = _uniform(alive * per_channel, nnz, rng).reshape(alive, per_channel)
    return out.reshape(shape)


def _load_real(
    profile: SparsityProfile,
    pattern: RealPattern,
    layer: Layer,
    operand: str,
    shape: tuple[int, ...],
    image: int = 0,
) -> np.ndarray:
    path = real_mask_path(profile, pattern)
    key = f"{layer.name}.{operand}"
    if not path.is_file():
        raise ConfigError(f"{path}: mask file not found (named by {profile.where}, layer {layer.name})")
    try:
        with np.load(path, allow_pickle=False) as npz:
            names = list(npz.files)
            array = npz[key] if key in names else None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ConfigError(f"{path}: not a readable .npz file ({e})") from None
    if array is None:
        found = ", ".join(sorted(names)) or "(none)"
        raise ConfigError(f"{path}: no array {key!r}; arrays in the file: {found}")
    several = operand == "activations" and array.ndim == len(shape) + 1  # (images, c, h, w)
    images = array.shape[0] if several else 1
    if several and image >= images:  # one image's (c, h, w) masks stand for every image of a batch
        raise ConfigError(
            f"{path}: array {key!r} holds the masks of {images} image(s); image {image + 1} of the batch "
            f"has none (allowed: a batch of at most {images} with this profile)"
        )
    if several:
        array = array[image]
    if array.shape != shape:
        axes = "(k, c // groups, r, s)" if operand == "weights" else "(c, h, w) or (images, c, h, w)"
        raise ConfigError(
            f"{path}: array {key!r} has shape {array.shape}; allowed: {shape} = {axes} of layer {layer.name}"
        )
    return np.ascontiguousarray(array != 0)


def _check_masks(layer: Layer, masks: OperandMasks) -> None:
    if not layer.is_compute:
        raise WorkloadError(
            f"layer {layer.name!r} is a {layer.kind} layer (pooling, add and concat have no MACs)"
        )
    for operand, expected in (("weights", weight_shape(layer)), ("activations", activation_shape(layer))):
        got = getattr(masks, operand).shape
        if got != expected:
            raise WorkloadError(f"layer {layer.name!r}: {operand} mask has shape {got}, expected {expected}")


def effectual_macs(layer: Layer, masks: OperandMasks) -> int:
    """MACs whose weight and input activation are both non-zero (padding counts as zero); exact.

    Per input channel and kernel tap: (filters of the channel's group with that weight non-zero) x
    (output positions whose input at that tap is non-zero), the second from a strided slice of the
    zero-padded activation mask.
    """
    _check_masks(layer, masks)
    p, (eh, ew), st, oh, ow = layer.pad, layer.pad_end, layer.stride, layer.out_h, layer.out_w
    acts = masks.activations != 0
    if p or eh or ew:
        acts = np.pad(acts, ((0, 0), (p, p + eh), (p, p + ew)))
    act_counts = np.empty((layer.c, layer.r, layer.s), dtype=np.int64)
    for i in range(layer.r):
        for j in range(layer.s):
            window = acts[:, i : i + st * (oh - 1) + 1 : st, j : j + st * (ow - 1) + 1 : st]
            act_counts[:, i, j] = np.count_nonzero(window, axis=(1, 2))
    per_group = (layer.groups, layer.k_per_group, layer.c_per_group, layer.r, layer.s)
    grouped = (masks.weights != 0).reshape(per_group)
    weight_counts = np.count_nonzero(grouped, axis=1).astype(np.int64).reshape(layer.c, layer.r, layer.s)
    return int(np.sum(weight_counts * act_counts, dtype=np.int64))


def dense_effectual_macs(layer: Layer) -> int:
    """`effectual_macs` for all-ones masks without building them: MACs whose input tap is not padding."""

    def inside(size: int, out: int, taps: int) -> int:
        return sum(1 for o in range(out) for t in range(taps) if 0 <= o * layer.stride - layer.pad + t < size)

    return (
        layer.k
        * layer.c_per_group
        * inside(layer.h, layer.out_h, layer.r)
        * inside(layer.w, layer.out_w, layer.s)
    )


def effectual_macs_reference(layer: Layer, masks: OperandMasks) -> int:
    """Golden reference of `effectual_macs`: visit every output and kernel tap, one by one."""
    _check_masks(layer, masks)
    wts = masks.weights.tolist()
    acts = masks.activations.tolist()
    total = 0
    for k in range(layer.k):
        group = k // layer.k_per_group
        for oy in range(layer.out_h):
            for ox in range(layer.out_w):
                for cc in range(layer.c_per_group):
                    channel = group * layer.c_per_group + cc
                    for i in range(layer.r):
                        for j in range(layer.s):
                            y = oy * layer.stride - layer.pad + i
                            x = ox * layer.stride - layer.pad + j
                            inside = 0 <= y < layer.h and 0 <= x < layer.w
                            if inside and wts[k][cc][i][j] and acts[channel][y][x]:
                                total += 1
    return total
