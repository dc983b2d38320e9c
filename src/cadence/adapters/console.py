"""The ``console`` adapter: prints each due reminder as one line."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO

from cadence._terminal import neutralise
from cadence.core.errors import ConfigError
from cadence.core.reminders import Reminder
from cadence.l10n import ENGLISH, Words, route_words


def format_line(reminder: Reminder, now: datetime | None = None, words: Words = ENGLISH) -> str:
    """One line for ``reminder``: date, title, channel and how overdue.

    An occasion says how far it is instead ("birthday in 2 days"): a reminder
    ahead of a birthday is late only as a to-do. ``now`` defaults to the
    moment the reminder was seen at, its due moment plus how overdue it is.
    ``words`` words it (``cadence.l10n``; the core's English by default).
    """
    parts = [reminder.date.isoformat(), words.title(reminder)]
    if reminder.channel:
        parts.append(words.gettext("via {channel}", channel=reminder.channel))
    days = reminder.overdue.days
    occasion = words.occasion_words(reminder, now or reminder.due + reminder.overdue)
    if occasion is not None:
        parts.append(occasion)
    elif days:
        parts.append(words.overdue(days))
    return "  ".join(parts)


class ConsoleAdapter:
    """Writes one line per reminder to standard output or standard error.

    Settings: ``stream`` ("stdout" or "stderr"); ``locale``, the language of
    the lines (default: ``CADENCE_LOCALE``, else the platform's).
    """

    def __init__(self, *, stream: str = "stdout", locale: str | None = None) -> None:
        if stream not in ("stdout", "stderr"):
            raise ConfigError(f"stream is 'stdout' or 'stderr', not {stream!r}")
        self._stream = stream
        self.words = route_words(locale, "console")

    @property
    def stream(self) -> TextIO:
        """Where lines go; looked up on each use so redirections apply."""
        return sys.stdout if self._stream == "stdout" else sys.stderr

    def deliver(self, reminders: Sequence[Reminder]) -> None:
        """Print each reminder on its own line."""
        out = self.stream
        for reminder in reminders:
            # Names and titles may hold terminal controls: shown, never obeyed.
            line = format_line(reminder, words=self.words)
            out.write(neutralise(line, one_line=True) + "\n")
        out.flush()
