"""Structured synthetic masks: exact counts, seeded reproducibility, spread and correlation length."""

from __future__ import annotations

import hashlib
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.config.workload_spec import CorrelatedPattern, KernelPattern, SpreadPattern
from accelsim.errors import ConfigError
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.mask_stats import (
    correlation_length,
    group_density_cv,
    indicator_correlation,
    latent_correlation,
    length_from_p11,
    relative_group_cv,
)
from accelsim.workload.masks import layer_masks, nonzero_count, operand_mask
from accelsim.workload.sparsity import LayerDensity, SparsityProfile, load_profile
from accelsim.workload.structured import CORNER_TAPS, apportion, correlated_field

REPO_ROOT = Path(__file__).resolve().parent.parent


def _spread(**kw: object) -> SpreadPattern:
    return SpreadPattern.model_validate({"pattern": "spread", **kw})


def _correlated(**kw: object) -> CorrelatedPattern:
    return CorrelatedPattern.model_validate({"pattern": "correlated", **kw})


def _masks(layer: Layer, density: LayerDensity, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    profile = SparsityProfile("structured-test", "test", "test", {layer.name: density})
    m = layer_masks("test", layer, profile, seed)
    return m.weights, m.activations


def _conv(h: int, c: int, k: int, r: int = 3) -> Layer:
    return Layer("conv", LayerKind.CONV, h=h, w=h, c=c, k=k, r=r, s=r, pad=r // 2)


@settings(deadline=None, max_examples=40)
@given(
    h=st.integers(1, 12),
    c=st.integers(1, 12),
    k=st.integers(1, 12),
    wd=st.floats(0.01, 0.99),
    ad=st.floats(0.01, 0.99),
    rel=st.floats(0.0, 0.95),
    dead=st.floats(0.0, 0.5),
    length=st.floats(0.1, 6.0),
    axis=st.sampled_from(["filters", "channels"]),
    per_channel=st.booleans(),
)
def test_structured_counts_are_exact(
    h: int,
    c: int,
    k: int,
    wd: float,
    ad: float,
    rel: float,
    dead: float,
    length: float,
    axis: str,
    per_channel: bool,
) -> None:
    layer = _conv(h, c, k, r=1)
    wp = _spread(axis=axis, relative_cv=rel, dead_fraction=dead)
    ap = _correlated(length=length, channel_relative_cv=rel if per_channel else None)
    alive = k - math.floor(dead * k + 0.5) if axis == "filters" else c - math.floor(dead * c + 0.5)
    if nonzero_count(wd, k * c) > alive * (c if axis == "filters" else k):
        with pytest.raises(ConfigError, match="a smaller dead_fraction"):  # too many dead groups
            _masks(layer, LayerDensity(wd, ad, weight_pattern=wp, activation_pattern=ap))
        return
    w, a = _masks(layer, LayerDensity(wd, ad, weight_pattern=wp, activation_pattern=ap))
    assert np.count_nonzero(w) == nonzero_count(wd, w.size)
    assert np.count_nonzero(a) == nonzero_count(ad, a.size)


@settings(deadline=None, max_examples=60)
@given(
    target=st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 1.0)), min_size=1, max_size=30),
    size=st.integers(1, 50),
    share=st.floats(0.0, 1.0),
)
def test_apportion_is_exact_bounded_and_proportional(target: list[float], size: int, share: float) -> None:
    t = np.array(target)
    capacity = size * int(np.count_nonzero(t > 0))
    total = math.floor(share * capacity)
    counts = apportion(t, size, total, np.random.default_rng(0), "test")
    assert int(counts.sum()) == total
    assert (counts >= 0).all()
    assert (counts <= size).all()
    assert (counts[t == 0] == 0).all()
    if total:  # each count is within one of its continuous share min(size, lam * t * size)
        lam = _solve_lambda(t, size, total)
        assert np.all(np.abs(counts - np.minimum(size, lam * t * size)) <= 1.0 + 1e-6)


