"""The ``maildir`` and ``mbox`` touch sources: mail kept in local files.

``maildir(path=...)`` reads a Maildir, or a folder of them as mbsync and
offlineimap leave it (``INBOX/``, ``Sent/``, ``Archive/2024/``) or as
Maildir++ does (``.Sent``, ``.Archive.2024`` beside ``cur`` and ``new``):
every folder found under ``path`` with a ``cur`` and a ``new`` is read,
both of them. ``mbox(path=...)`` reads one mbox file (a Google Takeout
export, a Thunderbird folder), or every mbox file directly inside a folder.

Only each message's header is read: a Maildir file up to its first blank
line; an mbox through a memory map, so that a file of many gigabytes is
never loaded whole. Each header becomes a ``Message`` (``read_header``),
and the rules of ``cadence.core.touches`` decide which contacts it touched.

Syncs are incremental. For each Maildir folder the state keeps the newest
modification time seen, less a few seconds, and the names of the files
written since that mark: the next sync reads only files at or after it
whose names it has not seen (mail is never rewritten in a Maildir: flags
and moves from ``new`` to ``cur`` rename the file and keep its time). For
each mbox file it keeps the size, the modification time, the offset read
up to and a digest of the first line: an mbox only grows, so the next sync
reads from that offset, and a file that shrank or starts differently was
rewritten (compacted, replaced) and is read again from the start. A folder
or file read from the start takes only the messages dated within
``since``; a message read again has the same ref, so it is never counted
twice.

A file's modification time, or an mbox ``From`` line's date, is when the
message was written there: its arrival for mail delivered there, the
download for mail fetched later. It stands for the arrival only when the
``Date`` header is missing or is not more than ``MAX_CLOCK_SKEW`` before
it, so that old mail fetched today is not taken for mail of today. A
client that sets file times to the server's arrival date (mbsync's
``CopyArrivalDate``, offlineimap's ``utime_from_header``) can write a new
file with a time before the mark; such a message is read only when its
folder is read from the start again (its state removed).

The addresses a message in a sent folder (``Sent``, ``Sent Items``,
``[Gmail]/Sent Mail``..., a Maildir or an mbox file of a folder so named)
or with the Gmail label ``Sent`` comes from are yours: ``me`` holds them
after a sync, and the state keeps them.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Final

import attrs

from cadence.core.durations import parse_duration
from cadence.core.errors import CadenceError, ConfigError
from cadence.core.model import email_key
from cadence.core.time import require_aware
from cadence.core.touches import MAX_CLOCK_SKEW, Message
from cadence.sources._mail import read_header
from cadence.sources.batch import TouchChanges

__all__ = ["DEFAULT_SINCE", "MaildirSource", "MboxSource", "maildir", "mbox"]

#: How far back the first sync reads, unless a source says ``since``.
DEFAULT_SINCE: Final = "365d"

# A header longer than this is cut: real ones are a few kilobytes, and a
# file without a blank line must not be read whole.
_MAX_HEADER: Final = 256 * 1024
# Files written this close before the newest one seen are read again (unless
# their names are kept): a delivery writes into tmp/ and renames into new/, so
# a file may appear after a newer one was already seen.
_MARGIN_NS: Final = 5 * 10**9
_ME = "me"
_FOLDER = "folder:"
_FILE = "file:"
# Folder names that hold mail you sent (compared in lower case, last part only).
_SENT_NAMES = frozenset({"sent", "sent items", "sent messages", "sent mail", "gesendet", "envoyés"})


def _since(value: object) -> timedelta:
    try:
        return parse_duration(value)
    except CadenceError as error:
        raise ConfigError(f"since: {error}") from None


def _path(value: object) -> Path:
    if not isinstance(value, str | os.PathLike) or not str(value).strip():
        raise ConfigError(f"path must name a file or folder, not {value!r}")
    return Path(os.path.expanduser(os.fspath(value)))


def _utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, UTC)


def _written_at(message: Message, written: datetime | None) -> Message:
    """``message`` with ``written`` as its arrival, where that is the better guess (see above)."""
    if written is None or message.date is None or message.date >= written - MAX_CLOCK_SKEW:
        return attrs.evolve(message, arrived=written)
    return message


def _dated(message: Message) -> datetime | None:
    return message.date or message.arrived


def _sent_folder(name: str) -> bool:
    last = re.split(r"[/.\\]", name.strip("/."))[-1] if name not in ("", ".") else ""
    return last.lower() in _SENT_NAMES


def _read_me(state: Mapping[str, str]) -> set[str]:
    return {a for a in state.get(_ME, "").split() if "@" in a}


def _senders(message: Message) -> set[str]:
    return {email_key(a) for a in message.sender}


# -- Maildir -------------------------------------------------------------------------


_INFO = re.compile(r"[:!;]2,[^/]*$")


def _unique(name: str) -> str:
    """A Maildir file's name without its flags, which change when it is read or replied to."""
    return _INFO.sub("", name)


