"""Shipped networks reproduce the shapes, MACs and weights of [ALEXNET12; VGG15; MOBILENET17]; bad files
fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from accelsim.errors import ConfigError, UnknownNameError, WorkloadError
from accelsim.workload.catalog import data_dir, list_networks, network_path
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.loaders import load_network

# (network, total MACs, total weights): [ALEXNET12; VGG15; MOBILENET17 Table 1] [derived, cross-checked]
TOTALS = [
    ("alexnet", 724_406_816, 60_954_656),
    ("vgg16", 15_470_264_320, 138_344_128),
    ("mobilenet_v1", 568_740_352, 4_209_088),
    # [SPARSELOOP22; EYERISSV2-19 §V-A]: the Eyeriss v2 benchmark, "49.2 M" MACs; [MOBILENET17]: 49 M / 1.32 M
    ("mobilenet_v1_0.5_128", 49_160_192, 1_319_648),
]

# (network, layer, out h, MACs, weights): rows of the [ALEXNET12; MOBILENET17 Table 1] tables
ROWS = [
    ("alexnet", "conv1", 55, 105_415_200, 34_848),
    ("alexnet", "conv2", 27, 223_948_800, 307_200),
    ("alexnet", "conv4", 13, 112_140_288, 663_552),
    ("alexnet", "conv5", 13, 74_760_192, 442_368),
    ("alexnet", "fc6", 1, 37_748_736, 37_748_736),
    ("alexnet", "fc8", 1, 4_096_000, 4_096_000),
    ("vgg16", "conv1_1", 224, 86_704_128, 1_728),
    ("vgg16", "conv1_2", 224, 1_849_688_064, 36_864),
    ("vgg16", "conv3_1", 56, 924_844_032, 294_912),
    ("vgg16", "conv5_3", 14, 462_422_016, 2_359_296),
    ("vgg16", "fc6", 1, 102_760_448, 102_760_448),
    ("mobilenet_v1", "conv1", 112, 10_838_016, 864),
    ("mobilenet_v1", "dw1", 112, 3_612_672, 288),
    ("mobilenet_v1", "dw2", 56, 1_806_336, 576),
    ("mobilenet_v1", "pw3", 56, 51_380_224, 16_384),
    ("mobilenet_v1", "dw12", 7, 225_792, 4_608),
    ("mobilenet_v1", "dw13", 7, 451_584, 9_216),
    ("mobilenet_v1", "pw13", 7, 51_380_224, 1_048_576),
    ("mobilenet_v1", "fc", 1, 1_024_000, 1_024_000),
]


def test_shipped_networks_are_listed() -> None:
    assert list_networks() == [
        "alexnet",
        "googlenet",
        "mobilenet_v1",
        "mobilenet_v1_0.5_128",
        "resnet18",
        "resnet18_cifar10",
        "resnet18_tinyimagenet",
        "resnet50",
        "vgg16",
        "vgg16_cifar10",
        "vgg16_tinyimagenet",
    ]
    assert data_dir("workloads").is_dir()


@pytest.mark.parametrize(("name", "macs", "weights"), TOTALS)
def test_network_totals(name: str, macs: int, weights: int) -> None:
    net = load_network(name)
    assert net.name == name
    assert net.macs == macs, f"{name}: MAC total differs from [ALEXNET12; VGG15; MOBILENET17]"
    assert net.weights == weights, f"{name}: weight total differs from [ALEXNET12; VGG15; MOBILENET17]"
    assert net.source.strip()


@pytest.mark.parametrize(("name", "layer", "out_h", "macs", "weights"), ROWS)
def test_layer_rows(name: str, layer: str, out_h: int, macs: int, weights: int) -> None:
    got = load_network(name)[layer]
    assert (got.out_h, got.out_w, got.macs, got.weights) == (out_h, out_h, macs, weights)


def test_layer_names_and_kinds() -> None:
    alex = load_network("alexnet")
    assert [x.name for x in alex.compute_layers] == [f"conv{i}" for i in range(1, 6)] + ["fc6", "fc7", "fc8"]
    assert [x.name for x in alex if x.kind is LayerKind.POOL] == ["pool1", "pool2", "pool5"]
    assert [alex[n].groups for n in ("conv1", "conv2", "conv3", "conv4", "conv5")] == [1, 2, 1, 2, 2]
    assert alex["fc6"].c == 9216
    vgg = load_network("vgg16")
    assert len(vgg.compute_layers) == 16
    assert sum(x.kind is LayerKind.POOL for x in vgg) == 5
    assert vgg["fc6"].c == 25088
    mob = load_network("mobilenet_v1")
    blocks = [n for i in range(1, 14) for n in (f"dw{i}", f"pw{i}")]
    assert [x.name for x in mob] == ["conv1", *blocks, "avgpool", "fc"]
    for i in range(1, 14):
        dw, pw = mob[f"dw{i}"], mob[f"pw{i}"]
        assert dw.kind is LayerKind.DEPTHWISE
        assert dw.groups == dw.c == dw.k
        assert pw.kind is LayerKind.POINTWISE
        assert (pw.r, pw.s, pw.groups) == (1, 1, 1)
    assert mob["dw13"].stride == 1  # the paper's "s2" is a typo ([MOBILENET17 Table 1])
    assert (mob["avgpool"].r, mob["avgpool"].out_h, mob["fc"].c) == (7, 1, 1024)


def test_share_of_pointwise_macs_in_mobilenet() -> None:
    mob = load_network("mobilenet_v1")
    pw = sum(x.macs for x in mob if x.kind is LayerKind.POINTWISE)
    assert round(100 * pw / mob.macs, 2) == 94.86  # [MOBILENET17 Table 1] "Share of work"


def test_load_by_path(tmp_path: Path) -> None:
    assert load_network(network_path("vgg16")).macs == 15_470_264_320
    assert load_network(str(network_path("alexnet"))).weights == 60_954_656


def _write(tmp_path: Path, layers: str, name: str = "net.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"name: tiny\nsource: a test\nlayers:\n{layers}")
    return path


def test_layer_defaults(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "  - {name: a, kind: conv, h: 8, w: 8, c: 4, k: 6, r: 3}\n"
        "  - {name: b, kind: depthwise, h: 6, w: 6, c: 6, r: 3, pad: 1}\n"
        "  - {name: c, kind: pool, h: 6, w: 6, c: 6, r: 2, stride: 2}\n",
    )
    a, b, c = load_network(path)
    assert (a.s, a.groups) == (3, 1)
    assert (b.k, b.groups, b.s) == (6, 6, 3)
    assert (c.k, c.groups, c.out_h) == (6, 6, 3)


def test_impossible_layers_raise() -> None:
    with pytest.raises(WorkloadError, match="larger than the padded input"):
        Layer("x", LayerKind.CONV, h=4, w=4, c=3, k=8, r=7, s=7, pad=1)
    with pytest.raises(WorkloadError, match="divisible by groups"):
        Layer("x", LayerKind.CONV, h=8, w=8, c=6, k=8, r=3, s=3, groups=4)


def test_impossible_layer_in_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "  - {name: big, kind: conv, h: 4, w: 4, c: 3, k: 8, r: 7, pad: 1}\n")
    with pytest.raises(ConfigError, match="larger than the padded input") as err:
        load_network(path)
    assert str(path) in str(err.value)
    assert "layers.0" in str(err.value)
    path = _write(tmp_path, "  - {name: g, kind: conv, h: 8, w: 8, c: 6, k: 8, r: 3, groups: 4}\n", "g.yaml")
    with pytest.raises(ConfigError, match="divisible by groups") as err:
        load_network(path)
    assert str(path) in str(err.value)


def test_layers_that_do_not_chain(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "  - {name: a, kind: conv, h: 8, w: 8, c: 3, k: 16, r: 3, pad: 1}\n"
        "  - {name: b, kind: conv, h: 4, w: 4, c: 16, k: 16, r: 3, pad: 1}\n",
    )
    with pytest.raises(ConfigError, match=r"a produces 8x8x16 but b expects 4x4x16") as err:
        load_network(path)
    assert str(err.value).startswith(str(path))


def test_fc_that_does_not_chain(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "  - {name: a, kind: conv, h: 4, w: 4, c: 3, k: 8, r: 3, pad: 1}\n"
        "  - {name: fc, kind: fc, h: 1, w: 1, c: 100, k: 10}\n",
    )
    with pytest.raises(ConfigError, match="expects c = 100"):
        load_network(path)


def test_unknown_key_names_file_and_key_path(tmp_path: Path) -> None:
    path = _write(tmp_path, "  - {name: a, kind: conv, h: 8, w: 8, c: 3, k: 16, r: 3, padding: 1}\n")
    with pytest.raises(ConfigError) as err:
        load_network(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "layers.0.padding" in msg
    assert "unknown key" in msg
    assert "pad" in msg


def test_bad_kind_lists_allowed(tmp_path: Path) -> None:
    path = _write(tmp_path, "  - {name: a, kind: deconv, h: 8, w: 8, c: 3, k: 16}\n")
    with pytest.raises(ConfigError, match=r"layers\.0\.kind") as err:
        load_network(path)
    assert "depthwise" in str(err.value)


def test_unknown_network_name_lists_shipped() -> None:
    with pytest.raises(UnknownNameError) as err:
        load_network("resnet101")
    assert "resnet101" in str(err.value)
    assert err.value.known == list_networks()
    assert "resnet50" in err.value.known


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="file not found") as err:
        load_network(missing)
    assert str(missing) in str(err.value)


def test_unknown_data_dir() -> None:
    with pytest.raises(UnknownNameError, match="arch_configs"):
        data_dir("weights")


# The convnet-benchmarks layer sets the FPGA Winograd engine's paper measured (workloads/convnet_benchmarks/,
# shapes from soumith/convnet-benchmarks caffe/imagenet_winners/*.prototxt). MACs worked out by hand from
# the prototxts: out = (h + 2 pad - r) / stride + 1, MACs = out^2 k c r^2 (c per group; no groups here).
CONVNET_BENCHMARKS = [
    # (file, total MACs, weights, {layer: (out, MACs)}, MACs of the 3x3 / stride-1 / pad-1 convolutions)
    (
        "alexnet_owt",
        714_188_480,
        61_090_496,
        {"conv1": (55, 70_276_800), "conv3": (13, 112_140_288), "conv4": (13, 149_520_384)},
        361_340_928,
    ),
    (
        "overfeat_fast",
        2_801_403_904,
        145_909_792,
        {"conv1": (56, 109_283_328), "conv2": (24, 353_894_400), "conv5": (12, 1_358_954_496)},
        2_208_301_056,
    ),
    (
        "vgg_a",
        7_609_090_048,
        132_851_392,
        {"conv1": (224, 86_704_128), "conv4": (56, 1_849_688_064), "conv8": (14, 462_422_016)},
        7_485_456_384,
    ),
]


def _convnet_benchmarks(name: str) -> Path:
    return data_dir("workloads") / "convnet_benchmarks" / f"{name}.yaml"


@pytest.mark.parametrize(("name", "macs", "weights", "rows", "macs_3x3"), CONVNET_BENCHMARKS)
def test_convnet_benchmarks_networks(name, macs, weights, rows, macs_3x3):
    net = load_network(_convnet_benchmarks(name))
    assert (net.name, net.macs, net.weights) == (name, macs, weights)
    for layer, (out, layer_macs) in rows.items():
        assert (net[layer].out_h, net[layer].macs) == (out, layer_macs)
    assert all(x.groups == 1 for x in net.compute_layers)  # AlexNet too: the ungrouped "one weird trick"
    same = [x for x in net.compute_layers if (x.r, x.stride, x.pad) == (3, 1, 1)]
    assert sum(x.macs for x in same) == macs_3x3
    assert "soumith/convnet-benchmarks @ " in net.source


def test_convnet_benchmarks_alexnet_is_the_one_weird_trick_variant():
    net = load_network(_convnet_benchmarks("alexnet_owt"))
    assert [(net[n].c, net[n].k) for n in ("conv3", "conv4", "conv5")] == [(192, 384), (384, 256), (256, 256)]
    assert [net[n].k for n in ("conv1", "conv2")] == [64, 192]


def test_googlenet_3x3_is_a_layer_set_of_ten_convolutions():
    """The file does not chain (each layer reads its own 3x3_reduce), so it loads as a layer set: the
    ten 3x3 convolutions, 962,777,088 MACs."""
    from accelsim.config.workload_spec import NetworkSpec
    from accelsim.config.yaml_io import load_model
    from accelsim.workload.loaders import layer_from_spec

    path = _convnet_benchmarks("googlenet_3x3")
    with pytest.raises(ConfigError, match="conv2_3x3 produces 56x56x192 but inception_3a_3x3 expects"):
        load_network(path)
    spec = load_model(NetworkSpec, path, "network file")
    layers = [layer_from_spec(x) for x in spec.layers]
    assert len(layers) == 10
    assert all((x.r, x.s, x.stride, x.pad, x.groups) == (3, 3, 1, 1, 1) for x in layers)
    assert [x.h for x in layers] == [56, 28, 28] + [14] * 5 + [7, 7]
    assert sum(x.macs for x in layers) == 962_777_088
    assert sum(x.weights for x in layers) == 3_101_184
    assert (layers[1].c, layers[1].k) == (96, 128)  # inception_3a/3x3
    assert (layers[-1].c, layers[-1].k) == (192, 384)  # inception_5b/3x3


def test_convnet_benchmarks_files_are_not_shipped_network_names():
    """They load by path; the shipped network names stay those of workloads/*.yaml."""
    assert "alexnet_owt" not in list_networks()