def _solve_lambda(t: np.ndarray, size: int, total: int) -> float:
    """Plain reference: scan the break points of sum(min(size, lam * t * size)) for the exact lam."""
    live = np.sort(t[t > 0])[::-1]
    for full in range(len(live) + 1):  # the `full` largest groups are capped at size
        rest = live[full:].sum() * size
        if rest == 0:
            return 1.0 / live[-1]
        lam = (total - full * size) / rest
        if full == len(live) or lam * live[full] * size <= size:
            return lam
    return 1.0 / live[-1]


def test_spread_recovers_cv_and_relative_cv() -> None:
    layer = Layer("fc", LayerKind.FC, h=1, w=1, c=1024, k=4096)
    w, _ = _masks(layer, LayerDensity(0.4, 1.0, weight_pattern=_spread(cv=0.3)))
    assert group_density_cv(w, 0) == pytest.approx(0.3, rel=0.05)
    w, _ = _masks(layer, LayerDensity(0.4, 1.0, weight_pattern=_spread(axis="channels", relative_cv=0.5)))
    assert relative_group_cv(w, 1) == pytest.approx(0.5, rel=0.05)
    assert group_density_cv(w, 0) < 0.05  # spread over input channels leaves the filters nearly equal


def test_spread_without_cv_gives_equal_groups() -> None:
    w, _ = _masks(_conv(4, 64, 96), LayerDensity(0.37, 1.0, weight_pattern=_spread()))
    per_filter = w.reshape(96, -1).sum(axis=1)
    assert per_filter.max() - per_filter.min() <= 1


def test_whole_filter_and_whole_channel_pruning() -> None:
    layer = _conv(4, 64, 128)
    w, _ = _masks(layer, LayerDensity(0.3, 1.0, weight_pattern=_spread(dead_fraction=0.25)))
    per_filter = w.reshape(128, -1).sum(axis=1)
    assert np.count_nonzero(per_filter == 0) == 32  # round(0.25 * 128) whole filters pruned
    alive = per_filter[per_filter > 0]
    assert alive.max() - alive.min() <= 1  # the others share the count equally
    w, _ = _masks(layer, LayerDensity(0.3, 1.0, weight_pattern=_spread(axis="channels", dead_fraction=0.5)))
    per_channel = np.moveaxis(w, 1, 0).reshape(64, -1).sum(axis=1)
    assert np.count_nonzero(per_channel == 0) == 32  # whole input channels, across every filter
    assert np.count_nonzero(w) == nonzero_count(0.3, w.size)


@pytest.mark.parametrize("length", [1.0, 2.0, 4.0])
@pytest.mark.parametrize("density", [0.3, 0.7])
def test_correlated_recovers_length(length: float, density: float) -> None:
    layer = _conv(64, 32, 1, r=1)
    _, a = _masks(layer, LayerDensity(1.0, density, activation_pattern=_correlated(length=length)))
    assert np.count_nonzero(a) == nonzero_count(density, a.size)
    assert correlation_length(a) == pytest.approx(length, rel=0.1)


def test_correlated_channel_spread_and_independent_masks() -> None:
    layer = _conv(32, 256, 1, r=1)
    pattern = _correlated(length=1.5, channel_relative_cv=0.7)
    _, a = _masks(layer, LayerDensity(1.0, 0.6, activation_pattern=pattern))
    assert relative_group_cv(a, 0) == pytest.approx(0.7, rel=0.07)
    assert correlation_length(a) == pytest.approx(1.5, rel=0.1)
    _, iid = _masks(layer, LayerDensity(1.0, 0.6))
    assert correlation_length(iid) < 0.3  # independent masks have (almost) no clustering
    assert relative_group_cv(iid, 0) < 0.1


