"""The ``carddav`` contact source: the cards of an address book on a CardDAV server (RFC 6352).

``carddav(url=..., username=..., password_env=...)`` builds a
``CardDavSource``; its ``contact_changes(state)`` returns what changed in
the address book since the sync that gave ``state``:

- ``url`` is the address book's own URL, or any URL of the server above it
  (the server's root, a principal): the address book is then found as RFC
  6352 says (``DAV:current-user-principal``, its ``addressbook-home-set``,
  and in that home the collection whose resourcetype is an address book:
  the one read last time while it is there, else the first by its address). A root that does not
  answer is tried again at ``/.well-known/carddav`` (RFC 6764).
- The first sync reads every card. Where the server offers RFC 6578's
  ``sync-collection`` report, that is one request that brings every card
  with its ETag and a sync token; elsewhere a ``PROPFIND`` lists the cards'
  ETags and an ``addressbook-multiget`` report fetches them.
- Later syncs hand the server its sync token back and fetch only the cards
  it names as changed; the ones it names as deleted are ``gone``. When the
  server has no sync token, or no longer accepts the one kept (it expired),
  the cards' ETags are listed and compared with the kept ones: only those
  that differ are fetched, and the cards no longer listed are gone.
- ``state`` keeps the address book's URL (``book``), the sync token
  (``token``), and for each card, under ``etag:<its name in the address
  book>``, its ETag and UID.

Each card is read by the ``vcard`` importer. Requests go only to the
configured URL's scheme, host and port, or to another https host of the same
domain that the server names during discovery (iCloud keeps address books
on ``pNN-contacts.icloud.com``); no proxy from the environment is used, no
redirect to elsewhere is followed, https certificates are always verified,
and a password is never sent in the clear except to this machine. XML from
the server is read without any document type declaration or entity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import Final
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit
from xml.sax.saxutils import escape

import attrs
import requests

from cadence.adapters import _settings as check
from cadence.core.errors import CadenceError, ConfigError, ImportFailed
from cadence.core.model import Contact
from cadence.core.occasions import OccasionKind
from cadence.sources._common import ProposedIds
from cadence.sources._dav import (
    Response,
    Session,
    checked_url,
    collection,
    dav,
    login_and_trust,
    loopback,
    multistatus,
    parse_xml,
    port_of,
    reason,
    same_site,
    shown_url,
)
from cadence.sources.batch import ContactChanges, ImportBatch, Origin, Skipped
from cadence.sources.vcard import read_vcard

__all__ = ["DEFAULT_TIMEOUT", "CardDavSource", "carddav", "parse_xml"]

#: Seconds to wait for the server to connect, and then between bytes of an answer.
DEFAULT_TIMEOUT: Final = 30.0

_LABEL = "carddav"
_DAV = "DAV:"
_CARDDAV = "urn:ietf:params:xml:ns:carddav"

# The keys of a source's state.
_BOOK = "book"
_TOKEN = "token"  # noqa: S105  # the key of the sync token, no secret
_CARD = "etag:"

# How many cards one addressbook-multiget asks for.
_MULTIGET_CHUNK = 500
# A server that truncates a sync-collection answer (507) is asked again with
# the newer token; past this many rounds it is taken to be looping.
_MAX_SYNC_ROUNDS = 1000
_MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _card(name: str) -> str:
    return f"{{{_CARDDAV}}}{name}"


# -- reading XML -------------------------------------------------------------------


def _propfind_body(*tags: str) -> bytes:
    names = "".join(f"<{_short(tag)}/>" for tag in tags)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<d:propfind xmlns:d="{_DAV}" xmlns:card="{_CARDDAV}">'
        f"<d:prop>{names}</d:prop></d:propfind>"
    ).encode()


def _short(tag: str) -> str:
    namespace, _, local = tag[1:].partition("}")
    return f"{'d' if namespace == _DAV else 'card'}:{local}"


def _sync_body(token: str | None) -> bytes:
    token_element = f"<d:sync-token>{escape(token)}</d:sync-token>" if token else "<d:sync-token/>"
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<d:sync-collection xmlns:d="{_DAV}" xmlns:card="{_CARDDAV}">'
        f"{token_element}<d:sync-level>1</d:sync-level>"
        "<d:prop><d:getetag/><card:address-data/></d:prop></d:sync-collection>"
    ).encode()


def _multiget_body(hrefs: Iterable[str]) -> bytes:
    listed = "".join(f"<d:href>{escape(href)}</d:href>" for href in hrefs)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<card:addressbook-multiget xmlns:d="{_DAV}" xmlns:card="{_CARDDAV}">'
        f"<d:prop><d:getetag/><card:address-data/></d:prop>{listed}</card:addressbook-multiget>"
    ).encode()


# -- settings ------------------------------------------------------------------------


def _url(value: object) -> str:
    parts = checked_url(
        value,
        wrong="url must be the http or https URL of an address book or of its server",
        schemes="http or https",
        userinfo="url must not hold a user or password: use username and password_env",
    )
    scheme = parts.scheme.lower()
    if parts.query or parts.fragment:
        raise ConfigError(f"url must have no query or fragment: {value!r}")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    # A collection's URL ends with a slash; the scheme and host are compared in lower case.
    return urlunsplit((scheme, parts.netloc.lower(), path, "", ""))


def carddav(
    *,
    url: str,
    username: str | None = None,
    password_env: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    ca_file: str | None = None,
) -> CardDavSource:
    """Build the ``carddav`` contact source from a ``[[sources]]`` table's settings.

    ``url`` is the address book's URL, or its server's (the root, or a
    principal), where the address book is discovered. ``username`` and
    ``password_env`` (the name of the environment variable holding the
    password, or an app-specific password) go together; leave both out for
    a server that needs no login. A password goes only over https, except to
    this machine (localhost, 127.0.0.1, ::1). ``timeout`` is in seconds;
    ``ca_file`` is a file of certificates to trust for a server whose
    certificate a private authority signed.

    Bad settings raise ConfigError naming the setting, never the password.
    """
    checked_url = _url(url)
    parts = urlsplit(checked_url)
    if username is not None and parts.scheme == "http" and not loopback(parts.hostname or ""):
        raise ConfigError("a login needs an https url: no password in the clear")
    auth, trusted = login_and_trust(checked_url, username, password_env, ca_file)
    seconds = check.timeout(timeout)
    return CardDavSource(checked_url, auth=auth, timeout=seconds, ca_file=trusted)


# -- HTTP ----------------------------------------------------------------------------


class _Dav:
    """Requests to one CardDAV server: where they may go, the login, and errors in one line."""

    def __init__(
        self,
        url: str,
        *,
        auth: tuple[str, str] | None,
        timeout: float,
        ca_file: str | None,
    ) -> None:
        self.url = url
        parts = urlsplit(url)
        self._scheme = parts.scheme
        self._host = parts.hostname or ""
        self._port = port_of(parts.scheme, parts.port)
        self._timeout = timeout
        self._has_login = auth is not None
        session = Session()
        # Proxies and .netrc from the environment would send the address book elsewhere.
        session.trust_env = False
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        from cadence import __version__

        session.headers["User-Agent"] = f"cadence/{__version__}"
        session.verify = ca_file or True
        session.auth = auth
        self.session = session

    def allows(self, url: str) -> bool:
        """Whether a request may go to ``url``: the configured server, or one of its domain."""
        parts = urlsplit(url)
        if parts.scheme != self._scheme or parts.username is not None:
            return False
        host = (parts.hostname or "").lower()
        port = port_of(parts.scheme, parts.port)
        if host == self._host:
            return port == self._port
        return self._scheme == "https" and port == 443 and same_site(self._host, host)

    def request(
        self, method: str, url: str, *, body: bytes | None = None, depth: str | None = None
    ) -> requests.Response:
        """Send one request, following redirects that stay where requests may go.

        Raises CadenceError for a refused login, a server error, a timeout or
        a connection that failed; any other status is the caller's to read.
        """
        headers = {"Content-Type": "application/xml; charset=utf-8"} if body is not None else {}
        if depth is not None:
            headers["Depth"] = depth
        for _ in range(_MAX_REDIRECTS + 1):
            if not self.allows(url):
                raise CadenceError(
                    f"{_LABEL}: the server at {shown_url(self.url)} pointed to {shown_url(url)}, "
                    "which is not on the configured server: not following it"
                )
            answer = self._send(method, url, body, headers)
            location = answer.headers.get("Location")
            if answer.status_code not in _REDIRECTS or not location:
                return answer
            url = urljoin(url, location)
        raise CadenceError(f"{_LABEL}: too many redirects from {shown_url(url)}")

    def _send(
        self, method: str, url: str, body: bytes | None, headers: Mapping[str, str]
    ) -> requests.Response:
        try:
            answer = self.session.request(
                method,
                url,
                data=body,
                headers=dict(headers),
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise CadenceError(
                f"{_LABEL}: {shown_url(url)} did not answer within {self._timeout:g} seconds"
            ) from None
        except requests.ConnectionError as error:
            raise CadenceError(
                f"{_LABEL}: cannot connect to {shown_url(url)}: {reason(error)}"
            ) from None
        except requests.RequestException as error:
            raise CadenceError(
                f"{_LABEL}: the request to {shown_url(url)} failed: {reason(error)}"
            ) from None
        if answer.status_code == 401 and self._switch_to_digest(answer):
            return self._send(method, url, body, headers)
        if answer.status_code == 401:
            if not self._has_login:
                raise CadenceError(
                    f"{_LABEL}: the server asks for a login for {shown_url(url)}: "
                    "set username and password_env"
                )
            raise CadenceError(f"{_LABEL}: the server refused the credentials for {shown_url(url)}")
        if answer.status_code >= 500:
            raise CadenceError(
                f"{_LABEL}: the server failed with HTTP {answer.status_code} for {shown_url(url)}"
            )
        return answer

    def _switch_to_digest(self, answer: requests.Response) -> bool:
        # Servers that speak only Digest (older SabreDAV, Baïkal) say so in their challenge.
        offered = answer.headers.get("WWW-Authenticate", "").lower()
        auth = self.session.auth
        if not isinstance(auth, tuple) or "digest" not in offered or "basic" in offered:
            return False
        self.session.auth = requests.auth.HTTPDigestAuth(*auth)
        return True

    def multistatus(
        self, method: str, url: str, body: bytes, depth: str
    ) -> tuple[list[Response], str | None]:
        """The responses of a PROPFIND or REPORT answered with 207, or a CadenceError in words."""
        answer = self.request(method, url, body=body, depth=depth)
        if answer.status_code == 207:
            return self.read(answer, url)
        raise _unexpected(answer, method, url)

    def read(self, answer: requests.Response, url: str) -> tuple[list[Response], str | None]:
        """The responses and sync token of a 207 answer."""
        try:
            return multistatus(parse_xml(answer.content))
        except ValueError as error:
            raise CadenceError(
                f"{_LABEL}: unreadable answer from {shown_url(url)}: {error}"
            ) from None


def _unexpected(answer: requests.Response, method: str, url: str) -> CadenceError:
    status = answer.status_code
    if status == 403:
        return CadenceError(f"{_LABEL}: the server refused the credentials for {shown_url(url)}")
    if status == 404:
        return CadenceError(f"{_LABEL}: nothing at {shown_url(url)} (HTTP 404)")
    return CadenceError(f"{_LABEL}: unexpected answer HTTP {status} to {method} {shown_url(url)}")


def _precondition(answer: requests.Response) -> str | None:
    """The name of the DAV precondition an error answer names (``valid-sync-token``), if any."""
    if not answer.content:
        return None
    try:
        root = parse_xml(answer.content)
    except ValueError:
        return None
    if root.tag != dav("error") or not len(root):
        return None
    return root[0].tag.rpartition("}")[2]


# -- state ---------------------------------------------------------------------------


@attrs.frozen
class _Known:
    """What the last sync saw of one card: its ETag and UID (None for a group card)."""

    etag: str
    uid: str | None


@attrs.frozen
class _State:
    """A source's state read into its parts: the address book, its sync token, the cards."""

    book: str | None = None
    token: str | None = None
    cards: Mapping[str, _Known] = attrs.field(factory=dict)

    @classmethod
    def read(cls, state: Mapping[str, str]) -> _State:
        """The parts of ``state``; an entry that does not parse is dropped (its card is re-read)."""
        cards = {}
        for key, value in state.items():
            if key.startswith(_CARD) and isinstance(value, str):
                etag, _, uid = value.partition(" ")
                if etag:
                    cards[key[len(_CARD) :]] = _Known(etag, uid or None)
        return cls(state.get(_BOOK) or None, state.get(_TOKEN) or None, cards)

    def write(self) -> dict[str, str]:
        """The state as the store keeps it."""
        written = {}
        if self.book:
            written[_BOOK] = self.book
        if self.token:
            written[_TOKEN] = self.token
        for name, known in self.cards.items():
            written[_CARD + name] = f"{known.etag} {known.uid}" if known.uid else known.etag
        return written


