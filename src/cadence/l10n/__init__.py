"""Reminders in the user's language: one layer that turns a reminder's facts into words.

The core plans reminders as facts (``Reminder.facts``: the cadence, the
occasion, an age, a date) and keeps an English title and reason beside them.
Everything that shows a reminder to a person (the console, ``cadence due``,
emails, the calendar feed, webhooks) asks a ``Localizer`` for its words::

    from cadence.l10n import for_locale

    words = for_locale("es")
    words.title(reminder)   # "Ana López cumple 40 años el 1 de diciembre"
    words.reason(reminder)  # "cumpleaños el 1 dic 2026, nació en 1986"

Our sentences live in gettext catalogs (``locales/<lang>/LC_MESSAGES/cadence.po``,
compiled to ``.mo`` when the package is built, or in memory from the ``.po``
when no ``.mo`` is there); dates, numbers, units, lists, relative times
and plural rules come from Babel, that is from CLDR. Babel is imported on
first use, so ``import cadence`` stays cheap.

A locale without a catalog of ours is worded in English (``DEFAULT_LOCALE``),
with one warning on the ``cadence.l10n`` logger. A plugin translates its own
messages with ``translations`` and the same locale (see docs/localization.md).
"""

from __future__ import annotations

import datetime as dt
import gettext as _gettext
import io
import logging
import os
import threading
from datetime import datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cadence.core.cadences import Every, Recurring
from cadence.core.errors import CadenceError, ConfigError
from cadence.core.reminders import Reminder
from cadence.core.reminders import occasion_words as _english_occasion_words
from cadence.core.time import long_date as _english_long_date

if TYPE_CHECKING:
    from babel import Locale

    from cadence.core.drift import DriftReason

__all__ = [
    "CATALOGS",
    "DEFAULT_LOCALE",
    "DOMAIN",
    "ENGLISH",
    "ENV_LOCALE",
    "KEYWORDS",
    "LOCALE_DIR",
    "Localizer",
    "Words",
    "for_locale",
    "platform_locale",
    "resolve_locale",
    "route_words",
    "translations",
    "words",
]

#: The gettext domain of cadence's own messages.
DOMAIN = "cadence"
#: Where cadence's catalogs live: ``<lang>/LC_MESSAGES/cadence.po`` (and ``.mo`` once built).
LOCALE_DIR = Path(__file__).parent / "locales"
#: The languages cadence's own catalogs cover.
CATALOGS = ("de", "en", "es", "fr")
#: The locale words fall back to when none is set, the platform names none
#: (C or POSIX), or the one asked for has no catalog: English as written
#: internationally ("1 December"), which is also how the core words reminders.
DEFAULT_LOCALE = "en_001"
#: The environment variable that sets the locale of the command line.
ENV_LOCALE = "CADENCE_LOCALE"

_log = logging.getLogger("cadence.l10n")
_lock = threading.Lock()
_warned: set[str] = set()
_NO_CATALOG = _gettext.NullTranslations()


def platform_locale() -> str | None:
    """The locale the platform's environment names (LANGUAGE, LC_ALL, LC_MESSAGES, LANG).

    None when it names none, or only C or POSIX.
    """
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        # LANGUAGE is a list ("fr:en"); the others one locale ("fr_FR.UTF-8@euro").
        first = value.split(":")[0].split(".")[0].split("@")[0]
        if first and first not in ("C", "POSIX"):
            return first
    return None


def words(locale: str | None = None) -> Words:
    """The words to show reminders in: ``locale``, else ``CADENCE_LOCALE``, else the platform's.

    When none of them names a locale (the platform says C or POSIX), the
    words are ``ENGLISH``, the core's own, and Babel is never imported.
    Raises ``CadenceError`` for a tag that names no locale.
    """
    tag = locale or os.environ.get(ENV_LOCALE) or platform_locale()
    if tag is None:
        return ENGLISH
    return for_locale(tag)


