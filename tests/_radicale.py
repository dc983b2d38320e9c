"""A real Radicale CardDAV server on 127.0.0.1, and what another client would do to it.

``radicale`` (module-scoped) starts Radicale in a subprocess on a free port
with its storage in a temporary folder and htpasswd logins for ``ana`` and
``bo``; ``address_book`` (per test) gives a new, empty address book of
``ana``'s. The server's methods PUT and DELETE cards with requests, as a phone
or a web client would. A test that cannot start Radicale calls
``missing`` (skipped locally, failed in CI).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
import requests

from _servers import free_port, missing, stop

__all__ = ["Radicale", "address_book", "radicale"]

# Logins of the test server: ana has the address books the tests use; bo has
# exactly one, for discovery.
USERS = {"ana": "ana-secret-4Lq", "bo": "bo-secret-9Zt"}

_STARTUP_SECONDS = 30.0
# Radicale's own line for each request it receives, at the info level.
_REQUEST_LINE = re.compile(r"\] ([A-Z]+) request for '.*' received from .* using '([^']*)'")

_CONFIG = """\
[server]
hosts = 127.0.0.1:{port}
{tls}

[auth]
type = htpasswd
htpasswd_filename = {users}
htpasswd_encryption = plain

[rights]
type = owner_only

[storage]
filesystem_folder = {storage}

[logging]
level = {level}
"""

# RFC 5689's extended MKCOL: a collection that is an address book (RFC 6352, 6.3.1).
_MKCOL_ADDRESS_BOOK = """\
<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">
  <D:set><D:prop>
    <D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>
    <D:displayname>{name}</D:displayname>
  </D:prop></D:set>
</D:mkcol>
"""

# RFC 5689's extended MKCOL: a calendar collection for events (RFC 4791, 5.3.1).
_MKCOL_CALENDAR = """\
<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop>
    <D:resourcetype><D:collection/><C:calendar/></D:resourcetype>
    <D:displayname>{name}</D:displayname>
    <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
  </D:prop></D:set>
</D:mkcol>
"""


@attrs.frozen
class Radicale:
    """A running Radicale: its root URL, and a client's view of its address books."""

    url: str
    process: subprocess.Popen[bytes] = attrs.field(repr=False)
    ca_file: str | None = None
    log: Path | None = None

    def password(self, user: str = "ana") -> str:
        """The password of ``user`` on this server."""
        return USERS[user]

    def session(self, user: str = "ana") -> requests.Session:
        """A requests session logged in as ``user``, as another CardDAV client would be."""
        session = requests.Session()
        session.auth = (user, USERS[user])
        # Not a CA bundle named in the environment: only this server's authority.
        session.trust_env = False
        session.verify = self.ca_file or True
        return session

    def book_url(self, name: str, user: str = "ana") -> str:
        """The URL of ``user``'s address book called ``name``."""
        return f"{self.url}{user}/{name}/"

    def make_book(self, name: str, user: str = "ana") -> str:
        """Create ``user``'s address book ``name`` (an extended MKCOL) and return its URL."""
        url = self.book_url(name, user)
        with self.session(user) as session:
            # The first request as a user makes Radicale create that user's principal.
            session.request("PROPFIND", f"{self.url}{user}/", headers={"Depth": "0"}, timeout=10)
            answer = session.request(
                "MKCOL",
                url,
                data=_MKCOL_ADDRESS_BOOK.format(name=name).encode(),
                headers={"Content-Type": "application/xml; charset=utf-8"},
                timeout=10,
            )
        assert answer.status_code == 201, (answer.status_code, answer.text)
        return url

    def make_calendar(self, display: str = "Work", user: str = "ana") -> str:
        """Create a calendar of ``user``'s called ``display`` (an extended MKCOL); its URL."""
        url = self.book_url(f"cal-{uuid.uuid4().hex[:12]}", user)
        with self.session(user) as session:
            session.request("PROPFIND", f"{self.url}{user}/", headers={"Depth": "0"}, timeout=10)
            answer = session.request(
                "MKCOL",
                url,
                data=_MKCOL_CALENDAR.format(name=display).encode(),
                headers={"Content-Type": "application/xml; charset=utf-8"},
                timeout=10,
            )
        assert answer.status_code == 201, (answer.status_code, answer.text)
        return url

    def drop_book(self, url: str, user: str = "ana") -> None:
        """Delete an address book and every card in it."""
        with self.session(user) as session:
            session.delete(url, timeout=30)

    def put_card(self, book: str, name: str, text: str, user: str = "ana") -> str:
        """Store ``text`` as the card ``name`` (e.g. ``ana.vcf``) of ``book``; return its ETag."""
        with self.session(user) as session:
            answer = session.put(
                book + name,
                data=text.replace("\r\n", "\n").replace("\n", "\r\n").encode(),
                headers={"Content-Type": "text/vcard; charset=utf-8"},
                timeout=30,
            )
        assert answer.status_code in (201, 204), (answer.status_code, answer.text)
        return answer.headers.get("ETag", "")

    def put_book(self, book: str, text: str, user: str = "ana") -> None:
        """Replace every card of ``book`` with the cards of one .vcf text, in one request.

        Radicale takes a whole address book in one PUT; each card becomes a
        resource of its own, named after its UID.
        """
        with self.session(user) as session:
            answer = session.put(
                book,
                data=text.replace("\r\n", "\n").replace("\n", "\r\n").encode(),
                headers={"Content-Type": "text/vcard; charset=utf-8"},
                timeout=600,
            )
        assert answer.status_code in (201, 204), (answer.status_code, answer.text[:500])

    def delete_card(self, book: str, name: str, user: str = "ana") -> None:
        """Delete the card ``name`` of ``book``."""
        with self.session(user) as session:
            answer = session.delete(book + name, timeout=30)
        assert answer.status_code in (200, 204), (answer.status_code, answer.text)

    def requests_seen(self, agent: str = "") -> Counter[str]:
        """How many requests of each method the server logged (when started at ``level="info"``).

        Only those whose User-Agent starts with ``agent``, when it is given.
        """
        assert self.log is not None
        text = self.log.read_text(errors="replace")
        return Counter(
            match.group(1)
            for match in _REQUEST_LINE.finditer(text)
            if match.group(2).startswith(agent)
        )

    def stop(self) -> None:
        """Stop the server and wait for it to exit."""
        stop(self.process)


