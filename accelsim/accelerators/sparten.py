"""SparTen (Gondimalla et al., MICRO 2019) and its dense and one-sided baselines, as modes of one kind.

A layer runs in filter passes (one filter per compute unit) on clusters that each take a block of
output positions (`accelsim.dataflows.sparten`). The numba kernel counts, over the exact seeded masks,
the cycles of every (pass, cluster) with the broadcast barrier (per window or per chunk, with the CUs'
input buffer depth), every CU's busy cycles and the products issued and effectual
(`accelsim.kernels.sparten`). The engine plays one work item per
(pass, cluster) on the clusters; a layer's `cycles` is the engine makespan. The timeline's units are
the CUs (one multiplier each): `cu_timeline` refines the clusters' run into every CU's stalled, idle
and busy intervals, so the shared metrics and the slot partition are over the 1,024 CUs.

A CU's busy cycles in a pass are its joins and MACs plus the join pipeline fill; its barrier waits
are idle gaps before them, so that the template books them as unit_idle (docs/assumptions.md SP12).
A layer whose rows would pass `TIMELINE_ROW_LIMIT` merges consecutive passes of a cluster into
windows: each CU's busy and stalled cycles and the end of its last activity stay exact, so windows move
no slot and change no metric but `stall_cycles` (where the windowed stalls overlap differently).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from accelsim.accelerators.base import Accelerator, mac_blocks
from accelsim.accelerators.plan import LayerPlan, Units
from accelsim.accelerators.registry import register
from accelsim.config.arch.sparten import ACTIVATIONS_SPARSE_MODES as ACTIVATIONS_SPARSE
from accelsim.config.arch.sparten import WEIGHTS_SPARSE_MODES as WEIGHTS_SPARSE
from accelsim.config.arch.sparten import SpartenSpec
from accelsim.dataflows import get_dataflow
from accelsim.dataflows.sparten import FilterPerCu, SpartenHardware, SpartenMapping, packed_operands
from accelsim.energy import Action, ActionEnergy, EnergyModel, actions
from accelsim.energy.area import AreaBlock
from accelsim.engine import EngineResult, WorkItem
from accelsim.engine.timeline import BUSY, IDLE, STALLED, timeline_frame
from accelsim.kernels.sparten import (
    DENSE,
    ONE_SIDED_ACTIVATIONS,
    ONE_SIDED_WEIGHTS,
    TWO_SIDED,
    input_chunk_nonzeros,
    layer_counts,
)
from accelsim.report.schema import Slots
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer, LayerKind

_MODES = {
    "two_sided": TWO_SIDED,
    "one_sided_weights": ONE_SIDED_WEIGHTS,
    "one_sided_activations": ONE_SIDED_ACTIVATIONS,
    "dense": DENSE,
}


@dataclass(frozen=True)
class CuBuffers:
    """Each CU's input and output buffers, sized for the network (docs/assumptions.md SP15)."""

    input_bits: int
    """Input buffer: `input_buffer_depth` steps of the network's largest step (a window or a chunk),
    every value of it (the worst case) and its SparseMap when the mode stores activations sparse."""
    output_entries: int
    """Output buffer: the outputs (partial-sum wide) a CU may finish before the collector takes them,
    one more than the windows it can run ahead."""

    @property
    def input_kib(self) -> float:
        """The input buffer's SRAM size."""
        return self.input_bits / 8192


