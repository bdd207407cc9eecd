"""Energy: node scaling [STILLMAKER17], table values [HOROWITZ14; EYERISS16; ALADDIN14; ACCELERGY19], SRAM
rules, breakdown, tables."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import get_args

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import accelsim.energy.table as tables_module
from accelsim.config.arch import Dram, Technology
from accelsim.config.energy_spec import DramSpec
from accelsim.config.yaml_io import read_yaml
from accelsim.energy import (
    COMPONENTS,
    DEFAULT_TABLE,
    ENERGY_COLUMNS,
    Action,
    ActionEnergy,
    EnergyModel,
    energy_breakdown,
    energy_factor,
    list_energy_tables,
    load_energy_table,
    node_energy,
    node_factor,
    static_energy_pj,
)
from accelsim.energy.scaling import sram_access_factor, sram_depth_factor, sram_width_factor
from accelsim.errors import AccelsimError, ConfigError, UnknownNameError

# [STILLMAKER17], "Dynamic-energy factors relative to 45 nm at the same Vdd", printed to 3 decimals.
NODES = (130, 90, 65, 45, 40, 32, 28, 22, 20, 16, 14, 10, 7)
FACTORS = {
    0.8: (3.068, 1.897, 1.241, 1, 0.869, 0.659, 0.513, 0.294, 0.221, 0.174, 0.139, 0.118, 0.094),
    1.0: (3.307, 2.037, 1.309, 1, 0.859, 0.633, 0.506, 0.315, 0.251, 0.198, 0.159, 0.135, 0.109),
}
HALF_ULP_3DP = 0.0005 + 1e-9


def model(table_id: str, node_nm: float | None = None, vdd: float | None = None) -> EnergyModel:
    """A model of a shipped table, at the table's own node and voltage unless given."""
    table = load_energy_table(table_id)
    return EnergyModel(
        table, table.node_nm if node_nm is None else node_nm, table.vdd if vdd is None else vdd
    )


# --- node scaling -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vdd", "node", "printed"),
    [(v, n, f) for v, row in FACTORS.items() for n, f in zip(NODES, row, strict=True)],
)
def test_node_factor_reproduces_reference_table(vdd: float, node: int, printed: float) -> None:
    got = node_factor(45, node, vdd)
    assert abs(got - printed) <= HALF_ULP_3DP, f"[STILLMAKER17] @{vdd} V, {node} nm: {printed}, got {got:.5f}"


@pytest.mark.parametrize(
    ("from_nm", "to_nm", "printed"),
    [(65, 45, 0.806), (40, 45, 1.151), (45, 28, 0.513), (28, 16, 0.338), (45, 16, 0.174)],
)
def test_handy_ratios(from_nm: int, to_nm: int, printed: float) -> None:
    assert abs(node_factor(from_nm, to_nm, 0.8) - printed) <= HALF_ULP_3DP, (
        "[STILLMAKER17] handy ratios (0.8 V)"
    )


def test_worked_example_45_and_65_nm() -> None:
    # [STILLMAKER17]: E(45) = 0.6930 and E(65) = 0.8598 at 0.8 V.
    assert node_energy(45, 0.8) == pytest.approx(0.6930, abs=1e-4)
    assert node_energy(65, 0.8) == pytest.approx(0.8598, abs=1e-4)


def test_intermediate_nodes_interpolate_the_right_way() -> None:
    # Accelergy's inverted interpolation gives 0.367 (28 nm) and 0.586 (22 nm); correct ones are monotonic.
    f28, f22 = node_factor(45, 28), node_factor(45, 22)
    assert node_factor(45, 20) < f22 < f28 < node_factor(45, 32)
    e32, e20 = node_energy(32, 0.8), node_energy(20, 0.8)
    assert node_energy(28, 0.8) == pytest.approx(e32 + (e20 - e32) * (28 - 32) / (20 - 32))


@pytest.mark.parametrize("node", [6.9, 131, 180, 0])
def test_node_outside_range_raises(node: float) -> None:
    with pytest.raises(ConfigError, match=r"7\.\.130"):
        node_energy(node, 0.8)


def test_nonpositive_vdd_raises() -> None:
    with pytest.raises(ConfigError, match="voltage"):
        node_energy(45, 0.0)


nodes = st.floats(min_value=7, max_value=130, allow_nan=False)
voltages = st.floats(min_value=0.6, max_value=1.2, allow_nan=False)


@given(node=nodes, vdd=voltages)
def test_scaling_to_own_node_is_identity(node: float, vdd: float) -> None:
    assert node_factor(node, node, vdd) == pytest.approx(1.0)
    assert energy_factor(node, vdd, node, vdd) == pytest.approx(1.0)


