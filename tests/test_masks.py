"""Operand masks: exact densities, pattern statistics, determinism across processes, effectual MACs."""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from accelsim.config.workload_spec import ChannelPattern, ClusteredPattern, UniformPattern
from accelsim.errors import ConfigError, WorkloadError
from accelsim.workload import masks as masks_module
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.loaders import load_network
from accelsim.workload.masks import (
    OperandMasks,
    activation_shape,
    dense_effectual_macs,
    effectual_macs,
    effectual_macs_reference,
    layer_masks,
    mask_rng,
    nonzero_count,
    weight_shape,
)
from accelsim.workload.sparsity import LayerDensity, SparsityProfile, load_profile

REPO_ROOT = Path(__file__).resolve().parent.parent

CONV = Layer("conv", LayerKind.CONV, h=28, w=28, c=64, k=64, r=3, s=3, pad=1)


def _profile(layer: str, density: LayerDensity, network: str = "test") -> SparsityProfile:
    return SparsityProfile("p", network, "test", {layer: density})


def test_shapes_and_dtypes() -> None:
    net, profile = load_network("alexnet"), load_profile("alexnet", "pruned")
    for name in ("conv1", "conv2", "fc6"):
        layer = net[name]
        m = layer_masks("alexnet", layer, profile, seed=0)
        assert m.weights.shape == weight_shape(layer) == (layer.k, layer.c // layer.groups, layer.r, layer.s)
        assert m.activations.shape == activation_shape(layer) == (layer.c, layer.h, layer.w)
        assert m.weights.dtype == bool
        assert m.activations.dtype == bool
    dw = load_network("mobilenet_v1")["dw3"]
    m = layer_masks("mobilenet_v1", dw, load_profile("mobilenet_v1", "measured"), seed=0)
    assert m.weights.shape == (128, 1, 3, 3)


def test_nonzero_count_rounding() -> None:
    assert nonzero_count(0.5, 5) == 3  # halves round up
    assert nonzero_count(0.3, 10) == 3
    assert nonzero_count(1e-9, 100) == 1  # at least one non-zero when density > 0
    assert nonzero_count(1.0, 7) == 7


@pytest.mark.parametrize(("wd", "ad"), [(0.22, 0.53), (0.04, 0.19), (0.999, 0.001)])
def test_uniform_counts_are_exact(wd: float, ad: float) -> None:
    m = layer_masks("test", CONV, _profile("conv", LayerDensity(wd, ad)), seed=5)
    assert int(m.weights.sum()) == nonzero_count(wd, m.weights.size)
    assert int(m.activations.sum()) == nonzero_count(ad, m.activations.size)


def test_uniform_exact_and_spread_over_blocks() -> None:
    """VGG16 fc7 (16.8 M weights) spans 16 blocks; the count is exact and every block gets its share."""
    layer = load_network("vgg16")["fc7"]
    m = layer_masks("vgg16", layer, load_profile("vgg16", "pruned"), seed=1)
    n, nnz = m.weights.size, int(m.weights.sum())
    assert nnz == nonzero_count(0.04, n)
    block = 1 << 20
    per_block = m.weights.reshape(-1, block).sum(axis=1)
    sigma = math.sqrt(block * 0.04 * 0.96)  # hypergeometric spread <= binomial spread
    assert np.all(np.abs(per_block - 0.04 * block) < 6 * sigma)


def test_dense_operands_do_not_touch_the_random_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object) -> None:
        raise AssertionError("mask_rng called for a dense operand")

    monkeypatch.setattr(masks_module, "mask_rng", forbidden)
    m = layer_masks("test", CONV, _profile("conv", LayerDensity(1.0, 1.0)), seed=0)
    assert m.weights.all()
    assert m.activations.all()


def test_pool_layer_has_no_masks() -> None:
    pool = load_network("vgg16")["pool1"]
    with pytest.raises(WorkloadError, match="is a pool layer"):
        layer_masks("vgg16", pool, load_profile("vgg16", "pruned"), seed=0)


def test_bad_seed() -> None:
    with pytest.raises(ConfigError, match="seed"):
        mask_rng("n", "l", "p", -1, "weights")


