"""Area model: each accelerator's blocks costed from a cited primitive table, scaled to its node.

An accelerator lists its hardware as `AreaBlock`s (a component, a name, how many, µm² each);
`AreaModel` prices the primitives (multipliers and adders by width, register files by words x bits,
SRAM by capacity, crossbars by inputs x outputs x bits) from an area table and scales each entry from
its own node to the modelled one with Stillmaker & Baas's area factors; `area_breakdown` sums the
blocks into `area_mm2` and one `area_<component>_mm2` column per component.

Node rule: area factors of Stillmaker, Baas, "Scaling equations for the accurate prediction of CMOS
device performance from 180 nm to 7 nm", Integration 58 (2017), as tabulated in
Accelergy-Project/accelergy-library-plug-in @ 2af89ab `scaling.py` (AREA_SCALING, its 45 nm row);
between table nodes the factor is interpolated linearly between the two neighbouring nodes (Accelergy's
own interpolation runs the other way round; see accelsim/energy/scaling.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from accelsim.config.accelergy import INCLUDED, art_area_um2, read_art, table_path
from accelsim.config.area_spec import AreaEntry, AreaTableSpec
from accelsim.config.yaml_io import load_model
from accelsim.energy.table import list_tables, load_table
from accelsim.errors import AccelsimError, ConfigError

if TYPE_CHECKING:
    from accelsim.config.arch import Technology

AREA_COMPONENTS = ("mac", "rf", "sram", "noc", "special")
"""Area components: MAC datapaths (multipliers, adders), register files and registers, SRAM, on-chip
networks and crossbars, and each design's special blocks; each becomes one `area_<component>_mm2` column."""

AREA_COLUMNS = tuple(f"area_{c}_mm2" for c in AREA_COMPONENTS)
"""The per-component area columns of a result row, in AREA_COMPONENTS order."""

AREA_ROW_COLUMNS = ("area_mm2", *AREA_COLUMNS)
"""The area columns of a result row: the whole chip, then one column per component."""

AREA_TABLES_DIR = Path(__file__).resolve().parent / "area_tables"
"""Directory of the shipped area-table files, one `<id>.yaml` each."""

DEFAULT_AREA_TABLE = "accelergy_45nm"
"""Id of the default area table (Aladdin + CACTI areas from the Accelergy plug-ins)."""

AREA_FACTOR_FROM_45NM: dict[int, float] = {
    130: 6.4, 90: 2.8, 65: 1.5, 45: 1.0, 32: 0.46, 20: 0.21, 16: 0.19, 14: 0.17, 10: 0.1, 7: 0.059,
}  # fmt: skip
"""Node (nm) -> area relative to 45 nm (Stillmaker & Baas 2017; accelergy-library-plug-in scaling.py
AREA_SCALING, 45 nm row)."""

_NODES = sorted(AREA_FACTOR_FROM_45NM)


def node_area(node_nm: float) -> float:
    """Area of a block at `node_nm` relative to the same block at 45 nm (linear between table nodes)."""
    if not _NODES[0] <= node_nm <= _NODES[-1]:
        raise ConfigError(
            f"technology node {node_nm} nm is outside the range of the area-scaling table "
            f"({_NODES[0]}..{_NODES[-1]} nm, Stillmaker & Baas 2017)"
        )
    if node_nm in AREA_FACTOR_FROM_45NM:
        return AREA_FACTOR_FROM_45NM[int(node_nm)]
    lower = max(n for n in _NODES if n < node_nm)
    upper = min(n for n in _NODES if n > node_nm)
    a_lower, a_upper = AREA_FACTOR_FROM_45NM[lower], AREA_FACTOR_FROM_45NM[upper]
    return a_lower + (a_upper - a_lower) * (node_nm - lower) / (upper - lower)


def area_factor(from_nm: float, to_nm: float) -> float:
    """Factor that scales an area from node `from_nm` to node `to_nm`."""
    return node_area(to_nm) / node_area(from_nm)


