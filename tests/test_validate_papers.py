"""Published figures as data and as a command: validation/figures.yaml, `accelsim validate-papers`.

The pins: every fast figure is run here and must give the error recorded at this commit (within its
band), so a model change that moves a figure fails with the figure's id. The slow figures (whole VGG16
and MobileNet runs of several designs) are held to their pins by `python benchmarks/validate_all.py`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from accelsim.config.figures_spec import load_figures
from accelsim.errors import ConfigError, UnknownNameError
from accelsim.validate import (
    PAGE_BEGIN,
    PAGE_END,
    STATUS_NOT_RUN,
    load_shipped,
    markdown,
    run_figures,
    select,
    update_page,
)

ROOT = Path(__file__).resolve().parents[1]
FIGURES = load_shipped()
FAST = [f for f in FIGURES if f.metric is not None and f.cost == "fast"]
REFERENCE_KEYS = set(re.findall(r"^### (\S+)$", (ROOT / "docs" / "references.md").read_text(), flags=re.M))


def accelsim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accelsim.cli", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def test_every_figure_names_a_defined_source_and_is_honest_about_fits():
    assert len(FIGURES) >= 40
    for f in FIGURES:
        assert f.paper.source in REFERENCE_KEYS, f"{f.id}: source {f.paper.source} not in docs/references.md"
        assert f.formula
        assert f.layers_counted
        assert f.measured_by
        assert (f.metric is None) == (f.pinned_error is None), f"{f.id}: a measured figure is pinned"
    assert {f.model for f in FIGURES} >= {"eyeriss_v2", "scnn", "sparten", "phantom", "imce", "winograd"}
    assert any(f.in_sample for f in FIGURES)
    assert any(f.metric is not None and not f.in_sample for f in FIGURES)


@pytest.fixture(scope="module")
def fast_table() -> pd.DataFrame:
    return run_figures(FAST)


def test_fast_figures_hold_their_pinned_error(fast_table):
    assert len(FAST) >= 20
    moved = []
    for f, row in zip(FAST, fast_table.itertuples(index=False), strict=True):
        assert row.id == f.id
        assert f.pinned_error is not None
        if abs(row.error - f.pinned_error) > f.pin_band:
            moved.append(f"{f.id}: error {row.error:+.4f}, pinned {f.pinned_error:+.4f}")
    assert not moved, "a model change moved published figures: " + "; ".join(moved)


def test_status_follows_the_committed_tolerance(fast_table):
    for row in fast_table.itertuples(index=False):
        inside = abs(row.error) <= row.tolerance
        assert row.status == ("pass" if inside else "out of tolerance"), row.id


def test_markdown_marks_in_sample_figures_and_counts(fast_table):
    text = markdown(fast_table)
    in_sample = fast_table[fast_table.in_sample]
    assert len(in_sample) >= 9  # the Eyeriss v2 single-PE layers the assumptions were chosen against
    for fid in in_sample.id:
        line = next(x for x in text.splitlines() if f"`{fid}`" in x)
        assert "(in-sample)" in line
    assert f"{len(fast_table)} figures run" in text


def test_select_by_id_and_model_and_unknown_names():
    assert [f.id for f in select(FIGURES, ["eyeriss_v2.pe.l07"])] == ["eyeriss_v2.pe.l07"]
    assert {f.model for f in select(FIGURES, models=["imce"])} == {"imce"}
    with pytest.raises(UnknownNameError, match="unknown figure id 'nope'"):
        select(FIGURES, ["nope"])
    with pytest.raises(UnknownNameError, match="unknown model 'tpu'"):
        select(FIGURES, models=["tpu"])


def test_a_benchmark_only_figure_is_reported_not_run():
    f = next(f for f in FIGURES if f.metric is None)
    table = run_figures([f])
    assert table.status.tolist() == [STATUS_NOT_RUN]


def test_bad_figures_file_names_the_key(tmp_path):
    bad = tmp_path / "figures.yaml"
    text = (ROOT / "validation" / "figures.yaml").read_text()
    bad.write_text(
        text.replace(
            "metric: {kind: inferences_per_s, run: v2}", "metric: {kind: inferences_per_s, run: v9}", 1
        )
    )
    with pytest.raises(ConfigError, match=r"figures\.0.*runs not defined.*v9"):
        load_figures(bad)


def test_a_run_may_change_config_keys_and_a_wrong_key_is_named(fast_table):
    """The area figures put a design at its paper's node; the model's number is that config's area."""
    from accelsim.accelerators import build
    from accelsim.api import resolve_config
    from accelsim.config.arch import with_key

    spec, source = resolve_config("scnn")
    area = build(with_key(spec, "technology.node_nm", 16, source)).area()["area_mm2"]
    row = fast_table.set_index("id").loc["scnn.area.chip_16nm"]
    assert float(row["model"]) == pytest.approx(area)
    assert area < build(spec).area()["area_mm2"] / 4  # 16 nm, not the shipped 45 nm
    (figure,) = select(FIGURES, ["scnn.area.chip_16nm"], [])
    run = figure.runs["scnn"].model_copy(update={"set": {"technology.nodes_nm": 16}})
    with pytest.raises(ConfigError, match="nodes_nm"):
        run_figures([figure.model_copy(update={"runs": {"scnn": run}})])


def test_update_page_keeps_the_hand_written_parts(tmp_path, fast_table):
    page = tmp_path / "validation.md"
    page.write_text(
        f"# Title\n\nhand-written intro\n\n{PAGE_BEGIN}\nold table\n{PAGE_END}\n\nhand-written end\n"
    )
    update_page(page, fast_table.head(3))
    text = page.read_text()
    assert text.startswith("# Title\n\nhand-written intro\n\n")
    assert text.endswith(f"{PAGE_END}\n\nhand-written end\n")
    assert "old table" not in text
    assert fast_table.id[0] in text
    no_markers = tmp_path / "plain.md"
    no_markers.write_text("# nothing generated here\n")
    with pytest.raises(ConfigError, match="no generated section"):
        update_page(no_markers, fast_table)


def test_shipped_page_has_the_generated_table_in_sync():
    text = (ROOT / "docs" / "validation.md").read_text()
    assert PAGE_BEGIN in text
    assert PAGE_END in text
    generated = text.split(PAGE_BEGIN, 1)[1].split(PAGE_END, 1)[0]
    assert {f.id for f in FIGURES} == set(re.findall(r"`([a-z0-9_.]+)`", generated)) & {f.id for f in FIGURES}


def test_cli_runs_one_figure_and_writes_csv_and_markdown(tmp_path):
    run = accelsim(
        "validate-papers", "--figure", "imce.alexnet.energy_per_image", "--out", "out", cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert "imce.alexnet.energy_per_image" in run.stdout
    table = pd.read_csv(tmp_path / "out" / "validation.csv")
    assert table.id.tolist() == ["imce.alexnet.energy_per_image"]
    assert "| `imce.alexnet.energy_per_image` |" in (tmp_path / "out" / "validation.md").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--figure", "no.such_figure"], "unknown figure id 'no.such_figure'"),
        (["--model", "tpu"], "unknown model 'tpu'"),
        (["--out", "blocker"], "blocker"),
        (
            ["--figure", "eyeriss_v2.pe.l07", "--update-docs", "page.md"],
            "--update-docs rewrites the whole table",
        ),
    ],
)
def test_bad_input_is_one_message_and_exit_2(tmp_path, args, message):
    (tmp_path / "blocker").write_text("a file where the output folder should go")
    run = accelsim("validate-papers", *args, cwd=tmp_path)
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "validation-results").exists()
