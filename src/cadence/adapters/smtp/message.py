"""Building reminder emails: one per reminder, or one digest per run. No sending here.

Every message is an RFC 5322 ``EmailMessage``: a text/plain part and a
text/html alternative, and an attached calendar (.ics, METHOD:PUBLISH, the
sender as ORGANIZER) of the reminders it carries. Text that comes from people
(contact names, notes, titles) is put on one line before it reaches a header
or a body: control and line-break characters become spaces, so no name can
add a header. In a header, ``=?`` also gets a space between its two
characters: the email package decodes anything that looks like an RFC 2047
encoded word, and some Python releases then write the CR and LF it decoded
(CVE-2024-6923), so no header text may look like one.

Wording ("today", "in 3 days", "overdue by 2 days") and the calendar are
reckoned from ``now``, the moment of the run; only the Date header says when
the message was actually written (``sent``). The words come from ``words``
(``cadence.l10n``: the route's locale; the core's English by default), the
attached calendar's as the feed's; keys, Message-IDs and dates never change
with the language.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, Policy
from email.utils import format_datetime
from urllib.parse import quote

import attrs

from cadence.adapters.ical.render import event_ical, to_ical
from cadence.core.reminders import Reminder
from cadence.l10n import ENGLISH, N_, Nn_, Words

__all__ = [
    "Addressing",
    "Head",
    "MessageWriter",
    "Section",
    "UnsafeHeaders",
    "calendar_attachment",
    "digest_message",
    "digest_seed",
    "flatten",
    "header_text",
    "message_id",
    "no_encoded_words",
    "one_line",
    "organizer_uri",
    "reminder_message",
    "sections",
]

#: The domain of Message-IDs when the sender's address has none usable.
FALLBACK_DOMAIN = "cadence.invalid"

#: Subjects longer than this are cut, so that a long title stays readable.
SUBJECT_LIMIT = 150

#: The name of the calendar attached to each message, in English (worded per message).
CALENDAR_NAME = N_("cadence reminders")


# Bidirectional overrides and isolates can make a name display as something else.
_BIDI = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# Control characters, unpaired surrogates, and the line and paragraph separators.
_BREAKING = frozenset({"Cc", "Cs", "Zl", "Zp"})
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# What a Message-ID's left part may hold as it is: dot-atom text of plain characters.
_PLAIN_SEED = re.compile(r"^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$")


def _plain_domain(domain: str) -> bool:
    labels = domain.split(".")
    return 0 < len(domain) <= 253 and all(_LABEL.match(label) for label in labels)


@attrs.frozen
class Addressing:
    """Who a message is from and to, and where to unsubscribe, as the route sets them.

    ``list_unsubscribe`` holds URIs (``mailto:`` or ``https:``) for the
    List-Unsubscribe header; empty means no header.
    """

    sender: Address
    to: tuple[Address, ...]
    list_unsubscribe: tuple[str, ...] = ()

    @property
    def domain(self) -> str:
        """The domain Message-IDs use: the sender's, when it is a plain host name."""
        domain = self.sender.domain
        return domain if _plain_domain(domain) else FALLBACK_DOMAIN


# The digest's headings, and how the subject counts each section's reminders.
OVERDUE, TODAY, COMING_UP = N_("Overdue"), N_("Today"), N_("Coming up")
_COUNTS = {
    OVERDUE: Nn_("{n} overdue", "{n} overdue"),
    TODAY: Nn_("{n} today", "{n} today"),
    COMING_UP: Nn_("{n} coming up", "{n} coming up"),
}


@attrs.frozen
class Section:
    """One part of a digest: a heading and its reminders, in order.

    ``heading`` is the English heading ("Overdue", "Today", "Coming up"),
    which a message words in its language.
    """

    heading: str
    reminders: tuple[Reminder, ...]