@dataclass(frozen=True, slots=True)
class AreaBlock:
    """`count` copies of one block of `um2_each` µm², booked under one of AREA_COMPONENTS."""

    component: str
    name: str
    count: float
    um2_each: float

    def __post_init__(self) -> None:
        if self.component not in AREA_COMPONENTS:
            raise ValueError(
                f"unknown area component {self.component!r}; known: {', '.join(AREA_COMPONENTS)}"
            )
        for what, value in (("count", self.count), ("area", self.um2_each)):
            if not (math.isfinite(value) and value >= 0):
                raise AccelsimError(f"area block {self.name}: {what} must be finite and >= 0, got {value}")

    @property
    def mm2(self) -> float:
        """count x area of one, in mm²."""
        return self.count * self.um2_each * 1e-6


def area_breakdown(blocks: Iterable[AreaBlock]) -> dict[str, float]:
    """`area_mm2` (the whole chip) and one `area_<component>_mm2` entry per component."""
    out = dict.fromkeys(AREA_COLUMNS, 0.0)
    for block in blocks:
        out[f"area_{block.component}_mm2"] += block.mm2
    return {"area_mm2": sum(out.values()), **out}


def no_area() -> dict[str, float]:
    """The area columns of a kind without an area model: all NaN."""
    return dict.fromkeys(AREA_ROW_COLUMNS, math.nan)


def area_by_block(blocks: Iterable[AreaBlock]) -> dict[str, float]:
    """Block name -> mm² (blocks of one name add up): the detail behind the component columns."""
    out: dict[str, float] = {}
    for block in blocks:
        out[block.name] = out.get(block.name, 0.0) + block.mm2
    return out


