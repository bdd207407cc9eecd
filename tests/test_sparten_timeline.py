"""SparTen's per-CU timeline: exact per pass under the row limit, windows over it, exact totals always."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import accelsim
from accelsim.accelerators import build
from accelsim.accelerators.sparten import TIMELINE_ROW_LIMIT, cu_timeline
from accelsim.api import resolve_config
from accelsim.engine import WorkItem, play
from accelsim.plots import load_balance, unit_fractions
from accelsim.plots.results import load_results
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.network import Network
from accelsim.workload.sparsity import LayerDensity, SparsityProfile

CONV = Layer("conv", LayerKind.CONV, h=14, w=14, c=32, k=256, r=3, s=3, pad=1)
DEPTHWISE = Layer("dw", LayerKind.CONV, h=14, w=14, c=256, k=256, r=3, s=3, pad=1, groups=256)
"""256 passes (one per channel) x 1,024 CUs: 262k exact rows, over the limit."""


def profile() -> SparsityProfile:
    return SparsityProfile("t", "test", "test", {n: LayerDensity(0.4, 0.5) for n in ("conv", "dw")})


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
    """Units in order; a unit's intervals disjoint, in time order, in [0, makespan], closed at makespan."""
    unit, start, end = (timeline[c].to_numpy() for c in ("unit", "start", "end"))
    assert (end > start).all()
    assert (start >= 0).all()
    assert (end <= makespan).all()
    same = unit[1:] == unit[:-1]
    assert (np.diff(unit) >= 0).all()
    assert (start[1:][same] >= end[:-1][same]).all()
    assert (timeline.groupby("unit")["end"].last() == makespan).all()


def test_many_pass_layer_stays_under_the_limit_with_exact_per_cu_totals():
    spec = slow_dram(8.0)  # finite bandwidth: stalls too
    accel = build(spec)
    work = LayerWorkload("t", DEPTHWISE, profile(), 0)
    result, timeline = accel.simulate_layer(work)
    counts = accel.count(work)
    passes = counts.mapping.passes
    assert passes * 1024 > TIMELINE_ROW_LIMIT  # exact rows would not fit: windows
    assert len(timeline) <= TIMELINE_ROW_LIMIT
    assert isinstance(timeline["state"].dtype, pd.CategoricalDtype)
    check_intervals(timeline, result.cycles)
    active = np.repeat(np.diff(counts.mapping.pos_start) > 0, spec.cus_per_cluster)
    model_busy = counts.busy.sum(axis=0).reshape(-1) + spec.join_latency_cycles * passes * active
    assert (per_unit(timeline, "busy", 1024) == model_busy).all()
    stalled = per_unit(timeline, "stalled", 1024).reshape(spec.clusters, spec.cus_per_cluster)
    assert (stalled == stalled[:, :1]).all()  # a cluster's CUs wait together
    assert stalled.max() == result.stall_cycles > 0
    total = model_busy.sum() + stalled.sum()
    assert result.idle_fraction == 1 - total / (1024 * result.cycles)


def _items(lengths: np.ndarray, active: np.ndarray) -> list[WorkItem]:
    return [
        WorkItem(unit=j, cycles=int(lengths[f, j]), in_bytes=40.0, out_bytes=8.0)
        for j in np.flatnonzero(active)
        for f in range(lengths.shape[0])
    ]


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
    busy = rng.integers(0, 20, size=(passes, clusters, cus))
    # a pass lasts at least a cycle (a chunk costs max(matches, 1)); the engine records no empty item
    lengths = busy.max(axis=2) + latency + rng.integers(1, 5, size=(passes, clusters))
    active = rng.random(clusters) < 0.8
    active[0] = True
    run = play(_items(lengths, active), units=clusters, dram_bytes_per_cycle=bandwidth)
    frame = run.timeline.frame(run.makespan)
    exact = cu_timeline(frame, busy, lengths, active, latency, run.makespan, limit=10**9)
    merged = cu_timeline(frame, busy, lengths, active, latency, run.makespan, limit=limit)
    units = clusters * cus
    for tl in (exact, merged):
        check_intervals(tl, run.makespan)
        assert (per_unit(tl, "stalled", units) == np.repeat(run.unit_cycles[:, 1], cus)).all()
    own = np.minimum(busy + latency, lengths[:, :, None]).sum(axis=0).reshape(-1) * np.repeat(active, cus)
    assert (per_unit(exact, "busy", units) == own).all()
    assert (per_unit(merged, "busy", units) == own).all()
    assert len(merged) <= max(limit, 3 * units)
    # exact: every pass of every CU starts with its cluster's item, stalls are the cluster's
    cluster_busy = frame[frame["state"] == "busy"]
    for j in np.flatnonzero(active):
        starts = cluster_busy[cluster_busy["unit"] == j]["start"].to_numpy()
        stalls = frame[(frame["unit"] == j) & (frame["state"] == "stalled")][["start", "end"]].to_numpy()
        for u in range(cus):
            mine = exact[exact["unit"] == j * cus + u]
            b = mine[mine["state"] == "busy"]
            expect = [s for s, n in zip(starts, busy[:, j, u] + latency, strict=True) if n > 0]
            assert b["start"].tolist() == [int(s) for s in expect]
            assert mine[mine["state"] == "stalled"][["start", "end"]].to_numpy().tolist() == stalls.tolist()


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
