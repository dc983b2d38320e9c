"""Dispatch against a real SQLite file: once per route, retries, dead letters, gone routes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cadence import (
    Agenda,
    Birthday,
    ConfigError,
    Contact,
    Delivery,
    DeliveryError,
    EndpointGone,
    Every,
    Failure,
    Reminder,
    Route,
    Rule,
    Touchpoint,
    hookimpl,
)
from cadence._config import open_store
from cadence._dispatch import RetryPolicy, dispatch
from cadence._plugins import Plugins

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
QUICK = RetryPolicy(pause=0.0)


class Script:
    """What the test adapters do: a list of per-call behaviours, and what they received."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.plan: list[Any] = []
        self.agendas: list[Agenda] = []


SCRIPT = Script()


class ScriptedAdapter:
    """Delivers, or fails, as the test's script says for each call."""

    def __init__(self, **settings: Any) -> None:
        self.settings = settings

    def deliver(self, reminders: Sequence[Reminder]) -> Iterable[Failure] | None:
        keys = [r.key for r in reminders]
        SCRIPT.calls.append(keys)
        action = SCRIPT.plan.pop(0) if SCRIPT.plan else None
        if action is None:
            return None
        if isinstance(action, BaseException):
            raise action
        return action(reminders)


class FeedAdapter:
    """Records the agendas it is asked to publish."""

    def __init__(self, **settings: Any) -> None:
        pass

    def publish(self, agenda: Agenda) -> None:
        SCRIPT.agendas.append(agenda)


class RecorderPlugin:
    """Registers the scripted adapters and records delivery outcomes."""

    def __init__(self) -> None:
        self.outcomes: list[Delivery] = []
        self.dropped: set[str] = set()

    @hookimpl
    def cadence_register_adapters(self, register: Any) -> None:
        register("scripted", ScriptedAdapter)
        register("feed", FeedAdapter)

    @hookimpl
    def cadence_filter_reminder(self, reminder: Reminder) -> bool:
        return reminder.contact.id not in self.dropped

    @hookimpl
    def cadence_delivered(self, delivery: Delivery) -> None:
        self.outcomes.append(delivery)


@pytest.fixture
def recorder(plugins: Plugins) -> RecorderPlugin:
    """A test plugin registered on a fresh plugin manager, and a clean script."""
    SCRIPT.__init__()  # type: ignore[misc]
    plugin = RecorderPlugin()
    assert plugins.register(plugin, "test-plugin") == "test-plugin"
    return plugin


@pytest.fixture
def store(tmp_path: Path, plugins: Plugins) -> Any:
    """A SQLite store with three contacts due now and one not due."""
    opened = open_store(f"sqlite:///{tmp_path / 'cadence.db'}", plugins=plugins)
    opened.put_contacts(
        [
            Contact("ana", "Ana", tags=["vip"]),
            Contact("ben", "Ben"),
            Contact("cy", "Cy", tags=["vip"]),
            Contact("dee", "Dee"),
        ]
    )
    opened.set_rule(Rule(Every(weeks=1)))
    opened.log(Touchpoint("dee", NOW - timedelta(days=1)))
    yield opened
    opened.close()


def _sent(plugin: RecorderPlugin) -> list[str]:
    return sorted(d.key for d in plugin.outcomes if d.status == "sent")


