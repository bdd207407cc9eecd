"""Network files (YAML, NetworkSpec format) -> Network objects, by shipped name or by path."""

from __future__ import annotations

from pathlib import Path

from accelsim.config.workload_spec import LayerSpec, NetworkSpec
from accelsim.config.yaml_io import load_model
from accelsim.errors import ConfigError, WorkloadError
from accelsim.workload.catalog import looks_like_path, network_path
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.network import Network

__all__ = ["layer_from_spec", "load_network", "network_from_spec", "resolve_network_path"]

_CHANNEL_WISE = (LayerKind.DEPTHWISE, LayerKind.POOL, LayerKind.ADD, LayerKind.CONCAT)


def resolve_network_path(name_or_path: str | Path) -> Path:
    """A shipped network name -> its file; a path -> itself (UnknownNameError for an unknown name)."""
    if looks_like_path(name_or_path):
        return Path(name_or_path)
    return network_path(str(name_or_path))


def load_network(name_or_path: str | Path) -> Network:
    """Load a shipped network ("vgg16") or a network YAML file; bad files raise ConfigError."""
    path = resolve_network_path(name_or_path)
    spec = load_model(NetworkSpec, path, "network file")
    return network_from_spec(spec, where=str(path))


def layer_from_spec(spec: LayerSpec) -> Layer:
    """Fill in the defaults (s = r; k = groups = c for channel-wise kinds; groups = 1 else) and build."""
    kind = LayerKind(spec.kind)
    channel_wise = kind in _CHANNEL_WISE
    k = spec.k if spec.k is not None else spec.c  # LayerSpec requires k unless channel-wise
    groups = spec.groups if spec.groups is not None else (spec.c if channel_wise else 1)
    return Layer(
        name=spec.name,
        kind=kind,
        h=spec.h,
        w=spec.w,
        c=spec.c,
        k=k,
        r=spec.r,
        s=spec.s if spec.s is not None else spec.r,
        stride=spec.stride,
        pad=spec.pad,
        pad_end=spec.pad_end,
        groups=groups,
        inputs=tuple(spec.inputs),
    )


def network_from_spec(spec: NetworkSpec, where: str = "<network spec>") -> Network:
    """Build a Network from a validated spec; impossible shapes raise ConfigError prefixed with `where`."""
    layers = []
    for i, layer_spec in enumerate(spec.layers):
        try:
            layers.append(layer_from_spec(layer_spec))
        except WorkloadError as e:
            raise ConfigError(f"{where}: layers.{i}: {e}") from None
    try:
        return Network(name=spec.name, layers=tuple(layers), source=spec.source)
    except WorkloadError as e:
        raise ConfigError(f"{where}: {e}") from None
