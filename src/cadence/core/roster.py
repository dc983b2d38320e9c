"""The roster: everything planning needs, checked and indexed once."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, Literal, TypeAlias, TypeVar

from cadence.core.cadences import Every, Recurring
from cadence.core.errors import CadenceError
from cadence.core.model import Contact, Rule, Snooze, Touchpoint
from cadence.core.occasions import Anniversary, Birthday, Occasion, OccasionKind

__all__ = ["Roster"]

_T = TypeVar("_T")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

#: What drift and planning read of a touch, one byte each: bulk mail counts
#: for nothing, and of personal touches a meeting is both heard and met.
BULK, SENT, HEARD, MET = 0, 1, 2, 3

# A touch's zone, channel, personal flag and direction: few distinct ones in
# any roster, so each touch keeps only the index of its shape.
_Shape: TypeAlias = tuple[tzinfo | None, str, bool, Literal["out", "in"]]
# A touch's note, source and ref, kept only when it has any.
_Extra: TypeAlias = tuple[str, str | None, str | None]
_PLAIN: _Extra = ("", None, None)


def _micros(moment: datetime) -> int:
    """An aware moment as whole microseconds since 1970 in UTC: exact, and cheap to compare."""
    return (moment - _EPOCH) // _MICROSECOND


def _utc(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _same_wall(micros: int, moment: datetime) -> bool:
    """Whether ``micros`` in the zone of ``moment`` gives back its wall time and fold."""
    try:
        rebuilt = _utc(micros).astimezone(moment.tzinfo)
    except Exception:  # a zone of another library may refuse; the moment is kept as it is
        return False
    return rebuilt.replace(tzinfo=None) == moment.replace(tzinfo=None) and (
        rebuilt.fold == moment.fold
    )


def _placed(
    moved: array[int], at: array[int], kinds: bytearray, shape: array[int], offset: int = 0
) -> tuple[array[int], bytearray, array[int]]:
    """The three columns with the item at ``i`` moved to ``moved[i] - offset``."""
    size = len(at)
    new_at = array("q", bytes(8 * size))
    new_kinds = bytearray(size)
    new_shape = array(shape.typecode, bytes(shape.itemsize * size))
    for old, new in enumerate(moved):
        new -= offset
        new_at[new] = at[old]
        new_kinds[new] = kinds[old]
        new_shape[new] = shape[old]
    return new_at, new_kinds, new_shape


def _kind(shape: _Shape) -> int:
    _, channel, personal, direction = shape
    if not personal:
        return BULK
    if channel == "meeting":
        return MET
    return HEARD if direction == "in" else SENT


def _tuple_of(kind: type | tuple[type, ...], items: object, what: str) -> tuple[Any, ...]:
    # Any: each item is checked against ``kind`` here, and callers name the type.
    return tuple(_checked(kind, items, what))


def _checked(kind: type | tuple[type, ...], items: object, what: str) -> Iterator[Any]:
    """The items, one at a time, each checked against ``kind``."""
    if isinstance(items, str | bytes):
        raise CadenceError(f"{what} must be a list, not text")
    if not isinstance(items, Iterable):
        raise CadenceError(f"{what} must be a list, not {items!r}")
    for value in items:
        if not isinstance(value, kind):
            raise CadenceError(f"{what} holds {value!r}, which is not one")
        yield value


class Roster:
    """Contacts with their rules, occasions, touchpoints, snoozes and dismissals.

    Building a roster checks that the pieces fit: contact ids are unique;
    touchpoints, occasions and rules name known contacts; at most one rule
    targets each contact, each tag, and everyone. A roster never changes once
    built, and plan() can be asked of it at any moment.

    Touchpoints may come from any iterable, a generator too: the roster
    reads them one at a time and keeps each in a few bytes (its moment,
    and what planning and drift read of it), not as an object, so that a
    roster of a million contacts with ten million touchpoints fits in
    memory. ``touchpoints`` and ``history`` give them back as Touchpoints,
    equal to those given. Touchpoints given contact by contact, in the
    order of the contacts' ids and each contact's in time order (as a
    store reads them), are taken fastest.
    """

    __slots__ = (
        "_at",
        "_contact_rules",
        "_default_rule",
        "_derived_values",
        "_dismissed",
        "_everyone_occasions",
        "_extra",
        "_in_id_order",
        "_index",
        "_kind",
        "_own_occasions",
        "_shape",
        "_shapes",
        "_snoozes",
        "_start",
        "_tag_occasions",
        "_tag_rank",
        "_tag_rules",
        "_walls",
        "contacts",
        "occasions",
        "rules",
        "snoozes",
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
        given = _checked(Touchpoint, touchpoints, "touchpoints")
        self.snoozes: tuple[Snooze, ...] = _tuple_of(Snooze, snoozes, "snoozes")

        self._in_id_order = tuple(sorted(self.contacts, key=lambda c: c.id))
        index: dict[str, int] = {}
        for position, contact in enumerate(self._in_id_order):
            if index.setdefault(contact.id, position) != position:
                raise CadenceError(f"two contacts share the id {contact.id!r}")
        self._index = index

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

        # By position in id order: the occasion itself when a contact has one
        # (most have a birthday), a tuple when it has more; a million
        # one-item tuples would weigh more than the occasions.
        own: list[OccasionKind | tuple[OccasionKind, ...] | None] = [None] * len(index)
        by_tag: dict[str, list[OccasionKind]] = {}
        everyone: list[OccasionKind] = []
        for occasion in self.occasions:
            if occasion.contact is not None:
                self._known(occasion.contact, "an occasion")
                position = index[occasion.contact]
                held = own[position]
                if held is None:
                    own[position] = occasion
                elif isinstance(held, tuple):
                    own[position] = (*held, occasion)
                else:
                    own[position] = (held, occasion)
            elif occasion.tag is not None:
                by_tag.setdefault(occasion.tag, []).append(occasion)
            else:
                everyone.append(occasion)
        self._own_occasions = own
        self._tag_occasions = {tag: tuple(found) for tag, found in by_tag.items()}
        self._everyone_occasions = tuple(everyone)

        self._take_touches(given)
        self._derived_values: dict[object, Any] = {}

        snoozed: dict[str, datetime] = {}
        for snooze in self.snoozes:
            until = snooze.until.astimezone(UTC)
            if snooze.key not in snoozed or snoozed[snooze.key] < until:
                snoozed[snooze.key] = until
        self._snoozes = snoozed
        self._dismissed = frozenset(_tuple_of(str, dismissed, "dismissed reminder keys"))

    def _take_touches(self, given: Iterator[Touchpoint]) -> None:
        """Read the touchpoints into columns, each contact's together and in time order.

        ``_at`` holds each touch's moment in microseconds (UTC), ``_kind``
        what planning and drift read of it, ``_shape`` the index of its
        zone, channel, personal flag and direction in ``_shapes``. The
        touches of the contact at position p in id order lie from
        ``_start[p]`` to ``_start[p + 1]``. ``_extra`` holds the note,
        source and ref of the touches that have any, ``_walls`` the moment
        of those whose wall time the zone would not give back (a time in a
        DST gap, a zone of another kind), both by index.
        """
        index = self._index
        at = array("q")
        kinds = bytearray()
        shape = array("H")
        of_contact = array("i")
        shapes: list[_Shape] = []
        shape_kinds = bytearray()
        known: dict[_Shape, int] = {}
        extra: dict[int, _Extra] = {}
        walls: dict[int, datetime] = {}
        unsorted: set[int] = set()
        grouped = True
        last_position, last_micros = -1, 0
        for count, touch in enumerate(given):
            position = index.get(touch.contact)
            if position is None:
                self._known(touch.contact, "a touchpoint")
                raise AssertionError  # _known raised
            moment = touch.at
            zone = moment.tzinfo
            micros = (moment - _EPOCH) // _MICROSECOND
            key: _Shape = (zone, touch.channel, touch.personal, touch.direction)
            try:
                number = known.get(key)
            except TypeError:  # a zone that cannot be hashed: keep the moment itself
                key = (None, touch.channel, touch.personal, touch.direction)
                number = known.get(key)
                walls[count] = moment
            if number is None:
                number = known[key] = len(shapes)
                shapes.append(key)
                shape_kinds.append(_kind(key))
                if number == 0xFFFF and shape.typecode == "H":
                    shape = array("L", shape)
            if count not in walls and (
                moment.fold if type(zone) is timezone else not _same_wall(micros, moment)
            ):
                walls[count] = moment
            if touch.note or touch.source is not None:
                extra[count] = (touch.note, touch.source, touch.ref)
            at.append(micros)
            kinds.append(shape_kinds[number])
            shape.append(number)
            of_contact.append(position)
            if position != last_position:
                if position < last_position:
                    grouped = False
                last_position = position
            elif micros < last_micros:
                unsorted.add(position)
            last_micros = micros
        contacts = len(index)
        start = array("q", bytes(8 * (contacts + 1)))
        for position in of_contact:
            start[position + 1] += 1
        for position in range(contacts):
            start[position + 1] += start[position]
        if not grouped:
            # Place each touch among its contact's, keeping the given order.
            following = start[:-1]
            moved = array("q", bytes(8 * len(at)))
            for count, position in enumerate(of_contact):
                moved[count] = following[position]
                following[position] += 1
            at, kinds, shape = _placed(moved, at, kinds, shape)
            extra = {moved[count]: value for count, value in extra.items()}
            walls = {moved[count]: value for count, value in walls.items()}
            unsorted = {
                position
                for position in range(contacts)
                if any(at[i] > at[i + 1] for i in range(start[position], start[position + 1] - 1))
            }
        renumbered: dict[int, int] = {}
        for position in sorted(unsorted):
            low, high = start[position], start[position + 1]
            # Stable: touches at the same moment keep the order they were given in.
            order = sorted(range(low, high), key=at.__getitem__)
            moved = array("q", bytes(8 * (high - low)))
            for new, old in enumerate(order, low):
                moved[old - low] = new
                if old in extra or old in walls:
                    renumbered[old] = new
            part = _placed(moved, at[low:high], kinds[low:high], shape[low:high], low)
            at[low:high], kinds[low:high], shape[low:high] = part
        if renumbered:
            extra = {renumbered.get(i, i): value for i, value in extra.items()}
            walls = {renumbered.get(i, i): value for i, value in walls.items()}
        self._at = at
        self._kind = bytes(kinds)
        self._shape = shape
        self._shapes = tuple(shapes)
        self._start = start
        self._extra = extra
        self._walls = walls

    def _known(self, contact_id: str, what: str) -> None:
        if contact_id not in self._index:
            raise CadenceError(f"{what} names the unknown contact {contact_id!r}")

    def __repr__(self) -> str:
        return (
            f"<Roster: {len(self.contacts)} contacts, {len(self.rules)} rules, "
            f"{len(self.occasions)} occasions, {len(self._at)} touchpoints>"
        )

    @property
    def touchpoints(self) -> tuple[Touchpoint, ...]:
        """Every touchpoint, made anew on each call: by contact id, each contact's in time order.

        On a large roster this is costly; ``history`` gives one contact's.
        """
        return tuple(
            touch
            for position, contact in enumerate(self._in_id_order)
            for touch in self._touches(position, contact.id)
        )

    def contact(self, contact_id: str) -> Contact:
        """The contact with ``contact_id``; an unknown id raises CadenceError."""
        try:
            return self._in_id_order[self._index[contact_id]]
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

    def _own(self, contact_id: str) -> tuple[OccasionKind, ...]:
        position = self._index.get(contact_id)
        held = None if position is None else self._own_occasions[position]
        if held is None:
            return ()
        return held if isinstance(held, tuple) else (held,)

    def occasions_for(self, contact: Contact) -> list[OccasionKind]:
        """The occasions that concern ``contact``: its own, its tags', and everyone's."""
        found = list(self._own(contact.id))
        for tag in sorted(contact.tags):
            found.extend(self._tag_occasions.get(tag, ()))
        found.extend(self._everyone_occasions)
        return found

    def _occasions_of(self, contact: Contact) -> Sequence[OccasionKind]:
        """As occasions_for, without a copy when the contact's own are all there are."""
        if self._tag_occasions or self._everyone_occasions:
            return self.occasions_for(contact)
        return self._own(contact.id)

    def _span(self, contact_id: str) -> tuple[int, int]:
        """Where the contact's touches lie in the columns; an empty span when it has none."""
        position = self._index.get(contact_id)
        if position is None:
            return 0, 0
        return self._start[position], self._start[position + 1]

    def last_touch(self, contact_id: str, now: datetime) -> datetime | None:
        """The moment, in UTC, of the latest personal touchpoint at or before ``now``."""
        low, high = self._span(contact_id)
        if low == high:
            return None
        index = bisect_right(self._at, _micros(now), low, high)
        kinds = self._kind
        while index > low:
            index -= 1
            if kinds[index]:
                return _utc(self._at[index])
        return None

    def next_touch(self, contact_id: str, now: datetime) -> datetime | None:
        """The moment, in UTC, of the first personal touchpoint after ``now``, if any."""
        low, high = self._span(contact_id)
        if low == high:
            return None
        index = bisect_right(self._at, _micros(now), low, high)
        kinds = self._kind
        while index < high:
            if kinds[index]:
                return _utc(self._at[index])
            index += 1
        return None

    def _personal(self, contact_id: str) -> tuple[array[int], bytes]:
        """The contact's touches as microseconds since 1970 (UTC) with their kinds, in time order.

        Bulk touches are among them, of kind ``BULK``.
        """
        low, high = self._span(contact_id)
        return self._at[low:high], self._kind[low:high]

    def history(self, contact_id: str) -> tuple[Touchpoint, ...]:
        """The contact's touchpoints, personal and bulk, in time order."""
        position = self._index.get(contact_id)
        if position is None:
            return ()
        return tuple(self._touches(position, contact_id))

    def _touches(self, position: int, contact_id: str) -> Iterator[Touchpoint]:
        """The touchpoints of the contact at ``position``, made again from the columns."""
        at, shape, shapes = self._at, self._shape, self._shapes
        extra, walls = self._extra, self._walls
        for index in range(self._start[position], self._start[position + 1]):
            zone, channel, personal, direction = shapes[shape[index]]
            moment = walls.get(index)
            if moment is None:
                moment = _utc(at[index]).astimezone(zone)
            note, source, ref = extra.get(index, _PLAIN)
            yield Touchpoint(
                contact_id,
                moment,
                channel,
                personal=personal,
                direction=direction,
                note=note,
                source=source,
                ref=ref,
            )

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