def test_correlated_field_is_stationary_with_the_given_correlation() -> None:
    f = correlated_field((16, 128, 128), 3.0, np.random.default_rng(5))
    assert float(f.std()) == pytest.approx(1.0, rel=0.02)
    lag1 = float(np.mean(f[:, :, 1:] * f[:, :, :-1]))
    assert lag1 == pytest.approx(math.exp(-1 / 3.0), abs=0.02)


def test_indicator_correlation_arcsine_law_and_inverse() -> None:
    rho = np.linspace(-0.9, 0.95, 12)
    # Van Vleck's arcsine law: at the median threshold the indicators' correlation is (2 / pi) asin(rho)
    assert indicator_correlation(rho, 0.5) == pytest.approx(2 / np.pi * np.arcsin(rho), abs=1e-10)
    for d in (0.1, 0.6, 0.9):
        assert indicator_correlation(0.0, d) == pytest.approx(0.0, abs=1e-12)
        assert indicator_correlation(1.0, d) == pytest.approx(1.0, abs=1e-3)
        corr = indicator_correlation(rho, d)
        assert np.all(np.diff(corr) > 0)
        assert latent_correlation(corr, d) == pytest.approx(rho, abs=1e-9)
    # a row-wise P11 at density d: the indicator's lag-1 correlation is (P11 - d) / (1 - d)
    d, length = 0.4, 2.5
    p11 = d + (1 - d) * float(indicator_correlation(math.exp(-1 / length), d))
    assert length_from_p11(p11, d) == pytest.approx(length, rel=1e-6)


def test_seeded_and_different_across_seeds_and_operands() -> None:
    layer = _conv(16, 32, 64)
    density = LayerDensity(
        0.3, 0.5, weight_pattern=_spread(relative_cv=0.4), activation_pattern=_correlated(length=2)
    )
    w0, a0 = _masks(layer, density, seed=0)
    w0b, a0b = _masks(layer, density, seed=0)
    w1, a1 = _masks(layer, density, seed=1)
    assert np.array_equal(w0, w0b)
    assert np.array_equal(a0, a0b)
    assert not np.array_equal(w0, w1)
    assert not np.array_equal(a0, a1)


_DIGEST = """
import hashlib, sys
from accelsim.workload.loaders import load_network
from accelsim.workload.masks import layer_masks
from accelsim.workload.sparsity import load_profile
net, prof = load_network("mobilenet_v1"), load_profile("mobilenet_v1", "structured")
h = hashlib.sha256()
for name in ("pw5", "dw7", "pw13"):
    m = layer_masks("mobilenet_v1", net[name], prof, 3)
    h.update(m.weights.tobytes()); h.update(m.activations.tobytes())
print(h.hexdigest())
"""


def test_structured_masks_identical_in_another_process() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _DIGEST],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT), "PYTHONHASHSEED": "123", "PATH": ""},
    )
    from accelsim.workload.loaders import load_network

    net, prof = load_network("mobilenet_v1"), load_profile("mobilenet_v1", "structured")
    h = hashlib.sha256()
    for name in ("pw5", "dw7", "pw13"):
        m = layer_masks("mobilenet_v1", net[name], prof, 3)
        h.update(m.weights.tobytes())
        h.update(m.activations.tobytes())
    assert out.stdout.strip() == h.hexdigest()


def test_impossible_cv_names_the_limit() -> None:
    layer = Layer("fc", LayerKind.FC, h=1, w=1, c=10, k=10)  # 70 of 100 weights: mean exactly 0.7
    with pytest.raises(ConfigError, match=r"allowed: cv < 0\.6547"):
        _masks(layer, LayerDensity(0.7, 1.0, weight_pattern=_spread(cv=0.9)))


