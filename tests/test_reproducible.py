"""Every shipped model gives bit-identical results for the same config, network, profile and seed, in
this process and in a fresh one (masks come from SeedSequence; kernels are deterministic, including
SCNN's parallel one)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

import accelsim
from accelsim.errors import ConfigError

CASES = [
    ("systolic_ws_32x32_lpddr4", "mobilenet_v1_0.5_128", "pruned"),
    ("phantom2d", "mobilenet_v1_0.5_128", "pruned"),
    ("scnn", "mobilenet_v1_0.5_128", "pruned"),
    ("sparten", "mobilenet_v1_0.5_128", "pruned"),
    ("eyeriss_v2", "mobilenet_v1_0.5_128", "pruned"),
    ("eyeriss_v1", "mobilenet_v1_0.5_128", "dense"),
    ("imce", "alexnet", "dense"),
    ("winograd_fpga", "alexnet", "dense"),
]

SNIPPET = """
import hashlib, json, sys
import accelsim
cases = json.loads(sys.argv[1])
out = {}
for config, network, profile in cases:
    run = accelsim.simulate(config, network, profile, seed=3, skip_unsupported=True)
    out[config] = hashlib.sha256(run.layers.to_csv(index=False).encode()).hexdigest()
print(json.dumps(out))
"""


def digest(config: str, network: str, profile: str) -> str:
    run = accelsim.simulate(config, network, profile, seed=3, skip_unsupported=True)
    return hashlib.sha256(run.layers.to_csv(index=False).encode()).hexdigest()


def test_every_model_is_bit_identical_across_runs_and_processes() -> None:
    here = {config: digest(config, network, profile) for config, network, profile in CASES}
    again = {config: digest(config, network, profile) for config, network, profile in CASES}
    assert again == here
    child = subprocess.run(
        [sys.executable, "-c", SNIPPET, json.dumps(CASES)], capture_output=True, text=True, check=True
    )
    assert json.loads(child.stdout) == here


def test_the_seed_changes_the_masks_and_so_the_sparse_results() -> None:
    run = accelsim.simulate("phantom2d", "mobilenet_v1_0.5_128", "pruned", seed=4)
    other = hashlib.sha256(run.layers.to_csv(index=False).encode()).hexdigest()
    assert other != digest("phantom2d", "mobilenet_v1_0.5_128", "pruned")


def test_layers_in_worker_processes_give_the_serial_result() -> None:
    serial = accelsim.simulate("imce", "mobilenet_v1_0.5_128", "pruned", seed=3)
    parallel = accelsim.simulate("imce", "mobilenet_v1_0.5_128", "pruned", seed=3, jobs=2)
    assert parallel.layers.equals(serial.layers)
    assert parallel.timeline.equals(serial.timeline)
    sparse = accelsim.simulate("phantom2d", "mobilenet_v1_0.5_128", "pruned", seed=3, jobs=2)
    assert hashlib.sha256(sparse.layers.to_csv(index=False).encode()).hexdigest() == digest(
        "phantom2d", "mobilenet_v1_0.5_128", "pruned"
    )


def test_jobs_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="jobs must be at least 1"):
        accelsim.simulate("phantom2d", "mobilenet_v1_0.5_128", jobs=0)
