"""The Python API: simulate one accelerator on one network under one sparsity profile and seed."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import platform
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from accelsim.accelerators import build
from accelsim.errors import ConfigError, UnknownNameError, UnsupportedLayerError
from accelsim.workload.catalog import data_dir, looks_like_path
from accelsim.workload.layer import Layer
from accelsim.workload.loaders import load_network
from accelsim.workload.network import Network
from accelsim.workload.scalesim_csv import load_scalesim_topology
from accelsim.workload.sparsity import SparsityProfile, check_profile, load_profile

if TYPE_CHECKING:  # these pull in numpy and pandas: imported where a simulation needs them
    import pandas as pd

    from accelsim.accelerators.base import Accelerator
    from accelsim.report.result import RunResult
    from accelsim.report.schema import LayerResult

__all__ = ["DEFAULT_CONFIG", "RunResult", "list_configs", "resolve_config", "resolve_network", "simulate"]

DEFAULT_CONFIG = "systolic_ws_32x32"
"""The shipped config `accelsim run` uses when none is given."""


def list_configs() -> list[str]:
    """Names of the shipped accelerator configs (arch_configs/*.yaml)."""
    return sorted(p.stem for p in data_dir("arch_configs").glob("*.yaml"))


def resolve_config(config: str | Path | Any) -> tuple[Any, str]:
    """A spec from a shipped name, a YAML path or a SCALE-Sim .cfg path; returns (spec, source)."""
    from accelsim.config.arch import load_arch  # here: building every kind's spec model takes a while
    from accelsim.config.scalesim_cfg import load_scalesim_cfg

    if not isinstance(config, str | Path):
        return config, f"<{type(config).__name__}>"
    path = Path(config)
    if path.suffix == ".cfg":
        return load_scalesim_cfg(path), str(path)
    if not looks_like_path(config) and not path.is_file():  # a folder named like a config is not one
        candidate = data_dir("arch_configs") / f"{config}.yaml"
        if not candidate.is_file():
            raise UnknownNameError("accelerator config", str(config), list_configs())
        path = candidate
    return load_arch(path), str(path)


def resolve_network(network: str | Path | Network) -> Network:
    """A Network from a shipped name, a YAML file or a SCALE-Sim topology .csv."""
    if isinstance(network, Network):
        return network
    if Path(network).suffix == ".csv":
        return load_scalesim_topology(Path(network))
    return load_network(network)


def simulate(
    config: str | Path | Any = DEFAULT_CONFIG,
    network: str | Path | Network = "vgg16",
    profile: str | Path | SparsityProfile = "dense",
    seed: int = 0,
    *,
    skip_unsupported: bool = False,
    progress: Callable[[str], None] | None = None,
    jobs: int = 1,
    batch: int | None = None,
) -> RunResult:
    """Run every compute layer of `network` on the accelerator `config` describes.

    `config`: a shipped config name, a YAML path, a SCALE-Sim .cfg path or a validated spec.
    `network`: a shipped name, a network YAML, a SCALE-Sim topology .csv or a Network.
    `profile`: "dense", a shipped profile id of that network, a profile YAML or a SparsityProfile.
    Layers the accelerator cannot run raise UnsupportedLayerError unless `skip_unsupported`, in
    which case they are listed in the provenance, never hidden. `jobs` > 1 simulates the layers in
    that many worker processes; the result is identical to a serial run (each layer's masks depend
    only on its name, the profile and the seed). `batch` images run through every layer, each with its
    own activation masks; rows count the whole batch. A given batch replaces the config's own `batch`
    (Eyeriss v1, Winograd FPGA). None: 1 image, or the config's own batch, whose images all carry the
    one image's masks (the config's operating point, as before there was a run batch).
    """
    from accelsim.report.result import RunResult

    if jobs < 1:
        raise ConfigError(f"jobs must be at least 1, got {jobs}")
    started = time.perf_counter()
    spec, source = resolve_config(config)
    spec, images = with_batch(spec, batch, source)
    accel = build(spec, source)
    net = resolve_network(network)
    prof = profile if isinstance(profile, SparsityProfile) else load_profile(net.name, profile)
    check_profile(prof, net)
    distinct = 1 if batch is None else images  # images with masks of their own
    if distinct > 1:
        _check_real_images(net, prof, seed, distinct)
    reasons = {layer.name: accel.unsupported(layer) for layer in net.compute_layers}
    skipped = {name: reason for name, reason in reasons.items() if reason is not None}
    if skipped and not skip_unsupported:  # before anything runs: say every layer, and the way out
        listed = "; ".join(f"{net.name}/{name}: {reason}" for name, reason in skipped.items())
        raise UnsupportedLayerError(
            f"{accel.name} cannot run {len(skipped)} layer(s) of {net.name}: {listed}. "
            "Skip and list them with --skip-unsupported (Python: skip_unsupported=True)"
        )
    todo = [layer for layer in net.compute_layers if layer.name not in skipped]
    area_blocks = accel.area_detail(tuple(todo))  # a bad area table fails here, before any layer runs
    rows, timelines = [], []
    runs = _run_layers(accel, net, prof, seed, todo, jobs, distinct)
    for layer, (result, timeline) in zip(todo, runs, strict=True):
        rows.append(result)
        timelines.append(timeline)
        if progress is not None:
            progress(layer.name)
    provenance = _provenance(accel, spec, source, net, prof, seed, skipped, time.perf_counter() - started)
    provenance["batch"] = images
    provenance["area_blocks_mm2"] = area_blocks
    return RunResult.from_rows(rows, timelines, provenance)


LayerRun: TypeAlias = "tuple[LayerResult, pd.DataFrame]"


def _check_real_images(net: Network, prof: SparsityProfile, seed: int, images: int) -> None:
    """Before anything runs: every real activation-mask file holds the batch's last image."""
    from accelsim.config.workload_spec import RealPattern
    from accelsim.workload.masks import operand_mask

    for layer in net.compute_layers:
        if isinstance(prof.density(layer.name).activation_pattern, RealPattern):
            operand_mask(net.name, layer, prof, seed, "activations", images - 1)


def with_batch(spec: Any, batch: int | None, source: str = "") -> tuple[Any, int]:
    """The spec to run a batch of `batch` images with, and the batch: a model that batches images
    itself (a `batch` field) gets it in its spec; None keeps that field (else 1)."""
    own = getattr(spec, "batch", None)
    if batch is None:
        return spec, int(own) if isinstance(own, int) else 1
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ConfigError(f"batch must be a positive integer, got {batch!r}")
    if own is None or own == batch:
        return spec, batch
    from pydantic import ValidationError

    from accelsim.config.yaml_io import describe_validation_error

    try:
        return type(spec).model_validate({**spec.model_dump(), "batch": batch}), batch
    except ValidationError as e:
        raise ConfigError(describe_validation_error(f"--batch {batch} ({source})", "batch", e)) from None


def _run_layers(
    accel: Accelerator,
    net: Network,
    prof: SparsityProfile,
    seed: int,
    todo: list[Layer],
    jobs: int,
    batch: int = 1,
) -> Iterator[LayerRun]:
    """Each layer's (result, timeline) in network order: here, or in `jobs` worker processes."""
    from accelsim.workload.instance import LayerWorkload

    context = tuple(todo)  # what a model may need of the whole network travels with each layer
    if jobs == 1 or len(todo) < 2:
        for layer in todo:
            yield accel.simulate_layer(LayerWorkload(net.name, layer, prof, seed, context, batch))
        return
    spawn = multiprocessing.get_context("spawn")  # no forked numba or simpy state
    workers = min(jobs, len(todo))
    init = (accel.spec, net.name, prof, seed, context, batch)
    with ProcessPoolExecutor(workers, mp_context=spawn, initializer=_start_worker, initargs=init) as pool:
        yield from pool.map(_worker_layer, todo)


_WORKER: dict[str, Any] = {}
"""A worker process's model and workload, built once by `_start_worker`."""


def _start_worker(
    spec: Any, network: str, prof: SparsityProfile, seed: int, context: tuple[Layer, ...], batch: int
) -> None:
    import numba

    numba.set_num_threads(1)  # the processes already use the cores
    _WORKER.update(accel=build(spec), network=network, profile=prof, seed=seed, context=context, batch=batch)


def _worker_layer(layer: Layer) -> LayerRun:
    from accelsim.workload.instance import LayerWorkload

    w = _WORKER
    work = LayerWorkload(w["network"], layer, w["profile"], w["seed"], w["context"], w["batch"])
    result: LayerRun = _WORKER["accel"].simulate_layer(work)
    return result


def config_hash(spec: Any) -> str:
    """sha256 of the resolved config in canonical JSON: equal hashes mean equal configs."""
    return hashlib.sha256(json.dumps(spec.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def network_hash(net: Network) -> str:
    """sha256 of the layer shapes, so a run records exactly which workload it simulated."""
    shapes = [asdict(layer) for layer in net.layers]
    return hashlib.sha256(json.dumps(shapes, sort_keys=True, default=str).encode()).hexdigest()


def __getattr__(name: str) -> Any:
    if name == "RunResult":  # re-exported on demand (it imports pandas)
        from accelsim.report.result import RunResult

        return RunResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _provenance(
    accel: Accelerator,
    spec: Any,
    source: str,
    net: Network,
    prof: SparsityProfile,
    seed: int,
    skipped: dict[str, str],
    wall_s: float,
) -> dict[str, Any]:
    from accelsim import __version__

    return {
        "accelsim_version": __version__,
        "accelerator": accel.name,
        "kind": accel.kind,
        "config_source": source,
        "config": spec.model_dump(mode="json"),
        "config_sha256": config_hash(spec),
        "network": net.name,
        "network_source": net.source,
        "network_sha256": network_hash(net),
        "profile": prof.id,
        "profile_source": prof.source,
        "seed": seed,
        "skipped_layers": skipped,
        "not_simulated": {layer.name: str(layer.kind) for layer in net.layers if not layer.is_compute},
        "wall_time_s": wall_s,
        "python": platform.python_version(),
        "numpy": _numpy_version(),
    }


def _numpy_version() -> str:
    import numpy as np

    return str(np.__version__)
