"""SparTen's per-CU timeline: exact per pass under the row limit, windows over it; every CU's busy and
stalled totals and last activity (so its slot split) exact always."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slot_checks import check_layer_run

import accelsim
from accelsim.accelerators import build
from accelsim.accelerators.base import slot_partition
from accelsim.accelerators.plan import Units
from accelsim.accelerators.sparten import TIMELINE_ROW_LIMIT, cu_timeline
from accelsim.api import resolve_config
from accelsim.engine import WorkItem, play, unit_activity
from accelsim.plots import load_balance, unit_fractions
from accelsim.plots.results import load_results
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.network import Network
from accelsim.workload.sparsity import LayerDensity, SparsityProfile

CONV = Layer("conv", LayerKind.CONV, h=14, w=14, c=32, k=256, r=3, s=3, pad=1)
DEPTHWISE = Layer("dw", LayerKind.CONV, h=14, w=14, c=256, k=256, r=3, s=3, pad=1, groups=256)
"""256 passes (one per channel) in which 1 CU of 32 holds a filter: exact, one row per CU without one."""
WIDE = Layer("wide", LayerKind.CONV, h=14, w=14, c=16, k=4096, r=3, s=3, pad=1)
"""128 passes x 1,024 busy CUs: 262k exact rows (524k with stalls), over the limit."""


def profile(*layers: str) -> SparsityProfile:
    return SparsityProfile("t", "test", "test", {n: LayerDensity(0.4, 0.5) for n in layers or ("conv", "dw")})


def slow_dram(bandwidth: float):  # type: ignore[no-untyped-def]
    base, _ = resolve_config("sparten")
    return base.model_copy(
        update={"dram": base.dram.model_copy(update={"bandwidth_bytes_per_cycle": bandwidth})}
    )


def per_unit(timeline: pd.DataFrame, state: str, units: int) -> np.ndarray:
    rows = timeline[timeline["state"] == state]
    out = np.zeros(units, dtype=np.int64)
    np.add.at(out, rows["unit"].to_numpy(), (rows["end"] - rows["start"]).to_numpy())
    return out


def check_intervals(timeline: pd.DataFrame, makespan: int) -> None:
    """Units in order; each unit's intervals tile [0, makespan) in time order, no two adjacent alike."""
    unit, start, end = (timeline[c].to_numpy() for c in ("unit", "start", "end"))
    state = timeline["state"].astype(str).to_numpy()
    assert (end > start).all()
    same = unit[1:] == unit[:-1]
    assert (np.diff(unit) >= 0).all()
    assert (start[1:][same] == end[:-1][same]).all()
    assert (state[1:][same] != state[:-1][same]).all()  # runs of one state are merged
    assert (timeline.groupby("unit")["start"].first() == 0).all()
    assert (timeline.groupby("unit")["end"].last() == makespan).all()


def test_many_pass_layer_stays_under_the_limit_with_exact_per_cu_totals():
    spec = slow_dram(8.0)  # finite bandwidth: stalls too
    accel = build(spec)
    work = LayerWorkload("t", WIDE, profile("wide"), 0)
    result, timeline = accel.simulate_layer(work)
    check_layer_run(result, timeline)
    counts = accel.count(work)
    mapping = counts.mapping
    assert mapping.passes * 1024 * 2 > TIMELINE_ROW_LIMIT  # exact rows would not fit: windows
    assert len(timeline) <= TIMELINE_ROW_LIMIT
    assert isinstance(timeline["state"].dtype, pd.CategoricalDtype)
    check_intervals(timeline, result.cycles)
    model_busy = counts.busy.sum(axis=0).reshape(-1) + spec.join_latency_cycles * mapping.passes
    assert (per_unit(timeline, "busy", 1024) == model_busy).all()
    stalled = per_unit(timeline, "stalled", 1024).reshape(spec.clusters, spec.cus_per_cluster)
    assert (stalled == stalled[:, :1]).all()  # every CU holds a filter in every pass: its cluster's stalls
    assert result.stall_cycles >= stalled.max() > 0  # the union of the (windowed) stalls
    # the windows move no slot: the exact timeline of the same run gives the same partition
    plan = accel.plan(work)
    run = play(plan.items, spec.clusters, plan.dram_bytes_per_cycle)
    active = np.diff(mapping.pos_start) > 0
    own = np.where(
        mapping.held[:, None, :] & active[None, :, None], counts.busy + spec.join_latency_cycles, 0
    )
    lengths = counts.cycles + spec.join_latency_cycles
    exact = cu_timeline(run, own, mapping.held, lengths, active, limit=10**9)
    assert len(exact) > TIMELINE_ROW_LIMIT
    units = Units("compute unit", 1024, 1)
    partition = slot_partition(unit_activity(timeline, 1024), units, plan.busy, run.makespan)
    assert partition == slot_partition(unit_activity(exact, 1024), units, plan.busy, run.makespan)
    assert partition == result.slots


