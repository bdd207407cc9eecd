"""Spec of Eyeriss v2: sparse PEs on a hierarchical mesh NoC (issue 7)."""

from __future__ import annotations

from typing import Literal

from accelsim.config.arch.common import CommonSpec


class EyerissV2Spec(CommonSpec):
    """Placeholder until the model lands: only the common sections."""

    kind: Literal["eyeriss_v2"]


SPECS = (EyerissV2Spec,)
