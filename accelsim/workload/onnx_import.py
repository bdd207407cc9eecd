"""`accelsim import`: an ONNX model -> a network file, a real-mask profile and its masks file.

Weight masks are the exact non-zero pattern of each layer's weight initializer. Activation masks are
the non-zero pattern of each compute layer's real input: the model runs in onnxruntime on the given
batch with every intermediate tensor exposed as a graph output. Everything is read, mapped and run
before a file is written; `write_import` then writes the three files into a (staging) folder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.errors import ConfigError
from accelsim.workload.layer import Layer
from accelsim.workload.network import Network
from accelsim.workload.onnx_graph import GraphMap, check_graph, data_input, map_graph

__all__ = ["IMPORT_FILES", "Imported", "import_onnx", "load_onnx", "model_input_shape", "write_import"]

IMPORT_FILES = {"network": "network.yaml", "profile": "profile.yaml", "masks": "masks.npz"}
"""The files `accelsim import` writes into its --out folder."""

PROFILE_ID = "imported"


@dataclass(frozen=True)
class Imported:
    """A mapped model: its network, per-layer masks (activations (n, c, h, w), n = images run; None
    without inputs), the ONNX node of each layer, and where it all came from."""

    network: Network
    weights: dict[str, np.ndarray]
    activations: dict[str, np.ndarray] | None
    nodes: dict[str, str]
    model: Path
    model_sha256: str
    inputs: str


def load_onnx(path: Path) -> Any:
    """A checked ONNX model; a missing, unreadable or invalid file raises ConfigError naming it."""
    import onnx
    from google.protobuf.message import DecodeError

    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; expected an ONNX model file")
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except (DecodeError, onnx.checker.ValidationError, OSError, ValueError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"{path}: not a valid ONNX model ({first})") from None
    if not model.graph.node:
        raise ConfigError(f"{path}: not a valid ONNX model (the graph has no nodes)")
    return model


def model_input_shape(model: Any) -> list[int | None]:
    """The data input's shape (None for a symbolic or unknown size); ConfigError unless 4-D."""
    tensor = data_input(model)
    dims = tensor.type.tensor_type.shape.dim
    shape = [d.dim_value if d.HasField("dim_value") else None for d in dims]
    if len(shape) != 4:
        raise ConfigError(
            f"the model's input {tensor.name!r} has {len(shape)} dimensions; expected N x C x H x W"
        )
    return shape


def import_onnx(
    path: Path, name: str, batch_source: Callable[[list[int | None]], tuple[np.ndarray, str]] | None
) -> Imported:
    """Map and run the model at `path`; `batch_source` turns the model's input shape into the batch
    and a description of it (None: no inputs, activations stay dense)."""
    path = Path(path)
    model = load_onnx(path)
    problems = check_graph(model)
    if problems:
        raise ConfigError(
            f"{path}: {len(problems)} node(s) cannot be mapped to accelsim layers:\n  "
            + "\n  ".join(problems)
        )
    shape = model_input_shape(model)
    if batch_source is None:
        first = [1 if d is None else d for d in shape]
        if None in shape[2:]:
            raise ConfigError(f"{path}: the input size is not fixed ({shape}); give --inputs or --images")
        batch, described = np.zeros(first, dtype=np.float32), "none (activations dense)"
    else:
        batch, described = batch_source(shape)
    values = run_all(model, path, batch)
    graph = map_graph(model, {k: tuple(v.shape) for k, v in values.items()})
    network = _network(name, graph, path)
    weights = {n: s.weights != 0 for n, s in graph.sources.items() if s.weights is not None}
    acts = None
    if batch_source is not None:
        acts = {
            layer.name: _activation_mask(values[graph.sources[layer.name].input], layer)
            for layer in network.compute_layers
        }
    nodes = {n: s.node for n, s in graph.sources.items()}
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Imported(network, weights, acts, nodes, path, digest, described)


def run_all(model: Any, path: Path, batch: np.ndarray) -> dict[str, np.ndarray]:
    """Every tensor of one run on `batch`: the input, the outputs of every node and the initializers'
    consumers' results, each with the batch axis first. Images go through in chunks the model
    accepts (its fixed batch size, else one at a time) and are stacked."""
    import onnx
    import onnxruntime as ort

    exposed = onnx.ModelProto()
    exposed.CopyFrom(model)
    present = {o.name for o in exposed.graph.output}
    for node in exposed.graph.node:
        exposed.graph.output.extend(
            onnx.ValueInfoProto(name=t) for t in node.output if t and t not in present
        )
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # keep every tensor
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(
            exposed.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
    except Exception as e:  # onnxruntime raises its own exception types
        raise ConfigError(f"{path}: onnxruntime cannot load the model ({_first_line(e)})") from None
    name = data_input(model).name
    fixed = model_input_shape(model)[0]
    step = fixed or 1
    if len(batch) % step:
        raise ConfigError(f"the model runs exactly {step} images at a time; got {len(batch)} images")
    names = [o.name for o in session.get_outputs()]
    parts: list[list[np.ndarray]] = [[] for _ in names]
    for start in range(0, len(batch), step):
        try:
            out = session.run(names, {name: batch[start : start + step]})
        except Exception as e:
            raise ConfigError(f"{path}: onnxruntime failed on the inputs ({_first_line(e)})") from None
        for i, value in enumerate(out):
            parts[i].append(np.asarray(value))
    values = {n: _stack(p, step) for n, p in zip(names, parts, strict=True)}
    values[name] = batch
    return values


def _stack(parts: list[np.ndarray], step: int) -> np.ndarray:
    if len(parts) == 1 or parts[0].ndim == 0 or parts[0].shape[:1] != (step,):
        return parts[0]  # shape arithmetic: not per image
    return np.concatenate(parts)


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:300] if text else type(e).__name__