def test_clustered_density_and_p11() -> None:
    """Mean density within 5 sigma of rho, measured P11 within 5 sigma of the configured value.

    Each row of w = 56 is a stationary two-state chain with lag-t correlation lambda^t, lambda = P11 - P01,
    so Var(row sum) <= rho (1 - rho) w (1 + lambda) / (1 - lambda) and, rows being independent,
    sigma(mean) <= sqrt(rho (1 - rho) (1 + lambda) / ((1 - lambda) N)); for rho = 0.4, P11 = 0.85
    (P01 = 0.1, lambda = 0.75) and N = 64 * 56 * 56 = 200,704 this is 0.0029, so the tolerance is 0.0145.
    Given a non-zero, the next element is Bernoulli(P11) independently, so the P11 estimate over
    n1 ~ rho N (w - 1) / w pairs has sigma = sqrt(P11 (1 - P11) / n1) ~ 0.0013: tolerance 0.0064.
    """
    rho, p11 = 0.4, 0.85
    layer = Layer("c", LayerKind.CONV, h=56, w=56, c=64, k=8, r=3, s=3, pad=1)
    d = LayerDensity(1.0, rho, activation_pattern=ClusteredPattern(pattern="clustered", p11=p11))
    a = layer_masks("test", layer, _profile("c", d), seed=11).activations
    n = a.size
    p01 = rho * (1 - p11) / (1 - rho)
    lam = p11 - p01
    tol_density = 5 * math.sqrt(rho * (1 - rho) * (1 + lam) / ((1 - lam) * n))
    assert abs(a.mean() - rho) < tol_density
    left, right = a[..., :-1], a[..., 1:]
    ones = int(left.sum())
    measured_p11 = int((left & right).sum()) / ones
    assert abs(measured_p11 - p11) < 5 * math.sqrt(p11 * (1 - p11) / ones)
    measured_p01 = int((~left & right).sum()) / int((~left).sum())
    assert abs(measured_p01 - p01) < 0.01
    uniform = layer_masks("test", layer, _profile("c", LayerDensity(1.0, rho)), seed=11).activations
    u_left, u_right = uniform[..., :-1], uniform[..., 1:]
    assert int((u_left & u_right).sum()) / int(u_left.sum()) < 0.45  # i.i.d. P11 ~ rho: no clustering


def test_clustered_impossible_density() -> None:
    d = LayerDensity(1.0, 0.9, activation_pattern=ClusteredPattern(pattern="clustered", p11=0.5))
    with pytest.raises(ConfigError, match=r"p11=0\.5 cannot reach density 0\.9.*0\.6667"):
        layer_masks("test", CONV, _profile("conv", d), seed=0)


def test_channel_pattern() -> None:
    d = LayerDensity(
        0.3,
        0.3,
        weight_pattern=ChannelPattern(pattern="channel", dead_fraction=0.25),
        activation_pattern=ChannelPattern(pattern="channel", dead_fraction=0.25),
    )
    m = layer_masks("test", CONV, _profile("conv", d), seed=2)
    dead_filters = int((~m.weights.reshape(64, -1).any(axis=1)).sum())
    dead_channels = int((~m.activations.reshape(64, -1).any(axis=1)).sum())
    assert dead_filters == dead_channels == 16  # round(0.25 * 64); live ones cannot be all zero here
    assert int(m.weights.sum()) == nonzero_count(0.3, m.weights.size)
    assert int(m.activations.sum()) == nonzero_count(0.3, m.activations.size)


def test_channel_pattern_impossible() -> None:
    d = LayerDensity(0.9, 1.0, weight_pattern=ChannelPattern(pattern="channel", dead_fraction=0.25))
    with pytest.raises(ConfigError, match=r"dead_fraction=0\.25.*density <= 0\.75"):
        layer_masks("test", CONV, _profile("conv", d), seed=0)


def test_every_shipped_mobilenet_mask_generates() -> None:
    """All clustered and channel patterns of the MobileNet profiles are feasible; AGP-50 count is exact."""
    net = load_network("mobilenet_v1")
    for profile_id in ("measured", "pruned"):
        profile = load_profile("mobilenet_v1", profile_id)
        nnz = 0
        for layer in net.compute_layers:
            m = layer_masks("mobilenet_v1", layer, profile, seed=0)
            nnz += int(m.weights.sum())
            if layer.name == "pw12" and profile_id == "pruned":
                dead = int((~m.weights.reshape(layer.k, -1).any(axis=1)).sum())
                assert dead == round(0.378 * 1024)
        assert nnz == (4_209_088 if profile_id == "measured" else 2_038_208)


