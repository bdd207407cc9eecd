"""Winograd F(2x2,3x3) arithmetic and the phase cycles of one call of the fpga_caffe `winograd_pe` kernel.

The Sept-2016 kernel ([FPGACAFFE16 winograd_pe.c]) runs its phases one after another, never overlapped.
One call
handles one (image, group); for each input-channel burst n < rpo it reads and tiles `rburst` input
rows, then for each output channel loads `burstchannels` transformed filters, initialises (n = 0) or
reads back (n > 0) the partial sums, runs the multiply-accumulate loop of
ceil(burstchannels * ytile * xtile_pad / tiles) iterations (one iteration = `tiles` horizontally adjacent
4x4 tiles of one channel, 16 multiplies each), merges the two output half-buffers and writes the
partial sums back to DDR.

A DDR transfer (`memcpy`) of B bytes takes `setup + max(ceil(B / port_bytes), ceil(B / ddr))` cycles:
one port word per cycle unless the DDR share of this compute unit is slower. The DDR share is given in
milli-bytes per cycle (an integer, 0 = unlimited) so that the count is exact. A pipelined loop of N
iterations takes `fill + N` cycles (II = 1). The golden reference in
`accelsim.kernels.reference.winograd` steps the same call cycle by cycle.

For the slot partition, `used_products` and `effectual_products` count the Winograd-domain products
a layer needs: those that feed a real output (A^T takes product rows 0-2 into output row 0 and rows
1-3 into output row 1, so a tile whose second output row or column falls outside the map leaves a
row or column of its products unused), and of those the ones whose transformed operands are both
non-zero: B^T d B and G g G^T mix fixed taps of the input tile and filter, so a transformed element
is zero exactly when every element it mixes is zero (for real-valued data, short of exact cancellation).
"""

from __future__ import annotations

from functools import reduce

import numpy as np
from numba import njit

PHASES = (
    "bias_load",
    "input_read",
    "tiling",
    "weight_load",
    "bias_init",
    "psum_read",
    "psum_unpack",
    "mac",
    "merge",
    "psum_write",
)
"""Phase names, in the order of the arrays `call_phase_cycles` returns."""

TRANSFER_PHASES = ("bias_load", "input_read", "weight_load", "psum_read", "psum_write")
"""The DDR memcpy phases of PHASES: the compute unit waits for data."""

MULTS_PER_TILE = 16
"""Element-wise multiplies of one F(2x2,3x3) tile: (m + r - 1)^2 = 4^2 ([FPGACAFFE16 winograd_pe.c])."""

DIRECT_MACS_PER_TILE = 36
"""MACs direct convolution needs for the same 2x2 outputs: m^2 r^2 = 4 x 9."""

SLICE_ADDS = 8
"""fp adds of the column transform of one 2-column input slice: `p_transform` (4 add / sub) on each of its
two columns of 4 rows; t horizontally adjacent tiles share t + 1 slices (`winograd_pe.c` @ 6db208db)."""

TILE_ADDS = 16 + 24 + 4
"""fp adds per tile after its slices: the row transform (4 `p_transform`s of 4 add / sub), the output
transform A^T m A (16 + 8 add / sub: `ot_s1`, then `ot_l` / `ot_u`) and the accumulation of its 4 outputs
(`winograd_pe.c` @ 6db208db: 104 + 96 + 16 adds per 4-tile iteration)."""

BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float32)
"""Input transform B^T of F(2x2,3x3) (`p_transform` of winograd_pe.c, [FPGACAFFE16 winograd_pe.c])."""

G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float32)
"""Filter transform G (host-side `transform_weights`, [FPGACAFFE16 winograd_pe.c])."""

AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float32)
"""Output transform A^T (`out_trans_p` / `out_trans_m`, [FPGACAFFE16 winograd_pe.c])."""

INPUT_TAPS = tuple(tuple(int(a) for a in np.flatnonzero(row)) for row in BT)
"""Rows (and columns) of a 4x4 input tile that row (column) i of B^T d B mixes."""

