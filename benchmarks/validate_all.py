"""The full validation run: every figure of validation/figures.yaml, slow ones included, held to its pin.

Prints model against paper for every figure and exits 1 naming each figure whose error moved off its
pinned value (the test suite holds only the fast figures to their pins). With --write it also
rewrites the generated table of docs/validation.md, as `accelsim validate-papers --update-docs` does.

    python benchmarks/validate_all.py [--write]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from accelsim.validate import load_shipped, markdown, run_figures, update_page

DOC = Path(__file__).resolve().parent.parent / "docs" / "validation.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite the generated table of {DOC}")
    args = parser.parse_args()
    figures = load_shipped()
    t0 = time.perf_counter()
    table = run_figures(figures, progress=lambda r: print(f"  ran {r.config} on {r.network} ({r.profile})"))
    print(markdown(table))
    moved = [
        f"{f.id}: error {err:+.4f}, pinned {f.pinned_error:+.4f}"
        for f, err in zip(figures, table.error, strict=True)
        if f.pinned_error is not None and abs(err - f.pinned_error) > f.pin_band
    ]
    print(f"{len(figures)} figures in {time.perf_counter() - t0:.0f} s")
    if args.write:
        update_page(DOC, table)
        print(f"wrote {DOC}")
    if moved:
        print("figures moved off their pins:\n  " + "\n  ".join(moved))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
