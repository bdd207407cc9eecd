"""Statistics of operand masks: how densities spread over filters or channels, how far zeros cluster.

They measure real masks (to set the structured patterns of `accelsim.workload.structured`) and check
the generated ones. The correlation length is that of the thresholded-Gaussian model the `correlated`
pattern draws from: the latent correlation whose thresholded indicator has the mask's lag-1
autocorrelation, turned into a length by rho = exp(-1 / length).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from accelsim.config.workload_spec import CorrelatedPattern
from accelsim.workload.structured import correlated_mask

__all__ = [
    "correlation_length",
    "fit_correlation_length",
    "group_density_cv",
    "indicator_correlation",
    "lag1_correlations",
    "latent_correlation",
    "latent_lag1",
    "length_from_p11",
    "relative_group_cv",
]

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(64)
_BISECTIONS = 60


def group_density_cv(mask: np.ndarray, axis: int = 0) -> float:
    """Coefficient of variation (population std / mean) of the densities of the slices along `axis`."""
    dens = np.moveaxis(np.asarray(mask) != 0, axis, 0).reshape(mask.shape[axis], -1).mean(axis=1)
    mean = float(dens.mean())
    return float(dens.std()) / mean if mean > 0 else math.nan


def relative_group_cv(mask: np.ndarray, axis: int = 0) -> float:
    """`group_density_cv` as a share of the largest possible at the mask's density, sqrt((1 - d) / d)."""
    density = float(np.count_nonzero(mask)) / mask.size
    if not 0.0 < density < 1.0:
        return math.nan
    return group_density_cv(mask, axis) / math.sqrt((1.0 - density) / density)


def indicator_correlation(rho: np.ndarray | float, density: np.ndarray | float) -> np.ndarray:
    """Correlation of 1[X > t] and 1[Y > t] for standard normals of correlation `rho`, P(X > t) = density.

    Uses d Phi2(t, t; r) / dr = exp(-t^2 / (1 + r)) / (2 pi sqrt(1 - r^2)), integrated over r = sin(theta)
    with 64-point Gauss-Legendre quadrature.
    """
    rho, density = np.broadcast_arrays(np.asarray(rho, dtype=float), np.asarray(density, dtype=float))
    t = np.vectorize(lambda p: NormalDist().inv_cdf(1.0 - p))(density)
    top = np.arcsin(np.clip(rho, -1.0, 1.0))
    theta = top[..., None] * (_NODES + 1.0) / 2.0
    integrand = np.exp(-(t[..., None] ** 2) / (1.0 + np.sin(theta)))
    cov = top / 2.0 * (integrand @ _WEIGHTS) / (2.0 * math.pi)
    return np.asarray(cov / (density * (1.0 - density)))


def latent_correlation(corr: np.ndarray | float, density: np.ndarray | float) -> np.ndarray:
    """The latent `rho` whose thresholded indicator has correlation `corr` (inverse, by bisection)."""
    corr, density = np.broadcast_arrays(np.asarray(corr, dtype=float), np.asarray(density, dtype=float))
    lo, hi = np.full(corr.shape, -1.0), np.full(corr.shape, 1.0)
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2.0
        below = indicator_correlation(mid, density) < corr
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return (lo + hi) / 2.0


def lag1_correlations(acts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(densities, lag-1 autocorrelations) of the channels of a (c, h, w) mask that are neither empty nor
    full; horizontal and vertical neighbour pairs pooled, each channel centred on its own density."""
    x = np.asarray(acts != 0, dtype=np.float64)
    c, h, w = x.shape
    dens = x.reshape(c, -1).mean(axis=1)
    keep = (dens > 0) & (dens < 1)
    x, dens = x[keep], dens[keep]
    z = x - dens[:, None, None]
    pairs = h * (w - 1) + (h - 1) * w
    if pairs == 0:
        return dens, np.full(dens.shape, math.nan)
    cov = (
        (z[:, :, 1:] * z[:, :, :-1]).sum(axis=(1, 2)) + (z[:, 1:, :] * z[:, :-1, :]).sum(axis=(1, 2))
    ) / pairs
    return dens, cov / (dens * (1.0 - dens))


def latent_lag1(acts: np.ndarray) -> float:
    """The latent lag-1 correlation of a (c, h, w) mask: per channel, the lag-1 autocorrelation turned
    into the thresholded-Gaussian rho, averaged with weights d (1 - d) (the indicator's variance).
    nan when no channel has both zeros and non-zeros or the map is 1 x 1."""
    dens, corr = lag1_correlations(acts)
    if dens.size == 0 or np.isnan(corr).all():
        return math.nan
    weight = dens * (1.0 - dens)
    return float(np.sum(weight * latent_correlation(corr, dens)) / np.sum(weight))


def correlation_length(acts: np.ndarray) -> float:
    """Correlation length (pixels) of a (c, h, w) mask under the `correlated` pattern's model:
    -1 / ln(latent_lag1). 0.0 when that is not positive (no clustering), nan when undefined.

    Consistent on large maps; on small maps, or with channel densities spread, it reads low (each
    channel is centred on its own density): `fit_correlation_length` corrects for that.
    """
    rho = latent_lag1(acts)
    if math.isnan(rho):
        return math.nan
    return -1.0 / math.log(min(rho, 1.0 - 1e-12)) if rho > 0.0 else 0.0


def fit_correlation_length(
    acts: np.ndarray, channel_relative_cv: float | None, *, draws: int = 6, seed: int = 0
) -> float:
    """The `correlated` pattern's length whose masks, of this shape, density and channel spread, have on
    average the same `latent_lag1` as `acts` (simulated method of moments, bisection on log length
    over [0.05, 50] px with the same random draws at every step)."""
    shape = acts.shape
    nnz = int(np.count_nonzero(acts))
    target = latent_lag1(acts)

    def simulated(length: float) -> float:
        pattern = CorrelatedPattern(
            pattern="correlated", length=length, channel_relative_cv=channel_relative_cv
        )
        rngs = [np.random.default_rng([seed, i]) for i in range(draws)]
        return float(np.mean([latent_lag1(correlated_mask(shape, nnz, pattern, r, "fit")) for r in rngs]))

    lo, hi = math.log(0.05), math.log(50.0)
    for _ in range(20):
        mid = (lo + hi) / 2.0
        lo, hi = (mid, hi) if simulated(math.exp(mid)) < target else (lo, mid)
    return math.exp((lo + hi) / 2.0)


def length_from_p11(p11: float, density: float) -> float:
    """Correlation length of a mask whose row neighbours have P(non-zero | non-zero) = p11 at `density`.

    The indicator's lag-1 correlation is (p11 - density) / (1 - density); see `correlation_length`.
    """
    corr = (p11 - density) / (1.0 - density)
    rho = float(latent_correlation(corr, density))
    return -1.0 / math.log(rho) if rho > 0 else 0.0
