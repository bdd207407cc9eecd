"""Area model: node scaling, primitive rules, every family's chip area in every row, and iso-area compare."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest

from accelsim.accelerators import build
from accelsim.api import list_configs, resolve_config, simulate
from accelsim.energy.area import (
    AREA_COLUMNS,
    AREA_FACTOR_FROM_45NM,
    AreaBlock,
    AreaModel,
    area_breakdown,
    area_factor,
    load_area_table,
    node_area,
)
from accelsim.errors import ConfigError
from accelsim.report.schema import AREA_ROW_COLUMNS, LAYER_COLUMNS

TABLE = load_area_table("accelergy_45nm")
ROOT = Path(__file__).resolve().parent.parent


def model_at(node_nm: float) -> AreaModel:
    return AreaModel(TABLE, node_nm)


def test_table_nodes_are_exact_and_between_them_linear_and_monotonic():
    for node, factor in AREA_FACTOR_FROM_45NM.items():
        assert node_area(node) == factor
    # 40 nm lies 5/13 of the way from 45 nm (1.0) to 32 nm (0.46): the correct direction
    assert node_area(40) == pytest.approx(1.0 - 5 / 13 * 0.54)
    nodes = [7 + 0.5 * i for i in range(int((130 - 7) / 0.5) + 1)]
    areas = [node_area(n) for n in nodes]
    assert all(a < b for a, b in itertools.pairwise(areas))
    assert area_factor(65, 16) == pytest.approx(0.19 / 1.5)
    with pytest.raises(ConfigError, match="outside the range"):
        node_area(5)


def test_primitives_follow_the_published_rows_and_width_rules():
    am = model_at(45)  # the Aladdin rows' own node: no node factor
    assert am.multiplier_um2(32) == pytest.approx(6350)
    assert am.multiplier_um2(16) == pytest.approx(6350 / 4)  # quadratic in width
    assert am.multiplier_um2(8, 16) == pytest.approx(6350 / 8)  # product of the operand widths
    assert am.adder_um2(16) == pytest.approx(278 / 2)
    assert am.register_um2(10) == pytest.approx(59.8)
    # 12 x 16 b register file: 192 flip-flops and a 4-bit address comparator per word
    assert am.rf_um2(12, 16) == pytest.approx(192 * 5.98 + 12 * 71 * 4 / 32)
    assert am.crossbar_um2(16, 32, 24) == pytest.approx(16 * 32 * 24 * 5.98)
    assert am.popcount_um2(128) == pytest.approx(128 * 278 / 32)
    # the CACTI macro at its own node (40 nm): 100 KiB = 0.5068 mm²
    assert model_at(40).sram_um2(100) == pytest.approx(0.5068e6)
    with pytest.raises(ValueError, match="multiplier width"):
        am.multiplier_um2(0)


def test_breakdown_sums_components_and_rejects_unknown_ones():
    blocks = [
        AreaBlock("mac", "m", 2, 1e6),
        AreaBlock("sram", "s", 1, 0.5e6),
        AreaBlock("mac", "a", 1, 0.25e6),
    ]
    out = area_breakdown(blocks)
    assert out["area_mac_mm2"] == pytest.approx(2.25)
    assert out["area_sram_mm2"] == pytest.approx(0.5)
    assert out["area_mm2"] == pytest.approx(2.75)
    assert set(out) == set(AREA_ROW_COLUMNS)
    with pytest.raises(ValueError, match="unknown area component"):
        AreaBlock("wires", "w", 1, 1.0)


@pytest.mark.parametrize("config", list_configs())
def test_every_shipped_config_has_an_area_that_scales_with_the_node(config):
    spec, source = resolve_config(config)
    accel = build(spec, source)
    area = accel.area()
    assert area["area_mm2"] > 0
    assert area["area_mm2"] == pytest.approx(sum(area[c] for c in AREA_COLUMNS))
    assert area["area_mac_mm2"] > 0  # every design multiplies somewhere
    if spec.kind == "imce":
        return  # device constants in F² and µm² of its own config, not the area table
    moved = build(spec.model_copy(update={"technology": spec.technology.model_copy(update={"node_nm": 16})}))
    assert moved.area()["area_mm2"] / area["area_mm2"] == pytest.approx(
        area_factor(spec.technology.node_nm, 16)
    )


def test_rows_carry_the_chip_area_and_imce_reuses_its_own_breakdown():
    run = simulate("systolic_os_32x32", "alexnet")
    assert [c for c in LAYER_COLUMNS if c.startswith("area_")] == list(AREA_ROW_COLUMNS)
    first = run.layers.iloc[0]
    for col in AREA_ROW_COLUMNS:
        assert (run.layers[col] == first[col]).all()
        assert run.totals[col] == first[col]
    spec, _ = resolve_config("systolic_os_32x32")
    am = AreaModel.from_technology(spec.technology)
    macs = 1024 * (am.multiplier_um2(8) + am.adder_um2(32)) * 1e-6
    assert first["area_mac_mm2"] == pytest.approx(macs)
    blocks = run.provenance["area_blocks_mm2"]
    assert set(blocks) == {"multipliers", "adders", "PE registers", "operand SRAMs"}
    assert sum(blocks.values()) == pytest.approx(first["area_mm2"])
    imce = build(resolve_config("imce")[0])
    assert imce.area()["area_mm2"] == pytest.approx(imce.area_mm2()["total"])


def test_sparse_support_costs_area():
    dense, sparse = (build(resolve_config(c)[0]).area() for c in ("sparten_dense", "sparten"))
    assert dense["area_special_mm2"] == 0
    assert sparse["area_special_mm2"] > 0
    assert sparse["area_mm2"] > dense["area_mm2"]
    dcnn, scnn = (build(resolve_config(c)[0]) for c in ("dcnn", "scnn"))
    names = {b.name for b in scnn.area_blocks(())} - {b.name for b in dcnn.area_blocks(())}
    assert names == {"scatter crossbars"}


def test_a_sweep_point_keeps_its_chip_area_and_pareto_can_size_by_it():
    from accelsim.plots.pareto import pareto_plot
    from accelsim.plots.sweep_plot import aggregate_points, axis_columns

    run = simulate("systolic_os_32x32", "alexnet")
    rows = [run.layers.assign(point_id=p, rows=r) for p, r in (("p1", 32), ("p2", 16))]
    table = pd.concat(rows, ignore_index=True)
    table.loc[table["point_id"] == "p2", "area_mm2"] = 1.0
    points = aggregate_points(table).set_index("point_id")
    assert points.loc["p1", "area_mm2"] == run.layers["area_mm2"].iloc[0]  # one chip, not summed
    assert points.loc["p2", "area_mm2"] == 1.0
    assert axis_columns(table) == ["rows"]  # area columns are results, not sweep axes
    fig = pareto_plot(table, x="latency", y="energy", size="area")
    assert fig.axes


def test_the_docs_area_tables_are_current():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from area_vs_papers import PAGES, page_section, rows, table

    fresh = table().splitlines()
    assumptions = (ROOT / "docs" / "assumptions.md").read_text()
    for line in fresh:
        assert line in assumptions, f"docs/assumptions.md is stale (benchmarks/area_vs_papers.py): {line}"
    assert {model for model, *_ in rows()} == {m for models, *_ in PAGES.values() for m in models}
    for page in PAGES:  # each model page ends with its section, which its evaluation script rewrites
        text = (ROOT / "docs" / page).read_text()
        assert text.endswith("\n\n" + page_section(page)), (
            f"docs/{page}: its Area section is stale (python benchmarks/area_vs_papers.py --write)"
        )
