"""The ``jsonl`` adapter: appends each due reminder as one JSON object per line to a file.

A simple bridge to scripts and automation tools that tail a file. Each batch
is written with one call and flushed to disk before it counts as delivered.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from cadence.adapters import _settings as check
from cadence.core.errors import ConfigError, DeliveryError
from cadence.core.reminders import Reminder
from cadence.core.serial import reminder_to_json


class JsonLinesAdapter:
    """Appends reminders to ``path``, one JSON object per line (see ``cadence due --json``)."""

    def __init__(self, *, path: object, fsync: object = True) -> None:
        if not isinstance(path, str) or not path:
            raise ConfigError("the jsonl adapter needs a 'path'")
        self.path = Path(path).expanduser()
        self.fsync = check.flag("fsync", fsync)

    def deliver(self, reminders: Sequence[Reminder]) -> None:
        """Append one line per reminder; raise DeliveryError if the file cannot be written."""
        text = "".join(
            json.dumps(reminder_to_json(r), ensure_ascii=False, sort_keys=True) + "\n"
            for r in reminders
        )
        try:
            with self.path.open("a", encoding="utf-8") as stream:
                stream.write(text)
                stream.flush()
                if self.fsync and self.path.is_file():
                    os.fsync(stream.fileno())
        except OSError as error:
            raise DeliveryError(f"cannot write {self.path}: {error.strerror}") from None
