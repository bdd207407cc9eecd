"""Accelergy's area reference table (ART.yaml, format 0.3 / 0.4, as Accelergy and timeloop-model write it).

An ART lists, per component of one architecture, the area of one instance in µm²:

    ART:
      version: 0.4
      tables:
      - name: eyeriss_like.PE[0..167].mac
        area: 1239.5

Only `name` and `area` are read; other keys Accelergy may add are ignored. The node is not recorded in
the file, so the accelerator spec states it (`technology.area_table_node_nm`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from accelsim.config.yaml_io import read_yaml, validate
from accelsim.errors import ConfigError

ART_VERSIONS = ("0.3", "0.4")
"""ART format versions accelsim reads."""

_INDEX = re.compile(r"\[[^\]]*\]")


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


class ArtEntry(_Lenient):
    """One component: its hierarchical name and the area of one instance (µm²)."""

    name: str = Field(min_length=1)
    area: float = Field(ge=0)


class ArtBody(_Lenient):
    version: str | float
    tables: tuple[ArtEntry, ...] = Field(min_length=1)


class ArtFile(_Lenient):
    ART: ArtBody


def is_art(data: Any) -> bool:
    """The parsed YAML is an Accelergy ART (a top-level `ART` key)."""
    return isinstance(data, dict) and "ART" in data


def component_name(name: str) -> str:
    """The last segment of a hierarchical name, without instance ranges: `a.PE[0..167].mac` -> `mac`."""
    return _INDEX.sub("", name).rsplit(".", 1)[-1]


INCLUDED = "included"
"""An `area_map` value for a block whose area another ART entry already holds (e.g. adders in a MAC)."""


def read_art(path: Path) -> dict[str, float] | None:
    """The ART at `path` (full component name -> µm² per instance), or None when the file is not an ART."""
    data = read_yaml(path)
    return _validated(data, path) if is_art(data) else None


def load_art(path: Path) -> dict[str, float]:
    """Full component name -> µm² per instance, from an ART file; an unknown version is a ConfigError."""
    return _validated(read_yaml(path), path)


def _validated(data: Any, path: Path) -> dict[str, float]:
    art: ArtFile = validate(ArtFile, data, str(path), "Accelergy ART")
    version = str(art.ART.version)
    if version not in ART_VERSIONS:
        raise ConfigError(
            f"{path}: ART.version: {version!r} is not a supported ART format ({', '.join(ART_VERSIONS)})"
        )
    return {entry.name: entry.area for entry in art.ART.tables}


def art_area_um2(areas: dict[str, float], component: str, source: str) -> float:
    """The per-instance area of `component`: a full name, or a last segment that names one entry."""
    if component in areas:
        return areas[component]
    matches = [name for name in areas if component_name(name) == component]
    if len(matches) == 1:
        return areas[matches[0]]
    known = sorted({component_name(n) for n in areas})
    if not matches:
        raise ConfigError(f"{source}: no component {component!r} in the ART; it has: {', '.join(known)}")
    raise ConfigError(
        f"{source}: {component!r} names several ART components ({', '.join(matches)}); use a full name"
    )
