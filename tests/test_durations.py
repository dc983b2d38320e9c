"""parse_duration: the durations people write, read exactly, and what it refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest

import cadence
from cadence import CadenceError, parse_duration

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)


def test_it_is_public() -> None:
    """parse_duration is part of cadence's public API."""
    assert cadence.parse_duration is parse_duration
    assert "parse_duration" in cadence.__all__


@pytest.mark.parametrize(
    ("spellings", "unit"),
    [
        (("s", "sec", "secs", "second", "seconds"), SECOND),
        (("m", "min", "mins", "minute", "minutes"), MINUTE),
        (("h", "hr", "hrs", "hour", "hours"), HOUR),
        (("d", "day", "days"), DAY),
        (("w", "wk", "week", "weeks"), WEEK),
    ],
)
def test_every_spelling_of_every_unit(spellings: tuple[str, ...], unit: timedelta) -> None:
    """Each unit reads in each of its spellings, joined to the number or after a space."""
    for spelling in spellings:
        assert parse_duration(f"1{spelling}") == unit, spelling
        assert parse_duration(f"3 {spelling}") == 3 * unit, spelling
        assert parse_duration(f"12{spelling}") == 12 * unit, spelling


def test_the_units_are_exact_multiples_of_each_other() -> None:
    """60 s is a minute, 60 min an hour, 24 h a day, 7 d a week: no unit is approximate."""
    assert parse_duration("60s") == parse_duration("1m")
    assert parse_duration("60m") == parse_duration("1h")
    assert parse_duration("24h") == parse_duration("1d")
    assert parse_duration("7d") == parse_duration("1w")
    assert parse_duration("1w") == timedelta(seconds=604_800)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("2w", timedelta(weeks=2)),
        ("30 days", timedelta(days=30)),
        ("2 weeks", timedelta(weeks=2)),
        ("12h", timedelta(hours=12)),
        ("90 minutes", timedelta(minutes=90)),
    ],
)
def test_the_examples_of_the_docstring(text: str, expected: timedelta) -> None:
    """What the docstring promises reads as it says."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("1 h 30 m", timedelta(hours=1, minutes=30)),
        ("1 hour 30 minutes", timedelta(hours=1, minutes=30)),
        ("1 hour and 30 minutes", timedelta(hours=1, minutes=30)),
        ("1h, 30m", timedelta(hours=1, minutes=30)),
        ("1h,30m", timedelta(hours=1, minutes=30)),
        ("2 weeks, 3 days and 4 hours", timedelta(weeks=2, days=3, hours=4)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        # The order of the parts is free, and a unit may come back: the parts add up.
        ("30m1h", timedelta(hours=1, minutes=30)),
        ("1d 1d", timedelta(days=2)),
    ],
)
def test_parts_add_up(text: str, expected: timedelta) -> None:
    """Several parts in a row, with or without spaces, commas or "and", are summed."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2 weeks", "2 WEEKS", "2 Weeks", "2W", "  2 weeks  ", "\t2 weeks\n", "2   weeks", "2\tweeks"],
)
def test_case_and_white_space_do_not_matter(text: str) -> None:
    """Upper case, white space around the text, and spaces between number and unit are fine."""
    assert parse_duration(text) == timedelta(weeks=2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5h", timedelta(hours=1, minutes=30)),
        ("0.5d", timedelta(hours=12)),
        ("2.25 weeks", timedelta(days=15, hours=18)),
        ("0.5m", timedelta(seconds=30)),
        ("1.5", timedelta(seconds=1.5)),
        ("1.5h 0.5m", timedelta(hours=1, minutes=30, seconds=30)),
        # A microsecond is the finest a timedelta holds.
        ("0.000001s", timedelta(microseconds=1)),
    ],
)
def test_fractions(text: str, expected: timedelta) -> None:
    """A number may have a decimal fraction, in any part."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", timedelta(0)),
        ("0s", timedelta(0)),
        ("0d", timedelta(0)),
        ("0 weeks", timedelta(0)),
        ("0.0h", timedelta(0)),
        ("1", SECOND),
        ("30", timedelta(seconds=30)),
        (" 86400 ", DAY),
    ],
)
def test_zero_and_bare_numbers(text: str, expected: timedelta) -> None:
    """Zero is a duration; a bare number counts seconds."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, timedelta(0)),
        (0.0, timedelta(0)),
        (1, SECOND),
        (90, timedelta(minutes=1, seconds=30)),
        (1.5, timedelta(seconds=1.5)),
        (0.000001, timedelta(microseconds=1)),
    ],
)
def test_numbers_count_seconds(value: float, expected: timedelta) -> None:
    """An int or a float is a count of seconds, zero included."""
    assert parse_duration(value) == expected


