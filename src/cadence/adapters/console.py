"""The ``console`` adapter: prints each due reminder as one line."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from cadence._terminal import neutralise
from cadence.core.errors import ConfigError
from cadence.core.reminders import Reminder


def format_line(reminder: Reminder) -> str:
    """One line for ``reminder``: date, title, channel and how overdue."""
    parts = [reminder.date.isoformat(), reminder.title]
    if reminder.channel:
        parts.append(f"via {reminder.channel}")
    days = reminder.overdue.days
    if days:
        parts.append(f"overdue {days} day" + ("" if days == 1 else "s"))
    return "  ".join(parts)


class ConsoleAdapter:
    """Writes one line per reminder to standard output or standard error."""

    def __init__(self, *, stream: str = "stdout") -> None:
        if stream not in ("stdout", "stderr"):
            raise ConfigError(f"stream is 'stdout' or 'stderr', not {stream!r}")
        self._stream = stream

    @property
    def stream(self) -> TextIO:
        """Where lines go; looked up on each use so redirections apply."""
        return sys.stdout if self._stream == "stdout" else sys.stderr

    def deliver(self, reminders: Sequence[Reminder]) -> None:
        """Print each reminder on its own line."""
        out = self.stream
        for reminder in reminders:
            # Names and titles may hold terminal controls: shown, never obeyed.
            out.write(neutralise(format_line(reminder), one_line=True) + "\n")
        out.flush()
