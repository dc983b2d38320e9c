"""Sources: occasions and contacts brought in from elsewhere, kept in step with the store.

A source is registered by a plugin (``cadence_register_sources``) and named
in a ``[[sources]]`` table of ``cadence.toml``. An occasion source has
``occasions(start, end)``: syncing asks it for the occasions of the days
ahead and replaces, in one transaction, what it gave the time before.
Occasions added by hand are never touched. A contact source (an address book
on a CardDAV server) has ``contact_changes(state)``: syncing hands it what it
kept the time before and merges the contacts it says changed, as an import
does (``cadence.sources.merge``), with the state it keeps, in one
transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any

import attrs

from cadence._plugins import Plugins, get_plugins
from cadence.core.durations import shown_value
from cadence.core.errors import CadenceError, ConfigError
from cadence.core.model import Touchpoint
from cadence.core.occasions import Anniversary, Birthday, Occasion, OccasionKind
from cadence.core.time import require_aware
from cadence.core.touches import (
    BULK_RECIPIENTS,
    Message,
    TouchRules,
    meeting_touches,
    message_touches,
)
from cadence.sources.batch import ContactChanges, TouchChanges
from cadence.sources.merge import ImportReport

__all__ = [
    "DEFAULT_AHEAD",
    "SourceConfig",
    "SourceSync",
    "SyncReport",
    "contact_source_key",
    "sync_sources",
]

log = logging.getLogger("cadence.sources")

#: How far ahead a source is asked for occasions unless its table says ``ahead``:
#: a year and a month, so that a lead time of up to a year always has its day.
DEFAULT_AHEAD = timedelta(days=400)


def _check_source(_: object, __: object, value: str) -> None:
    given: object = value  # TOML can hand over any type, whatever the annotation says
    if not isinstance(given, str) or not given:
        raise ConfigError(f"a source table needs the name of a source, not {given!r}")


def _check_name(_: object, __: object, value: str) -> None:
    given: object = value
    if not isinstance(given, str) or given != given.strip():
        raise ConfigError(f"a source's name must be text without surrounding spaces: {given!r}")


def _check_prune(_: object, attribute: Any, value: bool) -> None:
    given: object = value
    if not isinstance(given, bool):
        raise ConfigError(
            f"a source's {attribute.name!r} must be true or false, not {shown_value(given)}"
        )


def _texts(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"a list of addresses or patterns was expected, not {shown_value(value)}")
    return tuple(value)


def _check_recipients(_: object, __: object, value: int) -> None:
    given: object = value
    if isinstance(given, bool) or not isinstance(given, int) or given < 1:
        raise ConfigError(f"'bulk_recipients' must be a whole number above 0, not {given!r}")


def _check_ahead(_: object, __: object, value: timedelta) -> None:
    given: object = value
    if not isinstance(given, timedelta) or given < timedelta(days=1):
        raise ConfigError(f"a source's 'ahead' must be a day or more, not {shown_value(given)}")


def _settings(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise ConfigError(f"a source's settings must be a table, not {value!r}")
    return MappingProxyType(dict(value))


@attrs.frozen
class SourceConfig:
    """One configured source: the registered source it uses, its name, and its settings.

    ``name`` tells this source's occasions and contacts apart in the store; it
    defaults to ``source`` and must be unique. Syncing asks for the occasions
    from the day before today to ``ahead`` after it. ``prune`` lets a contact
    source remove the contacts deleted at the source; without it they are
    only reported. ``settings`` are passed to the source's factory and
    never shown, since they may hold secrets.
    """

    source: str = attrs.field(validator=_check_source)
    name: str = attrs.field(default="", kw_only=True, validator=_check_name)
    ahead: timedelta = attrs.field(default=DEFAULT_AHEAD, kw_only=True, validator=_check_ahead)
    prune: bool = attrs.field(default=False, kw_only=True, validator=_check_prune)
    me: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_texts)
    ignore: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_texts)
    bulk_recipients: int = attrs.field(
        default=BULK_RECIPIENTS, kw_only=True, validator=_check_recipients
    )
    keep_subject: bool = attrs.field(default=False, kw_only=True, validator=_check_prune)
    settings: Mapping[str, Any] = attrs.field(
        factory=dict, kw_only=True, converter=_settings, repr=False, eq=False, hash=False
    )

    def __attrs_post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.source)


@attrs.frozen
class SourceSync:
    """What syncing one source did: occasions removed and added, or the error that stopped it.

    ``contacts`` is what a contact source's changes did to the contacts (None
    for an occasion source); ``touches_added`` and ``touches_removed`` count
    a touch source's touchpoints. ``gave`` says what the source gives:
    "occasions", "contacts", "touches". A source with an ``error`` (one line naming the
    source) changed nothing in the store.
    """

    name: str
    removed: int = 0
    added: int = 0
    error: str | None = None
    contacts: ImportReport | None = None
    touches_added: int = 0
    touches_removed: int = 0
    gave: frozenset[str] = attrs.field(default=frozenset(), eq=False)

    @property
    def ok(self) -> bool:
        """Whether the source was synced."""
        return self.error is None


@attrs.frozen
class SyncReport:
    """What a sync did, one ``SourceSync`` per configured source, in the order given."""

    sources: tuple[SourceSync, ...] = ()

    @property
    def errors(self) -> tuple[str, ...]:
        """One line for each source that failed, naming it."""
        return tuple(s.error for s in self.sources if s.error is not None)

    @property
    def added(self) -> int:
        """How many occasions all sources added."""
        return sum(s.added for s in self.sources)

    @property
    def removed(self) -> int:
        """How many occasions all sources removed."""
        return sum(s.removed for s in self.sources)

    def __getitem__(self, name: str) -> SourceSync:
        """The outcome of the source called ``name``."""
        for synced in self.sources:
            if synced.name == name:
                return synced
        raise KeyError(name)


def _in_window(occasion: object, start: date, end: date) -> bool:
    # A yearly occasion comes back every year; a one-off one matters only in the window.
    if isinstance(occasion, Occasion) and occasion.on is not None:
        return start <= occasion.on <= end
    return True


def _gather(found: Iterable[OccasionKind], start: date, end: date) -> list[OccasionKind]:
    if isinstance(found, str | bytes | Mapping) or not isinstance(found, Iterable):
        raise CadenceError(f"occasions() returned {found!r}, not a list of occasions")
    kept = []
    for occasion in found:
        if not isinstance(occasion, Birthday | Anniversary | Occasion):
            raise CadenceError(f"occasions() gave {occasion!r}, which is not an occasion")
        if _in_window(occasion, start, end):
            kept.append(occasion)
    return kept


def _sync_one(
    store: Any, config: SourceConfig, plugins: Plugins, today: date, now: datetime
) -> SourceSync:
    # From the day before: where a contact's zone is behind UTC, that day is still today.
    start, end = today - timedelta(days=1), today + timedelta(days=config.ahead.days)
    try:
        # build_source's errors name the source already.
        source = plugins.build_source(config)
    except CadenceError as error:
        return SourceSync(config.name, error=str(error))
    removed = added = 0
    contacts = None
    touches = (0, 0)
    gave = frozenset(
        kind
        for kind, method in (
            ("contacts", "contact_changes"),
            ("touches", "touch_changes"),
            ("occasions", "occasions"),
        )
        if callable(getattr(source, method, None))
    )
    try:
        if callable(getattr(source, "contact_changes", None)):
            contacts = _merge_changes(store, config, source, today)
        if callable(getattr(source, "touch_changes", None)):
            touches = _merge_touches(store, config, source, now)
        if callable(getattr(source, "occasions", None)):
            occasions = _gather(source.occasions(start, end), start, end)
            removed, added = store.replace_source_occasions(config.name, occasions)
    except CadenceError as error:
        return SourceSync(config.name, error=f"source {config.name!r}: {error}")
    except Exception as error:
        return SourceSync(
            config.name,
            error=f"source {config.name!r}: {config.source!r} raised "
            f"{type(error).__name__}: {error}",
        )
    finally:
        close = getattr(source, "close", None)
        if callable(close):
            try:
                close()
            except Exception as error:
                log.warning("closing source %r raised %s", config.name, type(error).__name__)
    return SourceSync(
        config.name,
        removed=removed,
        added=added,
        contacts=contacts,
        touches_added=touches[0],
        touches_removed=touches[1],
        gave=gave,
    )


def contact_source_key(name: str) -> str:
    """Under what the store keeps a contact source's links and state: ``source:NAME``."""
    return f"source:{name}"


