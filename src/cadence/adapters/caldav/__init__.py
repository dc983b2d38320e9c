"""The ``caldav`` adapter: the route's agenda written into a calendar on a CalDAV server.

Each reminder is an event of its own (RFC 4791), its UID the reminder's key,
at ``<calendar>/<key>.ics``, rendered by ``event_calendar`` (the feed's event,
with an alarm). A run asks the server what changed in the calendar since the
last run (RFC 6578's ``sync-collection`` report, from the sync token kept in
the store), or, the first time or where the server has no usable token, lists
the calendar's ETags (a PROPFIND of depth 1); then it writes only what changed:

- a new event is created with ``If-None-Match: *``, so it never replaces
  anything already there;
- an event whose content changed is replaced with ``If-Match`` and the ETag
  it was written with;
- the event of a reminder that left the agenda (done, snoozed past the
  horizon, satisfied by a touch) is deleted, again with ``If-Match``.

What was written (href, ETag, digests) is kept per route and UID in the
store, one event at a time, so a run stopped halfway resumes where it
stopped; the sync token is kept only once a run has gone through every
event, so what a run stopped halfway did not look at is asked about again.
An event whose ETag on the server is not the one written was changed (or
deleted) by the calendar's owner: it is left as they made it, never
written again, and reported once. Events the adapter did not create
are never touched; one of its own is also recognised, when the store lost
track of it (or the route was renamed), by its UID and its
``X-CADENCE-ROUTE`` property.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any, Final
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit
from xml.sax.saxutils import escape

import icalendar

from cadence._delivery import Published, PublishLedger
from cadence.adapters import _settings as check
from cadence.adapters.ical.render import event_calendar, event_inputs
from cadence.core.durations import parse_duration
from cadence.core.errors import CadenceError, ConfigError
from cadence.core.reminders import Agenda, Reminder
from cadence.l10n import ENGLISH, Words, route_words
from cadence.sources._dav import (
    Response,
    checked_url,
    collection,
    dav,
    login_and_trust,
    loopback,
    multistatus,
    parse_xml,
    shown_url,
)
from cadence.sources.calendars import CalDavHttp

__all__ = ["DEFAULT_TIMEOUT", "ROUTE_PROPERTY", "CalDavAdapter", "caldav_adapter"]

#: Seconds to wait for the server to connect, and then between bytes of an answer.
DEFAULT_TIMEOUT: Final = 30.0
#: The event property naming the route that wrote it.
ROUTE_PROPERTY: Final = "X-CADENCE-ROUTE"

_CALDAV = "urn:ietf:params:xml:ns:caldav"
_ICS = {"Content-Type": "text/calendar; charset=utf-8"}


def _cal(name: str) -> str:
    return f"{{{_CALDAV}}}{name}"


def _propfind(*names: str) -> bytes:
    props = "".join(
        f"<{'d' if n.startswith('{DAV:}') else 'c'}:{n.rpartition('}')[2]}/>" for n in names
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<d:propfind xmlns:d="DAV:" xmlns:c="{_CALDAV}"><d:prop>{props}</d:prop></d:propfind>'
    ).encode()


_ETAGS = _propfind(dav("getetag"), dav("resourcetype"))
# The full listing asks for the calendar's sync token as well: the next run starts from it.
_LISTING = _propfind(dav("getetag"), dav("resourcetype"), dav("sync-token"))
# A truncated sync answer (507 on the calendar itself) is followed from the token it
# came with; past this many rounds the server is taken to be looping.
_MAX_SYNC_ROUNDS = 100
_DISCOVERY = _propfind(
    dav("resourcetype"),
    dav("displayname"),
    dav("current-user-principal"),
    _cal("calendar-home-set"),
)


def _url(value: object) -> str:
    parts = checked_url(
        value,
        wrong="the caldav route needs a url: a calendar's, or its server's",
        schemes="https",
        userinfo="url must not hold a user or password: use username and password_env",
    )
    assert parts.hostname is not None
    if parts.scheme.lower() == "http" and not loopback(parts.hostname):
        raise ConfigError("url must use https: http is only for this machine")
    if parts.query or parts.fragment:
        raise ConfigError("url must have no query or fragment")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), collection(parts.path), "", ""))


def _sync_body(token: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:">'
        f"<d:sync-token>{escape(token)}</d:sync-token><d:sync-level>1</d:sync-level>"
        "<d:prop><d:getetag/></d:prop></d:sync-collection>"
    ).encode()


def _alarm(value: object) -> timedelta | None:
    if value is False:
        return None
    if value is True:
        raise ConfigError("alarm must be a duration before the due moment ('15m'), or false")
    try:
        return parse_duration(value)
    except CadenceError as error:
        raise ConfigError(f"alarm: {error}") from None


def _etag(text: str | None) -> str | None:
    # Weak and strong ETags compare by their opaque part: some servers weaken them in listings.
    if not text:
        return None
    text = text.strip()
    return text[2:] if text.startswith("W/") else text


class CalDavAdapter:
    """Publishes the route's agenda into one calendar of a CalDAV server (see the module)."""

    def __init__(
        self,
        url: str,
        *,
        calendar: str | None = None,
        auth: tuple[str, str] | None = None,
        alarm: timedelta | None = timedelta(0),
        timeout: float = DEFAULT_TIMEOUT,
        ca_file: str | None = None,
        words: Words = ENGLISH,
    ) -> None:
        self.url = url
        self.calendar = calendar
        self.alarm = alarm
        #: The events' words (``cadence.l10n``); hrefs and UIDs are the same in every language.
        self.words = words
        self._http = CalDavHttp(url, auth=auth, timeout=timeout, ca_file=ca_file)
        self._found: str | None = None

    def __repr__(self) -> str:
        return f"<CalDavAdapter {shown_url(self.url)}>"

    def close(self) -> None:
        """Close the HTTP session and its connections."""
        self._http.session.close()

    def publish(self, agenda: Agenda, *, ledger: PublishLedger) -> list[str]:
        """Bring the calendar in step with ``agenda``; return what to tell the user once.

        Raises CadenceError, in one line, when the server cannot be reached,
        refuses the login or access, or fails: what was written before that
        is kept in ``ledger``, the rest is written on the next run.
        """
        home = self._calendar_url()
        kept = ledger.items()
        on_server, token = self._server_state(home, ledger.sync_token(home), kept)
        notes: list[str] = []
        wanted: dict[str, Reminder] = {}
        for reminder in agenda:
            wanted.setdefault(reminder.key, reminder)
        properties = {ROUTE_PROPERTY: ledger.route}
        for key, reminder in wanted.items():
            item = kept.get(key)
            if item is not None and item.state == "theirs":
                continue
            # The language is among the inputs: another locale rewrites the same events in place.
            inputs = event_inputs(
                reminder,
                now=agenda.now,
                alarm=self.alarm,
                properties=properties,
                words=self.words,
            )
            if item is not None:
                there = on_server.get(unquote(item.href), _MISSING)
                if there != item.etag:
                    ledger.keep(_theirs(item))
                    notes.append(_changed_there(reminder.title, item.href, there is _MISSING))
                    continue
                if item.inputs == inputs:
                    continue
            body = event_calendar(
                reminder,
                now=agenda.now,
                alarm=self.alarm,
                properties=properties,
                words=self.words,
            )
            digest = _digest(body)
            if item is not None and item.digest == digest:
                ledger.keep(_evolve(item, inputs=inputs))
                continue
            href = item.href if item is not None else urlsplit(home).path + quote(key) + ".ics"
            written = self._put(home, href, body, item, key)
            if written is None:
                ledger.keep(Published(key, href, None, digest, inputs, "theirs"))
                notes.append(_changed_there(reminder.title, href, False))
                continue
            ledger.keep(Published(key, href, written, digest, inputs))
        for key, item in sorted(kept.items()):
            if key in wanted:
                continue
            there = on_server.get(unquote(item.href), _MISSING)
            if (
                item.state == "ours"
                and there is not _MISSING
                and (there != item.etag or not self._delete(home, item))
            ):
                notes.append(
                    f"left the event {item.href} as the calendar's owner changed it, "
                    "though its reminder is gone"
                )
            ledger.forget(key)
        # Only now: a run stopped before this point is asked about again from the older token.
        ledger.keep_sync_token(home, token)
        return notes

    # -- the calendar --------------------------------------------------------------

    def _calendar_url(self) -> str:
        if self._found is not None:
            return self._found
        here = self._http.first(self.url, _DISCOVERY, missing_ok=self.calendar is not None)
        if here is not None and here.is_type(_cal("calendar")):
            if self.calendar is not None and here.text(dav("displayname")) != self.calendar:
                raise ConfigError(
                    f"caldav: {shown_url(self.url)} is a calendar already: leave out calendar, "
                    "or give the server's URL"
                )
            self._found = self.url
            return self.url
        if self.calendar is None:
            raise ConfigError(
                f"caldav: {shown_url(self.url)} is not a calendar: give a calendar's URL, "
                "or name one with calendar"
            )
        for url in self._calendars(here):
            self._found = url
            return url
        raise ConfigError(
            f"caldav: found no calendar called {self.calendar!r} at {shown_url(self.url)}"
        )

    def _calendars(self, here: Response | None) -> Iterator[str]:
        """The calendars of the login's home whose display name is ``calendar``."""
        principal = here.href_in(dav("current-user-principal")) if here is not None else None
        if principal is None:
            known = self._http.first(
                urljoin(self.url, "/.well-known/caldav"), _DISCOVERY, missing_ok=True
            )
            principal = known.href_in(dav("current-user-principal")) if known else None
        home = here.href_in(_cal("calendar-home-set")) if here is not None else None
        if home is None and principal is not None:
            mine = self._http.first(urljoin(self.url, principal), _DISCOVERY, missing_ok=True)
            home = mine.href_in(_cal("calendar-home-set")) if mine is not None else None
        if home is None:
            return
        home_url = collection(urljoin(self.url, home))
        for member in self._http.multistatus("PROPFIND", home_url, _DISCOVERY, "1"):
            if member.is_type(_cal("calendar")) and member.text(dav("displayname")) == (
                self.calendar
            ):
                yield collection(urljoin(home_url, member.href))

    def _server_state(
        self, home: str, token: str | None, kept: dict[str, Published]
    ) -> tuple[dict[str, str | None], str | None]:
        """The path and ETag of each event in the calendar that matters, and the token to keep.

        With a token the server still accepts, that is what the ledger
        recorded, updated with what changed since: the events the route wrote
        since then come back with the ETags it recorded, those changed or
        deleted by anyone else with theirs (or not at all). Otherwise the
        whole calendar is listed.
        """
        changes = None if token is None else self._changes(home, token)
        if changes is None:
            return self._listing(home)
        changed, token = changes
        found = {unquote(item.href): item.etag for item in kept.values()}
        for path, etag in changed.items():
            if etag is _MISSING:
                found.pop(path, None)
            else:
                found[path] = etag
        return found, token

    def _listing(self, home: str) -> tuple[dict[str, str | None], str | None]:
        """The path and ETag of every event in the calendar, from one PROPFIND, and its token."""
        found: dict[str, str | None] = {}
        token = None
        own = unquote(urlsplit(home).path)
        for response in self._http.multistatus("PROPFIND", home, _LISTING, "1"):
            path = unquote(urlsplit(urljoin(home, response.href)).path)
            if path == own:
                token = (response.text(dav("sync-token")) or "").strip() or None
            elif not response.is_type(dav("collection")):
                found[path] = _etag(response.text(dav("getetag")))
        return found, token

    def _changes(self, home: str, token: str) -> tuple[dict[str, Any], str] | None:
        """The events changed since ``token`` (RFC 6578), by path, and the token to keep.

        Each path maps to the event's ETag, or to _MISSING once it was
        deleted. None when the server does not answer from that token (it
        expired, or the server has no sync-collection report): any 4xx, as
        RFC 6578's 403 or 409 for a token no longer valid, a 501, or a 207
        that gives no new token; the whole calendar is then listed instead
        (and a listing refused too is the error it is).
        """
        own = unquote(urlsplit(home).path)
        changed: dict[str, Any] = {}
        for _ in range(_MAX_SYNC_ROUNDS):
            answer = self._http.request("REPORT", home, _sync_body(token), "0", unsupported_ok=True)
            if 400 <= answer.status_code < 500 or answer.status_code == 501:
                return None
            _check(answer.status_code, "REPORT", home, (207,))
            try:
                responses, new_token = multistatus(parse_xml(answer.content))
            except ValueError as error:
                raise CadenceError(
                    f"caldav: unreadable answer from {shown_url(home)}: {error}"
                ) from None
            if new_token is None:
                return None
            truncated = False
            for response in responses:
                path = unquote(urlsplit(urljoin(home, response.href)).path)
                if path == own:
                    truncated = truncated or response.status == 507
                elif response.status == 404:
                    changed[path] = _MISSING
                else:
                    etag = response.text(dav("getetag"))
                    url = urljoin(home, response.href)
                    # A server may leave the ETag out of a sync answer: ask for it.
                    changed[path] = _etag(etag) if etag else self._etag_of(url)
            token = new_token
            if not truncated:
                return changed, token
        raise CadenceError(f"caldav: {shown_url(home)} kept truncating its sync-collection answer")

    # -- writing -------------------------------------------------------------------

    def _put(
        self, home: str, href: str, body: bytes, item: Published | None, key: str
    ) -> str | None:
        """PUT ``body`` at ``href`` on its condition; its new ETag, or None on a conflict."""
        url = urljoin(home, href)
        headers = dict(_ICS)
        if item is None:
            headers["If-None-Match"] = "*"
        elif item.etag is not None:
            headers["If-Match"] = item.etag
        answer = self._http.request("PUT", url, body, headers=headers)
        if answer.status_code == 412 and item is None:
            # Something is there already: ours when the store lost track of it.
            etag = self._own_etag(url, key)
            if etag is None:
                return None
            headers = {**_ICS, "If-Match": etag}
            answer = self._http.request("PUT", url, body, headers=headers)
        if answer.status_code == 412:
            return None
        _check(answer.status_code, "PUT", url, (200, 201, 204))
        return _etag(answer.headers.get("ETag")) or self._etag_of(url)

    def _own_etag(self, url: str, key: str) -> str | None:
        """The ETag of the event at ``url`` when a cadence route wrote it, else None.

        Any route's mark will do: a renamed route (or a store that lost
        track) takes its events back rather than leaving copies.
        """
        answer = self._http.request("GET", url, None, headers={})
        if answer.status_code != 200:
            return None
        try:
            calendar = icalendar.Calendar.from_ical(answer.content)
        except ValueError:
            return None
        for event in calendar.walk("VEVENT"):
            if str(event.get("UID", "")) == key and ROUTE_PROPERTY in event:
                return _etag(answer.headers.get("ETag"))
        return None

    def _etag_of(self, url: str) -> str | None:
        # A server may leave the ETag out of its answer to a PUT (RFC 4791 5.3.4).
        found = self._http.first(url, _ETAGS, missing_ok=True)
        return None if found is None else _etag(found.text(dav("getetag")))

    def _delete(self, home: str, item: Published) -> bool:
        """Delete the event of ``item``; False when its owner changed it meanwhile."""
        url = urljoin(home, item.href)
        headers = {"If-Match": item.etag} if item.etag is not None else {}
        answer = self._http.request("DELETE", url, None, headers=headers)
        if answer.status_code == 412:
            return False
        _check(answer.status_code, "DELETE", url, (200, 204, 404))
        return True


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _evolve(item: Published, *, inputs: str) -> Published:
    return Published(item.uid, item.href, item.etag, item.digest, inputs, item.state)


