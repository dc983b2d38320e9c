"""A cadence plugin that holds reminders back outside each contact's working hours.

While it is outside a contact's working hours in the contact's own zone (at
night, at the weekend), a due reminder for that contact is not delivered; it
goes out on the first dispatch run inside them. Configuration lives in the
environment, so that no key is added to a route's settings (those belong to
the route's adapter):

- ``CADENCE_WORKHOURS``: the working hours, ``09:00-17:30`` by default. A span
  that ends before it starts runs past midnight (``22:00-06:00``); ``24:00``
  ends a span at midnight.
- ``CADENCE_WORKDAYS``: the working days, ``mon-fri`` by default: day names
  and ranges, as ``mon-thu``, ``mon,wed,fri`` or ``sun-thu``.
- ``CADENCE_WORKHOURS_ROUTES``: the names of the routes to hold reminders on,
  comma-separated. When it is unset, every route except those using the
  ``ical`` adapter: a calendar reads its feed whenever it likes, so holding
  reminders back from it would only make events come and go.

A contact's tags override the defaults for that contact: ``workhours:08:00-12:00``,
``workdays:mon-wed``, and ``workhours:any`` to never hold that contact's
reminders. A malformed setting is reported by cadence, naming this plugin,
and holds nothing back.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import cadence

__all__ = ["Schedule", "applies_to", "cadence_filter_reminder", "schedule_for"]

HOURS_ENV = "CADENCE_WORKHOURS"
DAYS_ENV = "CADENCE_WORKDAYS"
ROUTES_ENV = "CADENCE_WORKHOURS_ROUTES"

DEFAULT_HOURS = "09:00-17:30"
DEFAULT_DAYS = "mon-fri"
#: Adapters that publish a feed, left alone unless CADENCE_WORKHOURS_ROUTES names their route.
FEED_ADAPTERS = frozenset({"ical"})

_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: Each day by its name and by the name's first three letters; 0 is Monday.
_DAYS = {name: i for i, full in enumerate(_NAMES) for name in (full, full[:3])}
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_MINUTES_PER_DAY = 24 * 60


def _minutes(hours: str, minutes: str, *, end: bool) -> int | None:
    h, m = int(hours), int(minutes)
    if end and (h, m) == (24, 0):
        return _MINUTES_PER_DAY
    if h > 23 or m > 59:
        return None
    return h * 60 + m


@dataclass(frozen=True)
class Schedule:
    """Working hours on working days: minutes after local midnight, and weekdays (0 is Monday)."""

    start: int
    end: int
    days: frozenset[int]

    @classmethod
    def parse(cls, hours: str, days: str) -> Schedule:
        """Read hours such as ``09:00-17:30`` and days such as ``mon-fri``."""
        return cls(*_parse_hours(hours, "hours"), _parse_days(days, "days"))

    def covers(self, local: datetime) -> bool:
        """Whether the local moment ``local`` is within working hours on a working day."""
        minute = local.hour * 60 + local.minute
        if self.start < self.end:
            return local.weekday() in self.days and self.start <= minute < self.end
        # A span past midnight belongs to the day on which it began.
        if minute >= self.start:
            return local.weekday() in self.days
        if minute < self.end:
            return (local - timedelta(days=1)).weekday() in self.days
        return False


def _parse_hours(text: str, where: str) -> tuple[int, int]:
    match = _SPAN.match(text.strip())
    start = _minutes(match.group(1), match.group(2), end=False) if match else None
    end = _minutes(match.group(3), match.group(4), end=True) if match else None
    if start is None or end is None or start == end:
        raise cadence.ConfigError(f"{where}: working hours look like 09:00-17:30, not {text!r}")
    return start, end


def _parse_days(text: str, where: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.lower().split(","):
        first, _, last = part.partition("-")
        a = _DAYS.get(first.strip())
        b = _DAYS.get(last.strip()) if last else a
        if a is None or b is None:
            raise cadence.ConfigError(
                f"{where}: working days look like mon-fri or mon,wed,fri, not {text!r}"
            )
        # A range runs forward through the week, so fri-mon is a long weekend.
        days.update((a + step) % 7 for step in range((b - a) % 7 + 1))
    return frozenset(days)


def schedule_for(
    contact: cadence.Contact, environ: Mapping[str, str] = os.environ
) -> Schedule | None:
    """The working hours of ``contact``, from its tags or the environment; None if it has none."""
    hours = environ.get(HOURS_ENV) or DEFAULT_HOURS
    days = environ.get(DAYS_ENV) or DEFAULT_DAYS
    where_hours, where_days = HOURS_ENV, DAYS_ENV
    for tag in sorted(contact.tags):
        kind, _, value = tag.partition(":")
        if kind == "workhours" and value == "any":
            return None
        if kind == "workhours":
            hours, where_hours = value, f"contact {contact.id!r}, tag {tag!r}"
        elif kind == "workdays":
            days, where_days = value, f"contact {contact.id!r}, tag {tag!r}"
    return Schedule(*_parse_hours(hours, where_hours), _parse_days(days, where_days))


def applies_to(route: cadence.Route, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether reminders on ``route`` are held back outside working hours."""
    names = {name.strip() for name in environ.get(ROUTES_ENV, "").split(",") if name.strip()}
    if names:
        return route.name in names
    return route.adapter not in FEED_ADAPTERS


@cadence.hookimpl
def cadence_filter_reminder(
    reminder: cadence.Reminder, route: cadence.Route, now: datetime
) -> bool:
    """Hold ``reminder`` back from ``route`` while it is outside the contact's working hours."""
    if reminder.due > now or not applies_to(route):
        return True
    schedule = schedule_for(reminder.contact)
    return schedule is None or schedule.covers(now.astimezone(reminder.contact.zone))
