"""Serving the iCalendar feed over HTTP: a WSGI application, and a small server for the CLI.

The application answers ``GET /feed.ics`` (and HEAD) with the calendar of the
current agenda, guarded by a secret token in the query string, with an ETag
and a Last-Modified so that clients that poll get ``304 Not Modified`` while
nothing changed. ``?tag=NAME`` narrows the feed to the contacts with that tag.
Served from a store, a rendered feed is kept until the store or the clock
says that what it shows may have changed: a poll costs a lookup, not a
rendering.
"""

from __future__ import annotations

import contextlib
import hmac
import io
import ipaddress
import itertools
import math
import re
import secrets
import socket
import sys
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from socketserver import ThreadingMixIn
from typing import Any, TextIO
from urllib.parse import parse_qs, unquote_plus
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from cadence.adapters.ical.render import feed_changes_at, feed_inputs, tagged_feed, to_ical
from cadence.core.errors import CadenceError, ConfigError
from cadence.core.reminders import Agenda
from cadence.l10n import ENGLISH, Words

__all__ = [
    "FEED_PATH",
    "MIN_TOKEN_BITS",
    "FeedApp",
    "FeedServer",
    "make_feed_app",
    "make_feed_server",
    "new_token",
    "printable",
    "redact",
    "serve",
    "token_bits",
]

#: The one path the application serves.
FEED_PATH = "/feed.ics"

#: The shortest token accepted: shorter ones can be guessed.
MIN_TOKEN_LENGTH = 16

#: The least estimated strength, in bits, of a token accepted (see ``token_bits``).
MIN_TOKEN_BITS = 96

# Characters that need no escaping in a query string, so a subscription URL
# can be copied as it is.
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9._~-]+$")
# The kinds of character a token may hold, and how many of each there are.
_CLASSES = (
    (frozenset("abcdefghijklmnopqrstuvwxyz"), 26),
    (frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 26),
    (frozenset("0123456789"), 10),
    (frozenset("._~-"), 4),
)
# How many feed variants (tag filters) remember when their bytes last changed,
# and how many rendered feeds are kept at most.
_REMEMBERED = 64

#: The most bytes of rendered feeds kept at once, over every variant; the
#: variants asked for least recently go first (the latest is always kept).
MAX_KEPT_BYTES = 64 * 1024 * 1024

#: How long a feed served from a store is kept at most before its agenda is
#: read again, even when nothing says it changed. Reading it again renders
#: nothing unless what the feed is made of changed.
RECHECK = timedelta(hours=1)

_SECOND = timedelta(seconds=1)

_Headers = list[tuple[str, str]]


def token_bits(token: str) -> float:
    """An estimate of how many bits of guessing ``token`` takes; at least 96 are required.

    Every character counts log2 of the size of the alphabet the token draws
    from (the kinds of character it uses: 26 lowercase letters, 26 capitals,
    10 digits, 4 of ``. _ ~ -``), except a predictable one, which counts
    nothing: one whose step from the character before (its code point
    minus that one's) is -1, 0 or +1 and the same as one of the two steps
    before it (``aaa``, ``abc``, ``987``, ``aabbcc``), or the last of three
    characters that already appeared together earlier in the token
    (``passwordpassword``). So ``aaaa...`` or
    ``abcd...`` of any length falls short, while the 43 random characters
    of ``new_token()`` are worth about 240. It knows no dictionary: a
    phrase of words scores far above what it is worth, so use random
    characters.
    """
    pool = sum(size for members, size in _CLASSES if not members.isdisjoint(token))
    if pool == 0:
        return 0.0
    full = math.log2(pool)
    bits = 0.0
    steps = [0, *(ord(b) - ord(a) for a, b in itertools.pairwise(token))]
    for i in range(len(token)):
        step = steps[i]
        predictable = (
            i >= 2
            and (
                # a step of -1, 0 or +1 repeating the one before or the one before
                # that: aaa, abc, 987, aabbcc
                (step in (-1, 0, 1) and step in (steps[i - 1], steps[i - 2] if i >= 3 else None))
                # three characters that already appeared together: passwordpassword
                or token[i - 2 : i + 1] in token[:i]
            )
        )
        if not predictable:
            bits += full
    return bits


