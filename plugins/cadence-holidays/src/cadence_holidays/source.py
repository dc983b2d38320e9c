"""The ``holidays`` occasion source: a country's public holidays, from the holidays package."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import holidays

import cadence

__all__ = ["HolidaySource"]

# cadence refuses longer leads: next year's reminder would come before this year's day.
_MAX_LEAD = timedelta(days=366)


def _names(setting: str, value: object) -> tuple[str, ...]:
    """A list of names from a setting; a single name stands for a list of one."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if (
        not isinstance(value, Sequence)
        or isinstance(value, bytes)
        or not all(isinstance(v, str) and v and v == v.strip() for v in value)
    ):
        raise cadence.ConfigError(f"'{setting}' must be a list of names, not {value!r}")
    return tuple(dict.fromkeys(value))


def _calendar(country: str, **options: Any) -> holidays.HolidayBase:
    return holidays.country_holidays(country, observed=False, **options)


class HolidaySource:
    """The public holidays of ``country`` (an ISO 3166 code: "US", "IN", "DE").

    Settings, as keys of the ``[[sources]]`` table:

    - ``country``: the country's ISO 3166 code, required;
    - ``subdivision``: a state, province or region code ("CA" for California
      with "US"), whose own holidays are added to the country's;
    - ``tags``: each holiday is an occasion for every contact with one of
      these tags (one occasion per tag);
    - ``contacts``: and for each of these contacts, by id; give ``tags``,
      ``contacts`` or both;
    - ``lead``: how long before the day to remind, as "3d" or "1 week"
      (none by default);
    - ``only``: the names of the holidays to keep, matched without regard to
      case ("Christmas Day", "Diwali"); all of them by default;
    - ``language``: the language of the holidays' names, among those the
      holidays package has for the country ("de", "en_US", "hi").

    A holiday's occasion is titled with its name and the country, as
    "Christmas Day (US)" or "Cesar Chavez Day (US-CA)". Observed days (a
    holiday moved off a weekend) are left out: the reminder is for the day
    itself. Bad settings raise ``cadence.ConfigError`` saying which.
    """

    def __init__(
        self,
        *,
        country: str,
        subdivision: str | None = None,
        tags: Sequence[str] | None = None,
        contacts: Sequence[str] | None = None,
        lead: str | int | timedelta = 0,
        only: Sequence[str] | None = None,
        language: str | None = None,
    ) -> None:
        given: object = country
        if not isinstance(given, str) or not given.strip():
            raise cadence.ConfigError(f"'country' must be a code such as 'US', not {given!r}")
        self.country = given.strip().upper()
        try:
            calendar = _calendar(self.country)
        except NotImplementedError:
            raise cadence.ConfigError(
                f"unknown country {country!r}; give an ISO 3166 code such as 'US' or 'IN'"
            ) from None
        self.subdivision = self._subdivision(subdivision, calendar)
        self.language = self._language(language, calendar)
        self.tags = _names("tags", tags)
        self.contacts = _names("contacts", contacts)
        if not self.tags and not self.contacts:
            raise cadence.ConfigError("give 'tags' or 'contacts': whose holidays these are")
        try:
            self.lead = cadence.parse_duration(lead)
        except cadence.CadenceError as error:
            raise cadence.ConfigError(f"'lead': {error}") from None
        if self.lead > _MAX_LEAD:
            raise cadence.ConfigError(f"'lead' must be a year at most, not {lead!r}")
        self.only = _names("only", only)
        self.label = (
            f"{self.country}-{self.subdivision}" if self.subdivision is not None else self.country
        )

    def _subdivision(self, value: object, calendar: holidays.HolidayBase) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise cadence.ConfigError(f"'subdivision' must be a code such as 'CA', not {value!r}")
        code = value.strip()
        known = tuple(calendar.subdivisions)
        if code not in known and code.upper() in known:
            code = code.upper()
        if code not in known:
            listed = ", ".join(known) or "none"
            raise cadence.ConfigError(
                f"{self.country} has no subdivision {value!r} (known: {listed})"
            )
        return code

    def _language(self, value: object, calendar: holidays.HolidayBase) -> str | None:
        if value is None:
            return None
        known = tuple(calendar.supported_languages)
        if value not in known:
            listed = ", ".join(known) or "none"
            raise cadence.ConfigError(
                f"the holidays of {self.country} have no names in {value!r} (known: {listed})"
            )
        return str(value)

    def _holidays(self, years: range) -> holidays.HolidayBase:
        return _calendar(self.country, subdiv=self.subdivision, years=years, language=self.language)

    def _check_only(self, start: date, end: date) -> set[str]:
        """The casefolded names of ``only``; a name that no holiday has near the window is an error.

        A year either side of the window is searched, so a holiday that falls
        outside this window is still a known name.
        """
        if not self.only:
            return set()
        around = self._holidays(range(start.year - 1, end.year + 2))
        known = {name.casefold(): name for day in around for name in around.get_list(day)}
        for name in self.only:
            if name.casefold() not in known:
                listed = ", ".join(sorted(set(known.values())))
                raise cadence.ConfigError(
                    f"'only' names {name!r}, which is not a holiday of {self.label} "
                    f"(its holidays: {listed})"
                )
        return {name.casefold() for name in self.only}

    def occasions(self, start: date, end: date) -> list[cadence.Occasion]:
        """One occasion per holiday from ``start`` to ``end`` and per tag or contact."""
        keep = self._check_only(start, end)
        calendar = self._holidays(range(start.year, end.year + 1))
        found = []
        for day in sorted(calendar):
            if not start <= day <= end:
                continue
            for name in calendar.get_list(day):
                if keep and name.casefold() not in keep:
                    continue
                title = f"{name} ({self.label})"
                found += [cadence.Occasion(title, on=day, tag=t, lead=self.lead) for t in self.tags]
                found += [
                    cadence.Occasion(title, on=day, contact=c, lead=self.lead)
                    for c in self.contacts
                ]
        return found

    def __repr__(self) -> str:
        return f"<HolidaySource {self.label}>"
