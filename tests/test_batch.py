"""A batch of images: every accelerator runs it (one image after another unless the model shares weight
loads across images), each image with its own activation masks; rows count the whole batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from slot_checks import check_layer_run

from accelsim.accelerators import build
from accelsim.api import resolve_config, simulate
from accelsim.cli import run_cli
from accelsim.compare import compare
from accelsim.config.sweep_spec import parse_sweep
from accelsim.errors import ConfigError
from accelsim.sweep.points import expand
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.loaders import load_network
from accelsim.workload.masks import effectual_macs, layer_masks
from accelsim.workload.sparsity import load_profile

NET = """\
name: small
source: a test network
layers:
  - {name: c1, kind: conv, h: 12, w: 12, c: 8, k: 16, r: 3, pad: 1}
  - {name: c2, kind: conv, h: 12, w: 12, c: 16, k: 16, r: 3, pad: 1}
"""
PROFILE = """\
id: half
network: small
source: test densities
layers:
  c1: {weights: 0.5, activations: 0.6}
  c2: {weights: 0.4, activations: 0.5}
"""
SEQUENTIAL = ["systolic_ws_32x32", "scnn", "sparten", "phantom2d", "eyeriss_v2", "imce"]
BATCHING = ["eyeriss_v1", "winograd_fpga"]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "net.yaml").write_text(NET)
    (tmp_path / "half.yaml").write_text(PROFILE)
    return tmp_path / "net.yaml", tmp_path / "half.yaml"


@pytest.mark.parametrize("config", SEQUENTIAL)
def test_images_one_after_another_sum_up(config: str, files: tuple[Path, Path]) -> None:
    net, profile = files
    one = simulate(config, net, profile).layers.set_index("layer")
    two = simulate(config, net, profile, batch=2).layers.set_index("layer")
    assert (two["batch"] == 2).all()
    assert (one["batch"] == 1).all()
    network, prof = load_network(net), load_profile("small", profile)
    for layer in network.compute_layers:
        first, second = (layer_masks("small", layer, prof, 0, image) for image in (0, 1))
        assert (first.weights == second.weights).all()  # the images share the weights
        assert (first.activations != second.activations).any()  # ... not the activations
        effectual = effectual_macs(layer, first) + effectual_macs(layer, second)
        assert two.loc[layer.name, "macs_effectual"] == effectual
        assert two.loc[layer.name, "macs_dense"] == 2 * layer.macs
        assert one.loc[layer.name, "macs_effectual"] == effectual_macs(layer, first)  # image 0 as before
        assert two.loc[layer.name, "cycles"] > one.loc[layer.name, "cycles"]
        assert two.loc[layer.name, "energy_pj"] > one.loc[layer.name, "energy_pj"]


@pytest.mark.parametrize("config", SEQUENTIAL[:3])
def test_dense_images_cost_exactly_twice(config: str, files: tuple[Path, Path]) -> None:
    net, _ = files
    one = simulate(config, net).layers.set_index("layer")
    two = simulate(config, net, batch=2).layers.set_index("layer")
    for col in ("macs_dense", "macs_effectual", "macs_issued", "cycles", "stall_cycles", "slots_total"):
        assert (two[col] == 2 * one[col]).all(), col
    for col in ("energy_pj", "dram_bytes"):
        np.testing.assert_allclose(two[col], 2 * one[col], rtol=1e-12)
    np.testing.assert_allclose(two["utilization"], one["utilization"], rtol=1e-12)


@pytest.mark.parametrize("config", [*SEQUENTIAL, *BATCHING])
def test_batch_rows_and_timelines_agree(config: str, files: tuple[Path, Path]) -> None:
    net, profile = files
    spec, source = resolve_config(config)
    accel = build(spec.model_copy(update={"batch": 3}) if hasattr(spec, "batch") else spec, source)
    layer = load_network(net)["c2"]
    work = LayerWorkload("small", layer, load_profile("small", profile), 0, (layer,), batch=3)
    result, timeline = accel.simulate_layer(work)
    assert result.batch == 3
    assert result.macs_effectual == sum(
        effectual_macs(layer, layer_masks("small", layer, work.profile, 0, i)) for i in range(3)
    )
    check_layer_run(result, timeline)


@pytest.mark.parametrize("config", BATCHING)
def test_batching_models_take_the_run_batch_into_their_config(config: str, files: tuple[Path, Path]) -> None:
    net, profile = files
    run = simulate(config, net, profile, batch=2)
    assert run.provenance["config"]["batch"] == 2
    assert run.provenance["batch"] == 2
    assert (run.layers["batch"] == 2).all()
    default = simulate(config, net, profile)
    own = resolve_config(config)[0].batch
    assert (default.layers["batch"] == own).all()  # the config's own batch ...
    single = simulate(config, net, profile, batch=1).layers
    assert (
        default.layers["macs_effectual"] == own * single["macs_effectual"]
    ).all()  # ... of one image's masks


def test_a_batch_the_config_refuses_is_a_config_error(files: tuple[Path, Path]) -> None:
    with pytest.raises(ConfigError, match="--batch 65"):
        simulate("eyeriss_v1", files[0], batch=65)  # Eyeriss v1's batch is at most 64


def test_one_image_of_real_masks_stands_for_every_image() -> None:
    net, prof = load_network("mobilenet_v1_0.5_128"), load_profile("mobilenet_v1_0.5_128", "pruned")
    real = net["pw3"]  # masks from the Sparseloop artifact, one image (c, h, w)
    first, second = (layer_masks(net.name, real, prof, 0, i) for i in (0, 1))
    assert (first.activations == second.activations).all()
    generated = net["pw1"]  # uniform masks: each image draws its own
    assert (
        layer_masks(net.name, generated, prof, 0, 0).activations
        != layer_masks(net.name, generated, prof, 0, 1).activations
    ).any()


def test_imported_masks_of_two_images_run_as_a_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = Path(__file__).resolve().parent / "data" / "tiny_cnn"
    monkeypatch.chdir(tmp_path)
    assert (
        run_cli(["import", str(data / "tiny_cnn.onnx"), "--out", "imp", "--inputs", str(data / "inputs.npy")])
        == 0
    )
    masks = np.load("imp/masks.npz")
    run = simulate("scnn", "imp/network.yaml", "imp/profile.yaml", batch=2)
    net, prof = load_network("imp/network.yaml"), load_profile("tiny_cnn", "imp/profile.yaml")
    rows = run.layers.set_index("layer")
    for layer in net.compute_layers:
        per_image = [layer_masks(net.name, layer, prof, 0, i) for i in range(2)]
        for i, m in enumerate(per_image):
            np.testing.assert_array_equal(m.activations, masks[f"{layer.name}.activations"][i])
        assert rows.loc[layer.name, "macs_effectual"] == sum(effectual_macs(layer, m) for m in per_image)
    with pytest.raises(ConfigError, match="holds the masks of 2 image"):  # said before any layer runs
        simulate("scnn", "imp/network.yaml", "imp/profile.yaml", batch=3, progress=pytest.fail)


def test_cli_run_and_compare_take_a_batch(files: tuple[Path, Path], tmp_path: Path) -> None:
    net, profile = str(files[0]), str(files[1])
    out = tmp_path / "run"
    assert (
        run_cli(["run", "scnn", "--network", net, "--profile", profile, "--batch", "2", "--out", str(out)])
        == 0
    )
    import pandas as pd

    assert (pd.read_csv(out / "layers.csv")["batch"] == 2).all()
    cmp = compare(["systolic_ws_32x32", "scnn"], files[0], files[1], batch=2)
    assert (cmp.network["batch"] == 2).all()
    assert (cmp.layers["batch"] == 2).all()
    with pytest.raises(ConfigError, match="different batches"):
        compare(["eyeriss_v1", "winograd_fpga"], files[0], iso=False)  # 1 and 128 images
    both = compare(["eyeriss_v1", "winograd_fpga"], files[0], iso=False, batch=2)
    assert list(both.network["batch"]) == [2, 2]


def test_sweeps_take_batches(files: tuple[Path, Path]) -> None:
    data = {"name": "b", "base": "systolic_ws_32x32", "networks": [str(files[0])]}
    plain = expand(parse_sweep(data, "test"))
    batched = expand(parse_sweep({**data, "batches": [1, 2]}, "test"))
    assert [p.batch for p in plain] == [None]
    assert [p.batch for p in batched] == [1, 2]
    assert len({p.point_id for p in [*plain, *batched]}) == 3  # the batch is part of a point's identity
    with pytest.raises(ConfigError, match="batches"):
        parse_sweep({**data, "batches": [0]}, "test")
    assert yaml.safe_dump(batched[1].to_dict())  # plain data for a Dask task


def test_per_image_rows_keep_the_chip_area():
    run = simulate("scnn", "alexnet", "pruned", batch=2)
    whole, one = run.layers, run.per_image()
    area_cols = [c for c in whole.columns if c.startswith("area_")]
    assert "area_mm2" in area_cols
    assert (whole["area_mm2"] > 0).all()
    pd.testing.assert_frame_equal(one[area_cols], whole[area_cols])  # the chip is not shared by images
    assert (one["cycles"] * 2 >= whole["cycles"]).all()
