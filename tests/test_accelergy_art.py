"""Accelergy ART.yaml as `technology.area_table`: a hand-written table in the format Accelergy writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from accelsim.accelerators import build
from accelsim.api import resolve_config
from accelsim.config.arch import parse_arch
from accelsim.energy.area import area_factor
from accelsim.errors import AccelsimError, ConfigError

# The layout of Accelergy's ART (timeloop-accelergy-exercises exercises/accelergy/04_eyeriss_like/
# ref-output/ART.yaml, format 0.3); the values are that file's, the version 0.4.
ART = """\
ART:
  version: 0.4
  tables:
  - name: eyeriss_like.PE[0..167].mac
    area: 1239.5
  - name: eyeriss_like.PE[0..167].ifmap_spad
    area: 379.68
  - name: eyeriss_like.PE[0..167].weights_spad
    area: 3634.68
  - name: eyeriss_like.PE[0..167].psum_spad
    area: 414.68
  - name: eyeriss_like.shared_glb
    area: 774388.0
  - name: eyeriss_like.ifmap_NoC
    area: 1575.0
"""

AREA_MAP = {
    "multipliers": "mac",
    "adders": "included",
    "ifmap spads": "ifmap_spad",
    "filter spads": "eyeriss_like.PE[0..167].weights_spad",
    "psum spads": "psum_spad",
    "GLB": "shared_glb",
}


def eyeriss_with(tmp_path: Path, art: str = ART, **technology: object) -> object:
    path = tmp_path / "ART.yaml"
    path.write_text(art)
    spec, _ = resolve_config("eyeriss_v1")
    data = spec.model_dump(mode="json")
    data["technology"].update(area_table=str(path), area_table_node_nm=40, area_map=AREA_MAP)
    data["technology"].update(technology)
    return build(parse_arch(data, "test"))


def test_mapped_blocks_take_the_art_areas_scaled_to_the_node(tmp_path):
    accel = eyeriss_with(tmp_path)
    area = accel.area()
    default = build(resolve_config("eyeriss_v1")[0]).area()
    k = area_factor(40, 65)
    pes = 168
    assert area["area_mac_mm2"] == pytest.approx(pes * 1239.5 * k * 1e-6)
    assert area["area_rf_mm2"] == pytest.approx(pes * (379.68 + 3634.68 + 414.68) * k * 1e-6)
    assert area["area_sram_mm2"] == pytest.approx(774388.0 * k * 1e-6)
    assert area["area_noc_mm2"] == default["area_noc_mm2"]  # not mapped: the shipped table
    assert area["area_mm2"] == pytest.approx(sum(area[c] for c in area if c != "area_mm2"))


def test_art_errors_name_the_key_and_what_is_allowed(tmp_path):
    with pytest.raises(ConfigError, match="area_table_node_nm"):
        eyeriss_with(tmp_path, area_table_node_nm=None).area()
    with pytest.raises(ConfigError, match=r"no component 'spad'.*ifmap_spad"):
        eyeriss_with(tmp_path, area_map={"GLB": "spad"}).area()
    with pytest.raises(ConfigError, match=r"no block 'PE array'.*ifmap spads"):
        eyeriss_with(tmp_path, area_map={"PE array": "mac"}).area()
    with pytest.raises(ConfigError, match="not a supported ART format"):
        eyeriss_with(tmp_path, art=ART.replace("version: 0.4", "version: 0.2")).area()
    with pytest.raises(AccelsimError, match="area"):
        eyeriss_with(tmp_path, art="ART:\n  version: 0.4\n  tables:\n  - name: x\n    area: -1\n").area()


def test_area_map_without_an_art_is_refused():
    spec, _ = resolve_config("eyeriss_v1")
    data = spec.model_dump(mode="json")
    data["technology"]["area_map"] = {"GLB": "shared_glb"}
    with pytest.raises(ConfigError, match="needs an Accelergy ART"):
        build(parse_arch(data, "test")).area()


def test_an_art_config_runs_from_the_cli_and_bad_art_is_exit_2(tmp_path):
    import subprocess
    import sys

    accel = eyeriss_with(tmp_path)
    config = tmp_path / "eyeriss_art.yaml"
    config.write_text(yaml.safe_dump(accel.spec.model_dump(mode="json")))
    (tmp_path / "ART.yaml").write_text(ART.replace("version: 0.4", "version: 9"))
    run = subprocess.run(
        [sys.executable, "-m", "accelsim.cli", "run", str(config), "--network", "alexnet", "--out", "r"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert "ART.yaml" in run.stderr
    assert "Traceback" not in run.stderr