def new_token() -> str:
    """A fresh secret token for the feed's URL: 43 URL-safe characters (256 bits)."""
    while True:
        token = secrets.token_urlsafe(32)
        # A random draw that looks patterned is astronomically rare; skip it
        # so that every token made here is one the feed accepts.
        if token_bits(token) >= MIN_TOKEN_BITS:
            return token


def _check_token(token: object) -> str | None:
    if token is None:
        return None
    if not isinstance(token, str):
        raise ConfigError("the feed token must be text")
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"the feed token must be at least {MIN_TOKEN_LENGTH} characters; "
            "cadence.new_token() makes a good one"
        )
    if not _TOKEN_CHARS.match(token):
        raise ConfigError("the feed token may hold only letters, digits and . _ ~ -")
    bits = token_bits(token)
    if bits < MIN_TOKEN_BITS:
        raise ConfigError(
            f"the feed token is too easy to guess (about {int(bits)} bits; "
            f"{MIN_TOKEN_BITS} needed): use random characters, as cadence.new_token() makes"
        )
    return token


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Feed:
    """One feed variant as last made: its bytes, its ETag, and while they hold.

    They hold while the store's agenda version is ``version`` and the clock
    is before ``expires``; a feed made without a store holds for no request
    but its own, and is kept only so that an unchanged agenda is not
    rendered again.
    """

    __slots__ = ("body", "etag", "expires", "version")

    def __init__(
        self, body: bytes, etag: str, version: int | None, expires: datetime | None
    ) -> None:
        self.body = body
        self.etag = etag
        self.version = version
        self.expires = expires

    def holds(self, version: int | None, now: datetime) -> bool:
        return (
            version is not None
            and self.version == version
            and (self.expires is None or now < self.expires)
        )


class _Flight:
    """One making of a feed variant, and the requests waiting for it."""

    __slots__ = ("done", "error", "feed", "followers")

    def __init__(self) -> None:
        self.feed: _Feed | None = None
        self.error: Exception | None = None
        self.done = threading.Event()
        self.followers = 0


