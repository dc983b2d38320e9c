"""How much faster the webhook adapter delivers a batch than a plain sequential loop.

A receiver on 127.0.0.1 (ThreadingHTTPServer, in its own process, keep-alive)
takes 20 ms to answer each request. The same signed Standard Webhooks bodies
are sent two ways: by the ``webhook`` adapter's ``deliver()`` with its default
concurrency, and by a loop of ``requests.post`` calls, one after the other.
Each is run several times; medians are printed, with their ratio.

    python bench/webhook.py            # 1,000 reminders, 5 runs each
    python bench/webhook.py --quick    # 300 reminders, 3 runs each
    python bench/webhook.py --reminders 500 --repeats 3 --concurrency 8
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from cadence import Contact, Every, Reminder, Roster, Rule, plan
from cadence.adapters.webhook import DEFAULT_CONCURRENCY, webhook_adapter
from cadence.adapters.webhook.payloads import encode, standard_payload
from cadence.adapters.webhook.signing import parse_secret, sign

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()  # made up for the benchmark
DELAY = 0.020
TARGET = 8.0


class _Slow(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        time.sleep(DELAY)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def _serve(ready: multiprocessing.connection.Connection) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.request_queue_size = 128
    ready.send(server.server_address[1])
    server.serve_forever()


def due_reminders(n: int) -> Sequence[Reminder]:
    """``n`` due reminders, one per contact."""
    contacts = [Contact(f"c{i:05d}", f"Contact {i}", since=date(2026, 1, 1)) for i in range(n)]
    due = plan(Roster(contacts, [Rule(Every(days=14))]), now=NOW).due
    assert len(due) == n
    return due


def sequential(url: str, reminders: Sequence[Reminder]) -> None:
    """The baseline: one ``requests.post`` after another, with the same bodies and signatures."""
    key = parse_secret(SECRET)
    for reminder in reminders:
        body = encode(standard_payload(reminder))
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": reminder.key,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(reminder.key, stamp, body, [key]),
        }
        response = requests.post(url, data=body, headers=headers, timeout=15)
        response.raise_for_status()


def adapter_run(url: str, reminders: Sequence[Reminder], concurrency: int) -> None:
    """One ``deliver()`` call of a fresh adapter, closed afterwards."""
    adapter = webhook_adapter(url=url, secret=SECRET, allow_private=True, concurrency=concurrency)
    try:
        failures = adapter.deliver(reminders)
    finally:
        adapter.close()
    if failures:
        raise SystemExit(f"{len(failures)} deliveries failed, first: {failures[0].error}")


def median_seconds(action: Callable[[], None], repeats: int) -> tuple[float, list[float]]:
    """The median wall-clock seconds of ``repeats`` calls, and every run."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 reminders, 3 runs each")
    parser.add_argument("--reminders", type=int, help="reminders per run")
    parser.add_argument("--repeats", type=int, help="runs of each way")
    parser.add_argument(
        "--concurrency", type=int, default=DEFAULT_CONCURRENCY, help="the adapter's concurrency"
    )
    args = parser.parse_args(argv)
    n = args.reminders or (300 if args.quick else 1000)
    repeats = args.repeats or (3 if args.quick else 5)

    parent, child = multiprocessing.Pipe()
    receiver = multiprocessing.Process(target=_serve, args=(child,), daemon=True)
    receiver.start()
    try:
        url = f"http://127.0.0.1:{parent.recv()}/hook"
        reminders = due_reminders(n)
        print(
            f"Python {sys.version.split()[0]}, {n:,} reminders, receiver answers in "
            f"{DELAY * 1000:.0f} ms, {repeats} runs each; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        fast, fast_runs = median_seconds(
            lambda: adapter_run(url, reminders, args.concurrency), repeats
        )
        print(
            f"adapter (concurrency {args.concurrency}): median {fast:6.2f} s "
            f"({n / fast:6.1f}/s; runs {', '.join(f'{t:.2f}' for t in fast_runs)})",
            flush=True,
        )
        slow, slow_runs = median_seconds(lambda: sequential(url, reminders), repeats)
        print(
            f"sequential requests.post:     median {slow:6.2f} s "
            f"({n / slow:6.1f}/s; runs {', '.join(f'{t:.2f}' for t in slow_runs)})",
            flush=True,
        )
    finally:
        receiver.terminate()
        receiver.join(5)
    # Both ways wait on the receiver; on a busy machine the adapter's runs also wait for CPU.
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    ratio = slow / fast
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(f"ratio: x{ratio:.1f} faster ({verdict} the x{TARGET:.0f} target)")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
