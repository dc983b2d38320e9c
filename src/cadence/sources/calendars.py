"""The ``calendar`` and ``caldav`` touch sources: meetings read from calendars.

``calendar(path=...)`` reads an .ics file, ``calendar(url=...)`` one
published at an https URL (a "secret address in iCal format", a
``webcal://`` link); ``caldav(url=...)`` reads the calendars of a CalDAV
server (RFC 4791). Each event is read with ``icalendar``; a recurring one is
expanded with ``recurring-ical-events``, its overridden occurrences
(``RECURRENCE-ID``) moved and its ``EXDATE`` ones left out. Every occurrence
that began in the window becomes a ``Meeting``; the rules of
``cadence.core.touches`` decide which contacts it touched.

The window runs from ``since`` before the first sync to now, and its start
stays where the first sync put it (the state keeps it as ``from``; a longer
``since`` moves it back). Each sync hands over every meeting in that window
with ``complete``: a meeting deleted or moved out of it loses its
touchpoints, and no meeting leaves the window merely because time passed.
Calendars are read whole at every sync, not skipped when unchanged: as time
passes, occurrences of an unchanged recurring event begin and join the
window.

A meeting's ref is a digest of its UID and its occurrence's original start
(its ``RECURRENCE-ID``), so a moved occurrence keeps its ref. An all-day
event starts at midnight, and a floating time is read, in the calendar's
own zone when it names one (``X-WR-TIMEZONE``), else in UTC.

Requests go only to the configured URL's scheme, host and port (for
``caldav``, or another https host of the same domain that the server names,
as iCloud does); no proxy from the environment is used; https certificates
are always verified, and http is only for this machine. A ``calendar`` URL
often holds a secret in its path: messages name only its host. XML from the
server is read without any document type declaration or entity.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any, Final
from urllib.parse import urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
import requests

from cadence.adapters import _settings as check
from cadence.core.durations import parse_duration
from cadence.core.errors import CadenceError, ConfigError
from cadence.core.time import require_aware
from cadence.core.touches import Meeting
from cadence.sources._dav import (
    Response,
    Session,
    checked_url,
    collection,
    login_and_trust,
    loopback,
    multistatus,
    parse_xml,
    port_of,
    reason,
    same_site,
    shown_url,
)
from cadence.sources.batch import TouchChanges

__all__ = [
    "DEFAULT_SINCE",
    "DEFAULT_TIMEOUT",
    "CalDavHttp",
    "CalDavSource",
    "CalendarSource",
    "caldav",
    "calendar",
    "meetings",
]

#: How far back the first sync reads, unless a source says ``since``.
DEFAULT_SINCE: Final = "365d"
#: Seconds to wait for the server to connect, and then between bytes of an answer.
DEFAULT_TIMEOUT: Final = 30.0

_FROM = "from"
_DAV = "DAV:"
_CALDAV = "urn:ietf:params:xml:ns:caldav"
# A published calendar larger than this is refused rather than read into memory.
_MAX_CALENDAR_BYTES = 64 * 1024 * 1024
_MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def dav(name: str) -> str:
    return f"{{{_DAV}}}{name}"


def _cal(name: str) -> str:
    return f"{{{_CALDAV}}}{name}"


# -- events into meetings ------------------------------------------------------------


def _zone(calendar: icalendar.Calendar) -> tzinfo:
    name = str(calendar.get("X-WR-TIMEZONE", "") or "").strip()
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def _moment(value: object, zone: tzinfo) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time(0), zone)
    return None


def _stamp(value: object) -> str:
    """A recurrence id as text that does not depend on the zone it was written in."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return value.strftime("%Y%m%dT%H%M%S")
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    return ""


