"""Rules every input file obeys, checked once in the config layer: numbers are finite and never booleans;
a file that is not text where text is expected is one message naming the file."""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
import yaml

from accelsim.accelerators import build
from accelsim.api import list_configs, resolve_config, resolve_network
from accelsim.cli import run_cli
from accelsim.config.arch import load_arch, parse_arch
from accelsim.config.sweep_spec import load_sweep
from accelsim.config.yaml_io import read_yaml
from accelsim.energy import load_energy_table
from accelsim.energy.table import TABLES_DIR
from accelsim.errors import ConfigError
from accelsim.sweep.points import expand
from accelsim.workload.catalog import data_dir
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.sparsity import LayerDensity, SparsityProfile, load_profile

ARCH = sorted(data_dir("arch_configs").glob("*.yaml"))
NETWORKS = sorted(data_dir("workloads").glob("*.yaml"))
PROFILES = sorted(data_dir("workloads").glob("profiles/*/*.yaml"))
SWEEPS = sorted(data_dir("arch_configs").glob("sweeps/*.yaml"))
MASKS = data_dir("workloads") / "profiles" / "mobilenet_v1_0.5_128" / "sparseloop_masks.npz"


def numbers(data: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(key path, value) of every int or float leaf (booleans excluded) of parsed YAML."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from numbers(v, (*at, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from numbers(v, (*at, i))
    elif isinstance(data, int | float) and not isinstance(data, bool):
        yield at, data


def replaced(data: Any, at: tuple[Any, ...], value: Any) -> str:
    """YAML text of `data` with the leaf at `at` replaced by `value`."""
    copy = deepcopy(data)
    node = copy
    for part in at[:-1]:
        node = node[part]
    node[at[-1]] = value
    return yaml.dump(copy, Dumper=DUMPER)


DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def loader(path: Path) -> Any:
    """How accelsim reads the shipped file `path` (config, network, profile or sweep spec)."""
    if path in ARCH:
        return load_arch
    if path in NETWORKS:
        return resolve_network
    if path in PROFILES:
        return lambda p: load_profile(p.parent.name, p)
    return lambda p: expand(load_sweep(p))  # axis values are checked against the base config here


def one_per_field(leaves: list[tuple[tuple[Any, ...], Any]]) -> list[tuple[tuple[Any, ...], Any]]:
    """The first leaf of each field (section and key name): every layer of a network has the same keys."""
    seen: dict[tuple[Any, Any], tuple[tuple[Any, ...], Any]] = {}
    for at, value in leaves:
        names = [p for p in at if isinstance(p, str)]
        seen.setdefault((names[0], names[-1]), (at, value))
    return list(seen.values())


SHIPPED = [*ARCH, *NETWORKS, *PROFILES, *SWEEPS]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_number_of_every_shipped_file_refuses_booleans_and_infinities(tmp_path, path):
    """Each number replaced by `true` or `.inf` in turn is an error naming the file and the key path."""
    data = read_yaml(path)
    load = loader(path)
    leaves = one_per_field(list(numbers(data)))
    assert leaves, f"{path} has no numbers to check"
    folder = tmp_path / path.parent.name  # a profile's folder name is its network
    folder.mkdir()
    for mask_file in path.parent.glob("*.npz"):  # `real` profiles name mask files next to them
        (folder / mask_file.name).write_bytes(mask_file.read_bytes())
    target = folder / path.name
    for at, _value in leaves:
        for bad in (True, float("inf"), float("nan")):
            target.write_text(replaced(data, at, bad))
            with pytest.raises(ConfigError) as e:
                load(target)
            message = str(e.value)
            assert message.startswith(str(target)), message
            assert [p for p in at if isinstance(p, str)][-1] in message, (at, bad, message)


def test_booleans_stay_booleans_and_sweep_axes_may_hold_them(tmp_path):
    data = read_yaml(data_dir("arch_configs") / "systolic_ws_32x32.yaml")
    (tmp_path / "gated.yaml").write_text(yaml.safe_dump({**data, "zero_gating": True}))
    assert load_arch(tmp_path / "gated.yaml").zero_gating is True
    (tmp_path / "rows.yaml").write_text(yaml.safe_dump({**data, "rows": True}))
    with pytest.raises(ConfigError, match=r"rows: Input should be a number, not a boolean \(got True\)"):
        load_arch(tmp_path / "rows.yaml")
    spec = {
        "name": "s",
        "base": "systolic_ws_32x32",
        "axes": {"zero_gating": [True, False]},
        "networks": ["alexnet"],
    }
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(spec))
    assert load_sweep(tmp_path / "sweep.yaml").axes["zero_gating"] == [True, False]
    (tmp_path / "seeds.yaml").write_text(yaml.safe_dump({**spec, "seeds": [0, True]}))
    with pytest.raises(ConfigError, match=r"seeds\.1: Input should be a number, not a boolean"):
        load_sweep(tmp_path / "seeds.yaml")


