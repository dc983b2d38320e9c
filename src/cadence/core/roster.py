"""The roster: everything planning needs, checked and indexed once."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from cadence.core.cadences import Every, Recurring
from cadence.core.errors import CadenceError
from cadence.core.model import Contact, Rule, Snooze, Touchpoint
from cadence.core.occasions import Anniversary, Birthday, Occasion, OccasionKind

__all__ = ["Roster"]

_T = TypeVar("_T")


def _touch_moment(touch: Touchpoint) -> datetime:
    return touch.at.astimezone(UTC)


def _tuple_of(kind: type | tuple[type, ...], items: object, what: str) -> tuple[Any, ...]:
    # Any: each item is checked against ``kind`` here, and callers name the type.
    if isinstance(items, str | bytes):
        raise CadenceError(f"{what} must be a list, not text")
    if not isinstance(items, Iterable):
        raise CadenceError(f"{what} must be a list, not {items!r}")
    values = tuple(items)
    for value in values:
        if not isinstance(value, kind):
            raise CadenceError(f"{what} holds {value!r}, which is not one")
    return values


class Roster:
    """Contacts with their rules, occasions, touchpoints, snoozes and dismissals.

    Building a roster checks that the pieces fit: contact ids are unique;
    touchpoints, occasions and rules name known contacts; at most one rule
    targets each contact, each tag, and everyone. A roster never changes once
    built, and plan() can be asked of it at any moment.
    """

    __slots__ = (
        "_by_id",
        "_contact_rules",
        "_default_rule",
        "_derived_values",
        "_dismissed",
        "_everyone_occasions",
        "_history",
        "_in_id_order",
        "_occasions_by_contact",
        "_snoozes",
        "_tag_occasions",
        "_tag_rank",
        "_tag_rules",
        "_touches",
        "contacts",
        "occasions",
        "rules",
        "snoozes",
        "touchpoints",
    )

    def __init__(
        self,
        contacts: Iterable[Contact],
        rules: Iterable[Rule] = (),
        occasions: Iterable[OccasionKind] = (),
        touchpoints: Iterable[Touchpoint] = (),
        *,
        snoozes: Iterable[Snooze] = (),
        dismissed: Iterable[str] = (),
    ) -> None:
        self.contacts: tuple[Contact, ...] = _tuple_of(Contact, contacts, "contacts")
        self.rules: tuple[Rule, ...] = _tuple_of(Rule, rules, "rules")
        self.occasions: tuple[OccasionKind, ...] = _tuple_of(
            (Birthday, Anniversary, Occasion), occasions, "occasions"
        )
        self.touchpoints: tuple[Touchpoint, ...] = _tuple_of(Touchpoint, touchpoints, "touchpoints")
        self.snoozes: tuple[Snooze, ...] = _tuple_of(Snooze, snoozes, "snoozes")

        by_id: dict[str, Contact] = {}
        for contact in self.contacts:
            if contact.id in by_id:
                raise CadenceError(f"two contacts share the id {contact.id!r}")
            by_id[contact.id] = contact
        self._by_id = by_id
        self._in_id_order = tuple(sorted(self.contacts, key=lambda c: c.id))

        contact_rules: dict[str, Every | Recurring] = {}
        tag_rules: dict[str, Every | Recurring] = {}
        default_rule: Every | Recurring | None = None
        for rule in self.rules:
            if rule.contact is not None:
                self._known(rule.contact, "a rule")
                if rule.contact in contact_rules:
                    raise CadenceError(f"two rules target the contact {rule.contact!r}")
                contact_rules[rule.contact] = rule.cadence
            elif rule.tag is not None:
                if rule.tag in tag_rules:
                    raise CadenceError(f"two rules target the tag {rule.tag!r}")
                tag_rules[rule.tag] = rule.cadence
            else:
                if default_rule is not None:
                    raise CadenceError("two rules target everyone")
                default_rule = rule.cadence
        self._contact_rules = contact_rules
        # Most frequent first, then by tag name, so precedence never depends on order.
        self._tag_rules = dict(
            sorted(tag_rules.items(), key=lambda item: (item[1].approx_days, item[0]))
        )
        self._tag_rank = {tag: (rank, c) for rank, (tag, c) in enumerate(self._tag_rules.items())}
        self._default_rule = default_rule

        by_contact: dict[str, list[OccasionKind]] = {}
        by_tag: dict[str, list[OccasionKind]] = {}
        everyone: list[OccasionKind] = []
        for occasion in self.occasions:
            if occasion.contact is not None:
                self._known(occasion.contact, "an occasion")
                by_contact.setdefault(occasion.contact, []).append(occasion)
            elif occasion.tag is not None:
                by_tag.setdefault(occasion.tag, []).append(occasion)
            else:
                everyone.append(occasion)
        self._occasions_by_contact = {cid: tuple(found) for cid, found in by_contact.items()}
        self._tag_occasions = {tag: tuple(found) for tag, found in by_tag.items()}
        self._everyone_occasions = tuple(everyone)

        # In UTC, so that moments of one zone sort by instant even in a DST fold.
        touches: dict[str, list[datetime]] = {}
        for touch in self.touchpoints:
            self._known(touch.contact, "a touchpoint")
            if touch.personal:
                touches.setdefault(touch.contact, []).append(touch.at.astimezone(UTC))
        for moments in touches.values():
            moments.sort()
        self._touches = touches
        self._history: dict[str, tuple[Touchpoint, ...]] | None = None
        self._derived_values: dict[object, Any] = {}

        snoozed: dict[str, datetime] = {}
        for snooze in self.snoozes:
            until = snooze.until.astimezone(UTC)
            if snooze.key not in snoozed or snoozed[snooze.key] < until:
                snoozed[snooze.key] = until
        self._snoozes = snoozed
        self._dismissed = frozenset(_tuple_of(str, dismissed, "dismissed reminder keys"))

    def _known(self, contact_id: str, what: str) -> None:
        if contact_id not in self._by_id:
            raise CadenceError(f"{what} names the unknown contact {contact_id!r}")

    def __repr__(self) -> str:
        return (
            f"<Roster: {len(self.contacts)} contacts, {len(self.rules)} rules, "
            f"{len(self.occasions)} occasions, {len(self.touchpoints)} touchpoints>"
        )

    def contact(self, contact_id: str) -> Contact:
        """The contact with ``contact_id``; an unknown id raises CadenceError."""
        try:
            return self._by_id[contact_id]
        except (KeyError, TypeError):  # TypeError: an unhashable id, a list say
            raise CadenceError(f"unknown contact {contact_id!r}") from None

    def cadence_for(self, contact: Contact) -> Every | Recurring | None:
        """The cadence that applies to ``contact``.

        The cadence of the contact's own rule, else of the most frequent rule
        for one of its tags, else of the rule for everyone; None when no rule
        applies.
        """
        own = self._contact_rules.get(contact.id)
        if own is not None:
            return own
        if contact.tags and self._tag_rank:
            best: tuple[int, Every | Recurring] | None = None
            for tag in contact.tags:
                ranked = self._tag_rank.get(tag)
                if ranked is not None and (best is None or ranked[0] < best[0]):
                    best = ranked
            if best is not None:
                return best[1]
        return self._default_rule

    def occasions_for(self, contact: Contact) -> list[OccasionKind]:
        """The occasions that concern ``contact``: its own, its tags', and everyone's."""
        found = list(self._occasions_by_contact.get(contact.id, ()))
        for tag in sorted(contact.tags):
            found.extend(self._tag_occasions.get(tag, ()))
        found.extend(self._everyone_occasions)
        return found

    def _occasions_of(self, contact: Contact) -> Sequence[OccasionKind]:
        """As occasions_for, without a copy when the contact's own are all there are."""
        if self._tag_occasions or self._everyone_occasions:
            return self.occasions_for(contact)
        return self._occasions_by_contact.get(contact.id, ())

    def last_touch(self, contact_id: str, now: datetime) -> datetime | None:
        """The moment, in UTC, of the latest personal touchpoint at or before ``now``."""
        moments = self._touches.get(contact_id)
        if not moments:
            return None
        index = bisect_right(moments, now)
        return moments[index - 1] if index else None

    def next_touch(self, contact_id: str, now: datetime) -> datetime | None:
        """The moment, in UTC, of the first personal touchpoint after ``now``, if any."""
        moments = self._touches.get(contact_id)
        if not moments:
            return None
        index = bisect_right(moments, now)
        return moments[index] if index < len(moments) else None

    def history(self, contact_id: str) -> tuple[Touchpoint, ...]:
        """The contact's touchpoints, personal and bulk, in time order."""
        if self._history is None:
            found: dict[str, list[Touchpoint]] = {}
            for touch in self.touchpoints:
                found.setdefault(touch.contact, []).append(touch)
            self._history = {
                cid: tuple(sorted(touches, key=_touch_moment)) for cid, touches in found.items()
            }
        return self._history.get(contact_id, ())

    def _derived(self, key: object, make: Callable[[], _T]) -> _T:
        """A value worked out from the roster once, by ``make``, and kept under ``key``."""
        try:
            value: _T = self._derived_values[key]
        except KeyError:
            value = self._derived_values[key] = make()
        return value

    def snoozed_until(self, key: str) -> datetime | None:
        """When, in UTC, the snooze on ``key`` ends, if it is snoozed."""
        return self._snoozes.get(key)

    def is_dismissed(self, key: str) -> bool:
        """Whether the reminder with ``key`` was dismissed."""
        return key in self._dismissed

    @property
    def dismissed(self) -> frozenset[str]:
        """The keys of dismissed reminders."""
        return self._dismissed