def _is_maildir(folder: Path) -> bool:
    return (folder / "cur").is_dir() and (folder / "new").is_dir()


def _folders(root: Path) -> dict[str, Path]:
    """Every Maildir under ``root`` by its path relative to it ("." for ``root`` itself)."""
    found: dict[str, Path] = {}
    for here, subfolders, _ in os.walk(root, followlinks=False):
        folder = Path(here)
        if _is_maildir(folder):
            found[folder.relative_to(root).as_posix()] = folder
        # Messages live in cur, new and tmp: nothing below them is a folder.
        subfolders[:] = sorted(s for s in subfolders if s not in ("cur", "new", "tmp"))
    return found


def _read_head(file: Path) -> bytes:
    """The header of a message file: its lines up to the first blank one."""
    lines = []
    size = 0
    with file.open("rb") as stream:
        for line in stream:
            if line in (b"\n", b"\r\n"):
                break
            lines.append(line)
            size += len(line)
            if size > _MAX_HEADER:
                break
    return b"".join(lines)


@attrs.frozen
class _Mark:
    """What the last sync saw of a Maildir folder: a time mark and the files at or after it."""

    ns: int
    names: frozenset[str]

    @classmethod
    def read(cls, text: str | None) -> _Mark | None:
        ns, _, names = (text or "").partition(" ")
        if not ns.isdigit():
            return None
        return cls(int(ns), frozenset(n for n in names.split("/") if n))

    def write(self) -> str:
        return " ".join([str(self.ns), "/".join(sorted(self.names))])


class MaildirSource:
    """The messages of a Maildir and its subfolders, as touch changes since the last sync."""

    def __init__(self, path: Path, *, since: timedelta) -> None:
        self.path = path
        self.since = since
        self.me: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        return f"<MaildirSource {str(self.path)!r}>"

    def close(self) -> None:
        """Nothing to close: each file is closed once read."""

    def touch_changes(self, state: Mapping[str, str], *, now: datetime) -> TouchChanges:
        """The messages written since the sync that gave ``state`` (empty the first time).

        Raises CadenceError naming ``path`` when it is missing or holds no Maildir.
        """
        now = require_aware(now, "now")
        if not self.path.is_dir():
            what = "does not exist" if not self.path.exists() else "is not a folder"
            raise CadenceError(f"maildir: {self.path} {what}")
        folders = _folders(self.path)
        if not folders:
            raise CadenceError(f"maildir: {self.path} is not a Maildir: no folder with cur and new")
        me = _read_me(state)
        written: dict[str, str] = {}
        items: list[Message] = []
        cutoff = now - self.since
        for name, folder in folders.items():
            kept = _Mark.read(state.get(_FOLDER + name))
            found, mark = self._folder(name, folder, kept, now, cutoff)
            items.extend(found)
            if _sent_folder(name):
                for message in found:
                    me |= _senders(message)
            if mark is not None:
                written[_FOLDER + name] = mark.write()
        if me:
            written[_ME] = " ".join(sorted(me))
        self.me = frozenset(me)
        return TouchChanges(items, state=written)

    def _folder(
        self, name: str, folder: Path, kept: _Mark | None, now: datetime, cutoff: datetime
    ) -> tuple[list[Message], _Mark | None]:
        files: list[tuple[int, str, Path]] = []
        for part in ("new", "cur"):
            try:
                entries = list(os.scandir(folder / part))
            except OSError as error:
                raise CadenceError(
                    f"maildir: cannot read {folder / part}: {error.strerror}"
                ) from None
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                try:
                    if not entry.is_file():
                        continue
                    ns = entry.stat().st_mtime_ns
                except OSError:
                    continue  # renamed or removed while listed: the next sync sees it
                files.append((ns, entry.name, Path(entry.path)))
        if not files:
            return [], kept
        # A file dated in the future (a clock ahead, an arrival date copied from a
        # server) must not carry the mark past the files still to come.
        newest = min(max(ns for ns, _, _ in files), int(now.timestamp()) * 10**9)
        mark_ns = newest - _MARGIN_NS
        if kept is not None:
            mark_ns = max(mark_ns, kept.ns)
        items = []
        for ns, file_name, file in sorted(files):
            unique = _unique(file_name)
            if kept is not None and (ns < kept.ns or unique in kept.names):
                continue
            written = _utc(ns)
            # A file written before the cutoff holds mail that arrived before it.
            if kept is None and written < cutoff:
                continue
            try:
                raw = _read_head(file)
            except OSError:
                continue  # moved away since listed: it is read where it went
            where = f"maildir:{name}/{unique}"
            message = _written_at(read_header(raw, where=where), written)
            dated = _dated(message)
            if kept is None and (dated is None or dated < cutoff):
                continue
            items.append(message)
        names = frozenset(_unique(n) for ns, n, _ in files if ns >= mark_ns)
        return items, _Mark(mark_ns, names)


