"""ResNet-18, ResNet-50 and GoogLeNet: MAC totals recomputed here from the architecture definitions, the
published totals, and the residual adds and inception concats chaining the branches."""

from __future__ import annotations

import pytest

from accelsim.config.workload_spec import NetworkSpec
from accelsim.config.yaml_io import load_model
from accelsim.workload.catalog import data_dir
from accelsim.workload.layer import LayerKind
from accelsim.workload.loaders import layer_from_spec, load_network


def _conv_macs(out: int, c: int, k: int, r: int) -> int:
    return out * out * c * k * r * r


def _resnet_macs(blocks: tuple[int, ...], bottleneck: bool) -> int:
    """torchvision ResNet: 7x7/s2 stem, 3x3/s2 max-pool, four stages, stride on the block's 3x3 conv."""
    total = _conv_macs(112, 3, 64, 7)
    size, c = 56, 64
    for stage, (n, width) in enumerate(zip(blocks, (64, 128, 256, 512), strict=True)):
        for b in range(n):
            stride = 2 if stage and b == 0 else 1
            out = size // stride
            k = 4 * width if bottleneck else width
            if bottleneck:
                total += _conv_macs(size, c, width, 1)  # 1x1 reduce, at the block's input size
                total += _conv_macs(out, width, width, 3)  # 3x3, carries the stride
                total += _conv_macs(out, width, k, 1)  # 1x1 expand
            else:
                total += _conv_macs(out, c, width, 3) + _conv_macs(out, width, width, 3)
            if stride != 1 or c != k:
                total += _conv_macs(out, c, k, 1)  # projection shortcut
            size, c = out, k
    return total + c * 1000


# (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj) per module: Szegedy et al. 2015, Table 1
_INCEPTION = {
    28: [(64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64)],
    14: [
        (192, 96, 208, 16, 48, 64),
        (160, 112, 224, 24, 64, 64),
        (128, 128, 256, 24, 64, 64),
        (112, 144, 288, 32, 64, 64),
        (256, 160, 320, 32, 128, 128),
    ],
    7: [(256, 160, 320, 32, 128, 128), (384, 192, 384, 48, 128, 128)],
}


def _googlenet_macs() -> int:
    total = _conv_macs(112, 3, 64, 7) + _conv_macs(56, 64, 64, 1) + _conv_macs(56, 64, 192, 3)
    c = 192
    for size, modules in _INCEPTION.items():
        for n1, r3, n3, r5, n5, pp in modules:
            total += size * size * (c * (n1 + r3 + r5 + pp) + 9 * r3 * n3 + 25 * r5 * n5)
            c = n1 + n3 + n5 + pp
    return total + c * 1000


@pytest.mark.parametrize(
    ("name", "expected", "published", "tolerance"),
    [
        # He et al., CVPR 2016, Table 1: 1.8 x 10^9 FLOPs (multiply-adds) for the 18-layer net
        ("resnet18", _resnet_macs((2, 2, 2, 2), bottleneck=False), 1.8e9, 0.02),
        # torchvision's model table: 4.09 GFLOPS for resnet50 (stride on the 3x3: more than the paper's 3.8)
        ("resnet50", _resnet_macs((3, 4, 6, 3), bottleneck=True), 4.09e9, 0.01),
        # Szegedy et al., CVPR 2015, section 5: "1.5 billion multiply-adds at inference time" (rounded)
        ("googlenet", _googlenet_macs(), 1.5e9, 0.06),
    ],
)
def test_mac_totals(name: str, expected: int, published: float, tolerance: float) -> None:
    net = load_network(name)
    assert net.macs == expected
    assert net.macs == pytest.approx(published, rel=tolerance)


def test_exact_totals_stated_in_the_files() -> None:
    assert load_network("resnet18").macs == 1_814_073_344
    assert load_network("resnet50").macs == 4_089_184_256
    assert load_network("googlenet").macs == 1_582_671_872
    # weights without biases or batch-norm parameters: torchvision's 11,689,512 and 25,557,032 parameters
    # less the fc bias (1,000) and BN's 2 per channel (9,600 and 53,120)
    assert load_network("resnet18").weights == 11_689_512 - 1_000 - 9_600
    assert load_network("resnet50").weights == 25_557_032 - 1_000 - 53_120


