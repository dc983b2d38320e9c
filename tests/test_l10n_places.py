"""Every place that words a reminder, in English, Spanish, German and French.

Expectations come from CLDR through Babel (dates, relative times, plural
categories) and from the catalogs (our sentences); keys, Message-IDs, UIDs
and everything idempotency relies on are the same in every language.
"""

from __future__ import annotations

import base64
import email
import html
import json
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import icalendar
import pytest
import requests
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from babel import Locale
from babel.dates import format_date, format_skeleton, format_timedelta
from babel.messages.pofile import read_po
from babel.numbers import format_percent
from babel.units import format_unit
from click.testing import CliRunner

import cadence
from _servers import free_port
from cadence import Birthday, Contact, Every, Roster, Rule, Touchpoint, open_store, plan, to_ical
from cadence.adapters.smtp import SmtpAdapter, parse_settings
from cadence.adapters.smtp.message import digest_message, reminder_message
from cadence.adapters.webhook import WebhookAdapter
from cadence.adapters.webhook import parse_settings as webhook_settings
from cadence.adapters.webhook.payloads import payload_schema
from cadence.cli import cli
from cadence.core.drift import DriftReason, reason_words
from cadence.core.errors import ConfigError
from cadence.core.serial import reminder_from_row, reminder_row
from cadence.l10n import ENGLISH, LOCALE_DIR, Words, for_locale

LOCALES = ("en", "es", "de", "fr")
NOW = datetime(2027, 2, 20, 12, 0, tzinfo=UTC)
ANA = Contact("ana", "Ana López", email="ana@example.com", timezone="Europe/Madrid")
BEN = Contact("ben", "Ben Okafor", timezone="Europe/Berlin", channel="phone")
LEO = Contact("leo", "Léo Martin", timezone="Europe/Paris", since=date(2027, 2, 1))


def _catalog(lang: str) -> Any:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "cadence.po").open("rb") as fp:
        return read_po(fp, locale=lang)


def _says(lang: str, message: str, **values: Any) -> str:
    """The catalog's translation of ``message``, filled in."""
    text = _catalog(lang)[message].string
    return str(text).format(**values)


def _plural(lang: str, singular: str, n: int, **values: Any) -> str:
    """The catalog's form for ``n``, picked by CLDR's plural category, filled in."""
    forms = _catalog(lang)[singular].string
    form = forms[0] if Locale.parse(lang).plural_form(n) == "one" else forms[-1]
    return str(form).format(n=n, **values)


@pytest.fixture(scope="module")
def agenda() -> cadence.Agenda:
    """A check-in overdue 15 days, one due today, and a leap-day birthday 8 days ahead."""
    roster = Roster(
        [ANA, BEN, LEO],
        [Rule(Every(weeks=2))],
        [Birthday("ana", 2, 29, year=1988)],
        [Touchpoint("ben", datetime(2027, 1, 22, 10, 0, tzinfo=UTC), "phone")],
    )
    found = plan(roster, now=NOW, horizon=timedelta(days=10))
    assert {r.kind for r in found} == {"cadence", "occasion"}
    return found


def _of(agenda: cadence.Agenda, contact: str, kind: str = "cadence") -> cadence.Reminder:
    return next(r for r in agenda if r.contact.id == contact and r.kind == kind)


# -- email --------------------------------------------------------------------------

ADDRESSING = parse_settings(
    {"host": "h", "from": "c@example.org", "to": ["me@example.org"]}
).addressing


def _parts(message: EmailMessage) -> tuple[str, str, icalendar.Calendar]:
    plain = message.get_body(("plain",))
    markup = message.get_body(("html",))
    assert isinstance(plain, EmailMessage)
    assert isinstance(markup, EmailMessage)
    (attachment,) = list(message.iter_attachments())
    return (
        plain.get_content(),
        markup.get_content(),
        icalendar.Calendar.from_ical(attachment.get_content()),
    )


