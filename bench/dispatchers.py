"""How delivery throughput grows with the dispatchers sharing one PostgreSQL database.

Fills a fresh schema with contacts that each have one check-in due, plans
them, and then starts 1, 2 and 4 ``cadence run`` processes at once, every one
with a webhook route to the same receiver on loopback, which takes 10 ms per
request. Each dispatcher sends one request at a time (``--concurrency``), so
what more dispatchers add shows on its own. Between runs the ledger is
emptied, so every run delivers the same reminders. Each run checks that every
reminder arrived exactly once. Prints medians of deliveries per second,
measured from launch until the last dispatcher exits (Python's start-up
included), and over the span from the first delivery to the last. The
counts take turns round after round; 4 dispatchers should deliver at least
2.5x the rate of one (launch to exit), or the script exits non-zero.

    python bench/dispatchers.py --quick    # the database in $CADENCE_TEST_POSTGRES
    python bench/dispatchers.py --db postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cadence import Contact, Every, Rule
from cadence._config import open_store
from cadence._plugins import load_plugins
from cadence.stores import postgresql

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(b"cadence-dispatcher-bench-key").decode()
#: How many times one dispatcher's rate four should reach.
TARGET = 2.5

# The real command line; the child registers the PostgreSQL store itself when
# it is not among the plugins that ship with cadence.
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
    """A webhook receiver on loopback taking ``delay`` seconds per request; it keeps the keys."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.keys: list[str] = []
        self.first = self.last = 0.0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(receiver.delay)
                now = time.perf_counter()
                with receiver._lock:
                    receiver.keys.append(self.headers["webhook-id"])
                    receiver.first = receiver.first or now
                    receiver.last = now
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def reset(self) -> None:
        with self._lock:
            self.keys = []
            self.first = self.last = 0.0

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def fill(url: str, count: int) -> None:
    """``count`` contacts, each with one check-in due at NOW, planned."""
    plugins = load_plugins()
    if "postgresql" not in plugins.registered("store"):
        plugins.register(postgresql, "postgresql", builtin=True)
    with open_store(url, plugins=plugins) as store:
        store.put_contacts(
            Contact(f"c{i:06}", f"Contact {i}", since=date(2026, 8, 1) + timedelta(days=i % 60))
            for i in range(count)
        )
        store.set_rule(Rule(Every(weeks=2)))
        store.refresh(now=NOW)
        assert len(store.agenda(now=NOW).due) == count


def sql(url: str, query: str) -> None:
    import psycopg

    libpq, schema = postgresql.split_url(url)
    options = f"-c search_path={schema}" if schema else ""
    with psycopg.connect(libpq, autocommit=True, options=options) as conn:
        conn.execute(query)


def run(
    url: str, config: Path, dispatchers: int, receiver: Receiver, count: int
) -> tuple[float, float]:
    """Run ``dispatchers`` processes at once; rates launch-to-exit and first-to-last delivery."""
    sql(url, "DELETE FROM deliveries")
    receiver.reset()
    command = [sys.executable, "-c", BOOTSTRAP, "--db", url, "--config", str(config),
               "--now", NOW.isoformat(), "run"]  # fmt: skip
    started = time.perf_counter()
    procs = [
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(dispatchers)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"a dispatcher failed:\n{err.decode(errors='replace')}")
    whole = time.perf_counter() - started
    seen = Counter(receiver.keys)
    if len(seen) != count or max(seen.values()) != 1:
        raise SystemExit(f"not exactly once: {len(seen)} keys, up to {max(seen.values())} times")
    return count / whole, count / (receiver.last - receiver.first)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--db",
        default=os.environ.get("CADENCE_TEST_POSTGRES"),
        help="PostgreSQL URL (default $CADENCE_TEST_POSTGRES); a fresh schema in it, then dropped",
    )
    parser.add_argument("--quick", action="store_true", help="fewer reminders and repeats")
    parser.add_argument("--reminders", type=int, help="due reminders per run")
    parser.add_argument("--delay", type=float, default=0.010, help="receiver seconds per request")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="requests in flight per dispatcher"
    )
    parser.add_argument("--dispatchers", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--repeats", type=int, help="runs per dispatcher count")
    args = parser.parse_args()
    if not args.db:
        parser.error("give --db URL (or set CADENCE_TEST_POSTGRES): a database to make a schema in")
    count = args.reminders or (1000 if args.quick else 3000)
    repeats = args.repeats or (3 if args.quick else 5)
    schema = f"cadence_bench_{uuid.uuid4().hex[:8]}"
    url = f"{args.db}{'&' if '?' in args.db else '?'}schema={schema}"
    missed = False
    receiver = Receiver(args.delay)
    config = Path(tempfile.mkdtemp(prefix="cadence-bench-")) / "cadence.toml"
    config.write_text(
        f'[[routes]]\nname = "hook"\nadapter = "webhook"\nurl = "{receiver.url}"\n'
        f'secret = "{SECRET}"\nallow_private = true\nconcurrency = {args.concurrency}\n',
        encoding="utf-8",
    )
    try:
        fill(url, count)
        print(
            f"{count} due reminders, receiver {args.delay * 1000:g} ms per request, "
            f"{args.concurrency} request(s) in flight per dispatcher, median of {repeats} runs"
        )
        print(f"{'dispatchers':>11} {'launch-to-exit /s':>18} {'first-to-last /s':>17}")
        # The counts take turns, round after round, so all meet the same load.
        rates: dict[int, list[tuple[float, float]]] = {n: [] for n in args.dispatchers}
        for number in range(repeats):
            shift = number % len(args.dispatchers)
            for dispatchers in args.dispatchers[shift:] + args.dispatchers[:shift]:
                rates[dispatchers].append(run(url, config, dispatchers, receiver, count))
        results = {}
        for dispatchers in args.dispatchers:
            whole = statistics.median(r[0] for r in rates[dispatchers])
            span = statistics.median(r[1] for r in rates[dispatchers])
            results[dispatchers] = (whole, span)
            print(f"{dispatchers:>11} {whole:>18.1f} {span:>17.1f}")
        low, high = min(results), max(results)
        if low != high:
            ratio = results[high][0] / results[low][0]
            print(
                f"ratio {high} / {low} dispatchers: {ratio:.2f}x "
                f"launch-to-exit, {results[high][1] / results[low][1]:.2f}x first-to-last"
            )
            if (low, high) == (1, 4):
                verdict = "meets" if ratio >= TARGET else "misses"
                print(f"{verdict} the {TARGET:g}x target for 4 dispatchers against 1")
                missed = ratio < TARGET
    finally:
        receiver.close()
        sql(args.db, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