@pytest.mark.parametrize(("name", "adds", "shortcuts"), [("resnet18", 8, 3), ("resnet50", 16, 4)])
def test_residual_blocks(name: str, adds: int, shortcuts: int) -> None:
    net = load_network(name)
    add_layers = [layer for layer in net if layer.kind is LayerKind.ADD]
    assert len(add_layers) == adds
    assert sum(layer.name.endswith("_downsample") for layer in net) == shortcuts
    assert all(layer.macs == 0 and not layer.is_compute for layer in add_layers)
    # the stride of a downsampling bottleneck sits on its 3x3 conv (torchvision v1.5)
    if name == "resnet50":
        assert (net["layer2_0_conv1"].stride, net["layer2_0_conv2"].stride) == (1, 2)
    assert net["fc"].c == 512 * (4 if name == "resnet50" else 1)


def test_googlenet_modules_and_the_3x3_layer_set() -> None:
    net = load_network("googlenet")
    concats = [layer for layer in net if layer.kind is LayerKind.CONCAT]
    assert [layer.k for layer in concats] == [256, 480, 512, 512, 512, 528, 832, 832, 1024]
    # the ten 3x3 convolutions are those of the convnet-benchmarks layer set (same prototxt), shape for shape
    spec = load_model(
        NetworkSpec, data_dir("workloads") / "convnet_benchmarks" / "googlenet_3x3.yaml", "network"
    )
    layer_set = [layer_from_spec(x) for x in spec.layers]
    threes = [layer for layer in net if layer.r == 3 and layer.is_compute]
    assert [(x.name, x.h, x.c, x.k) for x in threes] == [(x.name, x.h, x.c, x.k) for x in layer_set]


def _small_resnet18_macs(size: int, classes: int) -> int:
    """kuangliu/pytorch-cifar ResNet18: 3x3/s1 stem, no max-pool, 1x1 projection shortcuts."""
    total = _conv_macs(size, 3, 64, 3)
    c = 64
    for stage, width in enumerate((64, 128, 256, 512)):
        for b in range(2):
            stride = 2 if stage and b == 0 else 1
            out = size // stride
            total += _conv_macs(out, c, width, 3) + _conv_macs(out, width, width, 3)
            if stride != 1:
                total += _conv_macs(out, c, width, 1)
            size, c = out, width
    return total + 512 * classes


def _small_vgg16_macs(size: int, classes: int) -> int:
    total, c = 0, 3
    for n, k in ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)):
        for _ in range(n):
            total += _conv_macs(size, c, k, 3)
            c = k
        size //= 2
    return total + size * size * c * classes


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("vgg16_cifar10", _small_vgg16_macs(32, 10)),
        ("vgg16_tinyimagenet", _small_vgg16_macs(64, 200)),
        ("resnet18_cifar10", _small_resnet18_macs(32, 10)),
        ("resnet18_tinyimagenet", _small_resnet18_macs(64, 200)),
    ],
)
def test_small_input_networks(name: str, expected: int) -> None:
    net = load_network(name)
    assert net.macs == expected
    assert (net.compute_layers[0].r, net.compute_layers[0].stride) == (3, 1)  # the small-input stem


def test_small_input_totals_match_the_usual_figures() -> None:
    # the CIFAR-10 ResNet-18 and VGG16 are commonly quoted at 0.56 and 0.31 G multiply-adds
    assert load_network("resnet18_cifar10").macs == 555_422_720
    assert load_network("vgg16_cifar10").macs == 313_201_664


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "googlenet"])
def test_pruned_profiles_are_labelled_assumptions_and_generate(name: str) -> None:
    from accelsim.workload.masks import layer_masks, nonzero_count
    from accelsim.workload.sparsity import load_profile

    net = load_network(name)
    profile = load_profile(name, "pruned", check_against=net)
    assert "[assumption]" in profile.source  # no published per-layer densities: said so
    layer = net.compute_layers[-2]  # a late conv: spread weights, correlated inputs
    m = layer_masks(name, layer, profile, seed=0)
    assert m.weights.sum() == nonzero_count(0.3, m.weights.size)
    assert m.activations.sum() == nonzero_count(0.5, m.activations.size)
