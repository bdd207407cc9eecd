"""Structured synthetic masks: densities spread over filters or channels, spatially correlated activations.

Both are exact in their overall count (the caller passes round(density * size)) and draw only from the
generator they are given, so a mask is bit-identical in any process. Statistics to check them against
real masks are in `accelsim.workload.mask_stats`.
"""

from __future__ import annotations

import math

import numpy as np

from accelsim.config.workload_spec import CorrelatedPattern, KernelPattern, SpreadPattern
from accelsim.errors import ConfigError

__all__ = [
    "CORNER_TAPS",
    "apportion",
    "correlated_field",
    "correlated_mask",
    "group_densities",
    "kernel_mask",
    "spread_mask",
]

CORNER_TAPS = (
    ((1, 1, 0), (1, 1, 0), (0, 0, 0)),
    ((0, 1, 1), (0, 1, 1), (0, 0, 0)),
    ((0, 0, 0), (1, 1, 0), (1, 1, 0)),
    ((0, 0, 0), (0, 1, 1), (0, 1, 1)),
)
"""pSConv's 4-of-9 kernels: the four 2 x 2 squares of a 3 x 3 kernel, in the order its code cycles them
(Kundu et al., "A Pre-defined Sparse Kernel Based Convolution for Deep CNNs", Allerton 2019; the released
code, ksouvik52/Pre-defined-sparseCNN, VGG16_pSC4_periodic)."""

_LEAST_SHARE = 1e-12
"""Positive group targets below this share of the largest count as this share (a finite fill level)."""
_LEAST_CV = 1e-6
"""Below this coefficient of variation the groups get equal densities (a Beta that narrow overflows)."""


def group_densities(
    groups: int,
    mean: float,
    spread: tuple[float | None, float | None],
    dead_fraction: float,
    rng: np.random.Generator,
    where: str,
) -> np.ndarray:
    """Target density of each group: a `dead_fraction` of them 0, the others Beta distributed.

    The Beta's mean is mean' = mean / (1 - share of dead groups), so the expected overall density stays
    `mean`; `spread` = (cv, relative_cv), at most one given, sets its coefficient of variation.
    """
    n_dead = min(groups, math.floor(dead_fraction * groups + 0.5))
    alive = groups - n_dead
    target = np.zeros(groups)
    if alive == 0:
        raise ConfigError(
            f"{where}: dead_fraction={dead_fraction} leaves none of {groups} groups; "
            "allowed: a smaller dead_fraction"
        )
    alive_mean = mean * groups / alive
    if alive_mean > 1.0:
        raise ConfigError(
            f"{where}: dead_fraction={dead_fraction} leaves {alive} of {groups} groups, too few for "
            f"density {mean}; allowed: density <= {alive / groups:.4f} or a smaller dead_fraction"
        )
    alive_idx = np.sort(rng.choice(groups, alive, replace=False)) if n_dead else np.arange(groups)
    limit = math.sqrt((1.0 - alive_mean) / alive_mean)
    cv = spread[1] * limit if spread[1] is not None else (spread[0] or 0.0)
    if cv < _LEAST_CV or alive_mean == 1.0:
        target[alive_idx] = alive_mean
        return target
    if cv >= limit:
        raise ConfigError(
            f"{where}: cv={cv} is impossible for group densities of mean {alive_mean:.4f} (they lie in "
            f"[0, 1]); allowed: cv < {limit:.4f}, or a relative_cv below 1"
        )
    common = (limit / cv) ** 2 - 1.0  # a + b of the Beta: mean (1 - mean) / variance - 1
    target[alive_idx] = rng.beta(alive_mean * common, (1.0 - alive_mean) * common, alive)
    return target


def apportion(target: np.ndarray, size: int, total: int, rng: np.random.Generator, where: str) -> np.ndarray:
    """Integer counts per group, at most `size` each, summing to exactly `total`, in proportion to `target`.

    count_g ~ min(size, lam * target_g * size) with lam found by bisection; the remainder goes one by one
    to the groups with the largest fractional parts (ties in a random order). Groups of target 0 get 0.
    """
    target = np.asarray(target, dtype=np.float64)
    live = target > 0
    capacity = size * int(np.count_nonzero(live))
    if total > capacity:
        raise ConfigError(f"{where}: {total} non-zeros do not fit the {capacity} places of non-empty groups")
    if not live.any():
        return np.zeros(len(target), dtype=np.int64)
    # scale-free and bounded below, so lam stays finite even for denormal targets
    target = np.where(live, np.maximum(target / target.max(), _LEAST_SHARE), 0.0)
    lam = _fill_level(target[live], size, total)
    share = np.minimum(size, lam * target * size)
    counts = np.floor(share).astype(np.int64)
    priority = rng.random(len(target))
    order = np.lexsort((priority, -(share - counts)))
    eligible = [int(g) for g in order if live[g]]
    remainder = total - int(counts.sum())
    for g in eligible[::-1]:  # rounding pushed the floors over the total: take back from the smallest parts
        if remainder >= 0:
            break
        if counts[g] > 0:
            counts[g] -= 1
            remainder += 1
    while remainder > 0:
        for g in eligible:
            if remainder == 0:
                break
            if counts[g] < size:
                counts[g] += 1
                remainder -= 1
    return counts


