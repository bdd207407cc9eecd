"""An ONNX graph -> accelsim layers: which nodes become which layers, and which tensors they read.

Two passes. `check_graph` looks at node types and attributes only and lists every node it cannot map
(before any input is read or anything runs). `map_graph` then builds the layers from the tensor
shapes of a real run (`shapes`: tensor name -> shape with the batch axis first), so output sizes are
the ones onnxruntime computed, and checks that accelsim derives the same.

Mapped: Conv (any groups, equal strides, dilation 1), Gemm / MatMul with a constant weight matrix,
MaxPool / AveragePool / GlobalAveragePool / GlobalMaxPool, Add of two computed tensors (residual
add), Concat along channels, Flatten / Reshape / Squeeze to (batch, features). Element-wise operators
that keep the shape (ReLU, BatchNormalization, Add / Mul of a constant, ...) are folded: they change
the values a later layer reads, which its activation mask records, not the shapes. Nodes that only
compute on constants (shape arithmetic of a `view`) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from accelsim.errors import ConfigError, WorkloadError
from accelsim.workload.layer import Layer, LayerKind

__all__ = ["FOLDED", "GraphMap", "LayerSource", "check_graph", "map_graph"]

FOLDED = frozenset(
    {
        "Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Elu",
        "Selu", "Celu", "Softplus", "Softsign", "Gelu", "Erf", "Dropout", "Identity",
        "BatchNormalization", "InstanceNormalization", "LRN", "Softmax", "LogSoftmax", "Cast", "Abs",
        "Neg", "Floor", "Ceil", "Round", "Sqrt", "Exp", "Log", "Reciprocal",
    }
)  # fmt: skip
"""Operators that keep their input's shape: folded into the layer that reads their output."""

_BINARY = frozenset({"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"})
"""Element-wise with a constant operand: folded (a bias, a scale, a normalisation)."""

_POOLS = frozenset({"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"})
_FLATTEN = frozenset({"Flatten", "Reshape", "Squeeze"})
MAPPED = frozenset({"Conv", "Gemm", "MatMul", "Concat", *_POOLS, *_FLATTEN, *_BINARY, *FOLDED})


@dataclass(frozen=True, slots=True)
class LayerSource:
    """Where a layer comes from: its node, the tensor whose values are its input activations, and
    its weight matrix as (k, c // groups, r, s) (None for pooling, add and concat)."""

    node: str
    op: str
    input: str
    weights: np.ndarray | None = None


@dataclass
class GraphMap:
    """The layers of a graph in order, with their sources; `input` is the graph's data input."""

    input: str
    layers: list[Layer] = field(default_factory=list)
    sources: dict[str, LayerSource] = field(default_factory=dict)


def node_label(node: Any, index: int) -> str:
    """How messages name a node: its name, else its type and position."""
    return repr(node.name) if node.name else f"#{index} (unnamed {node.op_type})"


def data_input(model: Any) -> Any:
    """The one graph input that is not an initializer: the image batch (ConfigError otherwise)."""
    constant = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in constant]
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs) or "none"
        raise ConfigError(
            f"the model must have exactly one data input (an N x C x H x W batch); it has {names}"
        )
    return inputs[0]


def constants(model: Any) -> dict[str, np.ndarray]:
    """Values of the initializers and Constant nodes."""
    from onnx import numpy_helper

    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant" and node.attribute:
            attr = node.attribute[0]
            if attr.name == "value":
                values[node.output[0]] = numpy_helper.to_array(attr.t)
    return values


def data_tensors(model: Any) -> set[str]:
    """Tensors computed from the data input (the others are constants or shape arithmetic)."""
    data = {data_input(model).name}
    for node in model.graph.node:
        if node.op_type != "Shape" and any(name in data for name in node.input):
            data.update(node.output)
    return data


def check_graph(model: Any) -> list[str]:
    """Every node that cannot be mapped, one line each, naming it; empty if all map."""
    data = data_tensors(model)
    known = constants(model)
    problems = []
    for i, node in enumerate(model.graph.node):
        if node.op_type == "Shape" or not any(name in data for name in node.input):
            continue  # constant or shape arithmetic
        why = _static_problem(node, data, known)
        if why:
            problems.append(f"node {node_label(node, i)} ({node.op_type}): {why}")
    return problems


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _static_problem(node: Any, data: set[str], known: Mapping[str, np.ndarray]) -> str | None:
    op, a = node.op_type, _attrs(node)
    if op not in MAPPED:
        mapped = ", ".join(sorted(MAPPED - FOLDED))
        return f"operator {op} has no accelsim layer; mapped: {mapped} and element-wise operators (folded)"
    inputs = [name for name in node.input if name]
    if op in ("Conv", "MaxPool", "AveragePool"):
        if any(d != 1 for d in a.get("dilations", [])):
            return f"dilations {list(a['dilations'])}: only dilation 1 is supported"
        strides = list(a.get("strides", [1, 1]))
        if len(strides) != 2 or strides[0] != strides[1]:
            return f"strides {strides}: only 2-D windows with equal strides are supported"
        if a.get("auto_pad", b"NOTSET") not in (
            b"NOTSET",
            b"VALID",
            b"SAME_UPPER",
            "NOTSET",
            "VALID",
            "SAME_UPPER",
        ):
            return f"auto_pad {a['auto_pad']!r}: extra padding before the input is not supported"
    if op == "Conv" and inputs[1] not in known:
        return "the weights are not a constant initializer"
    if op in ("Gemm", "MatMul"):
        if inputs[1] not in known or inputs[0] not in data:
            return "only (activations x constant weight matrix) is supported"
        if a.get("transA", 0):
            return "transA = 1 is not supported"
        if known[inputs[1]].ndim != 2:
            return f"the weight matrix has {known[inputs[1]].ndim} dimensions; allowed: 2"
    if op in _BINARY:
        computed = [name for name in inputs if name in data]
        if op != "Add" and len(computed) > 1:
            return f"{op} of two computed tensors has no accelsim layer (only Add: a residual add)"
    if op == "Concat" and a.get("axis") not in (1, -3):
        return f"concat along axis {a.get('axis')}: only channels (axis 1) are supported"
    return None


