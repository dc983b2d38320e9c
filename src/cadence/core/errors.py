"""The errors cadence raises when it refuses something."""

from __future__ import annotations

from datetime import datetime


class CadenceError(Exception):
    """Base class of every error cadence raises for bad input or a failed operation.

    The message says what was wrong and where, in one line that a user can act on.
    """


class ConfigError(CadenceError):
    """A route, a setting or a configuration file is wrong."""


class PluginError(CadenceError):
    """A plugin failed to load, registered a name twice, or broke its contract."""


class ImportFailed(CadenceError):
    """A file could not be imported; nothing from it was kept.

    ``path`` and ``line`` say where the problem is, when known, and
    ``reason`` what it is.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        elif line is not None:
            where = f"line {line}: "
        super().__init__(f"{where}{message}")
        self.reason = message
        self.path = path
        self.line = line


class DeliveryError(CadenceError):
    """An adapter could not deliver a batch.

    Raise it from ``deliver`` to say that every reminder of the batch failed the
    same way. ``permanent`` failures are not retried; ``retry_after`` asks for
    the next attempt no sooner than that moment.
    """

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: datetime | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class EndpointGone(DeliveryError):
    """The route's receiver said it is gone for good (HTTP 410 and the like).

    Dispatch stops using the route until its settings change.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class StoreBusy(CadenceError):
    """The store stayed locked by another process for longer than cadence waits.

    Nothing was changed; the same command run again a little later succeeds.
    The CLI exits with status 75 (``EX_TEMPFAIL``) for it.
    """
