"""Start-up imports only what a command needs (which modules, not how long: times are in
benchmarks/bench_startup.py). A run imports its own accelerator family only; --help, validate of a
network and `list accelerators` import no numerical library."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from accelsim.accelerators import ACCELERATORS, BUILTIN
from accelsim.dataflows import BUILTIN as DATAFLOW_MODULES
from accelsim.dataflows import DATAFLOWS

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "data" / "scalesim_small"
NUMERICS = {"numpy", "pandas", "numba", "pyarrow", "matplotlib", "simpy", "dask", "distributed"}
FAMILIES = {module.rsplit(".", 1)[1] for module in BUILTIN.values()} | {"scnn_lists"}


def modules_after(args: list[str], cwd: Path) -> tuple[set[str], str]:
    """The modules a fresh interpreter holds after `accelsim ARGS` (run in-process), and its stdout."""
    code = (
        "import json, sys\n"
        "from accelsim.cli import run_cli\n"
        f"code = run_cli({args!r})\n"
        "print('MODULES=' + json.dumps(sorted(sys.modules)))\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, check=False)
    assert done.returncode == 0, done.stderr
    out, _, modules = done.stdout.rpartition("MODULES=")
    return set(json.loads(modules)), out


def family_modules(modules: set[str]) -> set[str]:
    """The accelsim accelerator, dataflow and kernel modules among `modules`, as 'layer.family'."""
    found = set()
    for name in modules:
        parts = name.split(".")
        layer = parts[1] if len(parts) >= 3 and parts[0] == "accelsim" else ""
        if layer in ("accelerators", "dataflows", "kernels") and parts[-1] in FAMILIES:
            found.add(f"{layer}.{parts[-1]}")
    return found


def test_help_imports_no_numerical_library(tmp_path):
    modules, out = modules_after(["--help"], tmp_path)
    assert "run" in out
    assert not modules & NUMERICS
    assert not family_modules(modules)


def test_validate_of_a_network_imports_no_numerical_library(tmp_path):
    modules, out = modules_after(["validate", str(ROOT / "workloads" / "vgg16.yaml")], tmp_path)
    assert "ok (network vgg16" in out
    assert not modules & NUMERICS
    assert not family_modules(modules)


@pytest.mark.parametrize(
    ("config", "multipliers"),
    [("phantom2d", 1024), ("scnn", 1024), ("sparten", 1024), ("eyeriss_v2", 384), ("winograd_fpga", 128)],
)
def test_validate_of_a_config_imports_no_numerical_kernel(tmp_path, config, multipliers):
    modules, out = modules_after(["validate", str(ROOT / "arch_configs" / f"{config}.yaml")], tmp_path)
    assert f"ok ({config}, {multipliers} multipliers" in out
    assert not modules & {"numba", "pandas", "simpy", "pyarrow"}
    assert not family_modules(modules)


def test_check_accepts_and_refuses_exactly_what_build_does():
    """The static table of shipped dataflows agrees with building the model: for every shipped config,
    every dataflow of its family and a name nobody registered, and an unknown energy table."""
    from accelsim.accelerators import SHIPPED_DATAFLOWS, build, check
    from accelsim.api import list_configs, resolve_config
    from accelsim.dataflows import all_dataflows
    from accelsim.errors import ConfigError

    dataflows = all_dataflows()
    for name in list_configs():
        spec, source = resolve_config(name)
        family, shipped = SHIPPED_DATAFLOWS[spec.kind]
        if "dataflow" in type(spec).model_fields:
            variants = [{"dataflow": d} for d in [*dataflows[family], "no_such_dataflow"]]
        else:
            assert shipped == ()
            variants = [{}]
        variants.append({"technology": spec.technology.model_copy(update={"energy_table": "no_such_table"})})
        for change in variants:
            variant = spec.model_copy(update=change)
            outcomes = []
            for fn in (check, build):
                try:
                    fn(variant, source)
                    outcomes.append("ok")
                except ConfigError as e:
                    outcomes.append(str(e))
            assert outcomes[0] == outcomes[1], (name, change)
            if "dataflow" in change and outcomes[0] == "ok":
                assert change["dataflow"] in shipped, (name, change)


def test_list_accelerators_lists_every_kind_importing_none(tmp_path):
    modules, out = modules_after(["list", "accelerators"], tmp_path)
    assert out.split() == sorted(BUILTIN)
    assert not family_modules(modules)


def test_a_small_run_imports_only_the_family_it_uses(tmp_path):
    args = ["run", str(SMALL / "ws_8x8.cfg"), "--network", str(SMALL / "small.csv"), "--out", "out"]
    modules, _ = modules_after(args, tmp_path)
    assert (tmp_path / "out" / "layers.parquet").is_file()
    assert family_modules(modules) == {"accelerators.systolic", "dataflows.systolic", "kernels.systolic"}
    assert not modules & {"dask", "distributed", "matplotlib"}


@pytest.mark.parametrize("module", sorted(set(BUILTIN.values())))
def test_the_static_kind_table_names_what_each_module_registers(module):
    importlib.import_module(module)
    registered = {kind for kind, cls in ACCELERATORS.items() if cls.__module__ == module}
    assert registered == {kind for kind, m in BUILTIN.items() if m == module}


@pytest.mark.parametrize("module", sorted(set(DATAFLOW_MODULES.values())))
def test_the_static_dataflow_table_names_what_each_module_registers(module):
    importlib.import_module(module)
    families = {
        family
        for family, found in DATAFLOWS.items()
        for obj in found.values()
        if (obj if isinstance(obj, type) else type(obj)).__module__ == module
    }
    assert families == {family for family, m in DATAFLOW_MODULES.items() if m == module}