def one_line(text: str) -> str:
    """``text`` on one line, as a header or a list item can carry it.

    Control, line-break and bidi characters become spaces, runs of white space
    one space, and the ends are trimmed.
    """
    if text.isprintable():  # no control, separator or bidi character: the common case, quickly
        return " ".join(text.split())
    kept = "".join(" " if c in _BIDI or unicodedata.category(c) in _BREAKING else c for c in text)
    return " ".join(kept.split())


def no_encoded_words(text: str) -> str:
    """``text`` with a space put inside every ``=?``, so that nothing in it reads as encoded.

    An RFC 2047 encoded word starts with ``=?``, whatever its charset, its
    encoding (q or b, in either case), its neighbours or where in a header it
    stands. The email package decodes such words when it builds and writes a
    header, and the CR and LF they may decode to can then end the header
    early on some Python releases. Text given this way shows as written,
    with one space more, and can never be decoded into something else.
    """
    return text.replace("=?", "= ?")


def header_text(text: str, limit: int = SUBJECT_LIMIT) -> str:
    """``text`` made safe for a header: on one line, looking like no encoded word, and cut.

    See ``one_line`` and ``no_encoded_words``; text longer than ``limit``
    characters is cut and ends with an ellipsis.
    """
    line = no_encoded_words(one_line(text))
    if len(line) <= limit:
        return line
    return line[: limit - 1].rstrip() + "\N{HORIZONTAL ELLIPSIS}"


def message_id(seed: str, domain: str) -> str:
    """A Message-ID from ``seed`` (a reminder key, or a digest's hash) and ``domain``.

    A seed that is not plain dot-atom text (letters, digits, ``-``, ``_``
    and inner dots) is replaced by its hash, so that nothing odd reaches the
    header; cadence's own keys and digest seeds are always used as they are.
    """
    if not _PLAIN_SEED.match(seed) or not seed.isascii():
        seed = hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"<{seed}@{domain}>"


def digest_seed(reminders: Iterable[Reminder]) -> str:
    """The seed of a digest's Message-ID: a hash of its reminders' sorted keys.

    The same reminders give the same Message-ID, so a digest sent again after
    a failure is recognised as the same message.
    """
    keys = "\n".join(sorted(r.key for r in reminders))
    return "digest." + hashlib.sha256(keys.encode("ascii")).hexdigest()[:32]


def _today(reminder: Reminder, now: datetime) -> date:
    return now.astimezone(reminder.contact.zone).date()


def _order(reminder: Reminder) -> tuple[datetime, str, str]:
    return (reminder.due, reminder.contact.name.casefold(), reminder.key)


def sections(reminders: Iterable[Reminder], now: datetime) -> tuple[Section, ...]:
    """The reminders split into "Overdue", "Today" and "Coming up", each in due order.

    A reminder is overdue when its date is before today in its contact's
    zone, and coming up when it is after. Empty sections are left out.
    """
    parts: dict[str, list[Reminder]] = {OVERDUE: [], TODAY: [], COMING_UP: []}
    for reminder in reminders:
        today = _today(reminder, now)
        if reminder.date < today:
            parts[OVERDUE].append(reminder)
        elif reminder.date == today:
            parts[TODAY].append(reminder)
        else:
            parts[COMING_UP].append(reminder)
    return tuple(
        Section(heading, tuple(sorted(found, key=_order)))
        for heading, found in parts.items()
        if found
    )


def _when(reminder: Reminder, now: datetime, words: Words) -> str:
    occasion = words.occasion_words(reminder, now)
    if occasion is not None and reminder.occasion_date is not None:
        # How far the day itself is, not how late a reminder ahead of it is.
        day = words.full_date(reminder.occasion_date)
        return words.gettext("{date}, {when}", date=day, when=occasion)
    day = words.full_date(reminder.date)
    delta = (reminder.date - _today(reminder, now)).days
    if delta < 0:
        return words.ngettext(
            "{date}, overdue by {n} day", "{date}, overdue by {n} days", -delta, date=day
        )
    if delta == 0:
        return words.gettext("{date}, today", date=day)
    return words.gettext("{date}, {when}", date=day, when=words.days_from_now(delta))


