"""Local moments across DST gaps and folds, zones, and aware datetimes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given

import strategies as cst
from cadence import CadenceError
from cadence.core.time import end_of_day, local_moment, require_aware, zone

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
APIA = ZoneInfo("Pacific/Apia")
SANTIAGO = ZoneInfo("America/Santiago")


@pytest.mark.parametrize(
    ("tz", "day", "at", "expected_utc"),
    [
        # 02:00 EST jumps to 03:00 EDT: the gap ends at 03:00 local, 07:00 UTC.
        (NEW_YORK, date(2026, 3, 8), time(2, 30), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        (NEW_YORK, date(2026, 3, 8), time(2, 0), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        # 01:00 GMT jumps to 02:00 BST.
        (LONDON, date(2026, 3, 29), time(1, 15), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        # Lord Howe jumps half an hour: 02:00 to 02:30.
        (LORD_HOWE, date(2026, 10, 4), time(2, 10), datetime(2026, 10, 3, 15, 30, tzinfo=UTC)),
        # Samoa skipped 30 December 2011 whole: the first moment after is midnight on the 31st.
        (APIA, date(2011, 12, 30), time(9, 0), datetime(2011, 12, 30, 10, 0, tzinfo=UTC)),
        # Chile changes at midnight: 00:00 does not exist, 01:00 does.
        (SANTIAGO, date(2026, 9, 6), time(0, 0), datetime(2026, 9, 6, 4, 0, tzinfo=UTC)),
    ],
)
def test_a_time_in_a_gap_moves_to_the_end_of_the_gap(
    tz: ZoneInfo, day: date, at: time, expected_utc: datetime
) -> None:
    """A wall time that does not exist becomes the first moment that does."""
    moment = local_moment(day, at, tz)
    assert moment == expected_utc
    assert moment.tzinfo is tz
    assert moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == moment.replace(tzinfo=None)


def test_the_gap_end_in_wall_time() -> None:
    """Half past two on the New York spring-forward day is three o'clock daylight time."""
    moment = local_moment(date(2026, 3, 8), time(2, 30), NEW_YORK)
    assert (moment.hour, moment.minute, moment.utcoffset()) == (3, 0, timedelta(hours=-4))


def test_a_time_in_a_gap_with_seconds_still_lands_on_the_change() -> None:
    """Odd seconds and microseconds in the wall time do not shift the end of the gap."""
    moment = local_moment(date(2026, 3, 8), time(2, 17, 31, 500), NEW_YORK)
    assert moment == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "day", "at", "first_offset"),
    [
        (NEW_YORK, date(2026, 11, 1), time(1, 30), timedelta(hours=-4)),
        (LONDON, date(2026, 10, 25), time(1, 30), timedelta(hours=1)),
        (LORD_HOWE, date(2026, 4, 5), time(1, 45), timedelta(hours=11)),
    ],
)
def test_an_ambiguous_time_takes_the_first_of_its_moments(
    tz: ZoneInfo, day: date, at: time, first_offset: timedelta
) -> None:
    """In a fold the wall time is read with the offset before the change, its earlier moment."""
    moment = local_moment(day, at, tz)
    assert moment.utcoffset() == first_offset
    later = datetime.combine(day, at, tz).replace(fold=1)
    assert moment.astimezone(UTC) < later.astimezone(UTC)


def test_an_ordinary_time_is_itself() -> None:
    """Away from any change a local moment is just the wall time in the zone."""
    moment = local_moment(date(2026, 7, 1), time(9, 0), NEW_YORK)
    assert moment == datetime(2026, 7, 1, 13, 0, tzinfo=UTC)


@given(cst.aware_datetimes())
def test_every_local_moment_exists(moment: datetime) -> None:
    """Whatever the day, time and zone, the result reads back as the same wall time."""
    tz = moment.tzinfo
    assert isinstance(tz, ZoneInfo)
    found = local_moment(moment.date(), moment.time(), tz)
    back = found.astimezone(UTC).astimezone(tz)
    assert back.replace(tzinfo=None) == found.replace(tzinfo=None)
    assert back.utcoffset() == found.utcoffset()
    # It moves forward if at all, never back, and by no more than a day.
    wall = datetime.combine(moment.date(), moment.time())
    assert timedelta(0) <= found.replace(tzinfo=None) - wall <= timedelta(days=1)


def test_end_of_day_is_the_next_midnight_or_the_first_moment_after() -> None:
    """The end of a day is the start of the next, moved forward when midnight does not exist."""
    assert end_of_day(date(2026, 7, 1), NEW_YORK) == datetime(2026, 7, 2, 4, 0, tzinfo=UTC)
    assert end_of_day(date(2026, 9, 5), SANTIAGO) == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "name", ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Apia", "UTC"]
)
def test_known_zones_load(name: str) -> None:
    """An IANA name gives its zone."""
    assert zone(name).key == name


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Olympus_Mons",
        "",
        "America",
        "../etc/passwd",
        "/etc/localtime",
        "America/../Europe/London",
        "a\x00b",
        "Zürich",
        " America/New_York",
        None,
        5,
        b"UTC",
    ],
)
def test_unknown_zones_are_refused(name: object) -> None:
    """Anything but a known zone name raises CadenceError naming it."""
    with pytest.raises(CadenceError, match="unknown time zone"):
        zone(name)


def test_require_aware_accepts_aware_datetimes() -> None:
    """An aware datetime comes back unchanged, whatever its tzinfo."""
    moment = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=5, minutes=45)))
    assert require_aware(moment, "now") is moment


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (datetime(2026, 1, 1, 12), "now must be timezone-aware, got naive 2026-01-01T12:00:00"),
        (date(2026, 1, 1), "now must be a datetime, not datetime.date"),
        ("2026-01-01T12:00:00Z", "now must be a datetime, not '2026-01-01T12:00:00Z'"),
        (1767268800, "now must be a datetime, not 1767268800"),
        (None, "now must be a datetime, not None"),
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), "now is out of range"),
    ],
)
def test_require_aware_refuses_everything_else(value: object, message: str) -> None:
    """Naive datetimes, dates, text, numbers and moments outside datetime's range are refused."""
    with pytest.raises(CadenceError) as raised:
        require_aware(value, "now")
    assert str(raised.value).startswith(message)
