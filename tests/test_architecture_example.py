"""The worked example of docs/architecture.md ("How to add an accelerator") runs and its numbers hold."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slot_checks import check_layer_run

from accelsim.accelerators import ACCELERATORS, build
from accelsim.dataflows import DATAFLOWS
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.sparsity import dense_profile

DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"


@pytest.fixture(scope="module")
def example() -> Iterator[dict[str, Any]]:
    text = DOC.read_text()
    code = re.search(r"<!-- worked-example -->\n```python\n(.*?)```", text, re.S)
    assert code is not None, "the worked example is missing from docs/architecture.md"
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOC), "exec", dont_inherit=True), namespace)
    yield namespace
    ACCELERATORS.pop("filter_array", None)  # leave the registries as the package made them
    DATAFLOWS.pop("filter_array", None)


def run(example: dict[str, Any], filters: int):  # type: ignore[no-untyped-def]
    spec = example["FilterArraySpec"](name="toy", source="docs", clock_mhz=1000, technology={"node_nm": 40})
    layer = Layer("c", LayerKind.CONV, h=10, w=10, c=1, k=filters, r=3, s=3, pad=1)
    result, timeline = build(spec).simulate_layer(LayerWorkload("t", layer, dense_profile("t"), 0))
    check_layer_run(result, timeline)
    return result


def test_twenty_filters_on_sixteen_pes(example):
    result = run(example, 20)
    assert result.cycles == 1800
    assert result.slots.total == 28_800
    assert result.slots.effectual + result.slots.ineffectual == 18_000
    assert result.slots.imbalance == 10_800
    assert result.imbalance == 1.6
    assert result.idle_fraction == 0.375


def test_ten_filters_leave_six_pes_unmapped(example):
    assert run(example, 10).slots.unmapped == 6 * 900


def test_dataflows_are_typed_at_registration_and_lookup():
    from accelsim.dataflows import get_dataflow, register_dataflow
    from accelsim.dataflows.phantom import PhantomDataflow
    from accelsim.dataflows.systolic import SystolicDataflow

    with pytest.raises(TypeError, match="not a Dataflow"):
        register_dataflow("systolic", "untyped")(object())
    with pytest.raises(TypeError, match="not a Dataflow of family 'scnn'"):
        register_dataflow("scnn", "borrowed")(SystolicDataflow("ws", 1))
    assert "untyped" not in DATAFLOWS["systolic"]
    assert isinstance(get_dataflow("systolic", "ws", SystolicDataflow), SystolicDataflow)
    with pytest.raises(TypeError, match="not a PhantomDataflow"):
        get_dataflow("systolic", "ws", PhantomDataflow)