@given(a=nodes, b=nodes, vdd=voltages)
def test_energy_is_monotonic_in_node(a: float, b: float, vdd: float) -> None:
    lo, hi = sorted((a, b))
    assert node_energy(lo, vdd) <= node_energy(hi, vdd) * (1 + 1e-12)


@given(a=nodes, b=nodes, c=nodes, vdd=voltages)
def test_node_factors_compose(a: float, b: float, c: float, vdd: float) -> None:
    assert node_factor(a, b, vdd) * node_factor(b, c, vdd) == pytest.approx(node_factor(a, c, vdd))


# --- table values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bits", "acc_bits", "fp", "expected"),
    [
        (8, 32, False, 0.3),
        (8, 8, False, 0.23),
        (16, 32, False, 0.9),
        (16, None, True, 1.5),
        (32, None, True, 4.6),
    ],
)
def test_horowitz_mac_energies(bits: int, acc_bits: int | None, fp: bool, expected: float) -> None:
    got = model("horowitz_45nm").mac_pj(bits, acc_bits, fp=fp)
    assert got == pytest.approx(expected), f"[HOROWITZ14] MAC energies from the table: {expected} pJ"


def test_horowitz_table_reproduces_its_published_sram_points_within_4_percent() -> None:
    m = model("horowitz_45nm")
    for size_kib, pj in ((8, 10), (32, 20), (1024, 100)):
        assert m.sram_pj(size_kib, 64) == pytest.approx(pj, rel=0.04), f"Horowitz {size_kib} KB 64-bit cache"


def test_aladdin_mac_energies() -> None:
    m = model("accelergy_40nm")
    assert m.factor == 1.0
    assert m.mac_pj(16) == pytest.approx(2.2, abs=0.005), "[ALADDIN14]: 16-bit MAC = 8.63/4 + 0.043 = 2.2"
    assert m.mac_pj(16) == pytest.approx(2.20035), "[ACCELERGY19]: Sparseloop Eyeriss-168 MAC 2.20035"
    assert m.mac_pj(8) == pytest.approx(0.5608, abs=1e-4), "[ACCELERGY19]: Eyeriss v2 PE 8-bit MAC 0.5608"
    assert m.mac_pj(8, 16) == pytest.approx(0.58, abs=0.005), "[ALADDIN14]: 8-bit MAC, 16-bit adder"
    assert m.mac_gated_pj(16) == pytest.approx(0.06595, rel=1e-3), "[ACCELERGY19]: gated MAC 0.06595"
    assert m.mac_gated_pj(8) == pytest.approx(0.01798, rel=0.07), "[ACCELERGY19]: Eyeriss v2 gated 0.01798"


def test_aladdin_spads_and_glb() -> None:
    m = model("accelergy_40nm")
    assert m.rf_pj(16) == pytest.approx(0.146), "[ACCELERGY19]: ifmap spad 0.146"
    assert m.sram_pj(100, 64) == pytest.approx(32.081), "[ACCELERGY19]: CACTI 100 KB read"
    assert m.sram_pj(100, 64, write=True) == pytest.approx(22.067, rel=1e-3), (
        "[ACCELERGY19]: CACTI 100 KB write"
    )


def test_eyeriss_table_keeps_the_published_ratios() -> None:
    m = model("eyeriss_65nm")
    mac = m.mac_pj(16)
    assert mac == pytest.approx(2.20035 * node_factor(40, 65), rel=1e-3), (
        "anchor: Aladdin MAC scaled to 65 nm"
    )
    assert m.rf_pj(16) / mac == pytest.approx(1, rel=1e-3)
    assert m.noc_pj(16) / mac == pytest.approx(2, rel=1e-3)
    assert m.sram_pj(100, 16) / mac == pytest.approx(6, rel=1e-3)
    for kind in DramSpec.model_fields:
        assert m.dram_pj_per_bit(kind) * 16 / mac == pytest.approx(200, rel=1e-3)


def test_dram_per_bit_list() -> None:
    m = model("accelergy_40nm", 16, 0.8)  # DRAM is off-chip: never node-scaled
    expected = {"lpddr4": 8, "lpddr": 40, "ddr3": 70, "gddr5": 14, "hbm2": 3.9, "hmc": 4.2}
    assert {k: m.dram_pj_per_bit(k) for k in expected} == expected, "[ACCELERGY19] DRAM.type2energy"


def test_every_dram_kind_of_the_arch_spec_has_a_cost() -> None:
    assert set(DramSpec.model_fields) == set(get_args(Dram.model_fields["kind"].annotation))


def test_unknown_dram_kind() -> None:
    with pytest.raises(UnknownNameError, match="lpddr4"):
        model("accelergy_40nm").dram_pj_per_bit("ddr9")