@attrs.frozen
class _Fetched:
    """One card read from the server: its name in the address book, href, ETag and vCard."""

    name: str
    href: str
    etag: str
    text: str


@attrs.frozen
class _Book:
    """An address book: its URL, and whether the server is known to lack sync-collection there."""

    url: str
    no_sync: bool = False


# -- the source ----------------------------------------------------------------------


class CardDavSource:
    """The cards of one CardDAV address book, read as contact changes since the last sync.

    Build it with ``carddav()``, or directly for tests and embedding:
    ``sync_collection=False`` never uses sync tokens, and compares ETags on
    every sync instead.
    """

    def __init__(
        self,
        url: str,
        *,
        auth: tuple[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        ca_file: str | None = None,
        sync_collection: bool = True,
    ) -> None:
        self.url = url
        self.sync_collection = sync_collection
        self._dav = _Dav(url, auth=auth, timeout=timeout, ca_file=ca_file)

    def __repr__(self) -> str:
        return f"<CardDavSource {shown_url(self.url)}>"

    def close(self) -> None:
        """Close the HTTP session and its connections."""
        self._dav.session.close()

    def contact_changes(self, state: Mapping[str, str]) -> ContactChanges:
        """The cards new or changed since the sync that gave ``state``, and the UIDs gone.

        ``state`` is the ``ContactChanges.state`` of the last sync, or an
        empty mapping the first time. A sync that finds nothing changed
        returns an empty batch, no uid gone and a state equal to ``state``.
        Raises CadenceError, in one line, when the server cannot be reached,
        refuses the login, or has a card that cannot be read (naming it).
        """
        previous = _State.read(state)
        book = self._book(previous)
        known = previous.cards if previous.book == book.url else {}
        if self.sync_collection and not book.no_sync and (previous.token or not known):
            token = previous.token if previous.book == book.url else None
            synced = self._since(book.url, token, known)
            if synced is not None:
                return self._changes(previous, book.url, *synced, state)
        return self._changes(previous, book.url, *self._by_etags(book.url, known), state)

    # -- finding the address book

    def _book(self, previous: _State) -> _Book:
        if previous.book is not None and previous.book == self.url:
            return _Book(self.url)
        return self._discover(previous.book)

    def _discover(self, kept: str | None) -> _Book:
        """The address book ``self.url`` is or leads to: ``kept`` (the last one read) if listed."""
        wanted = _propfind_body(
            dav("resourcetype"),
            dav("current-user-principal"),
            _card("addressbook-home-set"),
            dav("supported-report-set"),
        )
        root = urlsplit(self.url).path == "/"
        here = self._first(self.url, wanted, missing_ok=root)
        if here is not None and here.is_type(_card("addressbook")):
            return _book_of(self.url, here)
        home = here.href_in(_card("addressbook-home-set")) if here is not None else None
        principal = here.href_in(dav("current-user-principal")) if here is not None else None
        if home is None and principal is None and root:
            well_known = self._first(urljoin(self.url, "/.well-known/carddav"), wanted)
            if well_known is not None:
                principal = well_known.href_in(dav("current-user-principal"))
        if home is None and principal is not None:
            found = self._first(urljoin(self.url, principal), wanted)
            home = found.href_in(_card("addressbook-home-set")) if found is not None else None
        if home is None:
            raise CadenceError(
                f"{_LABEL}: {shown_url(self.url)} is not an address book, and the server names no "
                "address book home for this login; give the address book's own URL"
            )
        home_url = collection(urljoin(self.url, home))
        members, _ = self._dav.multistatus(
            "PROPFIND",
            home_url,
            _propfind_body(dav("resourcetype"), dav("supported-report-set")),
            "1",
        )
        books = sorted(
            (
                (collection(urljoin(home_url, member.href)), member)
                for member in members
                if member.is_type(_card("addressbook"))
            ),
            key=lambda book: book[0],
        )
        if not books:
            raise CadenceError(f"{_LABEL}: found no address book in {shown_url(home_url)}")
        # The book read last time stays the one read, even when a new one sorts before it.
        url, member = next((book for book in books if book[0] == kept), books[0])
        return _book_of(url, member)

    def _first(self, url: str, body: bytes, *, missing_ok: bool = True) -> Response | None:
        """The response about ``url`` itself to a PROPFIND of depth 0.

        None when it has none, or when nothing DAV is there and ``missing_ok``.
        """
        answer = self._dav.request("PROPFIND", url, body=body, depth="0")
        if answer.status_code in (404, 405, 501) and missing_ok:
            return None
        if answer.status_code != 207:
            raise _unexpected(answer, "PROPFIND", url)
        responses, _ = self._dav.read(answer, url)
        return responses[0] if responses else None

    # -- reading changes

    def _since(
        self, book: str, token: str | None, known: Mapping[str, _Known]
    ) -> tuple[list[_Fetched], set[str], str] | None:
        """The changes since ``token`` (every card without one), or None if the server refuses.

        Returns the cards fetched, the names removed and the new token.
        """
        changed: dict[str, tuple[str, str, str | None]] = {}
        removed: set[str] = set()
        for _ in range(_MAX_SYNC_ROUNDS):
            answer = self._dav.request("REPORT", book, body=_sync_body(token), depth="1")
            if answer.status_code != 207:
                refused = _precondition(answer)
                if refused == "valid-sync-token" or (
                    answer.status_code in (400, 403, 405, 409, 415, 501)
                    and refused != "need-privileges"
                ):
                    # An expired token, or a server without sync-collection: list the ETags.
                    return None
                raise _unexpected(answer, "REPORT", book)
            responses, new_token = self._dav.read(answer, book)
            truncated = False
            for response in responses:
                path = _path(book, response.href)
                if _same_path(path, book):
                    truncated = truncated or response.status == 507
                    continue
                name = _name(book, path)
                if response.status == 404:
                    removed.add(name)
                    changed.pop(name, None)
                    continue
                etag = response.text(dav("getetag"))
                if etag is None or response.is_type(dav("collection")):
                    continue
                removed.discard(name)
                changed[name] = (path, etag.strip(), response.text(_card("address-data")))
            if new_token is None:
                return None  # no token to come back with: this server's sync is of no use
            token = new_token
            if not truncated:
                fetched, vanished = self._complete(book, changed, known)
                return fetched, removed | vanished, token
        raise CadenceError(
            f"{_LABEL}: {shown_url(book)} kept truncating its sync-collection answer"
        )

    def _complete(
        self,
        book: str,
        changed: Mapping[str, tuple[str, str, str | None]],
        known: Mapping[str, _Known],
    ) -> tuple[list[_Fetched], set[str]]:
        """The changed cards with their data, fetching those the sync answer came without."""
        fetched = []
        missing: dict[str, tuple[str, str]] = {}
        for name, (href, etag, text) in changed.items():
            old = known.get(name)
            if old is not None and old.etag == etag:
                continue  # the server reports a card it already gave as it is
            if text is None:
                missing[name] = (href, etag)
            else:
                fetched.append(_Fetched(name, href, etag, text))
        got, vanished = self._multiget(book, missing)
        return fetched + got, vanished

    def _by_etags(
        self, book: str, known: Mapping[str, _Known]
    ) -> tuple[list[_Fetched], set[str], str | None]:
        """The changes found by listing every card's ETag and comparing with ``known``."""
        props = [dav("resourcetype"), dav("getetag")]
        if self.sync_collection:
            props.append(dav("sync-token"))
        responses, _ = self._dav.multistatus("PROPFIND", book, _propfind_body(*props), "1")
        token = None
        listed: dict[str, tuple[str, str]] = {}
        for response in responses:
            path = _path(book, response.href)
            if _same_path(path, book):
                if self.sync_collection:
                    token = (response.text(dav("sync-token")) or "").strip() or None
                continue
            etag = response.text(dav("getetag"))
            if etag is None or response.is_type(dav("collection")):
                continue
            listed[_name(book, path)] = (path, etag.strip())
        wanted = {
            name: (href, etag)
            for name, (href, etag) in listed.items()
            if name not in known or known[name].etag != etag
        }
        fetched, vanished = self._multiget(book, wanted)
        removed = (set(known) - set(listed)) | vanished
        return fetched, removed, token

    def _multiget(
        self, book: str, wanted: Mapping[str, tuple[str, str]]
    ) -> tuple[list[_Fetched], set[str]]:
        """The cards ``wanted`` (name -> href, ETag) fetched, and the names no longer there."""
        fetched: list[_Fetched] = []
        names = sorted(wanted)
        found: set[str] = set()
        for start in range(0, len(names), _MULTIGET_CHUNK):
            chunk = names[start : start + _MULTIGET_CHUNK]
            responses, _ = self._dav.multistatus(
                "REPORT", book, _multiget_body(wanted[name][0] for name in chunk), "1"
            )
            for response in responses:
                name = _name(book, _path(book, response.href))
                text = response.text(_card("address-data"))
                if name not in wanted or text is None:
                    continue
                etag = (response.text(dav("getetag")) or "").strip() or wanted[name][1]
                fetched.append(_Fetched(name, wanted[name][0], etag, text))
                found.add(name)
        return fetched, set(wanted) - found

    def _changes(
        self,
        previous: _State,
        book: str,
        fetched: list[_Fetched],
        removed: set[str],
        token: str | None,
        state: Mapping[str, str],
    ) -> ContactChanges:
        same_book = previous.book == book
        cards = dict(previous.cards) if same_book else {}
        # Cards of another address book (the URL changed) are gone unless found again.
        candidates = (
            set() if same_book else {known.uid for known in previous.cards.values() if known.uid}
        )
        for name in removed:
            old = cards.pop(name, None)
            if old is not None and old.uid is not None:
                candidates.add(old.uid)
        batch, uids = _batch(fetched)
        for card in fetched:
            old = cards.get(card.name)
            if old is not None and old.uid is not None and old.uid != uids[card.name]:
                candidates.add(old.uid)
            cards[card.name] = _Known(card.etag, uids[card.name])
        present = {known.uid for known in cards.values()}
        gone = frozenset(uid for uid in candidates if uid not in present)
        written = _State(book, token, cards).write()
        if not fetched and not gone and written == dict(state):
            return ContactChanges(batch, state=state)
        # ContactChanges converts gone with frozenset, whose generic signature the
        # attrs plugin of mypy cannot match: hand it over untyped.
        return ContactChanges(batch, gone=gone, state=written)


def _book_of(url: str, response: Response) -> _Book:
    reports = response.props.get(dav("supported-report-set"))
    no_sync = reports is not None and reports.find(f".//{dav('sync-collection')}") is None
    return _Book(collection(url), no_sync=no_sync)


def _path(book: str, href: str) -> str:
    """The path an href names, absolute or relative to the address book."""
    return urlsplit(urljoin(book, href)).path


def _same_path(path: str, book: str) -> bool:
    return unquote(path).rstrip("/") == unquote(urlsplit(book).path).rstrip("/")


def _name(book: str, path: str) -> str:
    """A card's name in the address book: its path after the book's, as text (``ana.vcf``)."""
    inside = unquote(urlsplit(book).path)
    text = unquote(path)
    return text[len(inside) :] if text.startswith(inside) else text


# -- cards into one batch ------------------------------------------------------------


def _batch(fetched: list[_Fetched]) -> tuple[ImportBatch, dict[str, str | None]]:
    """The cards read into one batch with ids unique in it, and each card's UID by name.

    A group card gives no contact and the UID None; a card without a UID
    is known by its href.
    """
    ids = ProposedIds()
    contacts: list[Contact] = []
    occasions: list[OccasionKind] = []
    origins: dict[str, Origin] = {}
    skipped: list[Skipped] = []
    uids: dict[str, str | None] = {}
    for card in sorted(fetched, key=lambda card: card.name):
        source = f"{_LABEL}: {card.href}"
        try:
            read = read_vcard(card.text, source=source)
        except ImportFailed:
            raise
        except CadenceError as error:
            raise CadenceError(f"{source}: {error}") from None
        skipped.extend(Skipped(s.line, f"{card.href}: {s.reason}") for s in read.skipped)
        if len(read.contacts) > 1:
            raise CadenceError(
                f"{source}: holds {len(read.contacts)} cards, "
                "where an address book keeps one card a resource"
            )
        if not read.contacts:
            uids[card.name] = None
            continue
        contact = read.contacts[0]
        uid = read.origin(contact.id).uid or card.href
        new_id = ids(contact.name)
        contacts.append(attrs.evolve(contact, id=new_id))
        occasions.extend(
            attrs.evolve(occasion, contact=new_id)
            for occasion in read.occasions
            if occasion.contact == contact.id
        )
        origins[new_id] = Origin(line=None, uid=uid)
        uids[card.name] = uid
    batch = ImportBatch(
        contacts, occasions=occasions, origins=origins, skipped=skipped, proposed_ids=True
    )
    return batch, uids
