"""accelsim: a cycle-level simulator of sparse and unconventional CNN accelerators."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("accelsim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

from accelsim.api import simulate  # after __version__: api records it in provenance
from accelsim.report.result import RunResult

__all__ = ["RunResult", "__version__", "simulate"]