def _channel(reminder: Reminder) -> str | None:
    return one_line(reminder.channel or reminder.contact.channel or "") or None


def _contact(reminder: Reminder) -> str:
    name = one_line(reminder.contact.name)
    email = one_line(reminder.contact.email or "")
    return f"{name} <{email}>" if email else name


def _subject(found: Sequence[Section], words: Words) -> str:
    counts = [words.ngettext(*_COUNTS[s.heading], len(s.reminders)) for s in found]
    return words.gettext(
        "Keep in touch: {counts}", counts=", ".join(counts) or words.gettext("nothing due")
    )


def organizer_uri(address: Address) -> str:
    """``address`` as a ``mailto:`` URI (RFC 6068): what the ORGANIZER property holds.

    Characters a URI cannot carry as they are, non-ASCII ones included, are
    percent-encoded as UTF-8.
    """
    return "mailto:" + quote(address.addr_spec, safe="!$'()*+,:@-._~")


def calendar_attachment(
    reminders: Sequence[Reminder], now: datetime, organizer: Address, words: Words = ENGLISH
) -> bytes:
    """The .ics of ``reminders`` as published by ``organizer``, as attached to a message.

    The calendar is cadence's own (``to_ical``, worded by ``words`` as the
    feed is) made an iTIP PUBLISH (RFC 5546): METHOD:PUBLISH goes in as the
    first calendar property, and each event gets the ORGANIZER that PUBLISH
    requires, the sender's ``mailto:`` address. The rest of the bytes stay
    as they are.
    """
    ics = to_ical(reminders, name=words.gettext(CALENDAR_NAME), now=now, words=words)
    return _with_method(_with_organizer(ics, organizer_uri(organizer).encode("ascii")), b"PUBLISH")


def _folded(line: bytes, eol: bytes) -> bytes:
    """An ASCII content line folded at 75 octets, as RFC 5545 3.1 asks."""
    pieces = [line[:75]]
    pieces += [b" " + line[i : i + 74] for i in range(75, len(line), 74)]
    return eol.join(pieces) + eol


def _with_organizer(ics: bytes, uri: bytes) -> bytes:
    eol = b"\r\n" if b"\r\n" in ics else b"\n"
    organizer = _folded(b"ORGANIZER:" + uri, eol)
    lines = ics.split(eol)
    out = []
    for index, line in enumerate(lines):
        out.append(line)
        if line.upper() == b"BEGIN:VEVENT" and not _has_organizer(lines, index + 1):
            out.append(organizer.removesuffix(eol))
    return eol.join(out)


def _has_organizer(lines: list[bytes], start: int) -> bool:
    for line in lines[start:]:
        name = re.split(rb"[:;]", line, maxsplit=1)[0].upper()
        if name == b"ORGANIZER":
            return True
        if name in (b"BEGIN", b"END"):
            return False
    return False


def _with_method(ics: bytes, method: bytes) -> bytes:
    first, newline, rest = ics.partition(b"\n")
    if first.rstrip(b"\r").upper() != b"BEGIN:VCALENDAR":
        raise ValueError("the calendar does not start with BEGIN:VCALENDAR")
    if re.search(rb"(?m)^METHOD[:;]", rest.split(b"BEGIN:", 1)[0]):
        return ics
    eol = b"\r\n" if first.endswith(b"\r") else b"\n"
    return first + newline + b"METHOD:" + method + eol + rest


def _skeleton(subject: str, addressing: Addressing, sent: datetime, seed: str) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = addressing.sender
    message["To"] = addressing.to
    message["Subject"] = header_text(subject)
    message["Date"] = sent
    message["Message-ID"] = message_id(seed, addressing.domain)
    # Automatic mail: out-of-office replies should not answer it (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    if addressing.list_unsubscribe:
        message["List-Unsubscribe"] = ", ".join(f"<{u}>" for u in addressing.list_unsubscribe)
    return message