def maildir(*, path: str, since: str = DEFAULT_SINCE) -> MaildirSource:
    """Build the ``maildir`` touch source from a ``[[sources]]`` table's settings.

    ``path`` is a Maildir, or a folder holding Maildirs at any depth (as
    mbsync or offlineimap write them); ``since`` how far back the first
    sync reads ("365d", "26 weeks").
    """
    return MaildirSource(_path(path), since=_since(since))


# -- mbox ----------------------------------------------------------------------------

# "From sender date": the date has a time of day and a four-digit year.
_FROM_LINE = re.compile(rb"From \S*\s+(.*\d{1,2}:\d{2}.*\d{4}.*)")


def _from_line_date(line: bytes) -> datetime | None:
    match = _FROM_LINE.fullmatch(line.rstrip(b"\r\n"))
    if match is None:
        return None
    try:
        moment = parsedate_to_datetime(match.group(1).decode("ascii", "replace"))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # RFC 4155 writes the "From " line's date in UTC, without a zone.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _separator(data: mmap.mmap | bytes, start: int) -> bool:
    """Whether a message starts at ``start``: a "From " line with a date."""
    end = data.find(b"\n", start)
    line = data[start : end if end >= 0 else len(data)]
    return line.startswith(b"From ") and _FROM_LINE.fullmatch(line.rstrip(b"\r\n")) is not None


def _next_message(data: mmap.mmap, position: int) -> int | None:
    """The offset of the first message starting at or after ``position``."""
    at_line = position == 0 or data[position - 1 : position] == b"\n"
    if position < len(data) and at_line and _separator(data, position):
        return position
    while True:
        found = data.find(b"\nFrom ", position)
        if found < 0:
            return None
        if _separator(data, found + 1):
            return found + 1
        position = found + 1


def _messages(data: mmap.mmap, position: int) -> Iterator[tuple[int, bytes, bytes]]:
    """Each message from ``position`` on: its offset, "From " line and header."""
    start = _next_message(data, position)
    while start is not None:
        line_end = data.find(b"\n", start)
        if line_end < 0:
            return
        following = _next_message(data, line_end)
        limit = following if following is not None else len(data)
        head_start = line_end + 1
        ends = [
            found
            for found in (
                data.find(b"\n\n", line_end, limit),
                data.find(b"\n\r\n", line_end, limit),
            )
            if found >= 0
        ]
        head_end = min(ends) + 1 if ends else limit
        yield (
            start,
            data[start:line_end],
            data[head_start : min(head_end, head_start + _MAX_HEADER)],
        )
        start = following


@attrs.frozen
class _Read:
    """What the last sync saw of an mbox file."""

    size: int
    mtime_ns: int
    offset: int
    head: str

    @classmethod
    def read(cls, text: str | None) -> _Read | None:
        parts = (text or "").split()
        if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]):
            return None
        return cls(int(parts[0]), int(parts[1]), int(parts[2]), parts[3])

    def write(self) -> str:
        return f"{self.size} {self.mtime_ns} {self.offset} {self.head}"


def _head_digest(data: mmap.mmap) -> str:
    end = data.find(b"\n", 0, 4096)
    return hashlib.sha256(data[: end if end >= 0 else min(len(data), 4096)]).hexdigest()[:16]


