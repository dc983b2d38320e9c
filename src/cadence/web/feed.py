"""Serving the iCalendar feed over HTTP: a WSGI application, and a small server for the CLI.

The application answers ``GET /feed.ics`` (and HEAD) with the calendar of the
current agenda, guarded by a secret token in the query string, with an ETag
and a Last-Modified so that clients that poll get ``304 Not Modified`` while
nothing changed. ``?tag=NAME`` narrows the feed to the contacts with that tag.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import re
import secrets
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import TextIO
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from cadence.adapters.ical.render import to_ical
from cadence.core.errors import CadenceError, ConfigError
from cadence.core.reminders import Agenda, Reminder

__all__ = ["FEED_PATH", "FeedApp", "make_feed_app", "make_feed_server", "new_token", "serve"]

#: The one path the application serves.
FEED_PATH = "/feed.ics"

#: The shortest token accepted: shorter ones can be guessed.
MIN_TOKEN_LENGTH = 16

# Characters that need no escaping in a query string, so a subscription URL
# can be copied as it is.
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9._~-]+$")
_TOKEN_IN_TEXT = re.compile(r"(token=)[^&\s\"']*", re.IGNORECASE)
# How many feed variants (tag filters) remember when their bytes last changed.
_REMEMBERED = 64

_Headers = list[tuple[str, str]]


def new_token() -> str:
    """A fresh secret token for the feed's URL: 43 URL-safe characters (256 bits)."""
    return secrets.token_urlsafe(32)


def _check_token(token: object) -> str | None:
    if token is None:
        return None
    if not isinstance(token, str):
        raise ConfigError("the feed token must be text")
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"the feed token must be at least {MIN_TOKEN_LENGTH} characters; "
            "cadence can make one for you"
        )
    if not _TOKEN_CHARS.match(token):
        raise ConfigError("the feed token may hold only letters, digits and . _ ~ -")
    return token


def _utc_now() -> datetime:
    return datetime.now(UTC)


