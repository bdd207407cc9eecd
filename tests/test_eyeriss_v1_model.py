"""Eyeriss v1 end to end: every MobileNet / AlexNet layer kind, zero gating, DRAM, configs, errors."""

from __future__ import annotations

import dataclasses
import math

import pytest
from slot_checks import check_layer_run

from accelsim.accelerators import build
from accelsim.api import resolve_config, resolve_network
from accelsim.config.arch import parse_arch
from accelsim.energy import ENERGY_COLUMNS
from accelsim.errors import ConfigError
from accelsim.kernels import eyeriss_v1 as rs
from accelsim.report.schema import SLOT_PARTS, Slots
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.sparsity import LayerDensity, SparsityProfile, dense_profile


def spec_with(name: str = "eyeriss_v1", **changes):  # type: ignore[no-untyped-def]
    spec, _ = resolve_config(name)
    nested = {
        key: getattr(spec, key).model_copy(update=changes.pop(key))
        for key in list(changes)
        if isinstance(changes[key], dict)
    }
    return spec.model_copy(update={**nested, **changes})


def run(spec, layer: Layer, profile=None, seed: int = 0):  # type: ignore[no-untyped-def]
    work = LayerWorkload("test", layer, profile or dense_profile("test"), seed)
    return build(spec).simulate_layer(work)[0]


def sparse(layer: Layer, acts: float) -> SparsityProfile:
    return SparsityProfile("half", "test", "test", {layer.name: LayerDensity(weights=0.5, activations=acts)})


CONV = Layer("conv", LayerKind.CONV, h=13, w=13, c=32, k=48, r=3, s=3, pad=1)
DW = Layer("dw", LayerKind.DEPTHWISE, h=16, w=16, c=32, k=32, r=3, s=3, stride=2, pad=1, groups=32)
PW = Layer("pw", LayerKind.POINTWISE, h=8, w=8, c=64, k=64)
FC = Layer("fc", LayerKind.FC, h=1, w=1, c=512, k=100)


@pytest.mark.parametrize("config", ["eyeriss_v1", "eyeriss_v1_scaled192"])
def test_every_mobilenet_layer_kind_runs(config):
    accel = build(resolve_config(config)[0])
    net = resolve_network("mobilenet_v1_0.5_128")
    assert {layer.kind for layer in net.layers if layer.is_compute} >= {
        "conv",
        "depthwise",
        "pointwise",
        "fc",
    }
    for layer in net.layers:
        if layer.is_compute:
            assert accel.unsupported(layer) is None, layer.name
    for layer in (CONV, DW, PW, FC):
        result = run(spec_with(config), layer)
        assert result.macs_issued == result.macs_dense == layer.macs  # dense: every MAC, padding too
        assert 0 < result.utilization <= 1
        assert all(math.isfinite(result.energy_pj[c]) and result.energy_pj[c] >= 0 for c in ENERGY_COLUMNS)


def test_multipliers_are_the_pe_count():
    assert build(spec_with()).multipliers == 168
    assert build(spec_with("eyeriss_v1_scaled192")).multipliers == 192


def test_zero_gating_saves_energy_never_cycles():
    free = spec_with(dram={"bandwidth_bytes_per_cycle": None})
    dense = run(free, CONV)
    gated = run(free, CONV, sparse(CONV, 0.4))
    ungated = run(free.model_copy(update={"zero_gating": False}), CONV, sparse(CONV, 0.4))
    assert gated.cycles == dense.cycles == ungated.cycles
    assert gated.energy_pj["energy_mac_pj"] < ungated.energy_pj["energy_mac_pj"]
    assert gated.energy_pj["energy_rf_pj"] < ungated.energy_pj["energy_rf_pj"]
    dense_ungated = run(free.model_copy(update={"zero_gating": False}), CONV)
    # Without gating every MAC switches whatever the data; with it, padding MACs are gated too.
    assert ungated.energy_pj["energy_mac_pj"] == pytest.approx(dense_ungated.energy_pj["energy_mac_pj"])
    assert dense.energy_pj["energy_mac_pj"] < dense_ungated.energy_pj["energy_mac_pj"]