def test_leakage() -> None:
    assert model("horowitz_45nm").leakage_mw(1000, 512) == 0.0
    assert model("eyeriss_65nm").leakage_mw(1000, 512) == 0.0
    m = model("accelergy_40nm")
    assert m.leakage_mw(1, 0, bits=32) == pytest.approx(0.05 + 0.0024)
    assert m.leakage_mw(1, 0, bits=16) == pytest.approx(0.05 / 4 + 0.0024 / 2)
    assert m.leakage_mw(0, 100) == pytest.approx(40.30)
    scaled = model("accelergy_40nm", 16, 0.8)
    assert scaled.leakage_mw(10, 10) == pytest.approx(m.leakage_mw(10, 10) * node_factor(40, 16))


def test_static_energy() -> None:
    assert static_energy_pj(1.0, 1000, 1000) == pytest.approx(1000.0)  # 1 mW for 1 µs = 1 nJ


def test_node_scaling_applies_to_on_chip_energies() -> None:
    base, scaled = model("accelergy_40nm"), model("accelergy_40nm", 28, 0.8)
    f = node_factor(40, 28)
    assert scaled.factor == pytest.approx(f)
    assert scaled.mac_pj(8) == pytest.approx(base.mac_pj(8) * f)
    assert scaled.sram_pj(64, 32) == pytest.approx(base.sram_pj(64, 32) * f)
    assert scaled.noc_pj(8) == pytest.approx(base.noc_pj(8) * f)


def test_voltage_scaling_uses_the_node_polynomial() -> None:
    m = model("horowitz_45nm", 45, 0.8)
    assert m.factor == pytest.approx(node_energy(45, 0.8) / node_energy(45, 0.9))


# --- SRAM scaling -------------------------------------------------------------------------------


def test_sram_capacity_exponent() -> None:
    m = model("accelergy_40nm")
    assert m.sram_pj(100, 64) / m.sram_pj(8, 64) == pytest.approx(12.5**0.78), "[ACCELERGY19] CACTI rule"
    assert sram_depth_factor(12800, 1024, 0.78) == pytest.approx(12.5**0.78)


def test_sram_width_rule() -> None:
    assert sram_width_factor(128, 64, 0.3) == pytest.approx(0.7 * 2 + 0.3)
    assert sram_width_factor(64, 64, 0.3) == 1.0
    # Same capacity, twice the port: half the depth, width factor 1.7.
    assert sram_access_factor(100, 128, 100, 64, 0.78, 0.3) == pytest.approx(0.5**0.78 * 1.7)


def test_narrow_words_share_a_port_access() -> None:
    m = model("accelergy_40nm")
    assert m.sram_pj(100, 16) == pytest.approx(m.sram_pj(100, 64) / 4)
    assert m.sram_pj(100, 16, port_bits=16) > m.sram_pj(100, 16)
    with pytest.raises(ValueError, match="does not fit"):
        m.sram_pj(100, 64, port_bits=32)


@given(
    a=st.floats(min_value=0.5, max_value=4096),
    b=st.floats(min_value=0.5, max_value=4096),
    bits=st.sampled_from([8, 16, 32, 64]),
)
def test_sram_energy_grows_with_size(a: float, b: float, bits: int) -> None:
    m = model("accelergy_40nm")
    lo, hi = sorted((a, b))
    assert m.sram_pj(lo, bits) <= m.sram_pj(hi, bits)


@given(table=st.sampled_from(["accelergy_40nm", "horowitz_45nm", "eyeriss_65nm"]), bits=st.integers(1, 63))
def test_mac_energy_grows_with_width(table: str, bits: int) -> None:
    m = model(table)
    assert 0 < m.mac_pj(bits) < m.mac_pj(bits + 1)
    assert m.mac_gated_pj(bits) < m.mac_pj(bits)


def test_bad_widths_raise() -> None:
    m = model("accelergy_40nm")
    with pytest.raises(ValueError, match="bits"):
        m.mac_pj(0)
    with pytest.raises(ValueError, match="bits"):
        m.rf_pj(-1)
    with pytest.raises(ValueError, match="KiB"):
        m.sram_pj(0, 16)


def test_fp_mac_needs_fp_entries() -> None:
    with pytest.raises(ConfigError, match="floating-point"):
        model("eyeriss_65nm").mac_pj(16, fp=True)


# --- breakdown ----------------------------------------------------------------------------------


def test_energy_breakdown_sums_per_component() -> None:
    of = ActionEnergy.of
    out = energy_breakdown(
        [of("mac", "mac", 10, 2.0), of("mac", "gated", 4, 0.1), of("sram", "read", 3, 5.0)]
    )
    assert tuple(out) == ENERGY_COLUMNS == tuple(f"energy_{c}_pj" for c in COMPONENTS)
    assert out["energy_mac_pj"] == pytest.approx(20.4)
    assert out["energy_sram_pj"] == pytest.approx(15.0)
    assert out["energy_rf_pj"] == out["energy_dram_pj"] == out["energy_static_pj"] == 0.0


