"""Write a tiny pruned CNN as ONNX (built with onnx.helper, no download) and an input batch for it.

    python benchmarks/tiny_onnx.py FOLDER [--images N]

writes FOLDER/tiny_cnn.onnx and FOLDER/inputs.npy (N random 3 x 32 x 32 images, float32). The model has
the kinds `accelsim import` maps: convolutions (plain, depthwise, 1 x 1), ReLU, a residual add, max
pooling, a channel concat, global average pooling, flatten and a fully connected layer. Half of each
weight tensor (the smallest magnitudes) is pruned to zero, as a magnitude-pruned model would be.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

SIZE = 32
"""Input height and width."""


def _pruned(rng: np.random.Generator, shape: tuple[int, ...], keep: float = 0.5) -> np.ndarray:
    w = rng.standard_normal(shape).astype(np.float32) * np.float32(np.sqrt(2.0 / np.prod(shape[1:])))
    cut = np.quantile(np.abs(w), 1.0 - keep)
    w[np.abs(w) < cut] = 0.0
    return w


def tiny_model(seed: int = 0) -> Any:
    """The tiny CNN as an onnx ModelProto (batch axis symbolic)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    weights = {
        "w1": _pruned(rng, (8, 3, 3, 3)),
        "w2": _pruned(rng, (8, 8, 3, 3)),
        "wdw": _pruned(rng, (8, 1, 3, 3), keep=0.8),
        "wpw": _pruned(rng, (12, 8, 1, 1)),
        "wfc": _pruned(rng, (10, 20)),
        "b1": rng.standard_normal(8).astype(np.float32) * 0.1,
        "bfc": np.zeros(10, dtype=np.float32),
    }
    node = helper.make_node
    nodes = [
        node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        node("Relu", ["c1"], ["r1"], name="relu1"),
        node("Conv", ["r1", "w2"], ["c2"], name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        node("Add", ["c2", "r1"], ["a1"], name="res_add"),
        node("Relu", ["a1"], ["r2"], name="relu2"),
        node(
            "Conv",
            ["r2", "wdw"],
            ["d"],
            name="dw",
            group=8,
            kernel_shape=[3, 3],
            strides=[2, 2],
            pads=[1, 1, 1, 1],
        ),
        node("Relu", ["d"], ["r3"], name="relu3"),
        node("Conv", ["r3", "wpw"], ["p"], name="pw", kernel_shape=[1, 1]),
        node("Relu", ["p"], ["r4"], name="relu4"),
        node("MaxPool", ["r2"], ["mp"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        node("Concat", ["r4", "mp"], ["cat"], name="merge", axis=1),
        node("GlobalAveragePool", ["cat"], ["gap"], name="gap"),
        node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
        node("Gemm", ["flat", "wfc", "bfc"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])],
        initializer=[numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def tiny_inputs(images: int = 2) -> np.ndarray:
    """`images` random N(0, 1) inputs of the tiny CNN (seed 1), float32."""
    return np.random.default_rng(1).standard_normal((images, 3, SIZE, SIZE)).astype(np.float32)


def main() -> None:
    import onnx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--images", type=int, default=2)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    onnx.save(tiny_model(), args.folder / "tiny_cnn.onnx")
    np.save(args.folder / "inputs.npy", tiny_inputs(args.images))
    print(f"wrote {args.folder / 'tiny_cnn.onnx'} and {args.folder / 'inputs.npy'} ({args.images} images)")


if __name__ == "__main__":
    main()