class FeedApp:
    """A WSGI application serving the agenda as an iCalendar feed at ``/feed.ics``.

    ``agenda`` is called on every request and returns the current Agenda. With
    a ``token``, every request must carry it as ``?token=...``; a missing or
    wrong one gets 403 and nothing else. ``?tag=NAME`` (repeatable) keeps the
    reminders of contacts with any of those tags. Responses carry a strong
    ETag (a hash of the bytes) and a Last-Modified (when this process first
    served those bytes), and conditional requests get 304.
    """

    def __init__(
        self,
        agenda: Callable[[], Agenda],
        *,
        token: str | None,
        name: str = "cadence",
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if not callable(agenda):
            raise ConfigError("the feed needs a callable that returns the current agenda")
        self._agenda = agenda
        self._token = _check_token(token)
        self._name = name
        self._clock = clock
        # Per feed variant: the ETag last served and when it was first served.
        self._seen: dict[tuple[str, ...], tuple[str, datetime]] = {}
        # Threaded WSGI servers may answer several requests at once.
        self._lock = threading.Lock()
        try:
            to_ical((), name=name)  # refuse a bad name now, not on the first request
        except CadenceError as error:
            raise ConfigError(str(error)) from None

    def __repr__(self) -> str:
        guarded = "with a token" if self._token else "without a token"
        return f"<FeedApp {self._name!r} {guarded}>"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request."""
        if environ.get("PATH_INFO", "") != FEED_PATH:
            return _plain(start_response, "404 Not Found", "Not Found")
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return _plain(
                start_response,
                "405 Method Not Allowed",
                "Method Not Allowed",
                [("Allow", "GET, HEAD")],
            )
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if not self._allowed(query.get("token", [])):
            return _plain(start_response, "403 Forbidden", "Forbidden")
        tags = tuple(sorted(set(query.get("tag", []))))
        try:
            body = self._render(tags)
        except Exception:
            environ["wsgi.errors"].write(traceback.format_exc())
            return _plain(start_response, "500 Internal Server Error", "Internal Server Error")
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        modified = self._modified(tags, etag)
        headers = [
            ("ETag", etag),
            ("Last-Modified", format_datetime(modified, usegmt=True)),
            # The URL holds a secret: no shared cache may keep it; clients revalidate.
            ("Cache-Control", "private, no-cache"),
        ]
        if _not_modified(environ, etag, modified):
            start_response("304 Not Modified", headers)
            return []
        headers += [
            ("Content-Type", "text/calendar; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
        ]
        start_response("200 OK", headers)
        return [] if method == "HEAD" else [body]

    def _allowed(self, given: list[str]) -> bool:
        if self._token is None:
            return True
        if len(given) != 1:
            return False
        return hmac.compare_digest(given[0].encode("utf-8"), self._token.encode("utf-8"))

    def _render(self, tags: tuple[str, ...]) -> bytes:
        agenda = self._agenda()
        if not isinstance(agenda, Agenda):
            raise CadenceError(f"the feed's agenda callable returned {type(agenda).__name__}")
        reminders: Iterable[Reminder] = agenda
        name = self._name
        if tags:
            wanted = frozenset(tags)
            reminders = [r for r in agenda if not wanted.isdisjoint(r.contact.tags)]
            name = f"{name} ({', '.join(tags)})"
        return to_ical(reminders, name=name, now=agenda.now)

    def _modified(self, tags: tuple[str, ...], etag: str) -> datetime:
        with self._lock:
            seen = self._seen.get(tags)
            if seen is not None and seen[0] == etag:
                return seen[1]
            when = self._clock().astimezone(UTC).replace(microsecond=0)
            self._seen.pop(tags, None)
            if len(self._seen) >= _REMEMBERED:
                del self._seen[next(iter(self._seen))]
            self._seen[tags] = (etag, when)
            return when


def _plain(
    start_response: StartResponse, status: str, text: str, extra: _Headers | None = None
) -> list[bytes]:
    body = f"{text}\n".encode("ascii")
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        *(extra or []),
    ]
    start_response(status, headers)
    return [body]


def _etags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def _not_modified(environ: WSGIEnvironment, etag: str, modified: datetime) -> bool:
    # RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since counts only without it.
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        tags = _etags(if_none_match)
        return "*" in tags or etag in tags
    if_modified_since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return modified <= since


def make_feed_app(
    agenda: Callable[[], Agenda], *, token: str | None, name: str = "cadence"
) -> WSGIApplication:
    """A WSGI application serving ``agenda()`` as an iCalendar feed; see ``FeedApp``.

    Run it under any WSGI server, or with ``serve``. ``token`` (at least 16
    URL-safe characters; ``new_token()`` makes one) guards the feed; None
    leaves it open, which ``serve`` allows on loopback only. ``name`` titles
    the calendar.
    """
    return FeedApp(agenda, token=token, name=name)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _QuietHandler(WSGIRequestHandler):
    """Logs each request as wsgiref does, with any token in it blanked out."""

    secret: str | None = None
    stream: TextIO | None = None
    # A client that stalls must not hold the single-threaded server for long.
    timeout = 30

    def log_message(self, format: str, *args: object) -> None:
        message = _TOKEN_IN_TEXT.sub(r"\1[redacted]", format % args)
        if self.secret:
            message = message.replace(self.secret, "[redacted]")
        out = self.stream or sys.stderr
        out.write(f"{self.address_string()} - [{self.log_date_time_string()}] {message}\n")

    def get_stderr(self) -> TextIO:
        return self.stream or sys.stderr


class _Server6(WSGIServer):
    address_family = socket.AF_INET6


def make_feed_server(
    app: WSGIApplication,
    host: str,
    port: int,
    *,
    token: str | None,
    log: TextIO | None = None,
) -> WSGIServer:
    """A wsgiref server for ``app`` bound to ``host``:``port``, not yet serving.

    Without a ``token`` it refuses (CadenceError) any address but loopback:
    an open feed must not be reachable from the network. Request lines are
    logged to ``log`` (standard error by default) with the token blanked out.
    Port 0 picks a free port; the server's ``server_port`` says which.
    """
    if token is None and not _is_loopback(host):
        raise CadenceError(
            f"refusing to serve the feed on {host!r} without a token; "
            "set a token or serve on 127.0.0.1"
        )
    handler = type("FeedRequestHandler", (_QuietHandler,), {"secret": token or None, "stream": log})
    server_class = _Server6 if ":" in host else WSGIServer
    server = server_class((host.strip("[]"), port), handler)
    server.set_app(app)
    return server


def serve(
    app: WSGIApplication,
    host: str,
    port: int,
    *,
    token: str | None,
    log: TextIO | None = None,
) -> None:
    """Serve ``app`` on ``host``:``port`` until interrupted; see ``make_feed_server``.

    One request at a time, which suits a feed that a few calendar apps poll.
    """
    server = make_feed_server(app, host, port, token=token, log=log)
    with server, contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