def _gmail_sent(raw: bytes) -> bool:
    # Takeout marks mail you sent with the label "Sent" in X-Gmail-Labels.
    match = re.search(rb"^X-Gmail-Labels:(.*(?:\r?\n[ \t].*)*)", raw, re.MULTILINE | re.IGNORECASE)
    if match is None:
        return False
    labels = re.sub(rb"\s+", b" ", match.group(1)).split(b",")
    return any(label.strip().lower() == b"sent" for label in labels)


def _looks_like_mbox(file: Path) -> bool:
    try:
        with file.open("rb") as stream:
            return _separator(stream.readline(1024), 0)
    except OSError:
        return False


class MboxSource:
    """The messages of an mbox file (or of the mbox files in a folder), as touch changes."""

    def __init__(self, path: Path, *, since: timedelta) -> None:
        self.path = path
        self.since = since
        self.me: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        return f"<MboxSource {str(self.path)!r}>"

    def close(self) -> None:
        """Nothing to close: each file is closed once read."""

    def _files(self) -> dict[str, Path]:
        if not self.path.exists():
            raise CadenceError(f"mbox: {self.path} does not exist")
        if self.path.is_file():
            if self.path.stat().st_size and not _looks_like_mbox(self.path):
                raise CadenceError(
                    f"mbox: {self.path} is not an mbox: it does not start with 'From '"
                )
            return {self.path.name: self.path}
        found = {
            file.name: file
            for file in sorted(self.path.iterdir())
            if file.is_file() and _looks_like_mbox(file)
        }
        if not found:
            raise CadenceError(f"mbox: {self.path} holds no mbox file")
        return found

    def touch_changes(self, state: Mapping[str, str], *, now: datetime) -> TouchChanges:
        """The messages added since the sync that gave ``state`` (empty the first time).

        Raises CadenceError naming ``path`` when it is missing or is no mbox.
        """
        now = require_aware(now, "now")
        me = _read_me(state)
        written: dict[str, str] = {}
        items: list[Message] = []
        for name, file in self._files().items():
            kept = _Read.read(state.get(_FILE + name))
            found, read = self._file(name, file, kept, now - self.since, me)
            items.extend(found)
            written[_FILE + name] = read.write()
        if me:
            written[_ME] = " ".join(sorted(me))
        self.me = frozenset(me)
        return TouchChanges(items, state=written)

    def _file(
        self, name: str, file: Path, kept: _Read | None, cutoff: datetime, me: set[str]
    ) -> tuple[list[Message], _Read]:
        try:
            with file.open("rb") as stream:
                status = os.fstat(stream.fileno())
                if kept is not None and (kept.size, kept.mtime_ns) == (
                    status.st_size,
                    status.st_mtime_ns,
                ):
                    return [], kept
                if status.st_size == 0:
                    return [], _Read(0, status.st_mtime_ns, 0, "")
                with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    return self._map(name, data, status.st_mtime_ns, kept, cutoff, me)
        except OSError as error:
            raise CadenceError(f"mbox: cannot read {file}: {error.strerror}") from None

    def _map(
        self,
        name: str,
        data: mmap.mmap,
        mtime_ns: int,
        kept: _Read | None,
        cutoff: datetime,
        me: set[str],
    ) -> tuple[list[Message], _Read]:
        size = len(data)
        head = _head_digest(data)
        sent = self.path.is_dir() and _sent_folder(name)
        # An mbox only grows: one that shrank or starts otherwise was rewritten.
        resume = kept is not None and kept.size <= size and kept.head == head
        position = kept.offset if kept is not None and resume else 0
        items = []
        for offset, from_line, raw in _messages(data, position):
            message = _written_at(
                read_header(raw, where=f"mbox:{name}@{offset}"), _from_line_date(from_line)
            )
            if not resume:
                dated = _dated(message)
                if dated is None or dated < cutoff:
                    continue
            if sent or _gmail_sent(raw):
                me |= _senders(message)
            items.append(message)
        return items, _Read(size, mtime_ns, size, head)


def mbox(*, path: str, since: str = DEFAULT_SINCE) -> MboxSource:
    """Build the ``mbox`` touch source from a ``[[sources]]`` table's settings.

    ``path`` is an mbox file, or a folder whose mbox files are all read
    (Thunderbird keeps one a folder); ``since`` how far back the first sync
    reads ("365d", "26 weeks").
    """
    return MboxSource(_path(path), since=_since(since))
