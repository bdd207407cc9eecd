"""Where the shipped data lives, and which networks and sparsity profiles it holds.

The data folders (`workloads/`, `arch_configs/`, `validation/`) sit at the repository root in a
source checkout and are copied to `accelsim/_data/` inside an installed wheel (see `pyproject.toml`,
force-include).
"""

from __future__ import annotations

from pathlib import Path

from accelsim.errors import UnknownNameError

DATA_DIRS: tuple[str, ...] = ("workloads", "arch_configs", "validation")
"""Names of the data folders shipped with accelsim."""

DENSE_PROFILE = "dense"
"""The profile id that exists for every network without a file: all weights and activations non-zero."""

# NOTE: the same folder as `Path(accelsim.__file__).parent`, taken from this file so that it also
# works while `accelsim` is a namespace package (no __init__.py, so no __file__).
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    """The shipped data folder `name` (one of DATA_DIRS): wheel copy first, else repo root."""
    if name not in DATA_DIRS:
        raise UnknownNameError("data folder", name, list(DATA_DIRS))
    installed = _PACKAGE_DIR / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / name


def list_networks() -> list[str]:
    """Names of the shipped networks (the stems of `workloads/*.yaml`), sorted."""
    folder = data_dir("workloads")
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.yaml") if p.is_file())


def network_path(name: str) -> Path:
    """The YAML file of the shipped network `name`; an unknown name raises UnknownNameError."""
    path = data_dir("workloads") / f"{name}.yaml"
    if not path.is_file():
        raise UnknownNameError("network", name, list_networks())
    return path


def profile_dir(network: str) -> Path:
    """The folder holding the shipped sparsity profiles of `network` (it may not exist)."""
    return data_dir("workloads") / "profiles" / network


def shipped_profile_ids(network: str) -> list[str]:
    """Ids of the profiles shipped for `network` as files, sorted ('dense' is implicit, not listed)."""
    folder = profile_dir(network)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.yaml") if p.is_file())


def list_profiles(network: str | None = None) -> list[tuple[str, str]]:
    """(network, profile id) pairs, sorted; 'dense' exists for every network without a file."""
    if network is not None and network not in list_networks():
        raise UnknownNameError("network", network, list_networks())
    networks = list_networks() if network is None else [network]
    pairs = {(net, pid) for net in networks for pid in [DENSE_PROFILE, *shipped_profile_ids(net)]}
    return sorted(pairs)


def profile_path(network: str, profile_id: str) -> Path:
    """The YAML file of a shipped profile; an unknown id raises UnknownNameError listing the known ones.

    'dense' has no file: `accelsim.workload.sparsity.load_profile` handles it before asking here.
    """
    path = profile_dir(network) / f"{profile_id}.yaml"
    if not path.is_file():
        known = [DENSE_PROFILE, *shipped_profile_ids(network)]
        raise UnknownNameError(f"sparsity profile of network {network!r}", profile_id, known)
    return path


def looks_like_path(name_or_path: str | Path) -> bool:
    """True when the argument names a file (a Path, a .yaml/.yml name, or a string with a separator)."""
    if isinstance(name_or_path, Path):
        return True
    return name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path or "\\" in name_or_path