def _wait_until_up(process: subprocess.Popen[bytes], port: int, log: Path) -> str | None:
    """None once the server takes connections, else why it never did."""
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            return f"Radicale exited with {process.returncode}: {' | '.join(tail)}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError:
            time.sleep(0.1)
            continue
        return None
    return f"Radicale did not answer within {_STARTUP_SECONDS:.0f} seconds"


def start_radicale(
    folder: Path,
    *,
    tls: tuple[Path, Path] | None = None,
    ca_file: Path | None = None,
    level: str = "warning",
) -> Radicale:
    """Start Radicale with its storage, logins and log under ``folder``; ``missing`` if it can't.

    ``tls`` is (certificate chain, key) as PEM files: the server then speaks
    https only, and its clients trust the authority in ``ca_file``. With
    ``level="info"`` the server logs every request it receives, which
    ``requests_seen`` counts.
    """
    try:
        import radicale  # noqa: F401  # only to tell "not installed" from "would not start"
    except ImportError:
        missing("Radicale is not installed (pip install radicale)")
    users = folder / "users"
    users.write_text("".join(f"{user}:{password}\n" for user, password in USERS.items()))
    storage = folder / "collections"
    storage.mkdir()
    port = free_port()
    config = folder / "radicale.conf"
    secure = f"ssl = True\ncertificate = {tls[0]}\nkey = {tls[1]}" if tls else ""
    config.write_text(
        _CONFIG.format(port=port, users=users, storage=storage, tls=secure, level=level)
    )
    log = folder / "radicale.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}/"
    problem = _wait_until_up(process, port, log)
    server = Radicale(url, process, str(ca_file) if ca_file else None, log)
    if problem is not None:
        server.stop()
        missing(problem)
    return server


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Radicale]:
    """A Radicale server on 127.0.0.1 for this module's tests, stopped after them."""
    server = start_radicale(tmp_path_factory.mktemp("radicale"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def address_book(radicale: Radicale) -> Iterator[str]:
    """The URL of a new, empty address book of ``ana``'s, deleted after the test."""
    url = radicale.make_book(f"book-{uuid.uuid4().hex[:12]}")
    try:
        yield url
    finally:
        radicale.drop_book(url)
