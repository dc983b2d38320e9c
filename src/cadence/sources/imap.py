"""The ``imap`` touch source: the headers of the mail in an IMAP mailbox (RFC 9051, RFC 3501).

``imap(host=..., username=..., password_env=...)`` builds an ``ImapSource``;
its ``touch_changes(state, now=...)`` returns the messages that arrived in
the mailbox's folders since the sync that gave ``state``:

- The folders are INBOX and the folder the server flags ``\\Sent`` (RFC
  6154), unless ``folders`` names others. A server that flags no folder is
  searched for the usual names ("Sent", "Sent Items", "[Gmail]/Sent Mail").
- Each folder is opened read-only (``EXAMINE``), so nothing is marked read.
  Of each message only the header fields in ``HEADER_FIELDS`` and the time
  the server received it are fetched (``BODY.PEEK[HEADER.FIELDS (...)]``,
  ``INTERNALDATE``), never a body.
- The first sync reads the messages received in the last ``since`` (a
  year by default); later ones read the UIDs above the last one seen. The
  state keeps, under ``folder:<name>``, the folder's UIDVALIDITY and that
  last UID. When the server changes a folder's UIDVALIDITY (the folder was
  rebuilt), the folder is read again from ``since``: a message's ref is a
  hash of its Message-ID (of its header, when it has none), so nothing read
  twice is logged twice.

Deletions are not followed: a touch stays logged when its message is
deleted. A password goes only over TLS (implicit, or STARTTLS), except to
this machine; certificates are always verified.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import ipaddress
import socket
import ssl
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from cadence.adapters import _settings as check
from cadence.core.durations import parse_duration
from cadence.core.errors import CadenceError, ConfigError
from cadence.core.time import require_aware
from cadence.core.touches import Message
from cadence.sources._mail import HEADER_FIELDS, read_header
from cadence.sources.batch import TouchChanges

__all__ = ["DEFAULT_TIMEOUT", "FETCH_BATCH", "ImapSource", "imap"]

#: Seconds to wait for the server to connect, and then for each answer.
DEFAULT_TIMEOUT: Final = 30.0
#: How many messages one FETCH asks for.
FETCH_BATCH: Final = 500

_LABEL = "imap"
_SECURITY = {"tls": 993, "starttls": 143, "none": 143}
# Where servers that flag no folder \Sent keep sent mail (Dovecot and Courier
# put folders under "INBOX." or "INBOX/").
_SENT_NAMES = ("Sent", "Sent Items", "Sent Messages", "[Gmail]/Sent Mail")
_FOLDER = "folder:"
_FIELDS = " ".join(field.upper() for field in HEADER_FIELDS)
_FETCH = (f"BODY.PEEK[HEADER.FIELDS ({_FIELDS})]", "INTERNALDATE")


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ConfigError(f"port must be a number from 1 to 65535, not {value!r}")
    return value


def _folders(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise ConfigError('folders must be a list of folder names, such as ["INBOX", "Sent"]')
    names = tuple(check.text("a folder name", name) for name in value)
    if len({name.upper() if name.upper() == "INBOX" else name for name in names}) < len(names):
        raise ConfigError(f"folders names a folder twice: {list(names)!r}")
    return names


def imap(
    *,
    host: str,
    port: int | None = None,
    security: str = "tls",
    username: str,
    password_env: str,
    folders: Sequence[str] | None = None,
    since: str = "365d",
    timeout: float = DEFAULT_TIMEOUT,
    ca_file: str | None = None,
) -> ImapSource:
    """Build the ``imap`` touch source from a ``[[sources]]`` table's settings.

    ``host`` and ``port`` name the server; ``security`` is ``tls`` (implicit
    TLS, port 993 unless given), ``starttls`` (port 143, then STARTTLS) or
    ``none`` (port 143, no encryption: allowed only to this machine, since
    the password would travel in the clear). ``username`` logs in with the
    password in the environment variable ``password_env`` (often an
    app-specific password). ``folders`` lists the folders to read, by
    default INBOX and the sent-mail folder; ``since`` is how far back the
    first sync reads ("365d", "8 weeks"). ``timeout`` is in seconds;
    ``ca_file`` is a file of certificates to trust for a server whose
    certificate a private authority signed.

    Bad settings raise ConfigError naming the setting, never the password.
    """
    checked_host = check.text("host", host)
    if any(c.isspace() for c in checked_host) or "/" in checked_host:
        raise ConfigError(f"host must be a host name or an address, not {host!r}")
    if security not in _SECURITY:
        raise ConfigError(f"security must be tls, starttls or none, not {security!r}")
    if security == "none" and not _loopback(checked_host):
        raise ConfigError(
            'security = "none" is allowed only to this machine: '
            "the password would cross the network in the clear; use tls or starttls"
        )
    checked_port = _port(port)
    user = check.text("username", username)
    window = parse_duration(since)
    if window <= timedelta(0):
        raise ConfigError(f"since must be a duration above zero, not {since!r}")
    trusted = None
    if ca_file is not None:
        if security == "none":
            raise ConfigError('ca_file has no use with security = "none"')
        trusted = check.ca_file(ca_file)
    return ImapSource(
        checked_host,
        checked_port if checked_port is not None else _SECURITY[security],
        security=security,
        username=user,
        password=check.password_from_env(password_env),
        folders=_folders(folders),
        since=window,
        timeout=check.timeout(timeout),
        ca_file=trusted,
    )


def _folder_state(value: str) -> tuple[int, int] | None:
    """(UIDVALIDITY, last UID) of a kept ``folder:`` value, or None when it does not parse."""
    parts = value.split()
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
        return None
    return int(parts[0]), int(parts[1])


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ImapSource:
    """The mail of one IMAP account, read as touches; built by ``imap``.

    ``me`` holds the username when it is an address: mail from it is mail
    you sent. Each ``touch_changes`` opens one connection and logs out at
    its end; ``close`` ends a connection left open by a failure.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: str,
        username: str,
        password: str,
        folders: tuple[str, ...] | None,
        since: timedelta,
        timeout: float,
        ca_file: str | None,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self._password = password
        self.folders = folders
        self.since = since
        self.timeout = timeout
        self.ca_file = ca_file
        self.me: frozenset[str] = frozenset({username} if "@" in username else ())
        self._client: Any = None

    def __repr__(self) -> str:
        return f"<ImapSource {self.username}@{self._where}>"

    @property
    def _where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def _error(self, text: str) -> CadenceError:
        # One line, and never the password, whatever a server or a library said.
        line = " ".join(text.replace(self._password, "***").split())
        return CadenceError(f"{_LABEL}: {self._where}: {line}")

    def touch_changes(self, state: Mapping[str, str], *, now: datetime) -> TouchChanges:
        """The messages that arrived since the sync that returned ``state`` (empty at first).

        Raises CadenceError, in one line naming the server, for a refused
        login, a server that cannot be reached or does not answer in time, a
        certificate that is not trusted, or a configured folder that does
        not exist.
        """
        now = require_aware(now, "now")
        first_day = (now - self.since).astimezone(UTC).date()
        try:
            client = self._connect()
            try:
                folders = self._choose_folders(client)
                messages: list[Message] = []
                written: dict[str, str] = {}
                for folder in folders:
                    kept = _folder_state(state.get(_FOLDER + folder, ""))
                    found, uidvalidity, last = self._read_folder(client, folder, kept, first_day)
                    messages.extend(found)
                    written[_FOLDER + folder] = f"{uidvalidity} {last}"
            finally:
                self.close()
        except CadenceError:
            raise
        except imaplib.IMAP4.abort as error:
            raise self._error(f"the server closed the connection: {error}") from None
        except TimeoutError:
            raise self._error(
                f"the server did not answer within {self.timeout:g} seconds"
            ) from None
        except ssl.SSLCertVerificationError as error:
            raise self._error(
                f"TLS failed: certificate not trusted: {error.verify_message}"
            ) from None
        except ssl.SSLError as error:
            reason = str(error.reason or error).replace("_", " ").lower()
            if "wrong version number" in reason:
                # The commonest cause: implicit TLS to a port that speaks plain IMAP.
                reason += f" (does port {self.port} speak TLS? try security = starttls)"
            raise self._error(f"TLS failed: {reason}") from None
        except imaplib.IMAP4.error as error:
            raise self._error(f"the server refused a command: {error}") from None
        except OSError as error:
            raise self._error(f"the connection failed: {_reason(error)}") from None
        return TouchChanges(items=messages, state=written)

    def close(self) -> None:
        """Log out and close the connection, if one is open."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            with contextlib.suppress(OSError):
                client.shutdown()

    # -- the connection --------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        # With a ca_file, only that authority is trusted, as carddav does.
        return ssl.create_default_context(cafile=self.ca_file)

    def _connect(self) -> Any:
        from imapclient import IMAPClient
        from imapclient.exceptions import CapabilityError, LoginError

        try:
            client = IMAPClient(
                self.host,
                self.port,
                ssl=self.security == "tls",
                ssl_context=self._context() if self.security == "tls" else None,
                timeout=self.timeout,
            )
        except socket.gaierror as error:
            raise self._error(f"cannot find the host: {_reason(error)}") from None
        except (ConnectionError, OSError) as error:
            if isinstance(error, TimeoutError | ssl.SSLError):
                raise
            raise self._error(f"cannot connect: {_reason(error)}") from None
        self._client = client
        # INTERNALDATE as aware datetimes, in the zone the server gave.
        client.normalise_times = False
        if self.security == "starttls":
            try:
                client.starttls(self._context())
            except CapabilityError:
                raise self._error(
                    "the server offers no STARTTLS: not sending the password in the clear"
                ) from None
        try:
            client.login(self.username, self._password)
        except LoginError as error:
            said = _said(error)
            raise self._error(
                f"the server refused the login of {self.username}" + (f": {said}" if said else "")
            ) from None
        return client

    def _choose_folders(self, client: Any) -> tuple[str, ...]:
        listed = client.list_folders()
        names = {str(name) for _, _, name in listed}
        if self.folders is not None:
            for folder in self.folders:
                if folder not in names and not (folder.upper() == "INBOX" and "INBOX" in names):
                    raise self._error(f"the folder {folder!r} does not exist")
            return self.folders
        sent = next((str(name) for flags, _, name in listed if b"\\Sent" in flags), None)
        if sent is None and not client.has_capability("SPECIAL-USE"):
            sent = _sent_by_name(names)
        return ("INBOX", sent) if sent is not None and sent.upper() != "INBOX" else ("INBOX",)

    # -- reading a folder -------------------------------------------------------------

    def _read_folder(
        self, client: Any, folder: str, kept: tuple[int, int] | None, first_day: date
    ) -> tuple[list[Message], int, int]:
        """The new messages of ``folder``, its UIDVALIDITY, and the last UID now seen."""
        opened = client.select_folder(folder, readonly=True)
        uidvalidity = int(opened.get(b"UIDVALIDITY", 0))
        uidnext = opened.get(b"UIDNEXT")
        if kept is not None and kept[0] == uidvalidity:
            last = kept[1]
            if isinstance(uidnext, int) and uidnext <= last + 1:
                # Nothing has arrived: no need to ask.
                return [], uidvalidity, last
            # "N:*" always holds the folder's last message, even below N.
            uids = [uid for uid in client.search(["UID", f"{last + 1}:*"]) if uid > last]
        else:
            uids = list(client.search(["SINCE", first_day]))
            # Messages received before ``since`` are passed over for good, not read next time.
            last = uidnext - 1 if isinstance(uidnext, int) else max(client.search("ALL"), default=0)
        uids.sort()
        messages = []
        for batch in _chunks(uids, FETCH_BATCH):
            fetched = client.fetch(batch, _FETCH)
            for uid in batch:
                data = fetched.get(uid)
                if data is not None:
                    messages.append(_message(folder, uidvalidity, uid, data))
        if uids:
            last = max(last, uids[-1])
        return messages, uidvalidity, last


def _message(folder: str, uidvalidity: int, uid: int, data: Mapping[bytes, Any]) -> Message:
    raw = b""
    for key, value in data.items():
        if key.startswith(b"BODY[HEADER.FIELDS") and isinstance(value, bytes):
            raw = value
            break
    arrived = data.get(b"INTERNALDATE")
    if not isinstance(arrived, datetime) or arrived.tzinfo is None:
        arrived = None
    # A message with no Message-ID is named by its header: the same message
    # then has the same ref in every folder, and after a UIDVALIDITY change.
    where = (
        f"header:{hashlib.sha256(raw).hexdigest()}"
        if raw.strip()
        else f"{folder}:{uidvalidity}:{uid}"
    )
    return read_header(raw, where=where, arrived=arrived)


def _sent_by_name(names: set[str]) -> str | None:
    by_lower = {name.lower(): name for name in names}
    for candidate in _SENT_NAMES:
        for prefix in ("", "INBOX.", "INBOX/"):
            found = by_lower.get((prefix + candidate).lower())
            if found is not None:
                return found
    return None


def _said(error: BaseException) -> str:
    """What the server said in a refusal, without imaplib's wrapping."""
    text = str(error)
    for marker in ("b'", 'b"'):
        if marker in text:
            text = text.split(marker, 1)[1].rstrip("'\"]) ")
    return text.strip()


def _reason(error: OSError) -> str:
    return str(error.strerror or error).lower()