def _merge_changes(store: Any, config: SourceConfig, source: Any, today: date) -> ImportReport:
    key = contact_source_key(config.name)
    kept = MappingProxyType(store.source_state(key))
    changes = source.contact_changes(kept)
    if not isinstance(changes, ContactChanges):
        raise CadenceError(f"contact_changes() returned {changes!r}, not a ContactChanges")
    report: ImportReport = store.merge_batch(
        changes.batch,
        source=key,
        today=today,
        complete=False,
        gone=changes.gone,
        state=changes.state,
        prune=config.prune,
    )
    return report


def _merge_touches(store: Any, config: SourceConfig, source: Any, now: datetime) -> tuple[int, int]:
    key = contact_source_key(config.name)
    changes = source.touch_changes(MappingProxyType(store.source_state(key)), now=now)
    if not isinstance(changes, TouchChanges):
        raise CadenceError(f"touch_changes() returned {changes!r}, not a TouchChanges")
    mine: frozenset[str] = getattr(source, "me", frozenset())
    rules = TouchRules(
        source=config.name,
        contacts=store.address_book(),
        me=[*config.me, *mine],
        ignore=config.ignore,
        bulk_recipients=config.bulk_recipients,
        keep_subject=config.keep_subject,
    )
    found: list[Touchpoint] = []
    for item in changes.items:
        if isinstance(item, Message):
            found.extend(message_touches(item, rules, now=now))
        else:
            found.extend(meeting_touches(item, rules, now=now))
    added, removed = store.merge_source_touches(
        config.name,
        found,
        gone=changes.gone,
        everything={item.ref for item in changes.items} if changes.complete else None,
        state=changes.state,
        state_key=key,
    )
    return int(added), int(removed)


