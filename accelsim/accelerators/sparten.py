"""SparTen (Gondimalla et al., MICRO 2019) and its dense and one-sided baselines, as modes of one kind.

A layer runs in filter passes (one filter per compute unit) on clusters that each take a block of
output positions (`accelsim.dataflows.sparten`). The numba kernel counts, over the exact seeded masks,
the cycles of every (pass, cluster) with the broadcast barrier per chunk and every CU's busy cycles
(`accelsim.kernels.sparten`). The engine plays one work item per (pass, cluster) on the clusters;
a layer's `cycles` is the engine makespan. Imbalance and idle fraction are over the CUs, and the
timeline has one row per CU and state for every pass (busy first, then the barrier wait).
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
        items, order = [], []
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
                order.append((j, f))
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
        timeline = cu_timeline(run.timeline.frame(run.makespan), counts.busy, order, spec.join_latency_cycles)
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


def cu_timeline(
    cluster_frame: pd.DataFrame, busy: np.ndarray, order: list[tuple[int, int]], latency: int
) -> pd.DataFrame:
    """Per-CU timeline from the clusters' one: within each pass a CU is busy for its own cycles, then waits.

    `cluster_frame` is the engine's (unit, state, start, end) per cluster; `order` lists the (cluster,
    pass) of the work items in the order each cluster ran them. CU u of cluster j is unit j * cus + u.
    """
    cus = busy.shape[2]
    passes_of: dict[int, list[int]] = {}
    for cluster, f in order:
        passes_of.setdefault(cluster, []).append(f)
    units, states, starts, ends = [], [], [], []
    lanes = np.arange(cus)
    for key, rows in cluster_frame.groupby("unit", sort=True):
        j = int(str(key))
        queue = list(passes_of.get(j, []))
        base = j * cus + lanes
        for state, start, end in zip(
            rows["state"].tolist(), rows["start"].tolist(), rows["end"].tolist(), strict=True
        ):
            if state != "busy":
                units.append(base)
                states.append(np.full(cus, state, dtype=object))
                starts.append(np.full(cus, start))
                ends.append(np.full(cus, end))
                continue
            f = queue.pop(0)
            split = np.minimum(start + busy[f, j] + latency, end)
            units += [base, base]
            states += [np.full(cus, "busy", dtype=object), np.full(cus, "idle", dtype=object)]
            starts += [np.full(cus, start), split]
            ends += [split, np.full(cus, end)]
    if not units:
        return pd.DataFrame(columns=["unit", "state", "start", "end"])
    frame = pd.DataFrame(
        {
            "unit": np.concatenate(units),
            "state": np.concatenate(states),
            "start": np.concatenate(starts).astype(np.int64),
            "end": np.concatenate(ends).astype(np.int64),
        }
    )
    return (
        frame[frame["end"] > frame["start"]]
        .sort_values(["unit", "start"], kind="stable")
        .reset_index(drop=True)
    )