def test_each_due_reminder_is_delivered_once_per_route(
    store: Any, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """A second run at the same moment or later delivers nothing already taken."""
    routes = [Route("scripted", name="a"), Route("scripted", name="b")]
    first = dispatch(store, routes, now=NOW, plugins=plugins, retry=QUICK)
    assert first.count("sent") == 6
    again = dispatch(store, routes, now=NOW + timedelta(hours=1), plugins=plugins, retry=QUICK)
    assert again.count("sent") == 0
    assert store.ledger_counts() == {"a": {"sent": 3}, "b": {"sent": 3}}
    assert len(SCRIPT.calls) == 2


def test_route_tags_and_kinds_narrow_what_it_takes(
    store: Any, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """A route with tags takes only contacts with one of them; kinds filter by reminder kind."""
    store.add_occasion(Birthday("ana", 11, 23))
    report = dispatch(
        store,
        [Route("scripted", name="vip", tags=["vip"], kinds=["cadence"])],
        now=NOW,
        plugins=plugins,
        retry=QUICK,
    )
    names = sorted(d.reminder.contact.id for d in report.deliveries if d.reminder)
    assert names == ["ana", "cy"]
    assert all(d.kind == "cadence" for d in report.deliveries)


def test_filter_hook_holds_back_a_reminder_until_it_lets_it_through(
    store: Any, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """A reminder a filter drops is not recorded, so a later run delivers it."""
    recorder.dropped = {"ben"}
    first = dispatch(store, [Route("scripted")], now=NOW, plugins=plugins, retry=QUICK)
    assert first.filtered == 1
    assert first.count("sent") == 2
    recorder.dropped = set()
    second = dispatch(store, [Route("scripted")], now=NOW, plugins=plugins, retry=QUICK)
    assert [d.reminder.contact.id for d in second.deliveries if d.reminder] == ["ben"]


def test_a_failure_is_retried_within_the_run_and_delivered_once(
    store: Any, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """Two failed calls then a good one: each reminder is sent once, after three attempts."""
    SCRIPT.plan = [DeliveryError("busy"), DeliveryError("busy")]
    report = dispatch(store, [Route("scripted")], now=NOW, plugins=plugins, retry=QUICK)
    assert report.count("sent") == 3
    assert {d.attempts for d in report.deliveries} == {3}
    assert len(SCRIPT.calls) == 3
    assert [d.status for d in recorder.outcomes].count("failed") == 6


def test_a_failure_that_lasts_waits_for_its_next_attempt(
    store: Any, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """After the run's attempts a delivery waits for its backoff, then goes out on a later run."""
    SCRIPT.plan = [DeliveryError("down")] * 3
    first = dispatch(store, [Route("scripted")], now=NOW, plugins=plugins, retry=QUICK)
    assert first.count("failed") == 3
    waits = [d.next_attempt for d in first.deliveries]
    assert all(
        w is not None and NOW + timedelta(minutes=2) <= w <= NOW + timedelta(minutes=20)
        for w in waits
    )
    early = dispatch(
        store, [Route("scripted")], now=NOW + timedelta(seconds=30), plugins=plugins, retry=QUICK
    )
    assert early.deliveries == ()
    later = dispatch(
        store, [Route("scripted")], now=NOW + timedelta(hours=1), plugins=plugins, retry=QUICK
    )
    assert later.count("sent") == 3
    assert {d.attempts for d in later.deliveries} == {4}


def test_backoff_replays_exactly_for_the_same_clock(
    tmp_path: Path, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """Two stores with the same data and clock schedule the same retries: jitter is derived."""
    schedules = []
    for name in ("one", "two"):
        with open_store(f"sqlite:///{tmp_path / name}.db", plugins=plugins) as store:
            store.put_contacts([Contact("ana", "Ana"), Contact("ben", "Ben")])
            store.set_rule(Rule(Every(days=3)))
            SCRIPT.plan = [DeliveryError("down")] * 3
            report = dispatch(store, [Route("scripted")], now=NOW, plugins=plugins, retry=QUICK)
            schedules.append(sorted((d.key, d.next_attempt) for d in report.deliveries))
    assert schedules[0] == schedules[1]
    assert schedules[0][0][1] != schedules[0][1][1]


def test_permanent_failures_and_exhausted_attempts_are_dead(
    store: Any, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """A permanent failure is not retried; one that keeps failing dies after max_attempts."""

    def reject_ana(reminders: Sequence[Reminder]) -> list[Failure]:
        return [
            Failure(r.key, "no such mailbox", permanent=r.contact.id == "ana")
            for r in reminders
            if r.contact.id in ("ana", "ben")
        ]

    policy = RetryPolicy(pause=0.0, attempts_per_run=2, max_attempts=2)
    SCRIPT.plan = [reject_ana, reject_ana]
    report = dispatch(store, [Route("scripted")], now=NOW, plugins=plugins, retry=policy)
    status = {
        d.reminder.contact.id: (d.status, d.attempts) for d in report.deliveries if d.reminder
    }
    assert status == {"ana": ("dead", 1), "ben": ("dead", 2), "cy": ("sent", 1)}
    assert store.ledger_counts()["scripted"] == {"dead": 2, "sent": 1}
    dead = store.ledger(statuses=["dead"])
    assert {row.error for row in dead} == {"no such mailbox"}
    later = dispatch(
        store, [Route("scripted")], now=NOW + timedelta(days=1), plugins=plugins, retry=policy
    )
    assert later.deliveries == ()


def test_a_gone_receiver_stops_the_route_until_its_settings_change(
    store: Any, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """EndpointGone marks the route gone; nothing is lost, and a changed route delivers it all."""
    SCRIPT.plan = [EndpointGone("410 Gone")]
    route = Route("scripted", settings={"url": "https://old.example"})
    first = dispatch(store, [route], now=NOW, plugins=plugins, retry=QUICK)
    assert first.gone_routes == ("scripted",)
    assert first.count("sent") == 0
    assert "scripted" in store.gone_routes()
    skipped = dispatch(store, [route], now=NOW, plugins=plugins, retry=QUICK)
    assert skipped.gone_routes == ("scripted",)
    assert len(SCRIPT.calls) == 1
    moved = Route("scripted", settings={"url": "https://new.example"})
    resumed = dispatch(store, [moved], now=NOW, plugins=plugins, retry=QUICK)
    assert resumed.count("sent") == 3
    assert store.gone_routes() == {}


def test_a_bad_route_stops_the_run_before_anything_is_sent(
    store: Any, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """An unknown adapter in any route is a ConfigError, and no route delivers."""
    with pytest.raises(ConfigError, match="unknown adapter 'nope'"):
        dispatch(store, [Route("scripted"), Route("nope")], now=NOW, plugins=plugins)
    assert SCRIPT.calls == []
    assert store.ledger_counts() == {}


def test_an_adapter_that_crashes_is_reported_and_retried(
    store: Any, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """Any exception from deliver() counts as a transient failure and is named in the report."""
    SCRIPT.plan = [ZeroDivisionError("oops")]
    report = dispatch(store, [Route("scripted")], now=NOW, plugins=plugins, retry=QUICK)
    assert report.count("sent") == 3
    assert any("ZeroDivisionError" in e for e in report.errors)


def test_garbage_from_an_adapter_is_reported_and_the_batch_counts_as_sent(
    store: Any, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """Failures for keys outside the batch are reported, not obeyed."""
    SCRIPT.plan = [lambda reminders: ["not a failure", Failure("unknown-key", "x")]]
    report = dispatch(store, [Route("scripted")], now=NOW, plugins=plugins, retry=QUICK)
    assert report.count("sent") == 3
    assert len([e for e in report.errors if "not a Failure" in e]) == 2


def test_dry_run_delivers_and_records_nothing(
    store: Any, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """A dry run lists what would go out and leaves the ledger empty."""
    report = dispatch(store, [Route("scripted")], now=NOW, plugins=plugins, dry_run=True)
    assert len(report.planned) == 3
    assert SCRIPT.calls == []
    assert store.ledger_counts() == {}


def test_a_publishing_adapter_gets_the_whole_agenda_every_run(
    store: Any, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """Feed-like adapters receive due and upcoming reminders each run, outside the ledger."""
    dispatch(store, [Route("feed")], now=NOW, plugins=plugins, horizon=timedelta(days=10))
    dispatch(store, [Route("feed")], now=NOW, plugins=plugins, horizon=timedelta(days=10))
    assert len(SCRIPT.agendas) == 2
    assert [r.contact.id for r in SCRIPT.agendas[0]] == ["ana", "ben", "cy", "dee"]
    assert len(SCRIPT.agendas[0].due) == 3
    assert store.ledger_counts() == {}


def test_a_touch_logged_after_a_failure_cancels_the_retry(
    store: Any, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """A reminder no longer due is not retried: the touch answered it."""
    SCRIPT.plan = [DeliveryError("down")] * 3
    dispatch(store, [Route("scripted")], now=NOW, plugins=plugins, retry=QUICK)
    store.log(Touchpoint("ana", NOW + timedelta(minutes=1)))
    later = dispatch(
        store, [Route("scripted")], now=NOW + timedelta(hours=1), plugins=plugins, retry=QUICK
    )
    assert sorted(d.reminder.contact.id for d in later.deliveries if d.reminder) == ["ben", "cy"]