class FeedApp:
    """A WSGI application serving the agenda as an iCalendar feed at ``/feed.ics``.

    ``agenda`` returns the current Agenda. With a ``token``, every request
    must carry it as ``?token=...``; a missing or wrong one gets 403 and
    nothing else. ``?tag=NAME`` (repeatable) keeps the reminders of contacts
    with any of those tags. Responses carry a strong ETag, a digest of what
    the feed is made of (``feed_inputs``: each reminder's key and what its
    event shows, the title), and a Last-Modified (when this process first
    served that ETag); conditional requests get 304 (RFC 9110: If-None-Match
    by weak comparison, a list or ``*``; If-Modified-Since without it).

    Without a ``store``, ``agenda`` is called on every request, and the feed
    is rendered again only when its digest changed. With the ``store`` the
    agenda comes from (read at ``clock()``), a feed made once is kept per
    tag filter and served as it is while the store's ``agenda_version``
    stays the same and the clock has not reached a moment at which the feed
    could change (a reminder coming into the window or falling due, a
    contact's plan running out, midnight moving an overdue reminder to
    today; and at least every ``RECHECK``): a poll costs one read of the
    version. Requests for the same feed that arrive while it is being made
    share that making, so a burst of subscribers costs one. The kept feeds
    are bounded (64 tag filters, ``MAX_KEPT_BYTES`` in all).
    """

    def __init__(
        self,
        agenda: Callable[[], Agenda],
        *,
        token: str | None,
        name: str = "cadence",
        clock: Callable[[], datetime] = _utc_now,
        store: Any = None,
        words: Words = ENGLISH,
    ) -> None:
        if not callable(agenda):
            raise ConfigError("the feed needs a callable that returns the current agenda")
        if store is not None and not (
            callable(getattr(store, "agenda_version", None))
            and callable(getattr(store, "agenda_changes_at", None))
        ):
            raise ConfigError(
                "the feed's store must say when its agenda changes "
                "(agenda_version and agenda_changes_at)"
            )
        self._agenda = agenda
        self._store = store
        self._token = _check_token(token)
        self._name = name
        self._clock = clock
        self._words = words
        # Per feed variant: the ETag last served and when it was first served.
        self._seen: dict[tuple[str, ...], tuple[str, datetime]] = {}
        # The latest Last-Modified of the variants no longer remembered.
        self._forgotten: datetime | None = None
        # Threaded WSGI servers may answer several requests at once.
        self._lock = threading.Lock()
        # Per feed variant and agenda version: the making under way, which
        # requests arriving meanwhile share instead of making it again.
        self._flights: dict[tuple[tuple[str, ...], int | None], _Flight] = {}
        # Per feed variant: the feed last made, the least recently asked for first.
        self._kept: OrderedDict[tuple[str, ...], _Feed] = OrderedDict()
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
            feed = self._feed(tags)
        except Exception:
            environ["wsgi.errors"].write(traceback.format_exc())
            return _plain(start_response, "500 Internal Server Error", "Internal Server Error")
        etag, body = feed.etag, feed.body
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

    def _feed(self, tags: tuple[str, ...]) -> _Feed:
        # Read before the agenda is: an agenda read after it is at least as
        # new, so a write that lands in between is seen at the next request.
        version = None if self._store is None else int(self._store.agenda_version())
        if version is not None:
            now = self._clock()
            with self._lock:
                kept = self._kept.get(tags)
                if kept is not None and kept.holds(version, now):
                    self._kept.move_to_end(tags)
                    return kept
        # A burst of subscribers (a calendar service polling, clients waking
        # together) costs one making, not one each: rendering is CPU work
        # that threads would only share out.
        flying = (tags, version)
        with self._lock:
            flight = self._flights.get(flying)
            leader = flight is None
            if flight is None:
                flight = self._flights[flying] = _Flight()
            else:
                flight.followers += 1
        if leader:
            try:
                flight.feed = self._make(tags, version)
            except Exception as error:
                flight.error = error
            finally:
                with self._lock:
                    del self._flights[flying]
                flight.done.set()
        else:
            flight.done.wait()
        if flight.error is not None:
            raise flight.error
        assert flight.feed is not None
        return flight.feed

    def _make(self, tags: tuple[str, ...], version: int | None) -> _Feed:
        agenda = self._agenda()
        if not isinstance(agenda, Agenda):
            raise CadenceError(f"the feed's agenda callable returned {type(agenda).__name__}")
        wanted = frozenset(tags)
        shown = [r for r in agenda if not wanted.isdisjoint(r.contact.tags)] if wanted else agenda
        # The language is one of the inputs: another locale, another ETag.
        inputs = feed_inputs(shown, tags, name=self._name, now=agenda.now, words=self._words)
        etag = f'"{inputs[:32]}"'
        with self._lock:
            kept = self._kept.get(tags)
        if kept is not None and kept.etag == etag:
            body = kept.body  # the same inputs give the same bytes
        else:
            body = tagged_feed(shown, tags, name=self._name, now=agenda.now, words=self._words)
        expires = None
        if version is not None:
            moments = [
                self._clock() + RECHECK,
                feed_changes_at(shown, agenda.now),
                self._store.agenda_changes_at(now=agenda.now, within=agenda.horizon),
            ]
            expires = min(m for m in moments if m is not None)
        feed = _Feed(body, etag, version, expires)
        self._keep(tags, feed)
        return feed

    def _keep(self, tags: tuple[str, ...], feed: _Feed) -> None:
        with self._lock:
            self._kept.pop(tags, None)
            self._kept[tags] = feed
            held = sum(len(f.body) for f in self._kept.values())
            while len(self._kept) > 1 and (len(self._kept) > _REMEMBERED or held > MAX_KEPT_BYTES):
                _, gone = self._kept.popitem(last=False)
                held -= len(gone.body)

    def _modified(self, tags: tuple[str, ...], etag: str) -> datetime:
        # Last-Modified has whole seconds: bytes that change twice within a
        # second must still get a later date, or a client that sends the old
        # one back (If-Modified-Since) is told nothing changed.
        with self._lock:
            seen = self._seen.get(tags)
            if seen is not None and seen[0] == etag:
                return seen[1]
            when = self._clock().astimezone(UTC).replace(microsecond=0)
            floor = seen[1] if seen is not None else self._forgotten
            if floor is not None and when <= floor:
                when = floor + _SECOND
            self._seen.pop(tags, None)
            if len(self._seen) >= _REMEMBERED:
                oldest = next(iter(self._seen))
                gone = self._seen.pop(oldest)[1]
                # A variant forgotten and asked for again must not get a date
                # it was already given for other bytes.
                if self._forgotten is None or gone > self._forgotten:
                    self._forgotten = gone
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


