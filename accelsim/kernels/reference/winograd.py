"""Golden reference for the fpga_caffe Winograd kernel: one call played phase by phase, cycle by cycle.

Written for clarity, not speed. It follows the loop nest of `winograd_pe` (REFERENCE §10.4): for each
input-channel burst, read and tile the input rows; for each output channel, load the filters, set up
the partial sums (bias on the first burst, read back from DDR afterwards), run the multiply-accumulate
loop tile group by tile group, merge and write the partial sums back to DDR. Each memcpy moves its
bytes one cycle at a time, limited by the port width and by the DDR credit accrued so far; each
pipelined loop spends `fill` cycles and then one cycle per iteration.

Given input and weight arrays it also computes the numbers: every 4x4 tile is transformed,
multiplied element-wise with the pre-transformed filter and transformed back, and the partial sums
live in a simulated DDR between bursts, exactly as the hardware round-trips them. `direct_conv2d` is
the plain direct convolution the result is held against. It also counts, product by product, those
that feed a real output (through A^T into an output inside the map) and, of these, those whose two
transformed operands are non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accelsim.kernels.winograd import (
    AT,
    PHASES,
    transform_filters,
    transform_input_tile,
    transform_output_tile,
)


@dataclass
class CallTrace:
    """What one call did: cycles per phase, DDR bytes, multiplies, and (if data was given) the output."""

    phase_cycles: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PHASES, 0))
    ddr_read_bytes: int = 0
    ddr_written_bytes: int = 0
    multiplies: int = 0
    """Multiplier slots driven: tiles x 16 per MAC-loop iteration."""
    tile_products: int = 0
    """4x4 element-wise products of real tiles (16 multiplies each)."""
    used_products: int = 0
    """Multiplies whose product reaches an output inside the map (when data was given)."""
    effectual_products: int = 0
    """Of those, the ones with both transformed operands non-zero (when data was given)."""
    output: np.ndarray | None = None
    """(cout, ydim, xdim) result with the host's padding stripped, when data was given."""

    @property
    def cycles(self) -> int:
        """All phases back to back (nothing overlaps)."""
        return sum(self.phase_cycles.values())


