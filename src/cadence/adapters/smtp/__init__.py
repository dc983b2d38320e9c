"""The ``smtp`` adapter: emails due reminders, as one digest per run or one message each.

All the messages of one ``deliver()`` call go through one SMTP session
(STARTTLS, implicit TLS, or plain on a trusted network). When the server
offers PIPELINING, each message's content travels with the next message's
envelope, so a message costs one round trip. When the server drops the
session, it is opened once more for the message in flight. Failures are
classified, not retried here:

- the session cannot be opened at all (connection refused, timeout, TLS or
  login refused): ``DeliveryError`` for the whole batch, transient, so that
  the next attempt (after the server is back, or a setting fixed) sends them;
- a message refused with 4xx: a transient ``Failure`` for each of its
  reminders; with 5xx: a permanent one;
- the session lost mid-run and not restored: transient Failures for every
  reminder not yet sent; those already sent count as delivered.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.errors import NonASCIILocalPartDefect
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP, SMTPUTF8, default
from functools import partial
from typing import Any, Literal, TypeAlias, overload

import attrs

from cadence._delivery import Failure
from cadence.adapters import _settings as check
from cadence.adapters.smtp.message import (
    Addressing,
    Head,
    MessageWriter,
    UnsafeHeaders,
    digest_message,
    flatten,
    one_line,
)
from cadence.core.errors import ConfigError, DeliveryError
from cadence.core.reminders import Reminder
from cadence.core.time import require_aware
from cadence.l10n import ENGLISH, Words, route_words

__all__ = ["Outgoing", "Secret", "SmtpAdapter", "SmtpSettings", "parse_settings", "smtp_adapter"]

log = logging.getLogger("cadence.smtp")

Security: TypeAlias = Literal["starttls", "tls", "none"]

#: The port each kind of security listens on by default (RFC 8314, RFC 6409).
DEFAULT_PORTS: Mapping[str, int] = {"starttls": 587, "tls": 465, "none": 25}

#: Seconds to wait for the server on each step when ``timeout`` is not set.
DEFAULT_TIMEOUT = 30.0

SETTINGS = frozenset(
    {
        "ca_file",
        "digest",
        "from",
        "host",
        "list_unsubscribe",
        "locale",
        "password",
        "password_env",
        "port",
        "security",
        "timeout",
        "to",
        "username",
    }
)


class Secret:
    """A password that never shows itself: its repr and str are masked."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The password itself, for the login and nothing else."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


# -- settings -----------------------------------------------------------------


def _address(name: str, value: object) -> Address:
    text = check.text(name, value)
    if "=?" in text:
        # The parser would decode it as an RFC 2047 encoded word, into anything.
        raise ConfigError(f"{name} must not hold '=?'; write the name as plain text: {text!r}")
    if one_line(text) != " ".join(text.split()):
        raise ConfigError(f"{name} must have no control, line-break or bidi characters: {text!r}")
    try:
        header = default.header_factory("To", text)
    except ValueError:
        raise ConfigError(f"{name} must be one email address, not {text!r}") from None
    addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    # Non-ASCII local parts are fine: such messages go out with SMTPUTF8.
    defects = [d for d in header.defects if not isinstance(d, NonASCIILocalPartDefect)]
    if defects or len(addresses) != 1:
        raise ConfigError(f"{name} must be one email address, not {text!r}")
    address: Address = addresses[0]
    if not address.username or not address.domain:
        raise ConfigError(f"{name} must be a full email address (user@domain), not {text!r}")
    return address


