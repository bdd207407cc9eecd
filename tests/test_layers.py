"""Imports point down the layers of the design (docs/architecture.md), never up."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "accelsim"

RANK = {
    "errors": 0,
    "config": 1,
    "workload": 2,
    "energy": 3,
    "kernels": 4,
    "engine": 5,
    "dataflows": 6,
    "accelerators": 7,
    "report": 8,
    "plots": 9,
    "api": 10,
    "compare": 11,
    "sweep": 12,
    "validate": 13,
    "cli": 14,
}
"""Each top-level module or package of accelsim and its height; a module imports only lower ones."""

SHARED = {"accelsim.report.schema"}
"""The one row type every accelerator produces: importable from any layer (it imports only energy)."""


def test_every_room_is_ranked():
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("_")}
    modules = {p.stem for p in PACKAGE.glob("*.py") if not p.name.startswith("_")}
    assert packages | modules == set(RANK) - {"__init__"}


def test_imports_point_down():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(rel.parts)
        here = rel.parts[1] if len(rel.parts) > 1 else "__init__"
        if here.startswith("_"):  # accelsim/__init__.py re-exports the public API
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("accelsim."):
                target = node.module
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("accelsim.")]
                if not names:
                    continue
                target = names[0]
            else:
                continue
            there = target.split(".")[1]
            if target in SHARED or there == here or there == "__init__":
                continue
            if RANK[there] > RANK[here]:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(wrong)
