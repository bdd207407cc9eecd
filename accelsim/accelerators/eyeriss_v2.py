"""Eyeriss v2 (Chen et al., JETCAS 2019): sparse PEs in clusters on a hierarchical mesh NoC.

Per layer: the RS+ dataflow cuts each group into PE tiles and assigns them to PEs (by default along
the cluster structure: a weight tile to a row of PEs that share its weight multicast, the row's PEs
splitting its output positions); the sparse-PE kernel counts each tile's cycles from the exact
operand masks. With `noc.timing: played` (the default) every tile is a work item played through the
engine in phases: its weights load over its PE row's weight router (a multicast to the row, read
from DRAM: weights are not kept in the GLB) before it computes, in one weight SPad or two
(`pe.double_buffered`); its iacts (from the GLB, staged there from DRAM once) and its psums stream
over the cluster's iact and psum routers while it computes; the final outputs of a layer's last
C0 tiles are written back to DRAM after it. Each cluster's routers and the DRAM are channels, and a
PE waiting for them is stalled. With `timing: bound` the NoC and DRAM are the earlier closed-form
lower bound (layer cycles = max(PE makespan, slowest cluster's NoC time, DRAM bytes / bandwidth)),
and with `free` they take no time (the PEs alone). See docs/eyeriss_v2.md and docs/assumptions.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accelsim.accelerators.base import Accelerator, mac_blocks
from accelsim.accelerators.plan import Extension, LayerPlan, Units
from accelsim.accelerators.registry import register
from accelsim.config.arch.eyeriss_v2 import EyerissV2Spec
from accelsim.dataflows import get_dataflow
from accelsim.dataflows.eyeriss_v2 import PeGeometry, PeTiling, RowStationaryPlus, cluster_schedule
from accelsim.energy import Action, ActionEnergy, EnergyModel, actions
from accelsim.energy.area import AreaBlock
from accelsim.engine import DRAM, Transfer, WorkItem
from accelsim.kernels.eyeriss_v2 import (
    N_STATS,
    STAT_CYCLES,
    STAT_EFFECTUAL,
    STAT_EMPTY,
    STAT_ENTERED,
    STAT_IDLE_LANES,
    STAT_SLOTS,
    column_counts,
    pe_tile_stats,
)
from accelsim.report.schema import Slots
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer

CSC_WORD_BITS = 12
V2_IACT_ADDR_WORDS, V2_IACT_ADDR_BITS = 9, 4
"""The sparse PE's iact address SPad, 9 x 4 b (Eyeriss v2 §IV-A)."""
V2_WEIGHT_ADDR_WORDS, V2_WEIGHT_ADDR_BITS = 16, 7
"""The sparse PE's weight address SPad, 16 x 7 b (Eyeriss v2 §IV-A)."""
"""An 8-bit value and its 4-bit zero count (paper §IV-A)."""
PSUM_BITS = 20
"""A psum SPad word (paper §IV-A)."""
MAX_JOBS_PER_PE = 16
MAX_JOBS_PER_LAYER = 4096
"""A PE given more jobs than min(MAX_JOBS_PER_PE, MAX_JOBS_PER_LAYER / PEs) plays that many jobs of
consecutive tiles (their multicasts split evenly over the receivers: bytes exact, no barrier); see
`_chunked`. Keeps the engine at a few thousand jobs per layer."""


