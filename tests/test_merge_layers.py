"""Residual add and concat layers: they chain through `inputs`, cost nothing, and no accelerator runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from accelsim.api import simulate
from accelsim.errors import ConfigError, WorkloadError
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.loaders import load_network
from accelsim.workload.network import Network

BLOCK = """\
name: tiny_block
source: a test block (residual add and concat)
layers:
  - {name: c1, kind: conv, h: 8, w: 8, c: 4, k: 8, r: 3, pad: 1}
  - {name: c2, kind: conv, h: 8, w: 8, c: 8, k: 8, r: 3, pad: 1}
  - {name: short, kind: pointwise, h: 8, w: 8, c: 8, k: 8, inputs: [c1]}
  - {name: add1, kind: add, h: 8, w: 8, c: 8, inputs: [c2, short]}
  - {name: b1, kind: pointwise, h: 8, w: 8, c: 8, k: 4}
  - {name: b2, kind: conv, h: 8, w: 8, c: 8, k: 6, r: 3, pad: 1, inputs: [add1]}
  - {name: cat, kind: concat, h: 8, w: 8, c: 10, inputs: [b1, b2]}
  - {name: gap, kind: pool, h: 8, w: 8, c: 10, r: 8}
  - {name: fc, kind: fc, h: 1, w: 1, c: 10, k: 3}
"""


def _block(tmp_path: Path, text: str = BLOCK) -> Path:
    path = tmp_path / "block.yaml"
    path.write_text(text)
    return path


def test_a_branching_network_loads_and_counts_only_compute_macs(tmp_path: Path) -> None:
    net = load_network(_block(tmp_path))
    assert net["add1"].kind is LayerKind.ADD
    assert net["cat"].kind is LayerKind.CONCAT
    assert net["add1"].inputs == ("c2", "short")
    assert net["add1"].k == 8
    assert net["cat"].k == 10
    assert [layer.name for layer in net.compute_layers] == ["c1", "c2", "short", "b1", "b2", "fc"]
    assert net["add1"].macs == net["cat"].macs == net["add1"].weights == 0
    expected = 64 * (8 * 9 * 4 + 8 * 9 * 8 + 8 * 8 + 4 * 8 + 6 * 9 * 8) + 10 * 3
    assert net.macs == expected


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("inputs: [c2, short]}", "inputs: [c2, nowhere]}", "not earlier layers"),
        ("inputs: [c2, short]}", "inputs: [c2]}", "at least two inputs"),
        ("inputs: [b1, b2]}", "inputs: [b1, c1]}", "concat layer cat expects"),
        ("add, h: 8, w: 8, c: 8,", "add, h: 8, w: 8, c: 4,", "add layer add1"),
        ("inputs: [add1]}", "inputs: [add1, b1]}", "only add and concat layers read several"),
        ("inputs: [c1]}", "inputs: [fc]}", "not earlier layers"),
    ],
)
def test_bad_links_name_the_layer(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in BLOCK
    with pytest.raises(ConfigError, match=message):
        load_network(_block(tmp_path, BLOCK.replace(old, new)))


def test_a_merge_keeps_its_shape() -> None:
    with pytest.raises(WorkloadError, match="keeps its shape"):
        Layer("a", "add", 4, 4, 8, 8, r=3, inputs=("x", "y"))
    net = Network("n", (Layer("x", "conv", 4, 4, 2, 3), Layer("y", "conv", 4, 4, 3, 3)), check_chain=True)
    assert len(net) == 2


@pytest.mark.parametrize("config", ["systolic_ws_32x32", "scnn", "sparten"])
def test_every_accelerator_skips_merges_and_lists_them(tmp_path: Path, config: str) -> None:
    run = simulate(config, _block(tmp_path), skip_unsupported=True)
    assert "add1" not in set(run.layers["layer"])
    assert "cat" not in set(run.layers["layer"])
    assert run.provenance["not_simulated"] == {"add1": "add", "cat": "concat", "gap": "pool"}
    ran = set(run.layers["layer"]) | set(run.provenance["skipped_layers"])
    assert ran == {"c1", "c2", "short", "b1", "b2", "fc"}
