"""Touches read from mail and meetings: which contacts a message or a meeting touched, and how.

Sources (an IMAP mailbox, a Maildir, a calendar) read what they must of
each message or event into a ``Message`` or a ``Meeting``; the rules here
turn it into touchpoints for the contacts it involves. They are pure: the
same facts and the same contacts give the same touchpoints.

A message:

- from a contact to you is a touch "in", from you to a contact "out"; every
  contact among To, Cc (and, in mail you sent, Bcc) gets one;
- is bulk, so not personal (it does not restart anyone's clock), when it
  carries ``List-Id`` or ``List-Unsubscribe``, says ``Precedence: bulk``,
  ``list`` or ``junk``, or has more than ``bulk_recipients`` recipients;
- is ignored when it is an automatic reply (RFC 3834 ``Auto-Submitted``
  other than ``no``, or ``X-Autoreply``);
- touches only contacts cadence already has; your own addresses and those
  matching an ``ignore`` pattern never match a contact;
- happened at its Date header, unless that is missing, in the future, or
  more than ``MAX_CLOCK_SKEW`` from the moment the server received it, which
  is then taken instead.

A meeting (an event of a calendar) that has begun, is not cancelled and was
not declined by the contact touches every contact among its attendees and
its organizer, at its start, through the channel "meeting". It is a
two-way contact, and reads as "out" when you organized it or nobody did,
"in" when the contact did.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Literal

import attrs

from cadence.core.errors import CadenceError
from cadence.core.model import Touchpoint, email_key
from cadence.core.time import require_aware

__all__ = [
    "BULK_RECIPIENTS",
    "MAX_CLOCK_SKEW",
    "Meeting",
    "Message",
    "TouchRules",
    "meeting_touches",
    "message_ref",
    "message_touches",
]

#: More recipients than this make a message bulk, unless a source says otherwise.
BULK_RECIPIENTS = 10
#: A Date header further than this from the server's arrival time is not believed.
MAX_CLOCK_SKEW = timedelta(days=2)


def _addresses(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


def _moment(value: datetime | None) -> datetime | None:
    return None if value is None else require_aware(value, "a message's time")


def message_ref(message_id: str | None, fallback: str) -> str:
    """The ref a source gives a message: a hash of its Message-ID, else of ``fallback``.

    Only the hash is kept, so the store never holds the Message-ID itself.
    ``fallback`` names the message where it lives (a folder and its UID).
    """
    text = (message_id or "").strip().strip("<>").strip()
    basis = f"id:{text}" if text else f"at:{fallback}"
    return hashlib.sha256(basis.encode("utf-8", "surrogateescape")).hexdigest()[:32]


@attrs.frozen
class Message:
    """What a source read of one message's header, and nothing of its body.

    ``ref`` names the message for good (``message_ref``); the address lists
    hold bare addresses as written; ``date`` is the Date header and
    ``arrived`` when the server received it (either may be None). ``bulk``
    says that a header marks it as mail to a list (``List-Id``,
    ``List-Unsubscribe``, ``Precedence`` bulk, list or junk); ``automatic``
    that it is an automatic reply. ``subject`` is kept only where the source
    is told to keep it.
    """

    ref: str
    sender: tuple[str, ...] = attrs.field(default=(), converter=_addresses)
    to: tuple[str, ...] = attrs.field(default=(), converter=_addresses)
    cc: tuple[str, ...] = attrs.field(default=(), converter=_addresses)
    bcc: tuple[str, ...] = attrs.field(default=(), converter=_addresses)
    date: datetime | None = attrs.field(default=None, converter=_moment)
    arrived: datetime | None = attrs.field(default=None, converter=_moment)
    bulk: bool = False
    automatic: bool = False
    subject: str | None = None


def _start(value: datetime) -> datetime:
    return require_aware(value, "a meeting's start")


@attrs.frozen
class Meeting:
    """What a source read of one occurrence of a calendar event.

    ``ref`` names the occurrence for good (its UID and, for a recurring
    event, the occurrence's start); ``attendees`` are (address, PARTSTAT)
    pairs, PARTSTAT in capitals ("ACCEPTED", "DECLINED", "NEEDS-ACTION"...).
    """

    ref: str
    start: datetime = attrs.field(converter=_start)
    organizer: str | None = None
    attendees: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=tuple)
    cancelled: bool = False
    summary: str | None = None


def _patterns(items: Iterable[str]) -> tuple[str, ...]:
    found = tuple(email_key(p) for p in items)
    for pattern in found:
        if not pattern.strip():
            raise CadenceError("an ignore pattern must not be empty")
    return found


def _me(items: Iterable[str]) -> frozenset[str]:
    return frozenset(email_key(a) for a in items)


@attrs.frozen
class TouchRules:
    """How one source's mail and meetings become touchpoints.

    ``source`` is the source's name, carried by each touchpoint; ``contacts``
    maps each address (its ``email_key``) to the id of the contact it
    belongs to; ``me`` are your own addresses; ``ignore`` holds
    shell-style patterns of addresses that never match a contact
    ("*@noreply.example", "billing@*"). ``keep_subject`` keeps a message's
    subject (a meeting's summary) as the touchpoint's note.
    """

    source: str
    contacts: Mapping[str, str]
    me: frozenset[str] = attrs.field(default=frozenset(), converter=_me)
    ignore: tuple[str, ...] = attrs.field(default=(), converter=_patterns)
    bulk_recipients: int = BULK_RECIPIENTS
    keep_subject: bool = False

    def contact(self, address: str) -> str | None:
        """The id of the contact ``address`` belongs to, or None (yours, ignored, unknown)."""
        key = email_key(address.strip())
        if not key or key in self.me:
            return None
        if any(fnmatch.fnmatchcase(key, pattern) for pattern in self.ignore):
            return None
        return self.contacts.get(key)

    def mine(self, address: str) -> bool:
        """Whether ``address`` is one of yours."""
        return email_key(address.strip()) in self.me


def _when(message: Message, now: datetime) -> datetime | None:
    date, arrived = message.date, message.arrived
    believed = arrived is None or (date is not None and abs(date - arrived) <= MAX_CLOCK_SKEW)
    if date is not None and date <= now and believed:
        return date
    if arrived is not None and arrived <= now + MAX_CLOCK_SKEW:
        return min(arrived, now)
    return None


def message_touches(message: Message, rules: TouchRules, *, now: datetime) -> list[Touchpoint]:
    """The touchpoints ``message`` makes under ``rules``, as of ``now`` (none for an auto-reply)."""
    now = require_aware(now, "now")
    if message.automatic:
        return []
    at = _when(message, now)
    if at is None:
        return []
    recipients = [*message.to, *message.cc, *message.bcc]
    personal = not message.bulk and len(recipients) <= rules.bulk_recipients
    note = (message.subject or "") if rules.keep_subject else ""
    found: dict[str, Literal["in", "out"]] = {}
    if any(rules.mine(a) for a in message.sender):
        for address in recipients:
            contact = rules.contact(address)
            if contact is not None:
                found.setdefault(contact, "out")
    else:
        for address in message.sender:
            contact = rules.contact(address)
            if contact is not None:
                found.setdefault(contact, "in")
    return [
        Touchpoint(
            contact,
            at,
            "email",
            personal=personal,
            direction=direction,
            note=note,
            source=rules.source,
            ref=message.ref,
        )
        for contact, direction in sorted(found.items())
    ]


def meeting_touches(meeting: Meeting, rules: TouchRules, *, now: datetime) -> list[Touchpoint]:
    """The touchpoints ``meeting`` makes under ``rules``: none before it starts."""
    now = require_aware(now, "now")
    if meeting.cancelled or meeting.start > now:
        return []
    declined = {email_key(a) for a, status in meeting.attendees if status.upper() == "DECLINED"}
    organizer = rules.contact(meeting.organizer) if meeting.organizer else None
    people: list[str] = [a for a, _ in meeting.attendees]
    if meeting.organizer:
        people.append(meeting.organizer)
    found: dict[str, Literal["in", "out"]] = {}
    for address in people:
        if email_key(address.strip()) in declined:
            continue
        contact = rules.contact(address)
        if contact is not None:
            found.setdefault(contact, "in" if contact == organizer else "out")
    note = (meeting.summary or "") if rules.keep_subject else ""
    return [
        Touchpoint(
            contact,
            meeting.start,
            "meeting",
            direction=direction,
            note=note,
            source=rules.source,
            ref=meeting.ref,
        )
        for contact, direction in sorted(found.items())
    ]
