"""Sweep spec -> points: every point validated and built before any runs, each with a stable id.

A point's id is the sha256 of the canonical JSON of what it simulates: the resolved config (every
field, defaults filled in), the network's name and layer shapes, the profile's id and file content,
and the seed. Equal ids mean equal simulations, whatever sweep, folder or process produced them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from accelsim.accelerators import build
from accelsim.api import network_hash, resolve_config, resolve_network
from accelsim.config.arch import get_key, parse_arch, set_key
from accelsim.config.sweep_spec import AxisValue, SweepSpec
from accelsim.errors import AccelsimError, ConfigError
from accelsim.workload.catalog import looks_like_path
from accelsim.workload.network import Network
from accelsim.workload.sparsity import load_profile


@dataclass(frozen=True)
class SweepPoint:
    """One simulation of a sweep: the base config with `axes` applied, on one network, profile, seed."""

    point_id: str
    axes: dict[str, Any]
    """Axis path -> the value it took, as the resolved config holds it (e.g. 64 -> 64.0 for a float)."""
    network: str
    """A shipped network name or an absolute network YAML path."""
    profile: str
    """A profile id or an absolute profile YAML path."""
    seed: int
    spec: dict[str, Any] = field(repr=False)
    """The resolved accelerator config (JSON-ready), which the worker validates again."""
    batch: int | None = None
    """Images the point runs (None: the config's own batch, else 1)."""
    skip_unsupported: bool = False
    """Skip the layers the accelerator cannot run instead of failing (the sweep spec's key)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a Dask task or a manifest."""
        return {
            "point_id": self.point_id,
            "axes": dict(self.axes),
            "network": self.network,
            "profile": self.profile,
            "seed": self.seed,
            "spec": self.spec,
            "batch": self.batch,
            "skip_unsupported": self.skip_unsupported,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepPoint:
        """The inverse of `to_dict`."""
        return cls(
            point_id=str(data["point_id"]),
            axes=dict(data["axes"]),
            network=str(data["network"]),
            profile=str(data["profile"]),
            seed=int(data["seed"]),
            spec=dict(data["spec"]),
            batch=None if data.get("batch") is None else int(data["batch"]),
            skip_unsupported=bool(data.get("skip_unsupported", False)),
        )


def expand(spec: SweepSpec) -> list[SweepPoint]:
    """All points of the sweep in a stable order; every problem is a ConfigError before any point runs.

    Order: axis combinations (first axis slowest), then networks, then seeds and batches, then profiles. Two
    combinations that resolve to the same simulation are one point (same id).
    """
    where = spec.where
    base_spec = _resolve_base(spec)
    base = base_spec.model_dump(mode="json")
    for axis in spec.axes:
        _check_path(base_spec, axis, where)
    for axis, values in spec.axes.items():  # one axis at a time, so an error names the guilty value
        for value in values:
            _build(_apply(base, {axis: value}), f"{where}: axes.{axis}: value {value!r}")
    networks = [_resolve_network(spec, i, name) for i, name in enumerate(spec.networks)]
    profiles = _resolve_profiles(spec, networks)
    batches: list[int | None] = list(spec.batches) if spec.batches else [None]
    points: dict[str, SweepPoint] = {}
    for combo in _combinations(spec):
        what = ", ".join(f"axes.{a}={v!r}" for a, v in combo.items())
        resolved = _build(_apply(base, combo), f"{where}: point {what or '(base)'}")
        data = resolved.model_dump(mode="json")
        axes = {axis: get_key(data, axis) for axis in combo}
        for (net_ref, net), seed, batch in itertools.product(networks, spec.seeds, batches):
            for prof_ref, prof_identity in profiles[net.name]:
                pid = point_id(data, net, prof_identity, seed, batch, spec.skip_unsupported)
                if pid not in points:
                    points[pid] = SweepPoint(
                        pid, axes, net_ref, prof_ref, seed, data, batch, spec.skip_unsupported
                    )
    return list(points.values())


def point_id(
    config: dict[str, Any],
    network: Network,
    profile: dict[str, Any],
    seed: int,
    batch: int | None = None,
    skip_unsupported: bool = False,
) -> str:
    """sha256 of the canonical JSON of (resolved config, network identity, profile identity, seed; the
    batch when one is given and `skip_unsupported` when set: a point that skips layers stores fewer
    rows than one that runs them all. A point with neither keeps the id it always had)."""
    identity: dict[str, Any] = {
        "config": config,
        "network": {"name": network.name, "sha256": network_hash(network)},
        "profile": profile,
        "seed": seed,
    }
    if batch is not None:
        identity["batch"] = batch
    if skip_unsupported:
        identity["skip_unsupported"] = True
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _resolve_base(spec: SweepSpec) -> Any:
    ref: str | Path = spec.folder / spec.base if looks_like_path(spec.base) else spec.base
    try:
        base_spec, _ = resolve_config(ref)
    except AccelsimError as e:
        raise ConfigError(f"{spec.where}: base: {e}") from None
    return base_spec


def _check_path(base_spec: BaseModel, axis: str, where: str) -> None:
    """Raise unless the dotted `axis` names a field of the base spec (walking its sections)."""
    node: Any = base_spec
    parts = axis.split(".")
    for depth, part in enumerate(parts):
        prefix = ".".join(parts[:depth])
        if not isinstance(node, BaseModel):
            raise ConfigError(
                f"{where}: axes.{axis}: {prefix!r} is a value, not a section; it has no key {part!r}"
            )
        fields = sorted(type(node).model_fields)
        if part not in fields:
            level = f"under {prefix!r}" if prefix else "at the top level"
            raise ConfigError(
                f"{where}: axes.{axis}: {part!r} is not a key of the base config {level}; "
                f"allowed here: {', '.join(fields)}"
            )
        node = getattr(node, part)
    if isinstance(node, BaseModel):
        raise ConfigError(
            f"{where}: axes.{axis}: is a section, not a value; sweep one of its keys: "
            f"{', '.join(f'{axis}.{k}' for k in sorted(type(node).model_fields))}"
        )


def _apply(base: dict[str, Any], values: dict[str, AxisValue]) -> dict[str, Any]:
    """A deep copy of `base` with each dotted path set to its value."""
    data: dict[str, Any] = json.loads(json.dumps(base))
    for axis, value in values.items():
        set_key(data, axis, value)
    return data


def _build(data: dict[str, Any], source: str) -> Any:
    """Validate and build the accelerator of a resolved config (catches bad dataflow, energy table...)."""
    spec = parse_arch(data, source)
    build(spec, source)
    return spec


def _combinations(spec: SweepSpec) -> list[dict[str, AxisValue]]:
    """Axis combinations: one dimension per zip group or lone axis, in the order axes are listed."""
    group_of = {axis: tuple(group) for group in spec.zip for axis in group}
    dims: list[tuple[str, ...]] = []
    for axis in spec.axes:
        dim = group_of.get(axis, (axis,))
        if dim not in dims:
            dims.append(dim)
    choices = [
        [dict(zip(dim, vals, strict=True)) for vals in zip(*(spec.axes[a] for a in dim), strict=True)]
        for dim in dims
    ]
    return [{k: v for part in combo for k, v in part.items()} for combo in itertools.product(*choices)]


def _resolve_network(spec: SweepSpec, index: int, name: str) -> tuple[str, Network]:
    ref = str((spec.folder / name).resolve()) if looks_like_path(name) else name
    try:
        return ref, resolve_network(ref)
    except AccelsimError as e:
        raise ConfigError(f"{spec.where}: networks.{index}: {e}") from None


def _resolve_profiles(
    spec: SweepSpec, networks: list[tuple[str, Network]]
) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Per network name: (profile reference for the worker, profile identity for the id)."""
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for _, net in networks:
        out[net.name] = []
        for i, name in enumerate(spec.profiles):
            ref = str((spec.folder / name).resolve()) if looks_like_path(name) else name
            try:
                prof = load_profile(net.name, ref, check_against=net)
            except AccelsimError as e:
                raise ConfigError(f"{spec.where}: profiles.{i}: {e}") from None
            content = None if prof.path is None else hashlib.sha256(prof.path.read_bytes()).hexdigest()
            out[net.name].append((ref, {"id": prof.id, "sha256": content}))
    return out