@dataclass
class LayerCounts:
    """Everything counted over the work items of one layer (all groups)."""

    clusters: int
    item_cycles: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Cycles of every work item (tile), in issue order."""
    item_pe: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """PE of every work item (item i of the layer runs on PE i mod PEs)."""
    slots: int = 0
    """MACs issued (weights multiplied, SIMD padding excluded)."""
    entered: int = 0
    empty: int = 0
    """Weight-column look-ups that found an empty column."""
    effectual: int = 0
    """MACs issued with both operands non-zero."""
    idle_lanes: int = 0
    """SIMD lanes the MAC cycles left empty."""
    iact_words: np.ndarray = field(init=False)
    """Iact words delivered to each cluster (multicast counted once)."""
    weight_words: np.ndarray = field(init=False)
    """Weight words delivered to each cluster (one delivery per weight tile and cluster)."""
    psum_words: np.ndarray = field(init=False)
    """Psums each cluster sends to the GLB."""
    rounds: int = 0
    """Rounds of row jobs of the cluster assignment, over all groups."""
    iact_raw: bool = False
    weight_raw: bool = False
    describe: str = ""
    tiles: dict[str, list[np.ndarray]] = field(default_factory=dict)
    """Per-tile columns of every group (see `TILE_COLUMNS`), for playing the tiles one by one."""

    def tile_column(self, name: str) -> np.ndarray:
        """One per-tile column over all groups, in tile order."""
        parts = self.tiles.get(name, [])
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def __post_init__(self) -> None:
        self.iact_words = np.zeros(self.clusters)
        self.weight_words = np.zeros(self.clusters)
        self.psum_words = np.zeros(self.clusters)


@register("eyeriss_v2")
class EyerissV2(Accelerator):
    """clusters x pes_per_cluster sparse PEs with `simd` MACs each (192 PEs x 2 in the paper)."""

    spec: EyerissV2Spec

    def __init__(self, spec: EyerissV2Spec) -> None:
        super().__init__(spec)
        self.dataflow = get_dataflow("eyeriss_v2", spec.dataflow, RowStationaryPlus)
        self.energy = EnergyModel.from_technology(spec.technology)
        m, pe = spec.mapping, spec.pe
        self.geometry = PeGeometry(
            pes=self.pes,
            c0=m.c0,
            m0=m.m0,
            items_per_pe=m.items_per_pe,
            iact_spad_entries=pe.iact_spad_entries,
            weight_spad_entries=pe.weight_spad_entries,
            compress_below=pe.compress_below,
            sparse=pe.sparse,
            clusters=spec.clusters,
            pes_per_cluster=spec.pes_per_cluster,
            rows=min(spec.noc.weight_routers, spec.pes_per_cluster),
            assignment=m.assignment,
        )

    @property
    def pes(self) -> int:
        """Number of PEs."""
        return self.spec.clusters * self.spec.pes_per_cluster

    def unsupported(self, layer: Layer) -> str | None:
        """Every conv, depthwise, pointwise and FC layer maps (pooling runs off-chip, paper §V-B)."""
        return None if layer.is_compute else "pooling runs off-chip on Eyeriss v2"

    def count(self, work: LayerWorkload) -> LayerCounts:
        """Tile every group, run the sparse-PE kernel, and tally NoC deliveries per cluster."""
        layer, spec = work.layer, self.spec
        masks = work.masks
        acts = np.pad(
            masks.activations,
            ((0, 0), (layer.pad, layer.pad + layer.pad_end[0]), (layer.pad, layer.pad + layer.pad_end[1])),
        )
        groups = 1 if layer.kind == "depthwise" else layer.groups  # a depthwise layer tiles its channels
        tiling = self.dataflow.map(layer, self.geometry, masks)  # every group is tiled alike
        lc = LayerCounts(spec.clusters)
        lc.iact_raw, lc.weight_raw = not tiling.iacts_compressed, not tiling.weights_compressed
        lc.describe = tiling.describe() + (f"; {groups} groups in sequence" if groups > 1 else "")
        item = 0
        for g in range(groups):
            kpg, cpg = layer.k_per_group, layer.c_per_group
            w = masks.weights if groups == 1 else masks.weights[g * kpg : (g + 1) * kpg]
            a = acts if groups == 1 else acts[g * cpg : (g + 1) * cpg]
            counts = column_counts(w, tiling.m_bounds, tiling.depthwise, tiling.weights_compressed)
            nonzero = (
                counts
                if tiling.weights_compressed
                else column_counts(w, tiling.m_bounds, tiling.depthwise, weights_compressed=True)
            )
            stats = pe_tile_stats(
                counts, nonzero, a, layer.stride, layer.out_w, tiling.c_bounds, tiling.pix_bounds,
                spec.pe.simd, tiling.iacts_compressed, tiling.weights_compressed,
                spec.pe.empty_column_cycles, 0,
            )  # fmt: skip
            item = self._tally(lc, tiling, counts, stats, item)
            self._record_tiles(lc, work, tiling, counts, stats, g, groups)
        return lc

    def _tally(
        self, lc: LayerCounts, tiling: PeTiling, counts: np.ndarray, stats: np.ndarray, item: int
    ) -> int:
        """Add one group's items: cycles and PE, and per-cluster NoC words (multicast deduplicated).

        Items run in (m-group, c-group, block) order from index `item` on; item i goes to PE
        i mod PEs. A cluster receives an iact block (c-group, block) once however many of its PEs
        use it, and a weight tile (m-group, c-group) once; every item sends its psums.
        """
        mg_n, cg_n, pb_n = tiling.shape
        g_i, cg_i, pb_i = (a.ravel() for a in np.indices((mg_n, cg_n, pb_n)))
        if self.geometry.assignment == "clusters":
            sched = cluster_schedule(tiling, self.geometry)
            pe, cl = sched.pe, sched.pe // self.spec.pes_per_cluster
            iact_share = ((cl * sched.rounds + sched.round) * cg_n + cg_i) * pb_n + pb_i
            weight_share = sched.row_job
            lc.rounds += sched.rounds
        else:
            pe = (item + np.arange(g_i.size)) % self.pes
            cl = pe // self.spec.pes_per_cluster
            iact_share = (cl * cg_n + cg_i) * pb_n + pb_i
            weight_share = (cl * mg_n + g_i) * cg_n + cg_i
        flat = stats.reshape(-1, N_STATS)
        lc.item_cycles = np.concatenate([lc.item_cycles, flat[:, STAT_CYCLES]])
        lc.item_pe = np.concatenate([lc.item_pe, pe])
        tile_weights = np.add.reduceat(counts.sum(axis=(2, 3)), tiling.c_bounds[:-1], axis=1)  # (mg, cg)
        _, first_iact = np.unique(iact_share, return_index=True)
        _, first_weight = np.unique(weight_share, return_index=True)
        outs = np.diff(tiling.c_bounds)[cg_i] if tiling.depthwise else np.diff(tiling.m_bounds)[g_i]
        psums = outs * np.diff(tiling.pix_bounds)[pb_i]
        n = self.spec.clusters
        entered = flat[:, STAT_ENTERED]
        lc.iact_words += np.bincount(cl[first_iact], weights=entered[first_iact], minlength=n)
        weights = tile_weights[g_i, cg_i]
        lc.weight_words += np.bincount(cl[first_weight], weights=weights[first_weight], minlength=n)
        lc.psum_words += np.bincount(cl, weights=psums, minlength=n)
        lc.slots += int(flat[:, STAT_SLOTS].sum())
        lc.entered += int(entered.sum())
        lc.empty += int(flat[:, STAT_EMPTY].sum())
        lc.effectual += int(flat[:, STAT_EFFECTUAL].sum())
        lc.idle_lanes += int(flat[:, STAT_IDLE_LANES].sum())
        return item + g_i.size

    def _record_tiles(
        self,
        lc: LayerCounts,
        work: LayerWorkload,
        tiling: PeTiling,
        counts: np.ndarray,
        stats: np.ndarray,
        group: int,
        groups: int,
    ) -> None:
        """Keep what playing one group's tiles needs: PE and position, cycles, the words each tile
        moves over the networks and DRAM, and the keys of the deliveries it shares."""
        layer, p = work.layer, self.spec.precision
        mg_n, cg_n, pb_n = tiling.shape
        g_i, cg_i, pb_i = (a.ravel() for a in np.indices((mg_n, cg_n, pb_n)))
        flat = stats.reshape(-1, N_STATS)
        n = g_i.size
        if self.geometry.assignment == "clusters":
            sched = cluster_schedule(tiling, self.geometry)
            pe, step = sched.pe, sched.step
            cl = pe // self.spec.pes_per_cluster
            iact_key = ((cl * sched.rounds + sched.round) * cg_n + cg_i) * pb_n + pb_i
            weight_key = sched.row_job
            _, first = np.unique(pe * (mg_n * cg_n * pb_n) + weight_key, return_index=True)
            loads = np.zeros(n, dtype=bool)
            loads[first] = True  # a row job's weights stay in the PE for its blocks
            job = weight_key
        else:
            offset = sum(len(c) for c in lc.tiles.get("pe", []))
            step = offset + np.arange(n)
            pe = step % self.pes
            cl = pe // self.spec.pes_per_cluster
            iact_key = (cl * cg_n + cg_i) * pb_n + pb_i
            router = cl * self._weight_rows + self._weight_router(pe)  # a weight router serves its row
            weight_key = (router * mg_n + g_i) * cg_n + cg_i
            loads = np.ones(n, dtype=bool)
            job = step
        tile_weights = np.add.reduceat(counts.sum(axis=(2, 3)), tiling.c_bounds[:-1], axis=1)[g_i, cg_i]
        chans, pixels = np.diff(tiling.c_bounds), np.diff(tiling.pix_bounds)
        outs = chans[cg_i] if tiling.depthwise else np.diff(tiling.m_bounds)[g_i]
        c_span = int(tiling.c_bounds[-1])
        d = work.density
        in_bits = layer.input_elems / groups * (p.act_bits if lc.iact_raw else d.activations * CSC_WORD_BITS)
        weight_bits = p.weight_bits if lc.weight_raw else CSC_WORD_BITS
        columns = {
            "pe": pe,
            "group": np.full(n, group),
            "step": step,
            "job": job,
            "cycles": flat[:, STAT_CYCLES],
            "iact_words": flat[:, STAT_ENTERED],
            "iact_key": iact_key,
            "psum_words": outs * pixels[pb_i],
            "weight_words": np.where(loads, tile_weights, 0),
            "weight_key": np.where(loads, weight_key, -1),
            "weight_dram": np.where(loads, tile_weights * weight_bits / 8, 0.0),
            "iact_dram": in_bits / 8 * chans[cg_i] / c_span * pixels[pb_i] / int(tiling.pix_bounds[-1]),
            "iact_dram_key": cg_i * pb_n + pb_i,
            "out_dram": np.where(cg_i == cg_n - 1, outs * pixels[pb_i] * p.act_bits / 8, 0.0),
        }
        for name, column in columns.items():
            lc.tiles.setdefault(name, []).append(np.asarray(column))

    def channels(self, lc: LayerCounts) -> dict[str, float | None]:
        """Words per cycle of each cluster's iact, per-row weight and psum routers (None: free)."""
        noc, spec = self.spec.noc, self.spec
        free = noc.timing == "free"

        def per_cycle(routers: int, port: int, bits: int) -> float | None:
            return None if free else float(routers * (port // bits))

        iact = per_cycle(noc.iact_routers, noc.data_port_bits, 8 if lc.iact_raw else CSC_WORD_BITS)
        weight = per_cycle(1, noc.data_port_bits, 8 if lc.weight_raw else CSC_WORD_BITS)
        psum = per_cycle(noc.psum_routers, noc.psum_port_bits, PSUM_BITS)
        out: dict[str, float | None] = {}
        for q in range(spec.clusters):
            out[f"iact{q}"], out[f"psum{q}"] = iact, psum
            out.update({f"weight{q}.{r}": weight for r in range(self._weight_rows)})
        return out

    @property
    def _weight_rows(self) -> int:
        """Weight routers of a cluster (one per PE row, at most one per PE)."""
        return min(self.spec.noc.weight_routers, self.spec.pes_per_cluster)

    def _weight_router(self, pe: np.ndarray) -> np.ndarray:
        """The weight router (PE row) of each PE in its cluster."""
        ppc, rows = self.spec.pes_per_cluster, self._weight_rows
        local = pe % ppc
        return local // (ppc // rows) if ppc % rows == 0 else local % rows

    def played_items(self, lc: LayerCounts) -> list[WorkItem]:
        """The tiles of each PE, in its order, as jobs: the consecutive tiles of one row job (one
        weight load) are one job, with the row job's weight load (fetch), its blocks' iact and psum
        streams and the output write-back (spill); the first job of a PE pays the pipeline fill."""
        t = {name: lc.tile_column(name) for name in lc.tiles}
        order = np.lexsort((t["step"], t["group"], t["pe"]))
        t = {name: column[order] for name, column in t.items()}
        pe = t["pe"]
        new_pe = np.r_[True, pe[1:] != pe[:-1]]
        t["cycles"] = t["cycles"] + np.where(new_pe, self.spec.pe.pipeline_depth, 0)
        q = pe // self.spec.pes_per_cluster
        wrow = self._weight_router(pe)
        starts = np.flatnonzero(
            new_pe | np.r_[True, (t["job"][1:] != t["job"][:-1]) | (t["group"][1:] != t["group"][:-1])]
        )
        most = min(MAX_JOBS_PER_PE, max(1, MAX_JOBS_PER_LAYER // self.pes))
        if np.bincount(pe[starts]).max(initial=0) > most:
            return _chunked(t, q, wrow, most)
        sums = {
            k: np.add.reduceat(t[k], starts)
            for k in ("cycles", "iact_words", "iact_dram", "psum_words", "out_dram")
        }
        barrier = self.spec.noc.timing == "played" and self.geometry.assignment == "clusters"
        # the weight router's multicast already holds the row together; an unlimited DRAM adds nothing
        dram_barrier = barrier and self.spec.dram.bandwidth_bytes_per_cycle is not None
        items = []
        for j, i in enumerate(starts):
            g, qi = int(t["group"][i]), int(q[i])
            fetch: tuple[Transfer, ...] = ()
            if t["weight_key"][i] >= 0:
                key = (g, int(t["weight_key"][i]))
                fetch = (
                    Transfer(f"weight{qi}.{wrow[i]}", float(t["weight_words"][i]), ("w", *key), barrier),
                    Transfer(DRAM, float(t["weight_dram"][i]), ("wd", *key), dram_barrier),
                )
            stream = (
                Transfer(f"iact{qi}", float(sums["iact_words"][j]), ("i", g, int(t["iact_key"][i])), barrier),
                Transfer(DRAM, float(sums["iact_dram"][j]), ("id", g, int(t["iact_dram_key"][i]))),
                Transfer(f"psum{qi}", float(sums["psum_words"][j])),
            )
            out = float(sums["out_dram"][j])
            spill = (Transfer(DRAM, out),) if out else ()
            items.append(
                WorkItem(int(pe[i]), int(sums["cycles"][j]), fetch=fetch, stream=stream, spill=spill)
            )
        return items

    def noc_cycles(self, lc: LayerCounts) -> int:
        """Cycles the slowest cluster's iact / weight / psum networks need for the layer."""
        noc = self.spec.noc

        def per_cycle(raw: bool) -> int:
            return noc.data_port_bits // (8 if raw else CSC_WORD_BITS)

        iact = lc.iact_words / (noc.iact_routers * per_cycle(lc.iact_raw))
        weight = lc.weight_words / (noc.weight_routers * per_cycle(lc.weight_raw))
        psum = lc.psum_words / (noc.psum_routers * (noc.psum_port_bits // 20))
        return int(np.ceil(max(iact.max(), weight.max(), psum.max())))

    def plan_actions(self) -> frozenset[Action]:
        """MACs, the PE's SPads, the GLB, the three hierarchical meshes, DRAM."""
        return actions(
            "mac.mac", "mac.gated", "rf.iact_read", "rf.weight_addr_read", "rf.weight_read",
            "rf.psum_access", "rf.spad_fill", "sram.iact_read", "sram.psum_write", "sram.psum_read",
            "noc.iact_hop", "noc.weight_hop", "noc.psum_hop", "dram.bit",
        )  # fmt: skip

    def plan(self, work: LayerWorkload) -> LayerPlan:
        """Count the tiles; play them tile by tile over the NoC and DRAM channels (`noc.timing`
        played or free) or as one item per PE under the closed-form bound (bound); actions."""
        lc = self.count(work)
        if self.spec.noc.timing == "bound":
            return self._bound_plan(work, lc)
        items = self.played_items(lc)
        moved = _moved(items)
        energy, sram_bytes, dram_bytes = self._actions(work.layer, lc, work, moved)
        free = self.spec.noc.timing == "free"
        return LayerPlan(
            **self._common(lc, np.unique(lc.item_pe).size, energy, sram_bytes, dram_bytes),
            items=items,
            dram_bytes_per_cycle=None if free else self.spec.dram.bandwidth_bytes_per_cycle,
            channels=self.channels(lc),
            buffers=2 if self.spec.pe.double_buffered else 1,
        )

    def _common(
        self, lc: LayerCounts, used: int, energy: list[ActionEnergy], sram_bytes: float, dram_bytes: float
    ) -> dict[str, Any]:
        """The plan fields every timing reading fills the same way."""
        tiles = int(lc.item_cycles.size)
        return {
            "units": Units("PE", self.pes, self.spec.pe.simd),
            "busy": self._busy_slots(lc, used),
            "energy": energy,
            "leakage_mw": self._leakage_mw(),
            "macs_issued": lc.slots,
            "dram_bytes": dram_bytes,
            "sram_bytes": sram_bytes,
            "folds": tiles,
            "mapping_efficiency": min(1.0, tiles / self.pes),
            "mapping": self._describe(lc),
        }

    def _describe(self, lc: LayerCounts) -> str:
        """The tiling and, for the cluster assignment, its rounds."""
        if self.geometry.assignment != "clusters":
            return lc.describe
        return f"{lc.describe}; {lc.rounds} rounds of row jobs over {self.spec.clusters} clusters"

    def _bound_plan(self, work: LayerWorkload, lc: LayerCounts) -> LayerPlan:
        """One item per PE; the NoC and DRAM times as a closed-form bound (`noc.timing: bound`)."""
        # A PE's tiles stream back to back (operands arrive over the NoC, bounded below) and the
        # pipeline fills once per PE and layer (docs/assumptions.md): one engine item per PE
        # carrying the sum of its tiles' cycles is the same schedule as one item per tile.
        per_pe = np.zeros(self.pes, dtype=np.int64)
        np.add.at(per_pe, lc.item_pe, lc.item_cycles)
        used = np.flatnonzero(np.bincount(lc.item_pe, minlength=self.pes))
        fill = self.spec.pe.pipeline_depth
        energy, sram_bytes, dram_bytes = self._actions(work.layer, lc, work)
        return LayerPlan(
            **self._common(lc, used.size, energy, sram_bytes, dram_bytes),
            items=[WorkItem(unit=int(pe), cycles=int(per_pe[pe]) + fill) for pe in used],
            bound=self._bound(lc, dram_bytes),
            closed_form=self._closed_form(),
        )

    def _busy_slots(self, lc: LayerCounts, used_pes: int) -> Slots:
        """The SIMD lanes of the PEs' busy cycles: MACs issued, effectual or with a zero operand (raw
        operands); lanes a MAC cycle leaves empty and empty-column bubbles (packing); and the pipeline
        fill every PE given a tile pays once (fill_drain)."""
        pe = self.spec.pe
        return Slots(
            effectual=lc.effectual,
            ineffectual=lc.slots - lc.effectual,
            packing=lc.idle_lanes + pe.simd * lc.empty * pe.empty_column_cycles,
            fill_drain=pe.simd * pe.pipeline_depth * used_pes,
        )

    def _bound(self, lc: LayerCounts, dram_bytes: float) -> Extension:
        """The slowest cluster's NoC time or the DRAM transfer time, whichever is longer."""
        bw = self.spec.dram.bandwidth_bytes_per_cycle
        noc = self.noc_cycles(lc)
        dram = math.ceil(dram_bytes / bw) if bw else 0
        return (
            Extension(dram, "memory_stall", "DRAM")
            if dram > noc
            else Extension(noc, "memory_stall", "the HM-NoC")
        )

    def _closed_form(self) -> str:
        """Which costs the layer time takes in closed form (the `closed_form` column)."""
        if self.spec.dram.bandwidth_bytes_per_cycle:
            return "lower bounds: HM-NoC time of the slowest cluster, DRAM time"
        return "lower bound: HM-NoC time of the slowest cluster"

    def _actions(
        self, layer: Layer, lc: LayerCounts, work: LayerWorkload, moved: dict[str, float] | None = None
    ) -> tuple[list[ActionEnergy], float, float]:
        """Every action with its pJ; SRAM (GLB) and DRAM bytes (docs/assumptions.md, eyeriss_v2). With
        `moved` (words / bytes per channel of the played tiles) the NoC words and DRAM bytes are those
        played; without, the per-cluster counts and the once-per-layer DRAM traffic."""
        p, e = self.spec.precision, self.energy
        psum_bits = p.psum_bits
        iact_bits = p.act_bits if lc.iact_raw else CSC_WORD_BITS
        weight_bits = p.weight_bits if lc.weight_raw else CSC_WORD_BITS
        if moved is None:
            iact_words = float(lc.iact_words.sum())
            weight_words = float(lc.weight_words.sum())
            psum_words = float(lc.psum_words.sum())
        else:
            iact_words, weight_words, psum_words = (
                sum(v for k, v in moved.items() if k.startswith(kind)) for kind in ("iact", "weight", "psum")
            )
        outputs = layer.out_h * layer.out_w * layer.k
        glb_psum_reads = max(0.0, psum_words - outputs)  # partial sums of other C0 tiles read back to add
        glb_kib = self.spec.memory.glb_kib_per_cluster
        d = work.density
        in_bits = layer.input_elems * (d.activations * CSC_WORD_BITS if not lc.iact_raw else p.act_bits)
        w_bits = layer.weights * (d.weights * CSC_WORD_BITS if not lc.weight_raw else p.weight_bits)
        dram_bytes = (in_bits + w_bits + outputs * p.act_bits) / 8 if moved is None else moved.get(DRAM, 0.0)
        mac_bits = max(p.weight_bits, p.act_bits)
        of = ActionEnergy.of
        actions = [
            of("mac", "mac", lc.effectual, e.mac_pj(mac_bits, psum_bits)),
            # a MAC issued with a zero operand (raw operands) is gated
            of("mac", "gated", lc.slots - lc.effectual, e.mac_gated_pj(mac_bits, psum_bits)),
            of("rf", "iact_read", lc.entered, e.rf_pj(iact_bits)),
            # A dense PE has no address SPads (paper §V-A: v1.5 keeps v1's dense PE).
            of("rf", "weight_addr_read", lc.entered if self.spec.pe.sparse else 0, e.rf_pj(7)),
            of("rf", "weight_read", lc.slots, e.rf_pj(weight_bits)),
            of("rf", "psum_access", 2 * lc.slots, e.rf_pj(psum_bits)),
            of("rf", "spad_fill", iact_words + weight_words, e.rf_pj(CSC_WORD_BITS)),
            of("sram", "iact_read", iact_words, e.sram_pj(glb_kib, iact_bits)),
            of("sram", "psum_write", psum_words, e.sram_pj(glb_kib, psum_bits, write=True)),
            of("sram", "psum_read", glb_psum_reads, e.sram_pj(glb_kib, psum_bits)),
            of("noc", "iact_hop", iact_words, e.noc_pj(iact_bits)),
            of("noc", "weight_hop", weight_words, e.noc_pj(weight_bits)),
            of("noc", "psum_hop", psum_words, e.noc_pj(psum_bits)),
            of("dram", "bit", dram_bytes * 8, e.dram_pj_per_bit(self.spec.dram.kind)),
        ]
        sram_bytes = (iact_words * iact_bits + (psum_words + glb_psum_reads) * psum_bits) / 8
        return actions, sram_bytes, dram_bytes

    def area_blocks(self, layers: tuple[Layer, ...]) -> list[AreaBlock]:
        """Per PE: SIMD MACs, the iact and weight data SPads (CSC words when sparse, with their address
        SPads), the psum SPad; per cluster the GLB banks and the HM-NoC routers (iact 4 x 4 and weight
        2 x 2 at the data port width, psum 3 x 3 at the psum port width)."""
        s, am = self.spec, self.area_model
        p, pe, noc = s.precision, s.pe, s.noc
        word = CSC_WORD_BITS if pe.sparse else p.act_bits
        weight_words = math.ceil(pe.weight_spad_entries / s.pe.simd) if pe.sparse else pe.weight_spad_entries
        weight_bits = word * s.pe.simd if pe.sparse else p.weight_bits
        blocks = [
            *mac_blocks(am, self.multipliers, p),
            AreaBlock("rf", "iact data spads", self.pes, am.rf_um2(pe.iact_spad_entries, word)),
            AreaBlock("rf", "weight data spads", self.pes, am.rf_um2(weight_words, weight_bits)),
            AreaBlock("rf", "psum spads", self.pes, am.rf_um2(pe.psum_spad_entries, p.psum_bits)),
            AreaBlock("sram", "GLB", s.clusters, am.sram_um2(s.memory.glb_kib_per_cluster)),
            AreaBlock(
                "noc",
                "iact routers",
                s.clusters * noc.iact_routers,
                am.crossbar_um2(4, 4, noc.data_port_bits),
            ),
            AreaBlock(
                "noc",
                "weight routers",
                s.clusters * noc.weight_routers,
                am.crossbar_um2(2, 2, noc.data_port_bits),
            ),
            AreaBlock(
                "noc",
                "psum routers",
                s.clusters * noc.psum_routers,
                am.crossbar_um2(3, 3, noc.psum_port_bits),
            ),
        ]
        if pe.sparse:
            blocks += [
                AreaBlock(
                    "special",
                    "iact address spads",
                    self.pes,
                    am.rf_um2(V2_IACT_ADDR_WORDS, V2_IACT_ADDR_BITS),
                ),
                AreaBlock(
                    "special",
                    "weight address spads",
                    self.pes,
                    am.rf_um2(V2_WEIGHT_ADDR_WORDS, V2_WEIGHT_ADDR_BITS),
                ),
            ]
        return blocks

    def _leakage_mw(self) -> float:
        pe = self.spec.pe
        word = CSC_WORD_BITS if pe.sparse else self.spec.precision.act_bits  # a dense PE holds raw bytes
        spad_bits = (pe.iact_spad_entries + pe.weight_spad_entries) * word + pe.psum_spad_entries * 20
        sram_kib = self.spec.clusters * self.spec.memory.glb_kib_per_cluster + self.pes * spad_bits / 8 / 1024
        return self.energy.leakage_mw(self.multipliers, sram_kib, 8, self.spec.precision.psum_bits)


def _shares(key: np.ndarray, group: np.ndarray, words: np.ndarray) -> np.ndarray:
    """Each tile's share of the deliveries it names: words / tiles naming the same (group, key)."""
    named = key >= 0
    ids = np.unique(group * (int(key.max(initial=0)) + 1) + np.maximum(key, 0), return_inverse=True)[1]
    receivers = np.bincount(ids, weights=named)
    return np.where(named, words / np.maximum(receivers[ids], 1), 0.0)


def _chunked(t: dict[str, np.ndarray], q: np.ndarray, wrow: np.ndarray, jobs: int) -> list[WorkItem]:
    """Each PE's tiles (already in PE order) as `jobs` jobs of consecutive tiles: summed cycles, and
    each shared delivery split evenly over the tiles that name it (private transfers)."""
    pe, group = t["pe"], t["group"]
    shares = {
        "cycles": t["cycles"],
        "weight": _shares(t["weight_key"], group, t["weight_words"]),
        "weight_dram": _shares(t["weight_key"], group, t["weight_dram"]),
        "iact": _shares(t["iact_key"], group, t["iact_words"]),
        "iact_dram": _shares(t["iact_dram_key"], group, t["iact_dram"]),
        "psum": t["psum_words"],
        "out": t["out_dram"],
    }
    first = np.flatnonzero(np.r_[True, pe[1:] != pe[:-1]])
    size = np.diff(np.r_[first, pe.size])
    parts = np.arange(jobs)
    starts = np.unique((first[:, None] + parts[None, :] * size[:, None] // jobs).ravel())
    sums = {k: np.add.reduceat(v, starts) for k, v in shares.items()}
    items = []
    for j, i in enumerate(starts):
        qi = int(q[i])
        fetch = (
            Transfer(f"weight{qi}.{wrow[i]}", float(sums["weight"][j])),
            Transfer(DRAM, float(sums["weight_dram"][j])),
        )
        stream = (
            Transfer(f"iact{qi}", float(sums["iact"][j])),
            Transfer(DRAM, float(sums["iact_dram"][j])),
            Transfer(f"psum{qi}", float(sums["psum"][j])),
        )
        spill = (Transfer(DRAM, float(sums["out"][j])),)
        items.append(WorkItem(int(pe[i]), int(sums["cycles"][j]), fetch=fetch, stream=stream, spill=spill))
    return items


def _moved(items: list[WorkItem]) -> dict[str, float]:
    """Words (bytes for DRAM) each channel carries for `items`, a keyed delivery counted once."""
    out: dict[str, float] = {}
    seen: set[object] = set()
    for item in items:
        for t in item.transfers:
            if t.key is not None:
                if t.key in seen:
                    continue
                seen.add(t.key)
            out[t.channel] = out.get(t.channel, 0.0) + t.nbytes
    return out
