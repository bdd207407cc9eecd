"""Pinned SCNN / DCNN-opt results on small layers, recorded before the kernel and list builders were
rewritten for speed (per-vector bank tables, threads, linear-time lists): the rewrite must change no
cycle, conflict, product, byte or picojoule. They were recorded with weights linearised (r, s, k), a
lock-step accumulator and DCNN-opt gating the multiplier only, so SCNN runs with `weight_order: rsk`
and `accumulator: lockstep` here and DCNN-opt with `zero_gating_scope: multiplier`."""

from __future__ import annotations

import pytest

from accelsim.accelerators import build
from accelsim.api import resolve_config
from accelsim.config.arch import parse_arch
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.sparsity import LayerDensity, SparsityProfile

LAYERS = {
    "conv": (Layer("conv", LayerKind.CONV, 16, 16, 32, 64, 3, 3, 1, 1), 0.3, 0.4),
    "s4": (Layer("s4", LayerKind.CONV, 35, 35, 3, 24, 11, 11, 4, 2), 0.8, 1.0),
    "dw": (Layer("dw", LayerKind.DEPTHWISE, 14, 14, 32, 32, 3, 3, 2, 1, 32), 1.0, 0.5),
    "grp": (Layer("grp", LayerKind.CONV, 13, 13, 48, 64, 3, 3, 1, 1, 2), 0.4, 0.6),
    "band": (Layer("band", LayerKind.CONV, 56, 56, 64, 64, 3, 3, 1, 1), 0.35, 0.6),
    "fc": (Layer("fc", LayerKind.FC, 1, 1, 1024, 300), 0.1, 0.5),
}

# (cycles, macs_issued, dram_bytes, total energy pJ rounded to 1e-3)
PINNED = {
    ("scnn", "conv"): (1913, 565585, 13885.0, 4402494.499),
    ("scnn", "s4"): (1877, 530887, 17425.0, 4459923.99),
    ("scnn", "dw"): (158, 7063, 720.0, 210343.808),
    ("scnn", "grp"): (1923, 561150, 13825.0, 4374951.798),
    ("scnn", "band"): (54660, 24279464, 32297.5, 127761437.442),
    ("scnn", "fc"): (509, 15247, 93042.5, 6827722.82),
    ("dcnn_opt", "conv"): (4736, 4718592, 36864.0, 14275634.442),
    ("dcnn_opt", "s4"): (2274, 663552, 17424.0, 5904390.247),
    ("dcnn_opt", "dw"): (160, 14112, 576.0, 313796.232),
    ("dcnn_opt", "grp"): (3584, 2336256, 27648.0, 10051029.156),
    ("dcnn_opt", "band"): (120256, 115605504, 73728.0, 331628419.988),
    ("dcnn_opt", "fc"): (1563, 307200, 614400.0, 45096908.745),
}

# the mapping (2 bands for "conv", else 1): (valid, steps, conflict cycles, busy sum, span sum)
PINNED_KERNEL = {
    "conv": (518560, 120371, 31667, 152038, 3379),
    "s4": (406576, 112704, 210, 112914, 1877),
    "dw": (6388, 3136, 0, 3136, 158),
    "grp": (503999, 64831, 14405, 79236, 1923),
    "band": (23703662, 1643755, 1679340, 3323095, 54660),
    "fc": (15247, 4000, 2064, 6064, 509),
}


def work(name: str) -> LayerWorkload:
    layer, wd, ad = LAYERS[name]
    return LayerWorkload("n", layer, SparsityProfile("t", "n", "t", {layer.name: LayerDensity(wd, ad)}), 0)


@pytest.fixture(scope="module")
def models():
    scnn, _ = resolve_config("scnn")
    rsk = parse_arch({**scnn.model_dump(mode="json"), "weight_order": "rsk", "accumulator": "lockstep"}, "s")
    opt, _ = resolve_config("dcnn_opt")
    mac_only = parse_arch({**opt.model_dump(mode="json"), "zero_gating_scope": "multiplier"}, "dcnn_opt")
    return {"scnn": build(rsk), "dcnn_opt": build(mac_only)}


@pytest.mark.parametrize(("config", "name"), sorted(PINNED))
def test_layer_results_are_pinned(models, config, name):
    r, _ = models[config].simulate_layer(work(name))
    got = (r.cycles, r.macs_issued, r.dram_bytes, round(sum(r.energy_pj.values()), 3))
    assert got == pytest.approx(PINNED[config, name], rel=1e-12, abs=0)
    assert got[:3] == PINNED[config, name][:3]


@pytest.mark.parametrize("name", sorted(PINNED_KERNEL))
def test_kernel_counters_are_pinned(models, name):
    model = models["scnn"]
    mapping = model.map_layer(work(name), 2 if name == "conv" else 1)
    got = (
        mapping.valid,
        mapping.steps,
        mapping.conflict_cycles,
        int(mapping.busy.sum()),
        int(model.group_timing(mapping).span.sum()),
    )
    assert got == PINNED_KERNEL[name]
