"""The ``caldav`` adapter against a real Radicale on 127.0.0.1, with htpasswd logins.

Writes are counted on the server's side: the server is started at the info
level, where it logs every request it receives. Events are read back with
the ``caldav`` client and ``icalendar``, as another calendar app would.
"""

from __future__ import annotations

import http.server
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
import requests

from _radicale import Radicale, start_radicale
from cadence import Birthday, ConfigError, Contact, Every, Route, Rule, Touchpoint
from cadence import hookimpl as cadence_hookimpl
from cadence._config import open_store
from cadence._delivery import PublishLedger
from cadence._dispatch import DispatchReport, dispatch
from cadence._plugins import Plugins
from cadence.adapters.caldav import CalDavAdapter, caldav_adapter
from cadence.adapters.ical.render import to_ical
from cadence.sources._dav import dav, multistatus, parse_xml
from test_cli import Cli

PASSWORD_ENV = "CADENCE_TEST_CALDAV_PASSWORD"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HORIZON = timedelta(days=30)
WRITES = ("PUT", "DELETE")

# An event of the calendar's owner, made in another app.
THEIRS = """\
BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//another app//EN\r
BEGIN:VEVENT\r
UID:dentist-appointment\r
DTSTAMP:20261101T090000Z\r
DTSTART:20261125T090000Z\r
DURATION:PT1H\r
SUMMARY:Dentist\r
END:VEVENT\r
END:VCALENDAR\r
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Radicale]:
    """A Radicale that logs each request it receives, for this module's tests."""
    started = start_radicale(tmp_path_factory.mktemp("radicale"), level="info")
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def calendar(server: Radicale) -> Iterator[str]:
    """The URL of a new, empty calendar of ana's called "Reminders"."""
    url = server.make_calendar("Reminders")
    try:
        yield url
    finally:
        server.drop_book(url)


@pytest.fixture
def store(tmp_path: Path, plugins: Plugins) -> Iterator[Any]:
    """Five contacts checked in with weekly, two of them with a birthday in the next month."""
    opened = open_store(f"sqlite:///{tmp_path / 'cadence.db'}", plugins=plugins)
    opened.put_contacts(
        [
            Contact("ana", "Ana Lima", timezone="Europe/Madrid"),
            Contact("ben", "Ben Okafor", timezone="America/New_York"),
            Contact("cy", "Cy Tan", timezone="Asia/Singapore"),
            Contact("dee", "Dee Ryan"),
            Contact("eli", "Eli Berg", timezone="Europe/Madrid"),
        ]
    )
    opened.set_rule(Rule(Every(weeks=1)))
    opened.add_occasion(Birthday("ana", month=12, day=2))
    opened.add_occasion(Birthday("cy", month=12, day=10, lead=timedelta(days=3)))
    for ident, days in (("dee", 3), ("eli", 6)):
        opened.log(Touchpoint(ident, NOW - timedelta(days=days)))
    yield opened
    opened.close()


@pytest.fixture
def password(server: Radicale, monkeypatch: pytest.MonkeyPatch) -> str:
    """ana's password, in the environment variable the routes name."""
    monkeypatch.setenv(PASSWORD_ENV, server.password("ana"))
    return server.password("ana")


def _route(url: str, name: str = "cal", **settings: object) -> Route:
    return Route(
        "caldav",
        name=name,
        settings={"url": url, "username": "ana", "password_env": PASSWORD_ENV, **settings},
    )


def _run(store: Any, route: Route, plugins: Plugins, now: datetime = NOW) -> DispatchReport:
    return dispatch(store, [route], now=now, plugins=plugins, horizon=HORIZON)


def _writes(server: Radicale, before: dict[str, int]) -> dict[str, int]:
    seen = server.requests_seen("cadence/")
    return {method: seen[method] - before.get(method, 0) for method in WRITES}


