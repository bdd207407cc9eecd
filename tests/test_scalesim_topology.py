"""SCALE-Sim topology files are read with SCALE-Sim's conventions (no padding, DP split, GEMM)."""

from __future__ import annotations

import pytest

from accelsim.errors import ConfigError
from accelsim.workload.scalesim_csv import load_scalesim_topology

HEADER = (
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
)


def test_conv_rows_have_no_padding(tmp_path):
    path = tmp_path / "net.csv"
    path.write_text(HEADER + "Conv1, 224, 224, 11, 11, 3, 96, 4,\nConv2, 27, 27, 5, 5, 96, 256, 1,\n")
    net = load_scalesim_topology(path)
    conv1, conv2 = net.layers
    # SCALE-Sim v3 (topology_utils.py) counts a partial last window: ceil((224 - 11 + 4) / 4) = 55
    # (v2's floor gave 54, [SCALESIM20]); conv2 has no padding: 27 - 5 + 1 = 23 (Caffe pads: 27).
    assert (conv1.out_h, conv1.out_w, conv1.pad_end) == (55, 55, (3, 3))
    assert (conv2.out_h, conv2.pad, conv2.pad_end, conv2.groups) == (23, 0, (0, 0), 1)
    assert net.name == "net"


def test_depthwise_rows_split_per_channel_like_scalesim(tmp_path):
    path = tmp_path / "dw.csv"
    path.write_text(HEADER + "DP_conv, 8, 8, 3, 3, 4, 1, 1,\n")
    layers = load_scalesim_topology(path).layers
    assert [x.name for x in layers] == [f"DP_convChannel_{i}" for i in range(4)]
    assert all(x.c == 1 and x.k == 1 for x in layers)


def test_gemm_rows_map_as_scalesim_gemm_mode(tmp_path):
    path = tmp_path / "gemm.csv"
    path.write_text("Layer,M,N,K,\nL0,196,192,384,\n")
    (layer,) = load_scalesim_topology(path).layers
    assert (layer.out_h * layer.out_w, layer.k, layer.r * layer.s * layer.c) == (196, 192, 384)
    assert layer.macs == 196 * 192 * 384


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Conv1, 224, 224, 11,\n", ":2: expected 7 numbers"),
        ("Conv1, 224, x, 11, 11, 3, 96, 4,\n", ":2: column 'IFMAP Width': expected a positive integer"),
        ("Conv1, 8, 8, 3, 3, 5, 7, 0,\n", ":2: column 'Strides': expected a positive integer, got '0'"),
        ("Conv1, 8, 8, 3, 3, -5, 7, 1,\n", ":2: column 'Channels': expected a positive integer, got '-5'"),
        ("Conv1, 5, 5, 7, 7, 3, 96, 1,\n", ":2: layer 'Conv1': kernel 7x7 is larger than the padded input"),
        ("", "no layers"),
    ],
)
def test_malformed_topology(tmp_path, body, message):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + body)
    with pytest.raises(ConfigError) as e:
        load_scalesim_topology(path)
    assert message in str(e.value)
    assert str(path) in str(e.value)


def test_binary_file_is_named_not_a_traceback(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(HEADER.encode() + b"Conv1, 8, \xff\xfe, 3,\n")
    with pytest.raises(ConfigError, match=r"t\.csv: not a text file .*expected a SCALE-Sim topology"):
        load_scalesim_topology(path)


def test_missing_and_empty_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_scalesim_topology(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ConfigError, match="empty"):
        load_scalesim_topology(tmp_path / "empty.csv")