def test_energy_breakdown_of_nothing_is_all_zero() -> None:
    assert energy_breakdown([]) == dict.fromkeys(ENERGY_COLUMNS, 0.0)


def test_an_action_listed_twice_adds_up_at_one_cost() -> None:
    of = ActionEnergy.of
    out = energy_breakdown([of("noc", "hop", 5, 2.0), of("noc", "hop", 3, 2.0)])
    assert out["energy_noc_pj"] == 16.0
    with pytest.raises(AccelsimError, match=r"noc\.hop is listed at 2\.0 pJ and at 3\.0 pJ"):
        energy_breakdown([of("noc", "hop", 5, 2.0), of("noc", "hop", 3, 3.0)])


@pytest.mark.parametrize(
    ("count", "pj", "what"),
    [(-1, 1.0, "count"), (float("nan"), 1.0, "count"), (1, float("inf"), "pJ"), (1, -0.5, "pJ")],
)
def test_energy_breakdown_rejects_bad_counts_and_costs(count: float, pj: float, what: str) -> None:
    with pytest.raises(AccelsimError, match=rf"energy action rf\.read: {what}"):
        energy_breakdown([ActionEnergy.of("rf", "read", count, pj)])


def test_action_rejects_unknown_component() -> None:
    with pytest.raises(ValueError, match="unknown energy component 'alu'"):
        Action("alu", "mac")


def test_actions_sort_and_hash() -> None:
    assert sorted([Action("rf", "write"), Action("mac", "mac")])[0] == Action("mac", "mac")
    assert len({Action("rf", "read"), Action("rf", "read")}) == 1


# --- table files --------------------------------------------------------------------------------


def test_shipped_tables() -> None:
    assert list_energy_tables() == ["accelergy_40nm", "eyeriss_65nm", "horowitz_45nm"]
    assert DEFAULT_TABLE in list_energy_tables()
    assert Technology(node_nm=40).energy_table == DEFAULT_TABLE
    for table_id in list_energy_tables():
        table = load_energy_table(table_id)
        assert table.id == table_id
        assert table.spec.source


def test_from_technology() -> None:
    m = EnergyModel.from_technology(Technology(node_nm=40))
    assert m.table.id == DEFAULT_TABLE
    assert m.factor == 1.0
    assert EnergyModel.from_technology(Technology(node_nm=22, energy_table="horowitz_45nm")).factor < 1


def test_from_technology_out_of_range_node() -> None:
    with pytest.raises(ConfigError, match="180"):
        EnergyModel.from_technology(Technology(node_nm=180))


def test_unknown_table_id_lists_shipped_tables() -> None:
    with pytest.raises(UnknownNameError) as info:
        load_energy_table("acelergy_40nm")
    message = str(info.value)
    assert "acelergy_40nm" in message
    assert all(t in message for t in list_energy_tables())


def _copy_table(tmp_path: Path) -> tuple[Path, dict]:
    """A path in tmp_path and the parsed default table, to edit and write there."""
    data = read_yaml(tables_module.TABLES_DIR / "accelergy_40nm.yaml")
    return tmp_path / "mine.yaml", data


def test_table_loads_from_path(tmp_path: Path) -> None:
    path, data = _copy_table(tmp_path)
    data["id"] = "mine"
    path.write_text(yaml.safe_dump(data))
    assert load_energy_table(path).id == "mine"
    assert load_energy_table(str(path)).spec.mac.multiplier[0].value == 8.63


def test_unknown_key_in_table_file_names_file_and_key(tmp_path: Path) -> None:
    path, data = _copy_table(tmp_path)
    data["mac"]["multipler_typo"] = 1.0
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_energy_table(path)
    message = str(info.value)
    assert str(path) in message
    assert "mac.multipler_typo" in message
    assert "unknown key" in message


def test_wrong_unit_and_missing_source_are_errors(tmp_path: Path) -> None:
    path, data = _copy_table(tmp_path)
    data["rf"]["unit"] = "nJ"
    del data["noc"]["source"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_energy_table(path)
    assert "rf.unit" in str(info.value)
    assert "noc.source" in str(info.value)


def test_edited_table_file_is_reloaded(tmp_path: Path) -> None:
    path, data = _copy_table(tmp_path)
    path.write_text(yaml.safe_dump(data))
    assert math.isclose(load_energy_table(path).spec.rf.value, 0.146)
    data["rf"]["value"] = 0.2
    path.write_text(yaml.safe_dump(data))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert math.isclose(load_energy_table(path).spec.rf.value, 0.2)
