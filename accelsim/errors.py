"""The exception hierarchy: every error a user can cause derives from AccelsimError."""

from __future__ import annotations


class AccelsimError(Exception):
    """Base of every error caused by bad input; the CLI prints it without a traceback (exit 2)."""


class ConfigError(AccelsimError, ValueError):
    """A configuration, workload or profile file is missing, malformed or invalid."""


class WorkloadError(AccelsimError, ValueError):
    """A layer or network is impossible (shapes that do not fit or do not chain)."""


class UnknownNameError(AccelsimError, KeyError):
    """A name (network, profile, accelerator kind, dataflow, energy table) is not known."""

    def __init__(self, what: str, name: str, known: list[str]) -> None:
        self.what, self.name, self.known = what, name, sorted(known)
        super().__init__(f"unknown {what} {name!r}; known: {', '.join(self.known) or '(none)'}")

    def __str__(self) -> str:
        return str(self.args[0])


class UnsupportedLayerError(AccelsimError):
    """An accelerator cannot run a layer natively and no fallback was requested."""


class OutputError(AccelsimError):
    """An output cannot be written there: a file in the way, no permission, a name too long."""


class ResultsError(AccelsimError, ValueError):
    """A results file (a table, a sweep's point or manifest) cannot be read."""
