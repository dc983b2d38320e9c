"""The feed's WSGI application, tested over real HTTP on loopback, and its server helper."""

from __future__ import annotations

import http.client
import io
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest

from cadence import (
    Agenda,
    CadenceError,
    ConfigError,
    Contact,
    Every,
    Recurring,
    Roster,
    Rule,
    Touchpoint,
    plan,
)
from cadence.adapters.ical.render import to_ical
from cadence.web.feed import FeedApp, make_feed_app, make_feed_server, new_token, serve

TOKEN = "s3cr3t-Token_0123456789.abc~"


def _agenda(now: datetime) -> Agenda:
    roster = Roster(
        [
            Contact("ada", "Ada", timezone="Europe/Berlin", tags=["retainer"]),
            Contact("bob", "Bob", timezone="America/New_York", tags=["card-list"]),
            Contact("cy", "Cy", timezone="UTC"),
        ],
        rules=[
            Rule(Recurring("FREQ=WEEKLY;BYDAY=MO", at=time(10, 0)), tag="retainer"),
            Rule(Every(weeks=2)),
        ],
        touchpoints=[
            Touchpoint("bob", now - timedelta(days=3)),
            Touchpoint("cy", now - timedelta(days=20)),
        ],
    )
    return plan(roster, now=now, horizon=timedelta(days=30))


