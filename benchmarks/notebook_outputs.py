"""Execute the notebooks and store their outputs, or check that the stored outputs are current.

The notebooks are committed with their outputs (tables, printed text and figures), so that a reader
sees the results on the repository page without running anything. Outputs are made comparable: the
volatile parts (execution counts and times, the kernel's own metadata, object addresses, absolute
paths of temporary folders) are normalised, and figures are compared by kind, not by pixels (an image
depends on the matplotlib and font versions of the machine that drew it).

    python benchmarks/notebook_outputs.py              # execute every notebook, write outputs in place
    python benchmarks/notebook_outputs.py 07           # only the notebooks whose name contains 07
    python benchmarks/notebook_outputs.py --check      # execute and compare; exit 1 on a stale one

`tests/test_notebooks.py` runs the check for every notebook.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TIMEOUT_S = 900
FIGURE_DPI = 72
"""Resolution of the stored figures (small files; the plots' own savefig calls are unaffected)."""

SETUP = f"""\
import matplotlib
matplotlib.rcParams["figure.dpi"] = {FIGURE_DPI}
"""
"""Run in the kernel before the first cell (not stored in the notebook)."""

VOLATILE = (
    (re.compile(r" at 0x[0-9a-f]+"), " at 0x…"),
    (re.compile(r"/tmp/[^\s'\"]+"), "/tmp/…"),
    (re.compile(r"\b\d+(\.\d+)? ?s elapsed\b"), "… s elapsed"),
)
"""Parts of printed text that change from run to run, and what they compare as."""


def execute(path: Path) -> nbformat.NotebookNode:
    """The notebook at `path`, executed in a fresh kernel from its own folder."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(SETUP))
    NotebookClient(
        nb, timeout=TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    del nb.cells[0]
    _tidy(nb)
    return nb


def _tidy(nb: nbformat.NotebookNode) -> None:
    """Drop what changes on every run without meaning anything: times, counts, kernel details."""
    nb.metadata.pop("widgets", None)
    for n, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.metadata.pop("execution", None)
        cell.execution_count = n + 1
        for out in cell.outputs:
            if "execution_count" in out:
                out.execution_count = n + 1
            out.get("metadata", {}).pop("execution", None)


def comparable(nb: nbformat.NotebookNode) -> list[list[tuple[str, str]]]:
    """Per code cell, its outputs as (kind, text): text as printed with the volatile parts replaced,
    figures and other binary data by MIME type only."""
    cells = []
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        outs: list[tuple[str, str]] = []
        for out in cell.outputs:
            if out.output_type == "stream":
                outs.append((out.name, _normal(out.text)))
            elif out.output_type == "error":
                outs.append(("error", f"{out.ename}: {out.evalue}"))
            else:
                data: dict[str, Any] = out.get("data", {})
                for mime in sorted(data):
                    text = data[mime] if mime.startswith("text/") else ""
                    outs.append((mime, _normal("".join(text) if isinstance(text, list) else text)))
        cells.append(outs)
    return cells


def _normal(text: str) -> str:
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def stale_cells(path: Path, executed: nbformat.NotebookNode) -> list[str]:
    """Where the outputs stored in `path` differ from `executed`'s: one line per code cell."""
    stored = comparable(nbformat.read(path, as_version=4))
    fresh = comparable(executed)
    lines = []
    for i, (old, new) in enumerate(zip(stored, fresh, strict=True)):
        if old != new:
            lines.append(f"{path.name}, code cell {i + 1}: stored {_brief(old)}, now {_brief(new)}")
    return lines


def _brief(outs: list[tuple[str, str]]) -> str:
    if not outs:
        return "no output"
    return "; ".join(f"{kind} {text[:60]!r}" if text else kind for kind, text in outs)


def selected(patterns: list[str]) -> list[Path]:
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    return [p for p in paths if not patterns or any(s in p.name for s in patterns)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="only notebooks whose file name contains one of these")
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 if stale")
    args = parser.parse_args()
    stale = []
    for path in selected(args.names):
        nb = execute(path)
        if args.check:
            stale += stale_cells(path, nb)
        else:
            nbformat.write(nb, path)
            print(f"wrote {path.relative_to(ROOT)}")
    for line in stale:
        print(line)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
