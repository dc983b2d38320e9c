"""Several ``cadence run`` processes sharing one PostgreSQL database and one webhook receiver.

Four dispatchers start at once on 2,000 due reminders: each reminder reaches
the receiver exactly once. When one dispatcher is killed mid-run, the others
go on, and a run after its claims expired delivers the rest: nothing is lost,
and only what the killed one had in flight arrives twice, under the same key.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from _servers import in_ci
from cadence import Contact, Every, Rule, plan
from cadence._config import open_store
from cadence._plugins import Plugins
from cadence.stores import postgresql

POSTGRES_ENV = "CADENCE_TEST_POSTGRES"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
COUNT = 2000
SECRET = "whsec_" + base64.b64encode(b"cadence-dispatcher-test-key!").decode()

pytestmark = [
    pytest.mark.integration,
    # In CI (CADENCE_CI) a missing server fails the tests instead of skipping them.
    pytest.mark.skipif(
        not os.environ.get(POSTGRES_ENV) and not in_ci(),
        reason=f"set {POSTGRES_ENV} to a PostgreSQL URL",
    ),
]

# Runs the real command line. The child registers the PostgreSQL store itself
# when it is not among the plugins that ship with cadence.
BOOTSTRAP = """
from cadence import _plugins
from cadence.stores import postgresql
plugins = _plugins.get_plugins()
if "postgresql" not in plugins.registered("store"):
    plugins.register(postgresql, "postgresql", builtin=True)
