"""Spec of Phantom-2D: a 2D mesh of multi-threaded sparse Phantom cores (issue 4)."""

from __future__ import annotations

from typing import Literal

from accelsim.config.arch.common import CommonSpec


class Phantom2DSpec(CommonSpec):
    """Placeholder until the model lands: only the common sections."""

    kind: Literal["phantom2d"]


SPECS = (Phantom2DSpec,)
