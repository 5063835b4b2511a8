"""The one error family of syncd.

Every failure a user can meet is a `SyncdError`; the CLI turns it into one clear line (or a list
of lines for a `ConfigError`) and an exit code. Anything else escaping is a bug.
"""

from __future__ import annotations


class SyncdError(Exception):
    """Base of every error syncd reports to a person."""

    exit_code = 1


class ConfigError(SyncdError):
    """The configuration is invalid; carries every problem found, each as one line."""

    exit_code = 2

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class SourceError(SyncdError):
    """A contact source could not be read as a whole (missing folder, unreadable file, server)."""


class TargetError(SyncdError):
    """A calendar target failed: names the URL or path and the status."""


class PreconditionFailed(TargetError):
    """A conditional write lost a race (HTTP 412 or its local equivalent): re-read, never force."""


class StateError(SyncdError):
    """The SQLite state file is unusable (newer schema, corrupt, not writable)."""
