"""Golden reference for the fpga_caffe Winograd kernel: one call played phase by phase, cycle by cycle.

Written for clarity, not speed. It follows the loop nest of `winograd_pe` ([FPGACAFFE16 winograd_pe.c]):
for each
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

from accelsim.kernels.winograd import AT, PHASES, transform_filters


@dataclass
class CallTrace:
    """What one call did: cycles per phase, DDR bytes, multiplies, and (if data was given) the output."""

    phase_cycles: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PHASES, 0))
    ddr_read_bytes: int = 0
    ddr_written_bytes: int = 0
    multiplies: int = 0
    """Multiplier slots driven: tiles x 16 per MAC-loop iteration."""
    fp_adds: int = 0
    """fp adds / subtracts the MAC loops' transforms and accumulation performed (when data was given)."""
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
                trace.tile_products += min(first + tiles, slots) - first
                if compute and u is not None:
                    _datapath(trace, padded, u[o, n * burst : (n + 1) * burst], sums, first, tiles, slots,
                              (ytile, xtile_pad, ydim, xdim))  # fmt: skip
            ph["merge"] += pipelined_loop_cycles(ytile * fact, fill)
            copy(psum_bytes, wide_port_bytes, "psum_write", read=False)
            if compute:
                ddr_sums[o] = sums[:ydim].copy()  # only ydim rows go back to DDR
    if compute:
        trace.output = np.stack([ddr_sums[o][:, :xdim] for o in range(cout)])  # host strips the padding
    return trace


class _Ops:
    """Counts the fp adds of the datapath's transforms as they are performed."""

    def __init__(self) -> None:
        self.adds = 0

    def p_transform(self, a: np.ndarray) -> np.ndarray:
        """`p_transform` of winograd_pe.c: (a0 - a2, a1 + a2, a2 - a1, a1 - a3) along the first axis."""
        self.adds += 4 * int(np.prod(a.shape[1:]))
        return np.stack([a[0] - a[2], a[1] + a[2], a[2] - a[1], a[1] - a[3]]).astype(np.float32)

    def out_transform(self, m: np.ndarray) -> np.ndarray:
        """(m0 + m1 + m2, m1 - m2 - m3) along the first axis (`out_trans_p`, `out_trans_m`)."""
        self.adds += 4 * int(np.prod(m.shape[1:]))
        return np.stack([m[0] + m[1] + m[2], m[1] - m[2] - m[3]]).astype(np.float32)


def _datapath(
    trace: CallTrace,
    padded: np.ndarray,
    u: np.ndarray,
    sums: np.ndarray,
    first: int,
    tiles: int,
    slots: int,
    shape: tuple[int, int, int, int],
) -> None:
    """One MAC-loop iteration as the datapath performs it: the column transform of each 2-column slice
    (neighbouring tiles of one row share a slice; a lane past the loop's end computes zeros), the row
    transform of each tile, 16 products with its pre-transformed filter, A^T m A and the accumulation."""
    ytile, xtile_pad, ydim, xdim = shape
    ops = _Ops()
    prev: tuple[int, int, int] | None = None
    right = np.zeros((4, 2), dtype=np.float32)
    for slot in range(first, first + tiles):
        real = slot < slots
        if real:
            c, rest = divmod(slot, ytile * xtile_pad)
            ty, tx = divmod(rest, xtile_pad)
            here = (c, ty, tx)
            d = padded[c, 2 * ty : 2 * ty + 4, 2 * tx : 2 * tx + 4]
        else:  # a lane past the loop's end continues the run on zeros
            here = (prev[0], prev[1], prev[2] + 1) if prev is not None else (0, 0, 0)
            d = np.zeros((4, 4), dtype=np.float32)
        shared = prev is not None and (prev[0], prev[1], prev[2] + 1) == here
        left = right if shared else ops.p_transform(d[:, :2])  # a new run computes its own left slice
        right = ops.p_transform(d[:, 2:])
        tile = ops.p_transform(np.concatenate([left, right], axis=1).T).T  # B^T d B
        prev = here
        filt = u[here[0]] if real else np.zeros((4, 4), dtype=np.float32)
        out = ops.out_transform(ops.out_transform(filt * tile).T).T  # A^T m A
        ops.adds += 4  # accumulate the tile's 4 outputs
        if not real:
            continue
        c, ty, tx = here
        sums[2 * ty : 2 * ty + 2, 2 * tx : 2 * tx + 2] += out
        used = _used_products(2 * ty, 2 * tx, ydim, xdim)
        trace.used_products += int(used.sum())
        trace.effectual_products += int((used & (filt != 0) & (tile != 0)).sum())
    trace.fp_adds += ops.adds


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