def cu_buffers(spec: SpartenSpec, layers: tuple[Layer, ...]) -> CuBuffers:
    """Input and output buffer sizes of every CU for running `layers` (the convolutions among them)."""
    convs = [layer for layer in layers if layer.kind is not LayerKind.FC] or list(layers)
    map_bit = 1 if spec.mode in ACTIVATIONS_SPARSE else 0
    per_value = spec.precision.act_bits + map_bit

    def chunk_values(layer: Layer) -> int:
        return min(spec.chunk_bits, layer.c_per_group)

    def window_chunks(layer: Layer) -> int:
        return layer.r * layer.s * -(-layer.c_per_group // spec.chunk_bits)

    if spec.barrier == "window":
        step_values = max(layer.r * layer.s * layer.c_per_group for layer in convs)
        windows_ahead = spec.input_buffer_depth - 1
    else:
        step_values = max(chunk_values(layer) for layer in convs)
        fewest = min(window_chunks(layer) for layer in convs)
        windows_ahead = -(-(spec.input_buffer_depth - 1) // fewest)
    return CuBuffers(spec.input_buffer_depth * step_values * per_value, 1 + windows_ahead)


@dataclass(frozen=True)
class LayerCounts:
    """Kernel counts of one layer plus the mapping they came from."""

    mapping: SpartenMapping
    cycles: np.ndarray
    """(passes, clusters) join cycles."""
    busy: np.ndarray
    """(passes, clusters, cus) busy cycles of every CU (0 for a CU without a filter in the pass)."""
    macs: np.ndarray
    """(passes, clusters) multiplications performed."""
    effectual: np.ndarray
    """(passes, clusters) of those, the ones with both operands non-zero."""
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
        self.dataflow = get_dataflow("sparten", "filter_per_cu", FilterPerCu)
        self.hardware = SpartenHardware(spec.clusters, spec.cus_per_cluster, spec.chunk_bits, spec.balancing)
        self.energy = EnergyModel.from_technology(spec.technology)

    def unsupported(self, layer: Layer) -> str | None:
        """FC layers are left out ([SCNN17; SPARTEN19], policy (b)): one window, a single cluster's work."""
        if layer.kind is LayerKind.FC:
            return (
                "fully connected: SparTen's evaluation covers convolutions only "
                "([SCNN17; SPARTEN19], excluded)"
            )
        return None

    def count(self, work: LayerWorkload) -> LayerCounts:
        """Map the layer and count cycles and MACs with the kernel over the exact masks (every mode reads
        both real masks: the baselines to count their effectual products)."""
        layer, spec, masks = work.layer, self.spec, work.masks
        mapping = self.dataflow.map(layer, self.hardware, masks)
        a_words, w_words = packed_operands(layer, masks.activations, masks.weights, spec.chunk_bits)
        cycles, busy, macs, effectual = layer_counts(
            a_words, w_words, mapping.assign, mapping.pass_group, mapping.pos_start,
            layer.out_w, layer.stride, mapping.widths, _MODES[spec.mode], spec.min_chunk_cycles,
            spec.input_buffer_depth, spec.barrier == "window",
        )  # fmt: skip
        if spec.mode not in ACTIVATIONS_SPARSE:  # every window position is broadcast, padding included
            window = layer.r * layer.s * layer.c_per_group
            values = mapping.passes * layer.out_h * layer.out_w * window
        else:
            per_group = input_chunk_nonzeros(
                a_words, mapping.pos_start, layer.out_w, layer.stride, layer.r, layer.s
            )
            values = int(per_group[mapping.pass_group].sum())
        return LayerCounts(
            mapping, cycles, busy, macs, effectual, values,
            int(np.count_nonzero(masks.weights)), int(np.count_nonzero(masks.activations)),
        )  # fmt: skip

    def plan_actions(self) -> frozenset[Action]:
        """MACs, accumulators and output collection, the CU buffers, the global buffer, the cluster
        networks, DRAM."""
        return actions(
            "mac.mac", "rf.accumulate", "rf.cu_output_write", "rf.collector_output_read",
            "sram.cu_input_write", "sram.cu_input_value_read", "sram.cu_input_map_read",
            "sram.cu_filter_value_read", "sram.cu_filter_map_read", "sram.cu_filter_load",
            "sram.glb_input_read", "sram.glb_filter_read", "sram.glb_output_write",
            "noc.input_broadcast_bit", "noc.filter_bit", "noc.psum", "dram.bit",
        )  # fmt: skip

    def plan(self, work: LayerWorkload) -> LayerPlan:
        """One item per (pass, cluster) on the clusters; the timeline refined to the CUs."""
        layer, spec = work.layer, self.spec
        counts = self.count(work)
        mapping = counts.mapping
        dram = self._dram_bytes(layer, counts, work)
        active = np.diff(mapping.pos_start) > 0  # clusters with output positions
        ran = np.flatnonzero(active)
        lengths = counts.cycles + spec.join_latency_cycles  # the join pipeline fills once per pass
        n = max(1, mapping.passes * ran.size)  # traffic spread evenly over the work items
        read, write = dram["read"] / n, dram["write"] / n
        items = [
            WorkItem(int(j), int(lengths[f, j]), 1, read, write) for j in ran for f in range(mapping.passes)
        ]
        held = mapping.held
        own = np.where(held[:, None, :] & active[None, :, None], counts.busy + spec.join_latency_cycles, 0)
        buffers = cu_buffers(spec, work.network_layers or (layer,))
        energy, sram_bits = self._actions(layer, counts, dram, buffers)
        chunk_slots = mapping.passes * mapping.chunks_per_window * spec.cus_per_cluster
        return LayerPlan(
            units=Units("compute unit", self.multipliers, 1),
            items=items,
            busy=self._busy_slots(counts, int(held.sum()) * ran.size),
            energy=energy,
            leakage_mw=self._leakage_mw(buffers),
            macs_issued=int(counts.macs.sum()),
            dram_bytes=dram["read"] + dram["write"],
            sram_bytes=sram_bits / 8,
            folds=mapping.passes,
            mapping_efficiency=mapping.occupied_slots / chunk_slots,
            mapping=(
                f"{spec.mode}, barrier per {spec.barrier} (input buffer of {spec.input_buffer_depth}, "
                f"{buffers.input_kib:.3g} KiB per CU): {mapping.describe()}"
            ),
            dram_bytes_per_cycle=spec.dram.bandwidth_bytes_per_cycle,
            engine_units=spec.clusters,
            refine=lambda run: cu_timeline(run, own, held, lengths, active),
        )

    def _busy_slots(self, counts: LayerCounts, held_passes: int) -> Slots:
        """A CU's busy cycles: its products (effectual, or with a zero operand in the baselines), the
        cycles a chunk costs beyond its products (`min_chunk_cycles`: packing) and the join pipeline fill
        of every pass in which it holds a filter (fill_drain)."""
        issued = int(counts.macs.sum())
        effectual = int(counts.effectual.sum())
        return Slots(
            effectual=effectual,
            ineffectual=issued - effectual,
            packing=int(counts.busy.sum()) - issued,
            fill_drain=self.spec.join_latency_cycles * held_passes,
        )

    def _dram_bytes(self, layer: Layer, counts: LayerCounts, work: LayerWorkload) -> dict[str, float]:
        """Each tensor moves once (it fits the global buffer, docs/assumptions.md): SparseMap + non-zeros
        for an operand the mode stores sparse (the output map as the input map), dense values otherwise."""
        p, mode = self.spec.precision, self.spec.mode
        outputs = layer.out_h * layer.out_w * layer.k
        inputs = layer.c * layer.h * layer.w
        if mode in WEIGHTS_SPARSE:
            weights_bits = counts.weight_nonzeros * p.weight_bits + float(layer.weights)
        else:
            weights_bits = float(layer.weights * p.weight_bits)
        out_density = work.density.activations if mode in ACTIVATIONS_SPARSE else 1.0
        if mode in ACTIVATIONS_SPARSE:
            acts_bits = counts.act_nonzeros * p.act_bits + float(inputs)
            out_bits = outputs * out_density * p.act_bits + outputs
        else:
            acts_bits = float(inputs * p.act_bits)
            out_bits = float(outputs * p.act_bits)
        return {"read": (weights_bits + acts_bits) / 8, "write": out_bits / 8, "out_density": out_density}

    def _actions(
        self, layer: Layer, counts: LayerCounts, dram: dict[str, float], buffers: CuBuffers
    ) -> tuple[list[ActionEnergy], float]:
        """Every action with its count and pJ, and the on-chip SRAM bits accessed (docs/assumptions.md)."""
        spec, e, p, mem = self.spec, self.energy, self.spec.precision, self.spec.memory
        mapping = counts.mapping
        positions = layer.out_h * layer.out_w
        macs = float(counts.macs.sum())
        chunks = len(mapping.widths)
        width_of_t = np.tile(mapping.widths, mapping.chunks_per_window // chunks)
        held = np.count_nonzero(mapping.assign >= 0, axis=2)  # (passes, taps): CUs receiving each chunk
        join_bits = float((held * width_of_t).sum()) * positions  # SparseMap bits of each operand joined
        receivers = float(held.sum()) * positions  # (CU, chunk) deliveries
        broadcast_map_bits = float(mapping.passes * width_of_t.sum()) * positions  # maps read from the buffer
        weights_sparse, acts_sparse = spec.mode in WEIGHTS_SPARSE, spec.mode in ACTIVATIONS_SPARSE
        value_bits = counts.input_values * p.act_bits  # input values read from the buffer over all passes
        mean_receivers = receivers / max(1.0, float(mapping.passes * mapping.chunks_per_window * positions))
        glb_input_bits = value_bits + (broadcast_map_bits if acts_sparse else 0.0)
        noc_input_bits = glb_input_bits * mean_receivers  # also what the CUs' input buffers take in
        filter_bits = (
            counts.weight_nonzeros * p.weight_bits + layer.weights
            if weights_sparse
            else layer.weights * p.weight_bits
        )
        outputs = positions * layer.k
        out_bits = dram["write"] * 8
        psum_moves = receivers if spec.balancing == "gb_h" else outputs  # GB-H gathers partials per chunk
        glb = e.sram_pj(mem.global_buffer_kib, 64) / 64  # pJ per bit
        glb_w = e.sram_pj(mem.global_buffer_kib, 64, write=True) / 64
        cu_f = e.sram_pj(mem.cu_filter_buffer_kib, 64) / 64
        cu_f_w = e.sram_pj(mem.cu_filter_buffer_kib, 64, write=True) / 64
        port = min(64, buffers.input_bits)  # a buffer narrower than a 64-bit word has a narrower port
        cu_in = e.sram_pj(buffers.input_kib, port, port_bits=port) / port
        cu_in_w = e.sram_pj(buffers.input_kib, port, write=True, port_bits=port) / port
        mac_bits = max(p.weight_bits, p.act_bits)
        of = ActionEnergy.of
        actions = [
            of("mac", "mac", macs, e.mac_pj(mac_bits, p.psum_bits)),
            of("rf", "accumulate", macs, e.rf_pj(p.psum_bits)),
            of("rf", "cu_output_write", psum_moves, e.rf_pj(p.psum_bits)),
            of("rf", "collector_output_read", psum_moves, e.rf_pj(p.psum_bits)),
            of("sram", "cu_input_write", noc_input_bits, cu_in_w),
            of("sram", "cu_input_value_read", macs * p.act_bits, cu_in),
            of("sram", "cu_input_map_read", join_bits if acts_sparse else 0.0, cu_in),
            of("sram", "cu_filter_value_read", macs * p.weight_bits, cu_f),
            of("sram", "cu_filter_map_read", join_bits if weights_sparse else 0.0, cu_f),
            of("sram", "cu_filter_load", filter_bits * spec.clusters, cu_f_w),
            of("sram", "glb_input_read", glb_input_bits, glb),
            of("sram", "glb_filter_read", filter_bits, glb),
            of("sram", "glb_output_write", out_bits, glb_w),
            of("noc", "input_broadcast_bit", noc_input_bits, e.noc_pj(1)),
            of("noc", "filter_bit", filter_bits * spec.clusters, e.noc_pj(1)),
            of("noc", "psum", psum_moves, e.noc_pj(p.psum_bits)),
            of("dram", "bit", (dram["read"] + dram["write"]) * 8, e.dram_pj_per_bit(spec.dram.kind)),
        ]
        sram_bits = sum(a.count for a in actions if a.action.component == "sram")
        return actions, float(sram_bits)

    def area_blocks(self, layers: tuple[Layer, ...]) -> list[AreaBlock]:
        """Per CU: a multiplier and accumulator, the inner join (two SparseMap registers, two prefix-sum
        units and a priority encoder over a chunk), the filter-chunk and input buffers and the output
        register; per cluster a broadcast bus to its CUs and an output collector; the global buffer."""
        s, am = self.spec, self.area_model
        p, mem, n = s.precision, s.memory, self.multipliers
        buffers = cu_buffers(s, layers) if layers else None
        input_kib = buffers.input_kib if buffers is not None else 0.0
        chunk = s.chunk_bits
        width = max(p.weight_bits, p.act_bits)
        blocks = [
            *mac_blocks(am, n, p),
            AreaBlock("rf", "CU output registers", n, am.register_um2(p.psum_bits)),
            AreaBlock(
                "sram", "CU filter + input buffers", n, am.sram_um2(mem.cu_filter_buffer_kib + input_kib)
            ),
            AreaBlock("sram", "global buffer", 1, am.sram_um2(mem.global_buffer_kib)),
            AreaBlock(
                "noc", "cluster broadcast buses", s.clusters, am.crossbar_um2(1, s.cus_per_cluster, width + 1)
            ),
            AreaBlock(
                "noc", "output collectors", s.clusters, am.crossbar_um2(s.cus_per_cluster, 1, p.psum_bits)
            ),
        ]
        if s.mode != "dense":
            select = max(1, math.ceil(math.log2(chunk)))
            blocks += [
                AreaBlock("special", "SparseMap registers", n, am.register_um2(2 * chunk)),
                AreaBlock("special", "prefix-sum units", 2 * n, am.popcount_um2(chunk)),
                AreaBlock(
                    "special", "priority encoders", n, chunk * am.comparator_um2(1) + am.register_um2(select)
                ),
            ]
        return blocks

    def _leakage_mw(self, buffers: CuBuffers) -> float:
        """Static power of the CUs' multipliers, the global buffer and every CU's filter and input buffers."""
        mem, p = self.spec.memory, self.spec.precision
        sram_kib = mem.global_buffer_kib + self.multipliers * (mem.cu_filter_buffer_kib + buffers.input_kib)
        return self.energy.leakage_mw(self.multipliers, sram_kib, max(p.weight_bits, p.act_bits), p.psum_bits)


TIMELINE_ROW_LIMIT = 100_000
"""Most rows of one layer's per-CU timeline (when it is at least 5 x the CUs). Below it every pass gives
each CU its own rows, exact in time; above it `cu_timeline` merges consecutive passes of a cluster into
windows. A CU takes up to 2 rows per pass (4 with DRAM stalls), one that never holds a filter 1 row:
every layer of the shipped networks stays exact without DRAM stalls (VGG16: at most 16 passes; MobileNet
v1's pw13: 32 passes; its depthwise layers: 1,024 passes in which 1 CU of 32 holds a filter); 1,024
busy CUs get at least 48 windows per layer (24 with stalls)."""


def cu_timeline(
    run: EngineResult,
    own: np.ndarray,
    held: np.ndarray,
    lengths: np.ndarray,
    active: np.ndarray,
    limit: int = TIMELINE_ROW_LIMIT,
) -> pd.DataFrame:
    """Per-CU timeline (unit, state, start, end) over [0, makespan) from the clusters' run, in unit then
    time order; every CU's intervals tile the layer.

    `own` (passes, clusters, cus): each CU's busy cycles in each pass (joins, MACs and the join fill;
    0 without a filter); `held` (passes, cus): whether a CU holds a filter in a pass; `lengths` (passes,
    clusters): each work item's cycles; `active` (clusters,): clusters that ran every pass in order
    (CU u of cluster j is unit j * cus + u). A cluster runs its items back to back from cycle 0, each
    after its DRAM stall, which every CU holding a filter in that pass shares (a CU without one is not
    waiting for data). In a pass, a CU is stalled, then idle (its barrier waits), then busy until the
    pass ends; the CU's idle time thus lies before its busy time and the template books it as unit_idle,
    and the time after its last pass as imbalance. Passes merge into windows of w consecutive passes,
    w = 1 unless the layer would pass `limit` rows; in a window a CU has its stalls, an idle gap, then
    its busy cycles ending where its last activity of the window ends (the end of its last busy pass,
    or of a later stall; with no busy cycle, the stalls end there). So each CU's busy and stalled
    cycles and the end of its last activity are exact, and with w = 1 the picture is exact per pass.
    Rows: at most `limit`, plus one window of rows if `limit` < 5 x the CUs (a CU that never holds a
    filter has one idle row, so the windows are as wide as the CUs that do hold one need).
    """
    makespan = run.makespan
    passes, clusters, cus = own.shape
    ran = np.flatnonzero(active)
    length = lengths[:, ran].astype(np.int64)
    stall = _pass_stalls(run, length, ran)  # (passes, clusters that ran)
    mine = own[:, ran, :].astype(np.int64)  # (passes, clusters that ran, cus)
    hold = held[:, None, :]
    cu_stall = np.where(hold, stall[:, :, None], 0)
    pass_end = np.cumsum(stall + length, axis=0)
    stall_end = (pass_end - length)[:, :, None]
    active_end = np.where(mine > 0, pass_end[:, :, None], np.where(cu_stall > 0, stall_end, 0))
    holders = max(1, int(held.any(axis=0).sum()))  # a CU that never holds a filter has one idle row
    rows_per_window = len(ran) * holders * (4 if stall.any() else 2)
    windows = max(1, (limit - clusters * cus) // max(1, rows_per_window))
    width = max(1, -(-passes // windows))  # passes per window
    first = np.arange(0, passes, width)
    w_busy = np.add.reduceat(mine, first, axis=0)  # (windows, clusters that ran, cus)
    w_stall = np.add.reduceat(cu_stall, first, axis=0)
    w_last = np.maximum.reduceat(active_end, first, axis=0)  # end of the CU's last activity in the window
    w_end = pass_end[np.append(first[1:], passes) - 1]  # (windows, clusters that ran)
    w_start = np.vstack([np.zeros((1, len(ran)), dtype=np.int64), w_end[:-1]])
    w_end[-1] = makespan  # after its last pass a CU is idle to the end of the layer
    start = np.broadcast_to(w_start[:, :, None], w_busy.shape)
    only_stalls = (w_busy == 0) & (w_stall > 0)  # then the stalls end the CU's activity in the window
    stalled_start = np.where(only_stalls, w_last - w_stall, start)
    stalled_end = stalled_start + w_stall
    busy_end = np.where(w_busy > 0, w_last, stalled_end)
    busy_start = busy_end - w_busy
    close = np.broadcast_to(w_end[:, :, None], w_busy.shape)
    # (cluster, CU, window, row): idle, stalled, idle, busy, idle: unit then time order
    starts = np.stack([start, stalled_start, stalled_end, busy_start, busy_end], axis=-1).transpose(
        1, 2, 0, 3
    )
    ends = np.stack([stalled_start, stalled_end, busy_start, busy_end, close], axis=-1).transpose(1, 2, 0, 3)
    row_codes = np.array([IDLE, STALLED, IDLE, BUSY, IDLE], dtype=np.int8)
    codes = np.broadcast_to(row_codes, ends.shape)
    units = np.broadcast_to((ran[:, None] * cus + np.arange(cus))[:, :, None, None], ends.shape)
    keep = ends > starts
    unit, code, begin, end = _merge_runs(units[keep], codes[keep], starts[keep], ends[keep])
    spare = np.flatnonzero(np.repeat(~active, cus))  # CUs of clusters without positions: idle throughout
    return timeline_frame(
        np.concatenate([unit, spare]),
        np.concatenate([code, np.full(len(spare), IDLE, dtype=np.int8)]),
        np.concatenate([begin, np.zeros(len(spare), dtype=np.int64)]),
        np.concatenate([end, np.full(len(spare), makespan, dtype=np.int64)]),
    )


def _pass_stalls(run: EngineResult, length: np.ndarray, ran: np.ndarray) -> np.ndarray:
    """stall[f, i]: the DRAM stall of cluster ran[i] before its pass f (the engine records a unit's wait
    for a job's operands before the job)."""
    stall = np.zeros_like(length)
    if not run.unit_cycles[:, 1].any():
        return stall
    frame = run.timeline.frame(run.makespan)
    stalled = frame[frame["state"] == "stalled"]
    done = np.cumsum(length, axis=0)  # end of pass f on the cluster's clock without stalls
    for i, j in enumerate(ran):
        mine = stalled[stalled["unit"] == j]
        begin = mine["start"].to_numpy(np.int64)
        size = mine["end"].to_numpy(np.int64) - begin
        before = np.cumsum(size) - size  # stalled cycles before this stall
        after = np.searchsorted(done[:, i], begin - before, side="right")  # passes done before it
        np.add.at(stall[:, i], np.minimum(after, len(length) - 1), size)
    return stall


def _merge_runs(
    unit: np.ndarray, code: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Adjacent rows of one unit in one state as one row (rows in unit then time order, contiguous)."""
    if unit.size == 0:
        return unit, code, start, end
    same = (unit[1:] == unit[:-1]) & (code[1:] == code[:-1])
    head = np.flatnonzero(np.concatenate([[True], ~same]))
    tail = np.append(head[1:], unit.size) - 1
    return unit[head], code[head], start[head], end[tail]