def _reads(server: Radicale, before: dict[str, int]) -> dict[str, int]:
    """The PROPFINDs and REPORTs the adapter sent since ``before``."""
    seen = server.requests_seen("cadence/")
    return {method: seen[method] - before.get(method, 0) for method in ("PROPFIND", "REPORT")}


def _sync_token(server: Radicale, url: str) -> str:
    """The calendar's sync token now, as the server gives it."""
    body = b'<propfind xmlns="DAV:"><prop><sync-token/></prop></propfind>'
    with server.session() as session:
        answer = session.request("PROPFIND", url, data=body, headers={"Depth": "0"}, timeout=30)
    assert answer.status_code == 207
    token = parse_xml(answer.content).findtext(f".//{dav('sync-token')}")
    assert token
    return token


def _events(server: Radicale, url: str) -> dict[str, icalendar.Event]:
    """The calendar's events by UID, read with the caldav client."""
    import caldav

    client = caldav.DAVClient(url=url, username="ana", password=server.password("ana"))
    found: dict[str, icalendar.Event] = {}
    for item in client.calendar(url=url).events():
        for event in icalendar.Calendar.from_ical(item.data).walk("VEVENT"):
            found[str(event["UID"])] = event
    return found


def _etags(server: Radicale, url: str) -> dict[str, str | None]:
    """Each resource's ETag, from the server's listing (a PROPFIND of depth 1)."""
    body = b'<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>'
    with server.session() as session:
        answer = session.request("PROPFIND", url, data=body, headers={"Depth": "1"}, timeout=30)
    assert answer.status_code == 207
    responses, _ = multistatus(parse_xml(answer.content))
    return {r.href: r.text(dav("getetag")) for r in responses}


def _content(event: icalendar.Event) -> dict[str, bytes]:
    """An event's properties as written, without the route's mark."""
    return {
        name: event[name].to_ical() if hasattr(event[name], "to_ical") else str(event[name])
        for name in event
        if name != "X-CADENCE-ROUTE"
    }


def test_the_first_run_creates_every_event_and_the_next_writes_nothing(
    server: Radicale, calendar: str, store: Any, plugins: Plugins, password: str
) -> None:
    """Each reminder of the agenda becomes one event; an unchanged second run sends no write."""
    with server.session() as session:
        put = session.put(calendar + "dentist.ics", data=THEIRS.encode(), timeout=10)
    assert put.status_code == 201
    agenda = store.agenda(now=NOW, within=HORIZON)
    assert len(agenda) >= 7
    before = server.requests_seen("cadence/")
    report = _run(store, _route(calendar), plugins)
    assert report.errors == ()
    assert report.warnings == ()
    assert report.published == ("cal",)
    assert _writes(server, before) == {"PUT": len(agenda), "DELETE": 0}
    events = _events(server, calendar)
    assert set(events) == {r.key for r in agenda} | {"dentist-appointment"}
    assert all(str(events[r.key]["X-CADENCE-ROUTE"]) == "cal" for r in agenda)
    assert set(store.published("cal")) == {r.key for r in agenda}
    listed = _etags(server, calendar)

    before = server.requests_seen("cadence/")
    again = _run(store, _route(calendar), plugins, NOW + timedelta(minutes=5))
    assert again.errors == ()
    assert again.warnings == ()
    assert _writes(server, before) == {"PUT": 0, "DELETE": 0}
    assert _etags(server, calendar) == listed
    assert str(_events(server, calendar)["dentist-appointment"]["SUMMARY"]) == "Dentist"


