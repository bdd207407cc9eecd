"""SparTen (Gondimalla et al., MICRO 2019) and its dense and one-sided baselines, as modes of one kind.

A layer runs in filter passes (one filter per compute unit) on clusters that each take a block of
output positions (`accelsim.dataflows.sparten`). The numba kernel counts, over the exact seeded masks,
the cycles of every (pass, cluster) with the broadcast barrier per chunk and every CU's busy cycles
(`accelsim.kernels.sparten`). The engine plays one work item per (pass, cluster) on the clusters;
a layer's `cycles` is the engine makespan. Imbalance and idle fraction are over the CUs.

The timeline (`cu_timeline`) has, per CU, one busy interval per pass (its own cycles from the pass's
start; the barrier wait after it is an implicit idle gap) and the cluster's DRAM stalls, closed by one
idle row to the makespan. A layer whose rows would pass `TIMELINE_ROW_LIMIT` (depthwise layers have a
pass per channel) merges consecutive passes of a cluster into windows: each CU's busy and stalled
cycles per layer stay exact, their placement in time is exact to a window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from accelsim.accelerators.base import Accelerator
from accelsim.accelerators.registry import register
from accelsim.config.arch.sparten import SpartenSpec
from accelsim.dataflows import get_dataflow
from accelsim.dataflows.sparten import FilterPerCu, SpartenMapping, packed_operands
from accelsim.energy import Action, EnergyModel, energy_breakdown, static_energy_pj
from accelsim.engine import WorkItem, play
from accelsim.engine.timeline import STATES
from accelsim.kernels.sparten import DENSE, ONE_SIDED, TWO_SIDED, input_chunk_nonzeros, layer_counts
from accelsim.report.schema import LayerResult
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.masks import activation_shape, weight_shape

_MODES = {"two_sided": TWO_SIDED, "one_sided": ONE_SIDED, "dense": DENSE}


@dataclass(frozen=True)
class LayerCounts:
    """Kernel counts of one layer plus the mapping they came from."""

    mapping: SpartenMapping
    cycles: np.ndarray
    """(passes, clusters) join cycles."""
    busy: np.ndarray
    """(passes, clusters, cus) busy cycles of every CU."""
    macs: np.ndarray
    """(passes, clusters) multiplications performed."""
    input_values: int
    """Input values broadcast to clusters over the layer (non-zeros, or all for the dense mode)."""
    weight_nonzeros: int
    act_nonzeros: int


@register("sparten")
class Sparten(Accelerator):
    """Clusters of single-MAC compute units with bitmask inner joins (or the dense / one-sided baseline)."""

    spec: SpartenSpec

    def __init__(self, spec: SpartenSpec) -> None:
        super().__init__(spec)
        self.dataflow: FilterPerCu = get_dataflow("sparten", "filter_per_cu")
        self.energy = EnergyModel.from_technology(spec.technology)

    @property
    def multipliers(self) -> int:
        """clusters x CUs per cluster (one multiplier per CU)."""
        return self.spec.multipliers

    def unsupported(self, layer: Layer) -> str | None:
        """FC layers are left out (REFERENCE §4.1, policy (b)): one window, a single cluster's work."""
        if layer.kind is LayerKind.FC:
            return "fully connected: SparTen's evaluation covers convolutions only (REFERENCE §4.1, excluded)"
        return None

    def count(self, work: LayerWorkload) -> LayerCounts:
        """Map the layer and count cycles and MACs with the kernel over the exact masks."""
        layer, spec = work.layer, self.spec
        if spec.mode == "dense":  # no masks needed: every position is work
            acts = np.ones(activation_shape(layer), dtype=bool)
            weights = np.ones(weight_shape(layer), dtype=bool)
        else:
            acts = work.masks.activations
            weights = (
                work.masks.weights if spec.mode == "two_sided" else np.ones(weight_shape(layer), dtype=bool)
            )
        mapping = self.dataflow.map(
            layer, weights, spec.clusters, spec.cus_per_cluster, spec.chunk_bits, spec.balancing
        )
        a_words, w_words = packed_operands(layer, acts, weights, spec.chunk_bits)
        cycles, busy, macs = layer_counts(
            a_words, w_words, mapping.assign, mapping.pass_group, mapping.pos_start,
            layer.out_w, layer.stride, mapping.widths, _MODES[spec.mode], spec.min_chunk_cycles,
            spec.input_buffer_chunks,
        )  # fmt: skip
        if spec.mode == "dense":  # every window position is broadcast, padding included
            window = layer.r * layer.s * layer.c_per_group
            values = mapping.passes * layer.out_h * layer.out_w * window
        else:
            per_group = input_chunk_nonzeros(
                a_words, mapping.pos_start, layer.out_w, layer.stride, layer.r, layer.s
            )
            values = int(per_group[mapping.pass_group].sum())
        return LayerCounts(
            mapping, cycles, busy, macs, values, int(np.count_nonzero(weights)), int(np.count_nonzero(acts))
        )

    def simulate_layer(self, work: LayerWorkload) -> tuple[LayerResult, pd.DataFrame]:
        """Count with the kernel, play the (pass, cluster) items on the clusters, add energy."""
        layer, spec = work.layer, self.spec
        counts = self.count(work)
        mapping = counts.mapping
        dram = self._dram_bytes(layer, counts, work)
        blocks = np.diff(mapping.pos_start)
        items = []
        n_items = max(1, mapping.passes * int(np.count_nonzero(blocks)))
        for j in range(spec.clusters):  # each cluster runs its passes in order
            if blocks[j] == 0:
                continue
            for f in range(mapping.passes):
                items.append(
                    WorkItem(
                        unit=j,
                        cycles=int(counts.cycles[f, j]) + spec.join_latency_cycles,
                        in_bytes=dram["read"] / n_items,
                        out_bytes=dram["write"] / n_items,
                    )
                )
        run = play(items, units=spec.clusters, dram_bytes_per_cycle=spec.dram.bandwidth_bytes_per_cycle)
        cycles = run.makespan
        cu_busy = counts.busy.sum(axis=(0,)).reshape(
            -1
        ) + spec.join_latency_cycles * mapping.passes * np.repeat(blocks > 0, spec.cus_per_cluster)
        total_cu_cycles = self.multipliers * cycles
        imbalance = float(cu_busy.max() / cu_busy.mean()) if cu_busy.mean() > 0 else 1.0
        idle = (
            1.0 - (cu_busy.sum() + run.unit_cycles[:, 1].sum() * spec.cus_per_cluster) / total_cu_cycles
            if cycles
            else 0.0
        )
        counts_e, costs, sram_bits = self._actions(layer, counts, dram, cycles)
        result = self.result(
            work,
            macs_issued=int(counts.macs.sum()),
            cycles=cycles,
            stall_cycles=run.stalled_cycles,
            imbalance=imbalance,
            idle_fraction=float(idle),
            dram_bytes=dram["read"] + dram["write"],
            sram_bytes=sram_bits / 8,
            folds=mapping.passes,
            mapping_efficiency=mapping.occupied_slots
            / (mapping.passes * mapping.chunks_per_window * spec.cus_per_cluster),
            mapping=f"{spec.mode}: {mapping.describe()}",
            energy_pj=energy_breakdown(counts_e, costs),
        )
        stalls = run.timeline.frame(cycles) if run.stalled_cycles else None  # the frame costs a sort
        timeline = cu_timeline(
            stalls,
            counts.busy,
            counts.cycles + spec.join_latency_cycles,
            blocks > 0,
            spec.join_latency_cycles,
            cycles,
        )
        return result, timeline

    def _dram_bytes(self, layer: Layer, counts: LayerCounts, work: LayerWorkload) -> dict[str, float]:
        """Each tensor moves once (it fits the global buffer, docs/assumptions.md): SparseMap + non-zeros,
        or dense values where the mode stores that operand dense."""
        p, mode = self.spec.precision, self.spec.mode
        outputs = layer.out_h * layer.out_w * layer.k
        out_density = work.density.activations if mode != "dense" else 1.0
        weights_bits: float
        acts_bits: float
        out_bits: float
        if mode == "dense":
            weights_bits = layer.weights * p.weight_bits
            acts_bits = layer.c * layer.h * layer.w * p.act_bits
            out_bits = outputs * p.act_bits
        else:
            acts_bits = counts.act_nonzeros * p.act_bits + layer.c * layer.h * layer.w
            out_bits = outputs * out_density * p.act_bits + outputs
            if mode == "two_sided":
                weights_bits = counts.weight_nonzeros * p.weight_bits + layer.weights
            else:
                weights_bits = layer.weights * p.weight_bits
        return {"read": (weights_bits + acts_bits) / 8, "write": out_bits / 8, "out_density": out_density}

    def _actions(
        self, layer: Layer, counts: LayerCounts, dram: dict[str, float], cycles: int
    ) -> tuple[dict[Action, float], dict[Action, float], float]:
        """Action counts, their pJ costs and the on-chip SRAM bits accessed (docs/assumptions.md)."""
        spec, e, p, mem = self.spec, self.energy, self.spec.precision, self.spec.memory
        mapping = counts.mapping
        positions = layer.out_h * layer.out_w
        macs = float(counts.macs.sum())
        chunks = len(mapping.widths)
        width_of_t = np.tile(mapping.widths, mapping.chunks_per_window // chunks)
        held = np.count_nonzero(mapping.assign >= 0, axis=2)  # (passes, taps): CUs receiving each chunk
        join_bits = float((held * width_of_t).sum()) * positions  # SparseMap bits each CU joins
        receivers = float(held.sum()) * positions  # (CU, chunk) deliveries
        broadcast_map_bits = float(mapping.passes * width_of_t.sum()) * positions  # maps read from the buffer
        sparse = spec.mode != "dense"
        value_bits = counts.input_values * p.act_bits  # input values read from the buffer over all passes
        mean_receivers = receivers / max(1.0, float(mapping.passes * mapping.chunks_per_window * positions))
        glb_input_bits = value_bits + (broadcast_map_bits if sparse else 0.0)
        noc_input_bits = glb_input_bits * mean_receivers
        filter_bits = (
            counts.weight_nonzeros * p.weight_bits + layer.weights
            if spec.mode == "two_sided"
            else layer.weights * p.weight_bits
        )
        outputs = positions * layer.k
        out_bits = dram["write"] * 8
        psum_moves = receivers if spec.balancing == "gb_h" else outputs  # GB-H gathers partials per chunk
        per_bit_glb = e.sram_pj(mem.global_buffer_kib, 64) / 64
        per_bit_glb_w = e.sram_pj(mem.global_buffer_kib, 64, write=True) / 64
        per_bit_cu_f = e.sram_pj(mem.cu_filter_buffer_kib, 64) / 64
        per_bit_cu_f_w = e.sram_pj(mem.cu_filter_buffer_kib, 64, write=True) / 64
        mac_bits = max(p.weight_bits, p.act_bits)
        counts_e: dict[Action, float] = {
            Action("mac", "mac"): macs,
            Action("rf", "input_value_read"): macs,
            Action("rf", "input_chunk_write"): noc_input_bits,
            Action("rf", "accumulate"): macs,
            Action("sram", "cu_filter_value_read"): macs * p.weight_bits,
            Action("sram", "cu_filter_map_read"): join_bits if spec.mode == "two_sided" else 0.0,
            Action("sram", "cu_filter_load"): filter_bits * spec.clusters,
            Action("sram", "glb_input_read"): glb_input_bits,
            Action("sram", "glb_filter_read"): filter_bits,
            Action("sram", "glb_output_write"): out_bits,
            Action("noc", "input_broadcast_bit"): noc_input_bits,
            Action("noc", "filter_bit"): filter_bits * spec.clusters,
            Action("noc", "psum"): psum_moves,
            Action("dram", "bit"): (dram["read"] + dram["write"]) * 8,
            Action("static", "leak"): cycles,
        }
        leak_mw = e.leakage_mw(
            self.multipliers,
            mem.global_buffer_kib + self.multipliers * (mem.cu_filter_buffer_kib + mem.cu_input_buffer_kib),
            mac_bits,
            p.psum_bits,
        )
        costs: dict[Action, float] = {
            Action("mac", "mac"): e.mac_pj(mac_bits, p.psum_bits),
            Action("rf", "input_value_read"): e.rf_pj(p.act_bits),
            Action("rf", "input_chunk_write"): e.rf_pj(1),
            Action("rf", "accumulate"): e.rf_pj(p.psum_bits),
            Action("sram", "cu_filter_value_read"): per_bit_cu_f,
            Action("sram", "cu_filter_map_read"): per_bit_cu_f,
            Action("sram", "cu_filter_load"): per_bit_cu_f_w,
            Action("sram", "glb_input_read"): per_bit_glb,
            Action("sram", "glb_filter_read"): per_bit_glb,
            Action("sram", "glb_output_write"): per_bit_glb_w,
            Action("noc", "input_broadcast_bit"): e.noc_pj(1),
            Action("noc", "filter_bit"): e.noc_pj(1),
            Action("noc", "psum"): e.noc_pj(p.psum_bits),
            Action("dram", "bit"): e.dram_pj_per_bit(spec.dram.kind),
            Action("static", "leak"): static_energy_pj(leak_mw, 1, spec.clock_mhz),
        }
        sram_bits = sum(n for a, n in counts_e.items() if a.component == "sram")
        return counts_e, costs, float(sram_bits)


TIMELINE_ROW_LIMIT = 100_000
"""Most rows of one layer's per-CU timeline (when it is at least 3 x the CUs). Below it every pass gives
each CU its own rows, exact in time; above it `cu_timeline` merges consecutive passes of a cluster into
windows. MobileNet v1's dw13 (1,024 passes x 1,024 CUs) would otherwise take 1 M rows (2 M with its
stalls); 100k rows keep VGG16's layers exact and give 1,024 CUs at least 48 windows per layer."""


def cu_timeline(
    cluster_frame: pd.DataFrame | None,
    busy: np.ndarray,
    lengths: np.ndarray,
    active: np.ndarray,
    latency: int,
    makespan: int,
    limit: int = TIMELINE_ROW_LIMIT,
) -> pd.DataFrame:
    """Per-CU timeline (unit, state, start, end) from the clusters' run, in unit then time order.

    `busy` (passes, clusters, cus): each CU's kernel busy cycles; `lengths` (passes, clusters): each
    work item's cycles (join latency included); `active` (clusters,): clusters that ran every pass in
    order; `cluster_frame`: the engine's (unit, state, start, end) per cluster, read for its stalled
    intervals only (None: no stalls). A cluster runs its items back to back from cycle 0, each after its
    stall, so pass f starts after the lengths and stalls before it. Passes merge into windows of w
    consecutive passes, w = 1 unless the layer would pass `limit` rows; in a window a CU has its stalled
    cycles (the cluster's stalls before the window's passes) then its busy cycles (its own cycles plus the
    join latency per pass, at most the pass) as two intervals from the window's start, the rest implicit
    idle; with w = 1 that is the exact picture. Each CU's last row is idle from its last interval to
    `makespan` (the whole layer for a CU without work), so every CU spans the layer. CU u of cluster j
    is unit j * cus + u. Rows: at most `limit`, plus one window of rows if `limit` < 3 x the CUs.
    """
    passes, clusters, cus = busy.shape
    ran = np.flatnonzero(active)
    length = lengths[:, ran].astype(np.int64)
    stall = np.zeros_like(length)  # stall[f, i]: stalled cycles of cluster ran[i] before its pass f
    if cluster_frame is not None:
        done = np.cumsum(length, axis=0)  # end of pass f on the cluster's clock without stalls
        stalled = cluster_frame[cluster_frame["state"] == "stalled"]
        for i, j in enumerate(ran):
            mine = stalled[stalled["unit"] == j]
            begin = mine["start"].to_numpy(np.int64)
            size = mine["end"].to_numpy(np.int64) - begin
            before = np.cumsum(size) - size  # stalled cycles before this stall
            after = np.searchsorted(done[:, i], begin - before, side="right")  # passes done before it
            np.add.at(stall[:, i], np.minimum(after, passes - 1), size)
    rows_per_window = len(ran) * cus * (2 if stall.any() else 1)
    windows = max(1, (limit - clusters * cus) // max(1, rows_per_window))
    width = max(1, -(-passes // windows))  # passes per window
    first = np.arange(0, passes, width)
    own = np.minimum(busy[:, ran, :] + latency, length[:, :, None])
    cu_busy = np.add.reduceat(own, first, axis=0)  # (windows, clusters that ran, cus)
    w_stall = np.add.reduceat(stall, first, axis=0)
    w_len = np.add.reduceat(length, first, axis=0) + w_stall
    w_start = np.cumsum(w_len, axis=0) - w_len
    shape = (len(ran), cus, len(first))  # (cluster, CU, window): unit then time order
    stall_start = np.broadcast_to(w_start.T[:, None, :], shape)
    busy_start = np.broadcast_to((w_start + w_stall).T[:, None, :], shape)
    starts = np.stack([stall_start, busy_start], axis=-1)
    ends = starts + np.stack(
        [np.broadcast_to(w_stall.T[:, None, :], shape), cu_busy.transpose(1, 2, 0)], axis=-1
    )
    codes = np.broadcast_to(
        np.array([STATES.index("stalled"), STATES.index("busy")], dtype=np.int8), ends.shape
    )
    units = np.broadcast_to((ran[:, None] * cus + np.arange(cus))[:, :, None, None], ends.shape)
    keep = ends > starts
    unit, code, start, end = units[keep], codes[keep], starts[keep], ends[keep]
    last = np.zeros(clusters * cus, dtype=np.int64)  # end of each unit's last interval (rows are in order)
    tail = np.flatnonzero(np.append(unit[1:] != unit[:-1], len(unit) > 0))
    last[unit[tail]] = end[tail]
    idle = np.flatnonzero(last < makespan)  # closing idle rows: every unit spans the layer's makespan
    order = np.argsort(np.concatenate([unit, idle]), kind="stable")
    unit = np.concatenate([unit, idle])[order]
    code = np.concatenate([code, np.full(len(idle), STATES.index("idle"), dtype=np.int8)])[order]
    start = np.concatenate([start, last[idle]])[order]
    end = np.concatenate([end, np.full(len(idle), makespan, dtype=np.int64)])[order]
    return pd.DataFrame(
        {
            "unit": unit.astype(np.int64),
            "state": pd.Categorical.from_codes(code, dtype=pd.CategoricalDtype(list(STATES))),
            "start": start.astype(np.int64),
            "end": end.astype(np.int64),
        }
    )