# One entity-tag of a list (RFC 9110 8.8.3): an optional W/, then opaque
# characters in quotes, then a comma or the end.
_ENTITY_TAG = re.compile(r'(W/)?("[\x21\x23-\x7e\x80-\xff]*")[ \t]*(?:,|$)')


def _none_match(header: str, etag: str) -> bool | None:
    """Whether If-None-Match's value matches ``etag``; None when the value is malformed.

    RFC 9110 13.1.2: ``*`` matches any current representation; a list
    matches when one of its entity-tags equals ``etag`` by weak comparison
    (``W/"x"`` matches ``"x"``: only the opaque quoted part counts).
    """
    text = header.strip(" \t")
    if text == "*":
        return True
    found = False
    pos = 0
    while pos < len(text):
        if text[pos] in " \t,":  # empty list elements are allowed (RFC 9110 5.6.1)
            pos += 1
            continue
        match = _ENTITY_TAG.match(text, pos)
        if match is None:
            return None
        found = found or match.group(2) == etag
        pos = match.end()
    return found


def _not_modified(environ: WSGIEnvironment, etag: str, modified: datetime) -> bool:
    # RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since counts only without it.
    # A malformed If-None-Match is ignored, as if it were not there.
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        matched = _none_match(if_none_match, etag)
        if matched is not None:
            return matched
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
    agenda: Callable[[], Agenda],
    *,
    token: str | None,
    name: str = "cadence",
    store: Any = None,
    clock: Callable[[], datetime] = _utc_now,
    words: Words = ENGLISH,
) -> WSGIApplication:
    """A WSGI application serving ``agenda()`` as an iCalendar feed; see ``FeedApp``.

    Run it under any WSGI server, or with ``serve``. ``token`` (at least 16
    URL-safe characters; ``new_token()`` makes one) guards the feed; None
    leaves it open, which ``serve`` allows on loopback only. ``name`` titles
    the calendar. Give the ``store`` that ``agenda`` reads, at ``clock()``,
    and a feed is rendered once and served from memory until something it
    shows may have changed. ``words`` words the events (``cadence.l10n``;
    the core's English by default); UIDs are the same in every language.
    """
    return FeedApp(agenda, token=token, name=name, store=store, clock=clock, words=words)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# -- what the server logs ----------------------------------------------------------

# The pieces of a logged line that may be query parameters: runs between the
# separators of a URL and of the log line itself.
_PIECE = re.compile(r"[^\s\"'?&;/#]+")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def _decoded(piece: str) -> str:
    # Undo percent-encoding and '+' as many times as a proxy or a client might
    # have applied it, so that no spelling of a name hides it.
    for _ in range(4):
        plain = unquote_plus(piece, errors="replace")
        if plain == piece:
            break
        piece = plain
    return piece