FILTER_TAPS = tuple(tuple(int(a) for a in np.flatnonzero(row)) for row in G)
"""Rows (and columns) of a 3x3 filter that row (column) i of G g G^T mixes."""


def transform_filters(w: np.ndarray) -> np.ndarray:
    """G g G^T for every (k, c) filter of `w` (k, c, 3, 3): the host's pre-transform, fp32 (k, c, 4, 4)."""
    return np.einsum("ij,kcjl,ml->kcim", G, w.astype(np.float32), G).astype(np.float32)


def transform_input_tile(d: np.ndarray) -> np.ndarray:
    """B^T d B of one 4x4 input tile (or a stack of them in the last two axes), fp32."""
    return (BT @ d.astype(np.float32) @ BT.T).astype(np.float32)


def transform_output_tile(m: np.ndarray) -> np.ndarray:
    """A^T m A of one 4x4 element-wise product (or a stack), giving the 2x2 outputs, fp32."""
    return (AT @ m.astype(np.float32) @ AT.T).astype(np.float32)


def winograd_conv2d(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """3x3, stride-1, pad-1 convolution of `x` (c, h, w) with `w` (k, c, 3, 3) by F(2x2,3x3), in fp32.

    Vectorised over all tiles: the numeric result the engine computes (up to fp32 summation order).
    """
    c, h, wd = x.shape
    ty, tx = (h + 1) // 2, (wd + 1) // 2
    padded = np.zeros((c, 2 * ty + 2, 2 * tx + 2), dtype=np.float32)
    padded[:, 1 : h + 1, 1 : wd + 1] = x
    rows = np.arange(ty)[:, None, None, None] * 2 + np.arange(4)[None, None, :, None]
    cols = np.arange(tx)[None, :, None, None] * 2 + np.arange(4)[None, None, None, :]
    tiles = padded[:, rows, cols]  # (c, ty, tx, 4, 4), overlapping by 2
    v = transform_input_tile(tiles)
    u = transform_filters(w)
    m = np.einsum("kcij,cyxij->kyxij", u, v, dtype=np.float32)
    y = transform_output_tile(m)  # (k, ty, tx, 2, 2)
    out = y.transpose(0, 1, 3, 2, 4).reshape(w.shape[0], 2 * ty, 2 * tx)
    return out[:, :h, :wd]


def used_products(ydim: int, xdim: int) -> int:
    """Products of one (output channel, input channel) pair that feed a real output of a ydim x xdim
    map: per tile row 4 product rows, 3 in the last tile row of an odd map; columns alike."""
    rows = 4 * ((ydim + 1) // 2) - ydim % 2
    cols = 4 * ((xdim + 1) // 2) - xdim % 2
    return rows * cols


def effectual_products(act: np.ndarray, wt: np.ndarray, groups: int) -> int:
    """Products that feed a real output with both transformed operands non-zero, of a 3x3 stride-1
    pad-1 convolution of the non-zero masks `act` (C, H, W) and `wt` (K, C / groups, 3, 3)."""
    tiles = _input_nonzeros(act).reshape(groups, -1, 4, 4)
    return int((tiles * _filter_nonzeros(wt, groups)).sum())


def _any(parts: list[np.ndarray]) -> np.ndarray:
    """Element-wise OR of equally shaped boolean arrays (a new array)."""
    if len(parts) == 1:
        return parts[0].copy()
    return reduce(np.logical_or, parts[2:], np.logical_or(parts[0], parts[1]))


def _input_nonzeros(act: np.ndarray) -> np.ndarray:
    """int64 (C, 4, 4): per input channel, the tiles whose transformed element (i, j) is non-zero and
    used by a real output (row / column 3 of the last tile of an odd map is not).

    Tile (y, x) covers padded rows 2y..2y+3 and columns 2x..2x+3 (the map at rows and columns 1..);
    the padded map is kept as its even and odd columns, so that column tap b of every tile is one
    contiguous slice."""
    c, h, w = act.shape
    ty, tx = (h + 1) // 2, (w + 1) // 2
    halves = (np.zeros((c, 2 * ty + 2, tx + 1), dtype=bool), np.zeros((c, 2 * ty + 2, tx + 1), dtype=bool))
    odd, even = act[:, :, 1::2], act[:, :, 0::2]  # padded column 2m is map column 2m - 1
    halves[0][:, 1 : h + 1, 1 : 1 + odd.shape[2]] = odd
    halves[1][:, 1 : h + 1, : even.shape[2]] = even
    rows: dict[tuple[tuple[int, ...], bool], tuple[np.ndarray, ...]] = {}  # (taps, last row unused)
    counts: dict[tuple[tuple[tuple[int, ...], bool], tuple[tuple[int, ...], bool]], np.ndarray] = {}
    out = np.empty((c, 4, 4), dtype=np.int64)
    for i, row_taps in enumerate(INPUT_TAPS):
        row_key = (row_taps, i == 3 and h % 2 == 1)
        if row_key not in rows:
            rows[row_key] = tuple(_any([half[:, a : a + 2 * ty : 2] for a in row_taps]) for half in halves)
            if row_key[1]:
                for half in rows[row_key]:
                    half[:, -1] = False
        for j, col_taps in enumerate(INPUT_TAPS):
            col_key = (col_taps, j == 3 and w % 2 == 1)
            if (row_key, col_key) not in counts:
                v = _any([rows[row_key][b % 2][:, :, b // 2 : b // 2 + tx] for b in col_taps])  # (c, ty, tx)
                if col_key[1]:
                    v[:, :, -1] = False
                bits = np.packbits(v.reshape(c, -1), axis=1)
                counts[row_key, col_key] = np.bitwise_count(bits).sum(axis=1, dtype=np.int64)
            out[:, i, j] = counts[row_key, col_key]
    return out


def _filter_nonzeros(wt: np.ndarray, groups: int) -> np.ndarray:
    """int64 (groups, C', 4, 4): per group and input channel, the filters whose transformed element
    (i, j) of G g G^T is non-zero."""
    k, cg = wt.shape[:2]
    taps_first = np.ascontiguousarray(wt.transpose(2, 3, 0, 1))  # (3, 3, K, C')
    rows = {taps: _any([taps_first[a] for a in taps]) for taps in set(FILTER_TAPS)}  # (3, K, C')
    counts: dict[tuple[tuple[int, ...], tuple[int, ...]], np.ndarray] = {}
    out = np.empty((groups, cg, 4, 4), dtype=np.int64)
    for i, row_taps in enumerate(FILTER_TAPS):
        for j, col_taps in enumerate(FILTER_TAPS):
            if (row_taps, col_taps) not in counts:
                u = _any([rows[row_taps][b] for b in col_taps])  # (K, C')
                counts[row_taps, col_taps] = u.reshape(groups, k // groups, cg).sum(axis=1, dtype=np.int64)
            out[:, :, i, j] = counts[row_taps, col_taps]
    return out


@njit(cache=True)
def _transfer_cycles(nbytes: int, port_bytes: int, ddr_milli: int, setup: int) -> int:
    # ceil(nbytes / port_bytes) at the port, ceil(1000 nbytes / ddr_milli) at the DDR share.
    port = (nbytes + port_bytes - 1) // port_bytes
    if ddr_milli > 0:
        ddr = (1000 * nbytes + ddr_milli - 1) // ddr_milli
        if ddr > port:
            port = ddr
    return setup + port


@njit(cache=True)
def call_phase_cycles(
    ydim: int,
    xdim: int,
    ytile: int,
    xtile_pad: int,
    burst: int,
    rpo: int,
    cout: int,
    tiles: int,
    setup: int,
    fill: int,
    in_port_bytes: int,
    wide_port_bytes: int,
    ddr_milli: int,
) -> np.ndarray:
    """Cycles of each phase (PHASES order) of one kernel call: one image, one group, all bursts.

    ydim, xdim: output (= input) rows and columns; ytile, xtile_pad, burst (burstchannels), rpo: the
    host tiling [FPGACAFFE16]; cout: output channels of the group; tiles: 4x4 tiles per MAC-loop
    iteration; setup: cycles added to every memcpy; fill: cycles added to every pipelined loop;
    in_port_bytes: width of the fp32 input / bias ports; wide_port_bytes: width of the `float16`
    weight / output ports; ddr_milli: DDR bytes per 1000 cycles available to this unit (0 = unlimited).
    """
    out = np.zeros(len(PHASES), dtype=np.int64)
    fact = xtile_pad // 8
    rburst = ydim * burst
    psum_bytes = fact * ydim * 64  # fact * ydim float16 words
    mac_iters = (burst * ytile * xtile_pad + tiles - 1) // tiles
    out[0] = _transfer_cycles(4 * cout, in_port_bytes, ddr_milli, setup)
    out[1] = rpo * rburst * _transfer_cycles(4 * xdim, in_port_bytes, ddr_milli, setup)
    out[2] = rpo * rburst * (fill + xtile_pad)
    out[3] = rpo * cout * _transfer_cycles(64 * burst, wide_port_bytes, ddr_milli, setup)
    out[4] = cout * (fill + ytile * fact)
    out[5] = (rpo - 1) * cout * _transfer_cycles(psum_bytes, wide_port_bytes, ddr_milli, setup)
    out[6] = (rpo - 1) * cout * (fill + ytile * fact)
    out[7] = rpo * cout * (fill + mac_iters)
    out[8] = rpo * cout * (fill + ytile * fact)
    out[9] = rpo * cout * _transfer_cycles(psum_bytes, wide_port_bytes, ddr_milli, setup)
    return out


@njit(cache=True)
def call_ddr_bytes(ydim: int, xdim: int, xtile_pad: int, burst: int, rpo: int, cout: int) -> np.ndarray:
    """DDR bytes of one call: [read, written] (read: biases, input rows, filters, partial sums)."""
    fact = xtile_pad // 8
    psum_bytes = fact * ydim * 64
    read = 4 * cout + rpo * ydim * burst * 4 * xdim + rpo * cout * 64 * burst + (rpo - 1) * cout * psum_bytes
    written = rpo * cout * psum_bytes
    out = np.zeros(2, dtype=np.int64)
    out[0] = read
    out[1] = written
    return out


@njit(cache=True)
def call_multiplies(ytile: int, xtile_pad: int, burst: int, rpo: int, cout: int, tiles: int) -> int:
    """fp32 multiplies one call issues: every MAC-loop iteration drives tiles x 16 multipliers."""
    mac_iters = (burst * ytile * xtile_pad + tiles - 1) // tiles
    return rpo * cout * mac_iters * tiles * 16


@njit(cache=True)
def call_fp_adds(ytile: int, xtile_pad: int, burst: int, rpo: int, cout: int, tiles: int) -> int:
    """fp32 adds / subtracts one call's MAC loops perform (padded tiles and empty lanes included): per
    iteration t tiles' shared t + 1 slices and their TILE_ADDS each; a group of tiles that runs over the
    end of a tile row starts a new run of slices (one more slice), which only a `tiles` that does not
    divide xtile_pad (never the as-built 4) causes."""
    rows = burst * ytile  # rows of tile slots, xtile_pad slots each, in loop order
    restarts = 0
    for b in range(1, rows):
        if (b * xtile_pad) % tiles != 0:
            restarts += 1
    mac_iters = (rows * xtile_pad + tiles - 1) // tiles
    per_loop = mac_iters * (SLICE_ADDS * (tiles + 1) + TILE_ADDS * tiles) + SLICE_ADDS * restarts
    return rpo * cout * per_loop