def _fill(
    message: EmailMessage,
    text: str,
    markup: str,
    reminders: Sequence[Reminder],
    now: datetime,
    addressing: Addressing,
    words: Words,
) -> EmailMessage:
    message.set_content(text)
    message.add_alternative(markup, subtype="html")
    message.add_attachment(
        calendar_attachment(reminders, now, addressing.sender, words),
        maintype="text",
        subtype="calendar",
        filename="cadence.ics",
        params={"method": "PUBLISH", "charset": "utf-8"},
    )
    # The email package repeats MIME-Version in every part; RFC 2045 wants it once, on top.
    for part in message.iter_parts():
        for inner in part.walk():
            del inner["MIME-Version"]
    return message


_FOOTER = N_("Sent by cadence. The attached calendar file holds the same reminders.")


def _page(title: str, body: str, words: Words) -> str:
    # The language of the page, as BCP 47 writes it ("es-ES"), when a locale is set.
    lang = "" if words.locale is None else f' lang="{html.escape(words.locale.replace("_", "-"))}"'
    footer = html.escape(words.gettext(_FOOTER))
    return (
        f'<!DOCTYPE html>\n<html{lang}><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body>\n{body}"
        f"<p><small>{footer}</small></p>\n</body></html>\n"
    )


def _reminder_parts(reminder: Reminder, now: datetime, words: Words) -> tuple[str, str]:
    """The text and the HTML of one reminder's message."""
    title = one_line(words.title(reminder))
    rows = (
        (words.gettext("Due"), _when(reminder, now, words)),
        (words.gettext("Contact"), _contact(reminder)),
        (words.gettext("Channel"), _channel(reminder) or words.gettext("any")),
        (words.gettext("Why"), one_line(words.reason(reminder)) or "-"),
    )
    footer = words.gettext(_FOOTER)
    text = "\n".join([title, "", *(f"{k}: {v}" for k, v in rows), "", "-- ", footer, ""])
    table = "".join(
        f'<tr><th align="left">{html.escape(k)}</th><td>{html.escape(v)}</td></tr>\n'
        for k, v in rows
    )
    markup = _page(title, f"<h1>{html.escape(title)}</h1>\n<table>\n{table}</table>\n", words)
    return text, markup


def reminder_message(
    reminder: Reminder,
    addressing: Addressing,
    now: datetime,
    *,
    sent: datetime | None = None,
    words: Words = ENGLISH,
) -> EmailMessage:
    """The message for one reminder; its Message-ID comes from the reminder's key.

    When it is due is said as seen at ``now``, the moment of the run; the
    Date header is ``sent`` (by default ``now``). ``words`` words the
    subject, the body and the calendar (the core's English by default).
    """
    text, markup = _reminder_parts(reminder, now, words)
    message = _skeleton(words.title(reminder), addressing, sent or now, reminder.key)
    return _fill(message, text, markup, (reminder,), now, addressing, words)


def _item(reminder: Reminder, now: datetime, words: Words) -> tuple[str, str]:
    title = one_line(words.title(reminder))
    channel = _channel(reminder)
    by = words.gettext("by {channel}", channel=channel) if channel else words.gettext("any channel")
    line = words.gettext(
        "{title} ({by}): {when}", title=title, by=by, when=_when(reminder, now, words)
    )
    return line, one_line(words.reason(reminder))