def _ref(uid: str, occurrence: str) -> str:
    basis = f"{uid}\n{occurrence}"
    return hashlib.sha256(basis.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _listed(value: object) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _address(value: object) -> str | None:
    """The email address of a calendar user (``mailto:``, or its ``EMAIL`` parameter)."""
    params = getattr(value, "params", {}) or {}
    text = str(params.get("EMAIL") or value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :].strip()
    return text if "@" in text and not any(c.isspace() for c in text) else None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join("".join(c if c.isprintable() else " " for c in str(value)).split())
    return text or None


def _meeting(event: icalendar.Event, zone: tzinfo) -> Meeting | None:
    start_value = event.get("DTSTART")
    start = _moment(getattr(start_value, "dt", None), zone)
    if start is None:
        return None
    recurrence = event.get("RECURRENCE-ID")
    occurrence = _stamp(getattr(recurrence, "dt", None)) or _stamp(start)
    uid = str(event.get("UID") or "").strip()
    if not uid:
        # RFC 5545 requires a UID; without one, the summary and start stand for it.
        uid = f"no-uid:{event.get('SUMMARY', '')}"
    organizers = _listed(event.get("ORGANIZER"))
    attendees: list[tuple[str, str]] = []
    for attendee in _listed(event.get("ATTENDEE")):
        address = _address(attendee)
        if address is not None:
            status = str(attendee.params.get("PARTSTAT") or "NEEDS-ACTION").strip().upper()
            attendees.append((address, status or "NEEDS-ACTION"))
    # Meeting converts attendees with tuple, whose generic signature the attrs
    # plugin of mypy cannot match: hand them over untyped.
    given: Any = tuple(attendees)
    return Meeting(
        ref=_ref(uid, occurrence),
        start=start,
        organizer=_address(organizers[0]) if organizers else None,
        attendees=given,
        cancelled=str(event.get("STATUS") or "").strip().upper() == "CANCELLED",
        summary=_text(event.get("SUMMARY")),
    )


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def meetings(data: bytes | str, *, start: datetime, end: datetime, where: str) -> list[Meeting]:
    """The meetings of an iCalendar text whose occurrences begin in [``start``, ``end``].

    ``where`` names the text in errors (a file, a URL). Recurring events are
    expanded, overridden occurrences moved, excluded ones left out; a series
    whose rule cannot be read is skipped. Raises CadenceError when the text
    is no calendar.
    """
    start = require_aware(start, "start")
    end = require_aware(end, "end")
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except (ValueError, IndexError, KeyError, TypeError) as error:
        raise CadenceError(f"{where}: not an iCalendar file: {_one_line(error)}") from None
    calendars = [c for c in calendars if getattr(c, "name", None) == "VCALENDAR"]
    if not calendars:
        raise CadenceError(f"{where}: not an iCalendar file: no VCALENDAR")
    found: list[Meeting] = []
    for each in calendars:
        zone = _zone(each)
        try:
            occurrences = recurring_ical_events.of(each, skip_bad_series=True).between(
                start, end + timedelta(seconds=1)
            )
        except (ValueError, TypeError, recurring_ical_events.InvalidCalendar) as error:
            raise CadenceError(f"{where}: cannot expand its events: {_one_line(error)}") from None
        for event in occurrences:
            meeting = _meeting(event, zone)
            if meeting is not None and start <= meeting.start <= end:
                found.append(meeting)
    return found


def _window(state: Mapping[str, str], now: datetime, since: timedelta) -> datetime:
    """The window's start: ``since`` before the first sync, or earlier if ``since`` grew."""
    start = now - since
    kept = state.get(_FROM)
    if kept:
        try:
            moment = datetime.fromisoformat(kept)
        except ValueError:
            return start
        if moment.tzinfo is not None:
            return min(moment, start)
    return start


def _unique(items: Iterable[Meeting]) -> list[Meeting]:
    # The same event in two calendars (an invitation and its copy) is one meeting.
    seen: dict[str, Meeting] = {}
    for meeting in items:
        seen.setdefault(meeting.ref, meeting)
    return sorted(seen.values(), key=lambda m: (m.start, m.ref))


def _changes(found: Iterable[Meeting], start: datetime) -> TouchChanges:
    return TouchChanges(
        _unique(found),
        complete=True,
        state={_FROM: start.astimezone(UTC).isoformat(timespec="seconds")},
    )


# -- settings ------------------------------------------------------------------------


def _since(value: object) -> timedelta:
    try:
        return parse_duration(value)
    except CadenceError as error:
        raise ConfigError(f"since: {error}") from None


def _site(url: str) -> str:
    """``url`` as messages show it when its path may hold a secret: scheme, host and port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}/..."


def _checked_url(value: object, what: str, *, collection: bool) -> str:
    if isinstance(value, str) and value.lower().startswith("webcal://"):
        value = "https://" + value[len("webcal://") :]
    parts = checked_url(
        value,
        wrong=f"url must be the https URL of {what}",
        schemes="https",
        userinfo="url must not hold a user or password",
    )
    scheme = parts.scheme.lower()
    assert parts.hostname is not None
    if scheme == "http" and not loopback(parts.hostname):
        raise ConfigError("url must use https: http is only for this machine")
    if parts.fragment:
        raise ConfigError("url must have no fragment")
    if collection:
        if parts.query:
            raise ConfigError("url must have no query")
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        return urlunsplit((scheme, parts.netloc.lower(), path, "", ""))
    return urlunsplit((scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))


def _session(ca_file: str | None) -> requests.Session:
    session = Session()
    # Proxies and .netrc from the environment would send the calendar elsewhere.
    session.trust_env = False
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    from cadence import __version__

    session.headers["User-Agent"] = f"cadence/{__version__}"
    session.verify = ca_file or True
    return session


def _failed(
    label: str, shown: str, error: requests.RequestException, timeout: float
) -> CadenceError:
    if isinstance(error, requests.Timeout):
        return CadenceError(f"{label}: {shown} did not answer within {timeout:g} seconds")
    if isinstance(error, requests.ConnectionError):
        return CadenceError(f"{label}: cannot connect to {shown}: {reason(error)}")
    return CadenceError(f"{label}: the request to {shown} failed: {reason(error)}")


# -- an .ics file or URL -------------------------------------------------------------


class CalendarSource:
    """The meetings of one iCalendar file or published calendar, each sync all of them."""

    def __init__(
        self,
        *,
        path: Path | None = None,
        url: str | None = None,
        since: timedelta,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if (path is None) == (url is None):
            raise ConfigError("calendar needs either path or url")
        self.path = path
        self.url = url
        self.since = since
        self.timeout = timeout
        self.me: frozenset[str] = frozenset()
        self._session = _session(None) if url is not None else None

    def __repr__(self) -> str:
        shown = str(self.path) if self.path is not None else _site(self.url or "")
        return f"<CalendarSource {shown!r}>"

    def close(self) -> None:
        """Close the HTTP session, if any."""
        if self._session is not None:
            self._session.close()

    def touch_changes(self, state: Mapping[str, str], *, now: datetime) -> TouchChanges:
        """Every meeting that began in the window, with ``complete`` (see the module's notes).

        Raises CadenceError when the file or URL cannot be read or holds no calendar.
        """
        now = require_aware(now, "now")
        start = _window(state, now, self.since)
        data, where = self._read()
        return _changes(meetings(data, start=start, end=now, where=where), start)

    def _read(self) -> tuple[bytes, str]:
        if self.path is not None:
            where = f"calendar: {self.path}"
            try:
                return self.path.read_bytes(), where
            except FileNotFoundError:
                raise CadenceError(f"{where} does not exist") from None
            except OSError as error:
                raise CadenceError(f"{where}: cannot read it: {error.strerror}") from None
        return self._fetch(self.url or "")

    def _fetch(self, url: str) -> tuple[bytes, str]:
        assert self._session is not None
        for _ in range(_MAX_REDIRECTS + 1):
            shown = _site(url)
            try:
                answer = self._session.get(
                    url,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                    headers={"Accept": "text/calendar, */*;q=0.5"},
                )
            except requests.RequestException as error:
                raise _failed("calendar", shown, error, self.timeout) from None
            with answer:
                location = answer.headers.get("Location")
                if answer.status_code in _REDIRECTS and location:
                    url = urljoin(url, location)
                    parts = urlsplit(url)
                    if parts.scheme != "https" and not (
                        parts.scheme == "http" and loopback(parts.hostname or "")
                    ):
                        raise CadenceError(
                            f"calendar: {shown} redirects to a URL that is not https: "
                            "not following it"
                        )
                    continue
                if answer.status_code != 200:
                    raise CadenceError(f"calendar: {shown} answered HTTP {answer.status_code}")
                return self._body(answer, shown), f"calendar: {shown}"
        raise CadenceError(f"calendar: too many redirects from {_site(url)}")

    def _body(self, answer: requests.Response, shown: str) -> bytes:
        chunks = []
        size = 0
        try:
            for chunk in answer.iter_content(chunk_size=65536):
                size += len(chunk)
                if size > _MAX_CALENDAR_BYTES:
                    raise CadenceError(
                        f"calendar: {shown} is larger than {_MAX_CALENDAR_BYTES // 2**20} MiB"
                    )
                chunks.append(chunk)
        except requests.RequestException as error:
            raise _failed("calendar", shown, error, self.timeout) from None
        return b"".join(chunks)


def calendar(
    *,
    path: str | None = None,
    url: str | None = None,
    since: str = DEFAULT_SINCE,
    timeout: float = DEFAULT_TIMEOUT,
) -> CalendarSource:
    """Build the ``calendar`` touch source from a ``[[sources]]`` table's settings.

    Give ``path``, an .ics file, or ``url``, a calendar published at an
    https (or ``webcal``) address; http only to this machine. ``since`` is
    how far back the first sync reads ("365d"); ``timeout`` is in seconds.
    """
    checked_path = None
    checked_url = None
    if (path is None) == (url is None):
        raise ConfigError("calendar needs either path (an .ics file) or url, and not both")
    if path is not None:
        checked_path = Path(os.path.expanduser(check.text("path", path)))
    else:
        checked_url = _checked_url(url, "a published calendar", collection=False)
    return CalendarSource(
        path=checked_path, url=checked_url, since=_since(since), timeout=check.timeout(timeout)
    )


# -- CalDAV --------------------------------------------------------------------------


def _propfind(*tags: str) -> bytes:
    names = "".join(
        f"<{'d' if tag.startswith('{DAV:}') else 'c'}:{tag.rpartition('}')[2]}/>" for tag in tags
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<d:propfind xmlns:d="{_DAV}" xmlns:c="{_CALDAV}"><d:prop>{names}</d:prop></d:propfind>'
    ).encode()


def _utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _query(start: datetime, end: datetime) -> bytes:
    # Every event with an occurrence in the window, whole: the expansion is done here,
    # the same way for every server (CalDAV's own expand is not offered everywhere).
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<c:calendar-query xmlns:d="{_DAV}" xmlns:c="{_CALDAV}">'
        "<d:prop><d:getetag/><c:calendar-data/></d:prop>"
        '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
        f'<c:time-range start="{_utc_stamp(start)}" end="{_utc_stamp(end)}"/>'
        "</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"
    ).encode()


class CalDavHttp:
    """Requests to one CalDAV server: where they may go, the login, and errors in one line.

    The ``caldav`` touch source reads through it and the ``caldav`` adapter
    writes through it: both go only where the configured URL allows, log in
    the same way (Basic, or Digest when that alone is offered), and raise
    CadenceError in one line for a refused login, a 5xx, a timeout.
    """

    def __init__(
        self, url: str, *, auth: tuple[str, str] | None, timeout: float, ca_file: str | None
    ) -> None:
        self.url = url
        parts = urlsplit(url)
        self._scheme = parts.scheme
        self._host = parts.hostname or ""
        self._port = port_of(parts.scheme, parts.port)
        self._timeout = timeout
        self._has_login = auth is not None
        self.session = _session(ca_file)
        self.session.auth = auth

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme != self._scheme or parts.username is not None:
            return False
        host = (parts.hostname or "").lower()
        port = port_of(parts.scheme, parts.port)
        if host == self._host:
            return port == self._port
        return self._scheme == "https" and port == 443 and same_site(self._host, host)

    def request(
        self,
        method: str,
        url: str,
        body: bytes | None,
        depth: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        unsupported_ok: bool = False,
    ) -> requests.Response:
        """Send one request, following redirects that stay on the server.

        Without ``headers``, ``body`` is XML with the ``Depth`` header given.
        With ``unsupported_ok``, a 501 (the server does not implement the
        method) is returned rather than raised.
        """
        if headers is None:
            headers = {"Content-Type": "application/xml; charset=utf-8", "Depth": depth or "0"}
        for _ in range(_MAX_REDIRECTS + 1):
            if not self.allows(url):
                raise CadenceError(
                    f"caldav: the server at {shown_url(self.url)} pointed to {shown_url(url)}, "
                    "which is not on the configured server: not following it"
                )
            try:
                answer = self.session.request(
                    method,
                    url,
                    data=body,
                    headers=headers,
                    timeout=self._timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as error:
                raise _failed("caldav", shown_url(url), error, self._timeout) from None
            if answer.status_code == 401 and self._switch_to_digest(answer):
                continue
            if answer.status_code == 401:
                if not self._has_login:
                    raise CadenceError(
                        f"caldav: the server asks for a login for {shown_url(url)}: "
                        "set username and password_env"
                    )
                raise CadenceError(
                    f"caldav: the server refused the credentials for {shown_url(url)}"
                )
            if answer.status_code >= 500 and not (unsupported_ok and answer.status_code == 501):
                raise CadenceError(
                    f"caldav: the server failed with HTTP {answer.status_code} for {shown_url(url)}"
                )
            location = answer.headers.get("Location")
            if answer.status_code not in _REDIRECTS or not location:
                return answer
            url = urljoin(url, location)
        raise CadenceError(f"caldav: too many redirects from {shown_url(url)}")

    def _switch_to_digest(self, answer: requests.Response) -> bool:
        offered = answer.headers.get("WWW-Authenticate", "").lower()
        auth = self.session.auth
        if not isinstance(auth, tuple) or "digest" not in offered or "basic" in offered:
            return False
        self.session.auth = requests.auth.HTTPDigestAuth(*auth)
        return True

    def multistatus(self, method: str, url: str, body: bytes, depth: str) -> list[Response]:
        answer = self.request(method, url, body, depth)
        if answer.status_code != 207:
            raise _unexpected(answer, method, url)
        try:
            responses, _ = multistatus(parse_xml(answer.content))
        except ValueError as error:
            raise CadenceError(
                f"caldav: unreadable answer from {shown_url(url)}: {error}"
            ) from None
        return responses

    def first(self, url: str, body: bytes, *, missing_ok: bool) -> Response | None:
        """The response about ``url`` itself to a PROPFIND of depth 0 (None where nothing is)."""
        answer = self.request("PROPFIND", url, body, "0")
        if answer.status_code in (404, 405, 501) and missing_ok:
            return None
        if answer.status_code != 207:
            raise _unexpected(answer, "PROPFIND", url)
        try:
            responses, _ = multistatus(parse_xml(answer.content))
        except ValueError as error:
            raise CadenceError(
                f"caldav: unreadable answer from {shown_url(url)}: {error}"
            ) from None
        return responses[0] if responses else None


def _unexpected(answer: requests.Response, method: str, url: str) -> CadenceError:
    status = answer.status_code
    if status == 403:
        return CadenceError(f"caldav: the server refused access to {shown_url(url)} (HTTP 403)")
    if status == 404:
        return CadenceError(f"caldav: nothing at {shown_url(url)} (HTTP 404)")
    return CadenceError(f"caldav: unexpected answer HTTP {status} to {method} {shown_url(url)}")


_DISCOVERY = _propfind(
    dav("resourcetype"),
    dav("current-user-principal"),
    _cal("calendar-home-set"),
    _cal("calendar-user-address-set"),
)


class CalDavSource:
    """The meetings of the calendars on a CalDAV server, each sync all of those in the window.

    ``url`` is a calendar's own URL (only it is read), or any URL above it
    (the server's root, a principal, a calendar home): every calendar of the
    login's calendar home that takes events is then read.
    """

    def __init__(
        self,
        url: str,
        *,
        auth: tuple[str, str] | None = None,
        since: timedelta,
        timeout: float = DEFAULT_TIMEOUT,
        ca_file: str | None = None,
    ) -> None:
        self.url = url
        self.since = since
        self.me: frozenset[str] = frozenset()
        self._http = CalDavHttp(url, auth=auth, timeout=timeout, ca_file=ca_file)

    def __repr__(self) -> str:
        return f"<CalDavSource {shown_url(self.url)}>"

    def close(self) -> None:
        """Close the HTTP session and its connections."""
        self._http.session.close()

    def touch_changes(self, state: Mapping[str, str], *, now: datetime) -> TouchChanges:
        """Every meeting that began in the window, with ``complete`` (see the module's notes).

        Raises CadenceError, in one line, when the server cannot be reached,
        refuses the login, has no calendar there, or sends one that cannot
        be read (naming it). ``me`` then holds the login's own addresses, as
        the server gives them (``calendar-user-address-set``).
        """
        now = require_aware(now, "now")
        start = _window(state, now, self.since)
        found: list[Meeting] = []
        for url in self._calendars():
            for response in self._http.multistatus("REPORT", url, _query(start, now), "1"):
                data = response.text(_cal("calendar-data"))
                if data is None or not data.strip():
                    continue
                href = urlsplit(urljoin(url, response.href)).path
                found.extend(meetings(data, start=start, end=now, where=f"caldav: {href}"))
        return _changes(found, start)

    def _calendars(self) -> list[str]:
        root = urlsplit(self.url).path == "/"
        here = self._http.first(self.url, _DISCOVERY, missing_ok=root)
        principal = here.href_in(dav("current-user-principal")) if here is not None else None
        if here is None and root:
            known = self._http.first(
                urljoin(self.url, "/.well-known/caldav"), _DISCOVERY, missing_ok=True
            )
            principal = known.href_in(dav("current-user-principal")) if known else None
        mine = None
        if principal is not None:
            mine = self._http.first(urljoin(self.url, principal), _DISCOVERY, missing_ok=True)
        if mine is not None:
            self.me = frozenset(_addresses(mine))
        if here is not None and here.is_type(_cal("calendar")):
            return [self.url]
        home = here.href_in(_cal("calendar-home-set")) if here is not None else None
        if home is None and mine is not None:
            home = mine.href_in(_cal("calendar-home-set"))
        if home is None:
            raise CadenceError(
                f"caldav: {shown_url(self.url)} is not a calendar, and the server names no "
                "calendar home for this login; give the calendar's own URL"
            )
        home_url = collection(urljoin(self.url, home))
        members = self._http.multistatus(
            "PROPFIND",
            home_url,
            _propfind(dav("resourcetype"), _cal("supported-calendar-component-set")),
            "1",
        )
        found = sorted(
            collection(urljoin(home_url, member.href))
            for member in members
            if member.is_type(_cal("calendar"))
        )
        if not found:
            raise CadenceError(f"caldav: found no calendar in {shown_url(home_url)}")
        return found


def _addresses(response: Response) -> Iterable[str]:
    element = response.props.get(_cal("calendar-user-address-set"))
    if element is None:
        return []
    found = []
    for href in element.iter(dav("href")):
        address = _address((href.text or "").strip())
        if address is not None:
            found.append(address.lower())
    return found


def caldav(
    *,
    url: str,
    username: str | None = None,
    password_env: str | None = None,
    since: str = DEFAULT_SINCE,
    timeout: float = DEFAULT_TIMEOUT,
    ca_file: str | None = None,
) -> CalDavSource:
    """Build the ``caldav`` touch source from a ``[[sources]]`` table's settings.

    ``url`` is a calendar's URL, or its server's (the root, a principal, a
    calendar home), where every calendar of the login is found and read.
    ``username`` and ``password_env`` (the name of the environment variable
    holding the password, or an app-specific password) go together; leave
    both out for a server that needs no login. A password goes only over
    https, except to this machine. ``since`` is how far back the first sync
    reads ("365d"); ``timeout`` is in seconds; ``ca_file`` is a file of
    certificates to trust for a server whose certificate a private
    authority signed.

    Bad settings raise ConfigError naming the setting, never the password.
    """
    checked_url = _checked_url(url, "a calendar or of its server", collection=True)
    auth, trusted = login_and_trust(checked_url, username, password_env, ca_file)
    return CalDavSource(
        checked_url,
        auth=auth,
        since=_since(since),
        timeout=check.timeout(timeout),
        ca_file=trusted,
    )
