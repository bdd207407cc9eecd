"""Sweep specs: a base accelerator config, axes of values over its keys, networks, profiles and seeds.

This module checks the shape of a sweep file (types, unknown keys, zip groups). What needs the rest of
accelsim (the base config's fields, whether each value builds a valid accelerator, whether networks
and profiles exist) is checked by `accelsim.sweep.points.expand`, before any point runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, PrivateAttr

from accelsim.config.yaml_io import StrictModel, read_yaml, validate
from accelsim.errors import ConfigError

AxisValue = bool | int | float | str | None
"""A value an axis can take: a YAML scalar (null included)."""


class SweepSpec(StrictModel):
    """A design-space sweep: the cartesian product of the axes (zip groups vary together) x networks x
    profiles x seeds, each point a copy of the base config with the axis values applied."""

    name: str = Field(min_length=1)
    """Name of the sweep (recorded in DIR/sweep.json)."""
    base: str = Field(min_length=1)
    """A shipped config name (`accelsim list configs`) or a YAML path relative to the sweep file."""
    axes: dict[str, list[AxisValue]] = Field(default_factory=dict)
    """Dotted key path of the base config (`rows`, `memory.ifmap_sram_kib`) -> the values it takes."""
    zip: list[list[str]] = Field(default_factory=list)
    """Groups of axes that vary together (equal lengths) instead of forming a cartesian product."""
    networks: list[str] = Field(min_length=1)
    """Shipped network names or network YAML paths relative to the sweep file."""
    profiles: list[str] = Field(default_factory=lambda: ["dense"], min_length=1)
    """Sparsity profile ids (or YAML paths relative to the sweep file), applied to every network."""
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    """Seeds of the operand masks."""
    skip_unsupported: bool = False
    """Skip the layers an accelerator cannot run (each point's provenance lists them, as `accelsim run
    --skip-unsupported` does) instead of failing the point."""
    batches: list[Annotated[int, Field(gt=0)]] | None = Field(default=None, min_length=1)
    """Images each point runs (`accelsim run --batch`); unset: each config's own batch (else 1)."""

    _path: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        """The sweep file this spec was read from (None for a spec built in code)."""
        return self._path

    @property
    def where(self) -> str:
        """How error messages name this spec: its file, or '<sweep NAME>'."""
        return str(self._path) if self._path is not None else f"<sweep {self.name}>"

    @property
    def folder(self) -> Path:
        """The folder relative paths (base, networks, profiles) are taken from."""
        return self._path.parent if self._path is not None else Path.cwd()


def parse_sweep(data: Any, source: str, path: Path | None = None) -> SweepSpec:
    """Validate already-parsed data as a sweep spec; `path` anchors its relative paths."""
    spec = validate(SweepSpec, data, source, "sweep spec")
    spec._path = path
    _check_axes(spec, source)
    _check_zip(spec, source)
    return spec


def load_sweep(path: Path) -> SweepSpec:
    """The one place where a sweep YAML file becomes a SweepSpec (shape checks only; see module doc)."""
    path = Path(path).resolve()
    return parse_sweep(read_yaml(path), str(path), path)


def _check_axes(spec: SweepSpec, source: str) -> None:
    zipped = {axis for group in spec.zip for axis in group}
    for axis, values in spec.axes.items():
        if not values:
            raise ConfigError(f"{source}: axes.{axis}: needs at least one value")
        if axis not in zipped:  # a zip group's axes may repeat values; its tuples may not (_check_zip)
            _check_unique(values, f"{source}: axes.{axis}")


def _check_unique(values: list[Any], where: str) -> None:
    """Refuse a value listed twice (True and 1 are different values here, as they are in YAML)."""
    seen: list[Any] = []
    for value in values:
        if any(_same(value, v) for v in seen):
            raise ConfigError(f"{where}: value {value!r} is listed twice")
        seen.append(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _check_zip(spec: SweepSpec, source: str) -> None:
    grouped: dict[str, int] = {}
    for i, group in enumerate(spec.zip):
        if len(group) < 2:
            raise ConfigError(f"{source}: zip.{i}: a zip group needs at least two axes, got {group}")
        for axis in group:
            if axis not in spec.axes:
                raise ConfigError(
                    f"{source}: zip.{i}: {axis!r} is not an axis; allowed here: {', '.join(spec.axes)}"
                )
            if axis in grouped:
                raise ConfigError(f"{source}: zip.{i}: axis {axis!r} is already in zip.{grouped[axis]}")
            grouped[axis] = i
        lengths = {axis: len(spec.axes[axis]) for axis in group}
        if len(set(lengths.values())) > 1:
            listed = ", ".join(f"axes.{a} has {n}" for a, n in lengths.items())
            raise ConfigError(f"{source}: zip.{i}: axes that vary together need equal lengths; {listed}")
        _check_unique(
            list(zip(*(spec.axes[axis] for axis in group), strict=True)),
            f"{source}: zip.{i} ({', '.join(group)})",
        )
