"""Building reminder emails: one per reminder, or one digest per run. No sending here.

Every message is an RFC 5322 ``EmailMessage``: a text/plain part and a
text/html alternative, and an attached calendar (.ics, METHOD:PUBLISH) of
the reminders it carries. Text that comes from people (contact names, notes,
titles) is put on one line before it reaches a header or a body: control and
line-break characters become spaces, so no name can add a header.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP

import attrs

from cadence.adapters.ical.render import to_ical
from cadence.core.reminders import Reminder, occasion_words
from cadence.core.time import long_date

__all__ = [
    "Addressing",
    "Section",
    "calendar_attachment",
    "digest_message",
    "digest_seed",
    "header_text",
    "message_id",
    "one_line",
    "reminder_message",
    "sections",
]

#: The domain of Message-IDs when the sender's address has none usable.
FALLBACK_DOMAIN = "cadence.invalid"

#: Subjects longer than this are cut, so that a long title stays readable.
SUBJECT_LIMIT = 150


# Bidirectional overrides and isolates can make a name display as something else.
_BIDI = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# Control characters, unpaired surrogates, and the line and paragraph separators.
_BREAKING = frozenset({"Cc", "Cs", "Zl", "Zp"})
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


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


@attrs.frozen
class Section:
    """One part of a digest: a heading and its reminders, in order."""

    heading: str
    reminders: tuple[Reminder, ...]


def one_line(text: str) -> str:
    """``text`` on one line, as a header or a list item can carry it.

    Control, line-break and bidi characters become spaces, runs of white space
    one space, and the ends are trimmed.
    """
    kept = "".join(" " if c in _BIDI or unicodedata.category(c) in _BREAKING else c for c in text)
    return " ".join(kept.split())


def header_text(text: str, limit: int = SUBJECT_LIMIT) -> str:
    """``text`` made safe for a header: on one line, and cut to ``limit`` characters."""
    line = one_line(text)
    if len(line) <= limit:
        return line
    return line[: limit - 1].rstrip() + "\N{HORIZONTAL ELLIPSIS}"


def message_id(seed: str, domain: str) -> str:
    """A Message-ID from ``seed`` (a reminder key, or a digest's hash) and ``domain``."""
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
    parts: dict[str, list[Reminder]] = {"Overdue": [], "Today": [], "Coming up": []}
    for reminder in reminders:
        today = _today(reminder, now)
        if reminder.date < today:
            parts["Overdue"].append(reminder)
        elif reminder.date == today:
            parts["Today"].append(reminder)
        else:
            parts["Coming up"].append(reminder)
    return tuple(
        Section(heading, tuple(sorted(found, key=_order)))
        for heading, found in parts.items()
        if found
    )


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _when(reminder: Reminder, now: datetime) -> str:
    occasion = occasion_words(reminder, now)
    if occasion is not None and reminder.occasion_date is not None:
        # How far the day itself is, not how late a reminder ahead of it is.
        day = long_date(reminder.occasion_date, weekday=True, year=True)
        return f"{day}, {occasion}"
    delta = (reminder.date - _today(reminder, now)).days
    if delta < 0:
        return f"{long_date(reminder.date, weekday=True, year=True)}, overdue by {_days(-delta)}"
    if delta == 0:
        return f"{long_date(reminder.date, weekday=True, year=True)}, today"
    return f"{long_date(reminder.date, weekday=True, year=True)}, in {_days(delta)}"


def _channel(reminder: Reminder) -> str | None:
    return one_line(reminder.channel or reminder.contact.channel or "") or None


def _contact(reminder: Reminder) -> str:
    name = one_line(reminder.contact.name)
    email = one_line(reminder.contact.email or "")
    return f"{name} <{email}>" if email else name


def _subject_counts(found: Sequence[Section]) -> str:
    words = {"Overdue": "overdue", "Today": "today", "Coming up": "coming up"}
    return ", ".join(f"{len(s.reminders)} {words[s.heading]}" for s in found) or "nothing due"


def calendar_attachment(reminders: Sequence[Reminder], now: datetime) -> bytes:
    """The .ics of ``reminders`` with METHOD:PUBLISH, as attached to a message.

    The calendar is cadence's own (``to_ical``); METHOD goes in as the first
    calendar property, leaving the rest of the bytes as they are.
    """
    return _with_method(to_ical(reminders, name="cadence reminders", now=now), b"PUBLISH")


def _with_method(ics: bytes, method: bytes) -> bytes:
    first, newline, rest = ics.partition(b"\n")
    if first.rstrip(b"\r").upper() != b"BEGIN:VCALENDAR":
        raise ValueError("the calendar does not start with BEGIN:VCALENDAR")
    if re.search(rb"(?m)^METHOD[:;]", rest.split(b"BEGIN:", 1)[0]):
        return ics
    eol = b"\r\n" if first.endswith(b"\r") else b"\n"
    return first + newline + b"METHOD:" + method + eol + rest


def _skeleton(subject: str, addressing: Addressing, now: datetime, seed: str) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = addressing.sender
    message["To"] = addressing.to
    message["Subject"] = header_text(subject)
    message["Date"] = now
    message["Message-ID"] = message_id(seed, addressing.domain)
    # Automatic mail: out-of-office replies should not answer it (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    if addressing.list_unsubscribe:
        message["List-Unsubscribe"] = ", ".join(f"<{u}>" for u in addressing.list_unsubscribe)
    return message


def _fill(
    message: EmailMessage, text: str, markup: str, reminders: Sequence[Reminder], now: datetime
) -> EmailMessage:
    message.set_content(text)
    message.add_alternative(markup, subtype="html")
    message.add_attachment(
        calendar_attachment(reminders, now),
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


_FOOTER = "Sent by cadence. The attached calendar file holds the same reminders."


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body>\n{body}"
        f"<p><small>{html.escape(_FOOTER)}</small></p>\n</body></html>\n"
    )


def reminder_message(reminder: Reminder, addressing: Addressing, now: datetime) -> EmailMessage:
    """The message for one reminder; its Message-ID comes from the reminder's key."""
    title = one_line(reminder.title)
    rows = (
        ("Due", _when(reminder, now)),
        ("Contact", _contact(reminder)),
        ("Channel", _channel(reminder) or "any"),
        ("Why", one_line(reminder.reason) or "-"),
    )
    text = "\n".join([title, "", *(f"{k}: {v}" for k, v in rows), "", "-- ", _FOOTER, ""])
    table = "".join(
        f'<tr><th align="left">{html.escape(k)}</th><td>{html.escape(v)}</td></tr>\n'
        for k, v in rows
    )
    markup = _page(title, f"<h1>{html.escape(title)}</h1>\n<table>\n{table}</table>\n")
    message = _skeleton(reminder.title, addressing, now, reminder.key)
    return _fill(message, text, markup, (reminder,), now)


def _item(reminder: Reminder, now: datetime) -> tuple[str, str]:
    title = one_line(reminder.title)
    channel = _channel(reminder)
    by = f"by {channel}" if channel else "any channel"
    return f"{title} ({by}): {_when(reminder, now)}", one_line(reminder.reason)


def digest_message(
    reminders: Sequence[Reminder], addressing: Addressing, now: datetime
) -> EmailMessage:
    """One message listing ``reminders``: overdue first, then today's, then what is coming up.

    Each line gives the reminder, the contact's preferred channel and when it
    is due, with its reason beneath. The Message-ID comes from the sorted keys.
    """
    found = sections(reminders, now)
    subject = f"Keep in touch: {_subject_counts(found)}"
    text_lines = [subject, ""]
    markup = [f"<h1>{html.escape(subject)}</h1>\n"]
    for section in found:
        text_lines += [f"{section.heading} ({len(section.reminders)})", ""]
        markup.append(f"<h2>{html.escape(section.heading)}</h2>\n<ul>\n")
        for reminder in section.reminders:
            line, reason = _item(reminder, now)
            text_lines.append(f"- {line}")
            item = f"<li>{html.escape(line)}"
            if reason:
                text_lines.append(f"  {reason}")
                item += f"<br><small>{html.escape(reason)}</small>"
            markup.append(item + "</li>\n")
        text_lines.append("")
        markup.append("</ul>\n")
    text = "\n".join([*text_lines, "-- ", _FOOTER, ""])
    ordered = tuple(r for section in found for r in section.reminders)
    message = _skeleton(subject, addressing, now, digest_seed(ordered))
    return _fill(message, text, _page(subject, "".join(markup)), ordered, now)
