"""A Network: an ordered list of layers that must chain, output to input."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from accelsim.errors import WorkloadError
from accelsim.workload.layer import Layer, LayerKind


@dataclass(frozen=True, slots=True)
class Network:
    """Layers in execution order; pooling between layers is explicit so that shapes chain."""

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
            for prev, nxt in zip(self.layers, self.layers[1:], strict=False):
                _check_link(self.name, prev, nxt)

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
        """The layers that run on multipliers (everything except pooling)."""
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
