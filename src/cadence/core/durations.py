"""Durations and dates the way people write them: "30d", "2 weeks", "12h", "2026-12-01"."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from cadence.core.errors import CadenceError
from cadence.core.time import require_aware

__all__ = [
    "MAX_DURATION",
    "describe_duration",
    "month_day",
    "parse_date",
    "parse_duration",
    "parse_moment",
]

_YEAR_MONTH_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})|(\d{4})(\d{2})(\d{2})")
_MONTH_DAY = re.compile(r"(?:--)?(\d{1,2})-(\d{1,2})|--(\d{2})(\d{2})")

_UNIT_SECONDS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "wk": 604800,
    "wks": 604800,
    "week": 604800,
    "weeks": 604800,
}
# Decimal digits of any script, as float() reads them. Spaces may stand
# between parts and between a number and its unit, never inside a number.
_NUMBER = r"\d+(?:\.\d+)?"
_PART = re.compile(rf"\s*({_NUMBER})\s*([a-z]+)\s*")
# The longest duration read: a hundred years, as for a cadence. Far longer
# ones would carry a moment past the calendar's end.
MAX_DURATION = timedelta(days=36525)


def parse_duration(text: object) -> timedelta:
    """Read "30d", "2w", "30 days", "2 weeks", "12h", "1h30m" or "90 minutes" as a duration.

    A bare number is a count of seconds, and a ``timedelta`` is taken as it
    is. Months and years are refused: their length depends on the date, so
    say "4 weeks" or use a cadence instead. A duration must lie between zero
    and a hundred years (``MAX_DURATION``).
    """
    if isinstance(text, timedelta):
        return _in_range(text, text)
    if isinstance(text, int | float) and not isinstance(text, bool):
        if isinstance(text, int) and text > MAX_DURATION.total_seconds():
            raise _too_long(text)  # before float(), which a huge int overflows
        if not _finite(text) or text < 0:
            raise CadenceError(
                f"a duration must be a number of seconds of zero or more, not {text!r}"
            )
        return _in_range(_seconds(text, text), text)
    if not isinstance(text, str):
        raise CadenceError(f"not a duration: {shown_value(text)}")
    words = text.strip().lower().replace(",", " ").replace(" and ", " ")
    if re.fullmatch(_NUMBER, words):
        return _in_range(_seconds(float(words), text), text)
    position = 0
    total = 0.0
    while match := _PART.match(words, position):
        unit = match.group(2)
        if unit not in _UNIT_SECONDS:
            raise CadenceError(
                f"not a duration: {shown_value(text)} (unknown unit {shown_value(unit)})"
            )
        total += float(match.group(1)) * _UNIT_SECONDS[unit]
        position = match.end()
    if position == 0 or position != len(words):
        raise CadenceError(
            f"not a duration: {shown_value(text)}; write it like '30d', '2 weeks' or '12h'"
        )
    return _in_range(_seconds(total, text), text)


def _finite(number: float) -> bool:
    # NaN is the one number unequal to itself.
    return number == number and abs(number) != float("inf")


def _seconds(seconds: float, text: object) -> timedelta:
    # float() reads a number of any length (as infinity past its range), and
    # timedelta refuses what lies past its own.
    if not _finite(seconds) or seconds > MAX_DURATION.total_seconds():
        raise _too_long(text)
    return timedelta(seconds=seconds)


def _in_range(value: timedelta, text: object) -> timedelta:
    if value < timedelta(0):
        raise CadenceError(f"a duration cannot be negative: {shown_value(text)}")
    if value > MAX_DURATION:
        raise _too_long(text)
    return value


def _too_long(text: object) -> CadenceError:
    return CadenceError(f"a duration longer than a hundred years: {shown_value(text)}")


def shown_value(value: object) -> str:
    """``value`` for a message: a duration in words, anything else quoted and cut short."""
    if isinstance(value, timedelta):
        return describe_duration(value)
    try:
        text = repr(value)
    except ValueError:  # an int past Python's limit on digits converted to text
        return "a number of thousands of digits"
    return text if len(text) <= 60 else text[:57] + "..."


def describe_duration(value: timedelta) -> str:
    """A duration in words: "400 days", "2 days 3 hours", "90 seconds", "minus 1 day"."""
    sign = "minus " if value < timedelta(0) else ""
    seconds = abs(value).total_seconds()
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, whole = divmod(rest, 60)
    fraction = seconds - int(seconds)
    parts = [
        f"{count} {unit}{'' if count == 1 else 's'}"
        for count, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if count
    ]
    if whole or fraction or not parts:
        number = f"{whole + fraction:g}" if fraction else str(whole)
        parts.append(f"{number} second{'' if number == '1' else 's'}")
    return sign + " ".join(parts)


def parse_date(text: object) -> date:
    """Read an ISO 8601 date such as "2026-12-01"."""
    if isinstance(text, date) and not isinstance(text, datetime):
        return text
    if not isinstance(text, str):
        raise CadenceError(f"not a date: {text!r}")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CadenceError(f"not a date: {text!r}; write it like 2026-12-01") from None


def parse_moment(text: object, *, default_zone: str | None = None) -> datetime:
    """Read an ISO 8601 moment with its offset, such as "2026-11-23T09:00:00+01:00".

    A date alone, or a moment without an offset, is read in ``default_zone``
    when one is given and refused otherwise: cadence never guesses a zone.
    """
    if isinstance(text, datetime):
        return require_aware(text, "a moment")
    if not isinstance(text, str):
        raise CadenceError(f"not a moment: {text!r}")
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise CadenceError(
            f"not a moment: {text!r}; write it like 2026-11-23T09:00+01:00"
        ) from None
    if moment.tzinfo is None:
        if default_zone is None:
            raise CadenceError(f"the moment {text!r} needs an offset, like +01:00 or Z")
        from cadence.core.time import zone

        moment = moment.replace(tzinfo=zone(default_zone))
    return moment


def month_day(text: str) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) read from a date with or without its year, else None.

    Reads ``YYYY-MM-DD`` and ``YYYYMMDD``, and without a year ``--MM-DD``,
    ``--MMDD`` (vCard 4.0) and ``MM-DD`` (``M-D`` too). Whether the day exists is left to
    the occasion that receives it.
    """
    match = _YEAR_MONTH_DAY.fullmatch(text)
    if match:
        year, month, day = (g for g in match.groups() if g is not None)
        return int(year), int(month), int(day)
    match = _MONTH_DAY.fullmatch(text)
    if match:
        month, day = (g for g in match.groups() if g is not None)
        return None, int(month), int(day)
    return None