def digest_message(
    reminders: Sequence[Reminder],
    addressing: Addressing,
    now: datetime,
    *,
    sent: datetime | None = None,
    words: Words = ENGLISH,
) -> EmailMessage:
    """One message listing ``reminders``: overdue first, then today's, then what is coming up.

    Each line gives the reminder, the contact's preferred channel and when it
    is due, with its reason beneath, as seen at ``now``, the moment of the
    run; the Date header is ``sent`` (by default ``now``). The Message-ID
    comes from the sorted keys, in every language; ``words`` words the rest
    (the core's English by default).
    """
    found = sections(reminders, now)
    subject = _subject(found, words)
    text_lines = [subject, ""]
    markup = [f"<h1>{html.escape(subject)}</h1>\n"]
    for section in found:
        heading = words.gettext(section.heading)
        text_lines += [f"{heading} ({len(section.reminders)})", ""]
        markup.append(f"<h2>{html.escape(heading)}</h2>\n<ul>\n")
        for reminder in section.reminders:
            line, reason = _item(reminder, now, words)
            text_lines.append(f"- {line}")
            item = f"<li>{html.escape(line)}"
            if reason:
                text_lines.append(f"  {reason}")
                item += f"<br><small>{html.escape(reason)}</small>"
            markup.append(item + "</li>\n")
        text_lines.append("")
        markup.append("</ul>\n")
    text = "\n".join([*text_lines, "-- ", words.gettext(_FOOTER), ""])
    ordered = tuple(r for section in found for r in section.reminders)
    message = _skeleton(subject, addressing, sent or now, digest_seed(ordered))
    page = _page(subject, "".join(markup), words)
    return _fill(message, text, page, ordered, now, addressing, words)


_END_CALENDAR = b"END:VCALENDAR\r\n"


@attrs.frozen
class Head:
    """A message's header block, checked, with its Message-ID and the boundary of its parts."""

    data: bytes
    ident: str
    boundary: bytes


