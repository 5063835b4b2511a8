"""The one error family of syncd.

Every failure a user can meet is a `SyncdError`; the CLI turns it into one clear line (or a list
of lines for a `ConfigError`) and an exit code. Anything else escaping is a bug.
"""

from __future__ import annotations

from http import HTTPStatus


class SyncdError(Exception):
    """Base of every error syncd reports to a person."""

    exit_code = 1


class ConfigError(SyncdError):
    """The configuration is invalid; carries every problem found, each as one line."""

    exit_code = 2

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class ServerError(SyncdError):
    """A failure of a server or store behind a source or a target: names the URL or path and
    the status. `status` is the HTTP status when there was one; `retry_after` the server's
    Retry-After in seconds."""

    def __init__(self, message: str, *, status: int | None = None,
                 retry_after: float | None = None, connection: bool = False):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.connection = connection  # the server could not be reached at all

    @property
    def transient(self) -> bool:
        """Worth retrying later: unreachable, overloaded or failing server."""
        if self.connection:
            return True
        return self.status is not None and (self.status >= HTTPStatus.INTERNAL_SERVER_ERROR
                                            or self.status == HTTPStatus.TOO_MANY_REQUESTS)

    @property
    def auth(self) -> bool:
        """The server refused who we are: retrying cannot help until the config changes."""
        return self.status in (401, 403)


class SourceError(ServerError):
    """A contact source could not be read as a whole (missing folder, unreadable file, server)."""


class TargetError(ServerError):
    """A calendar target failed."""


class TargetMissing(TargetError):
    """The calendar is not there (a folder gone, a collection answering 404 or 410): nothing is
    decided about the follow-ups it held."""


class PreconditionFailed(TargetError):
    """A conditional write lost a race (HTTP 412 or its local equivalent): re-read, never force."""


class StateError(SyncdError):
    """The SQLite state file is unusable (newer schema, corrupt, not writable)."""
