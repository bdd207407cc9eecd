"""Spec of the published figures the models are validated against (`validation/figures.yaml`).

Each figure names its value and source (a key of docs/references.md), the set-up it was measured under
(the runs: config, network, profile, seed), the formula that turns those runs into the model's number,
whether a model choice was fitted to it (in-sample), the tolerance the project commits to and the error
the model gives at this commit (the pin a test holds it to).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from accelsim.config.yaml_io import StrictModel, load_model
from accelsim.errors import ConfigError

MetricKind = Literal[
    "inferences_per_s", "inferences_per_j", "cycles", "latency_s", "energy_uj", "dram_mb", "layer_cycles",
    "utilization", "effectual_slots", "area_mm2", "ratio", "loss", "mean",
]  # fmt: skip
"""What a metric computes: from one run (the first ten) or from other metrics (ratio, loss, mean)."""

RUN_METRICS = {"inferences_per_s", "inferences_per_j", "cycles", "latency_s", "energy_uj", "dram_mb"}
RUN_METRICS |= {"layer_cycles", "utilization", "effectual_slots", "area_mm2"}
"""Metrics read from one run's layer table."""


class MetricSpec(StrictModel):
    """One number from the runs: a run metric over a layer set, or a combination of metrics."""

    kind: MetricKind
    run: str | None = None
    """Name of the run (a key of the figure's `runs`) for run metrics."""
    layers: Literal["all", "conv"] | list[str] = "all"
    """Layers summed: all that ran, those that are not fully connected, or the names listed."""
    common_with: str | None = None
    """Keep only the layers that this other run also ran (speedups over the layers both ran)."""
    of: list[MetricSpec] = Field(default_factory=list)
    """Operands of ratio (a / b), loss (1 - a / b) and mean."""

    @model_validator(mode="after")
    def _operands(self) -> MetricSpec:
        if self.kind in RUN_METRICS:
            if self.run is None or self.of:
                raise ValueError(f"{self.kind} takes a `run` and no `of`")
            if self.kind == "layer_cycles" and not isinstance(self.layers, list):
                raise ValueError("layer_cycles takes a list of layer names in `layers`")
        elif self.kind in ("ratio", "loss"):
            if len(self.of) != 2 or self.run is not None:
                raise ValueError(f"{self.kind} takes exactly two metrics in `of` and no `run`")
        elif not self.of or self.run is not None:
            raise ValueError("mean takes one or more metrics in `of` and no `run`")
        return self

    def runs(self) -> set[str]:
        """Names of the runs this metric reads."""
        names = {self.run} if self.run else set()
        if self.common_with:
            names.add(self.common_with)
        for m in self.of:
            names |= m.runs()
        return names


class RunSpec(StrictModel):
    """One simulation: shipped config, network and profile, seed; unsupported layers skipped or not."""

    config: str
    network: str
    profile: str = "dense"
    seed: int = 0
    skip_unsupported: bool = False
    set: dict[str, float | int | str | bool] = Field(default_factory=dict)
    """Keys of the config changed for this run (dotted paths, e.g. `technology.node_nm: 16` to put the
    design at the paper's node), as a sweep axis would change them."""


class PaperSpec(StrictModel):
    """The published figure: value, unit, source key, where in the source, and how it was obtained."""

    value: float
    unit: str
    source: str = Field(pattern=r"^[A-Z][A-Z0-9-]*\d\d$")
    locator: str = ""
    tag: Literal["paper", "secondary", "repo", "derived", "unverified"] = "paper"


class FigureSpec(StrictModel):
    """A published figure, its set-up and the project's commitment about it."""

    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    model: str
    """Model family the figure validates (e.g. eyeriss_v2): `--model` selects on it."""
    quantity: str
    paper: PaperSpec
    runs: dict[str, RunSpec] = Field(default_factory=dict)
    batch: int = Field(default=1, gt=0)
    layers_counted: str
    formula: str
    metric: MetricSpec | None = None
    """How validate-papers computes the model's number; null = measured only by `measured_by`."""
    measured_by: str
    """The benchmark script that reports the figure with its full context."""
    reported_model: float | None = None
    """For a figure without a metric: the model's number as its benchmark script last reported it."""
    in_sample: bool
    in_sample_note: str = ""
    tolerance: float = Field(gt=0)
    """Committed relative tolerance: the figure passes when |model / paper - 1| <= tolerance."""
    pinned_error: float | None = None
    """model / paper - 1 at this commit; a test holds the model to it (within `pin_band`)."""
    pin_band: float = Field(default=0.001, gt=0)
    cost: Literal["fast", "slow"] = "fast"
    """fast: seconds, part of the test suite; slow: only in the full run (a benchmark)."""

    @model_validator(mode="after")
    def _consistent(self) -> FigureSpec:
        if self.metric is not None:
            missing = self.metric.runs() - set(self.runs)
            if missing:
                raise ValueError(f"metric reads runs not defined in `runs`: {sorted(missing)}")
            if self.pinned_error is None:
                raise ValueError("a figure with a metric needs its pinned_error")
        if self.in_sample and not self.in_sample_note:
            raise ValueError("an in-sample figure says what was fitted to it (in_sample_note)")
        return self


class FiguresFile(StrictModel):
    """The whole file: a list of figures with unique ids."""

    figures: list[FigureSpec]

    @model_validator(mode="after")
    def _unique(self) -> FiguresFile:
        ids = [f.id for f in self.figures]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"figure ids repeat: {dup}")
        return self


def load_figures(path: Path) -> list[FigureSpec]:
    """The figures of a figures file; a bad file raises ConfigError naming the file and the key."""
    spec = load_model(FiguresFile, path, "figures file")
    if not spec.figures:
        raise ConfigError(f"{path}: no figures")
    return spec.figures
