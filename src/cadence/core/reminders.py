"""Reminders, their keys, and the agenda that planning returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, TypeAlias, overload

import attrs

from cadence.core.cadences import Every, Recurring
from cadence.core.model import Contact
from cadence.core.time import require_aware

if TYPE_CHECKING:
    from cadence.core.drift import DriftReason

__all__ = [
    "Agenda",
    "Facts",
    "History",
    "OccasionType",
    "PlanningProblem",
    "Reminder",
    "ReminderKind",
    "occasion_words",
    "reminder_key",
]

ReminderKind: TypeAlias = Literal["cadence", "occasion", "at-risk"]
#: What a check-in counts from: the last personal touch, the day the
#: relationship began, the day the contact was added (never touched), or nothing.
History: TypeAlias = Literal["touch", "start", "added", "never"]
#: Which kind of occasion a reminder is for: a one-off "event" or a "yearly" custom date.
OccasionType: TypeAlias = Literal["birthday", "anniversary", "event", "yearly"]


@attrs.frozen
class Facts:
    """What a reminder's words are made of, as facts, so that any language can say them.

    For a check-in: ``cadence`` is the contact's cadence, ``history`` what it
    counts from ("touch", "start", "added" or "never") and ``last`` that day.
    For an occasion: ``occasion`` says which kind it is, ``label`` is its
    name as the user wrote it (an anniversary's label, an event's title),
    ``count`` the age a birthday marks or an anniversary's years, ``born``
    a birthday's year and ``start`` an anniversary's first day. For an
    at-risk reminder, ``signs`` are drift's reasons as they stood when the
    episode began, strongest first. ``snoozed`` is the moment a snooze moved
    the reminder to. The words themselves come
    from ``cadence.l10n``; the core never needs them.
    """

    cadence: Every | Recurring | None = None
    history: History | None = None
    last: dt.date | None = None
    occasion: OccasionType | None = None
    label: str | None = None
    count: int | None = None
    born: int | None = None
    start: dt.date | None = None
    snoozed: datetime | None = None
    signs: tuple[DriftReason, ...] | None = None


def reminder_key(contact_id: str, purpose: str, when: str) -> str:
    """The stable key of a reminder: a hash of the contact, what it is for, and its date.

    The same inputs give the same key in every run, process and machine. It is
    32 lowercase hexadecimal characters, so it fits an iCalendar UID, a
    webhook id and a Message-ID.
    """
    # Imported here, a lookup after the first call: reading planned reminders
    # (`cadence due`) makes no keys, and hashlib loads OpenSSL.
    import hashlib

    material = "\x1f".join((contact_id, purpose, when)).encode("utf-8")
    return hashlib.sha256(material).hexdigest()[:32]


@attrs.frozen
class Reminder:
    """Something due: who, why, the local date and aware moment it is due, and a stable key.

    ``date`` is the local date in the contact's zone on which the reminder is
    due; ``due`` the aware moment, in the contact's zone; ``overdue`` how long
    ago that was when planned (zero when it is not yet due). For occasions
    ``occasion_date`` is the day itself and ``lead`` how long before it the
    reminder comes. ``reason`` says in words
    why it is due, ``purpose`` what it is for ("cadence", "birthday", ...).
    ``title`` and ``reason`` are English; ``facts`` holds what they are made
    of, from which ``cadence.l10n`` words them in any language (None for a
    reminder made without them, whose words are then its title and reason).
    """

    key: str
    contact: Contact
    kind: ReminderKind
    title: str
    date: dt.date
    due: datetime
    overdue: timedelta = timedelta(0)
    channel: str | None = None
    occasion_date: dt.date | None = None
    reason: str = ""
    purpose: str = ""
    lead: timedelta = timedelta(0)
    facts: Facts | None = None

    @property
    def occasion_name(self) -> str | None:
        """What the occasion is called ("birthday", an anniversary's label, an event's title)."""
        if self.occasion_date is None:
            return None
        kind, _, name = self.purpose.partition(":")
        return name or kind or "occasion"

    def days_to_occasion(self, now: datetime) -> int | None:
        """Days from ``now``'s date in the contact's zone to the occasion; None for a cadence.

        A reminder with a lead time comes before its occasion: this says how
        far the occasion still is (2 for "in 2 days", 0 for today), which is
        what to tell the user rather than how late the reminder is.
        """
        if self.occasion_date is None:
            return None
        today = require_aware(now, "now").astimezone(self.contact.zone).date()
        return (self.occasion_date - today).days

    def at(self, now: datetime) -> Reminder:
        """This reminder as seen at ``now``: the same, with ``overdue`` measured from ``now``."""
        now = require_aware(now, "now")
        overdue = max(now.astimezone(UTC) - self.due.astimezone(UTC), timedelta(0))
        if overdue == self.overdue:
            return self
        return attrs.evolve(self, overdue=overdue)


@attrs.frozen
class PlanningProblem:
    """A contact that could not be planned, and why; its reminders are missing from the agenda.

    Planning goes on for every other contact, so one bad rule or record never
    keeps the rest of a roster from being reminded. Show these to the user.
    """

    contact: str
    reason: str

    def __str__(self) -> str:
        return f"contact {self.contact!r} could not be planned: {self.reason}"


def occasion_words(reminder: Reminder, now: datetime) -> str | None:
    """How far the reminder's occasion is at ``now``, in words; None for a cadence.

    "birthday in 2 days", "birthday tomorrow", "Launch today", "birthday
    yesterday", "birthday 3 days ago".
    """
    days = reminder.days_to_occasion(now)
    if days is None:
        return None
    if days == 0:
        when = "today"
    elif days == 1:
        when = "tomorrow"
    elif days == -1:
        when = "yesterday"
    elif days > 0:
        when = f"in {days} days"
    else:
        when = f"{-days} days ago"
    return f"{reminder.occasion_name} {when}"


def _order(reminder: Reminder) -> tuple[datetime, str, str]:
    # In UTC: two moments in one zone compare as wall times, wrongly in a fold.
    return (reminder.due.astimezone(UTC), reminder.contact.id, reminder.key)


class _InOrder(tuple[Reminder, ...]):
    """Reminders already in agenda order (planning sorts them more cheaply than a key can)."""

    __slots__ = ()


def _sorted(reminders: Iterable[Reminder]) -> tuple[Reminder, ...]:
    if type(reminders) is _InOrder:
        return tuple(reminders)
    return tuple(sorted(reminders, key=_order))


def _problems(problems: Iterable[PlanningProblem]) -> tuple[PlanningProblem, ...]:
    return tuple(problems)


@attrs.frozen
class Agenda(Sequence[Reminder]):
    """The reminders planned at ``now``, ordered by due moment, then contact id, then key.

    It is a sequence: iterate it, index it, take its length. ``due`` holds
    what is due at or before ``now`` (overdue included), ``upcoming`` what
    falls after ``now`` within the horizon. ``problems`` names the contacts
    that could not be planned, and why: their reminders are missing, the
    rest are all there.
    """

    reminders: tuple[Reminder, ...] = attrs.field(converter=_sorted)
    now: datetime
    horizon: timedelta
    problems: tuple[PlanningProblem, ...] = attrs.field(default=(), converter=_problems)

    @property
    def due(self) -> tuple[Reminder, ...]:
        """The reminders due at or before ``now``."""
        now = self.now.astimezone(UTC)
        return tuple(r for r in self.reminders if r.due.astimezone(UTC) <= now)

    @property
    def upcoming(self) -> tuple[Reminder, ...]:
        """The reminders due after ``now``, within the horizon."""
        now = self.now.astimezone(UTC)
        return tuple(r for r in self.reminders if r.due.astimezone(UTC) > now)

    def __iter__(self) -> Iterator[Reminder]:
        return iter(self.reminders)

    def __len__(self) -> int:
        return len(self.reminders)

    @overload
    def __getitem__(self, index: int) -> Reminder: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Reminder, ...]: ...
    def __getitem__(self, index: int | slice) -> Reminder | tuple[Reminder, ...]:
        return self.reminders[index]

    def by_key(self, key: str) -> Reminder | None:
        """The reminder with ``key``, or None."""
        return next((r for r in self.reminders if r.key == key), None)