def test_depthwise_cus_without_a_filter_are_unmapped_and_never_stalled():
    spec = slow_dram(8.0)
    accel = build(spec)
    work = LayerWorkload("t", DEPTHWISE, profile(), 0)
    result, timeline = accel.simulate_layer(work)
    check_layer_run(result, timeline)
    check_intervals(timeline, result.cycles)
    counts = accel.count(work)
    passes = counts.mapping.passes
    assert len(timeline) < TIMELINE_ROW_LIMIT < passes * 1024  # exact: one row for a CU without a filter
    # one filter per group: only the first CU of every cluster ever holds one
    holds = np.zeros((spec.clusters, spec.cus_per_cluster), dtype=bool)
    holds[np.diff(counts.mapping.pos_start) > 0, 0] = True
    model_busy = counts.busy.sum(axis=0).reshape(-1) + spec.join_latency_cycles * passes * holds.reshape(-1)
    assert (per_unit(timeline, "busy", 1024) == model_busy).all()
    stalled = per_unit(timeline, "stalled", 1024).reshape(spec.clusters, spec.cus_per_cluster)
    assert (stalled[~holds] == 0).all()  # a CU without a filter does not wait for data
    assert result.stall_cycles >= stalled.max() > 0
    assert result.slots.unmapped == (~holds).sum() * result.cycles  # never given a filter
    assert result.slots.unit_idle == 0  # one CU per cluster: no barrier wait
    total = model_busy.sum() + stalled.sum()
    assert result.idle_fraction == pytest.approx(1 - total / (1024 * result.cycles))


def _items(lengths: np.ndarray, active: np.ndarray) -> list[WorkItem]:
    return [
        WorkItem(unit=j, cycles=int(lengths[f, j]), in_bytes=40.0, out_bytes=8.0)
        for j in np.flatnonzero(active)
        for f in range(lengths.shape[0])
    ]