def _addresses(value: object) -> tuple[Address, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        raise ConfigError(f"to must be a list of email addresses, not {value!r}")
    return tuple(_address("each address in to", item) for item in value)


def _port(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ConfigError(f"port must be a whole number from 1 to 65535, not {value!r}")
    return value


def _security(value: object) -> Security:
    if value == "starttls" or value == "tls" or value == "none":
        return value
    raise ConfigError(f"security must be 'starttls', 'tls' or 'none', not {value!r}")


def _uris(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        raise ConfigError(f"list_unsubscribe must be a URI or a list of URIs, not {value!r}")
    uris = []
    for item in value:
        uri = check.text("list_unsubscribe", item).removeprefix("<").removesuffix(">")
        if not uri.lower().startswith(("mailto:", "https:", "http:")):
            raise ConfigError(f"list_unsubscribe takes mailto:, https: or http: URIs, not {uri!r}")
        if any(c.isspace() or c in '<>,"' for c in uri) or not uri.isascii():
            raise ConfigError(f'list_unsubscribe URI must be ASCII with no spaces or <>,": {uri!r}')
        if "=?" in uri:
            # In a header it would read as an RFC 2047 encoded word and be decoded.
            raise ConfigError(f"list_unsubscribe URI must not hold '=?' (write ? as %3F): {uri!r}")
        uris.append(uri)
    return tuple(uris)


def _password(settings: Mapping[str, Any]) -> Secret | None:
    # Messages here never show the password: only the setting's and variable's names.
    if "password" in settings and "password_env" in settings:
        raise ConfigError("give password or password_env, not both")
    if "password" in settings:
        value = settings["password"]
        if not isinstance(value, str) or not value:
            raise ConfigError("password must be non-empty text")
        return Secret(value)
    if "password_env" in settings:
        return Secret(check.password_from_env(settings["password_env"]))
    return None


@attrs.frozen
class SmtpSettings:
    """A checked ``smtp`` route: server, security, login, addresses and mode.

    Build it with ``parse_settings``. Its repr never shows the password.
    """

    host: str
    port: int
    security: Security
    addressing: Addressing
    username: str | None = None
    password: Secret | None = attrs.field(default=None, repr=False)
    digest: bool = True
    timeout: float = DEFAULT_TIMEOUT
    ca_file: str | None = None
    #: The words of the messages: the ``locale`` setting's, else ``CADENCE_LOCALE``'s
    #: or the platform's (``cadence.l10n.route_words``).
    words: Words = attrs.field(default=ENGLISH, repr=False)

    @property
    def recipients(self) -> tuple[str, ...]:
        """The envelope's recipients: the bare addresses of ``to``."""
        return tuple(a.addr_spec for a in self.addressing.to)

    @property
    def sender(self) -> str:
        """The envelope's sender: the bare address of ``from``."""
        return self.addressing.sender.addr_spec

    @property
    def server(self) -> str:
        """``host:port``, to name the server in errors."""
        return f"{self.host}:{self.port}"


def parse_settings(settings: Mapping[str, Any]) -> SmtpSettings:
    """Check an ``smtp`` route's settings; ConfigError names the first bad one.

    ``from`` is a Python keyword, which is why the settings come as a mapping.
    """
    unknown = sorted(set(settings) - SETTINGS)
    if unknown:
        known = ", ".join(sorted(SETTINGS))
        raise ConfigError(f"unknown smtp setting {unknown[0]!r} (known: {known})")
    for required in ("host", "from", "to"):
        if required not in settings:
            raise ConfigError(f"the smtp adapter needs the {required!r} setting")
    security = _security(settings.get("security", "starttls"))
    username = settings.get("username")
    if username is not None:
        username = check.text("username", username)
    password = _password(settings)
    if (username is None) != (password is None):
        raise ConfigError("username and password (or password_env) go together")
    if password is not None and security == "none":
        raise ConfigError("a login needs security 'starttls' or 'tls': no password in the clear")
    ca_file = settings.get("ca_file")
    if ca_file is not None:
        if security == "none":
            raise ConfigError("ca_file has no use with security 'none'")
        ca_file = check.ca_file(ca_file)
    digest = check.flag("digest", settings.get("digest", True))
    words = route_words(settings.get("locale"), "smtp")
    unsubscribe = settings.get("list_unsubscribe")
    return SmtpSettings(
        host=check.text("host", settings["host"]),
        port=_port(settings.get("port", DEFAULT_PORTS[security])),
        security=security,
        addressing=Addressing(
            sender=_address("from", settings["from"]),
            to=_addresses(settings["to"]),
            list_unsubscribe=() if unsubscribe is None else _uris(unsubscribe),
        ),
        username=username,
        password=password,
        digest=digest,
        timeout=check.timeout(settings.get("timeout", DEFAULT_TIMEOUT)),
        ca_file=ca_file,
        words=words,
    )


# -- the session ----------------------------------------------------------------


class _ImplicitTLS(smtplib.SMTP_SSL):
    """SMTP over TLS from the first byte, closing the plain socket if the handshake fails."""

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        plain = socket.create_connection((host, port), timeout, self.source_address)
        try:
            return self.context.wrap_socket(plain, server_hostname=host)
        except BaseException:
            plain.close()
            raise


@attrs.frozen
class Outgoing:
    """One message to send and the keys of the reminders it carries.

    A message written straight to bytes (``MessageWriter``) is given without
    ``message``; it is parsed from ``data`` the first time it is asked for.
    """

    _message: EmailMessage | None = attrs.field(alias="message")
    keys: tuple[str, ...]
    data: bytes = attrs.field(repr=False)
    _id: str | None = attrs.field(default=None, alias="id", kw_only=True, repr=False)

    @property
    def message(self) -> EmailMessage:
        """The message, as the email package reads it."""
        if self._message is None:
            parsed = BytesParser(policy=default).parsebytes(self.data)
            assert isinstance(parsed, EmailMessage)  # the default policy makes them
            object.__setattr__(self, "_message", parsed)
            return parsed
        return self._message

    @property
    def id(self) -> str:
        """The message's Message-ID."""
        return self._id if self._id is not None else str(self.message["Message-ID"])


Reply: TypeAlias = tuple[int, bytes]

_ACCEPTED = (250, 251)
_CLOSING = 421


class _SessionLost(Exception):
    """The server dropped the session, or said it is closing it (421), at message ``index``."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index


@attrs.frozen
class _Envelope:
    """A message's MAIL, RCPT and DATA commands, and the recipients they name."""

    item: Outgoing
    recipients: tuple[str, ...]
    commands: list[bytes]


class _Broken(Exception):
    """The session broke during an exchange, after ``replies``."""

    def __init__(self, replies: list[Reply], reason: str) -> None:
        super().__init__(reason)
        self.replies = replies
        self.reason = reason


def _reply(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(text.split())


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_reply(error.smtp_error)}"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate not trusted: {error.verify_message}"
    if isinstance(error, TimeoutError | socket.timeout):
        return "timed out"
    return str(error) or type(error).__name__


def _is_transient(code: int) -> bool:
    return not 500 <= code < 600


def _international(sender: str, recipients: Sequence[str]) -> bool:
    # Addresses beyond ASCII need the server's SMTPUTF8 (RFC 6531).
    return not (sender.isascii() and all(r.isascii() for r in recipients))


def _refusal(reply: Reply) -> Reply:
    """A reply to DATA other than 354, as the end of a message that was not sent."""
    if reply[0] >= 400:
        return reply
    # A server that says yes to DATA without asking for the content has not taken it.
    return (451, b"unexpected reply to DATA: " + reply[1])


def _reasons(refused: Mapping[str, Reply]) -> str:
    return "; ".join(f"{rcpt}: {code} {_reply(text)}" for rcpt, (code, text) in refused.items())


def _content(data: bytes) -> bytes:
    """The message as DATA carries it: lines starting with a dot doubled, ending in CRLF.CRLF."""
    stuffed = re.sub(rb"(?m)^\.", b"..", data)
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


def _exchange(
    smtp: smtplib.SMTP,
    chunks: Sequence[bytes],
    pipelining: bool,
    meanwhile: Callable[[], object] | None = None,
) -> list[Reply]:
    """Send ``chunks`` (commands, or a message's content) and read one reply for each.

    With PIPELINING (RFC 2920) they go out in one write and the replies are
    read after; without, each waits for its reply. ``meanwhile`` is called
    once the first write is out, before the first reply is read, so that its
    work and the server's overlap. When the session breaks, ``_Broken``
    carries the replies read until then.
    """
    replies: list[Reply] = []
    try:
        smtp.send(b"".join(chunks) if pipelining else chunks[0])
    except (OSError, smtplib.SMTPException) as error:
        raise _Broken(replies, _describe(error)) from None
    if meanwhile is not None:
        meanwhile()
    try:
        replies.append(smtp.getreply())
        for chunk in chunks[1:]:
            if not pipelining:
                smtp.send(chunk)
            replies.append(smtp.getreply())
    except (OSError, smtplib.SMTPException) as error:
        raise _Broken(replies, _describe(error)) from None
    return replies


class _Outbox(Sequence[Outgoing]):
    """Per-reminder messages whose heads are written, each written whole when first asked for.

    While the server reads one message, sending asks for the message after
    the next (``prepare``), so that writing messages and the server's work
    overlap instead of adding up. A message once written stays the same
    bytes, as a message sent again after a dropped session must.
    """

    def __init__(self, writer: MessageWriter, heads: list[tuple[Reminder, Head]], now: datetime):
        self._writer = writer
        self._heads = heads
        self._now = now
        self._written: list[Outgoing | None] = [None] * len(heads)

    def __len__(self) -> int:
        return len(self._heads)

    @overload
    def __getitem__(self, index: int) -> Outgoing: ...

    @overload
    def __getitem__(self, index: slice) -> list[Outgoing]: ...

    def __getitem__(self, index: int | slice) -> Outgoing | list[Outgoing]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        item = self._written[index]
        if item is None:
            reminder, head = self._heads[index]
            data = self._writer.reminder_body(reminder, self._now, head)
            item = Outgoing(None, (reminder.key,), data, id=head.ident)
            self._written[index] = item
        return item

    def prepare(self, index: int) -> None:
        """Write message ``index`` now, when there is one, so that it is ready when asked for."""
        if 0 <= index < len(self):
            self[index]

    def keys(self, start: int) -> list[str]:
        """The keys of the reminders of the messages from ``start`` on, written or not."""
        return [reminder.key for reminder, _ in self._heads[start:]]


def _keys(outgoing: Sequence[Outgoing], start: int) -> list[str]:
    if isinstance(outgoing, _Outbox):
        return outgoing.keys(start)
    return [key for item in outgoing[start:] for key in item.keys]


class SmtpAdapter:
    """Sends due reminders by email through one SMTP session per ``deliver()`` call.

    With ``digest`` (the default) a batch becomes one message listing every
    reminder; otherwise each reminder gets its own message. Build it from a
    route's settings with ``smtp_adapter(**settings)``.
    """

    def __init__(
        self, settings: SmtpSettings, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.settings = settings
        self._clock = clock or (lambda: datetime.now(UTC))
        self._smtp: smtplib.SMTP | None = None
        self._local_name: str | None = None
        international = _international(settings.sender, settings.recipients)
        self._policy = SMTPUTF8 if international else SMTP
        # Recipients that already took a message which then failed for others:
        # a retry by the same adapter goes only to the rest.
        self._accepted: dict[str, set[str]] = {}
        self._report: Callable[[str, Failure | None], None] | None = None
        # Prepared at the first per-reminder message: the headers every message shares.
        self._writer: MessageWriter | None = None

    def __repr__(self) -> str:
        s = self.settings
        login = f", username={s.username!r}" if s.username else ""
        return (
            f"SmtpAdapter(server={s.server!r}, security={s.security!r}{login}, "
            f"to={list(s.recipients)!r}, digest={s.digest!r})"
        )

    # -- messages -------------------------------------------------------------

    def outgoing(
        self, reminders: Sequence[Reminder], now: datetime, *, sent: datetime | None = None
    ) -> list[Outgoing]:
        """The messages ``deliver`` sends for ``reminders`` at ``now``: one digest, or one each.

        ``now`` is the moment of the run, which the wording and the calendar
        follow; ``sent`` is the Date header, by default ``now``. A message
        whose headers would not come out as set raises ``UnsafeHeaders``.
        """
        built, failures = self._build(reminders, now, sent or now)
        if failures:
            raise UnsafeHeaders(failures[0].error)
        return list(built)

    def _build(
        self, reminders: Sequence[Reminder], now: datetime, sent: datetime
    ) -> tuple[Sequence[Outgoing], list[Failure]]:
        """The messages for ``reminders``, and a Failure for each reminder that gets none.

        Per-reminder messages come as an ``_Outbox``, written as they are asked for.
        """
        if not self.settings.digest:
            return self._write(reminders, now, sent)
        keys = tuple(r.key for r in reminders)
        message = digest_message(
            reminders, self.settings.addressing, now, sent=sent, words=self.settings.words
        )
        try:
            # Flattened once: a message sent again after a dropped session is the same bytes.
            return [Outgoing(message, keys, flatten(message, self._policy))], []
        except UnsafeHeaders as error:
            return [], self._unsafe(keys, error)

    def _write(
        self, reminders: Sequence[Reminder], now: datetime, sent: datetime
    ) -> tuple[_Outbox, list[Failure]]:
        """One message per reminder: every head written and checked now, the rest when asked."""
        if self._writer is None:
            self._writer = MessageWriter(
                self.settings.addressing, self._policy, self.settings.words
            )
        heads: list[tuple[Reminder, Head]] = []
        failures: list[Failure] = []
        for reminder in reminders:
            try:
                heads.append((reminder, self._writer.reminder_head(reminder, sent)))
            except UnsafeHeaders as error:
                failures += self._unsafe((reminder.key,), error)
        return _Outbox(self._writer, heads, now), failures

    def _unsafe(self, keys: Sequence[str], error: UnsafeHeaders) -> list[Failure]:
        # The same reminders would give the same message again: retrying cannot help.
        text = f"smtp {self.settings.server}: message not sent: {error}"
        return [Failure(key, text, permanent=True) for key in keys]

    # -- delivery -------------------------------------------------------------

    def deliver(
        self,
        reminders: Sequence[Reminder],
        *,
        now: datetime | None = None,
        report: Callable[[str, Failure | None], None] | None = None,
    ) -> list[Failure] | None:
        """Send ``reminders``; return a Failure for each one whose message was refused.

        ``now`` is the moment of the run, which dispatch gives (``--now``
        sets it): what the messages say ("today", "in 3 days") and their
        calendar follow it. Without it, the adapter's clock stands in. The
        Date header is always the clock's time of sending. ``report(key,
        failure)`` is told the outcome of each message's reminders as soon as
        the server answers for it (``failure`` None when delivered). Raises
        ``DeliveryError`` (transient) when no session can be opened.
        """
        if not reminders:
            return None
        sent = self._clock()
        moment = sent if now is None else require_aware(now, "now")
        built, failures = self._build(reminders, moment, sent)
        self._report = report
        try:
            return [*failures, *self.send(built)] or None
        finally:
            self._report = None

    def send(self, outgoing: Sequence[Outgoing]) -> list[Failure]:
        """Send built messages in one session; return the Failures of those refused.

        When the server drops the session, it is opened again once for the
        message in flight; if that message loses the session again, it and the
        messages after it fail, transiently. Raises ``DeliveryError``
        (transient) when no session can be opened at all.
        """
        if not outgoing:
            return []
        try:
            self._open()
        except (OSError, smtplib.SMTPException) as error:
            message = f"smtp {self.settings.server}: {_describe(error)}"
            raise DeliveryError(self._scrub(message)) from error
        failures: list[Failure] = []
        start, reopened_at = 0, -1
        try:
            while start < len(outgoing):
                try:
                    self._run(outgoing, start, failures)
                    break
                except _SessionLost as lost:
                    start, reason = lost.index, str(lost)
                # No QUIT: the session may be mid-message, and the server is going anyway.
                self._abandon()
                log.info("smtp %s dropped the session (%s)", self.settings.server, reason)
                if reopened_at != start:
                    reopened_at = start
                    reason = self._reopen() or reason
                    if self._smtp is not None:
                        continue
                text = self._scrub(f"smtp {self.settings.server}: session lost: {reason}")
                failures += [Failure(key, text) for key in _keys(outgoing, start)]
                break
        finally:
            self.close()
        return failures

    def close(self) -> None:
        """End the SMTP session, if one is open; deliver() opens a new one when needed."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def _abandon(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _reopen(self) -> str | None:
        """Open the session again; None when it worked, else what went wrong."""
        try:
            self._open()
        except (OSError, smtplib.SMTPException) as error:
            return _describe(error)
        return None

    def _run(self, outgoing: Sequence[Outgoing], start: int, failures: list[Failure]) -> None:
        """Send ``outgoing[start:]``, adding to ``failures``; _SessionLost names where it broke.

        Each message's content goes out together with the next message's
        envelope (MAIL, RCPT, DATA) when the server allows pipelining, so a
        message costs one round trip. Messages of an ``_Outbox`` are written
        during the round trips, while the server works.
        """
        smtp = self._smtp
        if smtp is None:
            raise _SessionLost(start, "not connected")
        pipelining = smtp.has_extn("pipelining")
        prepare = outgoing.prepare if isinstance(outgoing, _Outbox) else None
        current = self._envelope(smtp, outgoing[start])
        try:
            after = None if prepare is None else partial(prepare, start + 1)
            replies = _exchange(smtp, current.commands, pipelining, after)
        except _Broken as broken:
            raise _SessionLost(start, broken.reason) from None
        for index in range(start, len(outgoing)):
            if any(code == _CLOSING for code, _ in replies):
                raise _SessionLost(index, self._closing(replies))
            mail, *rcpts, data = replies
            ahead = outgoing[index + 1] if index + 1 < len(outgoing) else None
            following = None if ahead is None else self._envelope(smtp, ahead)
            # After a refused DATA the transaction is still open: RSET before the next.
            first = _content(current.item.data) if data[0] == 354 else b"RSET\r\n"
            lost = None
            chunks = [first, *(following.commands if following else ())]
            try:
                # The message after next is written while the server reads this one.
                after = None if prepare is None else partial(prepare, index + 2)
                replies = _exchange(smtp, chunks, pipelining, after)
            except _Broken as broken:
                if not broken.replies:
                    raise _SessionLost(index, broken.reason) from None
                replies, lost = broken.replies, broken.reason
            end = replies[0] if data[0] == 354 else _refusal(data)
            if end[0] == _CLOSING:
                raise _SessionLost(index, _reply(end[1]))
            told = self._outcome(current, mail, rcpts, end)
            failures += told
            if self._report is not None:
                refused = {failure.key: failure for failure in told}
                for key in current.item.keys:
                    self._report(key, refused.get(key))
            if lost is not None:
                raise _SessionLost(index + 1, lost)
            if following is not None:
                current, replies = following, replies[1:]

    def _closing(self, replies: Sequence[Reply]) -> str:
        return next(_reply(text) for code, text in replies if code == _CLOSING)

    def _envelope(self, smtp: smtplib.SMTP, item: Outgoing) -> _Envelope:
        options = []
        if smtp.does_esmtp:
            if smtp.has_extn("size"):
                options.append(f"SIZE={len(item.data)}")
            if self._policy is SMTPUTF8:
                options += ["SMTPUTF8", "BODY=8BITMIME"]
        # A retry goes only to those who did not take the message the first time.
        accepted = self._accepted.get(item.id, set())
        recipients = tuple(r for r in self.settings.recipients if r not in accepted)
        mail = " ".join([f"MAIL FROM:<{self.settings.sender}>", *options])
        rcpts = [f"RCPT TO:<{r}>" for r in recipients]
        # Addresses were checked when the route was read: no CR or LF can be in them.
        commands = [f"{line}\r\n".encode() for line in (mail, *rcpts, "DATA")]
        return _Envelope(item, recipients, commands)

    def _outcome(
        self, envelope: _Envelope, mail: Reply, rcpts: Sequence[Reply], end: Reply
    ) -> list[Failure]:
        """The Failures of a message from its replies to MAIL, each RCPT, and the end of DATA."""
        item = envelope.item
        if mail[0] not in _ACCEPTED:
            return self._fail(item, f"sender refused: {mail[0]} {_reply(mail[1])}", mail[0])
        pairs = zip(envelope.recipients, rcpts, strict=True)
        refused = {r: reply for r, reply in pairs if reply[0] not in _ACCEPTED}
        taken = [r for r in envelope.recipients if r not in refused]
        if not taken:
            return self._refused(item, refused)
        if end[0] not in _ACCEPTED:
            return self._fail(item, f"{end[0]} {_reply(end[1])}", end[0])
        if not refused:
            self._accepted.pop(item.id, None)
            return []
        self._accepted.setdefault(item.id, set()).update(taken)
        if any(_is_transient(code) for code, _ in refused.values()):
            return self._refused(item, refused)
        # Some inbox has it; retrying cannot help the addresses refused for good.
        self._accepted.pop(item.id, None)
        log.warning("smtp %s: %s refused %s", self.settings.server, item.id, _reasons(refused))
        return []

    def _refused(self, item: Outgoing, refused: Mapping[str, Reply]) -> list[Failure]:
        transient = any(_is_transient(code) for code, _ in refused.values())
        code = 450 if transient else 550
        return self._fail(item, f"refused {_reasons(refused)}", code)

    def _fail(self, item: Outgoing, error: str, code: int) -> list[Failure]:
        text = self._scrub(f"smtp {self.settings.server}: {error}")
        permanent = not _is_transient(code)
        return [Failure(key, text, permanent=permanent) for key in item.keys]

    def _scrub(self, text: str) -> str:
        # A server may echo what it was sent; the password never leaves in an error.
        password = self.settings.password
        if password is not None and password.reveal() in text:
            text = text.replace(password.reveal(), "********")
        return text

    def _open(self) -> None:
        s = self.settings
        if self._local_name is None:
            self._local_name = socket.getfqdn()
        context = None if s.security == "none" else ssl.create_default_context(cafile=s.ca_file)
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = _ImplicitTLS(
                s.host, s.port, local_hostname=self._local_name, timeout=s.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(s.host, s.port, local_hostname=self._local_name, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError(
                        "the server does not offer STARTTLS; use security 'tls' or 'none'"
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username is not None and s.password is not None:
                smtp.login(s.username, s.password.reveal())
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp


def smtp_adapter(**settings: Any) -> SmtpAdapter:
    """Build the ``smtp`` adapter from a route's settings; ConfigError names a bad one."""
    return SmtpAdapter(parse_settings(settings))
