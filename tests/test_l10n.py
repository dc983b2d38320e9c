"""Localization: one agenda worded in English, Spanish, German and French, checked against CLDR."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from babel import Locale
from babel.dates import format_date, format_skeleton, format_timedelta
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import cadence
from cadence import (
    Anniversary,
    Birthday,
    CadenceError,
    Contact,
    Every,
    Occasion,
    Roster,
    Rule,
    Touchpoint,
    plan,
    to_ical,
)
from cadence.adapters.console import ConsoleAdapter, format_line
from cadence.core.errors import ConfigError
from cadence.core.serial import reminder_from_row, reminder_row
from cadence.l10n import (
    CATALOGS,
    DEFAULT_LOCALE,
    ENGLISH,
    KEYWORDS,
    LOCALE_DIR,
    for_locale,
    resolve_locale,
    translations,
    words,
)

LOCALES = ("en", "es", "de", "fr")
NOW = datetime(2027, 2, 20, 12, 0, tzinfo=UTC)
ANA = Contact("ana", "Ana López", timezone="Europe/Madrid", channel="email")
BEN = Contact("ben", "Ben Okafor", timezone="Europe/Berlin")
LEO = Contact("leo", "Léo Martin", timezone="Europe/Paris")


def _po(lang: str) -> object:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "cadence.po").open("rb") as fp:
        return read_po(fp, locale=lang)


def _roster() -> Roster:
    """Birthdays with ages (one on 29 February), an anniversary, an event, check-ins."""
    return Roster(
        [ANA, BEN, LEO],
        [Rule(Every(weeks=2))],
        touchpoints=[Touchpoint("ben", datetime(2027, 2, 1, 10, 0, tzinfo=UTC), "email")],
        occasions=[
            Birthday("ana", 2, 29, year=1988),  # a leap-day birthday in a common year
            Birthday("leo", 3, 1, year=2026),  # one year old: the singular
            Anniversary("ben", date(2026, 3, 2), label="client", lead=timedelta(days=7)),
            Occasion("Launch", on=date(2027, 3, 5), contact="leo"),
        ],
    )


@pytest.fixture(scope="module")
def agenda() -> cadence.Agenda:
    """The agenda every locale words."""
    return plan(_roster(), now=NOW, horizon=timedelta(days=30))


def _by_purpose(agenda: cadence.Agenda, contact: str, purpose: str) -> cadence.Reminder:
    return next(r for r in agenda if r.contact.id == contact and r.purpose.startswith(purpose))


def _plural(lang: str, singular: str, n: int) -> str:
    """The catalog's form for ``n``, picked by CLDR's plural category rather than gettext's rule."""
    message = _po(lang)[singular]  # type: ignore[index]
    forms = message.string
    return forms[0] if Locale.parse(lang).plural_form(n) == "one" else forms[-1]


@pytest.mark.parametrize("lang", LOCALES)
def test_ages_and_the_leap_day_birthday_are_worded_as_cldr_says(
    lang: str, agenda: cadence.Agenda
) -> None:
    """A 29 February birthday falls on 28 February in a common year, and says the age it marks."""
    reminder = _by_purpose(agenda, "ana", "birthday")
    assert reminder.occasion_date == date(2027, 2, 28)
    day = format_skeleton("MMMMd", date(2027, 2, 28), locale=lang)
    template = _plural(lang, "{name} turns {n} on {date}", 39)
    expected = template.format(name="Ana López", n="39", date=day)
    assert for_locale(lang).title(reminder) == expected


@pytest.mark.parametrize("lang", LOCALES)
def test_one_year_takes_the_singular_where_cldr_says_one(lang: str, agenda: cadence.Agenda) -> None:
    """A first birthday and a first anniversary take the form CLDR calls "one"."""
    words = for_locale(lang)
    first = _by_purpose(agenda, "leo", "birthday")
    day = format_skeleton("MMMMd", date(2027, 3, 1), locale=lang)
    template = _plural(lang, "{name} turns {n} on {date}", 1)
    assert words.title(first) == template.format(name="Léo Martin", n="1", date=day)
    client = _by_purpose(agenda, "ben", "anniversary")
    template = _plural(lang, "{name}: {n} year, {label}, on {date}", 1)
    day = format_skeleton("MMMMd", date(2027, 3, 2), locale=lang)
    assert words.title(client) == template.format(
        name="Ben Okafor", n="1", label="client", date=day
    )


