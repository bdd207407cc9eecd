"""Compare accelerators on one workload: same network, profile and seed (hence the same masks).

A comparison says what it held equal (multiplier count and clock by default) and lists every layer an
accelerator could not run natively, so that a speedup is never read without its conditions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from accelsim.accelerators import build
from accelsim.api import resolve_config, resolve_network, simulate, with_batch
from accelsim.config.arch import get_key, with_key
from accelsim.energy import ENERGY_COLUMNS
from accelsim.energy.area import AREA_COLUMNS
from accelsim.errors import AccelsimError, ConfigError, UnknownNameError
from accelsim.report.outputs import check_output_folder, write_set
from accelsim.report.result import SHARE_COLUMNS, RunResult, network_totals, slot_shares
from accelsim.report.schema import SLOT_COLUMNS
from accelsim.report.writers import write_json, write_table
from accelsim.workload.network import Network
from accelsim.workload.sparsity import SparsityProfile

__all__ = [
    "COMPARISON_FILES",
    "COMPARISON_LAYER_COLUMNS",
    "COMPARISON_NETWORK_COLUMNS",
    "AreaScaling",
    "Comparison",
    "SkippedLayer",
    "compare",
    "output_folders",
    "scale_to_area",
]

COMPARISON_FILES = {
    "layers_parquet": "comparison_layers.parquet",
    "layers_csv": "comparison_layers.csv",
    "network_csv": "comparison_network.csv",
    "summary": "comparison.json",
}
"""The files `Comparison.write` puts in its folder (key -> name), besides one run folder per accelerator."""

COMPARISON_LAYER_COLUMNS = [
    "network",
    "layer",
    "kind",
    "accelerator",
    "batch",
    "cycles",
    "speedup",
    "latency_s",
    "utilization",
    "effectual_utilization",
    "imbalance",
    "idle_fraction",
    "stall_cycles",
    *SLOT_COLUMNS,
    "energy_pj",
    *ENERGY_COLUMNS,
    "fallback",
]
"""Columns of `Comparison.layers`: one row per (accelerator, layer it ran)."""

COMPARISON_NETWORK_COLUMNS = [
    "network",
    "profile",
    "seed",
    "batch",
    "accelerator",
    "baseline",
    "multipliers",
    "clock_mhz",
    "layers",
    "network_layers",
    "skipped_layers",
    "fallback_layers",
    "cycles",
    "speedup",
    "speedup_conv",
    "latency_s",
    "utilization",
    "effectual_utilization",
    "imbalance",
    "idle_fraction",
    "stall_cycles",
    "energy_pj",
    *ENERGY_COLUMNS,
    "energy_per_inference_uj",
    "area_mm2",
    *AREA_COLUMNS,
    "area_ratio",
    "speedup_per_mm2",
    "dram_bytes",
    *SLOT_COLUMNS,
    *SHARE_COLUMNS,
]
"""Columns of `Comparison.network`: one row per accelerator. `layers` of `network_layers` compute layers
ran natively; `speedup` is over the layers both it and the baseline ran, `speedup_conv` over those that
are not fully connected; slots_<part> (network totals) and share_<part> say where the cycles went.
`energy_per_inference_uj` is the energy of one image over the layers it ran; `area_ratio` its chip area
over the baseline's and `speedup_per_mm2` its speedup per mm² of its own area."""

ISO_MODES = ("multipliers", "area", "none")
"""What `compare` may hold equal: multiplier count and clock, chip area (within a tolerance) and clock,
or nothing (the differences are stated)."""

DEFAULT_AREA_TOLERANCE = 0.10
"""Largest relative difference of chip area (max / min - 1) an iso-area comparison accepts."""


MAX_TILES = 4096
"""Largest tile count `scale_to_area` tries."""


class IsoConditionError(AccelsimError, ValueError):
    """Accelerators compared iso-multiplier / iso-area differ in multiplier count, area or clock."""


