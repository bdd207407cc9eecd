"""Energy tables: the shipped ones (data files in accelsim/energy/tables/) and loading by id or path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from accelsim.config.energy_spec import EnergyTableSpec
from accelsim.config.yaml_io import load_model, names_a_file
from accelsim.errors import ConfigError, UnknownNameError

TABLES_DIR = Path(__file__).resolve().parent / "tables"
"""Directory of the shipped energy-table files, one `<id>.yaml` each."""

T = TypeVar("T")

DEFAULT_TABLE = "accelergy_40nm"
"""Id of the default table (Aladdin + CACTI at 40 nm), the family the Accelergy/Timeloop tools use."""


@dataclass(frozen=True, slots=True)
class EnergyTable:
    """A validated energy-table file and where it was read from."""

    spec: EnergyTableSpec
    path: Path

    @property
    def id(self) -> str:
        """Short name of the table."""
        return self.spec.id

    @property
    def family(self) -> str:
        """Primitive family (e.g. `aladdin+cacti`)."""
        return self.spec.family

    @property
    def node_nm(self) -> float:
        """Technology node at which the entries hold."""
        return self.spec.node_nm

    @property
    def vdd(self) -> float:
        """Supply voltage at which the entries hold."""
        return self.spec.vdd


def list_energy_tables() -> list[str]:
    """Ids of the shipped energy tables, sorted."""
    return list_tables(TABLES_DIR)


def list_tables(folder: Path) -> list[str]:
    """Ids of the table files (`<id>.yaml`) in `folder`, sorted."""
    return sorted(p.stem for p in folder.glob("*.yaml"))


def load_table(id_or_path: str | Path, folder: Path, what: str, load: Callable[[Path], T]) -> T:
    """A table by shipped id (a `<id>.yaml` in `folder`, whose `id` must match) or by path (a `Path`, a
    `.yaml` name or a name with a folder); an unknown id lists the shipped ones."""
    if names_a_file(id_or_path):
        return load(Path(id_or_path).resolve())
    if str(id_or_path) not in list_tables(folder):
        raise UnknownNameError(what, str(id_or_path), list_tables(folder))
    path = folder / f"{id_or_path}.yaml"
    table = load(path)
    table_id = getattr(getattr(table, "spec", table), "id", None)
    if table_id != id_or_path:
        raise ConfigError(f"{path}: id {table_id!r} does not match the file name {id_or_path!r}")
    return table


def load_energy_table(id_or_path: str | Path) -> EnergyTable:
    """Load a shipped table by id, or a table file by path; an unknown id lists the shipped ones."""
    return load_table(id_or_path, TABLES_DIR, "energy table", _load_file)


def _load_file(path: Path) -> EnergyTable:
    """Read and validate one table file; cached per modification time, as sweeps load one table often."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = -1  # load_model reports the missing file
    return _load_cached(path, stamp)


@lru_cache(maxsize=64)
def _load_cached(path: Path, stamp: int) -> EnergyTable:
    return EnergyTable(load_model(EnergyTableSpec, path, "energy table"), path)
