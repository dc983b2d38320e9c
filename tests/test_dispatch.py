"""Dispatch against a real SQLite file: once per route, retries, dead letters, gone routes."""

from __future__ import annotations

import base64
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

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


def _forty(tmp_path: Path, plugins: Plugins) -> Any:
    """A SQLite store with 40 contacts due now."""
    opened = open_store(f"sqlite:///{tmp_path / 'forty.db'}", plugins=plugins)
    opened.put_contacts(Contact(f"c{i:02}", f"Contact {i}") for i in range(40))
    opened.set_rule(Rule(Every(weeks=1)))
    return opened


def _held(tmp_path: Path) -> set[str]:
    """The keys whose deliveries are claimed and not yet recorded sent."""
    with sqlite3.connect(tmp_path / "forty.db") as conn:
        rows = conn.execute(
            "SELECT key FROM deliveries WHERE claimed_until IS NOT NULL AND status != 'sent'"
        ).fetchall()
    return {key for (key,) in rows}


def test_a_fast_route_claims_ahead_of_the_batch_it_delivers(
    tmp_path: Path, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """Claims grow past one batch on a fast route; batches keep their size, each sent once."""
    seen: list[set[str]] = []
    SCRIPT.plan = [lambda batch: seen.append(_held(tmp_path))] * 10
    with _forty(tmp_path, plugins) as store:
        report = dispatch(store, [Route("scripted")], now=NOW, plugins=plugins, batch_size=4)
        counts = store.ledger_counts()
    assert all(len(call) <= 4 for call in SCRIPT.calls)
    assert counts == {"scripted": {"sent": 40}}
    assert report.count("sent") == 40
    # The second claim took two batches: the one being delivered and the next.
    assert len(seen[1]) == 8
    assert set(SCRIPT.calls[1]) < seen[1]
    assert _held(tmp_path) == set()


def test_an_interrupted_run_gives_back_the_claims_it_had_not_tried(
    tmp_path: Path, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """Only the batch in flight stays claimed; the next run delivers the rest at once."""
    SCRIPT.plan = [None, None, None, KeyboardInterrupt()]
    with _forty(tmp_path, plugins) as store:
        with pytest.raises(KeyboardInterrupt):
            dispatch(store, [Route("scripted")], now=NOW, plugins=plugins, batch_size=4)
        in_flight = set(SCRIPT.calls[3])
        assert _held(tmp_path) == in_flight
        report = dispatch(store, [Route("scripted")], now=NOW, plugins=plugins, batch_size=4)
        assert report.count("sent") == 40 - 12 - 4
        store.claim_clock = lambda: time.time() + 3600
        late = dispatch(store, [Route("scripted")], now=NOW, plugins=plugins, batch_size=4)
        counts = store.ledger_counts()
    assert {d.key for d in late.deliveries} == in_flight
    assert counts == {"scripted": {"sent": 40}}


def test_a_receiver_gone_mid_claim_leaves_no_claim_behind(
    tmp_path: Path, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """What the run had claimed but not tried is given back when the route turns out gone."""
    SCRIPT.plan = [None, None, None, EndpointGone("410 Gone")]
    with _forty(tmp_path, plugins) as store:
        report = dispatch(
            store, [Route("scripted")], now=NOW, plugins=plugins, batch_size=4, retry=QUICK
        )
        counts = store.ledger_counts()
    assert report.gone_routes == ("scripted",)
    assert report.count("sent") == 12
    assert counts == {"scripted": {"sent": 12}}
    assert _held(tmp_path) == set()


def test_claims_older_than_half_their_life_are_taken_afresh(
    tmp_path: Path, recorder: RecorderPlugin, plugins: Plugins
) -> None:
    """A route that slows down never delivers on a claim taken long before."""
    stamps: list[float] = []

    def slow(batch: Sequence[Reminder]) -> None:
        with sqlite3.connect(tmp_path / "forty.db") as conn:
            marks = ",".join("?" * len(batch))
            (oldest,) = conn.execute(
                f"SELECT MIN(claimed_until) FROM deliveries WHERE key IN ({marks})",
                [r.key for r in batch],
            ).fetchone()
        stamps.append(oldest - time.time())
        if len(stamps) > 3:  # fast at first, so that claims grow, then slow
            time.sleep(0.3)

    SCRIPT.plan = [slow] * 10
    with _forty(tmp_path, plugins) as store:
        report = dispatch(
            store,
            [Route("scripted")],
            now=NOW,
            plugins=plugins,
            batch_size=4,
            claim_ttl=timedelta(seconds=1),
        )
        counts = store.ledger_counts()
    assert report.count("sent") == 40
    assert counts == {"scripted": {"sent": 40}}
    # Every batch began with at least half of its claims' life ahead of it.
    assert min(stamps) > 0.45


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


# -- what `cadence run` tells cron: its exit status, with real failing endpoints ------

SECRET = "whsec_" + base64.b64encode(b"cadence-exit-status-test-key").decode()


class Answering:
    """An HTTP server on 127.0.0.1 that answers every POST with ``code``; counts the requests.

    With ``hold`` set to n, the n-th request is counted and left unanswered
    until ``release`` is set.
    """

    def __init__(self, code: int = 204, hold: int | None = None) -> None:
        self.code = code
        self.hold = hold
        self.keys: list[str] = []
        self.held: str | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        answering = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with answering._lock:
                    answering.keys.append(self.headers["webhook-id"])
                    hold = answering.hold == len(answering.keys)
                    if hold:
                        answering.held = self.headers["webhook-id"]
                if hold:
                    answering.holding.set()
                    answering.release.wait(60)
                    return
                self.send_response(answering.code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def __enter__(self) -> Answering:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


class RefusingSmtp:
    """An aiosmtpd handler that answers every RCPT with ``reply`` (a 4xx or 5xx line)."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        return self.reply


@contextmanager
def refusing_smtp(reply: str) -> Iterator[int]:
    """An SMTP server on 127.0.0.1 refusing every recipient with ``reply``; yields its port."""
    with closed_port() as port:
        pass  # a port free a moment ago
    controller = Controller(RefusingSmtp(reply), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@contextmanager
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 bound but not listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def _webhook(url: str, **extra: Any) -> str:
    lines = [
        "[[routes]]",
        'name = "hook"',
        'adapter = "webhook"',
        f'url = "{url}"',
        f'secret = "{SECRET}"',
        "allow_private = true",
        *(f"{k} = {v!r}" for k, v in extra.items()),
    ]
    return "\n".join(lines) + "\n"


def _smtp(port: int) -> str:
    return (
        '[[routes]]\nname = "mail"\nadapter = "smtp"\nhost = "127.0.0.1"\n'
        f'port = {port}\nsecurity = "none"\ntimeout = 10\n'
        'from = "cadence@example.org"\nto = ["me@example.org"]\n'
    )


def _cadence(store: Any, config: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``cadence run`` (or ``args``) as a process, on ``store``'s file with ``config``."""
    path = Path(store.url.removeprefix("sqlite:///"))
    toml = path.parent / "cadence.toml"
    toml.write_text(config, encoding="utf-8")
    command = [sys.executable, "-m", "cadence", "--db", store.url, "--config", str(toml)]
    return subprocess.run(
        [*command, "--now", NOW.isoformat(), *(args or ("run",))],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_run_exits_0_when_everything_due_is_delivered_or_nothing_is_due(store: Any) -> None:
    """All delivered: 0; a second run, with nothing left to deliver: 0 again."""
    with Answering(204) as receiver:
        first = _cadence(store, _webhook(receiver.url))
        assert first.returncode == 0, first.stderr
        assert len(receiver.keys) == 3
        again = _cadence(store, _webhook(receiver.url))
    assert again.returncode == 0, again.stderr
    assert "0 sent" in again.stderr
    assert len(receiver.keys) == 3


@pytest.mark.parametrize(
    "endpoint", ["webhook refused", "webhook 500", "webhook 429", "smtp refused", "smtp 451"]
)
def test_run_exits_3_when_deliveries_failed_and_will_be_retried(store: Any, endpoint: str) -> None:
    """Every delivery failing for now, through a real endpoint, is exit status 3, not 0."""
    with ExitStack() as stack:
        if endpoint == "webhook refused":
            config = _webhook(f"http://127.0.0.1:{stack.enter_context(closed_port())}/hook")
        elif endpoint.startswith("webhook"):
            config = _webhook(stack.enter_context(Answering(int(endpoint.split()[1]))).url)
        elif endpoint == "smtp refused":
            config = _smtp(stack.enter_context(closed_port()))
        else:
            config = _smtp(stack.enter_context(refusing_smtp("451 4.3.0 try later")))
        done = _cadence(store, config)
    assert done.returncode == 3, done.stderr
    assert "0 sent; 3 failed" in done.stderr
    assert "Traceback" not in done.stderr
    assert store.ledger_counts() == {next(iter(store.ledger_counts())): {"failed": 3}}


def test_run_exits_3_when_both_smtp_and_webhook_are_refused(store: Any) -> None:
    """The audit's case: both routes refused; cron must notice."""
    with closed_port() as smtp_port, closed_port() as hook_port:
        config = _smtp(smtp_port) + _webhook(f"http://127.0.0.1:{hook_port}/hook")
        done = _cadence(store, config)
    assert done.returncode == 3, done.stderr
    assert store.ledger_counts() == {"mail": {"failed": 3}, "hook": {"failed": 3}}


@pytest.mark.parametrize("endpoint", ["webhook 400", "smtp 550", "webhook 410"])
def test_run_exits_4_when_deliveries_are_dead_or_a_route_is_parked(
    store: Any, endpoint: str
) -> None:
    """Given up (a permanent refusal) or a receiver gone: 4, until a person acts."""
    with ExitStack() as stack:
        if endpoint.startswith("webhook"):
            config = _webhook(stack.enter_context(Answering(int(endpoint.split()[1]))).url)
        else:
            config = _smtp(stack.enter_context(refusing_smtp("550 5.1.1 no such user")))
        done = _cadence(store, config)
        assert done.returncode == 4, done.stderr
        again = _cadence(store, config)
    # Nothing is left to deliver, but a parked route still needs a person.
    assert again.returncode == (4 if endpoint == "webhook 410" else 0), again.stderr
    assert "Traceback" not in done.stderr


def test_a_mix_of_outcomes_exits_with_what_most_needs_a_person(store: Any) -> None:
    """Dead through one route and failed through another: 4, not 3."""
    with Answering(400) as dead, Answering(500) as failing:
        config = _webhook(dead.url) + _webhook(failing.url).replace('"hook"', '"other"')
        done = _cadence(store, config)
    assert done.returncode == 4, done.stderr
    assert store.ledger_counts() == {"hook": {"dead": 3}, "other": {"failed": 3}}


def test_run_exits_1_for_bad_configuration_and_2_for_bad_usage(store: Any) -> None:
    """A route that cannot be built stops the run with 1; an unknown option is 2."""
    bad = _cadence(store, '[[routes]]\nadapter = "carrier-pigeon"\n')
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: ")
    assert "carrier-pigeon" in bad.stderr
    usage = _cadence(store, "", "run", "--no-such-option")
    assert usage.returncode == 2
    assert store.ledger_counts() == {}


def test_run_exits_75_when_the_store_stays_locked(store: Any) -> None:
    """Another process holding the store's lock past the timeout: one line, 75, nothing changed."""
    path = store.url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        toml = Path(path).parent / "cadence.toml"
        toml.write_text('[[routes]]\nadapter = "console"\n', encoding="utf-8")
        done = subprocess.run(
            [
                *(sys.executable, "-m", "cadence", "--db", f"{store.url}?timeout=0.2"),
                *("--config", str(toml), "--now", NOW.isoformat(), "run"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 75
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert "busy" in lines[0]
    assert store.ledger_counts() == {}


def test_run_help_lists_the_exit_statuses() -> None:
    """`cadence run --help` carries the table cron users need."""
    done = subprocess.run(
        [sys.executable, "-m", "cadence", "run", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0
    table = re.findall(r"^\s+(\d+)\s+\S", done.stdout, flags=re.MULTILINE)
    assert table == ["0", "1", "2", "3", "4", "75"], done.stdout


# -- the duplicate window: what a dispatcher killed mid-batch sends again ------------


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_dispatcher_killed_mid_batch_repeats_only_what_it_had_in_flight(
    tmp_path: Path, plugins: Plugins, concurrency: int
) -> None:
    """SIGKILL while the 20th POST of a 40-reminder batch waits for its answer.

    Every reminder answered before is recorded as sent as soon as its answer
    came, so the run that takes over sends again at most the POSTs in flight:
    the held one, and with concurrency n at most n.
    """
    url = f"sqlite:///{tmp_path / 'cadence.db'}"
    with open_store(url, plugins=plugins) as seeded:
        seeded.put_contacts(Contact(f"c{i:03}", f"Contact {i}") for i in range(40))
        seeded.set_rule(Rule(Every(weeks=1)))
        seeded.refresh(now=NOW)
    with Answering(204, hold=20) as receiver:
        toml = tmp_path / "cadence.toml"
        toml.write_text(_webhook(receiver.url, concurrency=concurrency), encoding="utf-8")
        victim = subprocess.Popen(
            [
                *(sys.executable, "-m", "cadence", "--db", url, "--config", str(toml)),
                *("--now", NOW.isoformat(), "run"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert receiver.holding.wait(120), "the dispatcher never sent its 20th POST"
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=60) == -signal.SIGKILL
        receiver.release.set()
        with open_store(url, plugins=plugins) as store:
            # As if the claim timeout had passed: no waiting for the wall clock.
            store.claim_clock = lambda: time.time() + 3600
            route = Route(
                "webhook",
                name="hook",
                settings={"url": receiver.url, "secret": SECRET, "allow_private": True},
            )
            report = dispatch(store, [route], now=NOW, plugins=plugins, retry=QUICK)
            counts = store.ledger_counts()
        received = Counter(receiver.keys)
        held = receiver.held
    assert len(received) == 40
    assert counts == {"hook": {"sent": 40}}
    twice = {key for key, n in received.items() if n > 1}
    assert held in twice
    assert len(twice) <= concurrency
    assert report.count("sent") >= len(twice)


class ReportingAdapter:
    """Tells the first two reminders delivered through ``report``, then fails the whole batch."""

    def __init__(self, **settings: Any) -> None:
        pass

    def deliver(self, reminders: Sequence[Reminder], *, report: Any) -> None:
        first, second, *_ = reminders
        report(first.key)
        report(second.key, None)
        report(second.key, Failure(second.key, "too late: told already"))
        report("not-in-the-batch")
        raise DeliveryError("the connection dropped")


def test_outcomes_reported_during_a_call_stand_when_the_call_then_fails(
    store: Any, plugins: Plugins
) -> None:
    """Reminders reported delivered are recorded sent; the rest take the batch's failure."""

    class Plugin:
        @hookimpl
        def cadence_register_adapters(self, register: Any) -> None:
            register("reporting", ReportingAdapter)

    plugins.register(Plugin(), "reporting-plugin")
    retry = RetryPolicy(pause=0.0, attempts_per_run=1)
    report = dispatch(store, [Route("reporting")], now=NOW, plugins=plugins, retry=retry)
    assert report.count("sent") == 2
    assert report.count("failed") == 1
    assert store.ledger_counts() == {"reporting": {"sent": 2, "failed": 1}}
    assert report.errors == ()


def test_smtp_reports_each_message_as_the_server_takes_it(store: Any) -> None:
    """One message each: report is told each reminder as its message is accepted."""
    from cadence.adapters.smtp import SmtpAdapter, parse_settings

    class Taking:
        def __init__(self) -> None:
            self.count = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.count += 1
            return "250 OK"

    handler = Taking()
    with closed_port() as port:
        pass
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        adapter = SmtpAdapter(
            parse_settings(
                {
                    "host": "127.0.0.1",
                    "port": port,
                    "security": "none",
                    "from": "cadence@example.org",
                    "to": ["me@example.org"],
                    "digest": False,
                }
            )
        )
        due = list(store.agenda(now=NOW).due)
        told: list[tuple[str, object, int]] = []
        result = adapter.deliver(
            due, report=lambda key, failure=None: told.append((key, failure, handler.count))
        )
    finally:
        controller.stop()
    assert result is None
    assert [key for key, _, _ in told] == [r.key for r in due]
    assert all(failure is None for _, failure, _ in told)
    # Each was told once its own message was in, before the next one was.
    assert [n for _, _, n in told] == [1, 2, 3]
