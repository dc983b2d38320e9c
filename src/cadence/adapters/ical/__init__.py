"""The ``ical`` adapter: writes the route's agenda to an .ics file on every dispatch.

Point a web server, a synced folder or a calendar app at the file. It is
replaced atomically, and only when its bytes change, so readers never see a
half-written feed and its modification time says when something changed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from cadence.adapters.ical.render import to_ical
from cadence.core.errors import CadenceError, ConfigError, DeliveryError
from cadence.core.reminders import Agenda
from cadence.l10n import route_words


def _path(value: object) -> Path:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("the ical route needs a path: the .ics file to write")
    path = Path(value).expanduser()
    if path.is_dir():
        raise ConfigError(f"the ical route's path {str(path)!r} is a directory, not a file")
    return path


class IcalAdapter:
    """Publishes the route's agenda as an iCalendar file at ``path``.

    Settings: ``path`` (required), the file to write; ``title``, the
    calendar's name in calendar apps (default "cadence"; a route's ``name``
    names the route); ``locale``, the language of the events' titles and
    descriptions (default: ``CADENCE_LOCALE``, else the platform's). The file
    is written through a temporary file in the
    same directory and renamed over the old one, and left alone when the
    feed did not change. A new file is readable by its owner only, since a
    feed names people; an existing file keeps its mode.
    """

    def __init__(
        self,
        *,
        path: str | os.PathLike[str],
        title: str = "cadence",
        locale: str | None = None,
        **unknown: Any,
    ) -> None:
        if unknown:
            first = sorted(unknown)[0]
            raise ConfigError(f"unknown ical setting {first!r} (known: path, title, locale)")
        self.words = route_words(locale, "ical")
        self.path = _path(path)
        try:
            to_ical((), name=title)  # refuse a bad title when the route is read, not at dispatch
        except CadenceError:
            raise ConfigError(
                f"the ical route's title must be non-empty text, not {title!r}"
            ) from None
        self.title = title

    def __repr__(self) -> str:
        return f"<IcalAdapter {str(self.path)!r}>"

    def publish(self, agenda: Agenda) -> None:
        """Write ``agenda`` to the file if its bytes differ from what the file holds."""
        body = to_ical(agenda, name=self.title, words=self.words)
        try:
            if self.path.read_bytes() == body:
                return
        except FileNotFoundError:
            pass
        except OSError as error:
            raise DeliveryError(f"cannot read the feed {self.path}: {error.strerror}") from None
        try:
            write_atomically(self.path, body)
        except OSError as error:
            raise DeliveryError(f"cannot write the feed {self.path}: {error.strerror}") from None


def write_atomically(path: Path, body: bytes) -> None:
    """Put ``body`` at ``path`` in one rename, so readers see the old file or the new one."""
    try:
        mode: int | None = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not every platform can open a directory.
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