def test_a_route_in_another_language_rewrites_the_same_events_in_place(
    server: Radicale, calendar: str, store: Any, plugins: Plugins, password: str
) -> None:
    """With ``locale`` set, each event is written again in Spanish under its name and UID."""
    from cadence.l10n import for_locale

    assert _run(store, _route(calendar), plugins).errors == ()
    english = _etags(server, calendar)
    agenda = store.agenda(now=NOW, within=HORIZON)
    before = server.requests_seen("cadence/")
    report = _run(store, _route(calendar, locale="es"), plugins, NOW + timedelta(minutes=5))
    assert report.errors == ()
    assert report.warnings == ()
    assert _writes(server, before) == {"PUT": len(agenda), "DELETE": 0}
    assert set(_etags(server, calendar)) == set(english)
    events = _events(server, calendar)
    spanish = for_locale("es")
    assert {key: str(event["SUMMARY"]) for key, event in events.items()} == {
        r.key: spanish.title(r) for r in agenda
    }
    before = server.requests_seen("cadence/")
    _run(store, _route(calendar, locale="es"), plugins, NOW + timedelta(minutes=10))
    assert _writes(server, before) == {"PUT": 0, "DELETE": 0}


def test_events_carry_the_alarm_and_the_content_of_the_feed(
    server: Radicale, calendar: str, store: Any, plugins: Plugins, password: str
) -> None:
    """Read back, each event is the feed's, plus one alarm the set time before its due moment."""
    report = _run(store, _route(calendar, alarm="15m"), plugins)
    assert report.errors == ()
    agenda = store.agenda(now=NOW, within=HORIZON)
    feed = {
        str(e["UID"]): e
        for e in icalendar.Calendar.from_ical(to_ical(agenda, now=NOW)).walk("VEVENT")
    }
    events = _events(server, calendar)
    assert set(events) == set(feed)
    ahead = 0
    for reminder in agenda:
        event = events[reminder.key]
        assert _content(event) == _content(feed[reminder.key])
        alarms = event.walk("VALARM")
        rings = reminder.due - timedelta(minutes=15)
        if rings > NOW:
            ahead += 1
            assert len(alarms) == 1
            assert alarms[0]["TRIGGER"].dt == rings.astimezone(UTC)
            assert str(alarms[0]["ACTION"]) == "DISPLAY"
        else:
            assert alarms == []
    assert ahead >= 3


def test_without_an_alarm_the_events_have_none(
    server: Radicale, calendar: str, store: Any, plugins: Plugins, password: str
) -> None:
    """alarm = false leaves every alarm out, even the feed's for a lead time."""
    assert _run(store, _route(calendar, alarm=False), plugins).errors == ()
    events = _events(server, calendar)
    assert events
    assert all(event.walk("VALARM") == [] for event in events.values())


def test_a_logged_touch_removes_that_check_ins_event(
    server: Radicale, calendar: str, store: Any, plugins: Plugins, password: str
) -> None:
    """The check-in a touch satisfied is deleted, its next one created; nothing else is written."""
    _run(store, _route(calendar), plugins)
    old = {r.key for r in store.agenda(now=NOW, within=HORIZON) if r.contact.id == "ben"}
    store.log(Touchpoint("ben", NOW))
    later = NOW + timedelta(minutes=1)
    new = {r.key for r in store.agenda(now=later, within=HORIZON) if r.contact.id == "ben"}
    gone = old - new
    assert len(gone) == 1
    before = server.requests_seen("cadence/")
    report = _run(store, _route(calendar), plugins, later)
    assert report.errors == ()
    assert report.warnings == ()
    assert _writes(server, before) == {"PUT": len(new - old), "DELETE": 1}
    events = _events(server, calendar)
    assert gone.isdisjoint(events)
    assert new <= set(events)
    assert gone.isdisjoint(store.published("cal"))


def _edit(server: Radicale, calendar: str, key: str, summary: str) -> None:
    """Change an event's title as its owner would in a calendar app (no If-Match)."""
    with server.session() as session:
        url = f"{calendar}{key}.ics"
        text = session.get(url, timeout=10).text
        changed = "\r\n".join(
            f"SUMMARY:{summary}" if line.startswith("SUMMARY:") else line
            for line in text.replace("\r\n", "\n").split("\n")
        )
        answer = session.put(url, data=changed.encode(), timeout=10)
    assert answer.status_code in (201, 204), answer.status_code


