"""Spec of Eyeriss v1: the dense row-stationary accelerator (issue 7)."""

from __future__ import annotations

from typing import Literal

from accelsim.config.arch.common import CommonSpec


class EyerissV1Spec(CommonSpec):
    """Placeholder until the model lands: only the common sections."""

    kind: Literal["eyeriss_v1"]


SPECS = (EyerissV1Spec,)
