"""Durations and dates the way people write them: "30d", "2 weeks", "12h", "2026-12-01"."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from cadence.core.errors import CadenceError
from cadence.core.time import require_aware

__all__ = ["month_day", "parse_date", "parse_duration", "parse_moment"]

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
    "week": 604800,
    "weeks": 604800,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")


def parse_duration(text: object) -> timedelta:
    """Read "30d", "2w", "30 days", "2 weeks", "12h", "1h30m" or "90 minutes" as a duration.

    A bare number is a count of seconds. Months and years are refused: their
    length depends on the date, so say "4 weeks" or use a cadence instead.
    """
    if isinstance(text, timedelta):
        return text
    if isinstance(text, int | float) and not isinstance(text, bool):
        if text < 0:
            raise CadenceError(f"a duration cannot be negative: {text!r}")
        return timedelta(seconds=text)
    if not isinstance(text, str):
        raise CadenceError(f"not a duration: {text!r}")
    words = text.strip().lower().replace(",", " ").replace(" and ", " ")
    if re.fullmatch(r"\d+(?:\.\d+)?", words):
        return timedelta(seconds=float(words))
    position = 0
    total = 0.0
    squeezed = words.replace(" ", "")
    for match in _PART.finditer(squeezed):
        if match.start() != position:
            break
        unit = match.group(2)
        if unit not in _UNIT_SECONDS:
            raise CadenceError(f"not a duration: {text!r} (unknown unit {unit!r})")
        total += float(match.group(1)) * _UNIT_SECONDS[unit]
        position = match.end()
    if position == 0 or position != len(squeezed):
        raise CadenceError(f"not a duration: {text!r}; write it like '30d', '2 weeks' or '12h'")
    return timedelta(seconds=total)


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
