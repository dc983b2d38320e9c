"""Dispatch tells adapters the moment of the run, and adapters written without it keep working."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import cadence
from cadence import Contact, Every, Reminder, Route, Rule
from cadence._config import open_store
from cadence._dispatch import dispatch
from cadence.testing import Plugins, fresh_plugins
from cadence.typing import Adapter, TimedAdapter

#: A moment far from the clock of any machine running these tests.
FAR = datetime(2031, 6, 2, 8, 30, tzinfo=UTC)

CALLS: list[tuple[str, dict[str, Any]]] = []


class Old:
    """An adapter written to the first contract: ``deliver(reminders)``."""

    def deliver(self, reminders: Sequence[Reminder]) -> None:
        CALLS.append(("old", {}))


class Timed:
    """An adapter that asks for the moment by keyword."""

    def deliver(self, reminders: Sequence[Reminder], *, now: datetime | None = None) -> None:
        CALLS.append(("timed", {"now": now}))


class Positional:
    """An adapter whose ``now`` may also be given by position."""

    def deliver(self, reminders: Sequence[Reminder], now: datetime | None = None) -> None:
        CALLS.append(("positional", {"now": now}))


def _first_contract(reminders: Sequence[Reminder]) -> None:
    """What an older adapter's deliver accepts: a keyword it does not know is a TypeError."""


class Forwarding:
    """A wrapper passing its keywords on to an adapter of the first contract: given none."""

    def deliver(self, reminders: Sequence[Reminder], **options: Any) -> None:
        _first_contract(reminders, **options)
        CALLS.append(("forwarding", options))


class Moments:
    """Registers the adapters above."""

    @cadence.hookimpl
    def cadence_register_adapters(self, register: Any) -> None:
        for name, factory in (
            ("old", Old),
            ("timed", Timed),
            ("positional", Positional),
            ("forwarding", Forwarding),
        ):
            register(name, factory)


@pytest.fixture
def plugins() -> Iterator[Plugins]:
    """cadence's own plugins and the adapters above."""
    moments = Moments()
    moments.__name__ = "moments"  # type: ignore[attr-defined]
    with fresh_plugins(moments) as plugins:
        yield plugins


def test_dispatch_passes_now_to_adapters_that_name_it(plugins: Plugins, tmp_path: Path) -> None:
    """``now`` reaches each deliver with a parameter of that name; the rest are called as before."""
    CALLS.clear()
    with open_store(f"sqlite:///{tmp_path / 'cadence.db'}", plugins=plugins) as store:
        store.put_contact(Contact("ada", "Ada"))
        store.set_rule(Rule(Every(weeks=1)))
        names = ("old", "timed", "positional", "forwarding")
        report = dispatch(store, [Route(name) for name in names], now=FAR)
    assert report.errors == ()
    assert {(d.route, d.status) for d in report.deliveries} == {(n, "sent") for n in names}
    assert sorted(CALLS, key=lambda call: call[0]) == [
        ("forwarding", {}),
        ("old", {}),
        ("positional", {"now": FAR}),
        ("timed", {"now": FAR}),
    ]


def test_both_adapter_types_are_public() -> None:
    """Adapters of both contracts, and the smtp adapter, satisfy cadence.typing's protocols."""
    assert isinstance(Old(), Adapter)
    assert isinstance(Timed(), TimedAdapter)
    old: Adapter = Old()
    timed: TimedAdapter = Timed()
    assert callable(old.deliver)
    assert callable(timed.deliver)
