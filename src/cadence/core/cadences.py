"""Cadences: how often a contact should hear from you.

Two kinds exist. ``Every`` slides: it counts from the last personal touchpoint.
``Recurring`` is fixed: it names moments from an RFC 5545 RRULE, in the
contact's zone, and each moment is satisfied by any personal touchpoint since
the moment before it.
"""

from __future__ import annotations

import re
import threading
from calendar import isleap
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from cadence.core.durations import shown_value as _shown
from cadence.core.errors import CadenceError

if TYPE_CHECKING:
    # dateutil is imported when a rule is first worked out: a roster of
    # sliding cadences, and a command that only reads what was planned
    # (`cadence due`), never need it.
    from dateutil.rrule import rrule

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
_KNOWN_PARTS = frozenset(
    (
        "FREQ",
        "INTERVAL",
        "COUNT",
        "UNTIL",
        "WKST",
        "BYMONTH",
        "BYWEEKNO",
        "BYYEARDAY",
        "BYMONTHDAY",
        "BYDAY",
        "BYSETPOS",
        "BYEASTER",
    )
)
# Parts whose values must lie in a range: dateutil accepts some values out of
# range (BYMONTHDAY=0 makes a daily rule, BYEASTER=300 fails while planning).
# Easter falls between 22 March and 25 April, so an offset from -80 to 250
# days keeps its day within Easter's own year.
_RANGES = {
    "INTERVAL": (1, 10_000, False),
    "COUNT": (1, 1_000_000, False),
    "BYMONTH": (1, 12, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYSETPOS": (1, 366, True),
}
_EASTER_RANGE = (-80, 250)
# The patterns below are compiled on first use, by re's own cache: only a
# rule being read, or a cadence being parsed, needs them.
_WEEKDAY = r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$"
_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_UNTIL_FORM = r"^\d{8}(T\d{6}Z?)?$"
_UNTIL_UTC = r"(UNTIL=\d{8}T\d{6})Z"
# The longest month each month can have, to refuse days no month of a rule has.
_LONGEST = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _numbers(name: str, value: str, text: object) -> list[int]:
    numbers = []
    for item in value.split(","):
        try:
            numbers.append(int(item))
        except ValueError:
            raise CadenceError(f"{name}={item} is not a number in {text!r}") from None
    return numbers


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
    for name in parts:
        if name not in _KNOWN_PARTS:
            raise CadenceError(f"{name} is not a part of an RRULE that cadence knows: {text!r}")
    for name, (low, high, signed) in _RANGES.items():
        if name in parts:
            for number in _numbers(name, parts[name], text):
                if not (low <= number <= high or (signed and low <= -number <= high)):
                    bounds = f"{low} to {high}" + (f" or -{high} to -{low}" if signed else "")
                    raise CadenceError(f"{name}={number} is out of range ({bounds}) in {text!r}")
    if "BYEASTER" in parts:
        low, high = _EASTER_RANGE
        for number in _numbers("BYEASTER", parts["BYEASTER"], text):
            if not low <= number <= high:
                raise CadenceError(
                    f"BYEASTER={number} is out of range ({low} to {high} days from Easter, "
                    f"so that the day stays in Easter's year) in {text!r}"
                )
    if "COUNT" in parts and "UNTIL" in parts:
        raise CadenceError(f"give COUNT or UNTIL, not both, in the RRULE {text!r}")
    if "UNTIL" in parts and not re.match(_UNTIL_FORM, parts["UNTIL"]):
        raise CadenceError(f"UNTIL must be a date like 20271231 or 20271231T170000Z in {text!r}")
    if parts.get("WKST", "MO") not in _WEEKDAY_CODES:
        raise CadenceError(f"WKST must be a day of the week (MO to SU) in {text!r}")
    if "BYDAY" in parts:
        # Within a month (MONTHLY, or YEARLY with BYMONTH) there are at most
        # five of a weekday (RFC 5545, 3.3.10); dateutil fails on more.
        limit = {"YEARLY": 5 if "BYMONTH" in parts else 53, "MONTHLY": 5}.get(freq, 0)
        for item in parts["BYDAY"].split(","):
            match = re.match(_WEEKDAY, item)
            if match is None:
                raise CadenceError(f"BYDAY={item} is not a day of the week in {text!r}")
            if match.group(1) is not None:
                nth = abs(int(match.group(1)))
                if not limit:
                    raise CadenceError(
                        f"BYDAY={item}: a numbered weekday needs FREQ=MONTHLY or YEARLY in {text!r}"
                    )
                if not 1 <= nth <= limit:
                    raise CadenceError(
                        f"BYDAY={item} is out of range (1 to {limit}, or -1 to -{limit}) "
                        f"in {text!r}"
                    )
    if "BYSETPOS" in parts and not any(
        name.startswith("BY") and name != "BYSETPOS" for name in parts
    ):
        raise CadenceError(f"BYSETPOS needs another BY... part to choose from in {text!r}")
    widest = {"DAILY": 1, "WEEKLY": 7}.get(freq)
    if (
        "BYSETPOS" in parts
        and widest is not None
        and all(abs(n) > widest for n in _numbers("BYSETPOS", parts["BYSETPOS"], text))
    ):
        raise CadenceError(
            f"the RRULE {text!r} never falls due: a {freq.lower()} period holds "
            f"at most {'one day' if widest == 1 else 'seven days'}"
        )
    if "BYMONTHDAY" in parts and "BYMONTH" in parts:
        longest = max(_LONGEST[m - 1] for m in _numbers("BYMONTH", parts["BYMONTH"], text))
        if all(abs(d) > longest for d in _numbers("BYMONTHDAY", parts["BYMONTHDAY"], text)):
            raise CadenceError(
                f"the RRULE {text!r} never falls due: no month of its BYMONTH has "
                f"day {parts['BYMONTHDAY']}"
            )


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


# The frequencies as dateutil.rrule numbers them (its YEARLY, MONTHLY, WEEKLY
# and DAILY), which a parsed rule's ``_freq`` holds.
YEARLY, MONTHLY, WEEKLY, DAILY = range(4)
# How many periods of each frequency make one Gregorian cycle of 400 years,
# after which the calendar repeats. Whatever the INTERVAL, the periods a rule
# visits repeat within that many steps, so a rule that has no moment in that
# many periods never has one, and two moments of a rule are never further
# apart than that many periods.
_CYCLE = {YEARLY: 400, MONTHLY: 4800, WEEKLY: 20871, DAILY: 146097}
# How many cycles of periods may be worked through to find where a COUNT ends:
# eight hundred years of days, whatever the frequency.
_COUNT_CYCLES = 2
# Queries remembered per rule: planning asks the same few for every contact.
_REMEMBERED = 8


class _Moments:
    """The naive local moments of one rule, worked out window by window.

    Work is bounded by the window asked for, never by how far it lies from
    the rule's start: a query jumps to the period holding ``now``. Equal rules
    share one: planning asks every contact of a roster the same question, and
    the last few answers are kept. A lock keeps its memory to one thread.
    """

    __slots__ = (
        "_answers",
        "_info",
        "_lock",
        "at",
        "cycle",
        "first",
        "freq",
        "interval",
        "last",
        "origin",
        "rule",
        "start",
        "worked",
    )

    def __init__(self, built: rrule, text: str) -> None:
        from dateutil.rrule import _iterinfo

        # Periods are worked out with dateutil's own masks and the rule's
        # parsed parts, which its type stubs do not describe.
        rule: Any = built
        # How many periods have been looked at, to show the work stays bounded.
        self.worked = 0
        self.rule = rule
        self.freq: int = rule._freq
        self.interval: int = rule._interval
        self.start: datetime = rule._dtstart
        self.at = self.start.time()
        self.cycle = _CYCLE[self.freq]
        day = self.start.date()
        if self.freq == YEARLY:
            self.origin = date(day.year, 1, 1)
        elif self.freq == MONTHLY:
            self.origin = date(day.year, day.month, 1)
        elif self.freq == WEEKLY:
            self.origin = day - timedelta(days=(day.weekday() - rule._wkst) % 7)
        else:
            self.origin = day
        self._info = _iterinfo(rule)
        self._lock = threading.Lock()
        self._answers: dict[tuple[datetime, datetime], tuple[list[datetime], list[datetime]]]
        self._answers = {}
        self.last: datetime | None = rule._until
        found = self._scan(0, self.cycle + 1, stop_after=1)
        if not found:
            ends = " before its UNTIL" if self.last is not None else ""
            raise CadenceError(f"the RRULE {text!r} never falls due{ends}")
        self.first = found[0]
        if rule._count is not None:
            self.last = self._count_end(rule._count, text)

    def _count_end(self, count: int, text: str) -> datetime | None:
        """The moment the COUNT runs out on, or None if the rule ends first at the year 9999."""
        seen = 0
        for index, moments in self._walk(0):
            if index >= _COUNT_CYCLES * self.cycle:
                raise CadenceError(
                    f"the RRULE {text!r} reaches too far to work out where its COUNT ends; "
                    "give UNTIL instead"
                )
            for moment in moments:
                seen += 1
                if seen == count:
                    return moment
        return None

    def _period_start(self, index: int) -> date | None:
        """The first day of the ``index``-th period from the start; None past the year 9999."""
        steps = index * self.interval
        try:
            if self.freq == YEARLY:
                return date(self.origin.year + steps, 1, 1)
            if self.freq == MONTHLY:
                year, month = divmod(self.origin.year * 12 + self.origin.month - 1 + steps, 12)
                return date(year, month + 1, 1)
            if self.freq == WEEKLY:
                if index == 0:
                    return self.start.date()
                return self.origin + timedelta(weeks=steps)
            return self.origin + timedelta(days=steps)
        except (ValueError, OverflowError):
            return None

    def _index(self, day: date) -> int:
        """The period that holds ``day``; 0 for days before the start."""
        origin = self.origin
        if self.freq == YEARLY:
            steps = day.year - origin.year
        elif self.freq == MONTHLY:
            steps = (day.year - origin.year) * 12 + day.month - origin.month
        elif self.freq == WEEKLY:
            steps = (day - origin).days // 7
        else:
            steps = (day - origin).days
        return max(0, steps // self.interval)

    def _walk(self, begin: int) -> Iterator[tuple[int, list[datetime]]]:
        """Each period from ``begin`` on, with its moments, until the rule ends.

        Daily and weekly periods are taken a year at a time: dateutil's masks
        are per year, and building them per day would cost far more than the
        periods themselves.
        """
        index = begin
        ii: Any = self._info
        last = self.last
        while True:
            day = self._period_start(index)
            if day is None or (last is not None and datetime.combine(day, time(0)) > last):
                return
            ii.rebuild(day.year, day.month)
            if self.freq == YEARLY:
                groups: list[range | list[int]] = [range(ii.yearlen)]
            elif self.freq == MONTHLY:
                groups = [range(ii.mrange[day.month - 1], ii.mrange[day.month])]
            else:
                groups = self._groups(day, index)
            for group in groups:
                self.worked += 1
                moments = self._moments(ii, group)
                yield index, moments
                if moments and last is not None and moments[-1] >= last:
                    return
                index += 1

    def _groups(self, day: date, index: int) -> list[range | list[int]]:
        """The day numbers of each daily or weekly period from ``day`` to the end of its year."""
        ii: Any = self._info
        first = day.toordinal() - ii.yearordinal
        if self.freq == DAILY:
            return [[i] for i in range(first, ii.yearlen, self.interval)]
        wkst = self.rule._wkst
        groups: list[range | list[int]] = []
        while first < ii.yearlen:
            end = first + 1
            while end - first < 7 and ii.wdaymask[end] != wkst:
                end += 1
            groups.append(range(first, end))
            if index == 0:  # the first week starts on the start day, the others on WKST
                break
            first += 7 * self.interval
        return groups

    def _moments(self, ii: Any, candidates: range | list[int]) -> list[datetime]:
        """The moments among one period's days, as dateutil reckons them."""
        rule = self.rule
        bymonth = rule._bymonth
        byweekno = rule._byweekno
        byweekday = rule._byweekday
        byeaster = rule._byeaster
        bymonthday = rule._bymonthday
        bynmonthday = rule._bynmonthday
        byyearday = rule._byyearday
        nwdaymask = ii.nwdaymask
        yearlen = ii.yearlen
        days = []
        for i in candidates:
            if not (
                (bymonth and ii.mmask[i] not in bymonth)
                or (byweekno and not ii.wnomask[i])
                or (byweekday and ii.wdaymask[i] not in byweekday)
                or (nwdaymask and not nwdaymask[i])
                or (byeaster and not ii.eastermask[i])
                or (
                    (bymonthday or bynmonthday)
                    and ii.mdaymask[i] not in bymonthday
                    and ii.nmdaymask[i] not in bynmonthday
                )
                or (
                    byyearday
                    and (
                        (i < yearlen and i + 1 not in byyearday and -yearlen + i not in byyearday)
                        or (
                            i >= yearlen
                            and i + 1 - yearlen not in byyearday
                            and -ii.nextyearlen + i - yearlen not in byyearday
                        )
                    )
                )
            ):
                days.append(i)
        if rule._bysetpos and days:
            chosen = set()
            for pos in rule._bysetpos:
                index = pos if pos < 0 else pos - 1
                if -len(days) <= index < len(days):
                    chosen.add(days[index])
            days = sorted(chosen)
        moments = []
        for i in days:
            try:
                moment = datetime.combine(date.fromordinal(ii.yearordinal + i), self.at)
            except (ValueError, OverflowError):
                break
            if moment < self.start:
                continue
            if self.last is not None and moment > self.last:
                break
            moments.append(moment)
        return moments

    def _scan(self, begin: int, end: int, stop_after: int = 0) -> list[datetime]:
        """The moments of periods ``begin`` to ``end``; with ``stop_after``, stop once that many."""
        found: list[datetime] = []
        for index, moments in self._walk(begin):
            if index >= end:
                break
            found.extend(moments)
            if stop_after and len(found) >= stop_after:
                break
        return found

    def around(self, wall: datetime, until: datetime) -> tuple[list[datetime], list[datetime]]:
        """The last two moments at or before ``wall``; those after it to ``until``; one more.

        The one more is the next moment beyond ``until``, if any, so callers
        always learn when the next moment comes.
        """
        key = (wall, until)
        with self._lock:
            known = self._answers.get(key)
            if known is None:
                known = (self._before(wall), self._after(wall, until))
                if len(self._answers) >= _REMEMBERED:
                    del self._answers[next(iter(self._answers))]
                self._answers[key] = known
        return list(known[0]), list(known[1])

    def _before(self, wall: datetime) -> list[datetime]:
        """The last two moments at or before ``wall``."""
        if wall < self.first:
            return []
        if self.last is not None and self.last < wall:
            wall = self.last
        last = self._index(wall.date())
        span = 4
        while True:
            begin = max(0, last - span + 1)
            found = [m for m in self._scan(begin, last + 1) if m <= wall]
            if len(found) >= 2 or begin == 0 or span >= 2 * self.cycle:
                return found[-2:]
            span = min(span * 8, 2 * self.cycle)

    def _after(self, wall: datetime, until: datetime) -> list[datetime]:
        """The moments after ``wall`` up to ``until``, and the first beyond it.

        A rule with no moment in a whole cycle of periods has no more.
        """
        found: list[datetime] = []
        if self.last is not None and self.last <= wall:
            return found
        empty = 0
        for _, moments in self._walk(self._index(wall.date())):
            later = [m for m in moments if m > wall]
            if not later:
                empty += 1
                if empty > self.cycle:
                    break
                continue
            empty = 0
            for moment in later:
                found.append(moment)
                if moment > until:
                    return found
        return found


def _build_rule(body: str, at: time, start: date | None) -> rrule:
    from dateutil.rrule import rrule, rrulestr

    first = datetime.combine(start or _ANCHOR, at)
    # The moments are wall times in the contact's zone, so an UNTIL given in
    # UTC (as calendar programs write it) is read as a wall time too.
    body = re.sub(_UNTIL_UTC, r"\1", body)
    try:
        rule = rrulestr(body, dtstart=first, cache=False)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as error:
        raise CadenceError(f"not a valid RRULE {body!r}: {error}") from None
    if not isinstance(rule, rrule):
        raise CadenceError(f"give a single RRULE, not a set: {body!r}")
    return rule


@lru_cache(maxsize=1024)
def _shared_moments(body: str, at: time, start: date | None) -> _Moments:
    return _Moments(_build_rule(body, at, start), body)


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
    and the time of day is ``at``. So is a rule that cannot be worked out or
    never falls due (a part out of its range, an unknown part, COUNT with
    UNTIL, 30 February, an INTERVAL that never lands on the rule's days): the
    CadenceError says why.
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
_EVERY = r"^every\s+(?:(\d+)\s*)?(day|week|month|year|quarter)s?$"
_WEEKDAYS = r"^every\s+weekday(?:\s+at\s+(\d{1,2}):(\d{2}))?$"
_DAY_CODES = {
    "monday": "MO",
    "tuesday": "TU",
    "wednesday": "WE",
    "thursday": "TH",
    "friday": "FR",
    "saturday": "SA",
    "sunday": "SU",
}
_ON_DAY = (
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
    match = re.match(_EVERY, words)
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
    match = re.match(_WEEKDAYS, words)
    if match:
        at = _clock(match.group(1), match.group(2), text)
        return Recurring("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", at=at)
    match = re.match(_ON_DAY, words)
    if match:
        at = _clock(match.group(2), match.group(3), text)
        return Recurring(f"FREQ=WEEKLY;BYDAY={_DAY_CODES[match.group(1)]}", at=at)
    raise CadenceError(
        f"cannot read the cadence {_shown(text)}; "
        "try 'every 2 weeks', 'monthly' or 'RRULE:FREQ=...'"
    )
