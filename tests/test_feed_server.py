"""The feed's WSGI application, tested over real HTTP on loopback, and its server helper."""

from __future__ import annotations

import contextlib
import http.client
import io
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote_plus

import icalendar
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
    open_store,
    plan,
)
from cadence.adapters.ical.render import to_ical
from cadence.web.feed import (
    MIN_TOKEN_BITS,
    FeedApp,
    make_feed_app,
    make_feed_server,
    new_token,
    printable,
    serve,
    token_bits,
)

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
    assert headers["X-Content-Type-Options"] == "nosniff"


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
    app = FeedApp(lambda: agenda, token=TOKEN, clock=lambda: now + timedelta(seconds=7.9))
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
    assert dict(answers[0][1])["Last-Modified"] == "Mon, 23 Nov 2026 12:00:07 GMT"
    assert dict(answers[-1][1])["Last-Modified"] == "Mon, 23 Nov 2026 12:00:07 GMT"


# -- many subscribers, slow clients ----------------------------------------------


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or resets it)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def test_a_stalled_client_does_not_hold_up_another(served: Served) -> None:
    """A client that sent half a request (slowloris) does not delay anyone else's answer."""
    stalled = [socket.create_connection((served.host, served.port)) for _ in range(3)]
    try:
        for sock in stalled:
            sock.sendall(b"GET /feed.ics?token=")
        # Served.get gives up after 10 s: a server busy with the stalled
        # clients would not answer within it.
        for _ in range(3):
            status, _, body = served.get(f"/feed.ics?token={TOKEN}")
            assert status == 200
            assert body.startswith(b"BEGIN:VCALENDAR")
    finally:
        for sock in stalled:
            sock.close()


