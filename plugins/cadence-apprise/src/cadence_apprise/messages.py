"""The text of the notifications: one digest for a batch, or one notification per reminder.

Plain text, which Apprise converts to whatever each service shows (HTML,
Markdown). Nothing here reads the clock: how late a reminder is comes from
its own ``due`` and ``overdue``, which dispatch measures at the moment of the
run. Nothing here imports Apprise either.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import cadence

__all__ = ["Message", "days_late", "digest_message", "one_line", "reminder_message"]

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Bidirectional overrides and isolates can make a name display as something else.
_BIDI = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# Control characters, unpaired surrogates, and the line and paragraph separators.
_BREAKING = frozenset({"Cc", "Cs", "Zl", "Zp"})


@dataclass(frozen=True)
class Message:
    """One notification: its title and body, and the keys of the reminders it carries.

    ``id`` is stable: a reminder's key, or for a digest a hash of its keys,
    so the same notification sent again is recognised as the same one.
    ``late`` says whether any of its reminders is overdue by a day or more;
    such notifications go out with Apprise's ``warning`` type.
    """

    id: str
    keys: tuple[str, ...]
    title: str
    body: str
    late: bool


def one_line(text: str) -> str:
    """``text`` on one line: control, line-break and bidi characters become spaces."""
    kept = "".join(" " if c in _BIDI or unicodedata.category(c) in _BREAKING else c for c in text)
    return " ".join(kept.split())


def days_late(reminder: cadence.Reminder) -> int:
    """Whole days between the reminder's date and the day of the run, in the contact's zone."""
    run = (reminder.due + reminder.overdue).astimezone(reminder.contact.zone).date()
    return max((run - reminder.date).days, 0)


def _long_date(day: date) -> str:
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _when(reminder: cadence.Reminder) -> str:
    late = days_late(reminder)
    when = f"due {_long_date(reminder.date)}"
    return f"{when}, overdue by {_days(late)}" if late else when


def _channel(reminder: cadence.Reminder) -> str | None:
    return one_line(reminder.channel or reminder.contact.channel or "") or None


def _contact(reminder: cadence.Reminder) -> str:
    name = one_line(reminder.contact.name)
    email = one_line(reminder.contact.email or "")
    return f"{name} <{email}>" if email else name


def _titled(prefix: str, title: str) -> str:
    return f"{prefix} {title}" if prefix else title


def _order(reminder: cadence.Reminder) -> tuple[datetime, str, str]:
    return (reminder.due.astimezone(UTC), reminder.contact.name.casefold(), reminder.key)


def reminder_message(reminder: cadence.Reminder, prefix: str = "") -> Message:
    """The notification for one reminder: its title, then who, how, when and why."""
    lines = [
        f"Contact: {_contact(reminder)}",
        f"Channel: {_channel(reminder) or 'any'}",
        f"When: {_when(reminder)}",
    ]
    reason = one_line(reminder.reason)
    if reason:
        lines.append(f"Why: {reason}")
    return Message(
        id=reminder.key,
        keys=(reminder.key,),
        title=_titled(prefix, one_line(reminder.title)),
        body="\n".join(lines),
        late=days_late(reminder) > 0,
    )


def digest_message(reminders: Sequence[cadence.Reminder], prefix: str = "") -> Message:
    """One notification listing ``reminders`` in due order, each with its contact and channel.

    Each line names the contact (or only their address, when the title has
    their name already), the channel, the date due and how late it is; the
    reason follows on a line of its own.
    """
    ordered = sorted(reminders, key=_order)
    late = sum(1 for r in ordered if days_late(r) > 0)
    count = "1 reminder" if len(ordered) == 1 else f"{len(ordered)} reminders"
    title = f"Keep in touch: {count}" + (f", {late} overdue" if late else "")
    lines = []
    for reminder in ordered:
        line = one_line(reminder.title)
        channel = _channel(reminder)
        details = [f"by {channel}" if channel else "any channel"]
        # Titles usually name the contact already; then only the address is news.
        if one_line(reminder.contact.name) not in line:
            details.insert(0, _contact(reminder))
        elif reminder.contact.email:
            details.insert(0, one_line(reminder.contact.email))
        lines.append(f"- {line} ({', '.join(details)}): {_when(reminder)}")
        reason = one_line(reminder.reason)
        if reason:
            lines.append(f"  {reason}")
    keys = tuple(r.key for r in ordered)
    digest = hashlib.sha256("\n".join(sorted(keys)).encode("ascii")).hexdigest()[:32]
    return Message(
        id=f"digest.{digest}",
        keys=keys,
        title=_titled(prefix, title),
        body="\n".join(lines),
        late=late > 0,
    )
