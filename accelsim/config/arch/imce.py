"""Spec of IMCE: the SOT-MRAM bit-wise in-memory convolution engine (issue 8)."""

from __future__ import annotations

from typing import Literal

from accelsim.config.arch.common import CommonSpec


class ImceSpec(CommonSpec):
    """Placeholder until the model lands: only the common sections."""

    kind: Literal["imce"]


SPECS = (ImceSpec,)