def test_run_length_coding_cuts_dram_bytes_of_sparse_inputs():
    free = spec_with(dram={"bandwidth_bytes_per_cycle": None})
    coded = run(free, CONV, sparse(CONV, 0.2))
    plain = run(free.model_copy(update={"rlc_dram": False}), CONV, sparse(CONV, 0.2))
    assert coded.dram_bytes < plain.dram_bytes


def test_dram_bandwidth_adds_stalls_only():
    free_spec = spec_with(dram={"bandwidth_bytes_per_cycle": None})
    free = run(free_spec, FC)
    slow = run(spec_with(dram={"bandwidth_bytes_per_cycle": 0.5}), FC)
    # Without a DRAM limit the array still waits for its buses (here the 51,200-word filter load over
    # a 4-word bus), and only for them.
    assert free.stall_cycles == build(free_spec).map(FC).wait_cycles == 51200 // 4
    assert slow.cycles > free.cycles
    assert slow.stall_cycles - free.stall_cycles == slow.cycles - free.cycles  # DRAM adds stalls only
    assert slow.cycles >= slow.dram_bytes / 0.5 * 0.5  # FC at batch 1 streams every weight once: DRAM-bound


def test_array_cycles_are_the_kernel_cycles_without_dram_limit():
    spec = spec_with(dram={"bandwidth_bytes_per_cycle": None})
    accel = build(spec)
    mapping = accel.map(CONV)
    assert run(spec, CONV).cycles == mapping.cycles == int(mapping.counts[rs.CYCLES])


def test_same_seed_same_result():
    profile = sparse(CONV, 0.5)
    assert run(spec_with(), CONV, profile, seed=3) == run(spec_with(), CONV, profile, seed=3)


def test_filter_row_wider_than_the_spad_is_unsupported():
    wide = Layer("wide", LayerKind.CONV, h=20, w=20, c=3, k=8, r=3, s=13)
    reason = build(spec_with()).unsupported(wide)
    assert reason is not None
    assert "ifmap spad" in reason


def test_tall_filters_are_split_into_row_chunks():
    tall = Layer("tall", LayerKind.CONV, h=20, w=20, c=2, k=4, r=15, s=3)
    result = run(spec_with(), tall)
    assert result.macs_issued == tall.macs
    assert "15" not in result.mapping.split("segments ")[1].split("x")[0]  # chunks of <= 12 rows


def test_bus_narrower_than_a_word_is_a_clear_error():
    spec, _ = resolve_config("eyeriss_v1")
    data = spec.model_dump()
    data["noc"]["psum_out_bits"] = 8
    with pytest.raises(ConfigError, match=r"noc\.psum_out_bits"):
        parse_arch(data, "test")


# Results of the batch-1 model recorded before the `batch` option existed (eyeriss_v1 config, weights
# 0.5 / activations 0.4 dense, seed 0): cycles, DRAM stall cycles, DRAM and GLB bytes, passes, total pJ.
# (Recorded when stall cycles counted DRAM stalls only; they now count the bus waits too; and under
# the Eyeriss normalised costs, table eyeriss_65nm, since an option: the default is accelergy_40nm.)
BATCH1_RECORDED = {
    "conv": (21962, 0, 49640.0, 292000.0, 6, 49590471.742),
    "dw": (3435, 963, 13416.0, 43072.0, 8, 5021289.300),
    "pw": (8064, 0, 20760.0, 115200.0, 2, 11498045.325),
    "fc": (21965, 6632, 103152.0, 19248.0, 2, 33766756.282),
}


@pytest.mark.parametrize("layer", [CONV, DW, PW, FC], ids=lambda layer: layer.name)
def test_batch_one_reproduces_the_recorded_results(layer):
    spec = spec_with(technology={"energy_table": "eyeriss_65nm"})
    assert spec.batch == 1
    result = run(spec, layer, sparse(layer, 0.4))
    cycles, dram_stalls, dram, glb, passes, pj = BATCH1_RECORDED[layer.name]
    bus_waits = build(spec).map(layer).wait_cycles
    assert (result.cycles, result.stall_cycles, result.dram_bytes, result.sram_bytes, result.folds) == (
        cycles,
        dram_stalls + bus_waits,
        dram,
        glb,
        passes,
    )
    assert sum(result.energy_pj.values()) == pytest.approx(pj, abs=1e-3)
    assert "batch" not in result.mapping
    # The mapping text too (one layer suffices: it names every mapping choice).
    if layer is CONV:
        assert result.mapping == (
            "rs: segments 3x13 x4 per pass, q=4 ch, p=16 filt per PE, filters innermost, 6 passes"
        )


