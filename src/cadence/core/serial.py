"""Plain-data forms of the model, for stores and JSON output. Lossless and versionless."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

from cadence.core.cadences import Every, Recurring
from cadence.core.errors import CadenceError
from cadence.core.model import Contact
from cadence.core.reminders import Facts, Reminder

if TYPE_CHECKING:
    # Imported where they are used: reading planned reminders (`cadence due`)
    # needs neither occasions nor drift's signs, unless a reminder has signs.
    from cadence.core.drift import DriftReason
    from cadence.core.occasions import OccasionKind

__all__ = [
    "CONTACT_COLUMNS",
    "cadence_from_data",
    "cadence_to_data",
    "contact_from_row",
    "dumps",
    "facts_from_data",
    "facts_to_data",
    "occasion_from_data",
    "occasion_to_data",
    "reminder_to_json",
]


# Made once: json.dumps with options of its own builds an encoder on every call,
# which is most of the cost of the short values written here.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dumps(value: Any) -> str:
    """Compact, key-sorted JSON, so equal data gives equal text."""
    return _ENCODER.encode(value)


def _texts(values: Iterable[str]) -> str:
    """``dumps`` of a list of text, written directly: a contact's row holds three."""
    return "[" + ",".join(map(encode_basestring, values)) + "]"


def cadence_to_data(cadence: Every | Recurring) -> dict[str, Any]:
    """A cadence as plain data."""
    if isinstance(cadence, Every):
        return {"every": {"months": cadence.months, "days": cadence.days}}
    return {
        "rrule": cadence.rrule,
        "at": cadence.at.isoformat(),
        "start": cadence.start.isoformat() if cadence.start else None,
    }


def cadence_from_data(data: dict[str, Any]) -> Every | Recurring:
    """The cadence that ``cadence_to_data`` gave."""
    if "every" in data:
        return Every(months=data["every"]["months"], days=data["every"]["days"])
    start = data.get("start")
    return Recurring(
        data["rrule"],
        at=time.fromisoformat(data["at"]),
        start=date.fromisoformat(start) if start else None,
    )


def occasion_to_data(occasion: OccasionKind) -> dict[str, Any]:
    """An occasion as plain data."""
    from cadence.core.occasions import Anniversary, Birthday

    lead = occasion.lead.total_seconds()
    if isinstance(occasion, Birthday):
        return {
            "kind": "birthday",
            "contact": occasion.contact,
            "month": occasion.month,
            "day": occasion.day,
            "year": occasion.year,
            "lead": lead,
            "leap_day": occasion.leap_day,
        }
    if isinstance(occasion, Anniversary):
        return {
            "kind": "anniversary",
            "contact": occasion.contact,
            "date": occasion.date.isoformat(),
            "label": occasion.label,
            "lead": lead,
            "leap_day": occasion.leap_day,
        }
    return {
        "kind": "occasion",
        "title": occasion.title,
        "on": occasion.on.isoformat() if occasion.on else None,
        "month": occasion.month,
        "day": occasion.day,
        "contact": occasion.contact,
        "tag": occasion.tag,
        "lead": lead,
        "leap_day": occasion.leap_day,
    }


def occasion_from_data(data: dict[str, Any]) -> OccasionKind:
    """The occasion that ``occasion_to_data`` gave."""
    from cadence.core.occasions import Anniversary, Birthday, Occasion

    lead = timedelta(seconds=data.get("lead", 0))
    kind = data.get("kind")
    if kind == "birthday":
        return Birthday(
            data["contact"],
            data["month"],
            data["day"],
            year=data.get("year"),
            lead=lead,
            leap_day=data.get("leap_day", "feb28"),
        )
    if kind == "anniversary":
        return Anniversary(
            data["contact"],
            date.fromisoformat(data["date"]),
            label=data.get("label", "anniversary"),
            lead=lead,
            leap_day=data.get("leap_day", "feb28"),
        )
    if kind == "occasion":
        on = data.get("on")
        return Occasion(
            data["title"],
            on=date.fromisoformat(on) if on else None,
            month=data.get("month"),
            day=data.get("day"),
            contact=data.get("contact"),
            tag=data.get("tag"),
            lead=lead,
            leap_day=data.get("leap_day", "feb28"),
        )
    raise CadenceError(f"unknown occasion kind {kind!r} in the store")


#: The stored columns of a contact, as ``contact_to_row`` gives them.
CONTACT_COLUMNS = (
    "id",
    "name",
    "email",
    "timezone",
    "channel",
    "tags",
    "since",
    "emails",
    "phones",
    "organization",
    "added",
)


def contact_to_row(contact: Contact) -> tuple[Any, ...]:
    """The columns of a contact, in the order of ``CONTACT_COLUMNS``."""
    return (
        contact.id,
        contact.name,
        contact.email,
        contact.timezone,
        contact.channel,
        _texts(sorted(contact.tags)),
        contact.since.isoformat() if contact.since else None,
        _texts(contact.emails),
        _texts(contact.phones),
        contact.organization,
        contact.added.isoformat() if contact.added else None,
    )