def _reparsed(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.mark.parametrize("lang", LOCALES)
def test_a_reminders_email_speaks_the_locale_with_cldr_dates(
    lang: str, agenda: cadence.Agenda
) -> None:
    """Subject, rows, dates and relative times are the locale's; the .ics is the feed's words."""
    words = for_locale(lang)
    birthday = _of(agenda, "ana", "occasion")
    message = _reparsed(reminder_message(birthday, ADDRESSING, NOW, words=words))
    assert message["Subject"] == words.title(birthday)
    text, markup, calendar = _parts(message)
    day = format_date(date(2027, 2, 28), "full", locale=lang)
    soon = format_timedelta(
        timedelta(days=8), granularity="day", threshold=1e9, add_direction=True, locale=lang
    )
    occasion = _says(lang, "{occasion} {when}", occasion=_says(lang, "birthday"), when=soon)
    due = _says(lang, "{date}, {when}", date=day, when=occasion)
    assert f"{_says(lang, 'Due')}: {due}" in text
    assert f"{_says(lang, 'Why')}: {words.reason(birthday)}" in text
    assert _says(lang, "Sent by cadence. The attached calendar file holds the same reminders.") in (
        text
    )
    assert f'<html lang="{lang}">' in markup
    feed = icalendar.Calendar.from_ical(to_ical([birthday], now=NOW, words=words))
    (event,) = calendar.walk("VEVENT")
    (fed,) = feed.walk("VEVENT")
    for name in ("UID", "SUMMARY", "DESCRIPTION"):
        assert event[name] == fed[name]
    assert str(calendar["X-WR-CALNAME"]) == _says(lang, "cadence reminders")


@pytest.mark.parametrize("lang", LOCALES)
def test_a_digest_counts_its_sections_with_cldr_plurals(lang: str, agenda: cadence.Agenda) -> None:
    """Two overdue take the form CLDR's category of 2 says; headings come from the catalog."""
    words = for_locale(lang)
    message = _reparsed(digest_message(list(agenda), ADDRESSING, NOW, words=words))
    found = {"overdue": 0, "today": 0, "coming up": 0}
    for reminder in agenda:
        today = NOW.astimezone(reminder.contact.zone).date()
        key = (
            "overdue"
            if reminder.date < today
            else "today"
            if reminder.date == today
            else "coming up"
        )
        found[key] += 1
    counts = [_plural(lang, f"{{n}} {k}", n) for k, n in found.items() if n]
    assert message["Subject"] == _says(lang, "Keep in touch: {counts}", counts=", ".join(counts))
    text, _, calendar = _parts(message)
    overdue = _of(agenda, "leo")
    late = (NOW.astimezone(overdue.contact.zone).date() - overdue.date).days
    assert late > 1
    day = format_date(overdue.date, "full", locale=lang)
    assert _plural(lang, "{date}, overdue by {n} day", late, date=day) in text
    assert f"{_says(lang, 'Overdue')} ({found['overdue']})" in text
    assert {str(e["SUMMARY"]) for e in calendar.walk("VEVENT")} == {words.title(r) for r in agenda}


def test_message_ids_and_calendar_uids_are_the_same_in_every_language(
    agenda: cadence.Agenda,
) -> None:
    """What a resent message is recognised by never depends on the words."""
    seen: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    subjects: dict[str, list[str]] = {}
    for lang in LOCALES:
        words = for_locale(lang)
        built = [
            digest_message(list(agenda), ADDRESSING, NOW, words=words),
            *(reminder_message(r, ADDRESSING, NOW, words=words) for r in agenda),
        ]
        seen[lang] = [
            (str(m["Message-ID"]), tuple(str(e["UID"]) for e in _parts(m)[2].walk("VEVENT")))
            for m in map(_reparsed, built)
        ]
        subjects[lang] = [str(m["Subject"]) for m in built]
    assert all(found == seen["en"] for found in seen.values())
    assert len({ident for ident, _ in seen["en"]}) == len(agenda) + 1
    # The words did change: no subject is the same in Spanish as in English.
    assert not set(subjects["es"]) & set(subjects["en"])


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        parsed = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@pytest.mark.parametrize("digest", [False, True], ids=["each", "digest"])
def test_an_smtp_route_with_a_locale_sends_its_language(
    digest: bool, agenda: cadence.Agenda
) -> None:
    """A route's ``locale`` words what reaches a real SMTP server; Message-IDs stay the same."""
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    received: dict[str | None, list[EmailMessage]] = {}
    try:
        for locale in ("de_AT", None):
            settings = {
                "host": "127.0.0.1",
                "port": controller.port,
                "security": "none",
                "from": "c@example.org",
                "to": ["me@example.org"],
                "digest": digest,
                **({"locale": locale} if locale else {}),
            }
            adapter = SmtpAdapter(parse_settings(settings), clock=lambda: NOW)
            assert adapter.deliver(list(agenda), now=NOW) is None
            received[locale], inbox.messages = inbox.messages, []
    finally:
        controller.stop()
    german = [str(m["Subject"]) for m in received["de_AT"]]
    if digest:
        assert german[0].startswith(_says("de", "Keep in touch: {counts}", counts=""))
    else:
        assert german == [for_locale("de_AT").title(r) for r in agenda]
        assert "Ana López wird am 28. Februar 39" in german
    ids = [[str(m["Message-ID"]) for m in found] for found in received.values()]
    assert ids[0] == ids[1]
    assert [str(m["Subject"]) for m in received[None]] != german


def test_a_bad_locale_in_an_smtp_route_is_a_config_error() -> None:
    """A tag that names no locale stops the route when it is read."""
    with pytest.raises(ConfigError, match="smtp route's locale"):
        parse_settings({"host": "h", "from": "c@example.org", "to": ["m@example.org"], "locale": 3})
    with pytest.raises(ConfigError, match="unknown locale"):
        parse_settings(
            {"host": "h", "from": "c@example.org", "to": ["m@example.org"], "locale": "xx_!!"}
        )


def test_an_english_email_without_a_locale_is_the_cores_own(agenda: cadence.Agenda) -> None:
    """With no locale anywhere the words are the core's: ISO-free long dates, no Babel needed."""
    words: Words = parse_settings({"host": "h", "from": "c@example.org", "to": ["m@e.org"]}).words
    assert words is ENGLISH
    text, markup, _ = _parts(
        _reparsed(reminder_message(_of(agenda, "ana", "occasion"), ADDRESSING, NOW))
    )
    assert "Due: Sunday 28 February 2027, birthday in 8 days" in text
    assert "<html><head>" in markup


# -- webhooks -----------------------------------------------------------------------

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


class _Hook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bodies: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.bodies.append({"id": self.headers["webhook-id"], "body": json.loads(body)})
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A receiver on 127.0.0.1: its URL and the bodies (with their webhook-id) it got."""
    bodies: list[dict[str, Any]] = []
    handler = type("Handler", (_Hook,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", bodies
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _post(url: str, reminders: list[cadence.Reminder], **settings: Any) -> None:
    settings = {"url": url, "allow_private": True, **settings}
    if settings.get("format", "standard") == "standard":
        settings["secret"] = SECRET
    adapter = WebhookAdapter(webhook_settings(settings), clock=lambda: NOW)
    assert adapter.deliver(reminders) is None


@pytest.mark.parametrize("lang", LOCALES)
def test_standard_webhooks_keep_machine_fields_and_gain_the_localized_words(
    lang: str, agenda: cadence.Agenda, hook: tuple[str, list[dict[str, Any]]]
) -> None:
    """Everything but ``localized`` is the same in every language, and valid by the v1 schema."""
    import jsonschema  # type: ignore[import-untyped]  # no stubs in the test extra

    url, bodies = hook
    reminders = sorted(agenda, key=lambda r: r.key)
    _post(url, reminders)
    english = sorted(bodies, key=lambda b: b["id"])
    bodies.clear()
    _post(url, reminders, locale=lang)
    localized = sorted(bodies, key=lambda b: b["id"])
    validator = jsonschema.Draft202012Validator(payload_schema())
    words = for_locale(lang)
    for reminder, plain, worded in zip(reminders, english, localized, strict=True):
        assert plain["id"] == worded["id"] == reminder.key
        validator.validate(worded["body"])
        words_of = worded["body"]["data"]["reminder"].pop("localized")
        plain["body"]["data"]["reminder"].pop("localized")
        assert worded["body"] == plain["body"]
        assert words_of == {
            "locale": words.locale,
            "title": words.title(reminder),
            "reason": words.reason(reminder),
            "date": format_date(reminder.date, "full", locale=lang),
        }
        assert worded["body"]["data"]["reminder"]["title"] == reminder.title


@pytest.mark.parametrize("lang", LOCALES)
def test_chat_webhooks_speak_the_routes_language(
    lang: str, agenda: cadence.Agenda, hook: tuple[str, list[dict[str, Any]]]
) -> None:
    """Slack, Discord and Teams messages carry the title, labels and CLDR dates of the locale."""
    url, bodies = hook
    overdue = _of(agenda, "leo")
    late = overdue.overdue.days
    assert late > 1
    for format in ("slack", "discord", "teams"):
        _post(url, [overdue], format=format, locale=lang)
    slack, discord, teams = (b["body"] for b in bodies)
    words = for_locale(lang)
    day = format_date(overdue.date, "medium", locale=lang)
    title = words.title(overdue)
    assert slack["text"] == _says(lang, "{title} (due {date})", title=title, date=day)
    context = slack["blocks"][1]["elements"][0]["text"]
    assert _says(lang, "{name}: {value}", name=_says(lang, "Due"), value=day) in context
    (embed,) = discord["embeds"]
    assert embed["title"] == title
    assert {
        "name": _says(lang, "Overdue"),
        "value": _plural(lang, "{n} day", late),
        "inline": True,
    } in embed["fields"]
    card = teams["attachments"][0]["content"]
    assert card["body"][0]["text"] == title
    assert {"title": _says(lang, "Due"), "value": day} in card["body"][2]["facts"]
    assert card["lang"] == lang


# -- drift and health ----------------------------------------------------------------

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)

SIGNS = (
    DriftReason("silence", 1.5, since=date(2026, 5, 25), days=40.0, usual_days=8.4),
    DriftReason("unanswered", 0.9, since=date(2026, 6, 1), days=4.0, answered=19, of=20),
    DriftReason("unanswered", 0.6, since=date(2026, 6, 1), days=1.0, answered=9, of=10),
    DriftReason("replies", 0.5, days=None, usual_days=1.0, answered=1, of=5, usual_share=0.94),
    DriftReason("reply-time", 0.3, days=6.2, usual_days=1.0),
    DriftReason("meetings", 0.4, since=date(2026, 3, 2), usual_days=28.5),
    DriftReason("meetings", 0.4, since=date(2026, 3, 2), usual_days=10.0),
)


def _fading() -> tuple[Roster, datetime]:
    """Twenty weeks of mail answered the next day, then five weeks of yours unanswered."""
    touches = []
    for week in range(20):
        monday = START + week * 7 * DAY
        touches += [
            Touchpoint("ana", monday, "email", direction="out"),
            Touchpoint("ana", monday + DAY, "email", direction="in"),
        ]
    last = START + 20 * 7 * DAY
    touches += [
        Touchpoint("ana", last + week * 7 * DAY, "email", direction="out") for week in range(5)
    ]
    return Roster([Contact("ana", "Ana")], [Rule(Every(weeks=1))], touchpoints=touches), last


def test_international_english_words_drift_as_drift_does() -> None:
    """The catalogs' English says each sign exactly as ``reason_words`` does."""
    english = for_locale("en_001")
    for sign in SIGNS:
        assert english.drift_reason(sign, "Ana") == reason_words(sign, "Ana"), sign.signal


@pytest.mark.parametrize("lang", LOCALES)
def test_drift_signs_are_worded_with_cldr_dates_and_days(lang: str) -> None:
    """A silence: the day and month, and the spans in days, as CLDR writes them."""
    words = for_locale(lang)
    silence = SIGNS[0]
    assert words.drift_reason(silence, "Ana") == _says(
        lang,
        "nothing from {name} since {date} ({days}); before, no more than {usual} passed",
        name="Ana",
        date=format_skeleton("MMMMd", date(2026, 5, 25), locale=lang),
        days=format_unit(40, "duration-day", locale=lang),
        usual=format_unit(8, "duration-day", locale=lang),
    )
    monthly = words.drift_reason(SIGNS[5], "Ana")
    assert _says(lang, "monthly") in monthly
    ten = words.drift_reason(SIGNS[6], "Ana")
    assert _says(lang, "every {days}", days=format_unit(10, "duration-day", locale=lang)) in ten
    many = _plural(
        lang,
        "{name} has not answered your last {n} message, since {date}; "
        "before, {answered} of {of} were answered",
        4,
        name="Ana",
        date=format_skeleton("MMMMd", date(2026, 6, 1), locale=lang),
        answered=19,
        of=20,
    )
    assert words.drift_reason(SIGNS[1], "Ana") == many


@pytest.mark.parametrize("lang", LOCALES)
def test_an_at_risk_reminder_carries_its_signs_and_is_worded_from_them(lang: str) -> None:
    """Planning keeps drift's English reason and adds the signs; every edge words them."""
    roster, last = _fading()
    (reminder,) = [r for r in plan(roster, now=last + 60 * DAY) if r.kind == "at-risk"]
    assert reminder.facts is not None
    assert reminder.facts.signs
    assert reminder.reason == "; ".join(reason_words(s, "Ana") for s in reminder.facts.signs)
    words = for_locale(lang)
    expected = "; ".join(words.drift_reason(s, "Ana") for s in reminder.facts.signs)
    assert words.reason(reminder) == expected
    key, _, _, due, data = reminder_row(reminder)
    assert reminder_from_row(key, reminder.contact, due, data, NOW) == reminder.at(NOW)
    feed = icalendar.Calendar.from_ical(to_ical([reminder], words=words))
    (event,) = feed.walk("VEVENT")
    assert _says(lang, "Why: {reason}", reason=expected) in str(event["DESCRIPTION"])
    assert str(event["SUMMARY"]) == _says(lang, "{name} may be drifting away", name="Ana")
    assert str(event["UID"]) == reminder.key


@pytest.mark.parametrize("lang", LOCALES)
def test_cadence_health_speaks_the_locale(lang: str, tmp_path: Path) -> None:
    """The health table's headings, levels, percentages and first reason are the locale's."""
    db = f"sqlite:///{tmp_path / 'cadence.db'}"
    roster, last = _fading()
    runner = CliRunner()
    now = (last + 60 * DAY).isoformat()
    base = ["--db", db, "--now", now]
    assert runner.invoke(cli, [*base, "contact", "add", "ana", "--name", "Ana"]).exit_code == 0
    assert runner.invoke(cli, [*base, "rule", "set", "1 week", "--contact", "ana"]).exit_code == 0
    for touch in roster.touchpoints:
        args = ["log", "ana", "--at", touch.at.isoformat(), "--via", "email"]
        args += ["--in"] if touch.direction == "in" else []
        assert runner.invoke(cli, [*base, *args]).exit_code == 0, touch
    result = runner.invoke(cli, [*base, "--locale", lang, "health"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    words = for_locale(lang)
    found = cadence.drift(roster, "ana", now=last + 60 * DAY)
    assert found.level == "at-risk"
    out = " ".join(result.output.split())
    for heading in ("health", "drift", "trend", "why"):
        assert _says(lang, heading) in out
    assert _says(lang, "at-risk") in out
    assert " ".join(words.drift_reason(found.reasons[0], "Ana").split()) in out
    score = cadence.health(roster, "ana", now=last + 60 * DAY)
    assert score is not None
    assert " ".join(format_percent(score, locale=lang).split()) in out


# -- the web page and its feed -----------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def served_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store holding Ana's fading mail and a birthday of hers."""
    db = f"sqlite:///{tmp_path_factory.mktemp('web') / 'cadence.db'}"
    roster, _ = _fading()
    with open_store(db) as store:
        store.put_contacts([Contact("ana", "Ana")])
        store.set_rule(Rule(Every(weeks=1), contact="ana"))
        store.add_occasion(Birthday("ana", 7, 30, year=1990))
        for touch in roster.touchpoints:
            store.log(touch)
    return db


def _serve_site(db: str, words: Words, now: datetime) -> tuple[str, Callable[[], None]]:
    from cadence.web.app import make_web_app
    from cadence.web.feed import make_feed_app

    store = open_store(db)
    clock = lambda: now  # noqa: E731  # a pinned moment

    def current() -> cadence.Agenda:
        agenda: cadence.Agenda = store.agenda(now=now, within=timedelta(days=30))
        return agenda

    feed = make_feed_app(current, token=None, store=store, clock=clock, words=words)
    app = make_web_app(store, token=None, feed=feed, clock=clock, words=words)
    server = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        store.close()

    return f"http://127.0.0.1:{server.server_port}", stop


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.mark.parametrize("lang", LOCALES)
def test_the_web_page_and_its_feed_speak_the_apps_locale(lang: str, served_db: str) -> None:
    """Today, People and /feed.ics in the locale; the feed's UIDs are the same in every one."""
    _, last = _fading()
    now = last + 60 * DAY
    words = for_locale(lang)
    with open_store(served_db) as store:
        agenda = store.agenda(now=now, within=timedelta(days=30))
        roster = store.roster()
    risky = next(r for r in agenda if r.kind == "at-risk")
    found = cadence.drift(roster, "ana", now=now)
    url, stop = _serve_site(served_db, words, now)
    try:
        today = requests.get(url + "/", timeout=10).text
        people = requests.get(url + "/people", timeout=10).text
        feed = requests.get(url + "/feed.ics", timeout=10)
    finally:
        stop()
    assert f'<html lang="{lang}">' in today
    shown = _text(today)
    assert words.title(risky) in shown
    assert " ".join(words.reason(risky).split()) in shown
    assert _says(lang, "Overdue") in shown
    birthday = next(r for r in agenda if r.purpose == "birthday")
    assert words.title(birthday) in shown
    listed = _text(people)
    assert _says(lang, "at-risk") in listed
    assert " ".join(words.drift_reason(found.reasons[0], "Ana").split()) in listed
    calendar = icalendar.Calendar.from_ical(feed.content)
    events = {str(e["UID"]): str(e["SUMMARY"]) for e in calendar.walk("VEVENT")}
    assert events == {r.key: words.title(r) for r in agenda}


def test_each_language_of_the_served_feed_has_its_own_etag(served_db: str) -> None:
    """A client that switches language gets the new words, not a 304 for the old ones."""
    _, last = _fading()
    etags = set()
    for lang in LOCALES:
        url, stop = _serve_site(served_db, for_locale(lang), last + 60 * DAY)
        try:
            etags.add(requests.get(url + "/feed.ics", timeout=10).headers["ETag"])
        finally:
            stop()
    assert len(etags) == len(LOCALES)


# -- cadence due ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LOCALES)
def test_cadence_due_words_its_table_and_nothing_due(
    lang: str, served_db: str, tmp_path: Path
) -> None:
    """Headings, dates, titles and "nothing due" are the locale's; keys and JSON never change."""
    _, last = _fading()
    now = last + 60 * DAY
    base = ["--db", served_db, "--now", now.isoformat(), "--locale", lang]
    runner = CliRunner()
    shown = runner.invoke(cli, [*base, "due", "--within", "30d"], env={"COLUMNS": "400"})
    assert shown.exit_code == 0, shown.output
    out = " ".join(shown.output.split())
    for heading in ("when", "contact", "channel", "key"):
        assert _says(lang, heading) in out
    with open_store(served_db) as store:
        agenda = store.agenda(now=now, within=timedelta(days=30))
    words = for_locale(lang)
    ahead = next(r for r in agenda if not r.overdue)
    assert format_date(ahead.date, "medium", locale=lang) in out
    for reminder in agenda:
        assert words.title(reminder) in out
        assert reminder.key[:10] in out
    bare = ["--db", f"sqlite:///{tmp_path / 'bare.db'}", "--locale", lang]
    assert runner.invoke(cli, [*bare, "contact", "add", "bo", "--name", "Bo"]).exit_code == 0
    empty = runner.invoke(cli, [*bare, "due"])
    assert empty.exit_code == 0
    # Before click 8.2 the runner's stdout holds stderr too: the note on Bo, who has no cadence.
    assert empty.stdout.strip().splitlines()[-1] == _says(lang, "nothing due")
    plain = runner.invoke(cli, ["--db", served_db, "--now", now.isoformat(), "due", "--json"])
    worded = runner.invoke(cli, [*base, "due", "--json"])
    assert plain.output == worded.output
    listed = json.loads(plain.output)
    assert {tuple(sorted(r["facts"])) for r in listed} >= {("signs",)}
    assert all(r["facts"] is not None for r in listed)