def sync_sources(
    store: Any,
    sources: Sequence[SourceConfig],
    *,
    today: date,
    now: datetime | None = None,
    plugins: Plugins | None = None,
) -> SyncReport:
    """Bring each source's occasions in the store up to date, as of ``today``.

    Each source is asked for its occasions from the day before ``today`` (a
    UTC date: in zones behind UTC the day before is not over yet) to its
    ``ahead`` after ``today``. They replace, in one transaction per source,
    the occasions it gave the last time, so syncing twice changes nothing and
    a reminder keeps its key. Occasions added by hand are never touched. A
    source that cannot be built, raises, or gives something that is not an
    occasion is reported in the result by name and changes nothing; the
    others are synced all the same. Two sources with the same name raise
    ConfigError before anything is synced.
    """
    if isinstance(today, datetime) or not isinstance(today, date):
        raise CadenceError(f"today must be a date, not {today!r}")
    if now is None:
        # The end of ``today``: touches up to then count, none after.
        now = datetime.combine(today, time.max, tzinfo=UTC)
    now = require_aware(now, "now")
    configs = list(sources)
    for config in configs:
        if not isinstance(config, SourceConfig):
            raise CadenceError(f"not a SourceConfig: {config!r}")
    names = [config.name for config in configs]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigError(f"two sources are called {duplicated[0]!r}; give them names")
    plugins = plugins or get_plugins()
    results = []
    for config in configs:
        results.append(_sync_one(store, config, plugins, today, now))
    return SyncReport(tuple(results))
