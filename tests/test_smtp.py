"""The smtp adapter and the emails it builds, sent through real SMTP servers on loopback."""

from __future__ import annotations

import asyncio
import base64
import email
import html
import ipaddress
import os
import re
import socket
import ssl
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP, default
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import icalendar
import pytest
import vobject
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from cadence import (
    Birthday,
    ConfigError,
    Contact,
    DeliveryError,
    Every,
    Reminder,
    Roster,
    Route,
    Rule,
    Touchpoint,
    plan,
)
from cadence._config import open_store, routes_from_data
from cadence._dispatch import dispatch
from cadence._plugins import Plugins
from cadence.adapters.smtp import SETTINGS, Outgoing, SmtpAdapter, parse_settings, smtp_adapter
from cadence.adapters.smtp import message as message_module
from cadence.adapters.smtp.message import (
    Addressing,
    MessageWriter,
    UnsafeHeaders,
    _with_method,
    _with_organizer,
    calendar_attachment,
    digest_message,
    flatten,
    header_text,
    message_id,
    one_line,
    reminder_message,
    sections,
)
from cadence.l10n import ENGLISH, Words, for_locale

SENDER = "Cadence <cadence@example.org>"
ME = "me@example.org"
PASSWORD = "s3cret-Pa55word"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


# -- reminders --------------------------------------------------------------------


def _roster(*extra: Contact) -> Roster:
    contacts = [
        # Every two weeks since 1 October: due 15 October, overdue at ``now``.
        Contact(
            "ada", "Ada Lovelace", email="ada@example.com", channel="email", since=date(2026, 10, 1)
        ),
        # Last spoke on 9 November: due today at 09:00.
        Contact("bob", "Bob Brown", channel="phone"),
        # Birthday on 26 November: coming up.
        Contact("cy", "Cy Young", channel="video", since=date(2026, 11, 20)),
        *extra,
    ]
    return Roster(
        contacts,
        [Rule(Every(weeks=2))],
        [Birthday("cy", 11, 26)],
        [Touchpoint("bob", datetime(2026, 11, 9, 10, tzinfo=UTC), "phone")],
    )


@pytest.fixture
def agenda_reminders(now: datetime) -> tuple[Reminder, ...]:
    """Every reminder of the roster within five days: one overdue, one today, one coming up."""
    reminders = plan(_roster(), now=now, horizon=timedelta(days=5)).reminders
    assert [r.contact.id for r in reminders] == ["ada", "bob", "cy"]
    return reminders


def _reminders_of(now: datetime, *contacts: Contact) -> tuple[Reminder, ...]:
    roster = Roster(contacts, [Rule(Every(weeks=2))])
    return plan(roster, now=now, horizon=timedelta(0)).due


def _many(now: datetime, n: int) -> tuple[Reminder, ...]:
    return _reminders_of(now, *(Contact(f"c{i}", f"Contact {i}") for i in range(n)))


# -- servers ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Recorder:
    """An SMTP handler that keeps every message it accepts, with how its session looked."""

    def __init__(self) -> None:
        self.received: list[tuple[Envelope, Session]] = []
        self.data_calls = 0
        self.pipelining = False

    async def handle_EHLO(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        # aiosmtpd reads commands in order from a stream, so it copes with
        # pipelining; it just does not say so. Saying it tests both ways of sending.
        session.host_name = hostname
        if self.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    def answer(self, envelope: Envelope) -> str | None:
        """The reply to DATA instead of accepting, or None to accept; for subclasses."""
        return None

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.data_calls += 1
        refusal = self.answer(envelope)
        if refusal is not None:
            return refusal
        self.received.append((envelope, session))
        return "250 2.0.0 OK"

    @property
    def messages(self) -> list[EmailMessage]:
        """What arrived, parsed."""
        found = []
        for envelope, _ in self.received:
            assert isinstance(envelope.content, bytes)
            message = email.message_from_bytes(envelope.content, policy=default)
            assert isinstance(message, EmailMessage)
            found.append(message)
        return found

    @property
    def peers(self) -> set[object]:
        """The client ends of the sessions that delivered something: one per connection."""
        return {session.peer for _, session in self.received}


@pytest.fixture(params=[False, True], ids=["one-by-one", "pipelined"])
def pipelining(request: pytest.FixtureRequest) -> bool:
    """Whether the test server offers PIPELINING; sending tests run both ways."""
    return bool(request.param)


@contextmanager
def serving(
    handler: Recorder, port: int | None = None, *, pipelining: bool = False, **options: Any
) -> Iterator[int]:
    """An aiosmtpd server on 127.0.0.1 for the duration; yields its port."""
    handler.pipelining = pipelining
    port = port or _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def _adapter(port: int, **settings: Any) -> SmtpAdapter:
    settings = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from": SENDER,
        "to": [ME],
        "timeout": 10,
        **settings,
    }
    return SmtpAdapter(parse_settings(settings), clock=lambda: NOW)


def _parts(message: EmailMessage) -> tuple[str, str, icalendar.Calendar]:
    plain = message.get_body(("plain",))
    markup = message.get_body(("html",))
    assert isinstance(plain, EmailMessage)
    assert isinstance(markup, EmailMessage)
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "cadence.ics"
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    return plain.get_content(), markup.get_content(), calendar


def _uids(calendar: icalendar.Calendar) -> list[str]:
    return [str(event["UID"]) for event in calendar.walk("VEVENT")]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cadence test server")])
    start = datetime.now(UTC) - timedelta(days=1)
    identifier = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(identifier, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(identifier),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / "cert.pem"
    key_file = directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """The server side's TLS context with the self-signed certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


# -- settings ---------------------------------------------------------------------

BASE: dict[str, Any] = {"host": "smtp.example.org", "from": SENDER, "to": [ME]}


def test_the_plugin_registers_smtp(plugins: Plugins) -> None:
    """The built-in plugin registers "smtp", and a route's settings build the adapter."""
    route = Route("smtp", settings={**BASE, "digest": False})
    adapter = plugins.build_adapter(route)
    assert isinstance(adapter, SmtpAdapter)
    assert adapter.settings.digest is False
    assert adapter.settings.port == 587
    assert adapter.settings.security == "starttls"


def test_defaults_follow_security() -> None:
    """The port defaults to 587 for STARTTLS, 465 for TLS and 25 for none."""
    ports = [parse_settings({**BASE, "security": s}).port for s in ("starttls", "tls", "none")]
    assert ports == [587, 465, 25]


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({**BASE, "hostname": "x"}, "'hostname'"),
        ({**BASE, "sender": "x@example.org"}, "'sender'"),
        ({"from": SENDER, "to": [ME]}, "'host'"),
        ({"host": "h", "to": [ME]}, "'from'"),
        ({"host": "h", "from": SENDER}, "'to'"),
        ({**BASE, "security": "ssl"}, "security"),
        ({**BASE, "port": 0}, "port"),
        ({**BASE, "port": "587"}, "port"),
        ({**BASE, "timeout": 0}, "timeout"),
        ({**BASE, "digest": "yes"}, "digest"),
        ({**BASE, "to": []}, "to"),
        ({**BASE, "to": ["not an address"]}, "to"),
        ({**BASE, "to": ["a@example.org\r\nBcc: evil@example.com"]}, "to"),
        ({**BASE, "from": "nobody"}, "from"),
        ({**BASE, "host": "smtp.example.org\n"}, "host"),
        ({**BASE, "list_unsubscribe": "javascript:alert(1)"}, "list_unsubscribe"),
        ({**BASE, "list_unsubscribe": "https://example.org/u?a=<b>"}, "list_unsubscribe"),
        ({**BASE, "ca_file": "/nonexistent/ca.pem"}, "ca_file"),
        ({**BASE, "security": "none", "ca_file": "x"}, "ca_file"),
        ({**BASE, "username": "me"}, "password"),
        ({**BASE, "password": PASSWORD}, "username"),
        ({**BASE, "username": "me", "password": PASSWORD, "password_env": "X"}, "password_env"),
        ({**BASE, "security": "none", "username": "me", "password": PASSWORD}, "security"),
        ({**BASE, "username": "me", "password": 12345}, "password"),
        ({**BASE, "username": "me", "password_env": "CADENCE_TEST_UNSET_PASSWORD"}, "CADENCE_TEST"),
    ],
)
def test_bad_settings_are_refused_by_name(settings: dict[str, Any], named: str) -> None:
    """A bad or unknown setting raises ConfigError naming it, and never shows a password."""
    with pytest.raises(ConfigError, match=named) as caught:
        smtp_adapter(**settings)
    assert PASSWORD not in str(caught.value)
    assert "12345" not in str(caught.value)


