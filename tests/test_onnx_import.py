"""`accelsim import`: shapes, MACs and both masks of small onnx.helper models against numpy; the CLI end
to end (import, then run on accelerators); bad input exits 2 naming the problem and writes nothing."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from accelsim.api import simulate
from accelsim.cli import run_cli
from accelsim.workload.layer import LayerKind
from accelsim.workload.loaders import load_network
from accelsim.workload.masks import effectual_macs, layer_masks
from accelsim.workload.model_inputs import IMAGENET_MEAN, IMAGENET_STD
from accelsim.workload.onnx_import import import_onnx
from accelsim.workload.sparsity import load_profile

ROOT = Path(__file__).resolve().parent.parent


def _tiny_module():
    spec = importlib.util.spec_from_file_location("tiny_onnx", ROOT / "benchmarks" / "tiny_onnx.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _model(nodes, weights, shape=("N", 3, 9, 9), out=("N", 5)):
    graph = helper.make_graph(
        nodes,
        "t",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out))],
        initializer=[numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def _sparse(rng, shape):
    w = rng.standard_normal(shape).astype(np.float32)
    w[rng.random(shape) < 0.4] = 0.0
    return w


def _conv(x, w, stride, pads, groups=1):
    """Plain numpy convolution: x (n, c, h, w), w (k, c / groups, r, s), pads (top, left, bottom, right)."""
    top, left, bottom, right = pads
    x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, _, h, wd = x.shape
    k, cg, r, s = w.shape
    oh, ow = (h - r) // stride + 1, (wd - s) // stride + 1
    out = np.zeros((n, k, oh, ow), dtype=np.float64)
    kg = k // groups
    for f in range(k):
        g = f // kg
        for i in range(oh):
            for j in range(ow):
                patch = x[:, g * cg : (g + 1) * cg, i * stride : i * stride + r, j * stride : j * stride + s]
                out[:, f, i, j] = np.sum(patch * w[f], axis=(1, 2, 3))
    return out


def _chain(rng):
    """conv 3->4 (3x3, stride 2, pads 1 top/left, 2 bottom/right) -> ReLU -> grouped conv 4->6 (groups
    2) -> ReLU -> Flatten -> MatMul 6*5*5 -> 5."""
    w = {"w1": _sparse(rng, (4, 3, 3, 3)), "w2": _sparse(rng, (6, 2, 3, 3)), "wm": _sparse(rng, (150, 5))}
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="/c1/Conv", strides=[2, 2], pads=[1, 1, 2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="/c2/Conv", group=2, pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Flatten", ["r2"], ["f"], axis=1),
        helper.make_node("MatMul", ["f", "wm"], ["y"], name="fc"),
    ]
    return _model(nodes, w), w


def _save(tmp_path: Path, model, name: str = "m.onnx") -> Path:
    path = tmp_path / name
    onnx.save(model, path)
    return path


def test_shapes_macs_and_masks_match_numpy(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    model, w = _chain(rng)
    x = rng.standard_normal((2, 3, 9, 9)).astype(np.float32)
    x[:, :, 0, :] = 0.0  # zeros in the input must show in the first layer's mask
    imported = import_onnx(_save(tmp_path, model), "chain", lambda _shape: (x, "x"))
    net = imported.network
    c1, c2, fc = net.layers
    assert (c1.name, c1.kind, c1.stride, c1.pad, c1.pad_end) == ("c1_Conv", LayerKind.CONV, 2, 1, (1, 1))
    assert (c1.out_h, c1.out_w, c1.k) == (5, 5, 4)
    assert (c2.kind, c2.groups, c2.c, c2.k, c2.out_h) == (LayerKind.CONV, 2, 4, 6, 5)
    assert (fc.kind, fc.c, fc.k) == (LayerKind.FC, 150, 5)
    assert [layer.macs for layer in net.layers] == [25 * 4 * 27, 25 * 6 * 18, 150 * 5]
    np.testing.assert_array_equal(imported.weights["c1_Conv"], w["w1"] != 0)
    np.testing.assert_array_equal(imported.weights["c2_Conv"], w["w2"] != 0)
    np.testing.assert_array_equal(imported.weights["fc"][:, :, 0, 0], w["wm"].T != 0)
    r1 = np.maximum(_conv(x, w["w1"], 2, (1, 1, 2, 2)), 0)
    r2 = np.maximum(_conv(r1, w["w2"], 1, (1, 1, 1, 1), groups=2), 0)
    acts = imported.activations
    assert acts is not None
    np.testing.assert_array_equal(acts["c1_Conv"], x != 0)
    np.testing.assert_array_equal(acts["c2_Conv"], r1 != 0)
    np.testing.assert_array_equal(acts["fc"][:, :, 0, 0], r2.reshape(2, -1) != 0)


def test_cli_import_then_run_on_accelerators(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tiny = _tiny_module()
    monkeypatch.chdir(tmp_path)
    onnx.save(tiny.tiny_model(), "tiny.onnx")
    x = np.random.default_rng(5).standard_normal((3, 3, 32, 32)).astype(np.float32)
    np.save("x.npy", x)
    assert run_cli(["import", "tiny.onnx", "--out", "imp", "--inputs", "x.npy", "--batch", "2"]) == 0
    net = load_network("imp/network.yaml")
    assert [(layer.name, str(layer.kind)) for layer in net.layers] == [
        ("conv1", "conv"), ("conv2", "conv"), ("res_add", "add"), ("dw", "depthwise"), ("pw", "pointwise"),
        ("pool", "pool"), ("merge", "concat"), ("gap", "pool"), ("fc", "fc"),
    ]  # fmt: skip
    assert net["res_add"].inputs == ("conv2", "conv1")  # relu1 is folded: r1 is conv1's output
    assert net["merge"].inputs == ("pw", "pool")
    assert net["pool"].inputs == ("res_add",)
    assert net.macs == 32 * 32 * 8 * 27 + 32 * 32 * 8 * 72 + 16 * 16 * 8 * 9 + 16 * 16 * 12 * 8 + 200
    masks = np.load("imp/masks.npz")
    assert masks["conv2.activations"].shape == (2, 8, 32, 32)  # --batch 2 of 3 images
    prof = load_profile(net.name, "imp/profile.yaml", check_against=net)
    d = prof.density("conv2")
    assert d.weights == pytest.approx(np.count_nonzero(masks["conv2.weights"]) / masks["conv2.weights"].size)
    assert d.activations == pytest.approx(masks["conv2.activations"].mean())
    for config in ("systolic_ws_32x32", "scnn"):
        out = f"run_{config}"
        code = run_cli(["run", config, "--network", "imp/network.yaml", "--profile", "imp/profile.yaml",
                        "--out", out])  # fmt: skip
        assert code == 0
    run = simulate("scnn", "imp/network.yaml", "imp/profile.yaml")
    rows = run.layers.set_index("layer")
    assert list(rows.index) == ["conv1", "conv2", "dw", "pw", "fc"]
    for layer in net.compute_layers:  # a run of one image reads the first image's masks
        m = layer_masks(net.name, layer, prof, 0)
        np.testing.assert_array_equal(m.activations, masks[f"{layer.name}.activations"][0])
        assert rows.loc[layer.name, "macs_effectual"] == effectual_macs(layer, m)
        assert rows.loc[layer.name, "macs_dense"] == layer.macs
    assert run.provenance["not_simulated"] == {
        "res_add": "add",
        "pool": "pool",
        "merge": "concat",
        "gap": "pool",
    }


@pytest.mark.parametrize(
    ("options", "mean", "std"),
    [([], IMAGENET_MEAN, IMAGENET_STD), (["--mean", "1,0,0", "--std", "0.5,0.5,0.5"], (1, 0, 0), (0.5,) * 3)],
)
def test_images_are_resized_and_normalised(tmp_path: Path, options: list[str], mean, std) -> None:
    tiny = _tiny_module()
    model = _save(tmp_path, tiny.tiny_model())
    folder = tmp_path / "imgs"
    folder.mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    pixels[:20] = (255, 0, 7)  # with mean (1, 0, 0): red and green exactly zero after normalisation
    Image.fromarray(pixels).save(folder / "a.png")
    Image.fromarray(pixels[::-1]).save(folder / "b.jpg", quality=95)
    (folder / "notes.txt").write_text("not an image")
    out = tmp_path / "o"
    assert run_cli(["import", str(model), "--out", str(out), "--images", str(folder), *options]) == 0
    acts = np.load(out / "masks.npz")["conv1.activations"]
    assert acts.shape == (2, 3, 32, 32)
    resized = np.asarray(Image.fromarray(pixels).resize((32, 32), Image.Resampling.BILINEAR), np.float32)
    expected = (resized / 255 - np.float32(mean)) / np.float32(std) != 0
    np.testing.assert_array_equal(acts[0], expected.transpose(2, 0, 1))
    assert acts[0].all() == (mean == IMAGENET_MEAN)  # zeros only where the mean is exact


def test_without_inputs_activations_are_dense(tmp_path: Path) -> None:
    model = _save(tmp_path, _chain(np.random.default_rng(0))[0])
    assert run_cli(["import", str(model), "--out", str(tmp_path / "o")]) == 0
    prof = load_profile("m", tmp_path / "o" / "profile.yaml")
    assert all(d.activations == 1.0 for d in prof.layers.values())
    assert "c1_Conv.activations" not in np.load(tmp_path / "o" / "masks.npz").files


def _bad_models(rng):
    """Models `accelsim import` must refuse, and what the message must say."""
    w = {"w1": _sparse(rng, (4, 3, 3, 3)), "wm": _sparse(rng, (196, 5)), "sc": np.float32([1, 1, 2, 2])}
    node = helper.make_node
    tail = [node("Flatten", ["t"], ["f"]), node("MatMul", ["f", "wm"], ["y"], name="fc")]
    ops = [
        node("Conv", ["x", "w1"], ["c1"], name="conv_a"),
        node("Mul", ["c1", "c1"], ["sq"], name="square"),
        node("Resize", ["sq", "", "sc"], ["t"], name="upsample", mode="nearest"),
    ]
    dilated = [node("Conv", ["x", "w1"], ["t"], name="conv_d", dilations=[2, 2])]
    return {
        "ops": (_model(ops + tail, w), ["2 node(s)", "'square' (Mul)", "'upsample' (Resize)"]),
        "dilation": (_model(dilated + tail, w), ["'conv_d'", "dilation"]),
    }


@pytest.mark.parametrize("case", ["ops", "dilation"])
def test_unmappable_nodes_are_named_before_anything_is_written(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    model, expected = _bad_models(np.random.default_rng(0))[case]
    path = _save(tmp_path, model)
    x = np.zeros((1, 3, 9, 9), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "o"
    assert run_cli(["import", str(path), "--out", str(out), "--inputs", str(tmp_path / "x.npy")]) == 2
    err = capsys.readouterr().err
    for word in expected:
        assert word in err
    assert "Traceback" not in err
    assert not out.exists()


def test_bad_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _save(tmp_path, _chain(np.random.default_rng(0))[0])
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(bytes(range(256)) * 4)
    np.save(tmp_path / "wrong.npy", np.zeros((2, 3, 8, 9), dtype=np.float32))
    np.save(tmp_path / "f64.npy", np.zeros((2, 3, 9, 9)))
    np.save(tmp_path / "x.npy", np.ones((2, 3, 9, 9), dtype=np.float32))
    (tmp_path / "file").write_text("x")
    out = str(tmp_path / "o")
    cases = [
        (["import", str(tmp_path / "missing.onnx"), "--out", out], "missing.onnx: file not found"),
        (["import", str(garbage), "--out", out], "garbage.onnx: not a valid ONNX model"),
        (["import", str(model), "--out", out, "--inputs", str(tmp_path / "wrong.npy")], "N x 3 x 9 x 9"),
        (["import", str(model), "--out", out, "--inputs", str(tmp_path / "f64.npy")], "expected float32"),
        (
            ["import", str(model), "--out", out, "--inputs", str(tmp_path / "nope.npy")],
            "nope.npy: file not found",
        ),
        (["import", str(model), "--out", out, "--inputs", str(garbage)], "not a readable .npy array"),
        (["import", str(model), "--out", str(tmp_path / "file" / "o")], "is a file, not a folder"),
        (["import", str(model), "--out", out, "--images", str(tmp_path)], "no image files"),
        (
            ["import", str(model), "--out", out, "--inputs", str(tmp_path / "x.npy"), "--batch", "3"],
            "only 2 image",
        ),
        (["import", str(model), "--out", out, "--batch", "2"], "--batch needs --inputs or --images"),
        (["import", str(model), "--out", out, "--inputs", "a.npy", "--images", "d"], "not both"),
    ]
    for args, message in cases:
        assert run_cli(args) == 2, args
        err = capsys.readouterr().err
        assert message in err.replace("\n", ""), (args, err)
        assert not Path(out).exists()


def test_the_shipped_tiny_model_is_what_the_script_writes() -> None:
    tiny = _tiny_module()
    shipped = ROOT / "tests" / "data" / "tiny_cnn"
    assert (shipped / "tiny_cnn.onnx").read_bytes() == tiny.tiny_model().SerializeToString()
    np.testing.assert_array_equal(np.load(shipped / "inputs.npy"), tiny.tiny_inputs(2))


def test_pytorch_style_graph_maps(tmp_path: Path) -> None:
    """What torch.onnx.export writes: batch norm, a `view` flatten through Shape / Gather / Concat /
    Reshape, SAME_UPPER padding, a ceil-mode pool, an input normalisation by constants."""
    rng = np.random.default_rng(2)
    node = helper.make_node
    w = {
        "mean": np.float32([0.5]).reshape(1, 1, 1, 1),
        "w1": _sparse(rng, (4, 3, 3, 3)),
        "g": np.ones(4, np.float32), "b": np.zeros(4, np.float32),
        "m": np.zeros(4, np.float32), "v": np.ones(4, np.float32),
        "zero": np.array([0], np.int64), "minus1": np.array([-1], np.int64),
        "wm": _sparse(rng, (4 * 3 * 3, 5)),
    }  # fmt: skip
    nodes = [
        node("Sub", ["x", "mean"], ["xn"], name="normalise"),
        node(
            "Conv",
            ["xn", "w1"],
            ["c1"],
            name="conv",
            strides=[2, 2],
            auto_pad="SAME_UPPER",
            kernel_shape=[3, 3],
        ),
        node("BatchNormalization", ["c1", "g", "b", "m", "v"], ["bn"], name="bn"),
        node("Relu", ["bn"], ["r"], name="relu"),
        node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
        node("Shape", ["p"], ["sh"], name="shape"),
        node("Gather", ["sh", "zero"], ["n"], name="gather", axis=0),
        node("Concat", ["n", "minus1"], ["target"], name="target", axis=0),
        node("Reshape", ["p", "target"], ["f"], name="view"),
        node("MatMul", ["f", "wm"], ["y"], name="fc"),
    ]
    path = _save(tmp_path, _model(nodes, w, shape=("N", 3, 10, 10)))
    x = rng.standard_normal((1, 3, 10, 10)).astype(np.float32)
    net = import_onnx(path, "pt", lambda _shape: (x, "x")).network
    conv, pool, fc = net.layers
    assert (conv.pad, conv.pad_end, conv.out_h) == (0, (1, 1), 5)  # SAME_UPPER at stride 2: 0 before, 1 after
    assert (pool.pad_end, pool.out_h) == ((1, 1), 3)  # ceil((5 - 2) / 2) + 1 = 3
    assert (fc.c, fc.k) == (36, 5)