def memcpy_cycles(nbytes: int, port_bytes: int, ddr_milli: int, setup: int) -> int:
    """Step a transfer cycle by cycle: each cycle moves up to a port word, never beyond the DDR credit."""
    moved = 0
    cycle = 0
    while moved < nbytes:
        cycle += 1
        limit = cycle * port_bytes
        if ddr_milli > 0:
            limit = min(limit, cycle * ddr_milli // 1000)
        moved = min(nbytes, limit)
    return setup + cycle


def pipelined_loop_cycles(iterations: int, fill: int) -> int:
    """A loop pipelined at II = 1: `fill` cycles, then one per iteration."""
    cycles = fill
    for _ in range(iterations):
        cycles += 1
    return cycles


def run_call(
    ydim: int,
    xdim: int,
    ytile: int,
    xtile_pad: int,
    burst: int,
    rpo: int,
    cout: int,
    tiles: int,
    setup: int = 0,
    fill: int = 0,
    in_port_bytes: int = 4,
    wide_port_bytes: int = 64,
    ddr_milli: int = 0,
    x: np.ndarray | None = None,
    w: np.ndarray | None = None,
) -> CallTrace:
    """Play one call (one image, one group).

    `x` (burst * rpo, ydim, xdim) and `w` (cout, cin, 3, 3) are optional; given both, the call computes.
    """
    trace = CallTrace()
    ph = trace.phase_cycles
    fact = xtile_pad // 8
    psum_bytes = fact * ydim * 64
    u = transform_filters(w) if w is not None else None  # the host's filter pre-transform
    compute = x is not None and u is not None
    ddr_sums: dict[int, np.ndarray] = {}  # output channel -> partial sums in DDR (ydim rows, padded width)
    padded = np.zeros((0, 0, 0), dtype=np.float32)

    def copy(nbytes: int, port: int, phase: str, read: bool) -> None:
        ph[phase] += memcpy_cycles(nbytes, port, ddr_milli, setup)
        if read:
            trace.ddr_read_bytes += nbytes
        else:
            trace.ddr_written_bytes += nbytes

    copy(4 * cout, in_port_bytes, "bias_load", read=True)
    for n in range(rpo):
        for _row in range(ydim * burst):  # IREADLOOP: one input row, then scatter it into tiles
            copy(4 * xdim, in_port_bytes, "input_read", read=True)
            ph["tiling"] += pipelined_loop_cycles(xtile_pad, fill)
        if compute and x is not None:
            chans = x[n * burst : (n + 1) * burst].astype(np.float32)
            padded = np.zeros((burst, 2 * ytile + 2, 2 * xtile_pad + 2), dtype=np.float32)
            padded[:, 1 : ydim + 1, 1 : xdim + 1] = chans  # line[0] = 0 and zeroed right edge
        for o in range(cout):
            copy(64 * burst, wide_port_bytes, "weight_load", read=True)
            sums = np.zeros((2 * ytile, 2 * xtile_pad), dtype=np.float32)
            if n == 0:
                ph["bias_init"] += pipelined_loop_cycles(ytile * fact, fill)  # bias 0 in the numbers
            else:
                copy(psum_bytes, wide_port_bytes, "psum_read", read=True)
                ph["psum_unpack"] += pipelined_loop_cycles(ytile * fact, fill)
                if compute:
                    sums[:ydim] = ddr_sums[o]
            slots = burst * ytile * xtile_pad  # (channel, tile row, tile column) in loop order
            ph["mac"] += fill
            for first in range(0, slots, tiles):  # MULTACCSTAGE: one iteration per group of tiles
                ph["mac"] += 1
                trace.multiplies += tiles * 16
                for slot in range(first, min(first + tiles, slots)):
                    trace.tile_products += 1
                    if compute and u is not None:
                        c, rest = divmod(slot, ytile * xtile_pad)
                        ty, tx = divmod(rest, xtile_pad)
                        d = padded[c, 2 * ty : 2 * ty + 4, 2 * tx : 2 * tx + 4]
                        filt, tile = u[o, n * burst + c], transform_input_tile(d)
                        prod = filt * tile
                        sums[2 * ty : 2 * ty + 2, 2 * tx : 2 * tx + 2] += transform_output_tile(prod)
                        used = _used_products(2 * ty, 2 * tx, ydim, xdim)
                        trace.used_products += int(used.sum())
                        trace.effectual_products += int((used & (filt != 0) & (tile != 0)).sum())
            ph["merge"] += pipelined_loop_cycles(ytile * fact, fill)
            copy(psum_bytes, wide_port_bytes, "psum_write", read=False)
            if compute:
                ddr_sums[o] = sums[:ydim].copy()  # only ydim rows go back to DDR
    if compute:
        trace.output = np.stack([ddr_sums[o][:, :xdim] for o in range(cout)])  # host strips the padding
    return trace


def _used_products(y0: int, x0: int, ydim: int, xdim: int) -> np.ndarray:
    """4x4 mask of the products of the tile whose outputs start at (y0, x0) that some output inside
    the ydim x xdim map takes through A^T (output (a, b) = sum of AT[a, i] AT[b, j] m[i, j])."""
    used = np.zeros((4, 4), dtype=bool)
    for a in range(2):
        for b in range(2):
            if y0 + a < ydim and x0 + b < xdim:
                used |= np.outer(AT[a] != 0, AT[b] != 0)
    return used


def direct_conv2d(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Direct 3x3, stride-1, pad-1 convolution in float64: sum over c, r, s of w * shifted x."""
    c, h, wd = x.shape
    padded = np.zeros((c, h + 2, wd + 2))
    padded[:, 1 : h + 1, 1 : wd + 1] = x
    out = np.zeros((w.shape[0], h, wd))
    for k in range(w.shape[0]):
        for ci in range(c):
            for r in range(3):
                for s in range(3):
                    out[k] += w[k, ci, r, s] * padded[ci, r : r + h, s : s + wd]
    return out