def test_the_password_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    """No repr or str of the adapter or its settings shows the password, from either source."""
    monkeypatch.setenv("CADENCE_TEST_SMTP_PASSWORD", PASSWORD)
    for source in ({"password": PASSWORD}, {"password_env": "CADENCE_TEST_SMTP_PASSWORD"}):
        adapter = smtp_adapter(**BASE, username="me", **source)
        shown = [repr(adapter), str(adapter), repr(adapter.settings), str(adapter.settings)]
        shown += [repr(adapter.settings.password), str(adapter.settings.password)]
        assert all(PASSWORD not in text for text in shown)
        assert adapter.settings.password is not None
        assert adapter.settings.password.reveal() == PASSWORD


# -- building messages (no server) -------------------------------------------------


def _addressing(**options: Any) -> Addressing:
    settings = parse_settings({**BASE, **options})
    return settings.addressing


def test_header_text_keeps_one_line() -> None:
    """Control, line-break and bidi characters become single spaces, and long text is cut."""
    assert one_line("a\r\nBcc: x\x00\x85\u2028b\u202e c\td") == "a Bcc: x b c d"
    assert header_text("x" * 500, limit=20) == "x" * 19 + "\N{HORIZONTAL ELLIPSIS}"


def test_sections_put_overdue_first(agenda_reminders: tuple[Reminder, ...], now: datetime) -> None:
    """Sections are overdue, today and coming up, by the date in each contact's zone."""
    found = sections(reversed(agenda_reminders), now)
    assert [(s.heading, [r.contact.id for r in s.reminders]) for s in found] == [
        ("Overdue", ["ada"]),
        ("Today", ["bob"]),
        ("Coming up", ["cy"]),
    ]


def test_method_goes_in_once() -> None:
    """METHOD:PUBLISH is added after BEGIN:VCALENDAR, and not twice."""
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    once = _with_method(ics, b"PUBLISH")
    assert once == b"BEGIN:VCALENDAR\r\nMETHOD:PUBLISH\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    assert _with_method(once, b"PUBLISH") == once


def _attachment(message: EmailMessage) -> bytes:
    (attachment,) = list(message.iter_attachments())
    content = attachment.get_content()
    return content.encode("utf-8") if isinstance(content, str) else content


@pytest.mark.parametrize(
    ("sender", "uri"),
    [
        (SENDER, "mailto:cadence@example.org"),
        ("Zoë <zoë@exämple.org>", "mailto:zo%C3%AB@ex%C3%A4mple.org"),
        ("a&b=c?d@example.org", "mailto:a%26b%3Dc%3Fd@example.org"),
        ('"a b"@example.org', "mailto:%22a%20b%22@example.org"),
        (f"{'r' * 64}@{'long-label.' * 16}example.org", None),
    ],
)
def test_the_calendar_is_a_publish_with_its_organizer(
    agenda_reminders: tuple[Reminder, ...], now: datetime, sender: str, uri: str | None
) -> None:
    """Every event of the attached PUBLISH has the sender as ORGANIZER, as RFC 5546 requires.

    Read by two independent readers, icalendar and vobject; the lines stay
    within 75 octets, a long address folded.
    """
    addressing = _addressing(**{"from": sender})
    address = addressing.sender.addr_spec
    expected = uri or f"mailto:{address}"
    for message in (
        digest_message(agenda_reminders, addressing, now),
        reminder_message(agenda_reminders[0], addressing, now),
    ):
        ics = _attachment(message)
        assert all(len(line) <= 75 for line in ics.split(b"\r\n"))
        calendar = icalendar.Calendar.from_ical(ics)
        assert calendar["METHOD"] == "PUBLISH"
        events = list(calendar.walk("VEVENT"))
        assert events
        for event in events:
            # What PUBLISH requires of each event (RFC 5546 3.2.1), and no ATTENDEE.
            for required in ("DTSTAMP", "DTSTART", "ORGANIZER", "SUMMARY", "UID"):
                assert required in event
            assert "ATTENDEE" not in event
            assert str(event["ORGANIZER"]) == expected
        parsed = vobject.readOne(ics.decode("utf-8"))
        assert parsed.method.value == "PUBLISH"
        assert [e.organizer.value for e in parsed.vevent_list] == [expected] * len(events)
        assert unquote(expected.removeprefix("mailto:")) == address


def test_an_organizer_is_added_once() -> None:
    """ORGANIZER goes into each event that lacks one, after its BEGIN line, and not twice."""
    ics = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    once = _with_organizer(ics, b"mailto:a@example.org")
    assert once == ics.replace(b"VEVENT\r\nUID", b"VEVENT\r\nORGANIZER:mailto:a@example.org\r\nUID")
    assert _with_organizer(once, b"mailto:b@example.org") == once


def test_a_digest_is_the_same_message_for_the_same_reminders(
    agenda_reminders: tuple[Reminder, ...], now: datetime
) -> None:
    """A digest's Message-ID derives from its sorted keys, so order does not change it."""
    one = digest_message(agenda_reminders, _addressing(), now)
    two = digest_message(tuple(reversed(agenda_reminders)), _addressing(), now)
    three = digest_message(agenda_reminders[:2], _addressing(), now)
    assert one["Message-ID"] == two["Message-ID"] != three["Message-ID"]
    assert str(one["Message-ID"]).endswith("@example.org>")


def test_message_id_falls_back_when_the_domain_is_odd(
    agenda_reminders: tuple[Reminder, ...], now: datetime
) -> None:
    """A sender domain that is not a plain host name gives Message-IDs in cadence.invalid."""
    addressing = _addressing(**{"from": "cadence@[127.0.0.1]"})
    message = reminder_message(agenda_reminders[0], addressing, now)
    assert message["Message-ID"] == f"<{agenda_reminders[0].key}@cadence.invalid>"


# -- sending over plain SMTP -------------------------------------------------------


