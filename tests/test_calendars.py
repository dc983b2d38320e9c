"""The calendar and caldav touch sources: an .ics file, one served over http, a real Radicale."""

from __future__ import annotations

import http.server
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from _radicale import Radicale, radicale
from cadence import ConfigError
from cadence._plugins import load_plugins
from cadence.core.errors import CadenceError
from cadence.core.touches import Meeting, TouchRules, meeting_touches
from cadence.sources._dav import multistatus, parse_xml
from cadence.sources.batch import TouchChanges
from cadence.sources.calendars import (
    CalDavSource,
    CalendarSource,
    _addresses,
    caldav,
    calendar,
    meetings,
)

__all__ = ["radicale"]  # a fixture, used by name

integration = pytest.mark.integration

FIXTURE = Path(__file__).parent / "fixtures" / "calendar" / "google-export.ics"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
ME = "me@example.com"
RULES = TouchRules(
    "calendar",
    {
        "ana@example.org": "ana",
        "bo@example.net": "bo",
        "cy@corp.example": "cy",
        "dee@example.org": "dee",
    },
    me=[ME],
)
PASSWORD_ENV = "CADENCE_TEST_CALDAV_PASSWORD"

# Seen from NOW, the weekly series has begun on these days (19 October excluded,
# 26 October moved to the 27th at 15:00).
WEEKLY = [
    datetime(2026, 10, 5, 10, 0, tzinfo=PARIS),
    datetime(2026, 10, 12, 10, 0, tzinfo=PARIS),
    datetime(2026, 10, 27, 15, 0, tzinfo=PARIS),
    datetime(2026, 11, 2, 10, 0, tzinfo=PARIS),
    datetime(2026, 11, 9, 10, 0, tzinfo=PARIS),
    datetime(2026, 11, 16, 10, 0, tzinfo=PARIS),
]


def _by_summary(changes: TouchChanges) -> dict[str, list[Meeting]]:
    found: dict[str, list[Meeting]] = {}
    for item in changes.items:
        assert isinstance(item, Meeting)
        found.setdefault((item.summary or "").removesuffix(" (moved to Tuesday)"), []).append(item)
    return found


def _check_fixture_meetings(changes: TouchChanges, *, all_day_zone: object) -> None:
    """What the fixture holds, seen from NOW: see tests/fixtures/calendar/README.md."""
    assert changes.complete
    meetings = _by_summary(changes)
    assert set(meetings) == {"Coffee with Ana", "Weekly sync", "Board review", "Ana's launch"}

    (coffee,) = meetings["Coffee with Ana"]
    assert coffee.start == datetime(2026, 11, 3, 10, 0, tzinfo=PARIS)
    assert coffee.organizer == ME
    assert coffee.attendees == (
        ("ana@example.org", "ACCEPTED"),
        ("bo@example.net", "DECLINED"),
        (ME, "ACCEPTED"),
    )
    assert not coffee.cancelled
    touches = meeting_touches(coffee, RULES, now=NOW)
    assert [(t.contact, t.direction, t.channel) for t in touches] == [("ana", "out", "meeting")]

    weekly = meetings["Weekly sync"]
    assert sorted(m.start for m in weekly) == WEEKLY
    assert len({m.ref for m in weekly}) == len(WEEKLY)
    assert all(m.organizer == "cy@corp.example" for m in weekly)
    # Cy organised it: a touch in, at each occurrence.
    assert {
        (t.contact, t.direction, t.at) for m in weekly for t in meeting_touches(m, RULES, now=NOW)
    } == {("cy", "in", start) for start in WEEKLY}

    (board,) = meetings["Board review"]
    assert board.cancelled
    assert board.attendees == (("dee@example.org", "NEEDS-ACTION"),)
    assert meeting_touches(board, RULES, now=NOW) == []

    (launch,) = meetings["Ana's launch"]
    assert launch.start == datetime(2026, 11, 18, tzinfo=all_day_zone)  # type: ignore[arg-type]
    assert launch.organizer is None


def test_an_ics_file_gives_the_meetings_that_began_in_the_window() -> None:
    """Past meetings, each weekly occurrence, cancelled ones marked; future and 2025 left out."""
    source = calendar(path=str(FIXTURE))
    changes = source.touch_changes({}, now=NOW)
    # The export names its zone: an all-day event starts at midnight there.
    _check_fixture_meetings(changes, all_day_zone=PARIS)
    assert changes.state == {"from": "2025-11-20T12:00:00+00:00"}
    assert source.me == frozenset()