class MessageWriter:
    """Writes per-reminder messages as bytes, with what every message shares prepared once.

    The bytes are those ``flatten(reminder_message(...))`` gives in meaning
    (the same headers in the same order, the same parts, text and calendar),
    written without building an ``EmailMessage``: From, To and the other
    constant headers are folded once by the email package and checked as
    ``flatten`` checks them, and the headers that change per message are
    cadence's own (Date, Message-ID) or the subject, which ``header_text``
    has put on one line and which is written as RFC 2047 encoded words
    whenever it is not plain ASCII or holds ``=?``. Every header block
    written is checked to be exactly the fields set before it is returned.

    A message is its ``head`` (subject, Message-ID seed and Date), which may
    refuse the subject, and its ``body`` (the text, the HTML and the
    calendar), which is written later and cannot fail that way: a sender
    can learn which messages it cannot send before it sends the first.
    """

    def __init__(self, addressing: Addressing, policy: Policy, words: Words = ENGLISH) -> None:
        self.addressing = addressing
        self.words = words
        self._linesep = policy.linesep.encode("ascii")
        self._width = policy.max_line_length or 78
        top = EmailMessage(policy=policy)
        top["From"] = addressing.sender
        top["To"] = addressing.to
        self._first = b"".join(
            _folded_field(policy, k, v, self._linesep) for k, v in top.raw_items()
        )
        rest = EmailMessage(policy=policy)
        rest["Auto-Submitted"] = "auto-generated"
        if addressing.list_unsubscribe:
            rest["List-Unsubscribe"] = ", ".join(f"<{u}>" for u in addressing.list_unsubscribe)
        rest["MIME-Version"] = "1.0"
        self._last = b"".join(
            _folded_field(policy, k, v, self._linesep) for k, v in rest.raw_items()
        )
        self._names = [k.lower().encode("ascii") for k in top] + [b"subject", b"date"]
        self._names += [b"message-id"] + [k.lower().encode("ascii") for k in rest]
        self._names.append(b"content-type")
        self._organizer = organizer_uri(addressing.sender).encode("ascii")
        self._calendar_head: bytes | None = None
        self._date: tuple[datetime, bytes] | None = None

    # -- one reminder ---------------------------------------------------------

    def reminder(self, reminder: Reminder, now: datetime, sent: datetime) -> tuple[bytes, str]:
        """The bytes of ``reminder``'s message at ``now``, dated ``sent``, and its Message-ID."""
        data = self.reminder_body(reminder, now, self.reminder_head(reminder, sent))
        return data, message_id(reminder.key, self.addressing.domain)

    def reminder_head(self, reminder: Reminder, sent: datetime) -> Head:
        """The head of ``reminder``'s message: its worded title as the subject, its key
        as the seed (the same Message-ID in every language)."""
        return self.head(self.words.title(reminder), reminder.key, sent)

    def reminder_body(self, reminder: Reminder, now: datetime, head: Head) -> bytes:
        """The whole message of ``reminder`` under ``head``: its text, HTML and calendar."""
        text, markup = _reminder_parts(reminder, now, self.words)
        return self.body(head, text, markup, self.calendar(reminder, now))

    def calendar(self, reminder: Reminder, now: datetime) -> bytes:
        """``calendar_attachment((reminder,), now, sender, words)``, byte for byte, written
        faster, in the writer's words.

        The calendar's own properties are rendered once per writer; each
        reminder's zone and event once per call.
        """
        if self._calendar_head is None:
            empty = calendar_attachment((), now, self.addressing.sender, self.words)
            if not empty.endswith(_END_CALENDAR):
                raise ValueError("the calendar does not end with END:VCALENDAR")
            self._calendar_head = empty.removesuffix(_END_CALENDAR)
        zone, event = event_ical(reminder, now=now, words=self.words)
        event = _with_organizer(event, self._organizer)
        return b"".join([self._calendar_head, zone, event, _END_CALENDAR])

    # -- any message ----------------------------------------------------------

    def message(
        self, subject: str, text: str, markup: str, calendar: bytes, seed: str, sent: datetime
    ) -> tuple[bytes, str]:
        """The bytes of a message and its Message-ID: ``head`` and ``body`` together."""
        head = self.head(subject, seed, sent)
        return self.body(head, text, markup, calendar), head.ident

    def head(self, subject: str, seed: str, sent: datetime) -> Head:
        """The header block of a message; ``UnsafeHeaders`` when it is not the fields set.

        ``subject`` is put through ``header_text``; ``seed`` makes the
        Message-ID (see ``message_id``); ``sent`` is the Date.
        """
        eol = self._linesep
        ident = message_id(seed, self.addressing.domain)
        boundary = _boundary()
        if self._date is None or self._date[0] != sent:
            # A run dates all its messages alike: the Date is written once per run.
            self._date = (sent, b"Date: " + format_datetime(sent).encode("ascii") + eol)
        data = b"".join(
            [
                self._first,
                self._subject(header_text(subject)),
                self._date[1],
                b"Message-ID: " + ident.encode("ascii") + eol,
                self._last,
                b'Content-Type: multipart/mixed; boundary="' + boundary + b'"' + eol,
            ]
        )
        self._check(data)
        return Head(data, ident, boundary)

    def body(self, head: Head, text: str, markup: str, calendar: bytes) -> bytes:
        """The whole message: ``head``, then ``text`` and ``markup`` as alternatives, and
        ``calendar`` attached as cadence.ics."""
        eol = self._linesep
        outer, inner = head.boundary, _boundary()
        parts = [
            head.data,
            eol,
            b"--" + outer + eol,
            b'Content-Type: multipart/alternative; boundary="' + inner + b'"' + eol,
            eol,
            b"--" + inner + eol,
            *self._text_part("plain", text),
            b"--" + inner + eol,
            *self._text_part("html", markup),
            b"--" + inner + b"--" + eol,
            eol,
            b"--" + outer + eol,
            b'Content-Type: text/calendar; method="PUBLISH"; charset="utf-8"' + eol,
            b'Content-Disposition: attachment; filename="cadence.ics"' + eol,
            b"Content-Transfer-Encoding: base64" + eol,
            eol,
            base64.encodebytes(calendar).replace(b"\n", eol),
            eol,
            b"--" + outer + b"--" + eol,
        ]
        return b"".join(parts)

    def _subject(self, text: str) -> bytes:
        eol = self._linesep
        if text.isascii() and "=?" not in text and text.isprintable():
            words = text.split(" ")
            lines, line = [], "Subject:"
            for word in words:
                if len(line) + 1 + len(word) > self._width and line != "Subject:":
                    lines.append(line)
                    line = ""
                line += " " + word
            lines.append(line)
            return eol.join(x.encode("ascii") for x in lines) + eol
        # Encoded words of at most 39 bytes of UTF-8 each, cut between characters:
        # each fits on a line, and no decoder can read them as anything but the text.
        pieces: list[bytes] = []
        chunk = b""
        for char in text:
            encoded = char.encode("utf-8", "surrogatepass")
            if len(chunk) + len(encoded) > 39:
                pieces.append(chunk)
                chunk = b""
            chunk += encoded
        pieces.append(chunk)
        encoded_words = [b"=?utf-8?b?" + base64.b64encode(p) + b"?=" for p in pieces]
        return b"Subject: " + (eol + b" ").join(encoded_words) + eol

    def _text_part(self, subtype: str, text: str) -> list[bytes]:
        eol = self._linesep
        data = text.encode("utf-8", "surrogateescape")
        lines = data.split(b"\n")
        if data.isascii() and max(map(len, lines)) <= self._width:
            encoding, content = b"7bit", eol.join(lines)
        else:
            encoding = b"quoted-printable"
            content = binascii.b2a_qp(data, istext=True).replace(b"\n", eol)
        return [
            b"Content-Type: text/" + subtype.encode("ascii") + b'; charset="utf-8"' + eol,
            b"Content-Transfer-Encoding: " + encoding + eol,
            eol,
            content if content.endswith(eol) else content + eol,
            eol,
        ]

    def _check(self, head: bytes) -> None:
        """Refuse a header block that is not exactly the fields set, each on its own lines."""
        lines = head.split(self._linesep)
        if lines[-1] != b"":
            raise UnsafeHeaders("the message's header block is not its headers")
        names: list[bytes] = []
        for line in lines[:-1]:
            if line[:1] in (b" ", b"\t"):
                if not line.strip() or not names:
                    raise UnsafeHeaders(f"a header would end early: {line[:60]!r}")
                continue
            name, colon, _ = line.partition(b":")
            if not colon or b"\r" in line or b"\n" in line:
                raise UnsafeHeaders(f"a header line is not a field: {line[:60]!r}")
            names.append(name.lower())
        if names != self._names:
            raise UnsafeHeaders("the message's header block is not its headers")