@pytest.mark.integration
def test_a_digest_carries_every_reminder_in_order(
    agenda_reminders: tuple[Reminder, ...],
    pipelining: bool,
) -> None:
    """A digest is one message: headers, both alternatives in order, and an .ics of all."""
    recorder = Recorder()
    with serving(recorder, pipelining=pipelining) as port:
        adapter = _adapter(port, list_unsubscribe=["mailto:stop@example.org", "https://x.test/u"])
        assert adapter.deliver(agenda_reminders) is None
    (message,) = recorder.messages
    ((envelope, _),) = recorder.received
    assert envelope.mail_from == "cadence@example.org"
    assert envelope.rcpt_tos == [ME]
    assert message["From"] == SENDER
    assert message["To"] == ME
    assert message["Subject"] == "Keep in touch: 1 overdue, 1 today, 1 coming up"
    assert message["Date"].datetime == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert message["Message-ID"].startswith("<digest.")
    assert message["List-Unsubscribe"] == "<mailto:stop@example.org>, <https://x.test/u>"
    assert message["Auto-Submitted"] == "auto-generated"
    plain, markup, calendar = _parts(message)
    titles = [r.title for r in agenda_reminders]
    for text, escape in ((plain, str), (markup, html.escape)):
        order = ("Overdue", titles[0], "Today", titles[1], "Coming up", titles[2])
        positions = [text.index(escape(words)) for words in order]
        assert positions == sorted(positions)
    assert "(by email)" in plain
    assert "(by phone)" in markup
    assert agenda_reminders[0].reason in plain
    assert calendar["METHOD"] == "PUBLISH"
    assert sorted(_uids(calendar)) == sorted(r.key for r in agenda_reminders)


@pytest.mark.integration
def test_one_message_per_reminder_in_one_session(now: datetime, pipelining: bool) -> None:
    """Without digest, each reminder gets its own message, all sent over one connection."""
    reminders = _many(now, 5)
    recorder = Recorder()
    with serving(recorder, pipelining=pipelining) as port:
        assert _adapter(port, digest=False).deliver(reminders) is None
    messages = recorder.messages
    assert len(recorder.peers) == 1
    assert [m["Message-ID"] for m in messages] == [f"<{r.key}@example.org>" for r in reminders]
    assert [m["Subject"] for m in messages] == [r.title for r in reminders]
    for message, reminder in zip(messages, reminders, strict=True):
        plain, markup, calendar = _parts(message)
        assert reminder.title in plain
        assert reminder.title in markup
        assert _uids(calendar) == [reminder.key]


@pytest.mark.integration
def test_an_empty_batch_sends_nothing() -> None:
    """Delivering no reminders succeeds without touching the server, even one that is down."""
    assert _adapter(_free_port()).deliver(()) is None


@pytest.mark.integration
def test_a_hostile_name_adds_no_header(now: datetime, pipelining: bool) -> None:
    """CR, LF and a "Bcc:" line in a contact's name reach no header and no envelope."""
    hostile = Contact("evil", "Eve\r\nBcc: evil@example.com\r\nX-Evil: 1\n\nbody")
    reminders = _reminders_of(now, hostile)
    recorder = Recorder()
    with serving(recorder, pipelining=pipelining) as port:
        assert _adapter(port, digest=False).deliver(reminders) is None
        assert _adapter(port, digest=True).deliver(reminders) is None
    expected = {"from", "to", "subject", "date", "message-id", "auto-submitted"}
    expected |= {"mime-version", "content-type"}
    for (envelope, _), message in zip(recorder.received, recorder.messages, strict=True):
        assert envelope.rcpt_tos == [ME]
        assert {k.lower() for k in message} == expected
        assert "Bcc" not in message
        assert "evil@example.com" not in str(message["To"])
    single = recorder.messages[0]
    assert single["Subject"] == "Check in with Eve Bcc: evil@example.com X-Evil: 1 body"


def _b(text: str, charset: str = "utf-8") -> str:
    return base64.b64encode(text.encode(charset)).decode("ascii")


#: Names that hold RFC 2047 encoded words which decode to line breaks and headers:
#: q and b, either case, other charsets, a language tag, split over several words,
#: glued to other text, nested, and in a quoted display name.
ENCODED_NAMES = [
    "=?utf-8?q?Bob=0D=0AReply-To:_x@evil.com=0D=0A=0D=0A<a_href=3Dhttp://evil>pay</a>?=",
    "=?utf-8?q?Bob=0D=0ABcc:_spy@evil.com?=",
    "=?UTF-8?Q?Bob=0D=0ABcc:_spy@evil.com?=",
    f"=?utf-8?b?{_b('Bob' + chr(13) + chr(10) + 'Bcc: spy@evil.com')}?=",
    f"=?UTF-8?B?{_b('Bob' + chr(10) + 'Bcc: spy@evil.com' + chr(10) + chr(10) + 'pay')}?=",
    "=?iso-8859-1?q?B=F6b=0ABcc:_spy@evil.com?=",
    "=?us-ascii*en?q?Bob=0D=0ABcc:_spy@evil.com?=",
    "=?utf-8?q?Bob?= =?utf-8?q?=0D=0A?= =?utf-8?q?Bcc:_spy@evil.com?=",
    "Bob=?utf-8?q?=0D=0ABcc:_spy@evil.com?=the builder",
    "Zoë =?utf-8?q?=0ABcc:_spy@evil.com?= Ålund",
    "=?utf-8?q?=3D=3Futf-8=3Fq=3FBob=3D0D=3D0ABcc:=5Fspy@evil.com=3F=3D?=",
    '"=?utf-8?q?Bob=0D=0ABcc:_spy@evil.com?=" <bob@example.com>',
    "=?utf-8?q?Bob=0D=0A?=\u2028=?utf-8?q?Bcc:_spy@evil.com?=",
]

#: The header fields of every message the adapter sends, and nothing else.
HEADERS = ["from", "to", "subject", "date", "message-id", "auto-submitted"]
HEADERS += ["mime-version", "content-type"]


def _header_names(data: bytes) -> list[str]:
    """The names of the header fields in the raw bytes of a message, in order."""
    head = data.split(b"\r\n\r\n", 1)[0]
    return [
        line.split(b":", 1)[0].decode("ascii", "replace").lower()
        for line in head.split(b"\r\n")
        if line[:1] not in (b" ", b"\t")
    ]


def _no_injection(recorder: Recorder) -> None:
    """Each message went to ME alone, with exactly our headers, in the raw bytes and parsed."""
    for (envelope, _), message in zip(recorder.received, recorder.messages, strict=True):
        assert isinstance(envelope.content, bytes)
        assert envelope.rcpt_tos == [ME]
        assert _header_names(envelope.content) == HEADERS
        assert [k.lower() for k in message] == HEADERS
        assert not message.defects
        for name in ("Bcc", "Cc", "Reply-To"):
            assert name not in message
        assert "evil" not in str(message["To"]) + str(message["From"])
        for value in message.values():
            assert not {"\r", "\n"} & set(str(value))
        markup = message.get_body(("html",))
        assert isinstance(markup, EmailMessage)
        assert "<a href" not in markup.get_content()