def _fill_level(live: np.ndarray, size: int, total: int) -> float:
    """The lam with sum(min(size, lam * t * size)) == total over positive targets `live`, solved exactly.

    With the j largest groups full, lam = (total - j size) / (size * sum of the other targets); the right
    j is the first whose lam fills those j (lam t >= 1) and not the next (lam t <= 1).
    """
    t = np.sort(live)[::-1]
    rest = np.concatenate([np.cumsum(t[::-1])[::-1], [0.0]])  # rest[j] = sum of t[j:]
    for j in range(len(t) + 1):
        if rest[j] == 0.0:
            break
        lam = (total - j * size) / (size * rest[j])
        if j == len(t) or lam * t[j] <= 1.0:
            return float(lam)
    return float(1.0 / t[-1])


def spread_mask(
    shape: tuple[int, ...],
    nnz: int,
    pattern: SpreadPattern,
    operand: str,
    rng: np.random.Generator,
    where: str,
) -> np.ndarray:
    """Exactly `nnz` non-zeros, group densities spread as `pattern` says, uniform positions in each group.

    Groups: weights (k, c/groups, r, s) by filter (axis 0) or input channel (axis 1); activations
    (c, h, w) by channel (axis 0).
    """
    axis = 1 if operand == "weights" and pattern.axis == "channels" else 0
    moved = (shape[axis], *(d for i, d in enumerate(shape) if i != axis))
    groups, size = moved[0], math.prod(moved[1:])
    mean = nnz / (groups * size)
    target = group_densities(
        groups, mean, (pattern.cv, pattern.relative_cv), pattern.dead_fraction, rng, where
    )
    counts = apportion(target, size, nnz, rng, where)
    out = np.zeros((groups, size), dtype=bool)
    for g in range(groups):
        if counts[g]:
            out[g, rng.choice(size, int(counts[g]), replace=False)] = True
    return np.ascontiguousarray(np.moveaxis(out.reshape(moved), 0, axis))


def correlated_field(shape: tuple[int, int, int], length: float, rng: np.random.Generator) -> np.ndarray:
    """A stationary unit-variance Gaussian field per channel, correlation a^|dy| a^|dx|, a = e^(-1/length).

    Separable first-order autoregression along columns, then rows, each started in its stationary law.
    """
    a = math.exp(-1.0 / length)
    b = math.sqrt(1.0 - a * a)
    field = rng.standard_normal(shape)
    for j in range(1, shape[2]):
        field[:, :, j] = a * field[:, :, j - 1] + b * field[:, :, j]
    for i in range(1, shape[1]):
        field[:, i, :] = a * field[:, i - 1, :] + b * field[:, i, :]
    return field


def correlated_mask(
    shape: tuple[int, ...], nnz: int, pattern: CorrelatedPattern, rng: np.random.Generator, where: str
) -> np.ndarray:
    """Exactly `nnz` non-zeros: the largest values of a correlated field (per channel with `channel_cv`)."""
    if len(shape) != 3:
        raise ConfigError(f"{where}: the correlated pattern needs a (c, h, w) activation map, got {shape}")
    c, h, w = shape
    field = correlated_field((c, h, w), pattern.length, rng).reshape(c, h * w)
    out = np.zeros((c, h * w), dtype=bool)
    spread = (pattern.channel_cv, pattern.channel_relative_cv)
    if spread == (None, None):
        order = np.argsort(-field, axis=None, kind="stable")
        out.reshape(-1)[order[:nnz]] = True
        return out.reshape(shape)
    target = group_densities(c, nnz / (c * h * w), spread, 0.0, rng, where)
    counts = apportion(target, h * w, nnz, rng, where)
    ranks = np.argsort(np.argsort(-field, axis=1, kind="stable"), axis=1, kind="stable")
    out[:] = ranks < counts[:, None]
    return out.reshape(shape)


def kernel_mask(shape: tuple[int, ...], density: float, pattern: KernelPattern, where: str) -> np.ndarray:
    """The (k, c/groups, r, s) weight mask of pre-defined sparse kernels; `density`: their kept share."""
    taps = np.array(CORNER_TAPS if pattern.taps == "corners" else pattern.taps, dtype=bool)
    k, c, r, s = shape
    if taps.ndim != 3 or taps.shape[1:] != (r, s):
        raise ConfigError(
            f"{where}: kernel pattern taps are {taps.shape[1:] if taps.ndim == 3 else 'not r x s masks'}; "
            f"allowed: {r} x {s} masks (this layer's kernel)"
        )
    f, ch = np.meshgrid(np.arange(k), np.arange(c), indexing="ij")
    index = {"fixed": 0 * f, "per_filter": f, "rotating": f + ch}[pattern.assign] % len(taps)
    out = np.ascontiguousarray(taps[index])
    kept = float(np.count_nonzero(out)) / out.size
    if abs(density - kept) > 5e-4:
        raise ConfigError(
            f"{where}: weights density {density} differs from the kernel pattern's kept share; "
            f"allowed: {kept:.4f}"
        )
    return out