from cadence.cli import main
main()
"""


class Receiver:
    """A webhook receiver on loopback that takes ``delay`` seconds per request.

    Each dispatcher posts to its own path, so the receiver knows who sent
    what. With ``hold`` set to (path, n), the n-th request on that path is
    recorded and then left unanswered until ``release`` is set.
    """

    def __init__(self, delay: float, hold: tuple[str, int] | None = None) -> None:
        self.delay = delay
        self.hold = hold
        self.received: list[tuple[str, str]] = []
        self.held: str | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers["webhook-id"]
                with receiver._lock:
                    receiver.received.append((self.path, key))
                    mine = sum(1 for path, _ in receiver.received if path == self.path)
                    hold = receiver.hold == (self.path, mine)
                    if hold:
                        receiver.held = key
                if hold:
                    receiver.holding.set()
                    receiver.release.wait(60)
                    return
                time.sleep(receiver.delay)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def keys(self) -> Counter[str]:
        with self._lock:
            return Counter(key for _, key in self.received)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def database(plugins: Plugins) -> Iterator[str]:
    """The URL of a fresh PostgreSQL store in a schema of its own, dropped afterwards."""
    import psycopg

    if "postgresql" not in plugins.registered("store"):
        plugins.register(postgresql, "postgresql", builtin=True)
    base = os.environ[POSTGRES_ENV]
    schema = f"cadence_test_{uuid.uuid4().hex[:12]}"
    yield f"{base}{'&' if '?' in base else '?'}schema={schema}"
    with psycopg.connect(postgresql.split_url(base)[0], autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _due_roster(url: str, plugins: Plugins, *, planned: bool) -> set[str]:
    """Fill the store with COUNT contacts, each with one check-in due; return their keys."""
    with open_store(url, plugins=plugins) as store:
        store.put_contacts(
            Contact(f"c{i:05}", f"Contact {i}", since=date(2026, 8, 1) + timedelta(days=i % 60))
            for i in range(COUNT)
        )
        store.set_rule(Rule(Every(weeks=2)))
        if planned:
            store.refresh(now=NOW)
        due = {r.key for r in plan(store.roster(), now=NOW, horizon=timedelta(0)).due}
    assert len(due) == COUNT
    return due


def _config(folder: Path, receiver: Receiver, name: str) -> Path:
    """A cadence.toml with one webhook route, called "hook" for every dispatcher."""
    path = folder / f"{name}.toml"
    path.write_text(
        "[[routes]]\n"
        'name = "hook"\n'
        'adapter = "webhook"\n'
        f'url = "{receiver.url("/" + name)}"\n'
        f'secret = "{SECRET}"\n'
        "allow_private = true\n",
        encoding="utf-8",
    )
    return path


def _dispatcher(
    url: str, config: Path, folder: Path, name: str, *extra: str
) -> subprocess.Popen[bytes]:
    """Start ``cadence run`` with the store, the config and a fixed now; output goes to files."""
    command = [
        sys.executable,
        "-c",
        BOOTSTRAP,
        "--db",
        url,
        "--config",
        str(config),
        "--now",
        NOW.isoformat(),
        "run",
        *extra,
    ]
    with (folder / f"{name}.out").open("wb") as out, (folder / f"{name}.err").open("wb") as err:
        return subprocess.Popen(command, stdout=out, stderr=err, env=dict(os.environ))


def _finish(proc: subprocess.Popen[bytes], folder: Path, name: str) -> int:
    code = proc.wait(timeout=300)
    if code not in (0, -signal.SIGKILL):
        print((folder / f"{name}.err").read_text(encoding="utf-8", errors="replace"))
    return code


def _sql(url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    libpq, schema = postgresql.split_url(url)
    with psycopg.connect(libpq, options=f"-c search_path={schema}") as conn:
        return list(conn.execute(query, params).fetchall())


def test_four_dispatchers_deliver_each_reminder_exactly_once(
    database: str, plugins: Plugins, tmp_path: Path
) -> None:
    """Four cadence run processes started at once deliver 2,000 reminders, each exactly once."""
    due = _due_roster(database, plugins, planned=False)
    with Receiver(delay=0.01) as receiver:
        names = [f"d{i}" for i in range(4)]
        procs = [_dispatcher(database, _config(tmp_path, receiver, n), tmp_path, n) for n in names]
        codes = [_finish(p, tmp_path, n) for p, n in zip(procs, names, strict=True)]
        received = receiver.keys()
    assert codes == [0, 0, 0, 0]
    assert set(received) == due
    assert max(received.values()) == 1
    with open_store(database, plugins=plugins) as store:
        assert store.ledger_counts() == {"hook": {"sent": COUNT}}


def test_a_killed_dispatcher_loses_nothing_and_repeats_only_what_it_had_in_flight(
    database: str, plugins: Plugins, tmp_path: Path
) -> None:
    """With one of four dispatchers killed mid-run, a later run completes the work.

    Nothing is lost; a reminder arrives twice only if the killed dispatcher
    had claimed it and not yet recorded it, and then under the same key.
    """
    due = _due_roster(database, plugins, planned=True)
    with Receiver(delay=0.02, hold=("/victim", 5)) as receiver:
        names = ["victim", "d1", "d2", "d3"]
        procs = {
            n: _dispatcher(database, _config(tmp_path, receiver, n), tmp_path, n) for n in names
        }
        assert receiver.holding.wait(120), "the victim never sent its fifth request"
        victim = procs["victim"]
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=60) == -signal.SIGKILL
        # Its claims hold for the default ten minutes: no hurry to read them.
        in_flight = {
            key
            for (key,) in _sql(
                database,
                "SELECT key FROM deliveries WHERE claimed_by LIKE %s AND status != 'sent'",
                f"%:{victim.pid}:%",
            )
        }
        receiver.release.set()
        codes = [_finish(procs[n], tmp_path, n) for n in names[1:]]
        # Claims expire by the database server's clock: move the victim's into
        # the past, as if its claim timeout had run out, instead of waiting.
        _sql(
            database,
            "UPDATE deliveries SET claimed_until = claimed_until - 3600 "
            "WHERE claimed_by LIKE %s RETURNING key",
            f"%:{victim.pid}:%",
        )
        clean = _dispatcher(database, _config(tmp_path, receiver, "clean"), tmp_path, "clean")
        codes.append(_finish(clean, tmp_path, "clean"))
        received = receiver.keys()
        held = receiver.held
    assert codes == [0, 0, 0, 0]
    assert set(received) == due
    twice = {key for key, n in received.items() if n > 1}
    assert max(received.values()) == 2
    assert held in in_flight
    assert held in twice
    assert twice <= in_flight
    with open_store(database, plugins=plugins) as store:
        assert store.ledger_counts() == {"hook": {"sent": COUNT}}
