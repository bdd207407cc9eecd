"""Read a SCALE-Sim `.cfg` file as a systolic accelerator spec (for users migrating from SCALE-Sim).

SCALE-Sim words are one byte; its `InterfaceBandwidth: CALC` mode is stall-free (unlimited DRAM
bandwidth here) and `USER` mode takes `Bandwidth` in words per cycle. SCALE-Sim has no clock,
technology or energy model: those take the documented defaults below (docs/assumptions.md).
"""

from __future__ import annotations

import configparser
from pathlib import Path
from typing import Any

from accelsim.config.arch import SystolicSpec, parse_arch
from accelsim.config.text import read_text
from accelsim.errors import ConfigError

DEFAULT_CLOCK_MHZ = 1000.0
"""Assumption: SCALE-Sim counts cycles only; latency is reported at 1 GHz."""
DEFAULT_NODE_NM = 45.0
"""Assumption: energies are reported at 45 nm."""

_REQUIRED = {
    "architecture_presets": (
        "ArrayHeight",
        "ArrayWidth",
        "IfmapSramSzkB",
        "FilterSramSzkB",
        "OfmapSramSzkB",
        "Dataflow",
    ),
}


def load_scalesim_cfg(path: Path) -> SystolicSpec:
    """Translate SCALE-Sim's architecture presets into a SystolicSpec."""
    path = Path(path)
    text = read_text(path, "a SCALE-Sim config (.cfg, INI text)")
    parser = configparser.ConfigParser(interpolation=None)  # a "%" in a value is text, not a reference
    try:
        parser.read_string(text)
    except configparser.Error as e:
        raise ConfigError(f"{path}: not a valid SCALE-Sim config: {e}") from None
    for section, keys in _REQUIRED.items():
        if not parser.has_section(section):
            raise ConfigError(f"{path}: missing section [{section}] (a SCALE-Sim config needs it)")
        for key in keys:
            if not parser.has_option(section, key):
                raise ConfigError(f"{path}: [{section}] {key}: missing (required keys: {', '.join(keys)})")
    arch = parser["architecture_presets"]

    def number(key: str, kind: type = int, raw: str | None = None) -> Any:
        raw = arch.get(key, "").strip() if raw is None else raw.strip()
        try:
            return kind(raw)
        except ValueError:
            expected = "an integer" if kind is int else "a number"
            raise ConfigError(
                f"{path}: [architecture_presets] {key}: expected {expected}, got {raw!r}"
            ) from None

    mode = parser.get("run_presets", "InterfaceBandwidth", fallback="CALC").strip().upper()
    if mode not in ("CALC", "USER"):
        raise ConfigError(f"{path}: [run_presets] InterfaceBandwidth: expected CALC or USER, got {mode!r}")
    bandwidth = None
    if mode == "USER":
        if not arch.get("Bandwidth"):
            raise ConfigError(
                f"{path}: [architecture_presets] Bandwidth: required with InterfaceBandwidth USER"
            )
        bandwidth = float(min(number("Bandwidth", raw=x) for x in arch["Bandwidth"].split(",")))
    data = {
        "kind": "systolic",
        "name": parser.get("general", "run_name", fallback=path.stem).strip(),
        "source": f"SCALE-Sim config {path.name}",
        "clock_mhz": DEFAULT_CLOCK_MHZ,
        "technology": {"node_nm": DEFAULT_NODE_NM},
        "precision": {"weight_bits": 8, "act_bits": 8, "psum_bits": 8},
        "dram": {"bandwidth_bytes_per_cycle": bandwidth},
        "dataflow": arch["Dataflow"].strip().lower(),
        "rows": number("ArrayHeight"),
        "cols": number("ArrayWidth"),
        "memory": {
            "ifmap_sram_kib": number("IfmapSramSzkB", float),
            "filter_sram_kib": number("FilterSramSzkB", float),
            "ofmap_sram_kib": number("OfmapSramSzkB", float),
        },
    }
    spec = parse_arch(data, str(path))
    assert isinstance(spec, SystolicSpec)  # the data above says kind: systolic
    return spec