def test_a_batch_shares_filter_loads_and_counts_the_batch():
    free = spec_with(dram={"bandwidth_bytes_per_cycle": None})
    batched = free.model_copy(update={"batch": 4})
    for layer in (CONV, FC):
        one, whole = run(free, layer), run(batched, layer)
        assert (whole.batch, whole.macs_issued, whole.macs_dense) == (4, 4 * layer.macs, 4 * layer.macs)
        assert "batch 4" in whole.mapping
        assert "counts over the batch" in whole.mapping
        four = whole.per_image()
        assert four.macs_issued == one.macs_issued == layer.macs  # per image
        assert four.cycles <= one.cycles  # one image per pass is a candidate: never slower per image
        assert four.dram_bytes < one.dram_bytes  # filters fetched once per pass of several images
    # FC: filters dominate DRAM and are fetched once for the 4 images (one filter word per MAC).
    fc_one, fc_four = run(free, FC), run(batched, FC).per_image()
    filter_bytes = FC.weights * 2
    assert fc_one.dram_bytes - fc_four.dram_bytes == pytest.approx(filter_bytes * 3 / 4)


def test_batch_must_be_positive():
    spec, _ = resolve_config("eyeriss_v1")
    data = spec.model_dump()
    data["batch"] = 0
    with pytest.raises(ConfigError, match="batch"):
        parse_arch(data, "test")


def test_slot_partition_by_hand():
    """A 3 x 4 array, psum spad of 2, 64-bit buses (4 words a cycle), no DRAM limit; a 3 x 3 input, one
    channel, 3 filters of 2 x 2, 2 x 2 outputs (48 MACs).

    The search keeps e = 2 (e = 1 ties on cycles, reads more ifmap words), q = 1, p = 2: two segments of
    2 x 2 PEs (filters 0-1, filter 2) in one pass; the third PE row and two columns hold nothing.
    Load: 2 x 2 x 2 + 2 x 1 x 2 = 12 filter words, 3 cycles. Deliveries: 3 rows x 2 taps = 6 words (2
    cycles), then 3 (1 cycle); compute 4 cycles (2 filters x 2 taps) per column; drain 6 psums, 2 cycles.
    Pipeline: fill 2, compute 4 + 4 (the second delivery hides under the first compute), drain 2 = 12;
    15 cycles with the load. Slots (12 PEs x 15 = 180): 48 MACs, all effectual; the 8 mapped PEs
    compute 8 cycles (64) of which the filter-2 segment idles 16 (unit_idle); they fill / drain 4 cycles
    (32); the 4 unmapped PEs x 12 busy cycles (48); the load is a bus wait: 3 x 12 = 36 stalled.
    """
    spec = spec_with(
        dram={"bandwidth_bytes_per_cycle": None},
        array={"rows": 3, "cols": 4},
        spads={"ifmap_words": 12, "filter_words": 224, "psum_words": 2},
    )
    spec = spec.model_validate(spec.model_dump())
    layer = Layer("tiny", LayerKind.CONV, h=3, w=3, c=1, k=3, r=2, s=2)
    accel = build(spec)
    work = LayerWorkload("test", layer, dense_profile("test"), 0)
    result, timeline = accel.simulate_layer(work)
    assert (
        result.mapping == "rs: segments 2x2 x2 per pass, q=1 ch, p=2 filt per PE, filters innermost, 1 passes"
    )
    assert (result.cycles, result.stall_cycles, result.units) == (15, 3, 1)
    assert result.slots == Slots(
        effectual=48, ineffectual=0, unmapped=48, unit_idle=16, memory_stall=36, fill_drain=32
    )
    check_layer_run(result, timeline)