def test_the_window_keeps_its_start_so_old_meetings_never_leave_it() -> None:
    """A year on, the window starts where the first sync put it; a longer since widens it."""
    source = calendar(path=str(FIXTURE), since="30d")
    first = source.touch_changes({}, now=NOW)
    assert set(_by_summary(first)) == {
        "Coffee with Ana",
        "Weekly sync",
        "Board review",
        "Ana's launch",
    }
    # The weekly series since 21 October: the occurrence moved to the 27th, then three Mondays.
    assert len(_by_summary(first)["Weekly sync"]) == 4
    later = source.touch_changes(first.state or {}, now=NOW + timedelta(days=365))
    assert later.state == first.state
    # The rest of the series and the planning meeting of 1 December have begun since.
    assert {m.ref for m in first.items} < {m.ref for m in later.items}
    assert "Planning" in {m.summary for m in later.items if isinstance(m, Meeting)}
    wider = calendar(path=str(FIXTURE), since="600d").touch_changes(first.state or {}, now=NOW)
    assert "Long ago" in {m.summary for m in wider.items if isinstance(m, Meeting)}


def test_refs_stay_when_an_occurrence_moves() -> None:
    """An occurrence's ref is its UID and original start: moving it keeps it, and UID matters."""
    text = FIXTURE.read_bytes()
    before = meetings(text, start=NOW - timedelta(days=365), end=NOW, where="test")
    moved = text.replace(
        b"DTSTART;TZID=Europe/Paris:20261027T150000", b"DTSTART;TZID=Europe/Paris:20261028T090000"
    )
    after = meetings(moved, start=NOW - timedelta(days=365), end=NOW, where="test")
    assert {m.ref for m in before} == {m.ref for m in after}
    assert {m.start for m in before} != {m.start for m in after}


def test_floating_and_all_day_times_without_a_zone_are_utc() -> None:
    """A calendar that names no zone: all-day events and floating times are read in UTC."""
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;VALUE=DATE:20261110\r\n"
        "SUMMARY:day\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261111T093000\r\n"
        "ATTENDEE;EMAIL=ana@example.org:urn:uuid:1234\r\n"
        "ATTENDEE:urn:uuid:5678\r\nORGANIZER:MAILTO:Cy@Corp.Example\r\n"
        "SUMMARY:floating\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    found = {
        m.summary: m for m in meetings(text, start=NOW - timedelta(days=30), end=NOW, where="t")
    }
    assert found["day"].start == datetime(2026, 11, 10, tzinfo=UTC)
    assert found["floating"].start == datetime(2026, 11, 11, 9, 30, tzinfo=UTC)
    # An address in EMAIL stands for a non-mailto user; one with no address is left out.
    assert found["floating"].attendees == (("ana@example.org", "NEEDS-ACTION"),)
    assert found["floating"].organizer == "Cy@Corp.Example"


def test_a_file_that_is_no_calendar_or_is_missing_is_one_line(tmp_path: Path) -> None:
    """A missing file, or one that is not iCalendar, is a one-line CadenceError naming it."""
    missing = tmp_path / "none.ics"
    broken = tmp_path / "broken.ics"
    broken.write_text("BEGIN:VCARD\nFN:Ana\nEND:VCARD\n")
    for path in (missing, broken):
        with pytest.raises(CadenceError) as raised:
            calendar(path=str(path)).touch_changes({}, now=NOW)
        assert str(path) in str(raised.value)
        assert "\n" not in str(raised.value)


def test_bad_calendar_settings_are_config_errors() -> None:
    """Both or neither of path and url, http to another machine, a bad since: refused at once."""
    with pytest.raises(ConfigError, match="either path"):
        calendar()
    with pytest.raises(ConfigError, match="either path"):
        calendar(path="a.ics", url="https://example.com/a.ics")
    with pytest.raises(ConfigError, match="https"):
        calendar(url="http://calendar.example.com/private-abc/basic.ics")
    with pytest.raises(ConfigError, match="since"):
        calendar(path="a.ics", since="a year")
    with pytest.raises(ConfigError, match="https"):
        caldav(url="ftp://example.com/")
    with pytest.raises(ConfigError, match="go together"):
        caldav(url="https://example.com/", username="ana")
    assert calendar(url="webcal://example.com/cal.ics").url == "https://example.com/cal.ics"


# -- a calendar published over http ----------------------------------------------------