def contact_from_row(row: tuple[Any, ...] | list[Any]) -> Contact:
    """The contact that ``contact_to_row`` gave."""
    ident, name, email, timezone, channel, tags, since, emails, phones, organization, added = row
    addresses = json.loads(emails) if emails and emails != "[]" else ()
    return Contact(
        ident,
        name,
        # A row written before contacts had several addresses holds only the primary.
        emails=addresses or ([email] if email is not None else ()),
        phones=json.loads(phones) if phones and phones != "[]" else (),
        organization=organization,
        timezone=timezone,
        channel=channel,
        tags=json.loads(tags) if tags else (),
        since=date.fromisoformat(since) if since else None,
        added=date.fromisoformat(added) if added else None,
    )


def reminder_to_json(reminder: Reminder) -> dict[str, Any]:
    """A reminder as JSON-ready data: what ``cadence due --json`` prints for each one.

    ``facts`` holds what its words are made of (``facts_to_data``; None for a
    reminder made without them), the same in every language, so that a
    program can word it in its own.
    """
    contact = reminder.contact
    return {
        "key": reminder.key,
        "contact": contact.id,
        "name": contact.name,
        "email": contact.email,
        "emails": list(contact.emails),
        "phones": list(contact.phones),
        "organization": contact.organization,
        "tags": sorted(contact.tags),
        "kind": reminder.kind,
        "purpose": reminder.purpose,
        "title": reminder.title,
        "date": reminder.date.isoformat(),
        "due": reminder.due.isoformat(),
        "overdue_seconds": int(reminder.overdue.total_seconds()),
        "channel": reminder.channel,
        "occasion_date": reminder.occasion_date.isoformat() if reminder.occasion_date else None,
        "reason": reminder.reason,
        "facts": facts_to_data(reminder.facts),
    }


def facts_to_data(facts: Facts | None) -> dict[str, Any] | None:
    """A reminder's facts as plain data: only the fields that are set."""
    if facts is None:
        return None
    data: dict[str, Any] = {}
    if facts.cadence is not None:
        data["cadence"] = cadence_to_data(facts.cadence)
    for name in ("history", "occasion", "label", "count", "born"):
        value = getattr(facts, name)
        if value is not None:
            data[name] = value
    for name in ("last", "start", "snoozed"):
        value = getattr(facts, name)
        if value is not None:
            data[name] = value.isoformat()
    if facts.signs is not None:
        data["signs"] = [_sign_to_data(sign) for sign in facts.signs]
    return data


def _sign_to_data(sign: DriftReason) -> dict[str, Any]:
    data: dict[str, Any] = {"signal": sign.signal, "strength": sign.strength}
    for name in ("days", "usual_days", "answered", "of", "usual_share"):
        value = getattr(sign, name)
        if value is not None:
            data[name] = value
    if sign.since is not None:
        data["since"] = sign.since.isoformat()
    return data


def _sign_from_data(data: dict[str, Any]) -> DriftReason:
    from cadence.core.drift import DriftReason

    since = data.get("since")
    return DriftReason(
        data["signal"],
        data["strength"],
        since=date.fromisoformat(since) if since else None,
        days=data.get("days"),
        usual_days=data.get("usual_days"),
        answered=data.get("answered"),
        of=data.get("of"),
        usual_share=data.get("usual_share"),
    )


def facts_from_data(data: dict[str, Any] | None) -> Facts | None:
    """The facts that ``facts_to_data`` gave."""
    if data is None:
        return None
    cadence = data.get("cadence")
    last, start, snoozed = data.get("last"), data.get("start"), data.get("snoozed")
    signs = data.get("signs")
    return Facts(
        cadence=cadence_from_data(cadence) if cadence is not None else None,
        history=data.get("history"),
        last=date.fromisoformat(last) if last else None,
        occasion=data.get("occasion"),
        label=data.get("label"),
        count=data.get("count"),
        born=data.get("born"),
        start=date.fromisoformat(start) if start else None,
        snoozed=datetime.fromisoformat(snoozed) if snoozed else None,
        signs=None if signs is None else tuple(map(_sign_from_data, signs)),
    )


def reminder_row(reminder: Reminder) -> tuple[Any, ...]:
    """Columns stored for a planned reminder (the contact is stored apart)."""
    return (
        reminder.key,
        reminder.contact.id,
        int(reminder.due.timestamp()),
        reminder.due.isoformat(),
        dumps(
            {
                "kind": reminder.kind,
                "title": reminder.title,
                "date": reminder.date.isoformat(),
                "channel": reminder.channel,
                "occasion_date": (
                    reminder.occasion_date.isoformat() if reminder.occasion_date else None
                ),
                "reason": reminder.reason,
                "purpose": reminder.purpose,
                "lead": reminder.lead.total_seconds(),
                "facts": facts_to_data(reminder.facts),
            }
        ),
    )


def reminder_from_row(key: str, contact: Contact, due: str, data: str, now: datetime) -> Reminder:
    """The reminder that ``reminder_row`` stored, seen at ``now``."""
    fields = json.loads(data)
    moment = datetime.fromisoformat(due).astimezone(contact.zone)
    occasion_date = fields["occasion_date"]
    return Reminder(
        key=key,
        contact=contact,
        kind=fields["kind"],
        title=fields["title"],
        date=date.fromisoformat(fields["date"]),
        due=moment,
        overdue=max(now - moment, timedelta(0)),
        channel=fields["channel"],
        occasion_date=date.fromisoformat(occasion_date) if occasion_date else None,
        reason=fields["reason"],
        purpose=fields["purpose"],
        lead=timedelta(seconds=fields["lead"]),
        # Rows stored before reminders had facts have none: their words are their title and reason.
        facts=facts_from_data(fields.get("facts")),
    )