def test_an_event_its_owner_changed_is_kept_and_reported_once(
    server: Radicale, calendar: str, store: Any, plugins: Plugins, password: str
) -> None:
    """The owner's change survives a change of the reminder; it is reported on one run only."""
    _run(store, _route(calendar), plugins)
    (key,) = [r.key for r in store.agenda(now=NOW, within=HORIZON) if r.contact.id == "dee"]
    _edit(server, calendar, key, "Lunch with Dee at noon")
    store.put_contact(Contact("dee", "Dee Ryan-Walsh"))  # the reminder's title changes

    before = server.requests_seen("cadence/")
    report = _run(store, _route(calendar), plugins)
    assert report.errors == ()
    assert len(report.warnings) == 1
    assert report.warnings[0].startswith("route 'cal': the event 'Check in with Dee Ryan-Walsh'")
    assert "changed in the calendar" in report.warnings[0]
    assert _writes(server, before) == {"PUT": 0, "DELETE": 0}
    assert str(_events(server, calendar)[key]["SUMMARY"]) == "Lunch with Dee at noon"

    again = _run(store, _route(calendar), plugins, NOW + timedelta(minutes=1))
    assert again.warnings == ()
    assert again.errors == ()
    assert str(_events(server, calendar)[key]["SUMMARY"]) == "Lunch with Dee at noon"


def test_a_change_between_listing_and_writing_is_a_412_that_keeps_the_owners_version(
    server: Radicale, calendar: str, store: Any, plugins: Plugins, password: str
) -> None:
    """A PUT whose If-Match no longer holds is refused by the server; the event stays theirs."""
    route = _route(calendar)
    _run(store, route, plugins)
    (key,) = [r.key for r in store.agenda(now=NOW, within=HORIZON) if r.contact.id == "eli"]
    adapter = caldav_adapter(**route.settings)
    assert isinstance(adapter, CalDavAdapter)
    listed = adapter._listing(calendar)
    _edit(server, calendar, key, "Eli: call about the offer")
    # What the run sees of the calendar is from before the owner's edit.
    adapter._server_state = lambda *_: listed  # type: ignore[method-assign]
    store.put_contact(Contact("eli", "Eli Bergström", timezone="Europe/Madrid"))
    before = server.requests_seen("cadence/")
    try:
        notes = adapter.publish(
            store.agenda(now=NOW, within=HORIZON), ledger=PublishLedger(store, "cal")
        )
    finally:
        adapter.close()
    assert _writes(server, before) == {"PUT": 1, "DELETE": 0}  # refused with 412
    assert len(notes) == 1
    assert "Eli Bergström" in notes[0]
    assert store.published("cal")[key].state == "theirs"
    assert str(_events(server, calendar)[key]["SUMMARY"]) == "Eli: call about the offer"


def test_an_unchanged_run_asks_the_server_only_what_changed_since_its_sync_token(
    server: Radicale, calendar: str, store: Any, plugins: Plugins, password: str
) -> None:
    """After the first runs, an unchanged run sends one sync REPORT and no listing, no write."""
    _run(store, _route(calendar), plugins)
    before = server.requests_seen("cadence/")
    second = _run(store, _route(calendar), plugins, NOW + timedelta(minutes=1))
    assert second.errors == ()
    assert second.warnings == ()
    # The token kept by the first run is the empty calendar's: the server names every event.
    assert _reads(server, before) == {"PROPFIND": 1, "REPORT": 1}
    assert _writes(server, before) == {"PUT": 0, "DELETE": 0}
    assert store.published_token("cal") == (calendar, _sync_token(server, calendar))

    before = server.requests_seen("cadence/")
    third = _run(store, _route(calendar), plugins, NOW + timedelta(minutes=2))
    assert third.errors == ()
    assert third.warnings == ()
    assert _reads(server, before) == {"PROPFIND": 1, "REPORT": 1}  # finding the calendar
    assert _writes(server, before) == {"PUT": 0, "DELETE": 0}
    assert store.published_token("cal") == (calendar, _sync_token(server, calendar))