def _parse(tag: str) -> Locale:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(tag.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise CadenceError(
            f"unknown locale {tag!r}: use a language tag such as 'es', 'de_AT' or 'fr-CA'"
        ) from None


def route_words(value: object, adapter: str) -> Words:
    """The words for a route's ``locale`` setting (None: as ``words`` says); ConfigError if bad."""
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigError(
            f"the {adapter} route's locale is a language tag such as 'es' or 'de_AT', not {value!r}"
        )
    try:
        return words(value)
    except CadenceError as error:
        raise ConfigError(f"the {adapter} route's locale: {error}") from None


def resolve_locale(locale: str | None = None) -> str:
    """The locale to word things in: ``locale``, else ``CADENCE_LOCALE``, else the platform's.

    Raises ``CadenceError`` for a tag that names no locale ("xx_!!"). A locale
    whose language has no catalog resolves to ``DEFAULT_LOCALE``, once
    warned about on the ``cadence.l10n`` logger.
    """
    tag = locale or os.environ.get(ENV_LOCALE) or platform_locale() or DEFAULT_LOCALE
    parsed = _parse(tag)
    if parsed.language not in CATALOGS:
        with _lock:
            first = tag not in _warned
            _warned.add(tag)
        if first:
            _log.warning("no translation for locale %r: reminders are worded in English", tag)
        return DEFAULT_LOCALE
    return str(parsed)


def _compiled(po: Path) -> _gettext.GNUTranslations:
    """The catalog at ``po``: its current ``.mo`` if built, else compiled here from the ``.po``.

    A ``.mo`` without its ``.po`` (a plugin may ship only those) is used as it is.
    """
    mo = po.with_suffix(".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return _gettext.GNUTranslations(fp)
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fp:
        catalog = read_po(fp, domain=po.stem)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def translations(locale: str, domain: str, directory: Path) -> _gettext.NullTranslations:
    """The translations of ``domain`` in ``directory`` for ``locale``, falling back to none.

    Looks for ``<directory>/<lang>_<TERRITORY>/LC_MESSAGES/<domain>.po`` then
    ``<directory>/<lang>/...``; the ``.mo`` beside a ``.po`` is used when it
    is as new, and a ``.mo`` alone as it is. Without either, messages stay
    as written (English). This is how a plugin translates its own messages
    in the locale of the route.
    """
    return _translations(str(_parse(locale)), domain, str(directory))


@lru_cache(maxsize=64)
def _translations(locale: str, domain: str, directory: str) -> _gettext.NullTranslations:
    parsed = _parse(locale)
    names = [str(parsed)]
    if parsed.territory:
        names.append(f"{parsed.language}_{parsed.territory}")
    names.append(parsed.language)
    for name in dict.fromkeys(names):
        po = Path(directory) / name / "LC_MESSAGES" / f"{domain}.po"
        if po.exists() or po.with_suffix(".mo").exists():
            return _compiled(po)
    return _gettext.NullTranslations()


def for_locale(locale: str | None = None) -> Localizer:
    """The ``Localizer`` for ``locale`` (resolved as ``resolve_locale`` says), made once."""
    return _localizer(resolve_locale(locale))


@lru_cache(maxsize=32)
def _localizer(locale: str) -> Localizer:
    return Localizer(locale)


class Words:
    """A reminder's words as the core writes them, in English: its own title and reason.

    What every edge needs of a reminder's words; ``Localizer`` says the same
    in a locale. These need neither catalogs nor Babel.
    """

    #: The locale the words are in; None for the core's own English.
    locale: str | None = None

    @property
    def catalog(self) -> _gettext.NullTranslations:
        """The gettext translations of cadence's own messages in this locale (none: as written).

        For code that formats its messages itself, such as Jinja2's i18n extension.
        """
        return _NO_CATALOG

    def gettext(self, message: str, **values: Any) -> str:
        """``message`` with its ``{placeholders}`` filled from ``values``."""
        return message.format(**values) if values else message

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """``singular`` for one, else ``plural``, filled in (``{n}`` is ``n``)."""
        return (singular if n == 1 else plural).format(n=n, **values)

    def date(self, day: dt.date, format: str = "medium") -> str:
        """``day`` as ISO 8601 (2026-12-01)."""
        return day.isoformat()

    def full_date(self, day: dt.date) -> str:
        """``day`` with its weekday and year: "Tuesday 1 December 2026"."""
        return _english_long_date(day, weekday=True, year=True)

    def days_from_now(self, days: int) -> str:
        """``days`` (negative for the past) from today: "in 3 days", "2 days ago"."""
        span = f"{abs(days)} day" + ("" if abs(days) == 1 else "s")
        return f"{span} ago" if days < 0 else f"in {span}"

    def title(self, reminder: Reminder) -> str:
        """The reminder's title."""
        return reminder.title

    def reason(self, reminder: Reminder) -> str:
        """Why the reminder is due."""
        return reminder.reason

    def occasion_words(self, reminder: Reminder, now: datetime) -> str | None:
        """How far the occasion is at ``now`` ("birthday in 2 days"); None for a cadence."""
        return _english_occasion_words(reminder, now)

    def cadence(self, cadence: Every | Recurring) -> str:
        """A cadence in words: "every 2 weeks"."""
        return cadence.describe()

    def drift_reason(self, reason: DriftReason, name: str) -> str:
        """One sign of drift in words, for the contact called ``name``: drift's own English."""
        from cadence.core.drift import reason_words

        return reason_words(reason, name)

    def level(self, level: str) -> str:
        """A drift level ("steady", "watch", "at-risk") or trend ("worse", "better", "same")."""
        return level

    def percent(self, share: float) -> str:
        """``share`` (0.85) as a whole percentage: "85%"."""
        return f"{share:.0%}"

    def overdue(self, days: int) -> str:
        """How long overdue a reminder is: "overdue 3 days"."""
        return f"overdue {days} day" + ("" if days == 1 else "s")

    def late(self, days: int) -> str:
        """How late a reminder is in `cadence due`'s table: "3d overdue", or "today"."""
        return f"{days}d overdue" if days else "today"


#: The core's own English words.
ENGLISH = Words()


class Localizer(Words):
    """Words for one locale: reminders' titles and reasons, dates, numbers, plurals.

    Make one with ``for_locale``. Every method is pure: the same reminder
    gives the same words; none of them changes a reminder's key or dates.
    """

    locale: str

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._babel = _parse(locale)
        self._catalog = _translations(locale, DOMAIN, str(LOCALE_DIR))
        # CLDR's formatting costs tens of microseconds a call, and a run words the
        # same days, spans and counts over and over: each locale remembers its own.
        self._format = lru_cache(maxsize=4096)(self._cldr)

    def __repr__(self) -> str:
        return f"Localizer({self.locale!r})"

    @property
    def catalog(self) -> _gettext.NullTranslations:
        """The gettext translations of cadence's own messages in this locale."""
        return self._catalog

    # -- the building blocks -----------------------------------------------------

    def gettext(self, message: str, **values: Any) -> str:
        """``message`` translated, its ``{placeholders}`` filled from ``values``."""
        text = self._catalog.gettext(message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """The form of ``singular``/``plural`` that ``n`` takes in this language, filled in.

        ``{n}`` is ``n`` written as this locale writes numbers.
        """
        return self._catalog.ngettext(singular, plural, n).format(n=self.number(n), **values)

    def _cldr(self, what: str, value: Any, format: str = "") -> str:
        """``value`` formatted by Babel as ``what`` says; remembered by ``_format``."""
        from babel import dates, numbers, units

        if what == "number":
            return numbers.format_decimal(value, locale=self._babel)
        if what == "percent":
            return numbers.format_percent(value, locale=self._babel)
        if what == "date":
            return dates.format_date(value, format, locale=self._babel)
        if what == "skeleton":
            return dates.format_skeleton(format, value, locale=self._babel)
        if what == "moment":
            return dates.format_datetime(value, "short", tzinfo=value.tzinfo, locale=self._babel)
        if what == "time":
            return dates.format_time(value, "short", locale=self._babel)
        if what == "unit":
            return units.format_unit(value, format, format="#,##0.##", locale=self._babel)
        # "relative": a huge threshold keeps it in days ("in 10 days", not "in 1 week").
        return dates.format_timedelta(
            value, granularity="day", threshold=1e9, add_direction=True, locale=self._babel
        )

    def number(self, n: float) -> str:
        """``n`` as this locale writes numbers ("1,000", "1.000", "1 000")."""
        return self._format("number", n)

    def percent(self, share: float) -> str:
        """``share`` (0.85) as this locale writes a whole percentage: "85%", "85 %"."""
        return self._format("percent", share)

    def date(self, day: dt.date, format: str = "medium") -> str:
        """``day`` in one of CLDR's formats: "short", "medium", "long" or "full"."""
        return self._format("date", day, format)

    def full_date(self, day: dt.date) -> str:
        """``day`` in CLDR's full format, with its weekday: "martes, 1 de diciembre de 2026"."""
        return self.date(day, "full")

    def day_month(self, day: dt.date) -> str:
        """The day and month of ``day`` as this locale writes them: "1 December", "1. Dezember"."""
        return self._format("skeleton", day, "MMMMd")

    def moment(self, when: datetime) -> str:
        """An aware moment, in its own zone, date and time in this locale's short form."""
        # Equal instants in two zones are equal datetimes: the zone is part of the key.
        return self._format("moment", when, f"{when.tzinfo!r} {when.isoformat()}")

    def time(self, at: time) -> str:
        """A time of day, as this locale writes it ("9:00 AM", "09:00")."""
        return self._format("time", at)

    def duration(self, span: timedelta) -> str:
        """A lead time or a wait in whole days, else hours: "7 days", "7 Tage", "2 heures"."""
        if span.days and not span.seconds:
            return self._format("unit", span.days, "duration-day")
        return self._format("unit", span.total_seconds() / 3600, "duration-hour")

    def days_from_now(self, days: int) -> str:
        """``days`` (negative for the past) as a relative time: "in 3 days", "vor 3 Tagen"."""
        return self._format("relative", timedelta(days=days))

    # -- reminders -------------------------------------------------------------------

    def title(self, reminder: Reminder) -> str:
        """The reminder's title in this locale: "Ana López cumple 40 años el 1 de diciembre"."""
        facts = reminder.facts
        name = reminder.contact.name
        if reminder.kind == "at-risk":
            return self.gettext("{name} may be drifting away", name=name)
        if facts is None:
            return reminder.title
        if reminder.kind == "cadence":
            return self.gettext("Check in with {name}", name=name)
        day = reminder.occasion_date
        if day is None or facts.occasion is None:
            return reminder.title
        if facts.occasion == "birthday":
            if facts.count is not None:
                return self.ngettext(
                    "{name} turns {n} on {date}",
                    "{name} turns {n} on {date}",
                    facts.count,
                    name=name,
                    date=self.day_month(day),
                )
            return self.gettext("{name}'s birthday on {date}", name=name, date=self.day_month(day))
        if facts.occasion == "anniversary" and facts.count is not None:
            return self.ngettext(
                "{name}: {n} year, {label}, on {date}",
                "{name}: {n} years, {label}, on {date}",
                facts.count,
                name=name,
                label=facts.label,
                date=self.day_month(day),
            )
        when = self.date(day, "long") if facts.occasion == "event" else self.day_month(day)
        return self.gettext("{label} for {name} on {date}", label=facts.label, name=name, date=when)

    def reason(self, reminder: Reminder) -> str:
        """Why the reminder is due, in this locale; its English reason when it has no facts."""
        facts = reminder.facts
        if facts is None:
            return reminder.reason
        parts: list[str] = []
        if facts.signs is not None:
            name = reminder.contact.name
            parts += [self.drift_reason(sign, name) for sign in facts.signs]
        elif facts.cadence is not None:
            parts.append(self.cadence(facts.cadence))
            parts.append(self._history(facts.history, facts.last))
        elif facts.occasion is not None and reminder.occasion_date is not None:
            parts.append(self._occasion_reason(reminder.occasion_date, facts))
            if reminder.lead:
                parts.append(
                    self.gettext("remind {lead} before", lead=self.duration(reminder.lead))
                )
        else:
            return reminder.reason
        if facts.snoozed is not None:
            parts.append(self.gettext("snoozed until {moment}", moment=self.moment(facts.snoozed)))
        return "; ".join(parts)

    def _history(self, history: str | None, last: dt.date | None) -> str:
        if last is None or history in (None, "never"):
            return self.gettext("no touch logged yet")
        when = self.date(last)
        if history == "touch":
            return self.gettext("last personal touch on {date}", date=when)
        if history == "added":
            return self.gettext("no touch logged yet (added {date})", date=when)
        return self.gettext("no touch logged since {date}", date=when)

    def _occasion_reason(self, day: dt.date, facts: Any) -> str:
        when = self.date(day)
        if facts.occasion == "birthday":
            if facts.born is not None:
                # A year, not a quantity: never grouped ("1986", not "1.986").
                return self.gettext("birthday on {date}, born {year}", date=when, year=facts.born)
            return self.gettext("birthday on {date}", date=when)
        if facts.occasion == "anniversary" and facts.start is not None:
            return self.gettext("{label} of {date}", label=facts.label, date=self.date(facts.start))
        return self.gettext("{label} on {date}", label=facts.label, date=when)

    def cadence(self, cadence: Every | Recurring) -> str:
        """A cadence in words: "every 2 weeks", "cada 2 semanas", "alle 2 Wochen"."""
        if isinstance(cadence, Recurring):
            return self.gettext("{rule} at {time}", rule=cadence.rrule, time=self.time(cadence.at))
        units: list[tuple[str, int]] = []
        months, days = cadence.months, cadence.days
        if months:
            units.append(("year", months // 12) if months % 12 == 0 else ("month", months))
        if days:
            units.append(("week", days // 7) if days % 7 == 0 else ("day", days))
        if len(units) == 1:
            unit, n = units[0]
            single, (one, many) = _EVERY[unit]
            return self.gettext(single) if n == 1 else self.ngettext(one, many, n)
        from babel.lists import format_list
        from babel.units import format_unit

        spans = [format_unit(n, f"duration-{unit}", locale=self._babel) for unit, n in units]
        return self.gettext("every {duration}", duration=format_list(spans, locale=self._babel))

    def occasion_name(self, reminder: Reminder) -> str | None:
        """What the occasion is called: "birthday" in this locale, or the user's own label."""
        if reminder.occasion_date is None:
            return None
        if reminder.purpose == "birthday":
            return self.gettext("birthday")
        return reminder.occasion_name

    def occasion_words(self, reminder: Reminder, now: datetime) -> str | None:
        """How far the occasion is at ``now``: "cumpleaños dentro de 2 días", "Geburtstag heute"."""
        days = reminder.days_to_occasion(now)
        name = self.occasion_name(reminder)
        if days is None or name is None:
            return None
        if days in _NEAR:
            return self.gettext(_NEAR[days], occasion=name)
        return self.gettext("{occasion} {when}", occasion=name, when=self.days_from_now(days))

    def overdue(self, days: int) -> str:
        """How long overdue a reminder is: "overdue 3 days", "3 días de retraso"."""
        return self.ngettext("overdue {n} day", "overdue {n} days", days)

    def late(self, days: int) -> str:
        """How late a reminder is in `cadence due`'s table: "3 días de retraso", or "hoy"."""
        return self.overdue(days) if days else self.gettext("today")

    def level(self, level: str) -> str:
        """A drift level or trend in this locale: "en riesgo", "schlechter"."""
        message = _LEVELS.get(level)
        return level if message is None else self.gettext(message)

    def _days(self, value: float) -> str:
        # As drift says a span: whole days, never fewer than one.
        return self._format("unit", max(1, round(value)), "duration-day")

    def drift_reason(self, reason: DriftReason, name: str) -> str:
        """One sign of drift in this locale, for the contact called ``name``.

        The same facts as ``cadence.core.drift.reason_words`` words in English:
        dates as day and month, spans as CLDR's days.
        """
        from cadence.core.drift import rhythm

        since = None if reason.since is None else self.day_month(reason.since)
        days = None if reason.days is None else self._days(reason.days)
        usual = None if reason.usual_days is None else self._days(reason.usual_days)
        if reason.signal == "silence":
            return self.gettext(
                "nothing from {name} since {date} ({days}); before, no more than {usual} passed",
                name=name,
                date=since,
                days=days,
                usual=usual,
            )
        if reason.signal == "unanswered":
            run = round(reason.days or 0)
            values = {"name": name, "date": since, "answered": reason.answered, "of": reason.of}
            if run == 1:
                return self.gettext(
                    "{name} has not answered your last message, since {date}; "
                    "before, {answered} of {of} were answered",
                    **values,
                )
            return self.ngettext(
                "{name} has not answered your last {n} message, since {date}; "
                "before, {answered} of {of} were answered",
                "{name} has not answered your last {n} messages, since {date}; "
                "before, {answered} of {of} were answered",
                run,
                **values,
            )
        if reason.signal == "replies":
            return self.gettext(
                "{name} answered {answered} of your last {of} messages; "
                "before, {tenths} in 10 within {usual}",
                name=name,
                answered=reason.answered,
                of=reason.of,
                tenths=round((reason.usual_share or 0) * 10),
                usual=usual,
            )
        if reason.signal == "reply-time":
            return self.gettext(
                "{name} now takes {days} to answer; before, {usual}",
                name=name,
                days=days,
                usual=usual,
            )
        named = None if reason.usual_days is None else rhythm(reason.usual_days)
        often = (
            self.gettext(_RHYTHMS[named])
            if named is not None
            else self.gettext("every {days}", days=usual)
        )
        return self.gettext(
            "no meeting since {date}; you met {rhythm} before", date=since, rhythm=often
        )


# Messages picked at run time, marked so that extraction finds them (``KEYWORDS``).
def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a message with a plural for translation without translating it."""
    return singular, plural


#: The functions and methods whose arguments are messages, as Babel's extraction takes them;
#: ``_`` is the web page's templates' own (Jinja2's i18n extension).
KEYWORDS: dict[str, Any] = {
    "gettext": None,
    "ngettext": (1, 2),
    "_": None,
    "N_": None,
    "Nn_": (1, 2),
}

# The one-unit cadences: "every week" for one, "every {n} weeks" for more, so
# that a language whose "one" form covers 21 never says "every week" for 21.
_EVERY: dict[str, tuple[str, tuple[str, str]]] = {
    "day": (N_("every day"), Nn_("every {n} day", "every {n} days")),
    "week": (N_("every week"), Nn_("every {n} week", "every {n} weeks")),
    "month": (N_("every month"), Nn_("every {n} month", "every {n} months")),
    "year": (N_("every year"), Nn_("every {n} year", "every {n} years")),
}
_RHYTHMS: dict[str, str] = {
    "weekly": N_("weekly"),
    "fortnightly": N_("fortnightly"),
    "monthly": N_("monthly"),
    "quarterly": N_("quarterly"),
}
_LEVELS: dict[str, str] = {
    "steady": N_("steady"),
    "watch": N_("watch"),
    "at-risk": N_("at-risk"),
    "worse": N_("worse"),
    "better": N_("better"),
    "same": N_("same"),
}
_NEAR: dict[int, str] = {
    0: N_("{occasion} today"),
    1: N_("{occasion} tomorrow"),
    -1: N_("{occasion} yesterday"),
}