@dataclass
class Served:
    """A feed server running on loopback, with what it logged and the agenda it serves."""

    host: str
    port: int
    log: io.StringIO
    agenda: Agenda
    swaps: list[Agenda] = field(default_factory=list)

    def get(
        self, target: str, *, method: str = "GET", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request over a fresh connection; return status, headers and body."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request(method, target, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()


@contextmanager
def _run(app: object, *, token: str | None, log: io.StringIO) -> Iterator[tuple[str, int]]:
    """Serve ``app`` on 127.0.0.1 in a thread; give its host and port; stop it afterwards."""
    server = make_feed_server(app, "127.0.0.1", 0, token=token, log=log)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def served(now: datetime) -> Iterator[Served]:
    """A token-guarded feed of a small agenda, served by wsgiref on 127.0.0.1."""
    state = Served("", 0, io.StringIO(), _agenda(now))

    def current() -> Agenda:
        return state.swaps[-1] if state.swaps else state.agenda

    app = make_feed_app(current, token=TOKEN, name="Clients")
    with _run(app, token=TOKEN, log=state.log) as (host, port):
        state.host, state.port = host, port
        yield state


pytestmark = pytest.mark.integration


def test_the_feed_is_served_with_the_token(served: Served) -> None:
    """GET /feed.ics?token=... answers 200 with the calendar, its type, ETag and Last-Modified."""
    status, headers, body = served.get(f"/feed.ics?token={TOKEN}")
    assert status == 200
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert body == to_ical(served.agenda, name="Clients")
    assert int(headers["Content-Length"]) == len(body)
    assert headers["ETag"].startswith('"')
    assert headers["ETag"].endswith('"')
    assert parsedate_to_datetime(headers["Last-Modified"]).tzinfo is not None
    assert "private" in headers["Cache-Control"]


@pytest.mark.parametrize(
    "target",
    [
        "/feed.ics",
        "/feed.ics?token=",
        "/feed.ics?token=wrong-token-0123456789",
        f"/feed.ics?token={TOKEN}x",
        f"/feed.ics?token={TOKEN}&token={TOKEN}",
        f"/feed.ics?TOKEN={TOKEN}",
    ],
)
def test_a_missing_or_wrong_token_is_refused_with_nothing_said(served: Served, target: str) -> None:
    """Without the exact token the answer is 403 with a bare body and no calendar."""
    status, headers, body = served.get(target)
    assert status == 403
    assert body == b"Forbidden\n"
    assert "ETag" not in headers


def test_a_matching_etag_gets_304(served: Served) -> None:
    """If-None-Match with the current ETag (strong, weak, or *) answers 304 without a body."""
    _, headers, _ = served.get(f"/feed.ics?token={TOKEN}")
    etag = headers["ETag"]
    for match in (etag, f'"other", W/{etag}', "*"):
        status, again, body = served.get(
            f"/feed.ics?token={TOKEN}", headers={"If-None-Match": match}
        )
        assert status == 304, match
        assert body == b""
        assert again["ETag"] == etag
    status, _, body = served.get(f"/feed.ics?token={TOKEN}", headers={"If-None-Match": '"old"'})
    assert status == 200
    assert body.startswith(b"BEGIN:VCALENDAR")


def test_if_modified_since_gets_304_until_the_feed_changes(served: Served, now: datetime) -> None:
    """If-Modified-Since at Last-Modified gets 304; a changed agenda gets 200 and a new ETag."""
    _, first, _ = served.get(f"/feed.ics?token={TOKEN}")
    since = {"If-Modified-Since": first["Last-Modified"]}
    status, again, _ = served.get(f"/feed.ics?token={TOKEN}", headers=since)
    assert status == 304
    assert again["Last-Modified"] == first["Last-Modified"]
    earlier = parsedate_to_datetime(first["Last-Modified"]) - timedelta(seconds=1)
    status, _, _ = served.get(
        f"/feed.ics?token={TOKEN}",
        headers={"If-Modified-Since": format_datetime(earlier, usegmt=True)},
    )
    assert status == 200
    served.swaps.append(_agenda(now + timedelta(days=1)))
    status, changed, body = served.get(
        f"/feed.ics?token={TOKEN}", headers={"If-None-Match": first["ETag"]}
    )
    assert status == 200
    assert changed["ETag"] != first["ETag"]
    assert body == to_ical(served.swaps[-1], name="Clients")


def test_a_tag_narrows_the_feed(served: Served) -> None:
    """?tag=retainer serves only the reminders of contacts with that tag, under its own name."""
    status, headers, body = served.get(f"/feed.ics?token={TOKEN}&tag=retainer")
    assert status == 200
    retainer = [r for r in served.agenda if "retainer" in r.contact.tags]
    assert retainer
    assert len(retainer) < len(served.agenda)
    assert body == to_ical(retainer, name="Clients (retainer)", now=served.agenda.now)
    _, whole, _ = served.get(f"/feed.ics?token={TOKEN}")
    assert headers["ETag"] != whole["ETag"]
    _, _, either = served.get(f"/feed.ics?token={TOKEN}&tag=retainer&tag=card-list")
    assert either.count(b"BEGIN:VEVENT") == len(
        [r for r in served.agenda if r.contact.tags & {"retainer", "card-list"}]
    )


@pytest.mark.parametrize("target", ["/", "/feed", "/feed.ics/", "/calendar.ics", "/FEED.ICS"])
def test_other_paths_are_not_found(served: Served, target: str) -> None:
    """Any path but /feed.ics answers 404, token or not."""
    status, _, body = served.get(f"{target}?token={TOKEN}")
    assert status == 404
    assert b"BEGIN:VCALENDAR" not in body


def test_only_get_and_head_are_allowed(served: Served) -> None:
    """POST answers 405 naming GET and HEAD; HEAD gives GET's headers without a body."""
    status, headers, _ = served.get(f"/feed.ics?token={TOKEN}", method="POST")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"
    _, got, body = served.get(f"/feed.ics?token={TOKEN}")
    status, head, nothing = served.get(f"/feed.ics?token={TOKEN}", method="HEAD")
    assert status == 200
    assert nothing == b""
    assert head["ETag"] == got["ETag"]
    assert int(head["Content-Length"]) == len(body)


def test_the_token_is_never_logged(now: datetime) -> None:
    """Request lines are logged with the token blanked out, refused or served."""
    log = io.StringIO()
    agenda = _agenda(now)
    with _run(make_feed_app(lambda: agenda, token=TOKEN), token=TOKEN, log=log) as (host, port):
        client = Served(host, port, log, agenda)
        assert client.get(f"/feed.ics?token={TOKEN}")[0] == 200
        assert client.get(f"/feed.ics?tag=retainer&token={TOKEN}x")[0] == 403
        assert client.get(f"/nowhere?token={TOKEN}")[0] == 404
    # The server logs after answering; once stopped, every line is written.
    logged = log.getvalue()
    assert logged.count("token=[redacted]") == 3
    assert TOKEN not in logged
    assert "tag=retainer" in logged


def test_a_failing_agenda_is_a_bare_500(now: datetime) -> None:
    """When the agenda cannot be read the answer is 500 with no detail; the log has the error."""

    def broken() -> Agenda:
        raise CadenceError("the store at /var/lib/cadence.db is locked")

    log = io.StringIO()
    app = make_feed_app(broken, token=TOKEN)
    with _run(app, token=TOKEN, log=log) as (host, port):
        status, _, body = Served(host, port, log, _agenda(now)).get(f"/feed.ics?token={TOKEN}")
        assert status == 500
        assert body == b"Internal Server Error\n"
    assert "is locked" in log.getvalue()
    assert TOKEN not in log.getvalue()


def test_an_open_feed_needs_no_token_on_loopback(now: datetime) -> None:
    """Without a token the feed is served to anyone on loopback."""
    agenda = _agenda(now)
    log = io.StringIO()
    with _run(make_feed_app(lambda: agenda, token=None), token=None, log=log) as (host, port):
        status, _, body = Served(host, port, log, agenda).get("/feed.ics")
        assert status == 200
        assert body == to_ical(agenda)


# Refused before anything is bound: that is what these addresses test.
@pytest.mark.parametrize("host", ["0.0.0.0", "", "::", "192.0.2.10", "example.org"])  # noqa: S104
def test_an_open_feed_is_refused_off_loopback(host: str, now: datetime) -> None:
    """Serving without a token on anything but loopback raises CadenceError before binding."""
    app = make_feed_app(lambda: _agenda(now), token=None)
    with pytest.raises(CadenceError, match="without a token"):
        make_feed_server(app, host, 0, token=None)
    with pytest.raises(CadenceError, match="without a token"):
        serve(app, host, 0, token=None)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.2"])
def test_loopback_addresses_are_accepted_without_a_token(host: str, now: datetime) -> None:
    """127.0.0.0/8 and localhost count as loopback for an open feed."""
    app = make_feed_app(lambda: _agenda(now), token=None)
    try:
        server = make_feed_server(app, host, 0, token=None)
    except OSError as error:  # a sandbox may lack 127.0.0.2
        pytest.skip(f"cannot bind {host}: {error}")
    with server:
        assert server.socket.family == socket.AF_INET


@pytest.mark.parametrize(
    "token", ["short", "a" * 15, "has space in it 0123", "amp&ersand-0123456789", "é" * 20]
)
def test_weak_or_awkward_tokens_are_refused(token: str, now: datetime) -> None:
    """Tokens shorter than 16 characters or not URL-safe raise ConfigError without echoing them."""
    with pytest.raises(ConfigError) as refused:
        make_feed_app(lambda: _agenda(now), token=token)
    assert token not in str(refused.value)


def test_new_tokens_are_accepted_and_never_shown(now: datetime) -> None:
    """new_token() makes distinct tokens the app accepts, and the app's repr hides them."""
    first, second = new_token(), new_token()
    assert first != second
    assert len(first) >= 40
    app = make_feed_app(lambda: _agenda(now), token=first)
    assert isinstance(app, FeedApp)
    assert first not in repr(app)
    assert "with a token" in repr(app)


def test_the_wsgi_app_runs_without_a_server(now: datetime) -> None:
    """Called as a plain WSGI callable, the app answers 200 and 304 as over HTTP."""
    agenda = _agenda(now)
    app = make_feed_app(lambda: agenda, token=TOKEN)
    answers: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> None:
        answers.append((status, headers))

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/feed.ics",
        "QUERY_STRING": f"token={TOKEN}",
        "wsgi.errors": io.StringIO(),
    }
    body = b"".join(app(environ, start_response))  # type: ignore[arg-type]
    assert answers[-1][0] == "200 OK"
    assert body == to_ical(agenda)
    etag = dict(answers[-1][1])["ETag"]
    again = b"".join(app({**environ, "HTTP_IF_NONE_MATCH": etag}, start_response))  # type: ignore[arg-type]
    assert answers[-1][0] == "304 Not Modified"
    assert again == b""
    assert datetime.now(UTC) >= parsedate_to_datetime(dict(answers[-1][1])["Last-Modified"])