def test_through_the_sync_token_the_owners_changes_are_kept_and_ours_still_made(
    server: Radicale, calendar: str, store: Any, plugins: Plugins, password: str
) -> None:
    """An edit and a deletion by the owner are reported once; a touch still deletes its event."""
    _run(store, _route(calendar), plugins)
    _run(store, _route(calendar), plugins)  # the token is now the full calendar's
    agenda = store.agenda(now=NOW, within=HORIZON)
    (dee,) = [r.key for r in agenda if r.contact.id == "dee"]
    (eli,) = [r.key for r in agenda if r.contact.id == "eli"]
    _edit(server, calendar, dee, "Lunch with Dee at noon")
    with server.session() as session:
        assert session.delete(f"{calendar}{eli}.ics", timeout=10).status_code in (200, 204)
        put = session.put(calendar + "dentist.ics", data=THEIRS.encode(), timeout=10)
    assert put.status_code == 201
    old = {r.key for r in agenda if r.contact.id == "ben"}
    store.log(Touchpoint("ben", NOW))
    later = NOW + timedelta(minutes=1)
    new = {r.key for r in store.agenda(now=later, within=HORIZON) if r.contact.id == "ben"}

    before = server.requests_seen("cadence/")
    report = _run(store, _route(calendar), plugins, later)
    assert report.errors == ()
    assert _reads(server, before) == {"PROPFIND": 1, "REPORT": 1}
    assert sorted(w.split(") was ")[1].split(" in ")[0] for w in report.warnings) == [
        "changed",
        "deleted",
    ]
    assert _writes(server, before) == {"PUT": len(new - old), "DELETE": len(old - new)}
    events = _events(server, calendar)
    assert str(events[dee]["SUMMARY"]) == "Lunch with Dee at noon"
    assert eli not in events
    assert str(events["dentist-appointment"]["SUMMARY"]) == "Dentist"
    assert (old - new).isdisjoint(events)
    assert new <= set(events)

    before = server.requests_seen("cadence/")
    again = _run(store, _route(calendar), plugins, later + timedelta(minutes=1))
    assert again.errors == ()
    assert again.warnings == ()
    assert _writes(server, before) == {"PUT": 0, "DELETE": 0}
    assert eli not in _events(server, calendar)


@pytest.mark.parametrize(
    "token",
    ["http://radicale.org/ns/sync/" + "0" * 64, "urn:no-such-token"],
    ids=["expired", "malformed"],
)
def test_a_sync_token_the_server_refuses_falls_back_to_listing_the_calendar(
    server: Radicale, calendar: str, store: Any, plugins: Plugins, password: str, token: str
) -> None:
    """A token answered with 403 valid-sync-token: the calendar is listed, the owner's edit seen."""
    _run(store, _route(calendar), plugins)
    _run(store, _route(calendar), plugins)
    (key,) = [r.key for r in store.agenda(now=NOW, within=HORIZON) if r.contact.id == "dee"]
    _edit(server, calendar, key, "Lunch with Dee at noon")
    store.keep_published_token("cal", calendar, token)

    before = server.requests_seen("cadence/")
    report = _run(store, _route(calendar), plugins)
    assert report.errors == ()
    assert len(report.warnings) == 1
    assert "changed in the calendar" in report.warnings[0]
    # The refused REPORT, then the calendar found and listed.
    assert _reads(server, before) == {"PROPFIND": 2, "REPORT": 1}
    assert _writes(server, before) == {"PUT": 0, "DELETE": 0}
    assert store.published_token("cal") == (calendar, _sync_token(server, calendar))
    assert str(_events(server, calendar)[key]["SUMMARY"]) == "Lunch with Dee at noon"