@pytest.mark.integration
@pytest.mark.parametrize("name", ENCODED_NAMES)
def test_encoded_words_in_names_add_no_header(now: datetime, name: str) -> None:
    """A name holding RFC 2047 encoded words stays in the subject as written, decoded by no one.

    The email package decodes encoded words when it writes a header, and some
    Python releases (3.11 before 3.11.10 among them) then write the CR and LF
    they decode to; the subject must show the name, with ``=?`` spaced apart.
    """
    reminders = _reminders_of(now, Contact("evil", name))
    recorder = Recorder()
    with serving(recorder) as port:
        assert _adapter(port, digest=False).deliver(reminders) is None
        assert _adapter(port, digest=True).deliver(reminders) is None
    _no_injection(recorder)
    single, digest = recorder.messages
    shown = one_line(name).replace("=?", "= ?")
    # A subject folded right after its colon parses back with a leading space.
    assert single["Subject"].strip() == f"Check in with {shown}"[:150]
    assert "=?" not in single["Subject"]
    plain, _, calendar = _parts(digest)
    assert f"Check in with {one_line(name)}" in plain
    assert [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")] == [reminders[0].title]


@pytest.mark.integration
def test_the_last_check_stops_what_the_email_package_lets_through(
    now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``=?`` left as it is, nothing injected reaches the server on any Python release.

    Where the email package writes the decoded line breaks (releases without
    the fix for CVE-2024-6923), the header check refuses the message, for
    good; where it does not, the message goes out intact.
    """
    monkeypatch.setattr(message_module, "no_encoded_words", lambda text: text)
    reminders = _reminders_of(now, Contact("evil", ENCODED_NAMES[0]))
    recorder = Recorder()
    with serving(recorder) as port:
        failures = _adapter(port, digest=False).deliver(reminders)
    _no_injection(recorder)
    if failures is not None:
        assert recorder.received == []
        ((key, error, permanent),) = [(f.key, f.error, f.permanent) for f in failures]
        assert (key, permanent) == (reminders[0].key, True)
        assert "Subject header" in error


@given(text=st.text(alphabet=st.sampled_from("=?qQbB_:\r\n \u2028\x85aé=?"), max_size=40))
def test_header_text_never_looks_encoded(text: str) -> None:
    """Whatever the text, what header_text gives holds no '=?' and no line break."""
    line = header_text("=?" + text + "?=")
    assert "=?" not in line
    assert line == one_line(line)


def test_config_addresses_and_uris_holding_encoded_words_are_refused() -> None:
    """from, to and list_unsubscribe may not hold '=?', which a header would decode."""
    bad = "=?utf-8?q?Cadence=0D=0ABcc:_spy@evil.com?="
    for settings, named in (
        ({**BASE, "from": f"{bad} <cadence@example.org>"}, "from"),
        ({**BASE, "from": f'"{bad}" <cadence@example.org>'}, "from"),
        ({**BASE, "to": [f"{bad}@example.org"]}, "to"),
        ({**BASE, "to": [f"Me\u2028Bcc: spy@evil.com <{ME}>"]}, "to"),
        ({**BASE, "list_unsubscribe": f"mailto:u@example.org?subject={bad}"}, "list_unsubscribe"),
    ):
        with pytest.raises(ConfigError, match=named):
            smtp_adapter(**settings)


def test_a_message_whose_headers_come_out_altered_is_never_flattened() -> None:
    """flatten refuses bytes whose header block differs from the headers set."""
    raw = SMTP.clone(refold_source="none")
    message = EmailMessage(policy=raw)
    message["From"] = SENDER
    message.set_raw("Subject", "hi\r\nBcc: spy@evil.com")
    message.set_content("body")
    with pytest.raises(UnsafeHeaders, match="Subject header would end early"):
        flatten(message, raw)
    del message["Subject"]
    message.set_raw("Subject", "hi\r\n\r\nbody of the attacker")
    with pytest.raises(UnsafeHeaders):
        flatten(message, raw)
    del message["Subject"]
    message.set_raw("Subject", "hi")
    assert flatten(message, raw).endswith(b"\r\nSubject: hi\r\n\r\nbody\r\n")


def test_odd_message_id_seeds_are_hashed() -> None:
    """A seed that is not plain dot-atom text never reaches the Message-ID as it is."""
    assert message_id("0123abcd", "example.org") == "<0123abcd@example.org>"
    assert message_id("digest.0a1b", "example.org") == "<digest.0a1b@example.org>"
    for seed in ("a>\r\nBcc: x@y", "=?utf-8?q?x?=", "a b", ".a", "é"):
        made = message_id(seed, "example.org")
        assert re.fullmatch(r"<[0-9a-f]{32}@example\.org>", made), made


@pytest.mark.integration
def test_non_ascii_names_are_encoded_in_headers(now: datetime, pipelining: bool) -> None:
    """A non-ASCII name is RFC 2047-encoded in the raw Subject and decodes back unchanged."""
    reminders = _reminders_of(now, Contact("zoe", "Zoë Ñúñez 山田"))
    recorder = Recorder()
    with serving(recorder, pipelining=pipelining) as port:
        assert _adapter(port, digest=False).deliver(reminders) is None
    ((envelope, _),) = recorder.received
    assert isinstance(envelope.content, bytes)
    raw_subject = next(
        line for line in envelope.content.split(b"\r\n") if line.startswith(b"Subject:")
    )
    assert raw_subject.isascii()
    assert b"=?utf-8?" in raw_subject
    (message,) = recorder.messages
    assert message["Subject"] == "Check in with Zoë Ñúñez 山田"
    plain, markup, _ = _parts(message)
    assert "Zoë Ñúñez 山田" in plain
    assert "Zoë Ñúñez 山田" in markup


@pytest.mark.integration
def test_non_ascii_addresses_use_smtputf8(
    agenda_reminders: tuple[Reminder, ...], pipelining: bool
) -> None:
    """An address beyond ASCII is sent with SMTPUTF8 and arrives as written."""
    recorder = Recorder()
    with serving(recorder, pipelining=pipelining) as port:
        assert _adapter(port, to=["zoë@exämple.org"]).deliver(agenda_reminders) is None
    ((envelope, _),) = recorder.received
    assert "SMTPUTF8" in envelope.mail_options
    assert envelope.rcpt_tos == ["zoë@exämple.org"]
    assert recorder.messages[0]["To"] == "zoë@exämple.org"


@pytest.mark.integration
def test_html_is_escaped(now: datetime, pipelining: bool) -> None:
    """Markup in a name is escaped in the HTML part and left as text in the plain part."""
    reminders = _reminders_of(now, Contact("x", "<script>alert('x')</script> & Co"))
    recorder = Recorder()
    with serving(recorder, pipelining=pipelining) as port:
        assert _adapter(port, digest=False).deliver(reminders) is None
    plain, markup, _ = _parts(recorder.messages[0])
    assert "<script>" not in markup
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co" in markup
    assert "<script>alert('x')</script> & Co" in plain


# -- TLS and login ---------------------------------------------------------------


@pytest.mark.integration
def test_starttls_with_a_trusted_self_signed_certificate(
    agenda_reminders: tuple[Reminder, ...],
    server_tls: ssl.SSLContext,
    certificate: tuple[Path, Path],
    pipelining: bool,
) -> None:
    """STARTTLS trusting the test's certificate through ca_file delivers over TLS."""
    recorder = Recorder()
    with serving(
        recorder, pipelining=pipelining, tls_context=server_tls, require_starttls=True
    ) as port:
        adapter = _adapter(port, security="starttls", ca_file=str(certificate[0]))
        assert adapter.deliver(agenda_reminders) is None
    ((_, session),) = recorder.received
    assert session.ssl is not None
    assert len(recorder.messages) == 1


@pytest.mark.integration
def test_starttls_verifies_certificates_by_default(
    agenda_reminders: tuple[Reminder, ...],
    server_tls: ssl.SSLContext,
    pipelining: bool,
) -> None:
    """Without ca_file a self-signed certificate is not trusted: nothing is sent."""
    recorder = Recorder()
    refused = pytest.raises(DeliveryError, match="certificate")
    with (
        serving(
            recorder, pipelining=pipelining, tls_context=server_tls, require_starttls=True
        ) as port,
        refused as caught,
    ):
        _adapter(port, security="starttls").deliver(agenda_reminders)
    assert caught.value.permanent is False
    assert recorder.received == []


@pytest.mark.integration
def test_starttls_refused_when_the_server_lacks_it(
    agenda_reminders: tuple[Reminder, ...],
    certificate: tuple[Path, Path],
    pipelining: bool,
) -> None:
    """A server that offers no STARTTLS gets nothing in the clear."""
    recorder = Recorder()
    with (
        serving(recorder, pipelining=pipelining) as port,
        pytest.raises(DeliveryError, match="STARTTLS"),
    ):
        _adapter(port, security="starttls", ca_file=str(certificate[0])).deliver(agenda_reminders)
    assert recorder.received == []


@pytest.mark.integration
def test_implicit_tls(
    agenda_reminders: tuple[Reminder, ...],
    server_tls: ssl.SSLContext,
    certificate: tuple[Path, Path],
    pipelining: bool,
) -> None:
    """security = "tls" speaks TLS from the first byte and delivers."""
    recorder = Recorder()
    with serving(recorder, pipelining=pipelining, ssl_context=server_tls) as port:
        adapter = _adapter(port, security="tls", ca_file=str(certificate[0]))
        assert adapter.deliver(agenda_reminders) is None
    assert len(recorder.messages) == 1


@pytest.mark.integration
def test_implicit_tls_verifies_certificates_by_default(
    agenda_reminders: tuple[Reminder, ...],
    server_tls: ssl.SSLContext,
    pipelining: bool,
) -> None:
    """Implicit TLS without ca_file refuses the self-signed certificate."""
    recorder = Recorder()
    refused = pytest.raises(DeliveryError, match="certificate")
    with serving(recorder, pipelining=pipelining, ssl_context=server_tls) as port, refused:
        _adapter(port, security="tls").deliver(agenda_reminders)
    assert recorder.received == []


def _authenticator(username: str, password: str) -> Callable[..., AuthResult]:
    def authenticate(
        server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == username.encode()
            and data.password == password.encode()
        )
        # handled=False: aiosmtpd then answers a failure with the standard 535 itself.
        return AuthResult(success=ok, handled=False)

    return authenticate


@pytest.mark.integration
def test_login_over_starttls_with_password_env(
    agenda_reminders: tuple[Reminder, ...],
    server_tls: ssl.SSLContext,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    pipelining: bool,
) -> None:
    """username and password_env log in over STARTTLS to a server that requires it."""
    monkeypatch.setenv("CADENCE_TEST_SMTP_PASSWORD", PASSWORD)
    recorder = Recorder()
    options: dict[str, Any] = {
        "tls_context": server_tls,
        "require_starttls": True,
        "auth_required": True,
        "authenticator": _authenticator("me", PASSWORD),
    }
    with serving(recorder, pipelining=pipelining, **options) as port:
        adapter = _adapter(
            port,
            security="starttls",
            ca_file=str(certificate[0]),
            username="me",
            password_env="CADENCE_TEST_SMTP_PASSWORD",
        )
        assert adapter.deliver(agenda_reminders) is None
    ((_, session),) = recorder.received
    assert session.authenticated


@pytest.mark.integration
def test_a_refused_login_never_shows_the_password(
    agenda_reminders: tuple[Reminder, ...],
    server_tls: ssl.SSLContext,
    certificate: tuple[Path, Path],
    pipelining: bool,
) -> None:
    """A wrong password fails the batch with an error that shows neither password."""
    recorder = Recorder()
    options: dict[str, Any] = {
        "tls_context": server_tls,
        "require_starttls": True,
        "auth_required": True,
        "authenticator": _authenticator("me", "the-right-one"),
    }
    with serving(recorder, pipelining=pipelining, **options) as port:
        adapter = _adapter(
            port,
            security="starttls",
            ca_file=str(certificate[0]),
            username="me",
            password=PASSWORD,
        )
        with pytest.raises(DeliveryError, match="535") as caught:
            adapter.deliver(agenda_reminders)
    shown = [str(caught.value), repr(caught.value), repr(adapter), repr(caught.value.__cause__)]
    assert all(PASSWORD not in text and "the-right-one" not in text for text in shown)
    assert recorder.received == []


# -- failures ---------------------------------------------------------------------


@pytest.mark.integration
def test_a_server_down_then_up_gets_every_reminder_once(now: datetime, pipelining: bool) -> None:
    """Nothing listening fails the batch; once the server is up each reminder arrives once."""
    reminders = _many(now, 4)
    port = _free_port()
    adapter = _adapter(port, digest=False)
    with pytest.raises(DeliveryError, match=f"127.0.0.1:{port}") as caught:
        adapter.deliver(reminders)
    assert caught.value.permanent is False
    recorder = Recorder()
    with serving(recorder, pipelining=pipelining, port=port):
        assert adapter.deliver(reminders) is None
    ids = sorted(m["Message-ID"] for m in recorder.messages)
    assert ids == sorted(f"<{r.key}@example.org>" for r in reminders)


@pytest.mark.integration
def test_a_silent_server_times_out() -> None:
    """A server that accepts the connection but never greets fails the batch on the timeout."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        reminders = _many(NOW, 1)
        with pytest.raises(DeliveryError, match="timed out"):
            _adapter(port, timeout=0.2).deliver(reminders)


class RefuseFirst(Recorder):
    """Answers DATA with a given reply the first ``times`` times, then accepts."""

    def __init__(self, reply: str, times: int = 1) -> None:
        super().__init__()
        self.reply = reply
        self.times = times

    def answer(self, envelope: Envelope) -> str | None:
        return self.reply if self.data_calls <= self.times else None


@pytest.mark.integration
def test_451_is_transient_and_the_next_attempt_delivers(
    agenda_reminders: tuple[Reminder, ...],
    pipelining: bool,
) -> None:
    """A 451 fails every reminder of the digest, transiently; the next deliver() sends it once."""
    recorder = RefuseFirst("451 4.3.0 try again later")
    with serving(recorder, pipelining=pipelining) as port:
        adapter = _adapter(port)
        failures = adapter.deliver(agenda_reminders)
        assert failures is not None
        assert [f.key for f in failures] == [r.key for r in agenda_reminders]
        assert all(not f.permanent and "451" in f.error for f in failures)
        assert adapter.deliver(agenda_reminders) is None
    assert len(recorder.messages) == 1


class RefuseRecipient(Recorder):
    """Refuses the recipients it is given with their replies, accepts the others."""

    def __init__(self, replies: dict[str, str]) -> None:
        super().__init__()
        self.replies = replies
        self.rcpt_calls: list[str] = []

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        self.rcpt_calls.append(address)
        reply = self.replies.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.mark.integration
def test_550_is_permanent(agenda_reminders: tuple[Reminder, ...], pipelining: bool) -> None:
    """A 550 for the only recipient fails every reminder of the message for good."""
    recorder = RefuseRecipient({ME: "550 5.1.1 no such user"})
    with serving(recorder, pipelining=pipelining) as port:
        failures = _adapter(port).deliver(agenda_reminders)
    assert failures is not None
    assert {f.key for f in failures} == {r.key for r in agenda_reminders}
    assert all(f.permanent and "550 5.1.1 no such user" in f.error for f in failures)
    assert recorder.received == []


class RefuseContaining(Recorder):
    """Refuses with 554 the messages whose content holds a marker."""

    def __init__(self, marker: bytes) -> None:
        super().__init__()
        self.marker = marker

    def answer(self, envelope: Envelope) -> str | None:
        assert isinstance(envelope.content, bytes)
        return "554 5.6.0 rejected" if self.marker in envelope.content else None


@pytest.mark.integration
def test_only_the_refused_message_fails(now: datetime, pipelining: bool) -> None:
    """Per reminder, one refused message fails its reminder only; the rest are delivered."""
    reminders = _reminders_of(
        now, Contact("a", "Alice"), Contact("m", "Mallory"), Contact("z", "Zed")
    )
    recorder = RefuseContaining(b"Mallory")
    with serving(recorder, pipelining=pipelining) as port:
        failures = _adapter(port, digest=False).deliver(reminders)
    mallory = next(r for r in reminders if r.contact.id == "m")
    assert failures is not None
    assert [(f.key, f.permanent) for f in failures] == [(mallory.key, True)]
    assert "554 5.6.0 rejected" in failures[0].error
    assert sorted(m["Subject"] for m in recorder.messages) == [
        "Check in with Alice",
        "Check in with Zed",
    ]


@pytest.mark.integration
def test_a_permanent_refusal_of_one_recipient_among_several_counts_as_delivered(
    agenda_reminders: tuple[Reminder, ...],
    pipelining: bool,
) -> None:
    """When one recipient is refused for good but another took the message, it is delivered."""
    recorder = RefuseRecipient({"gone@example.org": "550 5.1.1 no such user"})
    with serving(recorder, pipelining=pipelining) as port:
        adapter = _adapter(port, to=[ME, "gone@example.org"])
        assert adapter.deliver(agenda_reminders) is None
    ((envelope, _),) = recorder.received
    assert envelope.rcpt_tos == [ME]


@pytest.mark.integration
def test_a_retry_goes_only_to_the_recipients_that_refused(
    agenda_reminders: tuple[Reminder, ...],
    pipelining: bool,
) -> None:
    """A 450 for one recipient is transient, and the retry is sent to that recipient alone."""
    recorder = RefuseRecipient({"busy@example.org": "450 4.2.1 mailbox busy"})
    with serving(recorder, pipelining=pipelining) as port:
        adapter = _adapter(port, to=[ME, "busy@example.org"])
        failures = adapter.deliver(agenda_reminders)
        assert failures is not None
        assert all(not f.permanent and "busy@example.org" in f.error for f in failures)
        del recorder.replies["busy@example.org"]
        assert adapter.deliver(agenda_reminders) is None
    assert [e.rcpt_tos for e, _ in recorder.received] == [[ME], ["busy@example.org"]]


class DropOn(Recorder):
    """Drops the connection, without a reply, at the DATA commands numbered in ``drops``."""

    def __init__(self, drops: set[int]) -> None:
        super().__init__()
        self.drops = drops

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        if self.data_calls + 1 in self.drops:
            self.data_calls += 1
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()
            return "421 4.3.2 going away"
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.integration
def test_a_dropped_session_is_reopened_once(now: datetime, pipelining: bool) -> None:
    """When the server drops the session mid-run, one reconnection delivers the rest once."""
    reminders = _many(now, 4)
    recorder = DropOn({2})
    with serving(recorder, pipelining=pipelining) as port:
        assert _adapter(port, digest=False).deliver(reminders) is None
    ids = [m["Message-ID"] for m in recorder.messages]
    assert ids == [f"<{r.key}@example.org>" for r in reminders]
    assert len(recorder.peers) == 2


@pytest.mark.integration
def test_a_session_dropped_again_fails_the_rest_transiently(
    now: datetime, pipelining: bool
) -> None:
    """If the reopened session drops the same message too, it and the rest fail, transiently."""
    reminders = _many(now, 4)
    recorder = DropOn({2, 3})
    with serving(recorder, pipelining=pipelining) as port:
        failures = _adapter(port, digest=False).deliver(reminders)
    assert failures is not None
    assert [f.key for f in failures] == [r.key for r in reminders[1:]]
    assert all(not f.permanent and "session lost" in f.error for f in failures)
    assert [m["Message-ID"] for m in recorder.messages] == [f"<{reminders[0].key}@example.org>"]


class AnswerAt(Recorder):
    """Answers chosen commands, counted across sessions, with chosen replies."""

    def __init__(self, *, mail: dict[int, str], rcpt: dict[int, str]) -> None:
        super().__init__()
        self.mail, self.rcpt = mail, rcpt
        self.mail_calls = self.rcpt_calls = 0

    async def handle_MAIL(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        self.mail_calls += 1
        reply = self.mail.get(self.mail_calls)
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        self.rcpt_calls += 1
        reply = self.rcpt.get(self.rcpt_calls)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.mark.integration
def test_a_refusal_mid_run_leaves_the_messages_around_it(now: datetime, pipelining: bool) -> None:
    """A refused sender and a refused recipient fail their own messages; the others go through."""
    reminders = _many(now, 5)
    recorder = AnswerAt(mail={2: "451 4.3.0 slow down"}, rcpt={2: "550 5.1.1 no such user"})
    with serving(recorder, pipelining=pipelining) as port:
        failures = _adapter(port, digest=False).deliver(reminders)
    # After the refused MAIL 2 the server answers RCPT without asking the handler,
    # so the handler's second RCPT is the third message's.
    assert failures is not None
    outcomes = [(f.key, f.permanent) for f in failures]
    assert outcomes == [(reminders[1].key, False), (reminders[2].key, True)]
    assert "sender refused: 451" in failures[0].error
    delivered = [m["Message-ID"] for m in recorder.messages]
    assert delivered == [f"<{r.key}@example.org>" for r in (reminders[0], *reminders[3:])]


class ClosingAt(Recorder):
    """Answers the DATA commands numbered in ``closing`` with 421, without taking the message."""

    def __init__(self, closing: set[int]) -> None:
        super().__init__()
        self.closing = closing

    def answer(self, envelope: Envelope) -> str | None:
        return "421 4.3.2 shutting down" if self.data_calls in self.closing else None


@pytest.mark.integration
def test_a_421_reopens_the_session_for_the_message(now: datetime, pipelining: bool) -> None:
    """A 421 at the end of a message reopens the session and sends that message again."""
    reminders = _many(now, 3)
    recorder = ClosingAt({2})
    with serving(recorder, pipelining=pipelining) as port:
        assert _adapter(port, digest=False).deliver(reminders) is None
    ids = [m["Message-ID"] for m in recorder.messages]
    assert ids == [f"<{r.key}@example.org>" for r in reminders]
    assert len(recorder.peers) == 2


@pytest.mark.integration
def test_dots_at_line_starts_arrive_intact(pipelining: bool) -> None:
    """Lines that start with dots are stuffed on the wire and arrive as they were written."""
    message = EmailMessage(policy=SMTP)
    message["Subject"] = "dots"
    message.set_content(".\n..two\n.one\nlast")
    data = message.as_bytes()
    assert b"\r\n.\r\n..two\r\n.one\r\n" in data
    recorder = Recorder()
    with serving(recorder, pipelining=pipelining) as port:
        adapter = _adapter(port, digest=False)
        failures = adapter.send(
            [Outgoing(message, ("k1",), data), Outgoing(message, ("k2",), data)]
        )
    assert failures == []
    assert [envelope.content for envelope, _ in recorder.received] == [data, data]


# -- the moment of the run ---------------------------------------------------------

#: A moment far from the clock of any machine running these tests.
FAR = datetime(2029, 3, 10, 12, 0, tzinfo=UTC)


def _cadence(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CADENCE_DB": f"sqlite:///{tmp_path / 'cadence.db'}", "CADENCE_CONFIG": ""}
    command = [sys.executable, "-m", "cadence", "--now", FAR.isoformat(), *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.integration
def test_run_with_now_through_importers_to_a_real_server(tmp_path: Path) -> None:
    """Names with encoded words, imported from a vCard and a CSV, are sent by cadence run --now.

    Every message reaches only the configured recipient with only cadence's
    headers, says how overdue each reminder is as seen at ``--now`` (not at
    the clock), and attaches a calendar built at ``--now``; the Date header
    alone is the clock's.
    """
    bob = "=?utf-8?q?Bob=0D=0ABcc:_spy@evil.com?="
    eve = "=?utf-8?q?Eve=0D=0AReply-To:_x@evil.com=0D=0A=0D=0A<a_href=3Dhttp://evil>pay</a>?="
    vcard = tmp_path / "bob.vcf"
    vcard.write_text(
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bob\r\nFN:{bob}\r\nEMAIL:bob@example.com\r\n"
        "END:VCARD\r\n"
    )
    csv = tmp_path / "eve.csv"
    csv.write_text(f'id,name,since\r\neve,"{eve}",2029-01-01\r\n')
    _cadence(tmp_path, "import", str(vcard))
    _cadence(tmp_path, "import", str(csv))
    _cadence(tmp_path, "rule", "set", "every 2 weeks")
    _cadence(tmp_path, "log", "bob@example.com", "--via", "phone", "--at", "2029-02-01T10:00Z")
    # A touch, not the start date alone: an import spreads the first check-in of
    # a contact whose start date would make it overdue before it was imported.
    _cadence(tmp_path, "log", "eve", "--via", "phone", "--at", "2029-01-01T00:00Z")
    recorder = Recorder()
    with serving(recorder) as port:
        route = f'adapter = "smtp"\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        route += f'from = "{SENDER}"\nto = ["{ME}"]\n'
        config = tmp_path / "cadence.toml"
        digest_route = f'[[routes]]\nname = "digest"\n{route}'
        config.write_text(f'{digest_route}\n[[routes]]\nname = "each"\n{route}digest = false\n')
        _cadence(tmp_path, "--config", str(config), "run")
    _no_injection(recorder)
    digest, *singles = recorder.messages
    # The names read as written, with "=?" spaced apart so that nothing decodes them.
    expected = sorted(f"Check in with {n}".replace("=?", "= ?") for n in (bob, eve))
    assert sorted(m["Subject"].strip() for m in singles) == expected
    assert digest["Subject"] == "Keep in touch: 2 overdue"
    plain, _, calendar = _parts(digest)
    assert "Thursday 15 February 2029, overdue by 23 days" in plain
    assert "Monday 15 January 2029, overdue by 54 days" in plain
    events = list(calendar.walk("VEVENT"))
    # Overdue at --now: each shows as an all-day to-do on --now's date.
    assert [e.decoded("DTSTART") for e in events] == [date(2029, 3, 10)] * 2
    assert {"Overdue since: 2029-01-15", "Overdue since: 2029-02-15"} == {
        str(e["DESCRIPTION"]).splitlines()[-1] for e in events
    }
    for message in recorder.messages:
        # The Date header is the time of sending, not --now.
        assert abs(message["Date"].datetime - datetime.now(UTC)) < timedelta(days=1)


@pytest.mark.integration
def test_dispatch_gives_the_adapter_the_moment_of_the_run(plugins: Plugins, tmp_path: Path) -> None:
    """Through dispatch, a route-built smtp adapter words and plans at dispatch's now."""
    recorder = Recorder()
    with (
        open_store(f"sqlite:///{tmp_path / 'cadence.db'}", plugins=plugins) as store,
        serving(recorder) as port,
    ):
        store.put_contact(Contact("ada", "Ada Lovelace", since=date(2029, 2, 1)))
        store.set_rule(Rule(Every(weeks=2)))
        settings = {"host": "127.0.0.1", "port": port, "security": "none", "from": SENDER}
        report = dispatch(store, [Route("smtp", settings={**settings, "to": [ME]})], now=FAR)
    assert [d.status for d in report.deliveries] == ["sent"]
    (message,) = recorder.messages
    plain, _, calendar = _parts(message)
    assert "Thursday 15 February 2029, overdue by 23 days" in plain
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == date(2029, 3, 10)


# -- the guide ----------------------------------------------------------------------

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "email.md"


def test_every_setting_is_documented() -> None:
    """Each setting the adapter accepts has a row in the settings table of docs/email.md."""
    text = GUIDE.read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip().strip("`")
        for line in text.splitlines()
        if line.startswith("| `")
    }
    assert not SETTINGS - rows, f"undocumented: {sorted(SETTINGS - rows)}"


def test_the_guide_example_builds(
    plugins: Plugins, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The [[routes]] tables at the top of docs/email.md build smtp adapters as described."""
    text = GUIDE.read_text(encoding="utf-8")
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("placeholder\n")
    data = tomllib.loads(example.replace("/etc/ssl/certs/internal-ca.pem", str(ca_file)))
    monkeypatch.setenv("CADENCE_SMTP_PASSWORD", PASSWORD)
    inbox, managers = (plugins.build_adapter(r) for r in routes_from_data(data["routes"]))
    assert isinstance(inbox, SmtpAdapter)
    assert isinstance(managers, SmtpAdapter)
    assert (inbox.settings.port, inbox.settings.digest, inbox.settings.username) == (
        587,
        True,
        "reminders@example.com",
    )
    assert (managers.settings.port, managers.settings.digest) == (465, False)
    assert PASSWORD not in repr(inbox)


# -- messages written straight to bytes ---------------------------------------------


def _written(reminder: Reminder, now: datetime, policy: Any = SMTP, **settings: Any) -> bytes:
    addressing = _addressing(**settings)
    data, ident = MessageWriter(addressing, policy).reminder(reminder, now, now)
    assert ident == message_id(reminder.key, addressing.domain)
    return data


def _read(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    return message


@pytest.mark.parametrize(
    "name",
    [
        "Ada Lovelace",
        "Zoë Ñúñez 山田",
        "<script>alert('x')</script> & Co = 100%",
        "Eve\r\nBcc: evil@example.com\r\nX-Evil: 1\n\nbody",
        "A" * 40 + " " + "B" * 200,
        "word " * 60,
        *ENCODED_NAMES,
    ],
)
def test_a_written_message_says_what_the_built_one_says(now: datetime, name: str) -> None:
    """MessageWriter's bytes carry the headers, texts and calendar of reminder_message."""
    (reminder,) = _reminders_of(now, Contact("x", name, email="x@example.com"))
    built = _read(flatten(reminder_message(reminder, _addressing(), now), SMTP))
    written = _read(_written(reminder, now))
    assert [k.lower() for k in written] == HEADERS
    for header in ("From", "To", "Date", "Message-ID", "Auto-Submitted"):
        assert str(written[header]) == str(built[header])
    # The email package may read back a space more where it folded; the subject is the text.
    assert str(written["Subject"]).strip() == header_text(reminder.title)
    assert _parts(written)[:2] == _parts(built)[:2]
    assert _attachment(written) == _attachment(built)


@pytest.mark.parametrize("locale", ["es", "de", "fr"])
def test_a_written_message_in_a_locale_says_what_the_built_one_says(
    agenda_reminders: tuple[Reminder, ...], now: datetime, locale: str
) -> None:
    """In a language, the writer words subject, texts and calendar as reminder_message does,
    and keeps the Message-ID of every language."""
    words = _words(locale)
    addressing = _addressing()
    writer = MessageWriter(addressing, SMTP, words)
    for reminder in agenda_reminders:
        built = _read(flatten(reminder_message(reminder, addressing, now, words=words), SMTP))
        data, ident = writer.reminder(reminder, now, now)
        written = _read(data)
        assert ident == message_id(reminder.key, addressing.domain)
        assert str(written["Message-ID"]) == str(built["Message-ID"]) == ident
        assert str(written["Subject"]).strip() == header_text(words.title(reminder))
        assert _parts(written)[:2] == _parts(built)[:2]
        assert _attachment(written) == _attachment(built)
    # Worded, not English: the headings of the body are the catalog's.
    assert words.gettext("Due") != "Due"
    assert f"{words.gettext('Due')}: " in _parts(written)[0]


def test_a_written_message_keeps_the_list_unsubscribe_header(now: datetime) -> None:
    """List-Unsubscribe, set once per route, comes out in each written message, in place."""
    (reminder,) = _reminders_of(now, Contact("x", "X"))
    data = _written(reminder, now, list_unsubscribe=["mailto:u@example.org"])
    assert _header_names(data) == [*HEADERS[:6], "list-unsubscribe", *HEADERS[6:]]
    assert _read(data)["List-Unsubscribe"] == "<mailto:u@example.org>"


@given(
    text=st.text(alphabet=st.sampled_from("=?qQbB_:\r\n \u2028\x85\u202eaé山\t<>\"'"), max_size=60)
)
def test_no_name_adds_a_header_to_a_written_message(text: str) -> None:
    """Whatever a name holds, the written message has our headers only, each on its lines."""
    (reminder,) = _reminders_of(NOW, Contact("x", "=?" + text))
    data = _written(reminder, NOW)
    assert _header_names(data) == HEADERS
    message = _read(data)
    assert [k.lower() for k in message] == HEADERS
    for value in message.values():
        assert not {"\r", "\n"} & set(str(value))
    assert str(message["Subject"]).strip() == header_text(reminder.title)


def _words(locale: str | None) -> Words:
    return ENGLISH if locale is None else for_locale(locale)


@pytest.mark.parametrize("locale", [None, "es", "de"])
def test_a_writer_attaches_the_calendar_of_each_reminder_alone(
    agenda_reminders: tuple[Reminder, ...], now: datetime, locale: str | None
) -> None:
    """The writer's calendars are calendar_attachment's for each reminder alone, byte for
    byte, worded in the writer's language as the feed is."""
    sender = _addressing().sender
    words = _words(locale)
    writer = MessageWriter(_addressing(), SMTP, words)
    # Timed, in a zone with summer time, and an occasion with a lead time (an alarm).
    zoned = Contact("dee", "Dee", timezone="Europe/Paris", since=date(2026, 11, 20))
    roster = Roster(
        [zoned], [Rule(Every(days=5))], [Birthday("dee", 12, 1, lead=timedelta(days=3))]
    )
    more = plan(roster, now=now, horizon=timedelta(days=10)).reminders
    written = []
    for reminder in (*agenda_reminders, *more):
        alone = calendar_attachment((reminder,), now, sender, words)
        written.append(writer.calendar(reminder, now))
        assert written[-1] == alone
        assert icalendar.Calendar.from_ical(alone)["METHOD"] == "PUBLISH"
    assert {b"BEGIN:VTIMEZONE" in c for c in written} == {True, False}
    assert any(b"BEGIN:VALARM" in c for c in written)


class RememberClosing(ClosingAt):
    """ClosingAt that keeps the content of each message it answered with 421."""

    def __init__(self, closing: set[int]) -> None:
        super().__init__(closing)
        self.refused: list[bytes] = []

    def answer(self, envelope: Envelope) -> str | None:
        reply = super().answer(envelope)
        if reply is not None:
            assert isinstance(envelope.content, bytes)
            self.refused.append(envelope.content)
        return reply


@pytest.mark.integration
def test_a_message_sent_again_is_the_same_bytes(now: datetime, pipelining: bool) -> None:
    """Messages written while others are sent are written once: a resent one is the same."""
    reminders = _many(now, 6)
    recorder = RememberClosing({3})
    with serving(recorder, pipelining=pipelining) as port:
        assert _adapter(port, digest=False).deliver(reminders) is None
    (refused,) = recorder.refused
    contents = [envelope.content for envelope, _ in recorder.received]
    assert contents[2] == refused
    assert [m["Message-ID"] for m in recorder.messages] == [
        f"<{r.key}@example.org>" for r in reminders
    ]


@pytest.mark.integration
def test_a_written_message_with_an_altered_header_is_refused_before_any_is_sent(
    now: datetime, pipelining: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every head is checked before the first message goes: the bad one fails, for good, alone.

    The subject is written here without its encoding, as a mistake in the
    writer would; the check of the header block still refuses what it lets
    through, and the messages around it go out with our headers only.
    """

    def raw(self: MessageWriter, text: str) -> bytes:
        return b"Subject: " + text.encode("utf-8") + b"\r\n"

    monkeypatch.setattr(message_module, "header_text", lambda text: text)
    monkeypatch.setattr(MessageWriter, "_subject", raw)
    reminders = _reminders_of(
        now,
        Contact("a", "Ada"),
        Contact("b", "Eve\r\nBcc: spy@evil.com"),
        Contact("c", "Cy\r\n\r\nbody of the attacker"),
        Contact("d", "Dee"),
    )
    recorder = Recorder()
    with serving(recorder, pipelining=pipelining) as port:
        failures = _adapter(port, digest=False).deliver(reminders)
    assert failures is not None
    assert [(f.key, f.permanent) for f in failures] == [(r.key, True) for r in reminders[1:3]]
    assert all("message not sent" in f.error for f in failures)
    _no_injection(recorder)
    assert [m["Subject"] for m in recorder.messages] == ["Check in with Ada", "Check in with Dee"]
    with pytest.raises(UnsafeHeaders):
        _adapter(1, digest=False).outgoing(reminders, now)
