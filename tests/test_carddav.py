"""The carddav contact source, against a real Radicale server on 127.0.0.1."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import date

import pytest
import trustme

from _radicale import USERS, Radicale, address_book, radicale, start_radicale
from cadence import ConfigError, SourceConfig
from cadence._plugins import load_plugins
from cadence.core.errors import CadenceError
from cadence.core.model import Contact
from cadence.core.occasions import Anniversary, Birthday
from cadence.sources.batch import ContactChanges
from cadence.sources.carddav import CardDavSource, _batch, _Fetched, carddav, parse_xml

__all__ = ["address_book", "radicale"]  # fixtures, used by name

integration = pytest.mark.integration

PASSWORD_ENV = "CADENCE_TEST_CARDDAV_PASSWORD"

# Cards in the shapes the big address books store them.
APPLE = """\
BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//iPhone OS 17.4//EN
N:Martin;Chloé;;;
FN:Chloé Martin
ORG:Atelier Martin;
item1.EMAIL;type=INTERNET;type=pref:chloe@atelier-martin.example
item1.X-ABLabel:_$!<Work>!$_
item2.EMAIL;type=INTERNET;type=HOME:Chloe.Martin@home.example
TEL;type=CELL;type=VOICE;type=pref:+33 6 12 34 56 78
BDAY;VALUE=date:1604-12-01
item3.X-ABDATE;type=pref:2015-06-20
item3.X-ABLabel:_$!<Anniversary>!$_
UID:6B29A774-1C2E-4F9A-9E31-2C4D7E5A8B01
REV:2024-03-18T09:12:44Z
END:VCARD
"""
APPLE_GROUP = """\
BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//macOS 14.4//EN
N:Clients
FN:Clients
X-ADDRESSBOOKSERVER-KIND:group
X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:6B29A774-1C2E-4F9A-9E31-2C4D7E5A8B01
UID:5E2F6A7B-8C9D-4E0F-A1B2-C3D4E5F6A7B8
END:VCARD
"""
GOOGLE = """\
BEGIN:VCARD
VERSION:3.0
UID:c2a1b7f00e3d4a51
FN:Ana López
N:López;Ana;;;
EMAIL;TYPE=INTERNET;TYPE=HOME:ana.lopez@example.es
item1.EMAIL;TYPE=INTERNET:ana@lopez-design.example
item1.X-ABLabel:Studio
TEL;TYPE=CELL:+34 612 34 56 78
ORG:López Design
BDAY:1986-12-01
CATEGORIES:myContacts,starred,Clients
END:VCARD
"""
NEXTCLOUD = """\
BEGIN:VCARD
VERSION:3.0
PRODID:-//Sabre//Sabre VObject 4.5.4//EN
UID:0b6a3f2e-5c1d-4e8f-9a7b-2d3c4e5f6a7b
FN:Kwame Mensah
N:Mensah;Kwame;;;
EMAIL;TYPE=WORK:kwame@mensah.example
TEL;TYPE=CELL:+233 20 123 4567
CATEGORIES:Retainer
TZ:Africa/Accra
REV:20240318T091244Z
END:VCARD
"""
VCARD4 = """\
BEGIN:VCARD
VERSION:4.0
UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1
FN:Mei Chen
N:Chen;Mei;;;
EMAIL;TYPE=work;PREF=1:mei.chen@work.example
BDAY:--1201
TZ:America/Vancouver
END:VCARD
"""
# Card names on the server: Apple and Nextcloud name them after the UID, others as they like.
CARDS = {
    "6B29A774-1C2E-4F9A-9E31-2C4D7E5A8B01.vcf": APPLE,
    "5E2F6A7B-8C9D-4E0F-A1B2-C3D4E5F6A7B8.vcf": APPLE_GROUP,
    "c2a1b7f00e3d4a51.vcf": GOOGLE,
    "0b6a3f2e-5c1d-4e8f-9a7b-2d3c4e5f6a7b.vcf": NEXTCLOUD,
    "mei.vcf": VCARD4,
}
APPLE_UID = "6B29A774-1C2E-4F9A-9E31-2C4D7E5A8B01"
GOOGLE_UID = "c2a1b7f00e3d4a51"
NEXTCLOUD_UID = "0b6a3f2e-5c1d-4e8f-9a7b-2d3c4e5f6a7b"
MEI_UID = "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"


def person(uid: str, name: str, email: str) -> str:
    """A plain vCard 3.0 card."""
    return f"BEGIN:VCARD\nVERSION:3.0\nUID:{uid}\nFN:{name}\nEMAIL:{email}\nEND:VCARD\n"


def by_uid(changes: ContactChanges) -> dict[str, Contact]:
    """The batch's contacts by the UID their origin gives."""
    found = {}
    for contact in changes.batch.contacts:
        uid = changes.batch.origin(contact.id).uid
        assert uid is not None
        found[uid] = contact
    return found


