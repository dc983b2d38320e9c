"""The values people record: contacts, touchpoints, rules and snoozes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

import attrs

from cadence.core.cadences import Every, Recurring
from cadence.core.errors import CadenceError
from cadence.core.time import require_aware, zone

__all__ = ["Contact", "Rule", "Snooze", "Touchpoint", "email_key"]


# ASCII control characters: they would break a key's separator, a header or a line.
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _text(what: str, value: object, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise CadenceError(f"{what} must be text, not {value!r}")
    if not allow_empty and not value.strip():
        raise CadenceError(f"{what} must not be empty")
    return value


def _identifier(what: str, value: object) -> str:
    value = _text(what, value)
    if value != value.strip() or _CONTROL.search(value):
        raise CadenceError(
            f"{what} must have no surrounding spaces or control characters: {value!r}"
        )
    return value


# Values that many contacts or occasions share (a tag set, a start date, a
# lead time) are kept once: equal values are the same object, so a roster
# of a million contacts holds a few thousand tag sets, not a million. The
# caches are bounded and hold only immutable values.
@lru_cache(maxsize=4096, typed=True)
def _shared_tags(value: frozenset[str]) -> frozenset[str]:
    return value


@lru_cache(maxsize=16384, typed=True)
def _shared_day(value: date) -> date:
    return value


@lru_cache(maxsize=256, typed=True)
def _shared_duration(value: timedelta) -> timedelta:
    """``value``, or an equal duration given before: one object for equal lead times."""
    return value


# Collections that are neither bytes nor mappings, and iterable: no need to ask.
_PLAIN_COLLECTIONS = (tuple, list, frozenset, set)


def _tags(value: Iterable[str]) -> frozenset[str]:
    given: object = value  # callers may pass anything at run time
    if isinstance(given, str):
        given = [given]
    if not isinstance(given, _PLAIN_COLLECTIONS) and (
        isinstance(given, bytes | Mapping) or not isinstance(given, Iterable)
    ):
        raise CadenceError(f"tags must be a list of text, not {given!r}")
    try:
        return _shared_tags(frozenset(_identifier("a tag", tag) for tag in given))
    except TypeError:
        raise CadenceError(f"tags must be a list of text, not {value!r}") from None


def _day(what: str, value: date | None) -> date | None:
    given: object = value  # callers may pass anything at run time
    if given is None:
        return None
    if isinstance(given, datetime):
        raise CadenceError(f"{what} must be a date, not a datetime: {given!r}")
    if not isinstance(given, date):
        raise CadenceError(f"{what} must be a date, not {given!r}")
    return _shared_day(given)


def _since(value: date | None) -> date | None:
    return _day("since", value)


def _added(value: date | None) -> date | None:
    return _day("added", value)


def _optional_text(what: str, value: object) -> str | None:
    if value is None:
        return None
    text = _text(what, value)
    if _CONTROL.search(text):
        raise CadenceError(f"{what} must not hold control characters: {text!r}")
    return text


def _contact_id(value: str) -> str:
    return _identifier("a contact id", value)


def _name(value: str) -> str:
    return _text("a contact's name", value)


def email_key(address: str) -> str:
    """The form of an email address used to compare it: addresses compare case-insensitively."""
    return address.casefold()


def _texts(what: str, value: object) -> list[str]:
    """A list of text values given as one text or as a list of them."""
    if isinstance(value, str):
        value = [value]
    items: list[Any]
    if isinstance(value, _PLAIN_COLLECTIONS):
        # Most values: the abstract classes' checks below are slow for each of many contacts.
        items = list(value)
    elif isinstance(value, bytes | Mapping) or not isinstance(value, Iterable):
        raise CadenceError(f"{what} must be a list of text, not {value!r}")
    else:
        items = list(value)
    for item in items:
        if not isinstance(item, str):
            raise CadenceError(f"{what} must be a list of text, not {value!r}")
    return items


def _emails(value: Iterable[str]) -> tuple[str, ...]:
    kept: dict[str, str] = {}
    for address in _texts("emails", value):
        text = _optional_text("an email address", address)
        assert text is not None
        # The first spelling of an address is kept; later ones differing in case are the same.
        kept.setdefault(email_key(text), text)
    return tuple(kept.values())


def _phones(value: Iterable[str]) -> tuple[str, ...]:
    kept: dict[str, None] = {}
    for number in _texts("phones", value):
        text = _optional_text("a phone number", number)
        assert text is not None
        kept.setdefault(text, None)
    return tuple(kept)


def _organization(value: str | None) -> str | None:
    return _optional_text("an organization", value)


def _preferred_channel(value: str | None) -> str | None:
    return _optional_text("a channel", value)


@attrs.frozen(init=False)
class Contact:
    """Someone you keep in touch with.

    ``id`` is yours to choose and never changes; ``timezone`` is an IANA name
    and the zone in which the contact's dates and check-in times are reckoned;
    ``channel`` is how they prefer to hear from you (phone, email, video...);
    ``tags`` put them in tiers and lists; ``since`` is the day the relationship
    began, counted as the last touch until one is logged. ``added`` is the day
    the contact came into cadence by an import, which sets it: a
    contact never touched has its first check-in spread over its cadence's
    first interval from that day, so that an import does not make everyone
    due at once, unless ``since`` makes it due later. Without ``added`` or
    ``since``, the first check-in is due at once.

    ``emails`` are the contact's email addresses, the primary first; ``email``
    is the primary one (or None). Give either: ``email="a@example.com"`` alone
    means ``emails=["a@example.com"]``, and an ``email`` given with ``emails``
    becomes the primary, moved or added to the front. Addresses compare
    case-insensitively, so one that differs from an earlier one only in case
    is dropped and the first spelling kept. ``phones`` are phone numbers as
    written, and ``organization`` where the contact works.
    """

    id: str = attrs.field(converter=_contact_id)
    name: str = attrs.field(converter=_name)
    # Checked and cleaned by __init__, through which evolve() goes too.
    emails: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    phones: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_phones)
    organization: str | None = attrs.field(default=None, kw_only=True, converter=_organization)
    timezone: str = attrs.field(default="UTC", kw_only=True)
    channel: str | None = attrs.field(default=None, kw_only=True, converter=_preferred_channel)
    tags: frozenset[str] = attrs.field(default=(), kw_only=True, converter=_tags)
    since: date | None = attrs.field(default=None, kw_only=True, converter=_since)
    added: date | None = attrs.field(default=None, kw_only=True, converter=_added)

    def __init__(
        self,
        id: str,
        name: str,
        *,
        email: str | None = None,
        emails: Iterable[str] = (),
        phones: Iterable[str] = (),
        organization: str | None = None,
        timezone: str = "UTC",
        channel: str | None = None,
        tags: Iterable[str] = (),
        since: date | None = None,
        added: date | None = None,
    ) -> None:
        addresses = _emails(emails)
        primary = _optional_text("an email address", email)
        if primary is not None:
            addresses = _emails([primary, *addresses])
        self.__attrs_init__(
            id,
            name,
            emails=addresses,
            phones=phones,
            organization=organization,
            timezone=timezone,
            channel=channel,
            tags=tags,
            since=since,
            added=added,
        )

    @timezone.validator
    def _check_timezone(self, _: object, value: object) -> None:
        zone(value)

    def _entered(self, ident: str, added: date | None) -> Contact:
        """This contact under ``ident``, added on ``added``: how an import files a new one.

        Its other fields were checked when it was made, and an import of
        100,000 contacts would spend seconds checking them again through
        ``attrs.evolve``; only the two new values are checked.
        """
        entered: Contact = object.__new__(Contact)
        for get, put in _CHECKED_SLOTS:
            put(entered, get(self))
        _PUT_ID(entered, _contact_id(ident))
        _PUT_ADDED(entered, _added(added))
        return entered

    @property
    def email(self) -> str | None:
        """The primary email address, or None when the contact has none."""
        return self.emails[0] if self.emails else None

    def has_email(self, address: str) -> bool:
        """Whether ``address`` is one of the contact's, compared case-insensitively."""
        given: object = address  # callers may pass anything at run time
        if not isinstance(given, str):
            return False
        key = email_key(given)
        return any(email_key(mine) == key for mine in self.emails)

    @property
    def zone(self) -> ZoneInfo:
        """The contact's zone."""
        return zone(self.timezone)


