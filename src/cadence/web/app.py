"""The web app: who is due today, the people, one person's year, the roster; a WSGI application.

Pages are Jinja2 templates with autoescaping, so whatever a contact's name
holds is shown as text. The feed's token opens a session: ``/?token=...``
or the login form sets an HttpOnly, SameSite=Strict cookie (Secure when the
request came over TLS). Every form carries a CSRF token derived from the
session; a POST without the right one, or from another origin, is refused.
Every action is a plain form, so the app works without JavaScript, and no
asset comes from anywhere but the package.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode

import jinja2
from markupsafe import Markup

from cadence import _actions as actions
from cadence.core.durations import parse_moment
from cadence.core.errors import CadenceError
from cadence.core.reminders import Agenda
from cadence.l10n import ENGLISH, N_, Localizer, Words
from cadence.web import charts, pages
from cadence.web.feed import FEED_PATH

__all__ = ["WebApp", "make_web_app"]

#: The session cookie's name.
COOKIE = "cadence_session"
#: A session's cookie for the login form alone, before the token is given.
LOGIN_COOKIE = "cadence_login"
#: How long a session lasts without being used.
SESSION_IDLE = timedelta(hours=12)
#: How many sessions are kept at once; the oldest go first.
MAX_SESSIONS = 1000
#: The largest form accepted, in bytes.
MAX_FORM = 64 * 1024
#: How long the whole store's snapshot (People, Roster) is kept, in seconds.
SNAPSHOT_TTL = 60.0
#: How long the agenda (Today) is kept when nothing on the page changed, in seconds.
AGENDA_TTL = 30.0
#: Channels offered in the forms, besides the contact's own.
CHANNELS = ("email", "phone", "video", "text", "meeting", "letter", "other")

_STATIC = {"style.css": "text/css; charset=utf-8"}
_SECURITY_HEADERS = [
    (
        "Content-Security-Policy",
        # No script at all; pygal's SVG carries its own style element.
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    # "same-origin" rather than "no-referrer": with none, browsers send "Origin: null" on
    # our own forms, and the origin check below would refuse them.
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
]

_Headers = list[tuple[str, str]]
_StartResponse = Callable[..., Any]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Request:
    """What a handler needs of one request."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        raw = environ.get("PATH_INFO", "") or "/"
        # wsgiref hands the path as latin-1 decoded bytes.
        self.path = raw.encode("latin-1", "replace").decode("utf-8", "replace")
        self.query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        self.cookies = _cookies(environ.get("HTTP_COOKIE", ""))
        self.secure = environ.get("wsgi.url_scheme") == "https"
        self.form: dict[str, str] = {}

    def read_form(self) -> None:
        try:
            length = int(self.environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_FORM:
            raise _Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, N_("the form is too large"))
        body = self.environ["wsgi.input"].read(length) if length > 0 else b""
        text = body.decode("utf-8", "replace")
        self.form = {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}


