"""A Network: an ordered list of layers that must chain, output to input."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from accelsim.errors import WorkloadError
from accelsim.workload.layer import Layer, LayerKind


@dataclass(frozen=True, slots=True)
class Network:
    """Layers in execution order; pooling between layers is explicit so that shapes chain.

    A layer reads the previous layer's output unless its `inputs` name earlier layers (branches,
    residual adds, concats): then its input must match what those layers produce.
    """

    name: str
    layers: tuple[Layer, ...]
    source: str = ""
    check_chain: bool = True

    def __post_init__(self) -> None:
        if not self.layers:
            raise WorkloadError(f"network {self.name!r} has no layers")
        names = [layer.name for layer in self.layers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise WorkloadError(f"network {self.name!r}: duplicate layer names {dup}")
        if self.check_chain:
            seen: dict[str, Layer] = {}
            for i, layer in enumerate(self.layers):
                if layer.inputs:
                    _check_inputs(self.name, layer, seen)
                elif i:
                    _check_link(self.name, self.layers[i - 1], layer)
                seen[layer.name] = layer

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"network {self.name!r} has no layer {name!r}")

    @property
    def compute_layers(self) -> tuple[Layer, ...]:
        """The layers that run on multipliers (everything except pooling, add and concat)."""
        return tuple(layer for layer in self.layers if layer.is_compute)

    @property
    def macs(self) -> int:
        """Total MACs of the network."""
        return sum(layer.macs for layer in self.layers)

    @property
    def weights(self) -> int:
        """Total weights of the network."""
        return sum(layer.weights for layer in self.layers)


def _check_link(net: str, prev: Layer, nxt: Layer) -> None:
    if nxt.kind is LayerKind.FC:
        if prev.output_elems != nxt.c:
            raise WorkloadError(
                f"network {net!r}: {prev.name} produces {prev.out_h}x{prev.out_w}x{prev.k} = "
                f"{prev.output_elems} values but fc layer {nxt.name} expects c = {nxt.c}"
            )
        return
    if (prev.out_h, prev.out_w, prev.k) != (nxt.h, nxt.w, nxt.c):
        raise WorkloadError(
            f"network {net!r}: {prev.name} produces {prev.out_h}x{prev.out_w}x{prev.k} but "
            f"{nxt.name} expects {nxt.h}x{nxt.w}x{nxt.c}"
        )


def _check_inputs(net: str, layer: Layer, seen: dict[str, Layer]) -> None:
    """`layer` reads the earlier layers it names: one producer, or the operands of an add / concat."""
    missing = [name for name in layer.inputs if name not in seen]
    if missing:
        raise WorkloadError(
            f"network {net!r}: layer {layer.name} reads {missing}, which are not earlier layers; "
            f"allowed: names of layers before it ({', '.join(seen) or 'none'})"
        )
    producers = [seen[name] for name in layer.inputs]
    if layer.kind is LayerKind.ADD:
        for prev in producers:
            if (prev.out_h, prev.out_w, prev.k) != (layer.h, layer.w, layer.c):
                raise WorkloadError(
                    f"network {net!r}: add layer {layer.name} sums {layer.h}x{layer.w}x{layer.c} tensors "
                    f"but {prev.name} produces {prev.out_h}x{prev.out_w}x{prev.k}"
                )
    elif layer.kind is LayerKind.CONCAT:
        sizes = {(prev.out_h, prev.out_w) for prev in producers}
        channels = sum(prev.k for prev in producers)
        if sizes != {(layer.h, layer.w)} or channels != layer.c:
            got = " + ".join(f"{p.name} {p.out_h}x{p.out_w}x{p.k}" for p in producers)
            raise WorkloadError(
                f"network {net!r}: concat layer {layer.name} expects {layer.h}x{layer.w} inputs with "
                f"{layer.c} channels in all, got {got}"
            )
    else:
        _check_link(net, producers[0], layer)
