"""What a person does to the store, shared by the command line and the web page.

Logging a touch, snoozing or finishing a reminder and editing a contact each
check their input and write in one call, so that both front ends refuse the
same things with the same words and change the store the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any

from cadence.core.cadences import parse_cadence
from cadence.core.durations import parse_date, parse_moment
from cadence.core.errors import CadenceError
from cadence.core.model import Contact, Rule, Touchpoint, email_key
from cadence.core.reminders import Reminder
from cadence.core.time import local_moment, zone

__all__ = [
    "LOG_AHEAD",
    "edit_contact",
    "finish",
    "health_band",
    "log_touch",
    "planned",
    "snooze",
    "snooze_moment",
]

#: How far ahead of now a touch may be logged: two clocks a few minutes apart.
LOG_AHEAD = timedelta(minutes=5)

#: The hour of the contact's day that a snooze given as a bare date ends at.
SNOOZE_HOUR = time(9, 0)


def health_band(score: float) -> str:
    """Where a health score falls: ``healthy`` (not yet due), ``drifting`` or ``overdue``.

    A sliding cadence's health is 0.5 when a check-in falls due and 0.25 once
    it is a whole interval late, so ``healthy`` is 0.5 and above,
    ``drifting`` from 0.25 up to 0.5, and ``overdue`` below 0.25.
    """
    if score >= 0.5:
        return "healthy"
    if score >= 0.25:
        return "drifting"
    return "overdue"


def log_touch(
    store: Any,
    person: Contact,
    *,
    now: datetime,
    at: datetime | None = None,
    said: str = "the moment given",
    channel: str | None = None,
    note: str = "",
    bulk: bool = False,
    inbound: bool = False,
) -> Touchpoint:
    """Log a touchpoint with ``person`` at ``at`` (default ``now``) and return it.

    A moment more than ``LOG_AHEAD`` after ``now`` is refused (CadenceError,
    naming it as ``said``). The channel defaults to the contact's preferred
    one, else ``other``.
    """
    at = now if at is None else at
    if at - now > LOG_AHEAD:
        shown = now.astimezone(person.zone)
        raise CadenceError(
            f"{said} is in the future (it is now {shown:%Y-%m-%d %H:%M %Z} for "
            f"{person.name}); log a touchpoint once it happened, at most "
            f"{LOG_AHEAD.seconds // 60} minutes ahead to allow for clock skew"
        )
    touch = Touchpoint(
        person.id,
        at,
        (channel or "").strip() or person.channel or "other",
        personal=not bulk,
        direction="in" if inbound else "out",
        note=note,
    )
    store.log(touch)
    return touch


def planned(store: Any, prefix: str, *, now: datetime) -> tuple[str, Reminder]:
    """The full key and the planned reminder that ``prefix`` (a key or its start) names."""
    key = store.resolve_key(prefix)
    reminder: Reminder = store.planned(key, now=now)
    return key, reminder


def snooze_moment(text: str, reminder: Reminder, *, now: datetime) -> datetime:
    """The moment ``text`` names for a snooze: a date (09:00 in the contact's zone) or a moment.

    One not after ``now`` is refused (CadenceError).
    """
    text = text.strip()
    if "T" in text or " " in text:
        until = parse_moment(text, default_zone=reminder.contact.timezone)
    else:
        until = local_moment(parse_date(text), SNOOZE_HOUR, zone(reminder.contact.timezone))
    if until <= now:
        raise CadenceError(f"snooze until a moment after now, not {text!r}")
    return until


def snooze(store: Any, key: str, until: datetime) -> None:
    """Hide the reminder ``key`` until ``until``."""
    store.snooze(key, until)


def finish(
    store: Any,
    key: str,
    reminder: Reminder,
    *,
    now: datetime,
    channel: str | None = None,
    note: str = "",
) -> Touchpoint | None:
    """Mark a reminder done: a check-in logs a touchpoint (returned), an occasion is dismissed."""
    person = reminder.contact
    if reminder.kind == "cadence":
        return log_touch(store, person, now=now, channel=channel, note=note)
    store.dismiss(key, at=now)
    return None


def _edited(kept: str | None, given: str | None) -> str | None:
    """What an edit leaves in a field: ``kept`` when not given, nothing when ''."""
    if given is None:
        return kept
    return given if given.strip() else None


def edit_contact(
    store: Any,
    person: Contact,
    *,
    name: str | None = None,
    add_emails: Iterable[str] = (),
    remove_emails: Iterable[str] = (),
    primary_email: str | None = None,
    add_phones: Iterable[str] = (),
    remove_phones: Iterable[str] = (),
    organization: str | None = None,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
    channel: str | None = None,
    timezone: str | None = None,
    since: str | None = None,
    every: str | None = None,
    no_cadence: bool = False,
) -> tuple[Contact, bool]:
    """Change ``person``: only what is given changes; return the contact and whether anything did.

    Text fields given as '' are cleared. ``every`` gives the contact a
    cadence rule of its own; ``no_cadence`` removes it. Everything is
    checked before anything is written.
    """
    remove_emails, remove_phones = tuple(remove_emails), tuple(remove_phones)
    if every and no_cadence:
        raise CadenceError("give a cadence or remove it, not both")
    dropped = {email_key(a) for a in remove_emails}
    unknown = [a for a in remove_emails if email_key(a) not in map(email_key, person.emails)]
    if unknown:
        raise CadenceError(f"{person.id} has no email address {unknown[0]!r}")
    missing = [p for p in remove_phones if p not in person.phones]
    if missing:
        raise CadenceError(f"{person.id} has no phone number {missing[0]!r}")
    emails = [a for a in (*person.emails, *add_emails) if email_key(a) not in dropped]
    changed = Contact(
        person.id,
        person.name if name is None else name,
        email=primary_email,
        emails=emails,
        phones=[p for p in (*person.phones, *add_phones) if p not in remove_phones],
        organization=_edited(person.organization, organization),
        timezone=person.timezone if timezone is None else timezone,
        channel=_edited(person.channel, channel),
        tags=(person.tags | set(add_tags)) - set(remove_tags),
        since=person.since if since is None else parse_date(since) if since.strip() else None,
        added=person.added,
    )
    rule = Rule(parse_cadence(every), contact=person.id) if every else None
    if changed != person:
        store.put_contact(changed)
    if rule is not None:
        store.set_rule(rule)
    dropped_rule = no_cadence and store.remove_rule(contact=person.id)
    return changed, changed != person or rule is not None or bool(dropped_rule)
