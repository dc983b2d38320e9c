"""Protocols for the things plugins provide: adapters, publishers, importers, stores, sources.

Import them to type-check a plugin; cadence never requires subclassing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from cadence._delivery import Failure
from cadence.core.occasions import OccasionKind
from cadence.core.reminders import Agenda, Reminder
from cadence.sources.batch import ImportBatch

__all__ = [
    "Adapter",
    "AdapterFactory",
    "Closeable",
    "Importer",
    "Publisher",
    "Register",
    "Source",
    "SourceFactory",
    "StoreFactory",
    "TimedAdapter",
]


@runtime_checkable
class Adapter(Protocol):
    """A delivery channel: takes a batch of due reminders and delivers them.

    ``deliver`` returns None when every reminder was delivered, or the
    ``Failure`` of each one that was not (the rest count as delivered).
    Raising says the whole batch failed: ``cadence.DeliveryError`` with
    ``permanent=True`` is not retried, any other exception is. A ``deliver``
    that also takes a keyword ``report`` is given a callable to tell each
    outcome as soon as it is known (``report(key)`` when delivered,
    ``report(key, failure)`` when not), so that a delivered reminder is
    recorded at once.

    An adapter that words or plans anything by the moment (``today``, ``in
    3 days``, a calendar) should be a ``TimedAdapter`` instead, and never
    read the clock for it. This form stays supported: dispatch calls it with
    the reminders alone.
    """

    def deliver(self, reminders: Sequence[Reminder]) -> Iterable[Failure] | None:
        """Deliver ``reminders``; report the ones that failed."""
        ...


@runtime_checkable
class TimedAdapter(Protocol):
    """A delivery channel told the moment of the run: ``deliver(reminders, *, now)``.

    Dispatch passes ``now``, the moment the run acts at (``cadence run
    --now`` sets it; by default the clock's time when the run began), by
    keyword to every ``deliver`` that has a parameter of that name. Say
    "today", "overdue by 2 days" or "in 3 days", or build a calendar, from
    ``now``, so that a replay or a test gets the same words; the clock is
    only for what is truly about the time of sending (a Date header, a
    signature's timestamp). Give ``now`` a default (``None``) to keep
    ``deliver(reminders)`` working for callers of older code. Returns and
    raises as ``Adapter`` does.
    """

    def deliver(self, reminders: Sequence[Reminder], *, now: datetime) -> Iterable[Failure] | None:
        """Deliver ``reminders`` as of ``now``; report the ones that failed."""
        ...


@runtime_checkable
class Publisher(Protocol):
    """A feed-like channel: receives the route's whole agenda on every dispatch.

    Publishing is not tracked in the delivery ledger: the feed is rewritten
    each time. A publisher that writes items elsewhere and must remember
    where (the ``caldav`` adapter) takes ``publish(agenda, *, ledger)``
    instead: ``ledger`` is a ``cadence.PublishLedger`` for the route, and
    what it returns (lines of text, or None) is told once as warnings.
    """

    def publish(self, agenda: Agenda) -> None:
        """Publish ``agenda`` (due and upcoming reminders)."""
        ...


@runtime_checkable
class Closeable(Protocol):
    """An adapter holding a connection or session to release when dispatch ends."""

    def close(self) -> None:
        """Release what the adapter holds."""
        ...


AdapterFactory = Callable[..., Adapter | TimedAdapter | Publisher]
"""Builds an adapter from a route's settings, given as keyword arguments."""


class Importer(Protocol):
    """Reads the whole text of a file into an ImportBatch, or raises ImportFailed."""

    def __call__(self, text: str, *, source: str) -> ImportBatch:
        """Read ``text``; ``source`` names the file in error messages."""
        ...


StoreFactory = Callable[[str], Any]
"""Opens the store at a URL."""


@runtime_checkable
class Source(Protocol):
    """A source of occasions from elsewhere: public holidays, an HR system, a shared calendar.

    ``occasions`` gives every occasion the source knows of between ``start``
    and ``end``, both included. Each sync replaces what the source gave the
    time before, so the same occasions given again change nothing. A source
    may also offer ``close()``, called when the sync ends.
    """

    def occasions(self, start: date, end: date) -> Iterable[OccasionKind]:
        """The occasions from ``start`` to ``end``, both included."""
        ...


SourceFactory = Callable[..., Source]
"""Builds a source from the settings of its ``[[sources]]`` table, given as keyword arguments."""


class Register(Protocol):
    """The ``register`` callable passed to the registration hooks."""

    def __call__(self, name: str, thing: Any, /, **options: Any) -> None:
        """Register ``thing`` under ``name``."""
        ...
