"""Energy tables: the shipped ones (data files in accelsim/energy/tables/) and loading by id or path."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from accelsim.config.energy_spec import EnergyTableSpec
from accelsim.config.yaml_io import load_model
from accelsim.errors import ConfigError, UnknownNameError

TABLES_DIR = Path(__file__).resolve().parent / "tables"
"""Directory of the shipped energy-table files, one `<id>.yaml` each."""

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
    return sorted(p.stem for p in TABLES_DIR.glob("*.yaml"))


def load_energy_table(id_or_path: str | Path) -> EnergyTable:
    """Load a shipped table by id, or a table file by path; an unknown id lists the shipped ones."""
    candidate = Path(id_or_path)
    if isinstance(id_or_path, Path) or candidate.suffix in (".yaml", ".yml") or len(candidate.parts) > 1:
        return _load_file(candidate.resolve())
    if str(id_or_path) not in list_energy_tables():
        raise UnknownNameError("energy table", str(id_or_path), list_energy_tables())
    table = _load_file(TABLES_DIR / f"{id_or_path}.yaml")
    if table.id != id_or_path:
        raise ConfigError(f"{table.path}: id {table.id!r} does not match the file name {id_or_path!r}")
    return table


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
