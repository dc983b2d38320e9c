"""Occasions: the dates that matter to a contact, each with a lead time."""

from __future__ import annotations

from calendar import isleap
from datetime import date, datetime, timedelta
from typing import Literal, TypeAlias

import attrs

from cadence.core.durations import shown_value
from cadence.core.errors import CadenceError
from cadence.core.model import _identifier, _shared_duration

__all__ = ["Anniversary", "Birthday", "LeapDay", "Occasion", "OccasionKind"]

LeapDay: TypeAlias = Literal["feb28", "mar1"]
"""Where 29 February falls in common years: on 28 February (the default) or on 1 March."""

# A year in which every month/day pair exists, to validate yearly dates.
_LEAP_YEAR = 2000


# A longer lead would put next year's reminder before this year's occasion.
_MAX_LEAD = timedelta(days=366)


def _lead(value: timedelta) -> timedelta:
    given: object = value  # callers may pass anything at run time
    if not isinstance(given, timedelta) or not timedelta(0) <= given <= _MAX_LEAD:
        raise CadenceError(
            f"a lead time must be a duration from zero to a year, not {shown_value(given)}"
        )
    return _shared_duration(given)


def _leap(value: str) -> LeapDay:
    # Typed str, not LeapDay, so that a choice read from a user passes as it is.
    if value == "feb28":
        return "feb28"
    if value == "mar1":
        return "mar1"
    raise CadenceError(f"leap_day is 'feb28' or 'mar1', not {value!r}")


def _month_day(month: object, day: object) -> None:
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise CadenceError(f"not a month: {month!r}")
    if isinstance(day, bool) or not isinstance(day, int):
        raise CadenceError(f"not a day of the month: {day!r}")
    try:
        date(_LEAP_YEAR, month, day)
    except (ValueError, OverflowError):
        raise CadenceError(f"there is no day {day} in month {month}") from None


def _pure_date(what: str, value: object) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise CadenceError(f"{what} must be a date, not {value!r}")
    return value


def _birthday_contact(value: str) -> str:
    return _identifier("a birthday's contact", value)


def _anniversary_contact(value: str) -> str:
    return _identifier("an anniversary's contact", value)


def _anniversary_date(value: date) -> date:
    return _pure_date("an anniversary's date", value)


def yearly(month: int, day: int, year: int, leap_day: LeapDay) -> date:
    """The date of a yearly ``month``/``day`` in ``year``; 29 February moves in common years."""
    if month == 2 and day == 29 and not isleap(year):
        return date(year, 3, 1) if leap_day == "mar1" else date(year, 2, 28)
    return date(year, month, day)


@attrs.frozen
class Birthday:
    """A contact's birthday, every year; with ``year`` the reminder says the age.

    ``lead`` moves the reminder that much before the day ("post the card a
    week before"), up to a year. ``leap_day`` says where a 29 February
    birthday falls in a common year: on 28 February (``"feb28"``, the
    default) or on 1 March (``"mar1"``).
    """

    contact: str = attrs.field(converter=_birthday_contact)
    month: int
    day: int
    year: int | None = attrs.field(default=None, kw_only=True)
    lead: timedelta = attrs.field(default=timedelta(0), kw_only=True, converter=_lead)
    leap_day: LeapDay = attrs.field(default="feb28", kw_only=True, converter=_leap)

    def __attrs_post_init__(self) -> None:
        _month_day(self.month, self.day)
        if self.year is not None:
            if isinstance(self.year, bool) or not isinstance(self.year, int):
                raise CadenceError(f"not a year: {self.year!r}")
            try:
                date(self.year, self.month, self.day)
            except (ValueError, OverflowError):
                raise CadenceError(
                    f"{self.year}-{self.month:02}-{self.day:02} is not a date"
                ) from None


@attrs.frozen
class Anniversary:
    """A yearly anniversary of ``date`` for a contact: "5 years a client".

    ``label`` names it in the reminder ("client anniversary", "wedding
    anniversary"); the count of years is added. ``lead`` and ``leap_day``
    work as for a Birthday.
    """

    contact: str = attrs.field(converter=_anniversary_contact)
    date: date = attrs.field(converter=_anniversary_date)
    label: str = attrs.field(default="anniversary", kw_only=True)
    lead: timedelta = attrs.field(default=timedelta(0), kw_only=True, converter=_lead)
    leap_day: LeapDay = attrs.field(default="feb28", kw_only=True, converter=_leap)

    @label.validator
    def _check_label(self, _: object, value: object) -> None:
        _identifier("an anniversary's label", value)


@attrs.frozen
class Occasion:
    """A date that matters, one-off (``on``) or yearly (``month`` and ``day``).

    It is for one ``contact``, for every contact with ``tag``, or, with
    neither, for everyone: a wedding, a launch, Valentine's Day, a public
    holiday. A one-off occasion that has passed never comes back. ``lead``
    and ``leap_day`` work as for a Birthday.
    """

    title: str
    on: date | None = attrs.field(default=None, kw_only=True)
    month: int | None = attrs.field(default=None, kw_only=True)
    day: int | None = attrs.field(default=None, kw_only=True)
    contact: str | None = attrs.field(default=None, kw_only=True)
    tag: str | None = attrs.field(default=None, kw_only=True)
    lead: timedelta = attrs.field(default=timedelta(0), kw_only=True, converter=_lead)
    leap_day: LeapDay = attrs.field(default="feb28", kw_only=True, converter=_leap)

    def __attrs_post_init__(self) -> None:
        _identifier("an occasion's title", self.title)
        if self.on is not None:
            _pure_date("an occasion's date", self.on)
            if self.month is not None or self.day is not None:
                raise CadenceError(f"{self.title!r}: give a date (on=) or month and day, not both")
        elif self.month is None or self.day is None:
            raise CadenceError(f"{self.title!r} needs a date (on=) or a month and a day")
        else:
            _month_day(self.month, self.day)
        if self.contact is not None:
            _identifier("an occasion's contact", self.contact)
        if self.tag is not None:
            _identifier("an occasion's tag", self.tag)
        if self.contact is not None and self.tag is not None:
            raise CadenceError(f"{self.title!r} is for a contact or for a tag, not both")


OccasionKind: TypeAlias = Birthday | Anniversary | Occasion