def redact(text: str, secret: str | None = None) -> str:
    """``text`` with every token blanked out, however it was spelled.

    Each query parameter (each run of ``text`` between ``? & ; / #``, spaces
    and quotes) is read as a server would, after undoing percent-encoding
    and ``+`` (repeatedly); one whose name, in any case and with everything
    but letters and digits left out, contains ``token`` becomes
    ``token=[redacted]``, and any run that holds ``secret`` becomes
    ``[redacted]``.
    """

    def blank(match: re.Match[str]) -> str:
        piece = match.group(0)
        plain = _decoded(piece)
        name, equals, _ = plain.partition("=")
        if equals and "token" in _NOT_ALNUM.sub("", name.casefold()):
            return "token=[redacted]"
        if secret and secret in plain:
            return "[redacted]"
        return piece

    return _PIECE.sub(blank, text)


def printable(text: str) -> str:
    """``text`` safe to write to a terminal or a log: every control character escaped.

    Control and format characters (Unicode's C categories: C0, DEL, C1,
    bidirectional and other invisible controls, surrogates, unassigned) and
    line and paragraph separators become ``\\xNN``, ``\\uNNNN`` or
    ``\\UNNNNNNNN``; a backslash becomes ``\\\\``, so an escape in the output
    always means one was made.
    """
    if text.isascii() and text.isprintable() and "\\" not in text:
        return text
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char.isprintable() or char == " ":
            out.append(char)
        else:
            code = ord(char)
            if code < 0x100:
                out.append(f"\\x{code:02x}")
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    return "".join(out)


# -- the server --------------------------------------------------------------------

#: How long a client may take to send its request line and headers, in all.
HEADER_TIMEOUT = 10.0
#: How long the server waits on a silent client once the request is in (or for
#: it to take the answer).
IDLE_TIMEOUT = 30.0
#: How many connections are served at once; more wait in the listen queue.
MAX_CONNECTIONS = 64
# How many connections the kernel may hold waiting to be accepted: enough for
# a burst of subscribers, so that none is reset.
_LISTEN_BACKLOG = 1024
# Statuses that carry no body and so no Content-Length (RFC 9110 8.6, 15.3.5, 15.4.5).
_BODILESS = ("1", "204", "304")


class _Deadline(io.RawIOBase):
    """A socket's input that gives up when a deadline passes, however slowly bytes come.

    A per-read timeout alone lets a client trickle a byte at a time for ever;
    this bounds the whole request head.
    """

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        self._sock = sock
        self._until = time.monotonic() + seconds

    def extend(self, seconds: float) -> None:
        self._until = time.monotonic() + seconds

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._until - time.monotonic()
        if left <= 0:
            raise TimeoutError("the client took too long to send its request")
        self._sock.settimeout(left)
        return self._sock.recv_into(buffer)


class _ServerHandler(ServerHandler):
    def finish_content(self) -> None:
        # wsgiref adds "Content-Length: 0" to any answer without a body; a
        # 304, a 204 and a 1xx must carry none.
        # typeshed leaves these attributes of wsgiref's BaseHandler undeclared.
        sent: bool = getattr(self, "headers_sent", False)
        status: str = getattr(self, "status", None) or ""
        if not sent and status.startswith(_BODILESS):
            self.send_headers()
            return
        super().finish_content()


