"""Reading a message's header into a ``cadence.core.touches.Message``, for every mail source.

Only the header fields below are read; the body is never looked at (IMAP
sources fetch these fields alone, local ones stop at the blank line).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime

from cadence.core.touches import Message, message_ref

__all__ = ["HEADER_FIELDS", "read_header"]

#: The header fields a mail source reads, and nothing else.
HEADER_FIELDS = (
    "Message-ID",
    "Date",
    "From",
    "Sender",
    "To",
    "Cc",
    "Bcc",
    "List-Id",
    "List-Unsubscribe",
    "Precedence",
    "Auto-Submitted",
    "X-Autoreply",
    "X-Autorespond",
    "Subject",
)

_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.?[^@\s<>()\[\],;:\"]*")
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
# compat32 leaves values as they came; the modern policy's header registry is
# slow and raises on the malformed headers real mail carries.
_PARSER = BytesHeaderParser(policy=compat32)


def _addresses(values: list[str]) -> tuple[str, ...]:
    found = []
    for _, address in getaddresses([str(v) for v in values]):
        address = address.strip()
        if "@" in address and _plausible(address):
            found.append(address)
    return tuple(found)


def _plausible(address: str) -> bool:
    # A cheap shape check: the header registry's parser costs more than all the rest.
    return _ADDRESS.fullmatch(address) is not None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        # RFC 5322 -0000: the zone is unknown; UTC is the least wrong reading.
        moment = moment.replace(tzinfo=UTC)
    return moment


def read_header(raw: bytes, *, where: str, arrived: datetime | None = None) -> Message:
    """The ``Message`` of a raw header (or a whole message, whose body is not read).

    ``where`` names the message where it lives (a folder and UID, a file),
    used for its ref when it has no Message-ID; ``arrived`` is when the
    server received it, if known. Malformed fields are read as absent.
    """
    header = _PARSER.parsebytes(raw, headersonly=True)
    precedence = str(header.get("Precedence", "")).strip().lower()
    automatic = str(header.get("Auto-Submitted", "no")).strip().lower() not in ("", "no")
    automatic = automatic or header.get("X-Autoreply") is not None
    automatic = automatic or header.get("X-Autorespond") is not None
    subject = header.get("Subject")
    return Message(
        ref=message_ref(str(header.get("Message-ID") or ""), where),
        sender=_addresses(header.get_all("From", [])),
        to=_addresses(header.get_all("To", [])),
        cc=_addresses(header.get_all("Cc", [])),
        bcc=_addresses(header.get_all("Bcc", [])),
        date=_date(header.get("Date")),
        arrived=arrived,
        bulk=bool(
            header.get("List-Id") is not None
            or header.get("List-Unsubscribe") is not None
            or precedence in _BULK_PRECEDENCE
        ),
        automatic=automatic,
        subject=_subject(subject),
    )


def _subject(value: object) -> str | None:
    if value is None:
        return None
    try:
        text = str(make_header(decode_header(str(value))))
    except (ValueError, LookupError, UnicodeError):
        text = str(value)
    # One line, with no control characters: it may become a touchpoint's note.
    return " ".join("".join(c if c.isprintable() else " " for c in text).split()) or None
