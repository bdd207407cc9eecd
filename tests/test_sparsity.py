"""Sparsity profiles: every shipped profile loads and fits its network, with [HAN15] numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accelsim.config.workload_spec import ChannelPattern, ClusteredPattern, RealPattern, UniformPattern
from accelsim.errors import ConfigError, UnknownNameError
from accelsim.workload.catalog import list_profiles, profile_path
from accelsim.workload.loaders import load_network
from accelsim.workload.sparsity import (
    LayerDensity,
    SparsityProfile,
    check_profile,
    dense_profile,
    load_profile,
)

SHIPPED = [pair for pair in list_profiles() if pair[1] != "dense"]


def test_shipped_profiles_are_listed() -> None:
    assert list_profiles("alexnet") == [
        ("alexnet", "dense"),
        ("alexnet", "eyeriss_inputs"),
        ("alexnet", "pruned"),
    ]
    assert SHIPPED == [
        ("alexnet", "eyeriss_inputs"),
        ("alexnet", "pruned"),
        ("googlenet", "pruned"),
        ("mobilenet_v1", "measured"),
        ("mobilenet_v1", "pruned"),
        ("mobilenet_v1", "structured"),
        ("mobilenet_v1_0.5_128", "pruned"),
        ("resnet18", "pruned"),
        ("resnet18", "psconv"),
        ("resnet18_cifar10", "psconv"),
        ("resnet18_tinyimagenet", "psconv"),
        ("resnet50", "pruned"),
        ("vgg16", "pruned"),
        ("vgg16", "psconv"),
        ("vgg16", "structured"),
        ("vgg16_cifar10", "psconv"),
        ("vgg16_tinyimagenet", "psconv"),
    ]


@pytest.mark.parametrize(("network", "profile_id"), list_profiles())
def test_every_profile_loads_and_fits_its_network(network: str, profile_id: str) -> None:
    net = load_network(network)
    profile = load_profile(network, profile_id, check_against=net)
    check_profile(profile, net)
    assert (profile.id, profile.network) == (profile_id, network)
    assert profile.source.strip()
    if profile_id != "dense":
        assert re.search(r"\[[A-Z][A-Z0-9-]*\d\d", profile.source), "cites a docs/references.md key"
        assert set(profile.layers) == {x.name for x in net.compute_layers}, (
            "shipped profiles list every layer"
        )
        assert profile.base_dir == profile_path(network, profile_id).parent


def test_alexnet_pruned_values() -> None:
    p = load_profile("alexnet", "pruned")
    weights = [
        p.density(n).weights for n in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")
    ]
    acts = [
        p.density(n).activations for n in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")
    ]
    assert weights == [0.84, 0.38, 0.35, 0.37, 0.37, 0.09, 0.09, 0.25]  # Han'15 Weights% ([HAN15])
    assert acts == [1.0, 0.88, 0.52, 0.37, 0.40, 0.351, 0.353, 0.375]  # [HAN15]
    assert isinstance(p.density("conv2").activation_pattern, UniformPattern)
    e = load_profile("alexnet", "eyeriss_inputs")
    assert [e.density(f"conv{i}").activations for i in range(1, 6)] == [0.999, 0.600, 0.275, 0.207, 0.230]
    assert all(e.density(n).weights == p.density(n).weights for n in p.layers)


def test_profiles_reproduce_published_work_fractions() -> None:
    """MAC-weighted weight x input density: AlexNet 30.3 % ([HAN15]), VGG16 21 % (Han, 2.3)."""
    for network, expected, tol in (("alexnet", 0.303, 0.002), ("vgg16", 0.21, 0.005)):
        net, p = load_network(network), load_profile(network, "pruned")
        work = sum(x.macs * p.density(x.name).weights * p.density(x.name).activations for x in net)
        assert work / net.macs == pytest.approx(expected, abs=tol)


def test_mobilenet_measured_profile() -> None:
    net, p = load_network("mobilenet_v1"), load_profile("mobilenet_v1", "measured")
    assert all(p.density(x.name).weights == 1.0 for x in net.compute_layers)
    assert p.density("conv1").activations == 1.0
    dw1 = p.density("dw1")  # reads conv1's output: density 0.748, P11 0.995 ([TFSLIM17])
    assert dw1.activations == 0.748
    assert dw1.activation_pattern == ClusteredPattern(pattern="clustered", p11=0.995)
    pw13 = p.density("pw13")  # reads dw13's output
    assert pw13.activations == 0.528
    assert pw13.activation_pattern == ClusteredPattern(pattern="clustered", p11=0.89)
    assert p.density("fc").activations == 0.855  # 1 - dead-channel fraction of pw13 (assumption)
    acts = sum(x.macs * p.density(x.name).activations for x in net) / net.macs
    assert acts == pytest.approx(0.626, abs=0.001)  # [TFSLIM17]: MAC-weighted input density


def test_mobilenet_pruned_profile() -> None:
    net, p = load_network("mobilenet_v1"), load_profile("mobilenet_v1", "pruned")
    m = load_profile("mobilenet_v1", "measured")
    for x in net.compute_layers:
        expected = 0.5 if x.name in {f"pw{i}" for i in range(4, 14)} else 0.4 if x.name == "fc" else 1.0
        assert p.density(x.name).weights == expected, x.name
        assert p.density(x.name).activations == m.density(x.name).activations
        assert p.density(x.name).activation_pattern == m.density(x.name).activation_pattern
    assert p.density("pw12").weight_pattern == ChannelPattern(pattern="channel", dead_fraction=0.378)
    nnz = sum(round(x.weights * p.density(x.name).weights) for x in net.compute_layers)
    assert nnz == 2_038_208  # Distiller AGP-50 ([DISTILLER19])


def test_dense_profile() -> None:
    p = load_profile("vgg16", "dense")
    assert p == dense_profile("vgg16")
    assert p.is_dense
    assert p.density("conv1_1") == LayerDensity()
    assert not load_profile("vgg16", "pruned").is_dense
    assert hash(load_profile("vgg16", "pruned")) == hash(
        load_profile("vgg16", "pruned")
    )  # usable as a cache key


def test_unlisted_layer_is_dense() -> None:
    p = SparsityProfile("x", "vgg16", "test", {"conv1_1": LayerDensity(0.5, 0.5)})
    assert p.density("conv5_3").is_dense
    assert not p.is_dense


def test_unknown_profile_id_lists_known() -> None:
    with pytest.raises(UnknownNameError) as err:
        load_profile("alexnet", "magic")
    assert err.value.known == ["dense", "eyeriss_inputs", "pruned"]
    assert "alexnet" in str(err.value)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return path


def test_profile_naming_missing_layer(tmp_path: Path) -> None:
    path = _write(tmp_path, "id: t\nnetwork: vgg16\nsource: test\nlayers:\n  conv9_9: {weights: 0.5}\n")
    profile = load_profile("vgg16", path)
    with pytest.raises(ConfigError) as err:
        check_profile(profile, load_network("vgg16"))
    msg = str(err.value)
    assert str(path) in msg
    assert "layers.conv9_9" in msg
    assert "conv1_1" in msg
    assert "fc8" in msg
    with pytest.raises(ConfigError, match=r"layers\.conv9_9"):
        load_profile("vgg16", path, check_against=load_network("vgg16"))


def test_profile_naming_pool_layer(tmp_path: Path) -> None:
    path = _write(tmp_path, "id: t\nnetwork: vgg16\nsource: test\nlayers:\n  pool1: {activations: 0.5}\n")
    with pytest.raises(ConfigError, match=r"layers\.pool1"):
        load_profile("vgg16", path, check_against=load_network("vgg16"))


def test_profile_for_another_network(tmp_path: Path) -> None:
    path = _write(tmp_path, "id: t\nnetwork: alexnet\nsource: test\n")
    with pytest.raises(ConfigError, match=r"network: .*'alexnet'.*'vgg16'") as err:
        load_profile("vgg16", path)
    assert str(path) in str(err.value)
    with pytest.raises(ConfigError, match="network"):
        check_profile(load_profile("alexnet", path), load_network("vgg16"))


def test_profile_bad_values(tmp_path: Path) -> None:
    path = _write(tmp_path, "id: t\nnetwork: vgg16\nsource: test\nlayers:\n  fc6: {weights: 1.5}\n")
    with pytest.raises(ConfigError, match=r"layers\.fc6\.weights") as err:
        load_profile("vgg16", path)
    assert str(path) in str(err.value)
    path = _write(tmp_path, "id: t\nnetwork: vgg16\nlayers: {}\n")
    with pytest.raises(ConfigError, match="source"):
        load_profile("vgg16", path)
    path = _write(tmp_path, "id: t\nnetwork: vgg16\nsource: x\nactivation_pattern: {pattern: blobs}\n")
    with pytest.raises(ConfigError, match="activation_pattern"):
        load_profile("vgg16", path)


def test_missing_profile_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_profile("vgg16", tmp_path / "absent.yaml")


def test_layer_pattern_overrides_profile_default(tmp_path: Path) -> None:
    text = (
        "id: t\nnetwork: vgg16\nsource: test\n"
        "activation_pattern: {pattern: clustered, p11: 0.8}\n"
        "layers:\n  conv1_2: {activations: 0.5}\n"
        "  conv2_1: {activations: 0.5, activation_pattern: {pattern: uniform}}\n"
    )
    p = load_profile("vgg16", _write(tmp_path, text))
    assert isinstance(p.density("conv1_2").activation_pattern, ClusteredPattern)
    assert isinstance(p.density("conv2_1").activation_pattern, UniformPattern)
    assert isinstance(p.density("conv1_2").weight_pattern, UniformPattern)


def test_real_pattern_file_must_exist(tmp_path: Path) -> None:
    text = (
        "id: t\nnetwork: vgg16\nsource: test\n"
        "layers:\n  fc8: {weights: 0.5, weight_pattern: {pattern: real, file: masks.npz}}\n"
    )
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=r"layers\.fc8\.weight_pattern\.file") as err:
        load_profile("vgg16", path)
    assert str(tmp_path / "masks.npz") in str(err.value)
    (tmp_path / "masks.npz").write_bytes(b"")
    p = load_profile("vgg16", path)
    assert isinstance(p.density("fc8").weight_pattern, RealPattern)
    assert not p.is_dense


def test_density_out_of_range_in_code() -> None:
    with pytest.raises(ConfigError, match="weights density"):
        LayerDensity(weights=0.0)