def map_graph(model: Any, shapes: Mapping[str, tuple[int, ...]]) -> GraphMap:
    """The layers of `model`; every node that maps badly is listed in one ConfigError."""
    known = constants(model)
    data = data_tensors(model)
    graph = GraphMap(input=data_input(model).name)
    producer: dict[str, str | None] = {graph.input: None}  # tensor -> the layer whose output it is
    names: set[str] = set()
    problems = []
    for i, node in enumerate(model.graph.node):
        computed = [name for name in node.input if name in data]
        if node.op_type == "Shape" or not computed:
            continue
        try:
            _map_node(node, i, computed, known, shapes, producer, graph, names)
        except (ConfigError, WorkloadError) as e:
            problems.append(f"node {node_label(node, i)} ({node.op_type}): {e}")
    if problems:
        raise ConfigError("cannot map these nodes:\n  " + "\n  ".join(problems))
    if not any(layer.is_compute for layer in graph.layers):
        raise ConfigError("the model has no Conv, Gemm or MatMul node: nothing to simulate")
    return graph


def _layer_name(node: Any, index: int, names: set[str]) -> str:
    """A node's name as a layer name: letters, digits and '_' ('/conv1/Conv' -> 'conv1_Conv')."""
    base = re.sub(r"[^A-Za-z0-9_]+", "_", node.name).strip("_") or f"{node.op_type.lower()}{index}"
    name, n = base, 2
    while name in names:
        name, n = f"{base}_{n}", n + 1
    names.add(name)
    return name


def _chw(shapes: Mapping[str, tuple[int, ...]], tensor: str) -> tuple[int, int, int]:
    shape = shapes[tensor]
    if len(shape) != 4:
        raise ConfigError(f"tensor {tensor!r} has shape {list(shape)}; expected N x C x H x W")
    return int(shape[1]), int(shape[2]), int(shape[3])