def test_energy_tables_refuse_infinities(tmp_path):
    data = read_yaml(TABLES_DIR / "accelergy_40nm.yaml")
    data["rf"]["value"] = float("inf")
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"rf\.value: Input should be a finite number"):
        load_energy_table(str(tmp_path / "t.yaml"))


@pytest.mark.parametrize(
    "read",
    [
        pytest.param(lambda p: resolve_config(p), id="config"),
        pytest.param(lambda p: resolve_network(p), id="network"),
        pytest.param(lambda p: load_profile("mobilenet_v1_0.5_128", p), id="profile"),
        pytest.param(lambda p: load_sweep(p), id="sweep"),
    ],
)
def test_the_shipped_masks_file_where_yaml_is_expected(read):
    with pytest.raises(ConfigError) as e:
        read(MASKS)
    assert str(e.value).startswith(f"{MASKS}: not a text file (byte 0x")
    assert "expected a YAML file" in str(e.value)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("scale.cfg", b"[architecture_presets]\nArrayHeight: \xff\n", "expected a SCALE-Sim config"),
        ("topology.csv", b"Layer, H\n\x00\x01\x02", "expected a SCALE-Sim topology"),
        ("config.yaml", b"\x89PNG\r\n\x1a\n", "expected a YAML file"),
    ],
)
def test_garbage_files_are_named_with_what_was_expected(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConfigError) as e:
        resolve_network(path) if name.endswith(".csv") else resolve_config(path)
    assert str(e.value).startswith(f"{path}: not a text file")
    assert expected in str(e.value)


def test_a_folder_where_a_file_is_expected(tmp_path):
    (tmp_path / "config.yaml").mkdir()
    with pytest.raises(ConfigError, match=r"config\.yaml: is a folder; expected a YAML file"):
        resolve_config(tmp_path / "config.yaml")


SMALL_LAYER = Layer("small", LayerKind.CONV, h=14, w=14, c=32, k=32, r=3, s=3, pad=1)
HALF = SparsityProfile(id="half", network="t", source="test", layers={"small": LayerDensity(0.5, 0.5)})


@pytest.mark.parametrize("name", list_configs())
def test_the_smallest_values_a_config_allows_never_divide_by_zero(name):
    """Each number of a shipped config set to 0 or 1 in turn: refused (as a config, or the layer as
    unsupported), or a finite result."""
    data = read_yaml(data_dir("arch_configs") / f"{name}.yaml")
    for at, value in numbers(data):
        for small in (0, 1):
            copy = deepcopy(data)
            node = copy
            for part in at[:-1]:
                node = node[part]
            node[at[-1]] = small if isinstance(value, int) else float(small)
            try:
                accel = build(parse_arch(copy, name), name)
            except ConfigError:
                continue
            if accel.unsupported(SMALL_LAYER) is not None:  # `simulate` refuses it with that reason
                continue
            result, _ = accel.simulate_layer(LayerWorkload("t", SMALL_LAYER, HALF, seed=0))
            row = result.to_row()
            numeric = {k: v for k, v in row.items() if isinstance(v, float) and k != "mapping_efficiency"}
            assert all(math.isfinite(v) for v in numeric.values()), (at, small, numeric)


@pytest.mark.parametrize(
    ("network", "message"),
    [("1.5", "network: Input should be a valid string"), ("resnet", "network: unknown network 'resnet'")],
)
def test_validate_of_a_profile_for_no_known_network_names_the_file(tmp_path, network, message):
    """Found by the bad-input property: the profile's network was resolved before the file was checked."""
    text = (data_dir("workloads") / "profiles" / "alexnet" / "pruned.yaml").read_text()
    (tmp_path / "p.yaml").write_text(text.replace("network: alexnet", f"network: {network}"))
    err = io.StringIO()
    with contextlib.chdir(tmp_path), contextlib.redirect_stderr(err):
        assert run_cli(["validate", "p.yaml"]) == 2
    assert err.getvalue().startswith("error: p.yaml: ")
    assert message in err.getvalue()