# ---------------------------------------------------------------------------------------------- real


def _real_profile(tmp_path: Path) -> tuple[Layer, Path]:
    layer = Layer("l1", LayerKind.CONV, h=5, w=6, c=4, k=6, r=3, s=3, pad=1, groups=2)
    text = (
        "id: real\nnetwork: tiny\nsource: test\n"
        "weight_pattern: {pattern: real, file: masks.npz}\n"
        "activation_pattern: {pattern: real, file: masks.npz}\n"
        "layers:\n  l1: {}\n"
    )
    (tmp_path / "real.yaml").write_text(text)
    return layer, tmp_path / "real.yaml"


def test_real_masks_round_trip(tmp_path: Path) -> None:
    layer, path = _real_profile(tmp_path)
    rng = np.random.default_rng(0)
    w = (rng.random(weight_shape(layer)) < 0.5).astype(np.uint8)
    a = rng.random(activation_shape(layer)) < 0.5
    np.savez(tmp_path / "masks.npz", **{"l1.weights": w, "l1.activations": a})
    m = layer_masks("tiny", layer, load_profile("tiny", path), seed=0)
    assert np.array_equal(m.weights, w != 0)
    assert np.array_equal(m.activations, a)
    assert effectual_macs(layer, m) == effectual_macs_reference(layer, m)


def test_real_masks_wrong_shape_or_missing(tmp_path: Path) -> None:
    layer, path = _real_profile(tmp_path)
    npz = tmp_path / "masks.npz"
    np.savez(npz, **{"l1.weights": np.ones((6, 4, 3, 3)), "l1.activations": np.ones(activation_shape(layer))})
    with pytest.raises(ConfigError, match=r"'l1\.weights' has shape \(6, 4, 3, 3\).*\(6, 2, 3, 3\)") as err:
        layer_masks("tiny", layer, load_profile("tiny", path), seed=0)
    assert str(npz) in str(err.value)
    np.savez(npz, **{"l1.weights": np.ones(weight_shape(layer))})
    with pytest.raises(ConfigError, match=r"no array 'l1\.activations'.*l1\.weights") as err:
        layer_masks("tiny", layer, load_profile("tiny", path), seed=0)
    assert str(npz) in str(err.value)
    npz.write_text("not a zip file")
    with pytest.raises(ConfigError, match=r"not a readable \.npz"):
        layer_masks("tiny", layer, load_profile("tiny", path), seed=0)


# ---------------------------------------------------------------------------------------- determinism

CASES = [  # (network, profile, layer, seed): uniform, clustered, channel + clustered
    ("alexnet", "pruned", "conv2", 7),
    ("mobilenet_v1", "measured", "pw5", 3),
    ("mobilenet_v1", "pruned", "pw12", 0),
]

_DIGEST_SCRIPT = """
import hashlib, sys
from accelsim.workload.loaders import load_network
from accelsim.workload.masks import layer_masks
from accelsim.workload.sparsity import load_profile
for net, prof, layer, seed in {cases!r}:
    m = layer_masks(net, load_network(net)[layer], load_profile(net, prof), seed)
    print(*(hashlib.sha256(x.tobytes()).hexdigest() for x in (m.weights, m.activations)))
"""


def _digests(net: str, prof: str, layer: str, seed: int) -> str:
    m = layer_masks(net, load_network(net)[layer], load_profile(net, prof), seed)
    return " ".join(hashlib.sha256(x.tobytes()).hexdigest() for x in (m.weights, m.activations))