@dataclass(frozen=True, slots=True)
class AreaScaling:
    """How one config was scaled to the baseline's chip area: its tile count changed."""

    config: str
    """The accelerator's name as configured."""
    name: str
    """The scaled accelerator's name: `<config>@<rows>x<cols>` for a grid, `<config>@<key>=<n>` else."""
    keys: tuple[str, ...]
    """The dotted keys of its tiles (the spec's `tile_keys`)."""
    before: tuple[int, ...]
    after: tuple[int, ...]
    area_before_mm2: float
    area_after_mm2: float

    def describe(self) -> str:
        return (
            f"{self.config} {' x '.join(self.keys)} {_shape(self.before)} -> {_shape(self.after)} "
            f"({self.area_before_mm2:.3g} -> {self.area_after_mm2:.3g} mm²)"
        )


@dataclass(frozen=True, slots=True)
class SkippedLayer:
    """A layer an accelerator cannot run natively, left out of its totals."""

    accelerator: str
    layer: str
    reason: str


@dataclass(frozen=True)
class Comparison:
    """Per-config runs of one workload, their per-layer and network tables, and what was held equal."""

    runs: dict[str, RunResult]
    """accelerator name -> its RunResult, in the order the configs were given."""
    layers: pd.DataFrame
    """One row per (accelerator, layer): cycles, speedup vs the baseline, utilization, energy."""
    network: pd.DataFrame
    """One row per accelerator: totals, speedup, utilization, imbalance, energy, latency."""
    baseline: str
    """Accelerator every speedup is relative to (speedup = baseline cycles / cycles)."""
    iso: bool
    """True if an iso condition (equal multipliers, or equal area, and clock) was required and holds."""
    held_equal: str
    """What was held equal across the accelerators, or what differed."""
    skipped: list[SkippedLayer]
    """Layers some accelerator could not run natively (not in its rows or totals)."""
    iso_mode: str = "multipliers"
    """Which condition was held: one of ISO_MODES."""
    scaled: tuple[AreaScaling, ...] = ()
    """Configs scaled to the baseline's area (`compare(..., scale_to_area=True)`)."""

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write comparison_layers.{parquet,csv}, comparison_network.csv, comparison.json and the run
        folders as one set (see `accelsim.report.outputs.write_set`)."""
        folders = output_folders(list(self.runs))
        out = check_output_folder(out_dir, files=COMPARISON_FILES.values(), folders=folders.values())
        with write_set(out) as tmp:
            write_table(self.layers, tmp / COMPARISON_FILES["layers_parquet"])
            write_table(self.layers, tmp / COMPARISON_FILES["layers_csv"])
            write_table(self.network, tmp / COMPARISON_FILES["network_csv"])
            write_json(self.summary(), tmp / COMPARISON_FILES["summary"])
            for name, run in self.runs.items():
                run.write(tmp / folders[name])
        paths = {key: out / name for key, name in COMPARISON_FILES.items()}
        return paths | {f"run:{name}": out / folder for name, folder in folders.items()}

    def summary(self) -> dict[str, Any]:
        """The conditions of the comparison as plain data (written to comparison.json)."""
        return {
            "baseline": self.baseline,
            "iso": self.iso,
            "iso_mode": self.iso_mode,
            "held_equal": self.held_equal,
            "scaled_to_area": [
                {
                    "config": s.config,
                    "accelerator": s.name,
                    "keys": list(s.keys),
                    "before": list(s.before),
                    "after": list(s.after),
                    "area_before_mm2": s.area_before_mm2,
                    "area_after_mm2": s.area_after_mm2,
                }
                for s in self.scaled
            ],
            "accelerators": list(self.runs),
            "folders": {name: _folder_name(name) for name in self.runs},
            "skipped_layers": [
                {"accelerator": s.accelerator, "layer": s.layer, "reason": s.reason} for s in self.skipped
            ],
        }


def compare(
    configs: Sequence[str | Path | Any],
    network: str | Path | Network,
    profile: str | Path | SparsityProfile = "dense",
    seed: int = 0,
    *,
    iso: bool | str = True,
    baseline: str | Path | Any | None = None,
    progress: Callable[[str, str | None], None] | None = None,
    batch: int | None = None,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
    scale_to_area: bool = False,
) -> Comparison:
    """Run every config on the same network, profile and seed; tabulate speedup and energy per layer.

    `configs`: shipped names, YAML or SCALE-Sim .cfg paths, or validated specs (as for `simulate`).
    `iso` is one of ISO_MODES (True = "multipliers", False = "none"). "multipliers": the configs must
    have the same multiplier count and clock; "area": the same clock and chip areas within
    `area_tolerance` of each other (max / min - 1; areas of the network's runnable layers' chip, before
    anything runs); else IsoConditionError. With "none" they may differ and `held_equal` says what
    differed (compare `latency_s` then, since cycles of different clocks are not the same time).
    `baseline` is one of `configs` (as given, or its accelerator name); the first config by default.
    `scale_to_area` (with iso="area"): a config whose area is not within `area_tolerance` of the
    baseline's is first scaled to it by its tile count (see `scale_to_area`) and runs under the name
    `<config>@<key>=<count>`; the comparison lists what was scaled in `scaled`.
    Layers an accelerator cannot run natively are skipped and listed in `skipped`.
    `progress(accelerator, None)` is called as an accelerator starts and `progress(accelerator, layer)`
    after each of its layers. Every config runs the same
    `batch` of images (None: each config's own, which must then agree; see `simulate`).
    """
    if len(configs) < 2:
        raise ConfigError(f"compare needs at least two configs, got {len(configs)}")
    resolved = [resolve_config(c) for c in configs]
    batches = {source: with_batch(spec, batch, source)[1] for spec, source in resolved}
    if len(set(batches.values())) > 1:
        listed = ", ".join(f"{source}: {n}" for source, n in batches.items())
        raise ConfigError(
            f"the configs run different batches ({listed}); give a batch (CLI: --batch N) so every "
            "accelerator runs the same images"
        )
    accels = [build(spec, source) for spec, source in resolved]
    names = _distinct_names(accels)
    mode = _iso_mode(iso)
    _check_tolerance(area_tolerance)
    net = resolve_network(network)
    base_index = _baseline_index(baseline, configs, resolved, names)
    scaled: tuple[AreaScaling, ...] = ()
    if scale_to_area:
        if mode != "area":
            raise ConfigError(
                "scaling to the baseline's area needs iso='area' (CLI: --iso area --scale-to-area)"
            )
        resolved, scaled = _scaled(resolved, accels, base_index, net, area_tolerance)
        accels = [build(spec, source) for spec, source in resolved]
        names = _distinct_names(accels)
    multipliers = {a.name: a.multipliers for a in accels}
    clocks_mhz = {a.name: a.clock_hz / 1e6 for a in accels}
    areas = {a.name: _chip_area(a, net) for a in accels}
    stated = areas if mode == "area" else None  # the network table lists every area in any case
    held = held_equal_statement(multipliers, clocks_mhz, stated, area_tolerance)
    clocks_differ = len(set(clocks_mhz.values())) > 1
    if mode == "multipliers" and (len(set(multipliers.values())) > 1 or clocks_differ):
        raise IsoConditionError(
            f"iso-multiplier comparison impossible: {held}; use iso='none' (CLI: --iso none or --no-iso) "
            "to compare anyway, or --iso area"
        )
    if scaled:
        held += "; scaled to the baseline's area by tile count: " + ", ".join(s.describe() for s in scaled)
    if mode == "area" and (_area_spread(areas) > area_tolerance or clocks_differ):
        if clocks_differ:
            hint = "give them one clock (scaling keeps each config's clock)"
        elif scale_to_area:
            hint = "raise the tolerance (--area-tolerance): the nearest tile counts miss the baseline's area"
        else:
            hint = "raise the tolerance (--area-tolerance) or scale them to it (--scale-to-area)"
        raise IsoConditionError(
            f"iso-area comparison impossible (tolerance {area_tolerance:.0%}): {held}; use iso='none' "
            f"(CLI: --iso none) to compare anyway, or {hint}"
        )
    base = names[base_index]

    runs = {}
    for accel, (spec, _source) in zip(accels, resolved, strict=True):
        step = None if progress is None else _reporter(progress, accel.name)
        runs[accel.name] = simulate(
            spec, net, profile, seed, skip_unsupported=True, progress=step, batch=batch
        )
    skipped = [
        SkippedLayer(name, layer, reason)
        for name, run in runs.items()
        for layer, reason in run.provenance["skipped_layers"].items()
    ]
    layers = _layer_table(runs, base)
    table = _network_table(runs, base, multipliers, clocks_mhz, len(net.compute_layers))
    return Comparison(runs, layers, table, base, mode != "none", held, skipped, mode, scaled)


def scale_to_area(
    configs: Sequence[str | Path | Any],
    network: str | Path | Network,
    *,
    baseline: str | Path | Any | None = None,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
) -> tuple[list[Any], tuple[AreaScaling, ...]]:
    """The configs as `compare(..., iso="area", scale_to_area=True)` runs them, and what was scaled.

    The rule: a config whose chip area (for the network's layers it runs) is not within
    `area_tolerance` of the baseline's gets the tile count whose area is nearest the baseline's (in
    ratio). Its tiles are its spec's `tile_keys`: clusters (SparTen, Eyeriss v2), or the rows and
    columns of a grid (systolic array, Eyeriss v1 array, SCNN PEs, Phantom-2D cores), which keeps its
    aspect ratio (columns n, rows round(rows0 x n / cols0)). Everything else, shared buffers, DRAM
    and the clock included, stays as configured. A design without tile keys cannot be scaled
    (IsoConditionError). Nothing is simulated.
    """
    resolved = [resolve_config(c) for c in configs]
    accels = [build(spec, source) for spec, source in resolved]
    _check_tolerance(area_tolerance)
    net = resolve_network(network)
    base_index = _baseline_index(baseline, configs, resolved, _distinct_names(accels))
    scaled_resolved, scaled = _scaled(resolved, accels, base_index, net, area_tolerance)
    return [spec for spec, _ in scaled_resolved], scaled


def _scaled(
    resolved: list[tuple[Any, str]], accels: list[Any], base_index: int, net: Network, tolerance: float
) -> tuple[list[tuple[Any, str]], tuple[AreaScaling, ...]]:
    target = _chip_area(accels[base_index], net)
    out, scaled = [], []
    for i, ((spec, source), accel) in enumerate(zip(resolved, accels, strict=True)):
        area = _chip_area(accel, net)
        if i == base_index or _area_spread({"a": area, "b": target}) <= tolerance:
            out.append((spec, source))
            continue
        fitted, scaling = _fit_tiles(spec, source, net, target, area)
        out.append((fitted, source))
        scaled.append(scaling)
    return out, tuple(scaled)


def _fit_tiles(spec: Any, source: str, net: Network, target: float, area: float) -> tuple[Any, AreaScaling]:
    """`spec` with the tile count whose chip area is nearest `target` (in ratio), and the record."""
    keys: tuple[str, ...] = type(spec).tile_keys
    if not keys:
        raise IsoConditionError(
            f"{source}: a {spec.kind} design has no replicated tile to scale to the baseline's area "
            f"({area:.3g} against {target:.3g} mm²); compare it with iso='none' (CLI: --iso none)"
        )
    before = tuple(int(get_key(spec, k)) for k in keys)
    cache: dict[int, tuple[Any, float]] = {before[-1]: (spec, area)}

    def at(n: int) -> float:
        if n not in cache:
            fitted = spec
            counts = _tile_counts(before, n)
            for key, count in zip(keys, counts, strict=True):
                fitted = with_key(fitted, key, count, source)
            tag = _shape(counts) if len(keys) > 1 else f"{keys[0]}={n}"
            fitted = fitted.model_copy(update={"name": f"{spec.name}@{tag}"})
            cache[n] = (fitted, _chip_area(build(fitted, source), net))
        return cache[n][1]

    lo = hi = before[-1]  # bracket the target: area(lo) < target <= area(hi)
    if area < target:
        while at(hi) < target and hi < MAX_TILES:
            lo, hi = hi, min(2 * hi, MAX_TILES)
    else:
        while at(lo) >= target and lo > 1:
            lo, hi = max(lo // 2, 1), lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if at(mid) < target else (lo, mid)
    best = min((lo, hi), key=lambda n: (abs(math.log(at(n) / target)), n))
    fitted, fitted_area = cache[best]
    after = _tile_counts(before, best)
    return fitted, AreaScaling(spec.name, fitted.name, keys, before, after, area, fitted_area)


def _tile_counts(before: tuple[int, ...], n: int) -> tuple[int, ...]:
    """The tile counts for `n` columns (or `n` tiles): a grid keeps its rows : columns ratio."""
    if len(before) == 1:
        return (n,)
    rows, cols = before
    return (max(1, round(rows * n / cols)), n)


def _shape(counts: tuple[int, ...]) -> str:
    return "x".join(str(c) for c in counts)


def _chip_area(accel: Any, net: Network) -> float:
    """The chip area (mm²) of the accelerator for the network's layers it runs natively."""
    return float(accel.area(_runnable(accel, net))["area_mm2"])


def _distinct_names(accels: Sequence[Any]) -> list[str]:
    names = [a.name for a in accels]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(
            f"configs share the accelerator name {', '.join(dupes)}; give each a distinct `name:`"
        )
    return names


def _check_tolerance(area_tolerance: float) -> None:
    if not (area_tolerance >= 0 and math.isfinite(area_tolerance)):
        raise ConfigError(f"area tolerance must be a finite number >= 0, got {area_tolerance}")


def _iso_mode(iso: bool | str) -> str:
    if iso is True:
        return "multipliers"
    if iso is False:
        return "none"
    if iso not in ISO_MODES:
        raise UnknownNameError("iso condition", str(iso), list(ISO_MODES))
    return str(iso)


def _runnable(accel: Any, net: Network) -> tuple[Any, ...]:
    """The network's layers the accelerator runs natively (the context `simulate` gives its model)."""
    return tuple(layer for layer in net.compute_layers if accel.unsupported(layer) is None)


def _area_spread(areas: dict[str, float]) -> float:
    """max / min - 1 of the chip areas (inf when one is zero or not a number)."""
    values = list(areas.values())
    low = min(values)
    if not all(math.isfinite(v) for v in values) or low <= 0:
        return math.inf
    return max(values) / low - 1


def held_equal_statement(
    multipliers: dict[str, int],
    clocks_mhz: dict[str, float],
    areas_mm2: dict[str, float] | None = None,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
) -> str:
    """'multipliers 1024 and clock 1000 MHz held equal', or which of them differed and how; with
    `areas_mm2`, also whether the chip areas lie within `area_tolerance` of each other."""
    equal, differ = [], []
    for what, values, unit in (("multipliers", multipliers, ""), ("clock", clocks_mhz, " MHz")):
        if len(set(values.values())) == 1:
            equal.append(f"{what} {_fmt(next(iter(values.values())))}{unit}")
        else:
            listed = ", ".join(f"{name}: {_fmt(v)}{unit}" for name, v in values.items())
            differ.append(f"{what} differ ({listed})")
    if areas_mm2 is not None:
        listed = ", ".join(f"{name}: {v:.3g} mm²" for name, v in areas_mm2.items())
        spread = _area_spread(areas_mm2)
        if spread <= area_tolerance:
            equal.append(f"area within {area_tolerance:.0%} ({listed})")
        else:
            differ.append(f"area differs by {spread:.0%} ({listed})")
    parts = []
    if equal:
        parts.append(" and ".join(equal) + " held equal")
    if differ:
        parts.append("NOT held equal: " + "; ".join(differ))
    return "; ".join(parts)


def _fmt(value: float) -> str:
    return f"{value:g}"


def _baseline_index(
    baseline: str | Path | Any | None,
    configs: Sequence[str | Path | Any],
    resolved: list[tuple[Any, str]],
    names: list[str],
) -> int:
    if baseline is None:
        return 0
    for i, (config, (_spec, source)) in enumerate(zip(configs, resolved, strict=True)):
        if baseline is config or (
            isinstance(baseline, str | Path) and str(baseline) in (str(config), source)
        ):
            return i
    if isinstance(baseline, str | Path) and str(baseline) in names:
        return names.index(str(baseline))
    if not isinstance(baseline, str | Path):
        name = getattr(baseline, "name", None)
        if name in names:
            return names.index(str(name))
    raise UnknownNameError("baseline (must be one of the compared configs)", str(baseline), names)


def _layer_table(runs: dict[str, RunResult], base: str) -> pd.DataFrame:
    base_cycles = runs[base].layers.set_index("layer")["cycles"]
    frames = []
    for run in runs.values():
        df = run.layers.copy()
        df["speedup"] = df["layer"].map(base_cycles).astype(float) / df["cycles"].astype(float)
        frames.append(df[COMPARISON_LAYER_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def _network_table(
    runs: dict[str, RunResult],
    base: str,
    multipliers: dict[str, int],
    clocks_mhz: dict[str, float],
    network_layers: int,
) -> pd.DataFrame:
    """Network speedup is over the layers both the accelerator and the baseline ran natively (and,
    for `speedup_conv`, are not fully connected)."""
    base_layers = runs[base].layers.set_index("layer")
    rows = []
    for name, run in runs.items():
        prov = run.provenance
        totals = network_totals(run.layers) if len(run.layers) else pd.Series(dtype=float)
        common = run.layers[run.layers["layer"].isin(base_layers.index)]
        conv = common[common["kind"] != "fc"]
        row: dict[str, Any] = {
            "network": prov["network"],
            "profile": prov["profile"],
            "seed": prov["seed"],
            "accelerator": name,
            "baseline": base,
            "multipliers": multipliers[name],
            "clock_mhz": clocks_mhz[name],
            "layers": len(run.layers),
            "network_layers": network_layers,
            "skipped_layers": len(prov["skipped_layers"]),
            "speedup": _speedup(base_layers, common),
            "speedup_conv": _speedup(base_layers, conv),
        }
        for col in COMPARISON_NETWORK_COLUMNS:
            if col not in row and col not in SHARE_COLUMNS:
                row[col] = totals.get(col, float("nan"))
        row["energy_per_inference_uj"] = float(row["energy_pj"]) * 1e-6
        row["speedup_per_mm2"] = row["speedup"] / row["area_mm2"] if row["area_mm2"] else float("nan")
        rows.append(row)
    table = pd.DataFrame(rows)
    table["area_ratio"] = table["area_mm2"] / float(
        table.loc[table["accelerator"] == base, "area_mm2"].iloc[0]
    )
    table[list(SHARE_COLUMNS)] = slot_shares(table)
    return table[COMPARISON_NETWORK_COLUMNS]


def _speedup(base_layers: pd.DataFrame, mine: pd.DataFrame) -> float:
    """Baseline cycles / own cycles over the layers of `mine` (NaN when there are none)."""
    own = float(mine["cycles"].sum())
    return float(base_layers.loc[mine["layer"], "cycles"].sum()) / own if own else float("nan")


def _reporter(progress: Callable[[str, str | None], None], name: str) -> Callable[[str], None]:
    """Tell `progress` that accelerator `name` starts; the callback `simulate` calls per layer."""
    progress(name, None)
    return lambda layer: progress(name, layer)


def output_folders(names: Sequence[str]) -> dict[str, str]:
    """Accelerator name -> the run folder `Comparison.write` gives it."""
    return {name: _folder_name(name) for name in names}


def _folder_name(name: str) -> str:
    """A file-system-safe folder name for an accelerator."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "accelerator"