class _Refused(Exception):
    def __init__(self, status: HTTPStatus, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def _cookies(header: str) -> dict[str, str]:
    found = {}
    for piece in header.split(";"):
        name, equals, value = piece.strip().partition("=")
        if equals:
            found[name] = value
    return found


class _Sessions:
    """Sessions held in memory: an id, when it was last used, and a message to show once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._said: dict[str, tuple[str, str]] = {}

    def new(self) -> str:
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._seen[sid] = time.monotonic()
            while len(self._seen) > MAX_SESSIONS:
                old, _ = self._seen.popitem(last=False)
                self._said.pop(old, None)
        return sid

    def valid(self, sid: str | None) -> bool:
        if not sid:
            return False
        with self._lock:
            seen = self._seen.get(sid)
            if seen is None or time.monotonic() - seen > SESSION_IDLE.total_seconds():
                self._seen.pop(sid, None)
                return False
            self._seen[sid] = time.monotonic()
            self._seen.move_to_end(sid)
            return True

    def end(self, sid: str) -> None:
        with self._lock:
            self._seen.pop(sid, None)
            self._said.pop(sid, None)

    def say(self, sid: str, kind: str, text: str) -> None:
        with self._lock:
            self._said[sid] = (kind, text)

    def said(self, sid: str) -> tuple[str, str] | None:
        with self._lock:
            return self._said.pop(sid, None)


def _local(path: str) -> str:
    """``path`` if it is a path of this site, else ``/``: a redirect never leaves the site."""
    if path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/"


class WebApp:
    """The web app as a WSGI application; ``/feed.ics`` is passed to ``feed``.

    ``store`` is the store the pages read and the actions write;
    ``token`` is the secret that opens a session (None: loopback only, no
    login); ``within`` how far ahead the Today page looks; ``clock`` gives
    the moment pages are shown at.
    """

    def __init__(
        self,
        store: Any,
        *,
        token: str | None,
        feed: Callable[..., Iterable[bytes]] | None = None,
        within: timedelta = timedelta(days=7),
        clock: Callable[[], datetime] = _utc_now,
        name: str = "cadence",
        words: Words = ENGLISH,
    ) -> None:
        self._store = store
        self._words = words
        self._token = token
        self._feed = feed
        self._within = within
        self._clock = clock
        self._name = name
        # A per-process secret: CSRF tokens are MACs of the session id under it.
        self._secret = secrets.token_bytes(32)
        self._sessions = _Sessions()
        self._env = jinja2.Environment(
            loader=jinja2.PackageLoader("cadence.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.i18n"],
        )
        # The page's own words ({% trans %}, _()) come from the same catalog as the
        # reminders'; new-style, so that a value put into a message is escaped.
        catalog = words.catalog
        self._env.install_gettext_callables(  # type: ignore[attr-defined]
            catalog.gettext, catalog.ngettext, newstyle=True
        )
        self._env.filters["percent"] = lambda v: "-" if v is None else words.percent(v)
        # A day as the page's language writes it (ISO 8601 in the core's English).
        self._env.filters["day"] = words.date
        # A day with its month in words: "01 Dec 2026" in the core's English.
        self._env.filters["long_day"] = (
            (lambda d: f"{d:%d %b %Y}") if words.locale is None else words.date
        )
        self._env.filters["quote"] = lambda v: quote(v, safe="")
        self._snapshot = pages.Cached(self._take_snapshot, SNAPSHOT_TTL)
        # After a form changed something, Today must show it: it waits for a new agenda.
        self._agenda = pages.Cached(self._take_agenda, AGENDA_TTL, wait_after_change=True)

    # -- the WSGI entry point ------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: _StartResponse) -> Iterable[bytes]:
        request = _Request(environ)
        if request.path == FEED_PATH and self._feed is not None:
            return self._feed(environ, start_response)
        try:
            status, headers, body = self._dispatch(request)
        except _Refused as refused:
            status, headers, body = self._page(
                request,
                "refused.html",
                status=refused.status,
                reason=self._words.gettext(refused.text),
            )
        headers = [*headers, *_SECURITY_HEADERS, ("Content-Length", str(len(body)))]
        start_response(f"{status.value} {status.phrase}", headers)
        return [] if request.method == "HEAD" else [body]

    def _dispatch(self, request: _Request) -> tuple[HTTPStatus, _Headers, bytes]:
        if request.path.startswith("/static/"):
            return self._static(request.path.removeprefix("/static/"))
        if request.method not in ("GET", "HEAD", "POST"):
            raise _Refused(HTTPStatus.METHOD_NOT_ALLOWED, N_("that method is not allowed"))
        if request.path == "/login":
            return self._login(request)
        sid = request.cookies.get(COOKIE)
        if not self._sessions.valid(sid):
            given = request.query.get("token")
            if request.path == "/" and given is not None and self._right(given):
                return self._open_session(request)
            if self._token is not None:
                return _redirect("/login")
            # No token (loopback only): a session is opened on first sight.
            return self._open_session(request, to=request.path)
        assert sid is not None
        if request.method == "POST":
            request.read_form()
            self._check_post(request, sid)
            return self._act(request, sid)
        return self._show(request, sid)

    # -- sessions --------------------------------------------------------------------

    def _right(self, given: str) -> bool:
        if self._token is None:
            return True
        return hmac.compare_digest(given.encode(), self._token.encode())

    def _cookie(self, request: _Request, name: str, value: str, *, ends: bool = False) -> str:
        parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
        if request.secure:
            parts.append("Secure")
        if ends:
            parts.append("Max-Age=0")
        return "; ".join(parts)

    def _open_session(self, request: _Request, to: str = "/") -> tuple[HTTPStatus, _Headers, bytes]:
        sid = self._sessions.new()
        status, headers, body = _redirect(_local(to) if request.method != "POST" else "/")
        headers.append(("Set-Cookie", self._cookie(request, COOKIE, sid)))
        return status, headers, body

    def _csrf(self, sid: str) -> str:
        return hmac.new(self._secret, sid.encode(), hashlib.sha256).hexdigest()

    def _check_post(self, request: _Request, sid: str) -> None:
        origin = request.environ.get("HTTP_ORIGIN")
        host = request.environ.get("HTTP_HOST", "")
        if origin is not None and origin.split("://", 1)[-1] != host:
            raise _Refused(HTTPStatus.FORBIDDEN, N_("refused: the form came from another site"))
        given = request.form.get("csrf", "")
        if not hmac.compare_digest(given.encode(), self._csrf(sid).encode()):
            raise _Refused(HTTPStatus.FORBIDDEN, N_("refused: the form was stale or forged"))

    def _login(self, request: _Request) -> tuple[HTTPStatus, _Headers, bytes]:
        pre = request.cookies.get(LOGIN_COOKIE) or ""
        if request.method == "POST":
            request.read_form()
            given = request.form.get("csrf", "")
            if not pre or not hmac.compare_digest(
                given.encode(), self._csrf("login:" + pre).encode()
            ):
                raise _Refused(HTTPStatus.FORBIDDEN, N_("refused: the form was stale or forged"))
            if self._right(request.form.get("token", "")):
                status, headers, body = self._open_session(request)
                headers.append(("Set-Cookie", self._cookie(request, LOGIN_COOKIE, "", ends=True)))
                return status, headers, body
            error = self._words.gettext("That is not the token.")
            status = HTTPStatus.FORBIDDEN
        else:
            error = ""
            status = HTTPStatus.OK
        pre = pre or secrets.token_urlsafe(16)
        status, headers, body = self._page(
            request, "login.html", status=status, csrf=self._csrf("login:" + pre), error=error
        )
        headers.append(("Set-Cookie", self._cookie(request, LOGIN_COOKIE, pre)))
        return status, headers, body

    # -- pages -----------------------------------------------------------------------

    def _page(
        self, request: _Request, template: str, *, status: HTTPStatus = HTTPStatus.OK, **values: Any
    ) -> tuple[HTTPStatus, _Headers, bytes]:
        values.setdefault("csrf", "")
        values.setdefault("said", None)
        values.setdefault("signed_in", False)
        words = self._words
        lang = "en" if words.locale is None else words.locale.replace("_", "-")
        html = self._env.get_template(template).render(
            name=self._name, path=request.path, words=words, lang=lang, **values
        )
        return status, [("Content-Type", "text/html; charset=utf-8")], html.encode("utf-8")

    def _show(self, request: _Request, sid: str) -> tuple[HTTPStatus, _Headers, bytes]:
        now = self._clock()
        common: dict[str, Any] = {
            "csrf": self._csrf(sid),
            "said": self._sessions.said(sid),
            "signed_in": self._token is not None,
            "now": now,
            "channels": CHANNELS,
            "here": request.path + ("?" + urlencode(request.query) if request.query else ""),
        }
        path = request.path
        if path == "/":
            today = pages.today_page(self._agenda.get(), show=request.query.get("show", ""))
            common["now"] = today.now
            return self._page(
                request,
                "today.html",
                today=today,
                when=lambda r, now: pages.when_words(r, now, self._words),
                sections=pages.TODAY_SECTIONS,
                **common,
            )
        if path == "/people":
            try:
                number = int(request.query.get("page", "1"))
            except ValueError:
                number = 1
            tag = request.query.get("tag", "")
            search = request.query.get("q", "")
            people = pages.people_page(
                self._store,
                self._snapshot.get()[0],
                now=now,
                tag=tag,
                search=search,
                page=number,
                words=self._words,
            )
            return self._page(
                request,
                "people.html",
                people=people,
                tag=tag,
                q=search,
                trends=pages.TRENDS,
                bands=pages.BANDS,
                **common,
            )
        if path.startswith("/people/"):
            contact_id = unquote(path.removeprefix("/people/"))
            try:
                person = pages.person_page(self._store, contact_id, now=now, words=self._words)
            except CadenceError:
                raise _Refused(HTTPStatus.NOT_FOUND, N_("no such contact")) from None
            chart = charts.timeline_chart(
                person.touches,
                person.due_dates,
                person.health_points,
                person.start,
                now,
                words=self._words,
            )
            return self._page(
                request,
                "person.html",
                person=person,
                chart=chart,
                trends=pages.TRENDS,
                bands=pages.BANDS,
                **common,
            )
        if path == "/roster":
            taken, chart = self._snapshot.get()
            history = taken.history
            return self._page(request, "roster.html", history=history, chart=chart, **common)
        raise _Refused(HTTPStatus.NOT_FOUND, N_("no such page"))

    def _take_agenda(self) -> Agenda:
        return self._store.agenda(now=self._clock(), within=self._within)  # type: ignore[no-any-return]

    def _take_snapshot(self) -> tuple[pages.Snapshot, Markup]:
        # The roster chart changes only with the snapshot: drawn once for it.
        taken = pages.snapshot(self._store, now=self._clock())
        return taken, charts.roster_chart(
            taken.history.weeks, taken.history.counts, words=self._words
        )

    def _static(self, name: str) -> tuple[HTTPStatus, _Headers, bytes]:
        kind = _STATIC.get(name)
        if kind is None:
            raise _Refused(HTTPStatus.NOT_FOUND, N_("no such file"))
        body = files("cadence.web").joinpath("static", name).read_bytes()
        return HTTPStatus.OK, [("Content-Type", kind), ("Cache-Control", "max-age=3600")], body

    # -- actions ---------------------------------------------------------------------

    def _act(self, request: _Request, sid: str) -> tuple[HTTPStatus, _Headers, bytes]:
        form = request.form
        back = _local(form.get("next", "/"))
        if request.path == "/logout":
            self._sessions.end(sid)
            status, headers, body = _redirect("/login" if self._token else "/")
            headers.append(("Set-Cookie", self._cookie(request, COOKIE, "", ends=True)))
            return status, headers, body
        now = self._clock()
        store = self._store
        try:
            if request.path == "/done":
                key, reminder = actions.planned(store, form.get("key", ""), now=now)
                touch = actions.finish(
                    store,
                    key,
                    reminder,
                    now=now,
                    channel=form.get("channel") or None,
                    note=form.get("note", ""),
                )
                said = (
                    self._words.gettext(
                        "Logged a {channel} touch with {name}.",
                        channel=touch.channel,
                        name=reminder.contact.name,
                    )
                    if touch is not None
                    else self._words.gettext(
                        "Dismissed: {title}.", title=self._words.title(reminder)
                    )
                )
            elif request.path == "/snooze":
                key, reminder = actions.planned(store, form.get("key", ""), now=now)
                until = self._snooze_until(form, reminder, now)
                actions.snooze(store, key, until)
                said = self._words.gettext(
                    "Snoozed until {moment}: {title}.",
                    moment=self._moment(until),
                    title=self._words.title(reminder),
                )
            elif request.path == "/log":
                person = store.get_contact(form.get("contact", ""))
                at_text = form.get("at", "").strip()
                at = parse_moment(at_text, default_zone=person.timezone) if at_text else None
                touch = actions.log_touch(
                    store,
                    person,
                    now=now,
                    at=at,
                    said=at_text or self._words.gettext("the moment given"),
                    channel=form.get("channel") or None,
                    note=form.get("note", ""),
                    bulk=form.get("bulk") == "on",
                    inbound=form.get("direction") == "in",
                )
                said = self._words.gettext(
                    "Logged a {channel} touch with {name}.", channel=touch.channel, name=person.name
                )
            elif request.path == "/edit":
                person = store.get_contact(form.get("contact", ""))
                wanted = {t.strip() for t in form.get("tags", "").split(",") if t.strip()}
                every = form.get("cadence", "").strip()
                changed, saved = actions.edit_contact(
                    store,
                    person,
                    channel=form.get("channel", ""),
                    add_tags=wanted - person.tags,
                    remove_tags=person.tags - wanted,
                    every=every or None,
                    no_cadence=not every and form.get("own") == "remove",
                )
                said = (
                    self._words.gettext("Saved {name}.", name=changed.name)
                    if saved
                    else self._words.gettext("Nothing changed for {name}.", name=changed.name)
                )
            else:
                raise _Refused(HTTPStatus.NOT_FOUND, N_("no such action"))
        except CadenceError as error:
            self._sessions.say(sid, "error", str(error))
            return _redirect(back)
        self._snapshot.forget()
        self._agenda.forget()
        self._sessions.say(sid, "ok", said)
        return _redirect(back)

    def _moment(self, when: datetime) -> str:
        """A moment in a flash message: the locale's date and time, else the English of old."""
        if isinstance(self._words, Localizer):
            return self._words.moment(when)
        return f"{when:%a %d %b %Y %H:%M %Z}"

    def _snooze_until(self, form: dict[str, str], reminder: Any, now: datetime) -> datetime:
        today = now.astimezone(reminder.contact.zone).date()
        span = form.get("for", "")
        if span == "day":
            text = (today + timedelta(days=1)).isoformat()
        elif span == "week":
            text = (today + timedelta(days=7)).isoformat()
        else:
            text = form.get("until", "")
            if not text.strip():
                raise CadenceError(self._words.gettext("pick a date to snooze until"))
        return actions.snooze_moment(text, reminder, now=now)


def _redirect(to: str) -> tuple[HTTPStatus, _Headers, bytes]:
    return HTTPStatus.SEE_OTHER, [("Location", to)], b""


def make_web_app(
    store: Any,
    *,
    token: str | None,
    feed: Callable[..., Iterable[bytes]] | None = None,
    within: timedelta = timedelta(days=7),
    clock: Callable[[], datetime] = _utc_now,
    name: str = "cadence",
    words: Words = ENGLISH,
) -> WebApp:
    """The web app over ``store`` as a WSGI application, passing ``/feed.ics`` to ``feed``.

    ``token`` opens a session (None leaves the pages open, which ``serve``
    allows on loopback only); ``within`` is how far ahead the Today page
    looks; ``clock`` gives the moment pages are shown at. ``words`` words
    reminders, drift's reasons and dates (``cadence.l10n``; the core's
    English by default).
    """
    return WebApp(store, token=token, feed=feed, within=within, clock=clock, name=name, words=words)