def _activation_mask(value: np.ndarray, layer: Layer) -> np.ndarray:
    """Non-zeros of a layer's input batch as (n, c, h, w); an fc layer's features as (n, c, 1, 1)."""
    return np.ascontiguousarray(value.reshape(len(value), layer.c, layer.h, layer.w) != 0)


def _network(name: str, graph: GraphMap, path: Path) -> Network:
    from accelsim.errors import WorkloadError

    try:
        return Network(name, tuple(graph.layers), source=f"ONNX model {path.name}")
    except WorkloadError as e:
        raise ConfigError(f"{path}: the mapped layers do not form a network: {e}") from None


def write_import(imported: Imported, folder: Path) -> dict[str, Path]:
    """Write network.yaml, profile.yaml and masks.npz into `folder`; their paths by role."""
    folder = Path(folder)
    paths = {role: folder / file for role, file in IMPORT_FILES.items()}
    paths["network"].write_text(network_yaml(imported))
    paths["profile"].write_text(profile_yaml(imported))
    arrays = {f"{n}.weights": w for n, w in imported.weights.items()}
    if imported.activations is not None:
        for n, a in imported.activations.items():
            arrays[f"{n}.activations"] = a[0] if len(a) == 1 else a
    with paths["masks"].open("wb") as f:
        np.savez_compressed(f, allow_pickle=False, **arrays)
    return paths


def _origin(imported: Imported) -> str:
    return f"ONNX model {imported.model.name} (sha256 {imported.model_sha256[:16]})"


def network_yaml(imported: Imported) -> str:
    """The network file: one line per layer, the ONNX node it came from as a comment."""
    net = imported.network
    lines = [
        f"# Imported by `accelsim import` from {_origin(imported)}.",
        "# Shapes come from the graph; output sizes were checked against onnxruntime's. Element-wise",
        "# operators (activations, batch norm, biases) are folded into the layers that read their output.",
        f"name: {_q(net.name)}",
        f"source: {_q(_origin(imported) + ', imported by accelsim import')}",
        "layers:",
    ]
    for layer in net.layers:
        fields = [
            f"name: {_q(layer.name)}",
            f"kind: {layer.kind}",
            f"h: {layer.h}",
            f"w: {layer.w}",
            f"c: {layer.c}",
        ]
        fields.append(f"k: {layer.k}")
        if layer.is_compute or layer.kind == "pool":
            fields += [f"r: {layer.r}", f"s: {layer.s}", f"stride: {layer.stride}", f"pad: {layer.pad}"]
            fields.append(f"groups: {layer.groups}")
        if layer.pad_end != (0, 0):
            fields.append(f"pad_end: [{layer.pad_end[0]}, {layer.pad_end[1]}]")
        if layer.inputs:
            fields.append(f"inputs: [{', '.join(_q(n) for n in layer.inputs)}]")
        node = imported.nodes.get(layer.name, "")
        lines.append(f"  - {{{', '.join(fields)}}}  # node {node!r}")
    return "\n".join(lines) + "\n"


def profile_yaml(imported: Imported) -> str:
    """The profile: every compute layer's measured densities, masks from masks.npz."""
    net, acts = imported.network, imported.activations
    images = 0 if acts is None else len(next(iter(acts.values())))
    lines = [
        f"# Imported by `accelsim import` from {_origin(imported)}; inputs: {imported.inputs}.",
        "# Weight masks: the exact non-zero pattern of each layer's weights. Activation masks: the non-zero",
        f"# pattern of each compute layer's input in an onnxruntime run on {images} image(s)."
        if acts is not None
        else "# No inputs were given: activations are dense (density 1.0); weight masks are real.",
        "# The densities are those of the masks (activations: over all images); a density of 0 is written",
        "# as 1 / (mask size), the smallest the schema allows, and says so on its line.",
        f"id: {PROFILE_ID}",
        f"network: {_q(net.name)}",
        f"source: {_q(_origin(imported) + '; inputs: ' + imported.inputs)}",
        "weight_pattern: {pattern: real, file: masks.npz}",
        "activation_pattern: "
        + ("{pattern: real, file: masks.npz}" if acts is not None else "{pattern: uniform}"),
        "layers:",
    ]
    for layer in net.compute_layers:
        w, note = _density(imported.weights[layer.name])
        parts = [f"weights: {w!r}"]
        if acts is not None:
            a, a_note = _density(acts[layer.name])
            parts.append(f"activations: {a!r}")
            note = note or a_note
        lines.append(f"  {_q(layer.name)}: {{{', '.join(parts)}}}" + (f"  # {note}" if note else ""))
    return "\n".join(lines) + "\n"


def _density(mask: np.ndarray) -> tuple[float, str]:
    nnz = int(np.count_nonzero(mask))
    if nnz == 0:
        return 1.0 / mask.size, "all zero: density floored at 1 / size"
    return nnz / mask.size, ""


def _q(text: str) -> str:
    """A YAML double-quoted scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