def test_a_wrong_password_is_one_line_and_changes_nothing(
    server: Radicale,
    calendar: str,
    store: Any,
    plugins: Plugins,
    password: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refused login is one error naming the route; the ledger and the calendar are unchanged."""
    _run(store, _route(calendar), plugins)
    kept = store.published("cal")
    listed = _etags(server, calendar)
    store.log(Touchpoint("ana", NOW))
    store.put_contact(Contact("ben", "Benedict Okafor", timezone="America/New_York"))
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    before = server.requests_seen("cadence/")
    report = _run(store, _route(calendar), plugins, NOW + timedelta(minutes=1))
    assert report.errors == (
        f"route 'cal': caldav: the server refused the credentials for {calendar}",
    )
    assert "not-the-password" not in report.errors[0]
    assert report.published == ()
    assert _writes(server, before) == {"PUT": 0, "DELETE": 0}
    assert store.published("cal") == kept
    assert _etags(server, calendar) == listed


def test_the_command_line_says_a_refused_login_in_one_line(
    tmp_path: Path, server: Radicale, calendar: str
) -> None:
    """cadence run with a wrong password prints one error line naming the route, and fails."""
    cli = Cli(tmp_path, now=NOW.isoformat())
    config = tmp_path / "cadence.toml"
    config.write_text(
        f'[[routes]]\nname = "phone"\nadapter = "caldav"\nurl = "{calendar}"\n'
        f'username = "ana"\npassword_env = "{PASSWORD_ENV}"\n',
        encoding="utf-8",
    )
    cli.env["CADENCE_CONFIG"] = str(config)
    cli.env[PASSWORD_ENV] = "wrong-password-7"
    cli("contact", "add", "ana", "--name", "Ana")
    cli("rule", "set", "every 7 days")
    done = cli("run", ok=False)
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: route 'phone': caldav: the server refused the credentials for {calendar}"
    ]
    assert "Traceback" not in done.stderr
    assert "wrong-password-7" not in done.stderr
    assert cli.tables()["published"] == 0
    assert _events(server, calendar) == {}


def test_a_lost_ledger_adopts_the_routes_own_events_without_copies(
    server: Radicale, calendar: str, store: Any, plugins: Plugins, password: str, tmp_path: Path
) -> None:
    """A store that forgot what it wrote, or a renamed route, takes its events back: no copies."""
    _run(store, _route(calendar), plugins)
    first = _events(server, calendar)
    fresh = open_store(f"sqlite:///{tmp_path / 'fresh.db'}", plugins=plugins)
    try:
        fresh.put_contacts(store.list_contacts())
        fresh.set_rule(Rule(Every(weeks=1)))
        fresh.add_occasion(Birthday("ana", month=12, day=2))
        fresh.add_occasion(Birthday("cy", month=12, day=10, lead=timedelta(days=3)))
        for ident, days in (("dee", 3), ("eli", 6)):
            fresh.log(Touchpoint(ident, NOW - timedelta(days=days)))
        report = _run(fresh, _route(calendar, name="renamed"), plugins)
        assert report.errors == ()
        assert report.warnings == ()
        assert set(fresh.published("renamed")) == set(first)
    finally:
        fresh.close()
    events = _events(server, calendar)
    assert set(events) == set(first)
    assert {str(e["X-CADENCE-ROUTE"]) for e in events.values()} == {"renamed"}


def test_a_calendar_is_found_by_its_name_from_the_servers_root(
    server: Radicale, calendar: str, store: Any, plugins: Plugins, password: str
) -> None:
    """url = the server's root and calendar = its display name writes into that calendar."""
    report = _run(store, _route(server.url, calendar="Reminders"), plugins)
    assert report.errors == ()
    assert len(_events(server, calendar)) == len(store.agenda(now=NOW, within=HORIZON))
    missing = _run(store, _route(server.url, calendar="Holidays"), plugins)
    assert missing.errors == (
        f"route 'cal': caldav: found no calendar called 'Holidays' at {server.url}",
    )


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"url": "ftp://example.com/cal/"}, "url must use https"),
        ({"url": "http://example.com/cal/"}, "http is only for this machine"),
        ({"url": "https://ana:pw@example.com/cal/"}, "must not hold a user or password"),
        ({"url": "https://example.com/cal/", "alarm": True}, "alarm must be a duration"),
        ({"url": "https://example.com/cal/", "alarm": "soon"}, "alarm: not a duration"),
        ({"url": "https://example.com/cal/", "username": "ana"}, "go together"),
        ({"url": "https://example.com/cal/", "colour": "red"}, "unknown caldav setting 'colour'"),
        (
            {"url": "https://example.com/", "username": "ana", "password_env": "NOT_SET_X1"},
            "'NOT_SET_X1', which is not set",
        ),
    ],
)
def test_bad_settings_are_config_errors(settings: dict[str, object], words: str) -> None:
    """Each bad setting is refused when the route is read, naming it."""
    os.environ.pop("NOT_SET_X1", None)
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        caldav_adapter(**settings)  # type: ignore[arg-type]


