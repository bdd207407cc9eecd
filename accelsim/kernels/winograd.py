"""Winograd F(2x2,3x3) arithmetic and the phase cycles of one call of the fpga_caffe `winograd_pe` kernel.

The Sept-2016 kernel (REFERENCE §10.4) runs its phases one after another, never overlapped. One call
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
"""

from __future__ import annotations

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

MULTS_PER_TILE = 16
"""Element-wise multiplies of one F(2x2,3x3) tile: (m + r - 1)^2 = 4^2 (REFERENCE §10.3)."""

DIRECT_MACS_PER_TILE = 36
"""MACs direct convolution needs for the same 2x2 outputs: m^2 r^2 = 4 x 9."""

BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float32)
"""Input transform B^T of F(2x2,3x3) (`p_transform` of winograd_pe.c, REFERENCE §10.3)."""

G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float32)
"""Filter transform G (host-side `transform_weights`, REFERENCE §10.3)."""

AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float32)
"""Output transform A^T (`out_trans_p` / `out_trans_m`, REFERENCE §10.3)."""


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
    host tiling of REFERENCE §10.6; cout: output channels of the group; tiles: 4x4 tiles per MAC-loop
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
