"""Routes and delivery outcomes: the values that pass between dispatch, adapters and hooks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

import attrs

from cadence.core.errors import ConfigError
from cadence.core.reminders import Reminder, ReminderKind

__all__ = ["Delivery", "DeliveryStatus", "Failure", "PublishLedger", "Published", "Route"]

DeliveryStatus: TypeAlias = Literal["sent", "failed", "dead", "gone"]
PublishedState: TypeAlias = Literal["ours", "theirs"]

_KINDS = frozenset({"cadence", "occasion", "at-risk"})


def _names(what: str, value: object) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{what} must be a list of names, not {value!r}")
    return frozenset(value)


def _tags(value: object) -> frozenset[str]:
    return _names("tags", value)


def _kinds(value: object) -> frozenset[str]:
    return _names("kinds", value)


def _check_adapter(_: object, __: object, value: str) -> None:
    # TOML can hand over any type, whatever the annotation says.
    if not value or not isinstance(value, str):
        raise ConfigError(f"a route needs an adapter name, not {value!r}")


def _settings(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise ConfigError(f"a route's settings must be a table, not {value!r}")
    return MappingProxyType(dict(value))


@attrs.frozen
class Route:
    """Where reminders go: an adapter by name, its settings, and which reminders it takes.

    ``tags`` (any of them) and ``kinds`` ("cadence", "occasion", "at-risk") narrow what the
    route takes; empty means all. ``settings`` are passed to the adapter's
    factory and never shown, since they may hold secrets.
    """

    adapter: str = attrs.field(validator=_check_adapter)
    name: str = attrs.field(default="", kw_only=True)
    settings: Mapping[str, Any] = attrs.field(
        factory=dict, kw_only=True, converter=_settings, repr=False, eq=False, hash=False
    )
    tags: frozenset[str] = attrs.field(default=(), kw_only=True, converter=_tags)
    kinds: frozenset[str] = attrs.field(default=(), kw_only=True, converter=_kinds)

    def __attrs_post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.adapter)
        unknown = self.kinds - _KINDS
        if unknown:
            raise ConfigError(
                f"route {self.name!r}: unknown kinds {sorted(unknown)}; "
                "use 'cadence', 'occasion' or 'at-risk'"
            )

    def takes(self, reminder: Reminder) -> bool:
        """Whether this route takes ``reminder``, by its tags and kinds."""
        if self.kinds and reminder.kind not in self.kinds:
            return False
        return not self.tags or not self.tags.isdisjoint(reminder.contact.tags)

    @property
    def fingerprint(self) -> str:
        """A hash of the adapter and its settings: it changes when the route is edited."""
        material = json.dumps(
            [self.adapter, dict(self.settings), sorted(self.tags), sorted(self.kinds)],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(material.encode()).hexdigest()[:16]


@attrs.frozen
class Failure:
    """An adapter's word that one reminder of a batch was not delivered.

    ``deliver`` returns these for the reminders that failed; every reminder of
    the batch that no failure names was delivered. A ``permanent`` failure is
    not retried (an address that does not exist); ``retry_after`` asks for the
    next attempt no sooner than that moment (HTTP 429 Retry-After).
    """

    key: str
    error: str
    permanent: bool = attrs.field(default=False, kw_only=True)
    retry_after: datetime | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class Delivery:
    """The outcome of one attempt to deliver one reminder through one route.

    ``status`` is "sent", "failed" (it will be retried at ``next_attempt``),
    "dead" (cadence gave up on it) or "gone" (the route's receiver said it is
    gone). ``attempts`` counts the attempts so far, this one included.
    """

    key: str
    route: str
    status: DeliveryStatus
    attempts: int
    at: datetime
    error: str | None = None
    next_attempt: datetime | None = None
    reminder: Reminder | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def kind(self) -> ReminderKind | None:
        """The reminder's kind, when the reminder is known."""
        return None if self.reminder is None else self.reminder.kind


@attrs.frozen
class Published:
    """What a publishing route wrote for one event: where, at which ETag, and digests.

    ``digest`` is a digest of the bytes written, ``inputs`` one of what they
    were made from, so that an unchanged event is neither written nor made
    again.

    ``state`` is "ours" while the event on the server is what the route
    wrote, and "theirs" once the calendar's owner changed or removed it:
    the route then leaves it alone and never reports it again.
    """

    uid: str
    href: str
    etag: str | None
    digest: str
    inputs: str = ""
    state: PublishedState = "ours"


class PublishLedger:
    """One route's record of what it published, kept in the store item by item.

    Dispatch hands it to a ``publish`` that names a ``ledger`` keyword. Each
    ``keep`` or ``forget`` is its own transaction, so a run stopped halfway
    remembers everything written before it stopped.
    """

    def __init__(self, store: Any, route: str) -> None:
        self._store = store
        self.route = route

    def __repr__(self) -> str:
        return f"<PublishLedger of route {self.route!r}>"

    def items(self) -> dict[str, Published]:
        """What the route published, by UID."""
        found: dict[str, Published] = self._store.published(self.route)
        return found

    def keep(self, *items: Published) -> None:
        """Record ``items``, replacing what was recorded under their UIDs."""
        self._store.keep_published(self.route, items)

    def forget(self, *uids: str) -> None:
        """Forget the items of ``uids`` (their events were deleted)."""
        self._store.forget_published(self.route, uids)

    def sync_token(self, collection: str) -> str | None:
        """The sync token last kept for ``collection``; None if none, or for another collection."""
        kept: tuple[str, str] | None = self._store.published_token(self.route)
        if kept is None or kept[0] != collection:
            return None
        return kept[1]

    def keep_sync_token(self, collection: str, token: str | None) -> None:
        """Record the sync token of ``collection`` (None forgets the route's token)."""
        self._store.keep_published_token(self.route, collection, token)