# The fields Contact._entered keeps as they are, read and written through the
# class's slots, which a frozen instance's __setattr__ would refuse.
_CHECKED = tuple(f.name for f in attrs.fields(Contact) if f.name not in ("id", "added"))
_CHECKED_SLOTS = tuple(
    (Contact.__dict__[name].__get__, Contact.__dict__[name].__set__) for name in _CHECKED
)
_PUT_ID = Contact.__dict__["id"].__set__
_PUT_ADDED = Contact.__dict__["added"].__set__


def _direction(value: Literal["out", "in"]) -> Literal["out", "in"]:
    given: object = value  # callers may pass anything at run time
    if given == "out":
        return "out"
    if given == "in":
        return "in"
    raise CadenceError(f"a touchpoint's direction is 'out' or 'in', not {given!r}")


def _touch_contact(value: str) -> str:
    return _identifier("a touchpoint's contact", value)


def _touch_at(value: datetime) -> datetime:
    return require_aware(value, "a touchpoint's time")


def _channel(value: str) -> str:
    return _text("a channel", value)


def _personal(value: bool) -> bool:
    given: object = value  # callers may pass anything at run time
    # 0 and 1 are what databases hand back for booleans; "no" is not False.
    if isinstance(given, bool):
        return given
    if isinstance(given, int) and given in (0, 1):
        return bool(given)
    raise CadenceError(f"personal must be True or False, not {given!r}")


