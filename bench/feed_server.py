"""How the feed server holds up under many subscribers and stalled clients.

Serves the feed of a roster of ``--contacts`` contacts (a SQLite store in a
temporary folder, planned once, as ``cadence serve`` does) on 127.0.0.1 with
the defaults of ``cadence serve``, then:

1. holds ``--stalled`` connections that sent half a request and nothing more
   (slowloris), for the whole run;
2. sends ``--clients`` requests at the same moment, each on its own
   connection, and waits for every answer;
3. repeats step 2 ``--rounds`` times.

It prints, per round, how many answers were 200 with the whole feed, the
median and slowest answer, and the time for the whole burst; and the
requests per second over all rounds.

    python bench/feed_server.py --quick                # 50 clients, 5 stalled, 2 rounds
    python bench/feed_server.py                        # 200 clients, 10 stalled
    python bench/feed_server.py --clients 500 --stalled 50 --contacts 2000

Exits 1 when any request failed or was answered with anything but the feed.
"""

from __future__ import annotations

import argparse
import http.client
import io
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cadence import Contact, Every, Rule, open_store
from cadence.web.feed import make_feed_app, make_feed_server, new_token

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _fetch(port: int, target: str) -> tuple[float, int, bytes]:
    began = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        body = response.read()
        return time.perf_counter() - began, response.status, body
    finally:
        connection.close()


def _burst(port: int, target: str, clients: int) -> tuple[list[object], float]:
    """``clients`` requests sent at the same moment; their results and the time for all."""
    results: list[object] = [None] * clients
    start = threading.Barrier(clients + 1)

    def one(i: int) -> None:
        start.wait()
        try:
            results[i] = _fetch(port, target)
        except OSError as error:
            results[i] = error

    workers = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    return results, time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 clients, 5 stalled, 2 rounds")
    parser.add_argument("--clients", type=int, default=None, help="default 200")
    parser.add_argument("--stalled", type=int, default=None, help="default 10")
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=None, help="default 3")
    args = parser.parse_args()
    args.clients = args.clients or (50 if args.quick else 200)
    args.stalled = args.stalled or (5 if args.quick else 10)
    args.rounds = args.rounds or (2 if args.quick else 3)

    token = new_token()
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'cadence.db'}")
        store.put_contacts(
            Contact(f"c{i:05}", f"Contact {i}", timezone="Europe/Berlin")
            for i in range(args.contacts)
        )
        store.set_rule(Rule(Every(weeks=2)))
        store.agenda(now=NOW, within=timedelta(days=30))  # plan once, as a warm store is

        def agenda() -> object:
            return store.agenda(now=NOW, within=timedelta(days=30))

        log = io.StringIO()
        app = make_feed_app(agenda, token=token)  # type: ignore[arg-type]
        server = make_feed_server(app, "127.0.0.1", 0, token=token, log=log)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.server_port
        target = f"/feed.ics?token={token}"
        want = _fetch(port, target)[2]
        stalled = [socket.create_connection(("127.0.0.1", port)) for _ in range(args.stalled)]
        for sock in stalled:
            sock.sendall(b"GET /feed.ics?token=")
        failures = 0
        answered = 0
        total = 0.0
        print(
            f"{args.contacts} contacts, feed of {len(want):,} bytes; "
            f"{args.stalled} stalled connections held open"
        )
        try:
            for round_number in range(1, args.rounds + 1):
                results, burst = _burst(port, target, args.clients)
                total += burst
                good = [r for r in results if isinstance(r, tuple) and r[1] == 200 and r[2] == want]
                failures += args.clients - len(good)
                answered += len(good)
                times = sorted(r[0] for r in good)
                print(
                    f"round {round_number}: {len(good)}/{args.clients} answered with the feed; "
                    f"median {statistics.median(times) * 1000:.0f} ms, "
                    f"slowest {times[-1] * 1000:.0f} ms, burst {burst:.2f} s"
                    if times
                    else f"round {round_number}: no answer"
                )
        finally:
            for sock in stalled:
                sock.close()
            server.shutdown()
            server.server_close()
            store.close()
        print(
            f"{answered / total:.0f} requests/s over {args.rounds} rounds; "
            f"failures: {failures} (target 0): {'ok' if not failures else 'MISSED'}"
        )
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
