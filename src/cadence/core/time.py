"""Time helpers of the core: aware datetimes, zones, and local moments that exist."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cadence.core.errors import CadenceError

__all__ = ["end_of_day", "local_moment", "long_date", "require_aware", "zone"]

# Written out, not taken from the locale: what cadence writes reads the same everywhere.
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


def require_aware(value: object, what: str) -> datetime:
    """Return ``value`` if it is an aware datetime, else raise CadenceError naming ``what``."""
    if not isinstance(value, datetime):
        raise CadenceError(f"{what} must be a datetime, not {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise CadenceError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    if value.year in (1, 9999):  # only there can the offset take it out of range
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise CadenceError(f"{what} is out of range: {value.isoformat()}") from None
    return value


@lru_cache(maxsize=1024)
def _load_zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone(name: object) -> ZoneInfo:
    """The IANA zone called ``name``; an unknown name raises CadenceError."""
    if not isinstance(name, str) or not name or name.startswith(("/", ".")) or ".." in name:
        raise CadenceError(f"unknown time zone {name!r}")
    try:
        return _load_zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CadenceError(f"unknown time zone {name!r}") from None


@lru_cache(maxsize=65536)
def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The aware moment of wall time ``at`` on ``day`` in ``tz``.

    A wall time that does not exist (a DST gap) moves forward to the first time
    that does, the end of the gap; an ambiguous one (a DST fold) takes the
    first of its two moments.
    """
    wall = datetime.combine(day, at, tzinfo=tz).replace(fold=0)
    before = wall.utcoffset()
    after = wall.replace(fold=1).utcoffset()
    # fold=0 reads a wall time with the offset in force before a change and
    # fold=1 with the one after: equal offsets mean the time is unambiguous,
    # a falling offset means a fold (fold=0 is the first moment), and a
    # rising one means a gap.
    if before is None or after is None or after <= before:
        return wall
    return _end_of_gap(wall, tz)


def _end_of_gap(wall: datetime, tz: ZoneInfo) -> datetime:
    # The jump lies between the two readings of the missing wall time, and
    # zone changes fall on whole seconds: search for the first second that
    # has the offset of after the jump.
    lo = wall.replace(fold=1).astimezone(UTC).replace(microsecond=0)
    hi = wall.astimezone(UTC).replace(microsecond=0)
    after = hi.astimezone(tz).utcoffset()
    second = timedelta(seconds=1)
    while hi - lo > second:
        mid = lo + ((hi - lo) // 2 // second) * second
        if mid.astimezone(tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi.astimezone(tz)


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The first moment of the day after ``day`` in ``tz``."""
    return local_moment(day + timedelta(days=1), time(0, 0), tz)


def long_date(day: date, *, weekday: bool = False, year: bool = False) -> str:
    """A date as people write it: "1 December", with "Tuesday " and " 2026" when asked."""
    text = f"{day.day} {_MONTHS[day.month - 1]}"
    if weekday:
        text = f"{_DAYS[day.weekday()]} {text}"
    return f"{text} {day.year}" if year else text