def test_one_sided_patterns_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="correlated pattern shapes activation maps only"):
        LayerDensity(0.5, 1.0, weight_pattern=_correlated(length=1))
    with pytest.raises(ConfigError, match="axis 'filters' applies to weights only"):
        LayerDensity(1.0, 0.5, activation_pattern=_spread())
    path = tmp_path / "p.yaml"
    path.write_text(
        "id: p\nnetwork: vgg16\nsource: test\n"
        "layers:\n  conv1_2: {weights: 0.5, weight_pattern: {pattern: correlated, length: 2}}\n"
    )
    with pytest.raises(ConfigError, match=r"(?s)p\.yaml.*layers\.conv1_2.*correlated pattern") as e:
        load_profile("vgg16", path)
    assert "Traceback" not in str(e.value)
    path.write_text(
        "id: p\nnetwork: vgg16\nsource: test\n"
        "layers:\n  conv1_2: {weights: 0.5, weight_pattern: {pattern: spread, cv: 0.1, relative_cv: 0.1}}\n"
    )
    with pytest.raises(ConfigError, match="cv or relative_cv, not both"):
        load_profile("vgg16", path)


def test_uniform_stays_the_default() -> None:
    """Profiles that name no pattern keep independent masks: the structured patterns are opt-in."""
    d = LayerDensity(0.5, 0.5)
    layer = _conv(8, 8, 8)
    w = operand_mask("test", layer, SparsityProfile("p", "test", "t", {"conv": d}), 0, "weights")
    assert np.count_nonzero(w) == nonzero_count(0.5, w.size)
    assert d.weight_pattern.pattern == "uniform"
    assert d.activation_pattern.pattern == "uniform"


def test_fit_recovers_the_length_of_small_maps_with_spread_channels() -> None:
    """On 16 x 16 maps with spread channel densities the naive estimate reads low; the fit does not."""
    from accelsim.workload.mask_stats import fit_correlation_length

    layer = _conv(16, 128, 1, r=1)
    pattern = _correlated(length=2.0, channel_relative_cv=0.75)
    _, a = _masks(layer, LayerDensity(1.0, 0.6, activation_pattern=pattern), seed=11)
    assert correlation_length(a) < 1.9
    assert fit_correlation_length(a, relative_group_cv(a, 0), draws=3) == pytest.approx(2.0, rel=0.15)


def test_structured_profiles_use_the_measured_spreads() -> None:
    """The relative CVs the structured profiles cite are the means measured on the shipped real masks."""
    path = REPO_ROOT / "workloads" / "profiles" / "mobilenet_v1_0.5_128" / "sparseloop_masks.npz"
    with np.load(path) as npz:
        layers = sorted({key.split(".")[0] for key in npz.files})
        filters = [relative_group_cv(npz[f"{n}.weights"], 0) for n in layers if n.startswith("pw")]
        channels = [relative_group_cv(npz[f"{n}.activations"], 0) for n in layers]
    for network in ("vgg16", "mobilenet_v1"):
        text = (REPO_ROOT / "workloads" / "profiles" / network / "structured.yaml").read_text()
        assert f"relative_cv: {np.mean(filters):.3f}" in text
        assert f"channel_relative_cv: {np.mean(channels):.3f}" in text
        profile = load_profile(network, "structured")
        patterns = [d.weight_pattern for d in profile.layers.values() if d.weights < 1.0]
        assert all(isinstance(p, SpreadPattern) for p in patterns)


def _kernel(**kw: object) -> KernelPattern:
    return KernelPattern.model_validate({"pattern": "kernel", **kw})