@pytest.fixture
def served() -> Iterator[str]:
    """The URL of the fixture served by a plain HTTP server on 127.0.0.1, behind a secret path."""
    body = FIXTURE.read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/downgrade.ics":
                self.send_response(301)
                self.send_header("Location", "http://calendar.example.com/private-s3cret/x.ics")
                self.end_headers()
                return
            if self.path == "/moved.ics":
                self.send_response(302)
                self.send_header("Location", "/private-s3cret/basic.ics")
                self.end_headers()
                return
            if self.path != "/private-s3cret/basic.ics":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@integration
def test_a_published_calendar_is_read_over_http(served: str) -> None:
    """The file's meetings, through a redirect; a wrong URL names the host, not the secret."""
    source = calendar(url=served + "moved.ics")
    try:
        _check_fixture_meetings(source.touch_changes({}, now=NOW), all_day_zone=PARIS)
    finally:
        source.close()
    wrong = calendar(url=served + "private-s3cret/other.ics")
    with pytest.raises(CadenceError) as raised:
        wrong.touch_changes({}, now=NOW)
    assert "HTTP 404" in str(raised.value)
    assert "s3cret" not in str(raised.value)
    with pytest.raises(CadenceError, match="not https: not following it"):
        calendar(url=served + "downgrade.ics").touch_changes({}, now=NOW)


# -- CalDAV against Radicale -----------------------------------------------------------


def _make_calendar(server: Radicale, user: str = "ana") -> str:
    """Create a calendar of ``user``'s (RFC 5689's extended MKCOL) and return its URL."""
    return server.make_calendar("Work", user)


def _put(server: Radicale, url: str, text: str | bytes, user: str = "ana") -> None:
    data = text.encode() if isinstance(text, str) else text
    with server.session(user) as session:
        answer = session.put(
            url, data=data, headers={"Content-Type": "text/calendar; charset=utf-8"}, timeout=30
        )
    assert answer.status_code in (201, 204), (answer.status_code, answer.text[:500])


@pytest.fixture
def work_calendar(radicale: Radicale) -> Iterator[str]:
    """A new calendar of ``ana``'s holding the fixture's events, deleted after the test."""
    url = _make_calendar(radicale)
    # Radicale takes a whole calendar in one PUT and keeps each UID as a resource of its own.
    _put(radicale, url, FIXTURE.read_bytes())
    try:
        yield url
    finally:
        radicale.drop_book(url)


def _source(
    server: Radicale, url: str, monkeypatch: pytest.MonkeyPatch, user: str = "ana"
) -> CalDavSource:
    monkeypatch.setenv(PASSWORD_ENV, server.password(user))
    return caldav(url=url, username=user, password_env=PASSWORD_ENV)


EXTRA = """\
BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:extra-{uid}\r
DTSTAMP:20261101T000000Z\r
DTSTART:20261119T090000Z\r
DTEND:20261119T093000Z\r
ORGANIZER:mailto:dee@example.org\r
ATTENDEE;PARTSTAT=ACCEPTED:mailto:me@example.com\r
SUMMARY:Call with Dee\r
END:VEVENT\r
END:VCALENDAR\r
"""