@pytest.fixture
def login(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The settings that log in as ana, her password in an environment variable."""
    monkeypatch.setenv(PASSWORD_ENV, USERS["ana"])
    return {"username": "ana", "password_env": PASSWORD_ENV}


@pytest.fixture
def book(radicale: Radicale, address_book: str) -> str:
    """An address book of ana's holding the cards of CARDS."""
    for name, text in CARDS.items():
        radicale.put_card(address_book, name, text)
    return address_book


@pytest.fixture
def source(login: dict[str, str]) -> Iterator[Callable[..., CardDavSource]]:
    """Build carddav sources logged in as ana; closed after the test."""
    built: list[CardDavSource] = []

    def build(url: str, **options: object) -> CardDavSource:
        made = carddav(url=url, **login, **options)  # type: ignore[arg-type]
        built.append(made)
        return made

    yield build
    for made in built:
        made.close()


def reading(book: str, *, sync_collection: bool = True) -> CardDavSource:
    """A source for ana's ``book`` built directly, to choose whether sync tokens are used."""
    return CardDavSource(book, auth=("ana", USERS["ana"]), sync_collection=sync_collection)


# -- reading an address book -----------------------------------------------------------


@integration
def test_first_sync_returns_every_card_with_its_uid_and_fields(
    book: str, source: Callable[..., CardDavSource]
) -> None:
    """The first sync gives each person's card with its UID, fields and dates; a group none."""
    changes = source(book).contact_changes({})
    contacts = by_uid(changes)
    assert set(contacts) == {APPLE_UID, GOOGLE_UID, NEXTCLOUD_UID, MEI_UID}
    assert changes.gone == frozenset()
    assert changes.batch.proposed_ids
    chloe = contacts[APPLE_UID]
    assert chloe.name == "Chloé Martin"
    assert chloe.emails == ("chloe@atelier-martin.example", "Chloe.Martin@home.example")
    assert chloe.organization == "Atelier Martin"
    assert contacts[GOOGLE_UID].tags == frozenset({"Clients"})
    assert contacts[GOOGLE_UID].phones == ("+34 612 34 56 78",)
    assert contacts[NEXTCLOUD_UID].timezone == "Africa/Accra"
    assert contacts[MEI_UID].emails == ("mei.chen@work.example",)
    occasions = set(changes.batch.occasions)
    assert Birthday(chloe.id, 12, 1) in occasions
    assert Anniversary(chloe.id, date(2015, 6, 20), label="anniversary") in occasions
    assert Birthday(contacts[GOOGLE_UID].id, 12, 1, year=1986) in occasions
    assert Birthday(contacts[MEI_UID].id, 12, 1) in occasions
    assert all(origin.line is None for origin in changes.batch.origins.values())
    state = changes.state
    assert state is not None
    assert state["book"] == book
    assert state["token"]
    assert {key for key in state if key.startswith("etag:")} == {f"etag:{n}" for n in CARDS}
    assert state["etag:mei.vcf"].split(" ", 1)[1] == MEI_UID
    assert " " not in state["etag:5E2F6A7B-8C9D-4E0F-A1B2-C3D4E5F6A7B8.vcf"]  # a group: no uid


def _expired(state: Mapping[str, str]) -> dict[str, str]:
    return {**state, "token": "http://radicale.org/ns/sync/" + "0" * 64}


def _tokenless(state: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in state.items() if key != "token"}


# How a later sync is made: the source's options, and what is done to the kept state first.
MODES: dict[str, tuple[dict[str, bool], Callable[[Mapping[str, str]], dict[str, str]]]] = {
    "sync-token": ({}, dict),
    "etags": ({"sync_collection": False}, dict),
    "state-without-token": ({}, _tokenless),
    "expired-token": ({}, _expired),
}


@integration
@pytest.mark.parametrize("mode", list(MODES))
def test_added_changed_and_deleted_cards_show_on_the_next_sync(
    mode: str, radicale: Radicale, book: str
) -> None:
    """A card added, one changed, one deleted: new, changed and gone, whichever way it is read."""
    options, kept = MODES[mode]
    reader = reading(book, **options)
    first = reader.contact_changes({})
    assert first.state is not None
    radicale.put_card(book, "zoe.vcf", person("zoe-1", "Zoë Ålund", "zoe@example.se"))
    radicale.put_card(book, "c2a1b7f00e3d4a51.vcf", GOOGLE.replace("Ana López", "Ana López-Ruiz"))
    radicale.delete_card(book, "0b6a3f2e-5c1d-4e8f-9a7b-2d3c4e5f6a7b.vcf")
    second = reader.contact_changes(kept(first.state))
    contacts = by_uid(second)
    assert set(contacts) == {"zoe-1", GOOGLE_UID}
    assert contacts[GOOGLE_UID].name == "Ana López-Ruiz"
    assert contacts["zoe-1"].name == "Zoë Ålund"
    assert second.gone == frozenset({NEXTCLOUD_UID})
    assert second.state is not None
    assert "etag:0b6a3f2e-5c1d-4e8f-9a7b-2d3c4e5f6a7b.vcf" not in second.state
    assert second.state["etag:zoe.vcf"].endswith(" zoe-1")
    changed = "etag:c2a1b7f00e3d4a51.vcf"
    assert second.state[changed] != first.state[changed]
    assert ("token" in second.state) == (mode != "etags")
    third = reader.contact_changes(second.state)
    assert third.batch.contacts == ()
    assert third.gone == frozenset()
    assert dict(third.state or {}) == dict(second.state)


@integration
@pytest.mark.parametrize("mode", list(MODES))
def test_a_sync_with_nothing_changed_is_empty_and_keeps_the_state(mode: str, book: str) -> None:
    """Nothing changed: an empty batch, nothing gone, the state given back (a token refreshed)."""
    options, kept = MODES[mode]
    reader = reading(book, **options)
    first = reader.contact_changes({})
    assert first.state is not None
    given = kept(first.state)
    again = reader.contact_changes(given)
    assert again.batch.contacts == ()
    assert again.batch.occasions == ()
    assert again.gone == frozenset()
    assert again.state is not None
    if mode in ("sync-token", "etags"):
        assert dict(again.state) == given
    else:  # the state had no usable token: it gains the server's current one
        assert _tokenless(again.state) == _tokenless(given)
        assert again.state["token"] == first.state["token"]


@integration
def test_a_card_moved_to_another_name_is_not_gone(
    radicale: Radicale, book: str, source: Callable[..., CardDavSource]
) -> None:
    """A card deleted under one name and stored under another, same UID, is changed, not gone."""
    reader = source(book)
    first = reader.contact_changes({})
    assert first.state is not None
    radicale.delete_card(book, "mei.vcf")
    radicale.put_card(book, "mei-chen.vcf", VCARD4)
    second = reader.contact_changes(first.state)
    assert set(by_uid(second)) == {MEI_UID}
    assert second.gone == frozenset()
    assert second.state is not None
    assert "etag:mei.vcf" not in second.state
    assert second.state["etag:mei-chen.vcf"].endswith(" " + MEI_UID)


@integration
def test_another_address_book_replaces_the_cards_of_the_last(
    radicale: Radicale, book: str, source: Callable[..., CardDavSource]
) -> None:
    """When the URL names another address book, every card of the old one not in the new is gone."""
    first = source(book).contact_changes({})
    assert first.state is not None
    other_book = radicale.make_book(f"{book.rstrip('/').rsplit('/', 1)[1]}-other")
    try:
        radicale.put_card(other_book, "c2a1b7f00e3d4a51.vcf", GOOGLE)
        other = source(other_book).contact_changes(first.state)
    finally:
        radicale.drop_book(other_book)
    assert set(by_uid(other)) == {GOOGLE_UID}
    assert other.gone == frozenset({APPLE_UID, NEXTCLOUD_UID, MEI_UID})
    assert other.state is not None
    assert other.state["book"] == other_book


@integration
def test_the_address_book_is_found_from_the_server_root_or_the_principal(
    radicale: Radicale, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the root or the principal, the login's first address book by its address is read.

    Once read, it stays the one read while it is there.
    """
    people = radicale.make_book("people", user="bo")
    radicale.make_book("work", user="bo")
    radicale.put_card(people, "kim.vcf", person("kim-1", "Kim Park", "kim@example.kr"), user="bo")
    monkeypatch.setenv(PASSWORD_ENV, USERS["bo"])
    for url in (radicale.url, f"{radicale.url}bo/"):
        reader = carddav(url=url, username="bo", password_env=PASSWORD_ENV)
        changes = reader.contact_changes({})
        assert set(by_uid(changes)) == {"kim-1"}
        assert changes.state is not None
        assert changes.state["book"] == people
        again = reader.contact_changes(changes.state)
        assert again.batch.contacts == ()
        assert dict(again.state or {}) == dict(changes.state)
        reader.close()
    # A new address book that sorts first does not replace the one read so far.
    radicale.make_book("archive", user="bo")
    reader = carddav(url=radicale.url, username="bo", password_env=PASSWORD_ENV)
    later = reader.contact_changes(changes.state)
    assert later.batch.contacts == ()
    assert later.gone == frozenset()
    assert dict(later.state or {}) == dict(changes.state)
    reader.close()
    fresh = carddav(url=radicale.url, username="bo", password_env=PASSWORD_ENV)
    assert (fresh.contact_changes({}).state or {})["book"] == f"{radicale.url}bo/archive/"
    fresh.close()


# -- errors ----------------------------------------------------------------------------


@integration
def test_a_wrong_password_is_one_line_without_the_password(
    book: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused login says so for the URL, on one line, and never shows the password."""
    monkeypatch.setenv(PASSWORD_ENV, "not-Ana's-pa55word")
    reader = carddav(url=book, username="ana", password_env=PASSWORD_ENV)
    with pytest.raises(CadenceError) as raised:
        reader.contact_changes({})
    message = str(raised.value)
    assert message == f"carddav: the server refused the credentials for {book}"
    assert "pa55word" not in message


@integration
def test_another_users_address_book_is_refused(
    radicale: Radicale, source: Callable[..., CardDavSource]
) -> None:
    """A login the server forbids the address book to (403) is a refused login too."""
    theirs = radicale.make_book("private", user="bo")
    with pytest.raises(CadenceError, match=r"^carddav: the server refused the credentials for "):
        source(theirs).contact_changes({})


@integration
def test_a_server_that_asks_for_a_login_says_to_set_one(book: str) -> None:
    """Without username and password_env, the server's 401 says which settings are missing."""
    with pytest.raises(CadenceError, match=r"asks for a login .*: set username and password_env$"):
        carddav(url=book).contact_changes({})


@integration
def test_a_bad_card_names_its_href(
    radicale: Radicale, book: str, source: Callable[..., CardDavSource]
) -> None:
    """A card the vcard reader refuses stops the sync with one line naming the card's href."""
    bad = person("mars-1", "Mars Rover", "rover@example.org").replace(
        "END:VCARD", "TZ:Mars/Olympus_Mons\nEND:VCARD"
    )
    radicale.put_card(book, "rover.vcf", bad)
    with pytest.raises(CadenceError) as raised:
        source(book).contact_changes({})
    message = str(raised.value)
    assert message.startswith(f"carddav: /ana/{book.rstrip('/').rsplit('/', 1)[1]}/rover.vcf:")
    assert "Mars/Olympus_Mons" in message
    assert "\n" not in message


@integration
def test_an_address_book_that_is_not_there_is_named(
    radicale: Radicale, source: Callable[..., CardDavSource]
) -> None:
    """A URL under which the server finds nothing is one line naming it."""
    missing_book = f"{radicale.url}ana/no-such-book/"
    with pytest.raises(CadenceError) as raised:
        source(missing_book).contact_changes({})
    assert str(raised.value) == f"carddav: nothing at {missing_book} (HTTP 404)"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"url": ""}, r"^url must be the http or https URL"),
        ({"url": "ftp://dav.example/"}, r"^url must use http or https, not 'ftp'"),
        ({"url": "https://ana:hunter2@dav.example/"}, r"^url must not hold a user or password"),
        ({"url": "https://dav.example/ books/"}, r"^url must have no spaces"),
        ({"url": "https://dav.example:99999/"}, r"^url has a port that is not a number"),
        ({"url": "https://dav.example/?x=1"}, r"^url must have no query or fragment"),
        ({"url": "https://dav.example/", "username": "ana"}, r"go together"),
        ({"url": "https://dav.example/", "password_env": "X"}, r"go together"),
        (
            {"url": "https://dav.example/", "username": "ana", "password_env": "CADENCE_NOT_SET"},
            r"^password_env names 'CADENCE_NOT_SET', which is not set or empty$",
        ),
        (
            {"url": "http://dav.example/", "username": "ana", "password_env": PASSWORD_ENV},
            r"^a login needs an https url: no password in the clear$",
        ),
        ({"url": "https://dav.example/", "timeout": 0}, r"^timeout must be a number"),
        ({"url": "https://dav.example/", "timeout": True}, r"^timeout must be a number"),
        ({"url": "http://dav.example/", "ca_file": "ca.pem"}, r"^ca_file has no use with an http"),
        ({"url": "https://dav.example/", "ca_file": "/no/such/ca.pem"}, r"is not a file$"),
    ],
)
def test_bad_settings_are_config_errors_without_secrets(
    settings: dict[str, object], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each bad setting is a ConfigError naming it, never showing a password."""
    monkeypatch.setenv(PASSWORD_ENV, "hunter2")
    monkeypatch.delenv("CADENCE_NOT_SET", raising=False)
    with pytest.raises(ConfigError, match=message) as raised:
        carddav(**settings)  # type: ignore[arg-type]
    assert "hunter2" not in str(raised.value)


def test_a_login_over_http_is_allowed_to_this_machine_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Plain http may carry a password to localhost or a loopback address, nowhere else."""
    monkeypatch.setenv(PASSWORD_ENV, "hunter2")
    for url in ("http://localhost:5232/", "http://127.0.0.1:5232/ana/", "http://[::1]/"):
        carddav(url=url, username="ana", password_env=PASSWORD_ENV).close()
    with pytest.raises(ConfigError, match="no password in the clear"):
        carddav(url="http://192.0.2.7/", username="ana", password_env=PASSWORD_ENV)


def test_carddav_is_a_built_in_source_with_checked_settings() -> None:
    """cadence's own plugins register carddav; a misspelt setting is refused by name."""
    plugins = load_plugins(entry_points=False)
    assert "carddav" in plugins.source_names()
    assert plugins.registered("source")["carddav"].thing.resolve() is carddav
    table = SourceConfig(
        "carddav", name="phone", settings={"url": "https://dav.example/", "pasword_env": "X"}
    )
    with pytest.raises(
        ConfigError, match=r"^source 'phone': unknown carddav setting 'pasword_env'"
    ):
        plugins.build_source(table)


# -- what the network may and may not do ------------------------------------------------


class _Stub(http.server.BaseHTTPRequestHandler):
    """Answers with the server's ``routes`` for (method, path), else its ``answer``.

    An answer is (status, headers, body).
    """

    def _answer(self) -> None:
        server = self.server
        assert isinstance(server, _StubServer)
        server.seen.append(f"{self.command} {self.path}")
        server.logins.append(self.headers.get("Authorization", ""))
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        status, headers, body = server.routes.get((self.command, self.path), server.answer)
        if server.digest_only and not server.logins[-1].startswith("Digest "):
            challenge = 'Digest realm="cards", nonce="n0nce", qop="auth", algorithm=MD5'
            status, headers, body = 401, {"WWW-Authenticate": challenge}, b""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PROPFIND = do_REPORT = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read ``seen`` instead."""


class _StubServer(http.server.ThreadingHTTPServer):
    answer: tuple[int, dict[str, str], bytes] = (207, {}, b"")

    def __init__(self, host: str) -> None:
        super().__init__((host, 0), _Stub)
        self.seen: list[str] = []
        self.logins: list[str] = []
        self.digest_only = False
        self.routes: dict[tuple[str, str], tuple[int, dict[str, str], bytes]] = {}

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"


@pytest.fixture
def stub() -> Iterator[Callable[[str], _StubServer]]:
    """Start plain HTTP servers on loopback addresses with fixed answers; stopped after the test."""
    started: list[_StubServer] = []

    def start(host: str = "127.0.0.1") -> _StubServer:
        server = _StubServer(host)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


@integration
def test_a_server_error_is_one_line(stub: Callable[[str], _StubServer]) -> None:
    """A 5xx answer stops the sync with one line naming the status and the URL."""
    server = stub("127.0.0.1")
    server.answer = (503, {}, b"busy")
    with pytest.raises(CadenceError) as raised:
        carddav(url=server.url + "dav/").contact_changes({})
    assert str(raised.value) == f"carddav: the server failed with HTTP 503 for {server.url}dav/"


@integration
def test_a_redirect_to_another_host_is_not_followed(stub: Callable[[str], _StubServer]) -> None:
    """A redirect off the configured server is refused before anything is sent there."""
    elsewhere = stub("127.0.0.2")
    server = stub("127.0.0.1")
    server.answer = (301, {"Location": elsewhere.url + "dav/"}, b"")
    with pytest.raises(CadenceError, match=r"not on the configured server: not following it$"):
        carddav(url=server.url).contact_changes({})
    assert server.seen == ["PROPFIND /"]
    assert elsewhere.seen == []


@integration
def test_a_redirect_on_the_same_server_is_followed(stub: Callable[[str], _StubServer]) -> None:
    """A redirect that stays on the configured server is followed (then its answer is read)."""
    server = stub("127.0.0.1")
    server.answer = (308, {"Location": "/moved/"}, b"")
    with pytest.raises(CadenceError, match=r"^carddav: too many redirects"):
        carddav(url=server.url).contact_changes({})
    assert server.seen[:2] == ["PROPFIND /", "PROPFIND /moved/"]


def _multistatus(*responses: str) -> tuple[int, dict[str, str], bytes]:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<d:multistatus xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav">'
        + "".join(responses)
        + "</d:multistatus>"
    )
    return 207, {"Content-Type": "application/xml; charset=utf-8"}, body.encode()


def _response(href: str, props: str) -> str:
    return (
        f"<d:response><d:href>{href}</d:href><d:propstat><d:prop>{props}</d:prop>"
        "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
    )


@integration
def test_a_server_without_sync_tokens_is_found_from_its_well_known_address(
    stub: Callable[[str], _StubServer],
) -> None:
    """A root without DAV leads on through /.well-known/carddav; without sync tokens, ETags."""
    server = stub("127.0.0.1")
    book = "/dav/addressbooks/ana/contacts/"
    kinds = "<d:resourcetype><d:collection/><card:addressbook/></d:resourcetype>"
    only_multiget = (
        "<d:supported-report-set><d:supported-report><d:report><card:addressbook-multiget/>"
        "</d:report></d:supported-report></d:supported-report-set>"
    )
    etag = '<d:getetag>"e1"</d:getetag>'
    server.routes = {
        ("PROPFIND", "/"): (404, {}, b""),
        ("PROPFIND", "/.well-known/carddav"): (301, {"Location": "/dav/"}, b""),
        ("PROPFIND", "/dav/"): _multistatus(
            _response(
                "/dav/",
                "<d:current-user-principal><d:href>/dav/principals/ana/</d:href>"
                "</d:current-user-principal>",
            )
        ),
        ("PROPFIND", "/dav/principals/ana/"): _multistatus(
            _response(
                "/dav/principals/ana/",
                "<card:addressbook-home-set><d:href>/dav/addressbooks/ana/</d:href>"
                "</card:addressbook-home-set>",
            )
        ),
        ("PROPFIND", "/dav/addressbooks/ana/"): _multistatus(
            _response("/dav/addressbooks/ana/", "<d:resourcetype><d:collection/></d:resourcetype>"),
            _response(book, kinds + only_multiget),
        ),
        ("PROPFIND", book): _multistatus(
            _response(book, kinds), _response(book + "kim.vcf", "<d:resourcetype/>" + etag)
        ),
        ("REPORT", book): _multistatus(
            _response(
                book + "kim.vcf",
                etag
                + "<card:address-data>"
                + person("kim-1", "Kim Park", "kim@example.kr").replace("\n", "&#13;\n")
                + "</card:address-data>",
            )
        ),
    }
    reader = carddav(url=server.url)
    changes = reader.contact_changes({})
    assert set(by_uid(changes)) == {"kim-1"}
    assert changes.state == {"book": server.url + book[1:], "etag:kim.vcf": '"e1" kim-1'}
    assert server.seen == [
        "PROPFIND /",
        "PROPFIND /.well-known/carddav",
        "PROPFIND /dav/",
        "PROPFIND /dav/principals/ana/",
        "PROPFIND /dav/addressbooks/ana/",
        f"PROPFIND {book}",
        f"REPORT {book}",
    ]
    reader.close()


@integration
def test_a_server_that_asks_for_digest_gets_digest(
    stub: Callable[[str], _StubServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Digest-only challenge switches the login to Digest; close() closes the connections."""
    server = stub("127.0.0.1")
    server.digest_only = True
    book = "/cards/"
    server.routes = {
        ("PROPFIND", book): _multistatus(
            _response(book, "<d:resourcetype><d:collection/><card:addressbook/></d:resourcetype>")
        ),
        ("REPORT", book): _multistatus(),
    }
    server.answer = (404, {}, b"")
    monkeypatch.setenv(PASSWORD_ENV, "digest-pa55word")
    reader = carddav(url=server.url + "cards/", username="ana", password_env=PASSWORD_ENV)
    changes = reader.contact_changes({})
    connections = reader._dav.session.get_adapter(server.url).poolmanager  # type: ignore[attr-defined]
    assert len(connections.pools) == 1
    reader.close()
    assert len(connections.pools) == 0  # close() closes the session's connections
    assert changes.batch.contacts == ()
    assert server.logins[0].startswith("Basic ")
    assert all(login.startswith('Digest username="ana"') for login in server.logins[2:])
    assert not any("pa55word" in login for login in server.logins[1:])


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<multistatus xmlns="DAV:"><response><href>&lol2;</href></response></multistatus>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<multistatus xmlns="DAV:"><response><href>&secret;</href></response></multistatus>"""


@integration
def test_xml_with_a_document_type_is_refused(stub: Callable[[str], _StubServer]) -> None:
    """An answer declaring entities is unreadable, whatever the entities would expand to."""
    server = stub("127.0.0.1")
    server.answer = (207, {"Content-Type": "application/xml"}, BILLION_LAUGHS)
    with pytest.raises(CadenceError, match=r"unreadable answer .*declares a document type$"):
        carddav(url=server.url).contact_changes({})


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_parse_xml_refuses_document_types(body: bytes) -> None:
    """Entity declarations, internal or external, are refused before any is expanded."""
    with pytest.raises(ValueError, match="declares a document type"):
        parse_xml(body)


def test_parse_xml_names_elements_by_namespace() -> None:
    """Prefixes are resolved: elements are named {namespace}local whatever the server's prefix."""
    root = parse_xml(
        b'<x:multistatus xmlns:x="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav">'
        b"<x:response><c:address-data>BEGIN:VCARD&#13;\nEND:VCARD</c:address-data>"
        b"</x:response></x:multistatus>"
    )
    assert root.tag == "{DAV:}multistatus"
    data = root.find("{DAV:}response/{urn:ietf:params:xml:ns:carddav}address-data")
    assert data is not None
    assert data.text == "BEGIN:VCARD\r\nEND:VCARD"
    with pytest.raises(ValueError, match="not well-formed"):
        parse_xml(b"<multistatus xmlns='DAV:'><response></multistatus>")


@integration
def test_a_refused_connection_is_one_line() -> None:
    """Nothing listening: one line naming the URL and the reason."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(CadenceError) as raised:
        carddav(url=f"http://127.0.0.1:{port}/").contact_changes({})
    assert (
        str(raised.value)
        == f"carddav: cannot connect to http://127.0.0.1:{port}/: connection refused"
    )


@integration
def test_a_server_that_never_answers_times_out_in_one_line() -> None:
    """A server that takes the connection but says nothing: one line after ``timeout`` seconds."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(CadenceError) as raised:
            carddav(url=f"http://127.0.0.1:{port}/", timeout=0.3).contact_changes({})
    assert str(raised.value) == (
        f"carddav: http://127.0.0.1:{port}/ did not answer within 0.3 seconds"
    )


# -- https -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    """A throwaway certificate authority."""
    return trustme.CA()


@pytest.fixture(scope="module")
def radicale_tls(
    authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Radicale]:
    """Radicale over https on 127.0.0.1, its certificate signed by ``authority``."""
    folder = tmp_path_factory.mktemp("radicale-tls")
    chain, key, ca_file = folder / "chain.pem", folder / "key.pem", folder / "ca.pem"
    issued = authority.issue_cert("127.0.0.1")
    issued.cert_chain_pems[0].write_to_path(str(chain))
    issued.private_key_pem.write_to_path(str(key))
    authority.cert_pem.write_to_path(str(ca_file))
    server = start_radicale(folder, tls=(chain, key), ca_file=ca_file)
    try:
        yield server
    finally:
        server.stop()


@integration
def test_https_verifies_the_certificate_and_trusts_ca_file(
    radicale_tls: Radicale, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over https the certificate is checked: refused without the private CA, read with ca_file."""
    book = radicale_tls.make_book("contacts")
    radicale_tls.put_card(book, "kim.vcf", person("kim-1", "Kim Park", "kim@example.kr"))
    monkeypatch.setenv(PASSWORD_ENV, USERS["ana"])
    login = {"username": "ana", "password_env": PASSWORD_ENV}
    with pytest.raises(CadenceError) as raised:
        carddav(url=book, **login).contact_changes({})
    assert str(raised.value).startswith(
        f"carddav: cannot connect to {book}: certificate not trusted"
    )
    assert radicale_tls.ca_file is not None
    trusted = carddav(url=book, ca_file=radicale_tls.ca_file, **login)
    assert set(by_uid(trusted.contact_changes({}))) == {"kim-1"}
    trusted.close()


# -- the cards of one sync in one batch -----------------------------------------------------


def test_cards_become_one_batch_with_unique_ids_and_their_occasions() -> None:
    """Two cards of one name get distinct ids; each card's dates follow its id; no UID: the href."""
    twin = "BEGIN:VCARD\nVERSION:3.0\nUID:{uid}\nFN:Ana López\nBDAY:{day}\nEND:VCARD\n"
    fetched = [
        _Fetched("a.vcf", "/ana/book/a.vcf", '"1"', twin.format(uid="a-1", day="1990-01-02")),
        _Fetched("b.vcf", "/ana/book/b.vcf", '"2"', twin.format(uid="b-2", day="1991-03-04")),
        _Fetched("c.vcf", "/ana/book/c.vcf", '"3"', "BEGIN:VCARD\nVERSION:3.0\nFN:Bo\nEND:VCARD\n"),
    ]
    batch, uids = _batch(fetched)
    assert [contact.id for contact in batch.contacts] == ["ana-lopez", "ana-lopez-2", "bo"]
    assert {contact.id: batch.origin(contact.id).uid for contact in batch.contacts} == {
        "ana-lopez": "a-1",
        "ana-lopez-2": "b-2",
        "bo": "/ana/book/c.vcf",
    }
    assert set(batch.occasions) == {
        Birthday("ana-lopez", 1, 2, year=1990),
        Birthday("ana-lopez-2", 3, 4, year=1991),
    }
    assert uids == {"a.vcf": "a-1", "b.vcf": "b-2", "c.vcf": "/ana/book/c.vcf"}
    assert batch.proposed_ids


def test_a_resource_with_two_cards_is_refused() -> None:
    """An address book keeps one card a resource: a resource holding two is named as an error."""
    two = person("x-1", "X", "x@example.org") + person("y-1", "Y", "y@example.org")
    with pytest.raises(CadenceError, match=r"^carddav: /b/two\.vcf: holds 2 cards"):
        _batch([_Fetched("two.vcf", "/b/two.vcf", '"1"', two)])


@pytest.mark.parametrize(
    ("configured", "target", "allowed"),
    [
        ("https://contacts.icloud.com/", "https://p42-contacts.icloud.com/1/carddavhome/", True),
        ("https://contacts.icloud.com:443/", "https://contacts.icloud.com/1/", True),
        ("https://contacts.icloud.com/", "http://contacts.icloud.com/1/", False),
        ("https://contacts.icloud.com/", "https://p42-contacts.icloud.com:8443/", False),
        ("https://contacts.icloud.com/", "https://icloud.com.evil.example/", False),
        ("https://contacts.icloud.com/", "https://ana:pw@contacts.icloud.com/", False),
        ("https://dav.example.co.uk/", "https://cards.example.co.uk/", True),
        ("https://example.co.uk/", "https://evil.co.uk/", False),
        ("https://dav.example.com/", "https://example.com/", False),
        ("http://127.0.0.1:5232/", "http://127.0.0.1:5232/ana/", True),
        ("http://127.0.0.1:5232/", "http://127.0.0.1:5233/ana/", False),
        ("http://127.0.0.1:5232/", "http://127.0.0.2:5232/ana/", False),
    ],
)
def test_requests_go_only_to_the_configured_server_or_its_domain(
    configured: str, target: str, allowed: bool
) -> None:
    """The configured scheme, host and port, or for https another host of the same domain."""
    reader = CardDavSource(configured)
    assert reader._dav.allows(target) is allowed
    reader.close()