@pytest.mark.parametrize("assign", ["fixed", "per_filter", "rotating"])
def test_psconv_kernels_keep_four_of_nine_taps(assign: str) -> None:
    layer = _conv(6, 16, 12)
    w, _ = _masks(layer, LayerDensity(0.4444, 1.0, weight_pattern=_kernel(assign=assign)))
    assert (w.sum(axis=(2, 3)) == 4).all()  # every kernel keeps exactly 4 taps
    squares = {tuple(map(tuple, np.array(t, dtype=bool))) for t in CORNER_TAPS}
    assert all(tuple(map(tuple, w[f, c])) in squares for f in range(12) for c in range(16))
    used = {
        (f, c): CORNER_TAPS.index(tuple(map(tuple, w[f, c].astype(int))))
        for f in range(12)
        for c in range(16)
    }
    expected = {
        "fixed": lambda f, c: 0,
        "per_filter": lambda f, c: f % 4,
        "rotating": lambda f, c: (f + c) % 4,
    }
    assert all(used[f, c] == expected[assign](f, c) for f, c in used)
    w2, _ = _masks(layer, LayerDensity(0.4444, 1.0, weight_pattern=_kernel(assign=assign)), seed=9)
    assert np.array_equal(w, w2)  # pre-defined: the seed does not move it


def test_kernel_pattern_explicit_taps_and_errors() -> None:
    cross = [[[0, 1, 0], [1, 1, 1], [0, 1, 0]]]
    w, _ = _masks(_conv(4, 8, 8), LayerDensity(0.5556, 1.0, weight_pattern=_kernel(taps=cross)))
    assert (w == np.array(cross[0], dtype=bool)).all()
    with pytest.raises(ConfigError, match=r"allowed: 0\.4444"):
        _masks(_conv(4, 8, 8), LayerDensity(0.3, 1.0, weight_pattern=_kernel()))
    with pytest.raises(ConfigError, match=r"allowed: 1 x 1 masks"):
        _masks(_conv(4, 8, 8, r=1), LayerDensity(0.4444, 1.0, weight_pattern=_kernel()))
    with pytest.raises(ValueError, match="equal r x s shape"):
        _kernel(taps=[[[1, 0], [1]]])
    with pytest.raises(ConfigError, match="kernel pattern shapes weight kernels only"):
        LayerDensity(1.0, 0.5, activation_pattern=_kernel())


@pytest.mark.parametrize(
    "network",
    ["vgg16", "resnet18", "vgg16_cifar10", "vgg16_tinyimagenet", "resnet18_cifar10", "resnet18_tinyimagenet"],
)
def test_psconv_profiles(network: str) -> None:
    from accelsim.workload.loaders import load_network

    net = load_network(network)
    profile = load_profile(network, "psconv", check_against=net)
    first, *rest = net.compute_layers
    assert profile.density(first.name).weights == 1.0  # the image layer stays dense, as in pSConv
    sparse = [x for x in rest if (x.r, x.s) == (3, 3)]
    assert sparse
    assert all(profile.density(x.name).weights == 0.4444 for x in sparse)
    assert all(profile.density(x.name).weights == 1.0 for x in rest if (x.r, x.s) != (3, 3))
    w = operand_mask(network, sparse[-1], profile, 0, "weights")
    assert (w.sum(axis=(2, 3)) == 4).all()


def test_uniform_counterpart_keeps_densities_and_counts() -> None:
    from accelsim.workload.loaders import load_network
    from accelsim.workload.sparsity import uniform_counterpart

    net = load_network("vgg16_cifar10")
    kernels = load_profile("vgg16_cifar10", "psconv")
    plain = uniform_counterpart(kernels, "unstructured")
    assert plain.id == "unstructured"
    for layer in net.compute_layers:
        d = plain.density(layer.name)
        assert (d.weight_pattern.pattern, d.activation_pattern.pattern) == ("uniform", "uniform")
        a = operand_mask("vgg16_cifar10", layer, kernels, 0, "weights")
        b = operand_mask("vgg16_cifar10", layer, plain, 0, "weights")
        assert np.count_nonzero(a) == np.count_nonzero(b)  # 4/9 exactly, at random positions
    structured = load_profile("mobilenet_v1_0.5_128", "pruned")
    same = uniform_counterpart(structured)
    assert same.density("pw3").weight_pattern.pattern == "real"  # real masks stay real
    assert same.density("pw5") == structured.density("pw5")
