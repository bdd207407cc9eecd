"""Read a SCALE-Sim topology `.csv` as a Network, with SCALE-Sim's conventions.

Conv rows: name, IFMAP H, IFMAP W, filter H, filter W, channels, filters, stride (trailing comma).
No padding and no groups; SCALE-Sim v3 counts a partial last window, out = ceil((H - R + s) / s),
which is modelled as zero padding after the input (`pad_end`). Rows whose name contains 'DP' are
depthwise and, as SCALE-Sim does, become one single-channel layer per channel named
'<name>Channel_<i>'. GEMM files (header 'Layer, M, N, K') become a conv of an M x K input with a
1 x K filter and N filters, as SCALE-Sim's `-i gemm` mode maps them. Consecutive layers need not
chain (SCALE-Sim files omit pooling).
"""

from __future__ import annotations

import logging
from pathlib import Path

from accelsim.config.text import read_text
from accelsim.errors import ConfigError, WorkloadError
from accelsim.workload.layer import Layer, LayerKind
from accelsim.workload.network import Network

log = logging.getLogger(__name__)

_CONV_FIELDS = (
    "IFMAP Height",
    "IFMAP Width",
    "Filter Height",
    "Filter Width",
    "Channels",
    "Num Filter",
    "Strides",
)


def load_scalesim_topology(path: Path) -> Network:
    """Parse a SCALE-Sim conv or GEMM topology file; errors name the file, line and column."""
    path = Path(path)
    text = read_text(path, "a SCALE-Sim topology (.csv text)")
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line]
    if not lines:
        raise ConfigError(f"{path}: empty topology file")
    header = [h.strip().lower() for h in lines[0][1].split(",") if h.strip()]
    gemm = header[1:4] == ["m", "n", "k"]
    layers: list[Layer] = []
    for lineno, line in lines[1:]:
        cells = [c.strip() for c in line.split(",")]
        if cells and cells[-1] == "":
            cells = cells[:-1]
        name = cells[0]
        values = _ints(path, lineno, cells[1:], 3 if gemm else 7, ("M", "N", "K") if gemm else _CONV_FIELDS)
        try:
            if gemm:
                m, n, k = values[:3]
                layers.append(Layer(name, LayerKind.CONV, h=m, w=k, c=1, k=n, r=1, s=k))
            elif "DP" in name:
                layers += [_conv(f"{name}Channel_{i}", values, channels=1) for i in range(values[4])]
            else:
                c, k = values[4], values[5]
                if k == 1 or c == 1:
                    log.warning(
                        "%s:%d: %s has %s=1; SCALE-Sim files often encode depthwise layers so",
                        path,
                        lineno,
                        name,
                        "filters" if k == 1 else "channels",
                    )
                layers.append(_conv(name, values, channels=c))
        except WorkloadError as e:
            raise ConfigError(f"{path}:{lineno}: {e}") from None
    if not layers:
        raise ConfigError(f"{path}: no layers after the header")
    return Network(
        name=path.stem, layers=tuple(layers), source=f"SCALE-Sim topology {path.name}", check_chain=False
    )


def scalesim_layer(name: str, h: int, w: int, r: int, s: int, c: int, k: int, stride: int) -> Layer:
    """One SCALE-Sim conv row (IFMAP H, W, filter H, W, channels, filters, stride) as a Layer."""
    end = _pad_end(h, w, r, s, stride)
    return Layer(name, LayerKind.CONV, h=h, w=w, c=c, k=k, r=r, s=s, stride=stride, pad_end=end)


def _conv(name: str, values: list[int], channels: int) -> Layer:
    h, w, r, s, _c, k, stride = values[:7]
    return scalesim_layer(name, h, w, r, s, channels, k, stride)


def _pad_end(h: int, w: int, r: int, s: int, stride: int) -> tuple[int, int]:
    """Zeros after the input that turn floor((H + e - R) / s) + 1 into SCALE-Sim's ceil((H - R + s) / s)."""

    def extra(size: int, kernel: int) -> int:
        return (-(size - kernel)) % stride if size >= kernel else 0

    return extra(h, r), extra(w, s)


def _ints(path: Path, lineno: int, cells: list[str], need: int, names: tuple[str, ...]) -> list[int]:
    if len(cells) < need:
        raise ConfigError(
            f"{path}:{lineno}: expected {need} numbers ({', '.join(names)}) after the layer name, "
            f"got {len(cells)}"
        )
    out = []
    for i, cell in enumerate(cells[:need]):
        try:
            value = int(cell)
        except ValueError:
            value = 0
        if value < 1:  # every column is a size, a count or a stride (a divisor): at least 1
            raise ConfigError(
                f"{path}:{lineno}: column {names[i]!r}: expected a positive integer, got {cell!r}"
            )
        out.append(value)
    return out
