"""Exact cycles and action counts of SCNN's PEs on a whole layer (PT-IS-CP, REFERENCE §6.2-§6.3).

A PE holds, per input channel, the non-zero activations of its tile (split by stride phase) and
receives the non-zero weights of one output-channel group (same phase). It takes I activations and
F weights at a time and forms all F x I products in one step; products whose output falls outside
the group's window are discarded, the rest scatter through the crossbar into `banks` accumulator
banks, each accepting one product per cycle. A step therefore lasts max(1, most products in one
bank) cycles (the bank conflicts), and half-empty vectors leave multipliers idle (fragmentation).

Operands come as CSR lists (plain arrays) built by `accelsim.dataflows.scnn`:
activations indexed ((band * C + c) * P + pe) * PH + phase, weights ((wgroup * CG) + c) * PH + phase.
The golden reference stepping every PE cycle by cycle is `accelsim.kernels.reference.scnn`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

STAT_ISSUED = 0
"""Products formed by the multipliers (both operands non-zero, same phase)."""
STAT_VALID = 1
"""Products landing inside the output window: accumulator updates."""
STAT_STEPS = 2
"""Cartesian-product steps (one F-vector x one I-vector)."""
STAT_CONFLICT = 3
"""Extra cycles spent by steps waiting for a busy accumulator bank."""
STAT_ACT_READS = 4
"""Activations read from the IARAM (each held while all the group's weights stream past)."""
STAT_WEIGHT_READS = 5
"""Weights read from the weight FIFO (each F-vector re-read for every I-vector)."""
N_STATS = 6


def dnnsim_bank(k: int, x: int, y: int, banks: int) -> int:
    """DNNsim's accumulator hash of output (k, x, y) (REFERENCE §6.6, isakedo/DNNsim SCNN.cpp)."""
    return (
        (((k & 4) << 2) ^ ((x & 2) << 3) ^ ((y & 2) << 3)) + ((x & 1) << 3) + ((y & 1) << 2) + (k & 3)
    ) % banks


def bank_table(banks: int) -> np.ndarray:
    """int64[128]: the bank of (k mod 8, x mod 4, y mod 4) at index (k & 7) * 16 + (x & 3) * 4 + (y & 3).

    DNNsim's hash reads only those bits of k, x and y, so the table is exact for every output.
    """
    out = np.empty(128, dtype=np.int64)
    for k in range(8):
        for x in range(4):
            for y in range(4):
                out[k * 16 + x * 4 + y] = dnnsim_bank(k, x, y, banks)
    return out


@njit(cache=True)
def _pe_step_cycles(
    a_x: np.ndarray,
    a_y: np.ndarray,
    a0: int,
    a1: int,
    w_k: np.ndarray,
    w_r: np.ndarray,
    w_s: np.ndarray,
    w0: int,
    w1: int,
    stride: int,
    oy0: int,
    oy1: int,
    out_w: int,
    f: int,
    i: int,
    table: np.ndarray,
    conflicts: bool,
    hits: np.ndarray,
    stats: np.ndarray,
) -> int:
    """Cycles of one activation list x one weight list on one PE (bank ids must be < 64)."""
    cycles = 0
    valid = 0
    weight_reads = 0
    for ia in range(a0, a1, i):
        ia1 = min(ia + i, a1)
        for fw in range(w0, w1, f):
            fw1 = min(fw + f, w1)
            occupied = 0  # bit b: bank b took a product this step
            clashed = 0  # bit b: bank b took two or more
            most = 1
            for q in range(fw, fw1):
                k7 = (w_k[q] & 7) * 16
                r = w_r[q]
                s = w_s[q]
                for t in range(ia, ia1):
                    if stride == 1:
                        oy = a_y[t] - r
                        ox = a_x[t] - s
                    else:
                        oy = (a_y[t] - r) // stride
                        ox = (a_x[t] - s) // stride
                    if oy < oy0 or oy >= oy1 or ox < 0 or ox >= out_w:
                        continue
                    valid += 1
                    if conflicts:
                        b = table[k7 + (ox & 3) * 4 + (oy & 3)]
                        bit = np.int64(1) << b
                        if occupied & bit:  # rare: count this bank's queue
                            if not clashed & bit:
                                clashed |= bit
                                hits[b] = 1
                            hits[b] += 1
                            if hits[b] > most:
                                most = hits[b]
                        else:
                            occupied |= bit
            cycles += most
            weight_reads += fw1 - fw
    n_a = a1 - a0
    n_w = w1 - w0
    steps = ((n_a + i - 1) // i) * ((n_w + f - 1) // f)
    stats[STAT_VALID] += valid
    stats[STAT_CONFLICT] += cycles - steps
    stats[STAT_WEIGHT_READS] += weight_reads
    stats[STAT_ISSUED] += n_a * n_w
    stats[STAT_STEPS] += steps
    stats[STAT_ACT_READS] += n_a
    return cycles


@njit(cache=True)
def planar_layer(
    a_ptr: np.ndarray,
    a_x: np.ndarray,
    a_y: np.ndarray,
    w_ptr: np.ndarray,
    w_k: np.ndarray,
    w_r: np.ndarray,
    w_s: np.ndarray,
    og_band: np.ndarray,
    og_wgroup: np.ndarray,
    og_chan0: np.ndarray,
    og_oy0: np.ndarray,
    og_oy1: np.ndarray,
    channels: int,
    chans_per_group: int,
    pes: int,
    phases: int,
    stride: int,
    out_w: int,
    f: int,
    i: int,
    table: np.ndarray,
    conflicts: bool,
    products: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every PE of every output-channel group of a layer.

    Returns (busy int64[groups, pes]: compute cycles of each PE in each group; strict int64[groups]:
    the group's cycles under a barrier after every input channel; stats int64[N_STATS]).
    With `products` false no product is examined: each step costs one cycle (a dense array with a
    conflict-free accumulator) and STAT_VALID stays 0.
    """
    n_og = og_band.shape[0]
    busy = np.zeros((n_og, pes), dtype=np.int64)
    strict = np.zeros(n_og, dtype=np.int64)
    stats = np.zeros(N_STATS, dtype=np.int64)
    hits = np.zeros(64, dtype=np.int64)
    for g in range(n_og):
        band = og_band[g]
        wg = og_wgroup[g]
        for cl in range(chans_per_group):
            c = og_chan0[g] + cl
            widest = 0
            for p in range(pes):
                pe_cycles = 0
                for ph in range(phases):
                    wi = (wg * chans_per_group + cl) * phases + ph
                    w0 = w_ptr[wi]
                    w1 = w_ptr[wi + 1]
                    if w1 == w0:
                        continue
                    ai = ((band * channels + c) * pes + p) * phases + ph
                    a0 = a_ptr[ai]
                    a1 = a_ptr[ai + 1]
                    if a1 == a0:
                        continue
                    if products:
                        cyc = _pe_step_cycles(
                            a_x, a_y, a0, a1, w_k, w_r, w_s, w0, w1, stride,
                            og_oy0[g], og_oy1[g], out_w, f, i, table, conflicts, hits, stats,
                        )  # fmt: skip
                    else:
                        n_a = a1 - a0
                        n_w = w1 - w0
                        steps_a = (n_a + i - 1) // i
                        steps_w = (n_w + f - 1) // f
                        cyc = steps_a * steps_w
                        stats[STAT_ISSUED] += n_a * n_w
                        stats[STAT_STEPS] += cyc
                        stats[STAT_ACT_READS] += n_a
                        stats[STAT_WEIGHT_READS] += steps_a * n_w
                    pe_cycles += cyc
                busy[g, p] += pe_cycles
                if pe_cycles > widest:
                    widest = pe_cycles
            strict[g] += widest
    return busy, strict, stats


@njit(cache=True)
def zero_run_entries(block: np.ndarray, pos: np.ndarray, max_run: int) -> int:
    """Entries of the zero-run-length format: non-zeros plus placeholder zeros for long runs.

    `block` and `pos` give each non-zero's block and position inside it, sorted by (block, pos).
    Each entry carries an index of up to `max_run` preceding zeros; a longer run inserts a zero
    placeholder every max_run + 1 positions (REFERENCE §6.2). Trailing zeros of a block cost nothing.
    """
    entries = 0
    prev_block = -1
    prev_pos = -1
    for j in range(block.shape[0]):
        if block[j] != prev_block:
            prev_block = block[j]
            prev_pos = -1
        gap = pos[j] - prev_pos - 1
        entries += 1 + gap // (max_run + 1)
        prev_pos = pos[j]
    return entries