def test_the_adapter_is_registered(plugins: Plugins) -> None:
    """caldav is a built-in adapter, built from a route's settings."""
    adapter = plugins.build_adapter(Route("caldav", settings={"url": "https://example.com/c/"}))
    assert isinstance(adapter, CalDavAdapter)
    assert adapter.alarm == timedelta(0)


class _Proxy(http.server.ThreadingHTTPServer):
    """A loopback proxy in front of Radicale that can fail or stall the PUTs after the first few."""

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream = upstream.rstrip("/")
        self.puts_allowed: int | None = None
        self.stall = 0.0
        # The status to answer every REPORT with, as a server without sync-collection does.
        self.reports: int | None = None
        self.url = f"http://127.0.0.1:{self.server_address[1]}/"


class _Forward(http.server.BaseHTTPRequestHandler):
    server: _Proxy

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.command == "REPORT" and self.server.reports is not None:
            self.send_response(self.server.reports)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.command == "PUT" and self.server.puts_allowed is not None:
            if self.server.puts_allowed <= 0:
                time.sleep(self.server.stall)
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.server.puts_allowed -= 1
        wanted = ("Authorization", "Content-Type", "Depth", "If-Match", "If-None-Match")
        headers = {k: v for k in wanted if (v := self.headers.get(k)) is not None}
        headers["User-Agent"] = self.headers.get("User-Agent", "")
        answer = requests.request(
            self.command, self.server.upstream + self.path, data=body, headers=headers, timeout=30
        )
        self.send_response(answer.status_code)
        for name in ("Content-Type", "ETag", "WWW-Authenticate"):
            if name in answer.headers:
                self.send_header(name, answer.headers[name])
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = _forward

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def proxy(server: Radicale) -> Iterator[_Proxy]:
    """A proxy to the test server on a port of its own, stopped after the test."""
    started = _Proxy(server.url)
    thread = threading.Thread(target=started.serve_forever, daemon=True)
    thread.start()
    try:
        yield started
    finally:
        started.shutdown()
        started.server_close()


def test_a_server_error_halfway_keeps_what_was_written_and_the_next_run_writes_the_rest(
    server: Radicale, calendar: str, store: Any, plugins: Plugins, password: str, proxy: _Proxy
) -> None:
    """A 503 stops the route's run with one error; the next run writes only what is missing."""
    via = proxy.url + calendar.removeprefix(server.url)
    agenda = store.agenda(now=NOW, within=HORIZON)
    proxy.puts_allowed = 3
    failed = _run(store, _route(via), plugins)
    assert len(failed.errors) == 1
    assert failed.errors[0].startswith("route 'cal': caldav: the server failed with HTTP 503")
    assert len(store.published("cal")) == 3
    assert len(_events(server, calendar)) == 3
    # The run did not go through every event: the next starts from the older token.
    assert store.published_token("cal") is None

    proxy.puts_allowed = None
    before = server.requests_seen("cadence/")
    report = _run(store, _route(via), plugins)
    assert report.errors == ()
    assert _writes(server, before) == {"PUT": len(agenda) - 3, "DELETE": 0}
    assert set(_events(server, calendar)) == {r.key for r in agenda}


