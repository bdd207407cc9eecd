"""Spec of SCNN and its dense baselines DCNN / DCNN-opt (issue 5)."""

from __future__ import annotations

from typing import Literal

from accelsim.config.arch.common import CommonSpec


class ScnnSpec(CommonSpec):
    """Placeholder until the model lands: only the common sections."""

    kind: Literal["scnn"]


SPECS = (ScnnSpec,)
