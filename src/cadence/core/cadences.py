"""Cadences: how often a contact should hear from you.

Two kinds exist. ``Every`` slides: it counts from the last personal touchpoint.
``Recurring`` is fixed: it names moments from an RFC 5545 RRULE, in the
contact's zone, and each moment is satisfied by any personal touchpoint since
the moment before it.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from calendar import isleap
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TypeAlias

import attrs
from dateutil.rrule import rrule, rrulestr

from cadence.core.durations import shown_value as _shown
from cadence.core.errors import CadenceError

__all__ = ["Cadence", "Every", "Recurring", "parse_cadence"]

# Mean length of a Gregorian month, used only to compare how frequent cadences are.
_DAYS_PER_MONTH = 365.2425 / 12
# An anchor far enough back that any start-less rule has moments before "now".
_ANCHOR = date(2000, 1, 1)
# The longest interval a sliding cadence may have: a hundred years.
_MAX_DAYS = 36525
_MAX_MONTHS = 1200
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the end of the month."""
    if not months:
        return day
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    if day.day <= 28:
        return date(year, month, day.day)
    last = 29 if month == 2 and isleap(year) else _MONTH_DAYS[month - 1]
    return date(year, month, min(day.day, last))


def _non_negative(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CadenceError(f"{name} must be a whole number of zero or more, not {_shown(value)}")
    return value


class _PastTheCalendar(CadenceError, OverflowError):
    """A date would lie past the year 9999, where Python's calendar ends.

    An OverflowError too, so that code written for the error that date
    arithmetic raises there keeps working.
    """


@attrs.define(frozen=True, init=False)
class Every:
    """A sliding cadence: due ``months``, ``weeks`` and ``days`` after the last personal touch.

    Weeks are kept as days, so ``Every(weeks=2) == Every(days=14)``. Months are
    calendar months and clamp to the month's end: 31 January plus a month is
    the last day of February.
    """

    months: int
    days: int

    def __init__(self, *, days: int = 0, weeks: int = 0, months: int = 0) -> None:
        days = _non_negative("days", days)
        weeks = _non_negative("weeks", weeks)
        months = _non_negative("months", months)
        if not (days or weeks or months):
            raise CadenceError("a cadence needs an interval longer than zero")
        if days + 7 * weeks > _MAX_DAYS or months > _MAX_MONTHS:
            raise CadenceError(
                f"a cadence of {_shown(days)} days, {_shown(weeks)} weeks and "
                f"{_shown(months)} months is longer than the most allowed, a hundred years"
            )
        self.__attrs_init__(months=months, days=days + 7 * weeks)

    def after(self, day: date) -> date:
        """The date this cadence falls due when the last touch was on ``day``.

        Raises CadenceError when that date would lie past the year 9999.
        """
        given: object = day  # callers may pass anything at run time
        if not isinstance(given, date):
            raise CadenceError(f"after() needs a date, not {given!r}")
        try:
            return add_months(day, self.months) + timedelta(days=self.days)
        except (OverflowError, ValueError):
            raise _PastTheCalendar(
                f"{self.describe()} after {day.isoformat()} lies past the year 9999"
            ) from None

    @property
    def approx_days(self) -> float:
        """The interval's mean length in days, to compare how frequent cadences are."""
        return self.months * _DAYS_PER_MONTH + self.days

    def describe(self) -> str:
        """The cadence in words: "every 2 weeks", "every month"."""
        return _describe_every(self.months, self.days)


@lru_cache(maxsize=256)
def _describe_every(months: int, days: int) -> str:
    # Planning describes the same few cadences for every contact.
    parts = []
    if months:
        if months % 12 == 0:
            parts.append(_plural(months // 12, "year"))
        else:
            parts.append(_plural(months, "month"))
    if days:
        if days % 7 == 0:
            parts.append(_plural(days // 7, "week"))
        else:
            parts.append(_plural(days, "day"))
    return "every " + " and ".join(parts)


def _plural(n: int, unit: str) -> str:
    return unit if n == 1 else f"{n} {unit}s"


_FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY")
# The time of day comes from ``at``: these would add moments within a day.
_TIME_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")
# Parts whose values must lie in a range: dateutil accepts some values out of
# range (BYMONTHDAY=0 makes a daily rule) or searches until the year 9999 for a
# moment that never comes.
_RANGES = {
    "INTERVAL": (1, 10_000, False),
    "COUNT": (1, 1_000_000, False),
    "BYMONTH": (1, 12, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
}
_UNTIL_UTC = re.compile(r"(UNTIL=\d{8}T\d{6})Z")


def _check_parts(body: str, text: object) -> None:
    parts: dict[str, str] = {}
    for part in body.split(";"):
        name, equals, value = part.partition("=")
        if not equals or not name or not value:
            raise CadenceError(f"not an RRULE: {text!r}")
        if name in parts:
            raise CadenceError(f"{name} appears twice in the RRULE {text!r}")
        parts[name] = value
    freq = parts.get("FREQ")
    if freq not in _FREQUENCIES:
        if freq in ("HOURLY", "MINUTELY", "SECONDLY"):
            raise CadenceError(f"a cadence cannot be more frequent than daily: {text!r}")
        raise CadenceError(f"an RRULE needs FREQ=YEARLY, MONTHLY, WEEKLY or DAILY: {text!r}")
    for name in _TIME_PARTS:
        if name in parts:
            raise CadenceError(f"give the time of day with at=, not {name} in the RRULE {text!r}")
    for name, (low, high, signed) in _RANGES.items():
        if name in parts:
            for value in parts[name].split(","):
                try:
                    number = int(value)
                except ValueError:
                    raise CadenceError(f"{name}={value} is not a number in {text!r}") from None
                if not (low <= number <= high or (signed and low <= -number <= high)):
                    raise CadenceError(f"{name}={value} is out of range in {text!r}")


def _normalise_rrule(text: object) -> str:
    if not isinstance(text, str):
        raise CadenceError(f"an RRULE must be text, not {text!r}")
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    body = body.strip().upper()
    if not body or "\n" in body or "\r" in body:
        raise CadenceError(f"not an RRULE: {text!r}")
    if "DTSTART" in body:
        raise CadenceError(f"give the start with start=, not in the RRULE: {text!r}")
    _check_parts(body, text)
    return body


def _rrule_text(text: str) -> str:
    return _normalise_rrule(text)


class _Moments:
    """Naive local occurrences of one rule, generated lazily and searched by bisection.

    Equal rules share one: the occurrences are generated once for a whole
    roster. A lock keeps the generator to one thread at a time.
    """

    __slots__ = ("_iterator", "_lock", "exhausted", "items")

    def __init__(self, rule: rrule) -> None:
        self._iterator: Iterator[datetime] = iter(rule)
        self._lock = threading.Lock()
        self.items: list[datetime] = []
        self.exhausted = False

    def around(self, wall: datetime, until: datetime) -> tuple[list[datetime], list[datetime]]:
        """The last two occurrences at or before ``wall``; those after it to ``until``; one more.

        The one more is the next moment beyond ``until``, if any, so callers
        always learn when the next moment comes.
        """
        items = self.items
        if not self.exhausted and (not items or items[-1] <= until):
            with self._lock:
                while not self.exhausted and (not items or items[-1] <= until):
                    try:
                        items.append(next(self._iterator))
                    except (StopIteration, ValueError, OverflowError):
                        # dateutil ends a rule at the year 9999, by running out
                        # or by failing to build a date beyond it.
                        self.exhausted = True
        split = bisect_right(items, wall)
        end = bisect_right(items, until)
        return items[max(0, split - 2) : split], items[split : max(end, split) + 1]


def _build_rule(body: str, at: time, start: date | None) -> rrule:
    first = datetime.combine(start or _ANCHOR, at)
    # The moments are wall times in the contact's zone, so an UNTIL given in
    # UTC (as calendar programs write it) is read as a wall time too.
    body = _UNTIL_UTC.sub(r"\1", body)
    try:
        rule = rrulestr(body, dtstart=first, cache=False)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as error:
        raise CadenceError(f"not a valid RRULE {body!r}: {error}") from None
    if not isinstance(rule, rrule):
        raise CadenceError(f"give a single RRULE, not a set: {body!r}")
    return rule


@lru_cache(maxsize=1024)
def _shared_moments(body: str, at: time, start: date | None) -> _Moments:
    return _Moments(_build_rule(body, at, start))


@attrs.define(frozen=True)
class Recurring:
    """A fixed cadence: due at the moments of an RFC 5545 RRULE in the contact's zone.

    ``rrule`` is the rule's text, with or without its ``RRULE:`` prefix, for
    instance ``FREQ=WEEKLY;BYDAY=MO`` or ``FREQ=MONTHLY;INTERVAL=3;BYDAY=1MO``.
    ``at`` is the local time of day of each moment, ``start`` the first day the
    rule counts from (it sets the phase of rules with an INTERVAL, and the
    weekday of a weekly rule without BYDAY; without it the rule counts from
    Saturday 1 January 2000). Rules more frequent than daily, and rules with
    BYHOUR, BYMINUTE or BYSECOND, are refused: nobody keeps in touch hourly,
    and the time of day is ``at``.
    """

    rrule: str = attrs.field(converter=_rrule_text)
    at: time = attrs.field(default=time(9, 0), kw_only=True)
    start: date | None = attrs.field(default=None, kw_only=True)

    @at.validator
    def _check_at(self, _: object, value: object) -> None:
        if not isinstance(value, time) or value.tzinfo is not None:
            raise CadenceError(f"at must be a local time of day without a zone, not {value!r}")

    @start.validator
    def _check_start(self, _: object, value: object) -> None:
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            raise CadenceError(f"start must be a date, not {value!r}")

    def __attrs_post_init__(self) -> None:
        _shared_moments(self.rrule, self.at, self.start)

    def moments(self, wall: datetime, until: datetime) -> tuple[list[datetime], list[datetime]]:
        """The last two naive local moments at or before ``wall``; those after it; one more.

        Those after it go up to ``until``; the one more is the first beyond it.
        """
        return _shared_moments(self.rrule, self.at, self.start).around(wall, until)

    @property
    def approx_days(self) -> float:
        """The mean gap between moments in days, to compare how frequent cadences are."""
        first = datetime.combine(self.start or _ANCHOR, self.at)
        past, future = self.moments(first, first + timedelta(days=800))
        seen = (past + future)[:50]
        if len(seen) < 2:
            return float("inf")
        return (seen[-1] - seen[0]).total_seconds() / 86400 / (len(seen) - 1)

    def describe(self) -> str:
        """The cadence in words."""
        return _describe_recurring(self.rrule, self.at)


@lru_cache(maxsize=256)
def _describe_recurring(rule: str, at: time) -> str:
    return f"RRULE:{rule} at {at:%H:%M}"


Cadence: TypeAlias = Every | Recurring

_UNITS = {"day": "days", "week": "weeks", "month": "months"}
_NAMED = {
    "daily": Every(days=1),
    "weekly": Every(weeks=1),
    "fortnightly": Every(weeks=2),
    "biweekly": Every(weeks=2),
    "monthly": Every(months=1),
    "bimonthly": Every(months=2),
    "quarterly": Every(months=3),
    "half-yearly": Every(months=6),
    "yearly": Every(months=12),
    "annually": Every(months=12),
}
_EVERY = re.compile(r"^every\s+(?:(\d+)\s*)?(day|week|month|year|quarter)s?$")
_WEEKDAYS = re.compile(r"^every\s+weekday(?:\s+at\s+(\d{1,2}):(\d{2}))?$")
_DAY_CODES = {
    "monday": "MO",
    "tuesday": "TU",
    "wednesday": "WE",
    "thursday": "TH",
    "friday": "FR",
    "saturday": "SA",
    "sunday": "SU",
}
_ON_DAY = re.compile(
    r"^every\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"(?:\s+at\s+(\d{1,2}):(\d{2}))?$"
)


def _clock(hours: str | None, minutes: str | None, text: str) -> time:
    if hours is None or minutes is None:
        return time(9, 0)
    h, m = int(hours), int(minutes)
    if h > 23 or m > 59:
        raise CadenceError(f"not a time of day in {text!r}")
    return time(h, m)


def parse_cadence(text: str) -> Cadence:
    """Read a cadence the way people write it.

    Understands "daily", "weekly", "fortnightly", "monthly", "quarterly",
    "yearly", "every 2 weeks" (or "2 weeks"), "every 10 days", "every 3 months", "every
    weekday at 17:00", "every monday at 10:30", and a raw "RRULE:..." line.
    Anything else raises CadenceError.
    """
    if not isinstance(text, str):
        raise CadenceError(f"a cadence must be text, not {_shown(text)}")
    words = " ".join(text.strip().lower().split())
    if words[:1].isdecimal():
        # "2 weeks" says what "every 2 weeks" says.
        words = f"every {words}"
    if words.upper().startswith("RRULE:") or words.upper().startswith("FREQ="):
        return Recurring(text.strip())
    if words in _NAMED:
        return _NAMED[words]
    match = _EVERY.match(words)
    if match:
        digits = match.group(1) or "1"
        if len(digits.lstrip("0")) > len(str(_MAX_DAYS)):
            # int() refuses numbers of thousands of digits; these are too long anyway.
            raise CadenceError(f"a cadence longer than a hundred years: {_shown(text)}")
        count = int(digits)
        unit = match.group(2)
        if count == 0:
            raise CadenceError(f"a cadence needs an interval longer than zero: {_shown(text)}")
        if count > _MAX_DAYS:
            raise CadenceError(f"a cadence longer than a hundred years: {_shown(text)}")
        if unit == "quarter":
            count, unit = 3 * count, "month"
        elif unit == "year":
            count, unit = 12 * count, "month"
        try:
            return Every(**{_UNITS[unit]: count})
        except CadenceError:
            raise CadenceError(f"a cadence longer than a hundred years: {_shown(text)}") from None
    match = _WEEKDAYS.match(words)
    if match:
        at = _clock(match.group(1), match.group(2), text)
        return Recurring("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", at=at)
    match = _ON_DAY.match(words)
    if match:
        at = _clock(match.group(2), match.group(3), text)
        return Recurring(f"FREQ=WEEKLY;BYDAY={_DAY_CODES[match.group(1)]}", at=at)
    raise CadenceError(
        f"cannot read the cadence {_shown(text)}; "
        "try 'every 2 weeks', 'monthly' or 'RRULE:FREQ=...'"
    )