class _FeedRequestHandler(WSGIRequestHandler):
    """One request per connection, with a deadline for its head; logs with tokens blanked."""

    secret: str | None = None
    stream: TextIO | None = None
    header_timeout: float = HEADER_TIMEOUT
    timeout = IDLE_TIMEOUT

    def setup(self) -> None:
        super().setup()
        self._deadline = _Deadline(self.connection, self.header_timeout)
        # The reader made by setup() holds a reference that would keep the
        # socket open after the server closes it: replace it, closed.
        self.rfile.close()
        self.rfile = io.BufferedReader(self._deadline)

    def handle(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = self.request_version = self.command = ""
                self.send_error(414)
                return
            if not self.raw_requestline or not self.parse_request():
                return
        except (TimeoutError, ConnectionError) as error:
            self.log_error("request not received: %s", error)
            return
        self._deadline.extend(self.timeout)
        self.connection.settimeout(self.timeout)
        handler = _ServerHandler(
            self.rfile,
            self.wfile,  # type: ignore[arg-type]  # a socket writer, as wsgiref itself passes
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self  # type: ignore[attr-defined]  # wsgiref logs through it
        try:
            handler.run(self.server.get_app())  # type: ignore[attr-defined]
        except (TimeoutError, ConnectionError) as error:
            self.log_error("answer not delivered: %s", error)

    def log_message(self, format: str, *args: object) -> None:
        message = printable(redact(format % args, self.secret))
        out = self.stream or sys.stderr
        out.write(f"{self.address_string()} - [{self.log_date_time_string()}] {message}\n")

    def get_stderr(self) -> TextIO:
        return self.stream or sys.stderr


class FeedServer(ThreadingMixIn, WSGIServer):
    """A threaded WSGI server with a bound on connections and deadlines for slow clients.

    Each connection gets its own thread, up to ``max_connections`` at once;
    the ones past that wait, accepted by the kernel, until a thread is free.
    A client must send its request line and headers within the header
    timeout, so one that stalls or trickles holds only its own thread, and
    only for that long.
    """

    daemon_threads = True
    request_queue_size = _LISTEN_BACKLOG

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[WSGIRequestHandler],
        *,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        self._stopping = threading.Event()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        while not self._slots.acquire(timeout=0.25):
            if self._stopping.is_set():
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that vanished is no news; anything else is written to the
        # log as one escaped line, not a traceback on the terminal.
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        handler = self.RequestHandlerClass
        stream = getattr(handler, "stream", None) or sys.stderr
        stream.write(printable(f"{client_address[0]} - error: {error!r}") + "\n")

    def shutdown(self) -> None:
        self._stopping.set()
        super().shutdown()


class _FeedServer6(FeedServer):
    address_family = socket.AF_INET6


# The longest timeout accepted: a socket cannot wait for ever, and a day is
# already far past any client worth waiting for.
_LONGEST = 86_400.0


def _positive(value: object, what: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 < value <= _LONGEST
    ):
        raise ConfigError(
            f"{what} must be a number of seconds above 0 and up to {_LONGEST:.0f}, not {value!r}"
        )
    return float(value)


def make_feed_server(
    app: WSGIApplication,
    host: str,
    port: int,
    *,
    token: str | None,
    log: TextIO | None = None,
    max_connections: int = MAX_CONNECTIONS,
    header_timeout: float = HEADER_TIMEOUT,
    timeout: float = IDLE_TIMEOUT,
) -> FeedServer:
    """A threaded server for ``app`` bound to ``host``:``port``, not yet serving.

    Without a ``token`` it refuses (CadenceError) any address but loopback:
    an open feed must not be reachable from the network. Request lines are
    logged to ``log`` (standard error by default) with every token blanked
    out and control characters escaped. Port 0 picks a free port; the
    server's ``server_port`` says which.

    Up to ``max_connections`` requests are served at once, each in its own
    thread; a client has ``header_timeout`` seconds to send its request
    line and headers, and ``timeout`` seconds of silence after that.
    """
    if token is None and not _is_loopback(host):
        raise CadenceError(
            f"refusing to serve the feed on {host!r} without a token; "
            "set a token or serve on 127.0.0.1"
        )
    if isinstance(max_connections, bool) or not isinstance(max_connections, int):
        raise ConfigError(f"max_connections must be a whole number, not {max_connections!r}")
    if max_connections < 1:
        raise ConfigError(f"max_connections must be 1 or more, not {max_connections}")
    handler = type(
        "FeedRequestHandler",
        (_FeedRequestHandler,),
        {
            "secret": token or None,
            "stream": log,
            "header_timeout": _positive(header_timeout, "header_timeout"),
            "timeout": _positive(timeout, "timeout"),
        },
    )
    server_class = _FeedServer6 if ":" in host else FeedServer
    server = server_class((host.strip("[]"), port), handler, max_connections=max_connections)
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
    """Serve ``app`` on ``host``:``port`` until interrupted; see ``make_feed_server``."""
    server = make_feed_server(app, host, port, token=token, log=log)
    with server, contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