def test_a_client_trickling_its_request_is_cut_off_at_the_header_deadline(now: datetime) -> None:
    """A request head must be complete within header_timeout, however steadily bytes come."""
    agenda = _agenda(now)
    log = io.StringIO()
    server = make_feed_server(
        make_feed_app(lambda: agenda, token=TOKEN),
        "127.0.0.1",
        0,
        token=TOKEN,
        log=log,
        header_timeout=0.5,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sock = socket.create_connection(("127.0.0.1", server.server_port), timeout=10)
        with sock:
            head = b"GET /feed.ics?token=" + b"x" * 400
            sent = 0
            # One byte every 50 ms: each read is quick, but the whole head
            # would take 20 s; the server must hang up long before.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for byte in head:
                    sock.sendall(bytes([byte]))
                    sent += 1
                    threading.Event().wait(0.05)
                    if sent % 10 == 0 and _closed(sock):
                        break
            assert sent < len(head)
            assert b"BEGIN:VCALENDAR" not in _read_all(sock)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert "request not received" in log.getvalue()


def _closed(sock: socket.socket) -> bool:
    """Whether the server has closed its end (a read would say so at once)."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.setblocking(True)


def test_two_hundred_subscribers_at_once_all_get_the_feed(served: Served) -> None:
    """200 clients asking at the same moment all get the calendar, none a reset or a wait."""
    clients = 200
    start = threading.Barrier(clients)
    answers: list[object] = [None] * clients

    def fetch(i: int) -> None:
        start.wait()
        try:
            answers[i] = served.get(f"/feed.ics?token={TOKEN}")
        except OSError as error:
            answers[i] = error

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    want = to_ical(served.agenda, name="Clients")
    failed = [a for a in answers if not (isinstance(a, tuple) and a[0] == 200 and a[2] == want)]
    assert failed == []


def test_connections_past_the_bound_wait_their_turn(now: datetime) -> None:
    """With max_connections busy a new client waits, not refused, until a connection frees."""
    agenda = _agenda(now)
    log = io.StringIO()
    server = make_feed_server(
        make_feed_app(lambda: agenda, token=TOKEN),
        "127.0.0.1",
        0,
        token=TOKEN,
        log=log,
        max_connections=2,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_port
        stalled = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
        for sock in stalled:
            sock.sendall(b"GET /feed.ics?token=")
        waiting = socket.create_connection(("127.0.0.1", port), timeout=10)
        with waiting:
            waiting.sendall(f"GET /feed.ics?token={TOKEN} HTTP/1.0\r\n\r\n".encode())
            # Both threads are held: nothing comes back yet.
            waiting.settimeout(0.5)
            with pytest.raises(TimeoutError):
                waiting.recv(1)
            stalled.pop().close()
            waiting.settimeout(10)
            answer = _read_all(waiting)
        assert answer.startswith(b"HTTP/1.0 200 OK")
        assert answer.endswith(to_ical(agenda))
        for sock in stalled:
            sock.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("max_connections", 0),
        ("max_connections", 2.5),
        ("header_timeout", 0),
        ("header_timeout", float("nan")),
        ("timeout", -1),
        ("timeout", float("inf")),
        ("timeout", 1e300),
        ("header_timeout", "10"),
    ],
)
def test_bad_server_settings_are_refused(setting: str, value: object, now: datetime) -> None:
    """The bound must be a whole number from 1; the timeouts, seconds above 0 up to a day."""
    app = make_feed_app(lambda: _agenda(now), token=TOKEN)
    with pytest.raises(ConfigError, match=setting):
        make_feed_server(app, "127.0.0.1", 0, token=TOKEN, **{setting: value})  # type: ignore[arg-type]


# -- what a 304 carries -----------------------------------------------------------


def test_a_304_has_no_content_length(served: Served) -> None:
    """RFC 9110 8.6: a 304 sends no Content-Length; a HEAD sends the GET's."""
    _, headers, body = served.get(f"/feed.ics?token={TOKEN}")
    status, again, _ = served.get(
        f"/feed.ics?token={TOKEN}", headers={"If-None-Match": headers["ETag"]}
    )
    assert status == 304
    assert "Content-Length" not in again
    assert again["ETag"] == headers["ETag"]
    _, head, _ = served.get(f"/feed.ics?token={TOKEN}", method="HEAD")
    assert head["Content-Length"] == str(len(body))


# -- the log -----------------------------------------------------------------------


def _fully_decoded(text: str) -> str:
    for _ in range(4):
        text = unquote_plus(text)
    return text


@pytest.mark.parametrize(
    "query",
    [
        "token={value}",
        "%74oken={value}",
        "tok%65n={value}",
        "%74%6F%6B%65%6E={value}",
        "%2574oken={value}",
        "TOKEN={value}",
        "ToKeN={value}",
        "t%4Fken={value}",
        "to+ken={value}",
        "+token={value}",
        "token+={value}",
        "token%3D{value}",
        "token%253D{value}",
        "tag=a&token={value}",
        "tag=a;token={value}",
        "token={encoded}",
        "x={value}",
        "x={encoded}",
    ],
)
def test_no_spelling_of_the_token_reaches_the_log(query: str, now: datetime) -> None:
    """Parameters named token in any encoding or case, and the secret anywhere, are redacted."""
    agenda = _agenda(now)
    log = io.StringIO()
    guess = "guess-Wq81xZ_v0pLm3Kd7"
    with _run(make_feed_app(lambda: agenda, token=TOKEN), token=TOKEN, log=log) as (host, port):
        client = Served(host, port, log, agenda)
        for value in (TOKEN, guess):
            encoded = "".join(f"%{b:02X}" for b in value.encode())
            target = "/feed.ics?" + query.format(value=value, encoded=encoded)
            assert client.get(target)[0] in (200, 403)
    logged = log.getvalue()
    assert logged.count("\n") == 2
    assert TOKEN not in _fully_decoded(logged)
    if "x=" not in query:
        assert guess not in _fully_decoded(logged)
        assert "[redacted]" in logged


@pytest.mark.parametrize(
    "line",
    [
        b"GET /feed.ics?tag=\x1b]0;owned\x07\x1b[2J HTTP/1.0",
        b"GET /feed.ics?tag=\x9b31m\x85 HTTP/1.0",
        b"GET /\x1b[31mred\x1b[0m\x7f HTTP/1.0",
        b"\x1b[2J\x1b[H HTTP/1.0",
        b"GET /feed.ics HTTP/9.\x1b[1m",
    ],
)
def test_control_characters_are_escaped_in_the_log(line: bytes, now: datetime) -> None:
    """Terminal escapes in a request line are logged escaped (\\x1b), served or refused."""
    agenda = _agenda(now)
    log = io.StringIO()
    app = make_feed_app(lambda: agenda, token=None)
    with (
        _run(app, token=None, log=log) as (host, port),
        socket.create_connection((host, port), timeout=10) as sock,
    ):
        sock.sendall(line + b"\r\n\r\n")
        assert _read_all(sock)  # an answer (a 400 for what is no request at all)
    logged = log.getvalue()
    assert logged.endswith("\n")
    lines = logged.splitlines()
    for text in lines:
        assert all(c.isprintable() for c in text), repr(text)
    assert "\\x1b" in lines[-1] or "\\x9b" in lines[-1]


def test_printable_escapes_every_control_and_nothing_else() -> None:
    """Controls of every kind become escapes, backslashes are doubled, other text is kept."""
    assert printable("plain text: Ünïcödé, 千代") == "plain text: Ünïcödé, 千代"
    assert printable("a\x1b[31mb") == "a\\x1b[31mb"
    assert printable("\x00\t\n\r\x7f\x85\x9b") == "\\x00\\x09\\x0a\\x0d\\x7f\\x85\\x9b"
    assert printable("\u202eevil\u2028\u200b\ufeff") == "\\u202eevil\\u2028\\u200b\\ufeff"
    assert printable("C:\\x1b") == "C:\\\\x1b"
    assert printable("\ud800\U000e0001") == "\\ud800\\U000e0001"


# -- Last-Modified ------------------------------------------------------------------


class _Clock:
    """A clock that says what it is told."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def _ask(app: FeedApp, **headers: str) -> tuple[str, dict[str, str]]:
    answers: list[tuple[str, dict[str, str]]] = []

    def start_response(status: str, got: list[tuple[str, str]], exc_info: object = None) -> None:
        answers.append((status, dict(got)))

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/feed.ics",
        "QUERY_STRING": f"token={TOKEN}",
        "wsgi.errors": io.StringIO(),
        **{f"HTTP_{k.upper()}": v for k, v in headers.items()},
    }
    b"".join(app(environ, start_response))  # type: ignore[arg-type]
    return answers[-1]


def test_last_modified_moves_forward_whenever_the_bytes_change(now: datetime) -> None:
    """Last-Modified is when the bytes were first served, and always later for new bytes.

    Dates have whole seconds: bytes that change twice within one second get
    the next second, so If-Modified-Since with the old date never gets 304.
    """
    agendas = [_agenda(now + timedelta(days=d)) for d in range(4)]
    current = [agendas[0]]
    clock = _Clock(datetime(2026, 11, 23, 12, 0, 0, 250_000, tzinfo=UTC))
    app = FeedApp(lambda: current[-1], token=TOKEN, clock=clock)

    def last_modified() -> str:
        return _ask(app)[1]["Last-Modified"]

    assert last_modified() == "Mon, 23 Nov 2026 12:00:00 GMT"
    clock.moment += timedelta(milliseconds=500)  # the same second
    assert last_modified() == "Mon, 23 Nov 2026 12:00:00 GMT"
    current.append(agendas[1])
    assert last_modified() == "Mon, 23 Nov 2026 12:00:01 GMT"
    status, headers = _ask(app, If_Modified_Since="Mon, 23 Nov 2026 12:00:00 GMT")
    assert status == "200 OK"
    current.append(agendas[2])  # again within the same second
    assert last_modified() == "Mon, 23 Nov 2026 12:00:02 GMT"
    clock.moment = datetime(2026, 11, 23, 12, 5, 0, tzinfo=UTC)
    assert last_modified() == "Mon, 23 Nov 2026 12:00:02 GMT"  # unchanged bytes keep their date
    current.append(agendas[3])
    assert last_modified() == "Mon, 23 Nov 2026 12:05:00 GMT"
    status, headers = _ask(app, If_Modified_Since="Mon, 23 Nov 2026 12:05:00 GMT")
    assert status == "304 Not Modified"
    assert headers["Last-Modified"] == "Mon, 23 Nov 2026 12:05:00 GMT"


# -- tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "aaaaaaaaaaaaaaaa",
        "a" * 200,
        "abcdefghijklmnopqrstuvwxyz",
        "0123456789" * 5,
        "9876543210" * 3,
        "passwordpasswordpassword",
        "ab" * 30,
        "aabbccddeeffgghhiijjkkll",
        "Aa1-" * 10,
        "----------------~~~~~~~~________",
        "s3cret-token-0123456789",
    ],
)
def test_guessable_tokens_are_refused(token: str, now: datetime) -> None:
    """Tokens of repeats, runs and patterns fall short of 96 estimated bits and are refused."""
    assert token_bits(token) < MIN_TOKEN_BITS
    with pytest.raises(ConfigError, match="too easy to guess") as refused:
        make_feed_app(lambda: _agenda(now), token=token)
    assert token not in str(refused.value)


@pytest.mark.parametrize(
    "token", [TOKEN, "41f61def6f98b6bd90e81765f38963ee", "Wq81xZ-v0pLm3Kd7Tr5Ny2Bc"]
)
def test_random_looking_tokens_are_accepted(token: str, now: datetime) -> None:
    """A hex token of 128 bits or 24 mixed random characters pass."""
    assert token_bits(token) >= MIN_TOKEN_BITS
    assert isinstance(make_feed_app(lambda: _agenda(now), token=token), FeedApp)


def test_every_new_token_passes() -> None:
    """new_token() makes tokens of about 256 bits that the rule always accepts."""
    scores = [token_bits(new_token()) for _ in range(2000)]
    assert min(scores) >= MIN_TOKEN_BITS
    assert sum(scores) / len(scores) > 200


# -- one name per tag, from the command line and from the server ---------------------


def test_a_tag_s_feed_is_the_same_calendar_from_the_cli_and_the_server(
    tmp_path: Path, now: datetime
) -> None:
    """`cadence feed --tag` and `?tag=` give one NAME and calendar UID, unlike the whole feed."""
    url = f"sqlite:///{tmp_path / 'cadence.db'}"
    with open_store(url) as store:
        store.put_contact(Contact("ada", "Ada", tags=["retainer"]))
        store.put_contact(Contact("bob", "Bob"))
        store.set_rule(Rule(Every(weeks=1)))
        agenda = store.agenda(now=now, within=timedelta(days=30))
    env = {**os.environ, "CADENCE_DB": url, "CADENCE_CONFIG": ""}

    def cli_feed(*args: str) -> icalendar.Calendar:
        done = subprocess.run(
            [sys.executable, "-m", "cadence", "--now", now.isoformat(), "feed", *args],
            env=env,
            capture_output=True,
            check=True,
            timeout=120,
        )
        return icalendar.Calendar.from_ical(done.stdout)

    app = FeedApp(lambda: agenda, token=TOKEN, name="cadence")
    answers: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/feed.ics",
        "QUERY_STRING": f"token={TOKEN}&tag=retainer",
        "wsgi.errors": io.StringIO(),
    }
    served = icalendar.Calendar.from_ical(
        b"".join(app(environ, lambda status, headers, exc_info=None: answers.append(status)))  # type: ignore[arg-type]
    )
    assert answers == ["200 OK"]
    tagged, whole = cli_feed("--tag", "retainer"), cli_feed()
    assert str(served["NAME"]) == str(tagged["NAME"]) == "cadence (retainer)"
    assert str(served["UID"]) == str(tagged["UID"])
    assert str(whole["UID"]) != str(tagged["UID"])
    assert [str(e["SUMMARY"]) for e in tagged.events] == ["Check in with Ada"]


def test_requests_arriving_during_a_rendering_share_it(now: datetime) -> None:
    """A burst of requests for one feed reads the agenda and renders once, not once each."""
    agenda = _agenda(now)
    calls: list[int] = []
    release = threading.Event()

    def slow() -> Agenda:
        calls.append(1)
        release.wait(30)
        return agenda

    app = FeedApp(slow, token=TOKEN)
    log = io.StringIO()
    with _run(app, token=TOKEN, log=log) as (host, port):
        client = Served(host, port, log, agenda)
        answers: list[tuple[int, dict[str, str], bytes]] = []
        threads = [
            threading.Thread(target=lambda: answers.append(client.get(f"/feed.ics?token={TOKEN}")))
            for _ in range(20)
        ]
        for thread in threads:
            thread.start()
        # Wait (without a clock) until all 20 are in: one rendering, 19 waiting for it.
        for _ in range(3000):
            if app._flights and next(iter(app._flights.values())).followers == 19:
                break
            threading.Event().wait(0.01)
        else:
            release.set()
            pytest.fail("the requests did not share one rendering")
        release.set()
        for thread in threads:
            thread.join()
    assert len(calls) == 1
    assert [a[0] for a in answers] == [200] * 20
    assert {a[2] for a in answers} == {to_ical(agenda)}