def expected_states(run, own: np.ndarray, held: np.ndarray, active: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """state code (0 busy, 1 stalled, 2 idle) of every CU and cycle, pass by pass from the engine's run:
    a CU holding a filter shares its cluster's stall before the pass and is busy for its own cycles
    up to the end of the pass."""
    frame = run.timeline.frame(run.makespan)
    passes, clusters, cus = own.shape
    out = np.full((clusters * cus, run.makespan), 2, dtype=np.int8)
    for j in np.flatnonzero(active):
        mine = frame[frame["unit"] == j]
        items = mine[mine["state"] == "busy"][["start", "end"]].to_numpy()
        stalls = {int(e): int(s) for s, e in mine[mine["state"] == "stalled"][["start", "end"]].to_numpy()}
        assert len(items) == passes
        for f, (begin, end) in enumerate(items):
            for u in np.flatnonzero(held[f]):
                if begin in stalls:
                    out[j * cus + u, stalls[begin] : begin] = 1
                out[j * cus + u, end - own[f, j, u] : end] = 0
    return out


def cycle_states(timeline: pd.DataFrame, units: int, makespan: int) -> np.ndarray:
    out = np.full((units, makespan), -1, dtype=np.int8)
    codes = timeline["state"].cat.codes.to_numpy()
    for unit, code, start, end in zip(
        timeline["unit"], codes, timeline["start"], timeline["end"], strict=True
    ):
        out[unit, start:end] = code
    return out


@settings(max_examples=40, deadline=None)
@given(
    passes=st.integers(1, 7),
    clusters=st.integers(1, 3),
    cus=st.integers(1, 4),
    latency=st.integers(0, 3),
    bandwidth=st.sampled_from([None, 2.0, 16.0]),
    limit=st.integers(1, 60),
    seed=st.integers(0, 2**16),
)
def test_windows_keep_totals_and_exact_passes_follow_the_engine(
    passes, clusters, cus, latency, bandwidth, limit, seed
):
    rng = np.random.default_rng(seed)
    held = rng.random((passes, cus)) < 0.8
    busy = rng.integers(0, 20, size=(passes, clusters, cus)) * (rng.random((passes, clusters, cus)) < 0.8)
    own = np.where(held[:, None, :], busy + latency, 0)  # 0 in a held pass too (latency 0, no cycle)
    # a pass lasts at least a cycle (a chunk costs max(matches, 1)); the engine records no empty item
    lengths = own.max(axis=2) + rng.integers(1, 5, size=(passes, clusters))
    active = rng.random(clusters) < 0.8
    active[0] = True
    own = own * active[None, :, None]
    run = play(_items(lengths, active), units=clusters, dram_bytes_per_cycle=bandwidth)
    exact = cu_timeline(run, own, held, lengths, active, limit=10**9)
    merged = cu_timeline(run, own, held, lengths, active, limit=limit)
    units = clusters * cus
    for tl in (exact, merged):
        check_intervals(tl, run.makespan)
    assert (cycle_states(exact, units, run.makespan) == expected_states(run, own, held, active)).all()
    assert len(merged) <= max(limit, 5 * units)
    # windows keep each CU's busy and stalled cycles and the end of its last activity, so the template
    # splits its idle time into unit_idle and imbalance as it does the exact timeline's
    a, b = unit_activity(exact, units), unit_activity(merged, units)
    assert (a.busy == b.busy).all()
    assert (a.stalled == b.stalled).all()
    assert (a.last == b.last).all()
    assert (a.busy == own.sum(axis=0).reshape(-1)).all()


def test_run_writes_reads_and_plots_the_bounded_timeline(tmp_path):
    net = Network("test", (CONV, DEPTHWISE), check_chain=False)
    run = accelsim.simulate("sparten", net, profile())
    assert set(run.timeline["layer"]) == {"conv", "dw"}
    assert (run.timeline.groupby("layer").size() <= TIMELINE_ROW_LIMIT).all()
    run.write(tmp_path)
    back = pd.read_parquet(tmp_path / "timeline.parquet")
    pd.testing.assert_frame_equal(back, run.timeline, check_categorical=False)
    assert back["state"].astype(str).tolist() == run.timeline["state"].astype(str).tolist()
    fractions = unit_fractions(load_results(tmp_path).timeline).set_index(["layer", "unit"])
    layers = run.layers.set_index("layer")
    for name in ("conv", "dw"):
        f = fractions.loc[name]
        assert len(f) == 1024
        assert np.allclose(f[["busy", "stalled", "idle"]].sum(axis=1), 1.0)
        busy = per_unit(run.timeline[run.timeline["layer"] == name], "busy", 1024)
        assert np.allclose(f["busy"].to_numpy(), busy / layers.loc[name, "cycles"])
    fig = load_balance(back, layer="dw")
    timeline_ax = next(ax for ax in fig.axes if ax.get_xlabel() == "cycle")
    assert f"{int(layers.loc['dw', 'cycles']):,} cycles" in timeline_ax.get_title()
    assert len(timeline_ax.collections) > 0