class AreaModel:
    """Primitive areas (µm²) of one area table, scaled to one node."""

    __slots__ = ("node_nm", "overrides", "spec")

    def __init__(
        self, spec: AreaTableSpec, node_nm: float, overrides: dict[str, float] | None = None
    ) -> None:
        self.spec = spec
        """The area table the primitives come from."""
        self.node_nm = float(node_nm)
        """Technology node of the modelled chip."""
        self.overrides = dict(overrides or {})
        """Block name -> µm² per instance at `node_nm` that replaces the model's own (from an ART)."""
        node_area(self.node_nm)  # a node outside the table fails here, not at the first block

    @classmethod
    def from_technology(cls, tech: Technology) -> AreaModel:
        """The model an accelerator spec's `technology` section describes (an ART's entries as
        overrides of the blocks `area_map` names, the shipped table for the rest)."""
        art = _art(tech.area_table)
        if art is None:
            if tech.area_map:
                raise ConfigError(
                    f"technology.area_map: needs an Accelergy ART.yaml as technology.area_table, "
                    f"got {tech.area_table!r}"
                )
            return cls(load_area_table(tech.area_table), tech.node_nm)
        where = f"{tech.area_table}: technology"
        if tech.area_table_node_nm is None:
            raise ConfigError(
                f"{where}.area_table_node_nm: give the node of the ART's areas (it is not in the file)"
            )
        if not tech.area_map:
            raise ConfigError(f"{where}.area_map: name the accelsim blocks the ART's components replace")
        factor = area_factor(tech.area_table_node_nm, tech.node_nm)
        overrides = {
            block: 0.0 if part == INCLUDED else art_area_um2(art, part, f"{where}.area_map.{block}") * factor
            for block, part in tech.area_map.items()
        }
        return cls(load_area_table(DEFAULT_AREA_TABLE), tech.node_nm, overrides)

    def apply(self, blocks: list[AreaBlock]) -> list[AreaBlock]:
        """`blocks` with the overridden ones at their ART area; a mapped name no block has is an error."""
        names = [b.name for b in blocks]
        unknown = sorted(set(self.overrides) - set(names))
        if unknown:
            raise ConfigError(
                f"technology.area_map: no block {', '.join(map(repr, unknown))} in this accelerator; "
                f"its blocks: {', '.join(dict.fromkeys(names))}"
            )
        return [
            replace(b, um2_each=self.overrides[b.name]) if b.name in self.overrides else b for b in blocks
        ]

    def __repr__(self) -> str:
        return f"AreaModel({self.spec.id!r}, node_nm={self.node_nm})"

    def _scaled(self, entry: AreaEntry, width_factor: float) -> float:
        return entry.value * width_factor * area_factor(entry.node_nm, self.node_nm)

    def multiplier_um2(self, a_bits: int, b_bits: int | None = None) -> float:
        """An `a_bits` x `b_bits` integer multiplier (area ∝ a x b; square by default)."""
        b = a_bits if b_bits is None else b_bits
        _check_bits("multiplier width", a_bits)
        _check_bits("multiplier width", b)
        ref = self.spec.multiplier
        return self._scaled(ref, a_bits * b / (ref.bits * ref.bits))

    def adder_um2(self, bits: int) -> float:
        """A `bits`-wide integer adder (area ∝ width)."""
        _check_bits("adder width", bits)
        return self._scaled(self.spec.adder, bits / self.spec.adder.bits)

    def register_um2(self, bits: float) -> float:
        """`bits` flip-flops (pipeline registers, FIFOs, mask registers)."""
        if bits < 0:
            raise ValueError(f"register bits must be >= 0, got {bits}")
        return self._scaled(self.spec.flip_flop, bits / self.spec.flip_flop.bits)

    def comparator_um2(self, bits: int) -> float:
        """A `bits`-wide equality comparator (area ∝ width)."""
        _check_bits("comparator width", bits)
        return self._scaled(self.spec.comparator, bits / self.spec.comparator.bits)

    def rf_um2(self, words: int, bits: int) -> float:
        """A register file of `words` x `bits`: its flip-flops and a ceil(log2 words)-bit address
        comparator per word (the Aladdin plug-in's register-file decode)."""
        _check_bits("register-file word", bits)
        if words < 1:
            raise ValueError(f"a register file needs at least one word, got {words}")
        decode = words * self.comparator_um2(max(1, math.ceil(math.log2(words)))) if words > 1 else 0.0
        return self.register_um2(words * bits) + decode

    def sram_um2(self, size_kib: float) -> float:
        """An SRAM macro of `size_kib` (area linear in capacity)."""
        if size_kib < 0:
            raise ValueError(f"SRAM size must be >= 0 KiB, got {size_kib}")
        ref = self.spec.sram
        return ref.value * size_kib * 1e6 * area_factor(ref.node_nm, self.node_nm)

    def crossbar_um2(self, inputs: int, outputs: int, bits: int) -> float:
        """A full crossbar of `inputs` x `outputs` ports `bits` wide (area ∝ crosspoints x width)."""
        if inputs < 1 or outputs < 1:
            raise ValueError(f"a crossbar needs >= 1 input and output, got {inputs} x {outputs}")
        _check_bits("crossbar port", bits)
        ref = self.spec.crosspoint
        return self._scaled(ref, inputs * outputs * bits / ref.bits)

    def popcount_um2(self, bits: int) -> float:
        """A population count (prefix sum) over `bits` mask bits: a counter tree of about `bits` full
        adders (n − log2 n full adders reduce n bits to a count), each 1/width of the table's adder."""
        _check_bits("prefix-sum width", bits)
        return self.adder_um2(1) * bits


def _check_bits(name: str, bits: int) -> None:
    if bits <= 0:
        raise ValueError(f"{name} must be > 0 bits, got {bits}")


def list_area_tables() -> list[str]:
    """Ids of the shipped area tables, sorted."""
    return list_tables(AREA_TABLES_DIR)


def load_area_table(id_or_path: str | Path) -> AreaTableSpec:
    """A shipped area table by id, or an area-table file by path; an unknown id lists the shipped ones."""
    return load_table(id_or_path, AREA_TABLES_DIR, "area table", _load)


def _art(area_table: str) -> dict[str, float] | None:
    """The Accelergy ART `area_table` names, or None for an accelsim area table (id or file)."""
    path = table_path(area_table)
    return None if path is None else read_art(path)


@lru_cache(maxsize=16)
def _load(path: Path) -> AreaTableSpec:
    return load_model(AreaTableSpec, path, "area table")