def _pads(
    a: dict[str, Any], size: tuple[int, int], window: tuple[int, int], stride: int
) -> tuple[int, int, int]:
    """(pad, extra rows at the bottom, extra columns at the right) of a window's padding attributes."""
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto == "SAME_UPPER":
        total = [max((-(-n // stride) - 1) * stride + k - n, 0) for n, k in zip(size, window, strict=True)]
        pads = [total[0] // 2, total[1] // 2, total[0] - total[0] // 2, total[1] - total[1] // 2]
    elif auto == "VALID":
        pads = [0, 0, 0, 0]
    else:
        pads = list(a.get("pads", [0, 0, 0, 0]))
    top, left, bottom, right = (int(p) for p in pads)
    if top != left or bottom < top or right < left:
        raise ConfigError(
            f"pads {pads} (top, left, bottom, right): accelsim pads every side by one amount and may add "
            "more at the bottom and right only; allowed: top == left <= bottom, right"
        )
    return top, bottom - top, right - left


def _map_node(
    node: Any,
    index: int,
    computed: list[str],
    known: Mapping[str, np.ndarray],
    shapes: Mapping[str, tuple[int, ...]],
    producer: dict[str, str | None],
    graph: GraphMap,
    names: set[str],
) -> None:
    op, a = node.op_type, _attrs(node)
    out = node.output[0]
    if op in FOLDED or (op in _BINARY and len(computed) == 1) or op in _FLATTEN:
        if op in _FLATTEN and len(shapes[out]) != 2:
            raise ConfigError(f"output shape {list(shapes[out])}: only a flatten to (batch, features) maps")
        producer[out] = producer[computed[0]]
        return
    name = _layer_name(node, index, names)
    reads = [producer[t] for t in computed]
    if any(r is None for r in reads) and graph.layers:
        raise ConfigError(
            "reads the model input but is not the first layer; accelsim networks read the input in their "
            "first layer only"
        )
    if op == "Conv":
        layer, weights = _conv(name, a, known[node.input[1]], shapes, computed[0])
    elif op in ("Gemm", "MatMul"):
        layer, weights = _fc(name, op, a, known[node.input[1]], shapes, computed[0])
    elif op in _POOLS:
        layer, weights = _pool(name, op, a, shapes, computed[0]), None
    else:  # Add of computed tensors, Concat
        layer, weights = _merge(name, op, shapes, computed, out, [r or "" for r in reads]), None
    if layer.kind not in (LayerKind.ADD, LayerKind.CONCAT):
        previous = graph.layers[-1].name if graph.layers else None
        if reads[0] is not None and reads[0] != previous:
            layer = replace(layer, inputs=(reads[0],))
    _check_out(layer, shapes[out])
    graph.layers.append(layer)
    graph.sources[name] = LayerSource(node.name, op, computed[0], weights)
    producer[out] = name


def _stride(a: dict[str, Any]) -> int:
    strides = list(a.get("strides", [1, 1]))
    return int(strides[0])


def _conv(
    name: str, a: dict[str, Any], w: np.ndarray, shapes: Mapping[str, tuple[int, ...]], x: str
) -> tuple[Layer, np.ndarray]:
    c, h, wd = _chw(shapes, x)
    if w.ndim != 4:
        raise ConfigError(f"weights of shape {list(w.shape)}; only 2-D convolutions (4-D weights) map")
    k, cg, r, s = (int(v) for v in w.shape)
    groups = int(a.get("group", 1))
    stride = _stride(a)
    pad, extra_h, extra_w = _pads(a, (h, wd), (r, s), stride)
    if cg * groups != c:
        raise ConfigError(f"weights read {cg} x {groups} groups channels, the input has {c}")
    if groups == c == k and groups > 1:
        kind = LayerKind.DEPTHWISE
    elif (r, s) == (1, 1) and groups == 1:
        kind = LayerKind.POINTWISE
    else:
        kind = LayerKind.CONV
    layer = Layer(name, kind, h, wd, c, k, r, s, stride, pad, groups, (extra_h, extra_w))
    return layer, w


def _fc(
    name: str, op: str, a: dict[str, Any], w: np.ndarray, shapes: Mapping[str, tuple[int, ...]], x: str
) -> tuple[Layer, np.ndarray]:
    shape = shapes[x]
    if len(shape) != 2:
        raise ConfigError(f"input of shape {list(shape)}; an fc layer reads (batch, features): flatten first")
    matrix = w.T if op == "MatMul" or not a.get("transB", 0) else w  # -> (k, c)
    k, c = (int(v) for v in matrix.shape)
    if c != shape[1]:
        raise ConfigError(f"weight matrix reads {c} features, the input has {shape[1]}")
    return Layer(name, LayerKind.FC, 1, 1, c, k), matrix.reshape(k, c, 1, 1)


def _pool(name: str, op: str, a: dict[str, Any], shapes: Mapping[str, tuple[int, ...]], x: str) -> Layer:
    c, h, w = _chw(shapes, x)
    if op.startswith("Global"):
        return Layer(name, LayerKind.POOL, h, w, c, c, h, w, 1, 0, c)
    r, s = (int(v) for v in a["kernel_shape"])
    stride = _stride(a)
    pad, extra_h, extra_w = _pads(a, (h, w), (r, s), stride)
    if a.get("ceil_mode", 0):  # the last window may start inside the padding: pad the end to reach it
        padded = (h + 2 * pad + extra_h, w + 2 * pad + extra_w)
        need = [(-(-(p - k) // stride)) * stride + k - p for p, k in zip(padded, (r, s), strict=True)]
        extra_h, extra_w = extra_h + need[0], extra_w + need[1]
    return Layer(name, LayerKind.POOL, h, w, c, c, r, s, stride, pad, c, (extra_h, extra_w))


def _merge(
    name: str, op: str, shapes: Mapping[str, tuple[int, ...]], computed: list[str], out: str, reads: list[str]
) -> Layer:
    shape = shapes[out]
    c, h, w = (int(shape[1]), 1, 1) if len(shape) == 2 else _chw(shapes, out)
    if op == "Add":
        if any(tuple(shapes[t]) != tuple(shape) for t in computed):
            got = " + ".join(str(list(shapes[t])) for t in computed)
            raise ConfigError(f"adds tensors of shapes {got}; only equal shapes (no broadcasting) map")
        if len(set(reads)) < len(reads):
            raise ConfigError("adds a tensor to itself; only the sum of two different layers' outputs maps")
        return Layer(name, LayerKind.ADD, h, w, c, c, groups=c, inputs=tuple(reads))
    return Layer(name, LayerKind.CONCAT, h, w, c, c, groups=c, inputs=tuple(reads))


def _check_out(layer: Layer, shape: tuple[int, ...]) -> None:
    """accelsim's derived output size must be the one onnxruntime computed."""
    got = (int(shape[1]), 1, 1) if len(shape) == 2 else tuple(int(v) for v in shape[1:])
    mine = (layer.k, layer.out_h, layer.out_w)
    if got != mine:
        raise ConfigError(f"accelsim derives an output of {mine} (c, h, w), onnxruntime computed {got}")