@pytest.mark.parametrize("status", [403, 405, 501])
def test_a_server_without_sync_collection_is_listed_every_run(
    server: Radicale,
    calendar: str,
    store: Any,
    plugins: Plugins,
    password: str,
    proxy: _Proxy,
    status: int,
) -> None:
    """A REPORT refused outright: each run lists the calendar, and still sees the owner's edits."""
    via = proxy.url + calendar.removeprefix(server.url)
    proxy.reports = status
    assert _run(store, _route(via), plugins).errors == ()
    before = server.requests_seen("cadence/")
    unchanged = _run(store, _route(via), plugins)
    assert unchanged.errors == ()
    assert unchanged.warnings == ()
    assert _writes(server, before) == {"PUT": 0, "DELETE": 0}
    assert _reads(server, before) == {"PROPFIND": 2, "REPORT": 0}  # refused by the proxy
    (key,) = [r.key for r in store.agenda(now=NOW, within=HORIZON) if r.contact.id == "dee"]
    _edit(server, calendar, key, "Lunch with Dee at noon")
    report = _run(store, _route(via), plugins)
    assert report.errors == ()
    assert len(report.warnings) == 1
    assert "changed in the calendar" in report.warnings[0]
    assert str(_events(server, calendar)[key]["SUMMARY"]) == "Lunch with Dee at noon"


def test_a_server_that_does_not_answer_in_time_is_retried_on_the_next_run(
    server: Radicale, calendar: str, store: Any, plugins: Plugins, password: str, proxy: _Proxy
) -> None:
    """A timeout is one error naming the route and the wait; nothing is recorded as written."""
    via = proxy.url + calendar.removeprefix(server.url)
    proxy.puts_allowed, proxy.stall = 0, 2.0
    stalled = _run(store, _route(via, timeout=0.5), plugins)
    assert len(stalled.errors) == 1
    assert stalled.errors[0].startswith(f"route 'cal': caldav: {via}")
    assert stalled.errors[0].endswith("did not answer within 0.5 seconds")
    assert store.published("cal") == {}
    proxy.puts_allowed, proxy.stall = None, 0.0
    assert _run(store, _route(via), plugins).errors == ()
    assert len(store.published("cal")) == len(store.agenda(now=NOW, within=HORIZON))


class _Noting:
    """A publisher of its own that names ``ledger``: it records each key and says one line."""

    def publish(self, agenda: Any, *, ledger: PublishLedger) -> list[str]:
        from cadence import Published

        ledger.keep(*(Published(r.key, f"/{r.key}", None, "d") for r in agenda))
        return [f"kept {len(agenda)}"]


class _Plain:
    """A publisher without the keyword, called as before."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def publish(self, agenda: Any) -> str:
        self.seen.append(len(agenda))
        return "ignored: a plain publisher's return value is not told"


def test_dispatch_gives_a_ledger_to_a_publisher_that_names_one(
    store: Any, plugins: Plugins
) -> None:
    """publish(agenda, ledger=...) gets the route's record; its lines come back as warnings."""
    plain = _Plain()
    made = {"noting": _Noting(), "plain": plain}

    class Adapters:
        @cadence_hookimpl
        def cadence_register_adapters(self, register: Any) -> None:
            for name, adapter in made.items():
                register(name, lambda adapter=adapter: adapter)

    plugins.register(Adapters(), "test-publishers")
    report = dispatch(
        store,
        [Route("noting", name="n"), Route("plain", name="p")],
        now=NOW,
        plugins=plugins,
        horizon=HORIZON,
    )
    count = len(store.agenda(now=NOW, within=HORIZON))
    assert report.published == ("n", "p")
    assert report.warnings == (f"route 'n': kept {count}",)
    assert len(store.published("n")) == count
    assert store.published("p") == {}
    assert plain.seen == [count]