def test_the_spanish_sentences_read_as_a_person_would_write_them(agenda: cadence.Agenda) -> None:
    """The Madrid accountant's calendar says it in Spanish, with Spanish dates."""
    es = for_locale("es")
    assert es.title(_by_purpose(agenda, "ana", "birthday")) == (
        "Ana López cumple 39 años el 28 de febrero"
    )
    assert es.title(_by_purpose(agenda, "leo", "birthday")) == (
        "Léo Martin cumple 1 año el 1 de marzo"
    )
    assert es.title(_by_purpose(agenda, "ben", "cadence")) == "Ponte en contacto con Ben Okafor"
    assert es.title(_by_purpose(agenda, "leo", "occasion")) == (
        "Launch de Léo Martin el 5 de marzo de 2027"
    )


@pytest.mark.parametrize("lang", LOCALES)
def test_reasons_carry_cldr_dates_durations_and_the_cadence(
    lang: str, agenda: cadence.Agenda
) -> None:
    """A check-in's reason names its cadence and the last touch's date, as the locale writes it."""
    words = for_locale(lang)
    reason = words.reason(_by_purpose(agenda, "ben", "cadence"))
    every = _plural(lang, "every {n} week", 2).format(n="2")
    touched = _po(lang)["last personal touch on {date}"].string  # type: ignore[index]
    day = format_date(date(2027, 2, 1), "medium", locale=lang)
    assert reason == f"{every}; {touched.format(date=day)}"
    lead = words.reason(_by_purpose(agenda, "ben", "anniversary"))
    assert lead.endswith(words.duration(timedelta(days=7)) + _before(lang))


def _before(lang: str) -> str:
    text = _po(lang)["remind {lead} before"].string  # type: ignore[index]
    return text.split("{lead}")[1]


@pytest.mark.parametrize("lang", LOCALES)
def test_how_far_an_occasion_is_comes_from_cldr_relative_times(
    lang: str, agenda: cadence.Agenda
) -> None:
    """ "in 8 days" and "tomorrow" are the locale's own, the occasion's name translated."""
    words = for_locale(lang)
    birthday = _by_purpose(agenda, "ana", "birthday")
    name = _po(lang)["birthday"].string  # type: ignore[index]
    relative = format_timedelta(
        timedelta(days=8), granularity="day", threshold=1e9, add_direction=True, locale=lang
    )
    assert words.occasion_words(birthday, NOW) == f"{name} {relative}"
    tomorrow = _po(lang)["{occasion} tomorrow"].string  # type: ignore[index]
    eve = datetime(2027, 2, 27, 12, 0, tzinfo=UTC)
    assert words.occasion_words(birthday, eve) == tomorrow.format(occasion=name)


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_each_catalogs_plural_rule_agrees_with_cldr(lang: str) -> None:
    """For every count up to 1000, gettext's rule in the header picks the form CLDR names."""
    words = for_locale(lang)
    for n in range(1001):
        assert words.overdue(n) == _plural(lang, "overdue {n} day", n).format(n=words.number(n)), n


def test_english_localized_titles_match_the_cores_own() -> None:
    """In international English the layer says exactly what the core's titles say."""
    english = for_locale(DEFAULT_LOCALE)
    agenda = plan(_roster(), now=NOW, horizon=timedelta(days=400))
    assert len(agenda) > 5
    for reminder in agenda:
        assert english.title(reminder) == reminder.title


def test_keys_dates_and_uids_are_the_same_in_every_language(agenda: cadence.Agenda) -> None:
    """Words change with the locale; keys, due moments and the feed's UIDs and dates never do."""
    feeds = {lang: to_ical(agenda, words=for_locale(lang)).decode() for lang in LOCALES}

    def fixed(text: str) -> list[str]:
        return [
            line
            for line in text.replace("\r\n ", "").splitlines()
            if line.startswith(("UID", "DTSTART", "DTEND", "DTSTAMP", "SEQUENCE", "LAST-MOD"))
        ]

    assert len({tuple(fixed(text)) for text in feeds.values()}) == 1
    assert "SUMMARY:Ana López cumple 39 años el 28 de febrero" in feeds["es"]
    assert "SUMMARY:Ana López wird am 28. Februar 39" in feeds["de"]
    assert len(fixed(feeds["en"])) >= len(agenda) * 4
    again = plan(_roster(), now=NOW, horizon=timedelta(days=30))
    assert [r.key for r in again] == [r.key for r in agenda]


