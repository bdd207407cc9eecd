"""accelsim: a cycle-level simulator of sparse and unconventional CNN accelerators."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("accelsim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    # Lazy: `import accelsim` stays cheap; the API pulls in numba and simpy only when used.
    if name in ("simulate", "RunResult"):
        from accelsim import api

        return getattr(api, name)
    raise AttributeError(f"module 'accelsim' has no attribute {name!r}")


__all__ = ["RunResult", "__version__", "simulate"]