def _boundary() -> bytes:
    # "=_" appears in no base64 and no quoted-printable text, and the random part in no other.
    return b"=_cadence_" + secrets.token_hex(16).encode("ascii")


class UnsafeHeaders(ValueError):
    """A flattened message whose header block is not the headers that were set."""


def flatten(message: EmailMessage, policy: Policy) -> bytes:
    """``message`` as bytes to send, after checking that every header came out as one field.

    Each header of the message, as written, must be one line, or one line
    and its folded continuations (each starting with white space), and
    nothing more; the message's bytes must start with exactly those headers
    and the blank line that ends them. Anything else (a header or a blank
    line that the email package let through from a header's value) raises
    ``UnsafeHeaders``: such a message is never sent.
    """
    # Flattened first: writing a multipart message is what sets its boundary.
    data = message.as_bytes(policy=policy)
    linesep = policy.linesep.encode("ascii")
    # Only the top holds text from outside; the parts' headers are cadence's own constants.
    top = b"".join(_folded_field(policy, k, v, linesep) for k, v in message.raw_items())
    if not data.startswith(top + linesep):
        raise UnsafeHeaders("the message's header block is not its headers")
    return data


def _folded_field(policy: Policy, name: str, value: object, linesep: bytes) -> bytes:
    folded = policy.fold_binary(name, value)  # type: ignore[arg-type]
    lines = folded.removesuffix(linesep).split(linesep)
    if not folded.endswith(linesep) or not lines[0].lower().startswith(
        name.lower().encode() + b":"
    ):
        raise UnsafeHeaders(f"the {name} header is not written as one field")
    for line in lines[1:]:
        if line[:1] not in (b" ", b"\t") or not line.strip():
            raise UnsafeHeaders(f"the {name} header would end early: {line[:60]!r}")
    return folded
