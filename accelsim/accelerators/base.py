"""The contract every accelerator model fulfils: a spec in, one LayerResult per layer out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import pandas as pd

from accelsim.report.schema import LayerResult
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.layer import Layer
from accelsim.workload.network import Network


class Accelerator(ABC):
    """A model built from a validated spec; it simulates one layer at a time."""

    kind: ClassVar[str]

    def __init__(self, spec: Any) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        """The configured accelerator name."""
        return str(self.spec.name)

    @property
    @abstractmethod
    def multipliers(self) -> int:
        """Number of multipliers (the iso-area / iso-multiplier yardstick)."""

    @property
    def clock_hz(self) -> float:
        """Core clock in Hz."""
        return float(self.spec.clock_mhz) * 1e6

    def begin_network(self, network: Network) -> None:
        """Called by `simulate` before the layers of `network` run. A model whose layer costs depend on
        the whole network (IMCE: whether every layer's weights fit in the arrays at once) looks at it
        here; by default nothing. Without the call a model treats each layer on its own."""
        return

    def unsupported(self, layer: Layer) -> str | None:
        """Why this accelerator cannot run `layer` natively, or None if it can."""
        return None

    @abstractmethod
    def simulate_layer(self, work: LayerWorkload) -> tuple[LayerResult, pd.DataFrame]:
        """Simulate one layer: its result row and its per-unit timeline (unit, state, start, end)."""

    def result(self, work: LayerWorkload, *, cycles: int, **fields: Any) -> LayerResult:
        """The result row of `work`: the model's own `fields`, plus what every model fills the same way
        (the layer's identity, its dense and effectual MACs, the multipliers, latency = cycles / clock)."""
        layer = work.layer
        return LayerResult(
            network=work.network,
            layer=layer.name,
            kind=str(layer.kind),
            accelerator=self.name,
            macs_dense=layer.macs,
            macs_effectual=work.effectual_macs,
            cycles=cycles,
            latency_s=cycles / self.clock_hz,
            multipliers=self.multipliers,
            **fields,
        )
