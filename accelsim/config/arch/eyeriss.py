"""Spec of Eyeriss v1 (row stationary, dense) and Eyeriss v2 (sparse PE, hierarchical mesh) (issue 7)."""

from __future__ import annotations

from typing import Literal

from accelsim.config.arch.common import CommonSpec


class EyerissV1Spec(CommonSpec):
    """Placeholder until the model lands: only the common sections."""

    kind: Literal["eyeriss_v1"]


class EyerissV2Spec(CommonSpec):
    """Placeholder until the model lands: only the common sections."""

    kind: Literal["eyeriss_v2"]


SPECS = (EyerissV1Spec, EyerissV2Spec)