def _touch_source(value: str | None) -> str | None:
    return None if value is None else _identifier("a touchpoint's source", value)


def _touch_ref(value: str | None) -> str | None:
    return None if value is None else _identifier("a touchpoint's ref", value)


def _note(value: str) -> str:
    return _text("a note", value, allow_empty=True)


@attrs.frozen
class Touchpoint:
    """One logged contact with someone.

    ``contact`` is the contact's id and ``at`` an aware moment. A ``personal``
    touch restarts the contact's cadence; bulk contact (``personal=False``, a
    newsletter) is kept in the history but keeps nobody in touch. ``direction``
    says who reached out: "out" (you) or "in" (they did); both count.
    A touchpoint a source brought in (mail, a meeting) carries the source's
    name and ``ref``, its id there, so syncing again never adds it twice;
    one logged by hand has neither.
    """

    contact: str = attrs.field(converter=_touch_contact)
    at: datetime = attrs.field(converter=_touch_at)
    channel: str = attrs.field(default="other", converter=_channel)
    personal: bool = attrs.field(default=True, kw_only=True, converter=_personal)
    direction: Literal["out", "in"] = attrs.field(default="out", kw_only=True, converter=_direction)
    note: str = attrs.field(default="", kw_only=True, converter=_note)
    source: str | None = attrs.field(default=None, kw_only=True, converter=_touch_source)
    ref: str | None = attrs.field(default=None, kw_only=True, converter=_touch_ref)

    def __attrs_post_init__(self) -> None:
        if (self.source is None) != (self.ref is None):
            raise CadenceError("a touchpoint from a source has both its source and its ref")


def _cadence(value: Every | Recurring) -> Every | Recurring:
    given: object = value  # callers may pass anything at run time
    if not isinstance(given, Every | Recurring):
        raise CadenceError(f"a rule needs a cadence (Every or Recurring), not {given!r}")
    return given


def _rule_contact(value: str | None) -> str | None:
    return None if value is None else _identifier("a rule's contact", value)


def _rule_tag(value: str | None) -> str | None:
    return None if value is None else _identifier("a tag", value)


def _snooze_key(value: str) -> str:
    return _identifier("a reminder key", value)


def _snooze_until(value: datetime) -> datetime:
    return require_aware(value, "a snooze's end")


@attrs.frozen
class Rule:
    """Binds a cadence to one contact, to every contact with a tag, or (with neither) to everyone.

    The most specific rule wins: the contact's own, else the most frequent of
    its tags' rules, else the rule for everyone.
    """

    cadence: Every | Recurring = attrs.field(converter=_cadence)
    contact: str | None = attrs.field(default=None, kw_only=True, converter=_rule_contact)
    tag: str | None = attrs.field(default=None, kw_only=True, converter=_rule_tag)

    def __attrs_post_init__(self) -> None:
        if self.contact is not None and self.tag is not None:
            raise CadenceError("a rule is for a contact or for a tag, not both")

    @property
    def target(self) -> tuple[str, str | None]:
        """("contact", id), ("tag", name) or ("everyone", None)."""
        if self.contact is not None:
            return ("contact", self.contact)
        if self.tag is not None:
            return ("tag", self.tag)
        return ("everyone", None)


@attrs.frozen
class Snooze:
    """Hides the reminder with ``key`` until the aware moment ``until``, when it is due again."""

    key: str = attrs.field(converter=_snooze_key)
    until: datetime = attrs.field(converter=_snooze_until)