@integration
def test_caldav_gives_the_meetings_of_a_calendar_on_the_server(
    radicale: Radicale, work_calendar: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's calendar gives the same meetings as the file, expanded the same way."""
    source = _source(radicale, work_calendar, monkeypatch)
    try:
        changes = source.touch_changes({}, now=NOW)
    finally:
        source.close()
    # Each event is stored alone, without the export's X-WR-TIMEZONE: all-day is UTC midnight.
    _check_fixture_meetings(changes, all_day_zone=UTC)
    from_file = calendar(path=str(FIXTURE)).touch_changes({}, now=NOW)
    assert {m.ref for m in changes.items} == {m.ref for m in from_file.items}


@integration
def test_an_event_deleted_on_the_server_is_absent_from_the_next_sync(
    radicale: Radicale, work_calendar: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new event shows at the next sync; once deleted, the complete result no longer has it."""
    source = _source(radicale, work_calendar, monkeypatch)
    try:
        first = source.touch_changes({}, now=NOW)
        _put(radicale, work_calendar + "extra.ics", EXTRA.format(uid=uuid.uuid4().hex))
        second = source.touch_changes(first.state or {}, now=NOW)
        (added,) = {m.ref for m in second.items} - {m.ref for m in first.items}
        call = next(m for m in second.items if m.ref == added)
        assert isinstance(call, Meeting)
        assert [(t.contact, t.direction) for t in meeting_touches(call, RULES, now=NOW)] == [
            ("dee", "in")
        ]
        with radicale.session() as session:
            assert session.delete(work_calendar + "extra.ics", timeout=10).status_code in (200, 204)
        third = source.touch_changes(second.state or {}, now=NOW)
    finally:
        source.close()
    assert third.complete
    assert added not in {m.ref for m in third.items}
    assert {m.ref for m in third.items} == {m.ref for m in first.items}


@integration
def test_the_calendars_are_found_from_the_server_root(
    radicale: Radicale, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the root, every calendar of the login's home is read (bo's two, none of ana's)."""
    first = _make_calendar(radicale, "bo")
    second = _make_calendar(radicale, "bo")
    try:
        _put(radicale, first + "a.ics", EXTRA.format(uid="a"), "bo")
        _put(radicale, second + "b.ics", EXTRA.format(uid="b"), "bo")
        source = _source(radicale, radicale.url, monkeypatch, "bo")
        try:
            changes = source.touch_changes({}, now=NOW)
        finally:
            source.close()
    finally:
        radicale.drop_book(first, "bo")
        radicale.drop_book(second, "bo")
    assert sorted(m.summary or "" for m in changes.items if isinstance(m, Meeting)) == [
        "Call with Dee",
        "Call with Dee",
    ]


@integration
def test_a_wrong_password_is_one_line_without_the_password(
    radicale: Radicale, work_calendar: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused login says so in one line, naming the URL and never the password."""
    monkeypatch.setenv(PASSWORD_ENV, "not-the-Password-42")
    source = caldav(url=work_calendar, username="ana", password_env=PASSWORD_ENV)
    with pytest.raises(CadenceError) as raised:
        source.touch_changes({}, now=NOW)
    message = str(raised.value)
    assert message == f"caldav: the server refused the credentials for {work_calendar}"
    assert "not-the-Password-42" not in message


@integration
def test_a_home_without_calendars_says_so(
    radicale: Radicale, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A calendar home (here bo's, reached through the principal) with no calendar is an error."""
    source = _source(radicale, f"{radicale.url}bo/", monkeypatch, "bo")
    with pytest.raises(CadenceError) as raised:
        source.touch_changes({}, now=NOW)
    assert str(raised.value) == f"caldav: found no calendar in {radicale.url}bo/"


def test_an_unset_password_variable_is_named_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    """password_env naming an unset variable is a ConfigError naming the variable."""
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    with pytest.raises(ConfigError, match=PASSWORD_ENV):
        caldav(url="https://example.com/", username="ana", password_env=PASSWORD_ENV)


@integration
def test_no_login_where_one_is_needed_says_to_set_one(
    radicale: Radicale, work_calendar: str
) -> None:
    """Without username and password_env, the error says to set them."""
    with pytest.raises(CadenceError, match="set username and password_env"):
        caldav(url=work_calendar).touch_changes({}, now=NOW)


def test_the_sources_are_registered(plugins: object) -> None:
    """``calendar`` and ``caldav`` are built-in sources that build these classes."""
    registered = load_plugins().registered("source")
    made = registered["calendar"].thing.resolve()(path="a.ics")
    assert isinstance(made, CalendarSource)
    assert isinstance(
        registered["caldav"].thing.resolve()(url="https://example.com/"), CalDavSource
    )


def test_your_addresses_are_read_from_the_principals_address_set() -> None:
    """mailto: addresses of ``calendar-user-address-set`` are yours; paths and urns are not."""
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:response><d:href>/principals/ana/</d:href><d:propstat><d:prop>
    <c:calendar-user-address-set>
      <d:href>mailto:Ana@Example.org</d:href>
      <d:href>/principals/ana/</d:href>
      <d:href>urn:uuid:6b29a774</d:href>
      <d:href>MAILTO:ana.lima@work.example</d:href>
    </c:calendar-user-address-set>
  </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
</d:multistatus>"""
    responses, _ = multistatus(parse_xml(body))
    assert sorted(_addresses(responses[0])) == ["ana.lima@work.example", "ana@example.org"]


def test_a_series_whose_rule_cannot_be_read_is_skipped_and_the_rest_kept() -> None:
    """One event with a broken RRULE does not cost the calendar's other meetings."""
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:bad\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261101T090000Z\r\n"
        "RRULE:FREQ=SOMETIMES\r\nSUMMARY:bad\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:ok\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261102T090000Z\r\n"
        "SUMMARY:ok\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    found = meetings(text, start=NOW - timedelta(days=30), end=NOW, where="t")
    assert [m.summary for m in found] == ["ok"]
