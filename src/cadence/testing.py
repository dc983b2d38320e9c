"""Helpers to test a cadence plugin: a recording adapter, a roster builder, plugin managers.

``fresh_plugins(my_plugin)`` gives a plugin manager with cadence's own plugins
and yours, and no other installed plugin; ``RecordingAdapter`` records what
dispatch hands it and fails the keys it is told to; ``RosterBuilder`` and
``make_reminder`` make the reminders to feed an adapter or a filter. Nothing
here needs pytest, so it works with any test runner.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from cadence import _plugins
from cadence._delivery import Failure
from cadence.core.cadences import Every, Recurring, parse_cadence
from cadence.core.errors import PluginError
from cadence.core.model import Contact, Rule, Touchpoint
from cadence.core.occasions import Birthday, OccasionKind
from cadence.core.planning import plan
from cadence.core.reminders import Agenda, Reminder, ReminderKind, reminder_key
from cadence.core.roster import Roster
from cadence.core.time import require_aware
from cadence.hookspecs import hookimpl
from cadence.typing import Register

__all__ = [
    "Plugins",
    "RecordingAdapter",
    "RosterBuilder",
    "fresh_plugins",
    "installed_plugins",
    "make_reminder",
    "recording_plugin",
]

#: The plugin manager ``fresh_plugins`` yields, for annotations.
Plugins = _plugins.Plugins


class RecordingAdapter:
    """An adapter that records every batch it is given and fails the keys it is told to.

    ``fail`` holds the keys to report as failed (``permanent`` says how);
    ``raises``, when set, is raised from every ``deliver`` to fail whole
    batches. Any other keyword arguments (a route's settings) are kept in
    ``settings``. Change ``fail`` and ``raises`` between runs as you like.
    """

    def __init__(
        self,
        *,
        fail: Iterable[str] = (),
        permanent: bool = False,
        raises: Exception | None = None,
        **settings: Any,
    ) -> None:
        self.fail: set[str] = set(fail)
        self.permanent = permanent
        self.raises = raises
        self.settings: dict[str, Any] = dict(settings)
        self.batches: list[tuple[Reminder, ...]] = []
        self.failures: list[Failure] = []
        #: The keys delivered: offered, not failed, in a batch that did not raise.
        self.delivered: list[str] = []
        self.closed = False

    def __repr__(self) -> str:
        return f"<RecordingAdapter: {len(self.batches)} batches, {len(self.delivered)} delivered>"

    def deliver(self, reminders: Sequence[Reminder]) -> list[Failure] | None:
        """Record ``reminders``; fail those whose keys are in ``fail``, or raise ``raises``."""
        batch = tuple(reminders)
        self.batches.append(batch)
        if self.raises is not None:
            raise self.raises
        failed = [
            Failure(r.key, "the recording adapter was told to fail it", permanent=self.permanent)
            for r in batch
            if r.key in self.fail
        ]
        self.failures.extend(failed)
        self.delivered.extend(r.key for r in batch if r.key not in self.fail)
        return failed or None

    def close(self) -> None:
        """Note that dispatch released the adapter."""
        self.closed = True

    @property
    def reminders(self) -> list[Reminder]:
        """Every reminder offered, in order, batch after batch."""
        return [reminder for batch in self.batches for reminder in batch]

    @property
    def keys(self) -> list[str]:
        """The key of every reminder offered, in order."""
        return [reminder.key for reminder in self.reminders]


class _RecordingPlugin:
    """A plugin registering one adapter name whose factory always gives the same adapter."""

    def __init__(self, adapter: RecordingAdapter, name: str) -> None:
        self.adapter = adapter
        self.adapter_name = name
        self.__name__ = f"recording-{name}"

    def _factory(self, **settings: Any) -> RecordingAdapter:
        self.adapter.settings.update(settings)
        return self.adapter

    @hookimpl
    def cadence_register_adapters(self, register: Register) -> None:
        """Register the recording adapter."""
        register(self.adapter_name, self._factory)


def recording_plugin(adapter: RecordingAdapter, name: str = "recording") -> object:
    """A plugin that registers ``adapter`` as the adapter called ``name``.

    Every route naming ``name`` gets this very adapter, its settings added to
    ``adapter.settings``, so a test can look at what dispatch delivered.
    """
    return _RecordingPlugin(adapter, name)


def _plugin_name(plugin: object) -> str:
    return getattr(plugin, "__name__", None) or type(plugin).__name__


@contextmanager
def fresh_plugins(
    *plugins: object, builtins: bool = True, strict: bool = True, install: bool = True
) -> Iterator[_plugins.Plugins]:
    """A new plugin manager with ``plugins`` registered, and no installed third-party plugin.

    ``builtins`` adds cadence's own plugins (console, smtp, ical...). Each of
    ``plugins`` (a module, or an object with hook implementations) is
    registered under its ``__name__`` and unregistered on the way out. With
    ``strict``, a problem with one of them (refused, a hook that failed, a
    taken name) raises PluginError at once, naming it. With ``install``, the
    manager is the process's default meanwhile, so code that calls
    ``get_plugins()`` (dispatch, the CLI run in-process) uses it.
    """
    manager = _plugins.load_plugins(disable=["*"]) if builtins else _plugins.Plugins()
    known_errors = len(manager.errors)
    previous = _plugins.reset_plugins(manager) if install else None
    names: list[str] = []
    try:
        for plugin in plugins:
            name = manager.register(plugin, _plugin_name(plugin))
            if name is not None:
                names.append(name)
        problems = manager.errors[known_errors:]
        if strict and problems:
            raise PluginError("; ".join(str(problem) for problem in problems))
        yield manager
    finally:
        for name in reversed(names):
            manager.unregister(name)
        if install:
            _plugins.reset_plugins(previous)


def installed_plugins() -> _plugins.Plugins:
    """A new plugin manager with every installed plugin, as cadence finds them in a user's setup.

    ``CADENCE_DISABLE_PLUGINS`` is not consulted: use it to check that an
    installed plugin is found through its entry point and loads cleanly.
    """
    return _plugins.load_plugins(disable=[])


def make_reminder(
    contact: Contact | str = "ada",
    *,
    due: datetime,
    now: datetime | None = None,
    kind: ReminderKind = "cadence",
    title: str | None = None,
    timezone: str = "UTC",
    tags: Iterable[str] = (),
    channel: str | None = None,
) -> Reminder:
    """One reminder for ``contact``: a Contact, or an id to make one with ``timezone`` and ``tags``.

    ``due`` is an aware moment; ``now`` (``due`` when not given) sets how
    overdue it is. The key is derived the way planning derives it, so the
    same arguments give the same key.
    """
    due = require_aware(due, "due")
    now = due if now is None else require_aware(now, "now")
    if isinstance(contact, str):
        contact = Contact(contact, contact.capitalize(), timezone=timezone, tags=frozenset(tags))
    local = due.astimezone(contact.zone)
    purpose = "cadence" if kind == "cadence" else "occasion"
    return Reminder(
        key=reminder_key(contact.id, purpose, local.isoformat(timespec="minutes")),
        contact=contact,
        kind=kind,
        title=title or f"Check in with {contact.name}",
        date=local.date(),
        due=local,
        overdue=max(now - due, timedelta(0)),
        channel=channel if channel is not None else contact.channel,
        occasion_date=local.date() if kind == "occasion" else None,
        reason="made by cadence.testing",
        purpose=purpose,
    )


@attrs.define
class RosterBuilder:
    """Builds a Roster a piece at a time, for tests.

    >>> from datetime import datetime, UTC
    >>> builder = RosterBuilder().contact("ada", every="every 2 weeks",
    ...     touched=datetime(2026, 11, 1, 10, 0, tzinfo=UTC))
    >>> [r.contact.id for r in builder.due(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))]
    ['ada']
    """

    contacts: list[Contact] = attrs.field(factory=list)
    rules: list[Rule] = attrs.field(factory=list)
    occasions: list[OccasionKind] = attrs.field(factory=list)
    touchpoints: list[Touchpoint] = attrs.field(factory=list)

    def contact(
        self,
        id: str,
        name: str | None = None,
        *,
        every: str | Every | Recurring | None = None,
        touched: datetime | None = None,
        timezone: str = "UTC",
        tags: Iterable[str] = (),
        email: str | None = None,
        channel: str | None = None,
        since: date | None = None,
    ) -> RosterBuilder:
        """Add a contact; ``every`` gives it its own cadence, ``touched`` a personal touchpoint."""
        self.contacts.append(
            Contact(
                id,
                name or id.capitalize(),
                timezone=timezone,
                tags=frozenset(tags),
                email=email,
                channel=channel,
                since=since,
            )
        )
        if every is not None:
            self.rules.append(Rule(_cadence(every), contact=id))
        if touched is not None:
            self.touch(id, touched)
        return self

    def rule(self, every: str | Every | Recurring, *, tag: str | None = None) -> RosterBuilder:
        """Add a rule for every contact with ``tag``, or for everyone."""
        self.rules.append(Rule(_cadence(every), tag=tag))
        return self

    def touch(
        self, contact: str, at: datetime, *, channel: str = "other", personal: bool = True
    ) -> RosterBuilder:
        """Log a touchpoint with ``contact`` at the aware moment ``at``."""
        self.touchpoints.append(Touchpoint(contact, at, channel, personal=personal))
        return self

    def birthday(
        self,
        contact: str,
        month: int,
        day: int,
        *,
        year: int | None = None,
        lead: timedelta = timedelta(0),
    ) -> RosterBuilder:
        """Add ``contact``'s birthday, reminded ``lead`` ahead."""
        self.occasions.append(Birthday(contact, month, day, year=year, lead=lead))
        return self

    def occasion(self, occasion: OccasionKind) -> RosterBuilder:
        """Add any occasion (a Birthday, an Anniversary, an Occasion)."""
        self.occasions.append(occasion)
        return self

    def build(self) -> Roster:
        """The Roster; it checks that the pieces fit (ids unique, contacts known)."""
        return Roster(self.contacts, self.rules, self.occasions, self.touchpoints)

    def plan(self, now: datetime, horizon: timedelta = timedelta(days=30)) -> Agenda:
        """``cadence.plan`` of the roster at ``now``."""
        return plan(self.build(), now=now, horizon=horizon)

    def due(self, now: datetime) -> tuple[Reminder, ...]:
        """The reminders due at ``now``: what dispatch would hand the adapters."""
        return self.plan(now, timedelta(0)).due


def _cadence(every: str | Every | Recurring) -> Every | Recurring:
    return every if isinstance(every, Every | Recurring) else parse_cadence(every)