def test_a_timedelta_comes_back_as_it_is() -> None:
    """A duration given as a timedelta is returned unchanged."""
    given = timedelta(days=3, hours=2)
    assert parse_duration(given) is given
    assert parse_duration(timedelta(0)) == timedelta(0)


@pytest.mark.parametrize("value", [-1, -0.5, -86400, -0.000001])
def test_negative_numbers_are_refused(value: float) -> None:
    """A negative count of seconds is refused, and the message quotes it."""
    with pytest.raises(CadenceError) as raised:
        parse_duration(value)
    assert (
        str(raised.value)
        == f"a duration must be a number of seconds of zero or more, not {value!r}"
    )


@pytest.mark.parametrize("value", [True, False, None, b"30d", ["30d"], {"days": 1}, object()])
def test_other_types_are_refused(value: object) -> None:
    """Anything but text, a number or a timedelta is not a duration, booleans included."""
    with pytest.raises(CadenceError) as raised:
        parse_duration(value)
    assert str(raised.value) == f"not a duration: {value!r}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "d",
        "days",
        "soonish",
        "-1d",
        "- 1d",
        "+1d",
        ".5h",
        "1.h",
        "1..5h",
        "1h30",
        "1d 2",
        "1_000s",
        "½d",
        "²d",
    ],
)
def test_text_that_is_not_a_duration_is_refused(text: str) -> None:
    """Text that is not number-unit parts is refused with an example of what would do."""
    with pytest.raises(CadenceError) as raised:
        parse_duration(text)
    assert str(raised.value) == (
        f"not a duration: {text!r}; write it like '30d', '2 weeks' or '12h'"
    )


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("1 month", "month"),
        ("3 months", "months"),
        ("1mo", "mo"),
        ("2y", "y"),
        ("1 year", "year"),
        ("2 fortnights", "fortnights"),
        ("5ms", "ms"),
        ("1 h 30 x", "x"),
        ("1hand30m", "hand"),
        ("30 DAYZ", "dayz"),
    ],
)
def test_an_unknown_unit_is_named(text: str, unit: str) -> None:
    """A unit cadence does not know, months and years among them, is named in the message."""
    with pytest.raises(CadenceError) as raised:
        parse_duration(text)
    assert str(raised.value) == f"not a duration: {text!r} (unknown unit {unit!r})"


def test_months_are_refused_whatever_they_follow() -> None:
    """A month after a valid part is refused too: no part is dropped quietly."""
    with pytest.raises(CadenceError, match="unknown unit 'month'"):
        parse_duration("1w 1 month")


def test_refusals_are_one_line_and_quote_the_text_as_given() -> None:
    """The message quotes the original text, before case and spaces were changed."""
    with pytest.raises(CadenceError) as raised:
        parse_duration("  Soon\tISH ")
    message = str(raised.value)
    assert "'  Soon\\tISH '" in message
    assert "\n" not in message


@pytest.mark.parametrize("text", ["1 1d", "1,000s", "1 000 s", "1h and", "\u00b2d"])
def test_numbers_are_never_joined_across_spaces(text: str) -> None:
    """Spaces separate parts, never the digits of one number; a superscript is no digit."""
    with pytest.raises(CadenceError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h\t30m", timedelta(minutes=90)),
        ("1 h 30 m", timedelta(minutes=90)),
        ("2 wks", timedelta(weeks=2)),
        ("1h\n30m", timedelta(minutes=90)),
    ],
)
def test_any_whitespace_separates_parts(text: str, expected: timedelta) -> None:
    """A tab or newline between parts reads as a space does."""
    assert parse_duration(text) == expected
