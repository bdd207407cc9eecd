"""Energy model: action counts x per-action energies from cited tables, scaled to the modelled node."""

from __future__ import annotations

from accelsim.energy.model import (
    COMPONENTS,
    ENERGY_COLUMNS,
    LEAK,
    Action,
    ActionEnergy,
    EnergyModel,
    actions,
    energy_breakdown,
    static_energy_pj,
)
from accelsim.energy.scaling import energy_factor, node_energy, node_factor
from accelsim.energy.table import DEFAULT_TABLE, EnergyTable, list_energy_tables, load_energy_table

__all__ = [
    "COMPONENTS",
    "DEFAULT_TABLE",
    "ENERGY_COLUMNS",
    "LEAK",
    "Action",
    "ActionEnergy",
    "EnergyModel",
    "EnergyTable",
    "actions",
    "energy_breakdown",
    "energy_factor",
    "list_energy_tables",
    "load_energy_table",
    "node_energy",
    "node_factor",
    "static_energy_pj",
]
