"""Accelergy's reference tables (ERT.yaml and ART.yaml, format 0.3 / 0.4, as Accelergy and timeloop-model
write them): per-action energies and per-instance areas of the components of one architecture.

An ART lists, per component, the area of one instance in µm²; an ERT lists, per component, its actions
and the energy of one action in pJ. An action may appear several times with different `arguments`
(e.g. `address_delta` / `data_delta` of an SRAM read), each with its own energy:

    ART:                                      ERT:
      version: 0.4                              version: 0.4
      tables:                                   tables:
      - name: eyeriss_like.PE[0..167].mac       - name: eyeriss_like.PE[0..167].ifmap_spad
        area: 1239.5                              actions:
                                                  - name: read
                                                    arguments: {address_delta: 1, data_delta: 1}
                                                    energy: 0.23632

Only `name`, `area`, `actions`, `arguments` and `energy` are read; other keys Accelergy may add are
ignored. Neither file records its technology node, so the accelerator spec states it
(`technology.area_table_node_nm`, `technology.energy_table_node_nm`).

Several argument sets: unless the spec names one, the most expensive is taken, as timeloop-model does
when it reads an ERT (NVlabs/timeloop `src/model/topology.cpp`, `Topology::Specs::ParseAccelergyERT`:
"Find the (most expensive) cost for each action of the component").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from accelsim.config.yaml_io import names_a_file, read_yaml, validate
from accelsim.errors import ConfigError

VERSIONS = ("0.3", "0.4")
"""Reference-table format versions accelsim reads (ART and ERT alike)."""

_INDEX = re.compile(r"\[[^\]]*\]")

T = TypeVar("T")


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


class ErtAction(_Lenient):
    """One action of a component with one set of arguments, and the energy of one action (pJ)."""

    name: str = Field(min_length=1)
    arguments: dict[str, Any] | None = None
    energy: float = Field(ge=0)


class ErtEntry(_Lenient):
    """One component: its hierarchical name and its actions."""

    name: str = Field(min_length=1)
    actions: tuple[ErtAction, ...] = Field(min_length=1)


class ErtBody(_Lenient):
    version: str | float
    tables: tuple[ErtEntry, ...] = Field(min_length=1)


class ErtFile(_Lenient):
    ERT: ErtBody


Ert = dict[str, tuple[ErtAction, ...]]
"""An ERT as read: full component name -> its actions (one entry per action and argument set)."""


def is_art(data: Any) -> bool:
    """The parsed YAML is an Accelergy ART (a top-level `ART` key)."""
    return isinstance(data, dict) and "ART" in data


def is_ert(data: Any) -> bool:
    """The parsed YAML is an Accelergy ERT (a top-level `ERT` key)."""
    return isinstance(data, dict) and "ERT" in data


def component_name(name: str) -> str:
    """The last segment of a hierarchical name, without instance ranges: `a.PE[0..167].mac` -> `mac`."""
    return _INDEX.sub("", name).rsplit(".", 1)[-1]


INCLUDED = "included"
"""An `area_map` value for a block whose area another ART entry already holds (e.g. adders in a MAC)."""


def table_path(name: str) -> Path | None:
    """The file a `technology` table entry names, or None for a shipped table id (a bare name)."""
    return Path(name).resolve() if names_a_file(name) else None


def read_art(path: Path) -> dict[str, float] | None:
    """The ART at `path` (full component name -> µm² per instance), or None when the file is not an ART."""
    data = read_yaml(path)
    return _art(data, path) if is_art(data) else None


def load_art(path: Path) -> dict[str, float]:
    """Full component name -> µm² per instance, from an ART file; an unknown version is a ConfigError."""
    return _art(read_yaml(path), path)


def read_ert(path: Path) -> Ert | None:
    """The ERT at `path` (full component name -> actions), or None when the file is not an ERT."""
    data = read_yaml(path)
    if not is_ert(data):
        return None
    tables: tuple[ErtEntry, ...] = _tables(
        validate(ErtFile, data, str(path), "Accelergy ERT").ERT, path, "ERT"
    )
    return {entry.name: entry.actions for entry in tables}


def _art(data: Any, path: Path) -> dict[str, float]:
    tables: tuple[ArtEntry, ...] = _tables(
        validate(ArtFile, data, str(path), "Accelergy ART").ART, path, "ART"
    )
    return {entry.name: entry.area for entry in tables}


def _tables(body: ArtBody | ErtBody, path: Path, what: str) -> Any:
    """The body's tables once its format version is one accelsim reads."""
    version = str(body.version)
    if version not in VERSIONS:
        raise ConfigError(
            f"{path}: {what}.version: {version!r} is not a supported {what} format ({', '.join(VERSIONS)})"
        )
    return body.tables


def find_component(table: Mapping[str, T], component: str, source: str, what: str) -> T:
    """The entry of `component` in an ART or ERT: a full name, or a last segment that names one entry."""
    if component in table:
        return table[component]
    matches = [name for name in table if component_name(name) == component]
    if len(matches) == 1:
        return table[matches[0]]
    known = sorted({component_name(n) for n in table})
    if not matches:
        raise ConfigError(f"{source}: no component {component!r} in the {what}; it has: {', '.join(known)}")
    raise ConfigError(
        f"{source}: {component!r} names several {what} components ({', '.join(matches)}); use a full name"
    )


def art_area_um2(areas: dict[str, float], component: str, source: str) -> float:
    """The per-instance area of `component`: a full name, or a last segment that names one entry."""
    return find_component(areas, component, source, "ART")


def ert_energy_pj(ert: Ert, action: str, arguments: dict[str, Any] | None, source: str) -> float:
    """The energy (pJ) of one `component.action` of the ERT (the component a full name or a last
    segment), at the named `arguments`, or the most expensive argument set when none are named."""
    component, _, name = action.rpartition(".")
    if not component or not name:
        raise ConfigError(f"{source}: {action!r} is not an Accelergy `component.action`")
    entries = find_component(ert, component, source, "ERT")
    found = [a for a in entries if a.name == name]
    if not found:
        known = ", ".join(dict.fromkeys(a.name for a in entries))
        raise ConfigError(f"{source}: component {component!r} has no action {name!r}; its actions: {known}")
    if arguments is None:
        return max(a.energy for a in found)
    wanted = _arguments(arguments)
    for a in found:
        if _arguments(a.arguments) == wanted:
            return a.energy
    sets = "; ".join(str(a.arguments or {}) for a in found)
    raise ConfigError(f"{source}: {action} has no argument set {arguments}; it has: {sets}")


def _arguments(arguments: dict[str, Any] | None) -> dict[str, str]:
    """Arguments compared as text (`1`, `1.0` and `'1'` are one value; None and {} are no arguments)."""
    return {str(k): _text(v) for k, v in (arguments or {}).items()}


def _text(value: Any) -> str:
    try:
        return repr(float(value))
    except (TypeError, ValueError):
        return str(value)
