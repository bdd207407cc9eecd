"""Spec of SparTen: bitmask inner-join compute units in clusters (issue 6)."""

from __future__ import annotations

from typing import Literal

from accelsim.config.arch.common import CommonSpec


class SpartenSpec(CommonSpec):
    """Placeholder until the model lands: only the common sections."""

    kind: Literal["sparten"]


SPECS = (SpartenSpec,)
