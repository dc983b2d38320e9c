"""The ``jsonl`` adapter: appends each due reminder as one JSON object per line to a file.

A simple bridge to scripts and automation tools that tail a file. Each batch
is written with one call and flushed to disk before it counts as delivered.
The lines hold names, so a file the adapter creates is readable by its owner
only (0600); a file that exists keeps its mode.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from cadence.adapters import _settings as check
from cadence.core.errors import ConfigError, DeliveryError
from cadence.core.reminders import Reminder
from cadence.core.serial import reminder_to_json

#: One encoder for every line: ``json.dumps`` with options builds a new one per call.
_encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


class JsonLinesAdapter:
    """Appends reminders to ``path``, one JSON object per line (see ``cadence due --json``)."""

    def __init__(self, *, path: object, fsync: object = True) -> None:
        if not isinstance(path, str) or not path:
            raise ConfigError("the jsonl adapter needs a 'path'")
        self.path = Path(path).expanduser()
        self.fsync = check.flag("fsync", fsync)

    def deliver(self, reminders: Sequence[Reminder]) -> None:
        """Append one line per reminder; raise DeliveryError if the file cannot be written."""
        text = "".join(_encode(reminder_to_json(r)) + "\n" for r in reminders)
        try:
            with _open_private(self.path) as stream:
                stream.write(text)
                stream.flush()
                if self.fsync and self.path.is_file():
                    os.fsync(stream.fileno())
        except OSError as error:
            raise DeliveryError(f"cannot write {self.path}: {error.strerror}") from None


def _open_private(path: Path) -> TextIO:
    """``path`` opened for appending; created 0600 whatever the umask if it is new."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Not new (a file, a pipe, a device): it keeps the mode it has.
        handle = os.open(path, os.O_WRONLY | os.O_APPEND)
    else:
        if hasattr(os, "fchmod"):  # POSIX; the umask may have taken bits
            os.fchmod(handle, 0o600)
    return os.fdopen(handle, "a", encoding="utf-8")