def _theirs(item: Published) -> Published:
    return Published(item.uid, item.href, item.etag, item.digest, item.inputs, "theirs")


def _changed_there(title: str, href: str, deleted: bool) -> str:
    how = "deleted" if deleted else "changed"
    return (
        f"the event {title!r} ({href}) was {how} in the calendar: kept as it is there, "
        "and no longer updated"
    )


def _check(status: int, method: str, url: str, fine: Sequence[int]) -> None:
    if status in fine:
        return
    if status == 403:
        raise CadenceError(f"caldav: the server refused access to {shown_url(url)} (HTTP 403)")
    raise CadenceError(f"caldav: unexpected answer HTTP {status} to {method} {shown_url(url)}")


def caldav_adapter(
    *,
    url: str,
    calendar: str | None = None,
    username: str | None = None,
    password_env: str | None = None,
    alarm: object = "0m",
    timeout: float = DEFAULT_TIMEOUT,
    ca_file: str | None = None,
    locale: str | None = None,
    **unknown: Any,
) -> CalDavAdapter:
    """Build the ``caldav`` adapter from a route's settings.

    ``url`` is a calendar's URL, or its server's (the root, a principal, a
    calendar home) with ``calendar`` naming one by its display name.
    ``username`` and ``password_env`` (the environment variable holding the
    password, or an app-specific password) go together; ``alarm`` is how
    long before the due moment the event's alarm rings ("0m", "15m", "1h"),
    or false for none; ``timeout`` is in seconds; ``ca_file`` a file of
    certificates to trust; ``locale`` the language of the events' titles
    and descriptions (default: ``CADENCE_LOCALE``, else the platform's).
    Bad settings raise ConfigError naming the setting, never the password.
    """
    if unknown:
        first = sorted(unknown)[0]
        raise ConfigError(
            f"unknown caldav setting {first!r} (known: url, calendar, username, "
            "password_env, alarm, timeout, ca_file, locale)"
        )
    words = route_words(locale, "caldav")
    checked = _url(url)
    auth, trusted = login_and_trust(checked, username, password_env, ca_file)
    return CalDavAdapter(
        checked,
        calendar=None if calendar is None else check.text("calendar", calendar),
        auth=auth,
        alarm=_alarm(alarm),
        timeout=check.timeout(timeout),
        ca_file=trusted,
        words=words,
    )