def test_masks_identical_in_another_process(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", _DIGEST_SCRIPT.format(cases=CASES)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split("\n")
    assert out[: len(CASES)] == [_digests(*case) for case in CASES]


def test_seeds_and_names_give_different_masks() -> None:
    layer, profile = load_network("alexnet")["conv3"], load_profile("alexnet", "pruned")
    a, b = layer_masks("alexnet", layer, profile, 0), layer_masks("alexnet", layer, profile, 1)
    again = layer_masks("alexnet", layer, profile, 0)
    assert np.array_equal(a.weights, again.weights)
    assert np.array_equal(a.activations, again.activations)
    assert not np.array_equal(a.weights, b.weights)
    assert not np.array_equal(a.activations, b.activations)
    other = load_profile("alexnet", "eyeriss_inputs")  # same weight density, other profile id
    assert not np.array_equal(a.weights, layer_masks("alexnet", layer, other, 0).weights)


# ------------------------------------------------------------------------------------- effectual MACs


@st.composite
def layers_with_masks(draw: st.DrawFn) -> tuple[Layer, OperandMasks]:
    """Small random layers of every compute kind with valid shapes, and random masks."""
    kind = draw(st.sampled_from([LayerKind.CONV, LayerKind.DEPTHWISE, LayerKind.POINTWISE, LayerKind.FC]))
    pad_end = (0, 0)
    if kind is LayerKind.FC:
        h = w = r = s = stride = groups = 1
        pad = 0
        c, k = draw(st.integers(1, 12)), draw(st.integers(1, 6))
    else:
        h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
        pad, stride = draw(st.integers(0, 2)), draw(st.integers(1, 3))
        pad_end = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))  # asymmetric: zeros after the input
        if kind is LayerKind.POINTWISE:
            r = s = 1
        else:
            r = draw(st.integers(1, min(4, h + 2 * pad + pad_end[0])))
            s = draw(st.integers(1, min(4, w + 2 * pad + pad_end[1])))
        if kind is LayerKind.DEPTHWISE:
            groups = c = k = draw(st.integers(1, 4))
        else:
            groups = draw(st.integers(1, 3)) if kind is LayerKind.CONV else 1
            c, k = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    layer = Layer(
        "x", kind, h=h, w=w, c=c, k=k, r=r, s=s, stride=stride, pad=pad, groups=groups, pad_end=pad_end
    )
    wts = draw(hnp.arrays(np.bool_, weight_shape(layer)))
    acts = draw(hnp.arrays(np.bool_, activation_shape(layer)))
    return layer, OperandMasks(wts, acts)


@settings(deadline=None, max_examples=300)
@given(case=layers_with_masks())
def test_effectual_macs_equals_reference(case: tuple[Layer, OperandMasks]) -> None:
    layer, m = case
    assert effectual_macs(layer, m) == effectual_macs_reference(layer, m)
    ones = OperandMasks(np.ones_like(m.weights), np.ones_like(m.activations))
    assert effectual_macs(layer, ones) == effectual_macs_reference(layer, ones) == dense_effectual_macs(layer)
    if layer.pad == 0 and layer.pad_end == (0, 0):
        assert effectual_macs(layer, ones) == layer.macs


@pytest.mark.parametrize("network", ["alexnet", "vgg16", "mobilenet_v1"])
def test_all_ones_masks_give_layer_macs(network: str) -> None:
    """Dense masks: every MAC is effectual, except those on zero padding (layer.macs counts them)."""
    for layer in load_network(network).compute_layers:
        dense = layer_masks(network, layer, load_profile(network, "dense"), seed=0)
        got = effectual_macs(layer, dense)
        assert got == dense_effectual_macs(layer), layer.name
        assert (got == layer.macs) == (layer.pad == 0), layer.name


def test_effectual_macs_is_fast_on_vgg16_conv1_2() -> None:
    layer = load_network("vgg16")["conv1_2"]
    m = layer_masks("vgg16", layer, load_profile("vgg16", "pruned"), seed=0)
    start = time.perf_counter()
    n = effectual_macs(layer, m)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.5, f"effectual_macs took {elapsed:.2f} s (target ~0.5 s)"
    # uniform masks: about weight x input density of the MACs, a little less for the zero padding
    assert 0.95 * 0.22 * 0.53 < n / layer.macs < 0.22 * 0.53 * 1.01


def test_effectual_macs_rejects_wrong_shapes() -> None:
    m = OperandMasks(np.ones((64, 64, 3, 3), bool), np.ones((64, 27, 28), bool))
    with pytest.raises(WorkloadError, match="activations mask has shape"):
        effectual_macs(CONV, m)
    with pytest.raises(WorkloadError, match="is a pool layer"):
        effectual_macs(load_network("vgg16")["pool1"], m)


def test_uniform_pattern_spec_default() -> None:
    assert LayerDensity().weight_pattern == UniformPattern()