def test_facts_survive_the_store_round_trip(agenda: cadence.Agenda) -> None:
    """A reminder read back from its stored row is the one planned, facts and all."""
    for reminder in agenda:
        key, _, _, due, data = reminder_row(reminder)
        assert reminder_from_row(key, reminder.contact, due, data, NOW) == reminder.at(NOW)
        assert reminder.facts is not None


def test_a_locale_without_a_catalog_falls_back_to_english_with_one_warning(
    caplog: pytest.LogCaptureFixture, agenda: cadence.Agenda
) -> None:
    """Japanese has no catalog: English words, one warning line however often it is asked for."""
    with caplog.at_level(logging.WARNING, logger="cadence.l10n"):
        assert resolve_locale("ja_JP") == DEFAULT_LOCALE
        assert resolve_locale("ja_JP") == DEFAULT_LOCALE
    lines = [r.getMessage() for r in caplog.records if r.name == "cadence.l10n"]
    assert lines == ["no translation for locale 'ja_JP': reminders are worded in English"]
    reminder = _by_purpose(agenda, "ana", "birthday")
    assert for_locale("ja_JP").title(reminder) == reminder.title


def test_an_unknown_locale_is_refused_with_a_clear_error() -> None:
    """A tag that names no locale is a CadenceError; in a route, a ConfigError."""
    with pytest.raises(CadenceError, match="unknown locale 'xx_!!'"):
        for_locale("xx_!!")
    with pytest.raises(ConfigError, match="console route's locale"):
        ConsoleAdapter(locale="xx_!!")


def test_the_default_is_the_cores_english_unless_a_locale_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """C or POSIX names no language: the core's words; CADENCE_LOCALE or LANG name one."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "CADENCE_LOCALE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert words() is ENGLISH
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert words().locale == "de_DE"
    monkeypatch.setenv("CADENCE_LOCALE", "fr-CA")
    assert words().locale == "fr_CA"
    assert words("es").locale == "es"


def test_the_console_speaks_the_routes_language(
    agenda: cadence.Agenda, capsys: pytest.CaptureFixture[str]
) -> None:
    """A console route with a locale prints its titles and words in that language."""
    ConsoleAdapter(locale="de").deliver(list(agenda))
    printed = capsys.readouterr().out
    assert "Bei Ben Okafor melden" in printed
    assert "per email" in printed
    reminder = _by_purpose(agenda, "ana", "birthday")
    assert format_line(reminder, NOW) == format_line(reminder, NOW, ENGLISH)


#: Where the messages are, as in babel.cfg: the code, and the web page's Jinja2 templates.
# Jinja2's extractor named by its path: Babel before 2.13 finds extractors by
# entry point only through setuptools, which an environment may lack.
MESSAGE_MAP = [("**.py", "python"), ("web/templates/**.html", "jinja2.ext:babel_extract")]


def test_every_catalog_has_every_message_the_code_uses() -> None:
    """Extracting the messages from the code finds each one in each catalog, translated."""
    used: set[str] = set()
    package = Path(cadence.__file__).parent
    for _, _, message, _, _ in extract_from_dir(package, method_map=MESSAGE_MAP, keywords=KEYWORDS):
        used.update([message] if isinstance(message, str) else message)
    assert "Check in with {name}" in used
    # The web page's templates are extracted too: their {% trans %} blocks and _() calls.
    assert "Snooze a day" in used
    assert "%(count)s contacts have no cadence and are not counted." in used
    template = (LOCALE_DIR / "cadence.pot").open("rb")
    with template:
        pot = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(template) if m.id}
    for lang in CATALOGS:
        catalog = _po(lang)
        ids: set[str] = set()
        for message in catalog:  # type: ignore[attr-defined]
            if not message.id:
                continue
            ids.update([message.id] if isinstance(message.id, str) else message.id)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(strings), (lang, message.id)
            assert not message.fuzzy, (lang, message.id)
        assert used <= ids, (lang, sorted(used - ids))
        first = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}  # type: ignore[attr-defined]
        assert first == pot, (lang, sorted(first ^ pot))


def test_a_plugin_translates_its_own_messages_with_the_same_locale(tmp_path: Path) -> None:
    """A plugin's catalog in its own folder and domain is found for the route's locale."""
    folder = tmp_path / "es" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "sms.po").write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Text {name}"\nmsgstr "Escribe a {name}"\n',
        encoding="utf-8",
    )
    assert translations("es_ES", "sms", tmp_path).gettext("Text {name}") == "Escribe a {name}"
    assert translations("de", "sms", tmp_path).gettext("Text {name}") == "Text {name}"
