"""Spec of The FPGA Winograd F(2x2,3x3) convolution engine with CPU fallback (issue 9)."""

from __future__ import annotations

from typing import Literal

from accelsim.config.arch.common import CommonSpec


class WinogradFpgaSpec(CommonSpec):
    """Placeholder until the model lands: only the common sections."""

    kind: Literal["winograd_fpga"]


SPECS = (WinogradFpgaSpec,)
