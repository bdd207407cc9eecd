"""accelsim: a cycle-level simulator of sparse and unconventional CNN accelerators."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accelsim.api import simulate
    from accelsim.report.result import RunResult

    __version__: str


def __getattr__(name: str) -> Any:
    """`__version__`, `simulate` and `RunResult` on first use, so that `accelsim --help` imports neither
    numpy, pandas nor importlib.metadata."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("accelsim")
        except PackageNotFoundError:  # running from a source tree that was never installed
            found = "0.0.0+source"
        globals()["__version__"] = found
        return found
    if name == "simulate":
        from accelsim.api import simulate

        return simulate
    if name == "RunResult":
        from accelsim.report.result import RunResult

        return RunResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["RunResult", "__version__", "simulate"]
