"""Linear-time builders of SCNN's operand lists and compressed-format sizes ([SCNN17 §III]).

They walk the boolean masks once or twice in memory order (no transposes, no sorts), so the largest
tensors (VGG16 fc6: 10^8 weights) cost a fraction of a second. `accelsim.dataflows.scnn` decides what
the lists are; these functions only build them.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def bucket_order(key: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable counting sort: (CSR offsets of each key, permutation listing entries key by key)."""
    ptr = np.zeros(n_keys + 1, dtype=np.int64)
    for j in range(key.shape[0]):
        ptr[key[j] + 1] += 1
    for b in range(n_keys):
        ptr[b + 1] += ptr[b]
    cursor = ptr[:-1].copy()
    order = np.empty(key.shape[0], dtype=np.int64)
    for j in range(key.shape[0]):
        order[cursor[key[j]]] = j
        cursor[key[j]] += 1
    return ptr, order


WEIGHT_ORDERS = ("krs", "rsk")
"""How a group's weights are linearised, slowest index first: `krs` (s innermost, the paper's loop
nest `... Kc -> R -> S`, [SCNN17 §III]) or `rsk` (k innermost, DNNsim's loop, [DNNSIM20])."""


@njit(cache=True)
def weight_lists(
    wm: np.ndarray, k_per_group: int, kc: int, kc_blocks: int, stride: int, k_outer: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Non-zero weights per (weight group, input channel, stride phase).

    `wm` is the (k, c / groups, r, s) mask. A weight group is one Kc block of one convolution group
    ((k // k_per_group) * kc_blocks + (k % k_per_group) // kc); k is returned local to it.
    Each list is in (k, r, s) order when `k_outer` (walking the mask in memory order fills every
    list in that order), else in (r, s, k) order (a cursor per (r, s) slot of each list).
    Returns (ptr, k_local, r, s).
    """
    n_k, cg, n_r, n_s = wm.shape
    crs = cg * n_r * n_s
    n_wg = (n_k // k_per_group) * kc_blocks
    phases = stride * stride
    flat = wm.reshape(n_k * crs)
    cnt = np.zeros(n_wg * crs, dtype=np.int64)
    for k in range(n_k):
        base = ((k // k_per_group) * kc_blocks + (k % k_per_group) // kc) * crs
        off = k * crs
        for j in range(crs):
            if flat[off + j]:
                cnt[base + j] += 1
    ptr = np.zeros(n_wg * cg * phases + 1, dtype=np.int64)
    cursor = np.empty(n_wg * crs, dtype=np.int64)  # rsk: next slot of each (group, c, r, s)
    pos = 0
    for wg in range(n_wg):
        for c in range(cg):
            for ph in range(phases):
                for r in range(ph // stride, n_r, stride):
                    for s in range(ph % stride, n_s, stride):
                        j = ((wg * cg + c) * n_r + r) * n_s + s
                        cursor[j] = pos
                        pos += cnt[j]
                ptr[(wg * cg + c) * phases + ph + 1] = pos
    k_local = np.empty(pos, dtype=np.int64)
    rr = np.empty(pos, dtype=np.int64)
    ss = np.empty(pos, dtype=np.int64)
    list_next = ptr[:-1].copy()  # krs: next slot of each list, filled in memory order
    for k in range(n_k):
        base = ((k // k_per_group) * kc_blocks + (k % k_per_group) // kc) * crs
        kl = (k % k_per_group) % kc
        off = k * crs
        for j in range(crs):
            if flat[off + j]:
                r = (j // n_s) % n_r
                s = j % n_s
                if k_outer:
                    li = (base // crs * cg + j // (n_r * n_s)) * phases + (r % stride) * stride + s % stride
                    at = list_next[li]
                    list_next[li] += 1
                else:
                    at = cursor[base + j]
                    cursor[base + j] += 1
                k_local[at] = kl
                rr[at] = r
                ss[at] = s
    return ptr, k_local, rr, ss


@njit(cache=True)
def weight_zero_run_entries(
    wm: np.ndarray, k_per_group: int, kc: int, kc_blocks: int, max_run: int, k_outer: bool
) -> int:
    """Zero-run entries of the weights, compressed per (input channel, Kc block) in the list order.

    The same count as `kernels.scnn.zero_run_entries` on blocks (c, group, Kc block) with positions
    (k_local * R + r) * S + s when `k_outer` (krs), else (r * S + s) * Kc_here + k_local (rsk).
    krs: walking the mask in memory order visits each block's positions in increasing order.
    rsk: computed from each (block, r, s) segment's first and last non-zero and the gaps inside it.
    """
    n_k, cg, n_r, n_s = wm.shape
    rs_n = n_r * n_s
    crs = cg * rs_n
    groups = n_k // k_per_group
    flat = wm.reshape(n_k * crs)
    span = max_run + 1
    entries = 0
    if k_outer:
        prev = np.full(cg * groups * kc_blocks, -1, dtype=np.int64)
        for k in range(n_k):
            g = k // k_per_group
            kb = (k % k_per_group) // kc
            kl = (k % k_per_group) % kc
            off = k * crs
            for j in range(crs):
                if flat[off + j]:
                    blk = ((j // rs_n) * groups + g) * kc_blocks + kb
                    at = kl * rs_n + j % rs_n
                    entries += 1 + (at - prev[blk] - 1) // span
                    prev[blk] = at
        return entries
    n_seg = cg * groups * kc_blocks * rs_n
    first = np.full(n_seg, -1, dtype=np.int64)
    last = np.full(n_seg, -1, dtype=np.int64)
    for k in range(n_k):
        g = k // k_per_group
        kb = (k % k_per_group) // kc
        kl = (k % k_per_group) % kc
        off = k * crs
        for j in range(crs):
            if flat[off + j]:
                seg = (((j // rs_n) * groups + g) * kc_blocks + kb) * rs_n + j % rs_n
                if last[seg] >= 0:
                    entries += 1 + (kl - last[seg] - 1) // span
                else:
                    first[seg] = kl
                last[seg] = kl
    for blk in range(cg * groups * kc_blocks):
        kb = blk % kc_blocks
        kc_here = min(kc, k_per_group - kb * kc)
        prev_at = -1
        for rs in range(rs_n):
            seg = blk * rs_n + rs
            if first[seg] >= 0:
                entries += 1 + (rs * kc_here + first[seg] - prev_at - 1) // span
                prev_at = rs * kc_here + last[seg]
    return entries


@njit(cache=True)
def act_zero_run_entries(
    am: np.ndarray, block_of: np.ndarray, pos_of: np.ndarray, blocks: int, max_run: int
) -> int:
    """Zero-run entries of activations (c, h, w) compressed per (channel, block_of[y, x]).

    `pos_of[y, x]` is the position inside the block; it must grow in row-major order within a block.
    """
    n_c, n_h, n_w = am.shape
    last = np.full(n_c * blocks, -1, dtype=np.int64)
    span = max_run + 1
    entries = 0
    for c in range(n_c):
        for y in range(n_h):
            for x in range(n_w):
                if am[c, y, x]:
                    b = c * blocks + block_of[y, x]
                    entries += 1 + (pos_of[y, x] - last[b] - 1) // span
                    last[b] = pos_of[y, x]
    return entries