def test_gated_macs_are_ineffectual_slots():
    """A dense array issues every MAC: zeros cost slots (ineffectual), never fewer cycles."""
    free = spec_with(dram={"bandwidth_bytes_per_cycle": None})
    dense, _ = build(free).simulate_layer(LayerWorkload("test", CONV, dense_profile("test"), 0))
    work = LayerWorkload("test", CONV, sparse(CONV, 0.4), 0)
    result, timeline = build(free).simulate_layer(work)
    check_layer_run(result, timeline)
    assert result.slots.effectual == result.macs_effectual == work.effectual_macs
    assert result.slots.effectual + result.slots.ineffectual == result.macs_issued == CONV.macs
    assert result.slots.ineffectual > 0
    assert result.slots.packing == result.slots.imbalance == 0  # one lock-step unit, nothing to pack
    # Same mapping and cycles as the dense run: only effectual and ineffectual trade places.
    moved = ("effectual", "ineffectual")
    for part in SLOT_PARTS:
        if part not in moved:
            assert getattr(result.slots, part) == getattr(dense.slots, part), part
    assert result.slots.memory_stall == result.stall_cycles * result.multipliers  # bus waits only


OPTIONS = [
    {},
    {"zero_gating": False},
    {"weights_via_glb": True},
    {"rlc_dram": False},
    {"rlc_run_bits": 2, "rlc_pairs_per_word": 1},
    {"dram": {"bandwidth_bytes_per_cycle": None}},
    {"dram": {"bandwidth_bytes_per_cycle": 0.25}},
    {"noc": {"ifmap_bits": 16, "filter_bits": 16, "psum_in_bits": 16, "psum_out_bits": 16}},
]


@pytest.mark.parametrize("config", ["eyeriss_v1", "eyeriss_v1_scaled192"])
@pytest.mark.parametrize("changes", OPTIONS, ids=lambda c: ",".join(c) or "shipped")
@pytest.mark.parametrize("layer", [CONV, DW, PW, FC], ids=lambda layer: layer.name)
def test_every_option_passes_the_slot_checks(config, changes, layer):
    changes = dict(changes)
    if "noc" in changes:
        spec, _ = resolve_config(config)
        changes["noc"] = {key: max(bits, spec.precision.psum_bits) for key, bits in changes["noc"].items()}
    spec = spec_with(config, **changes)
    spec = spec.model_validate(spec.model_dump())
    result, timeline = build(spec).simulate_layer(LayerWorkload("test", layer, sparse(layer, 0.4), 0))
    check_layer_run(result, timeline)
    assert result.slots.effectual == result.macs_effectual


@pytest.mark.parametrize("layer", [CONV, FC], ids=lambda layer: layer.name)
def test_a_batch_partitions_the_per_image_slots(layer):
    """batch 4: counts cover the batch; the row's slots are the batch's proportions over its cycles."""
    spec = spec_with(batch=4)
    result, _ = build(spec).simulate_layer(LayerWorkload("test", layer, sparse(layer, 0.4), 0))
    assert result.slots.total == result.multipliers * result.cycles
    assert result.slots.memory_stall > 0  # the filter loads at least
    assert result.slots.ineffectual > 0


def test_the_dataflow_maps_without_a_cost_model():
    """`map(layer, hardware)` is the dataflow's one entry point; without a cost callback it ranks by array
    cycles alone, so with unlimited DRAM it finds as few cycles as the energy-ranked search."""
    accel = build(spec_with("eyeriss_v1_scaled192"))
    for layer in (CONV, DW, PW, FC):
        plain = accel.dataflow.map(layer, dataclasses.replace(accel.hardware, cost=None))
        assert plain.cycles == accel.map(layer).cycles


def test_v1_and_v2_share_one_energy_table():
    """Eyeriss v1, its scaled version and Eyeriss v2 are costed with one table (accelergy_40nm);
    the Eyeriss normalised costs stay an option that changes energy only, never cycles."""
    tables = {
        resolve_config(name)[0].technology.energy_table
        for name in ("eyeriss_v1", "eyeriss_v1_scaled192", "eyeriss_v2")
    }
    assert tables == {"accelergy_40nm"}
    layer = CONV
    default = run(spec_with(), layer, sparse(layer, 0.4))
    eyeriss = run(spec_with(technology={"energy_table": "eyeriss_65nm"}), layer, sparse(layer, 0.4))
    assert default.cycles == eyeriss.cycles
    assert default.energy_pj != eyeriss.energy_pj
