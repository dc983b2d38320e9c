"""How fast the web app's pages answer over real HTTP, for a large store.

Fills a SQLite store (in a temporary folder) through the public import API
with ``--contacts`` contacts (10,000 by default) in four tags, a cadence per
tag and one for everyone, a birthday for a third of them, and a year of
touchpoints (in and out, personal and bulk, by several channels: about 20 per
contact). It serves the app as ``cadence serve`` does, on 127.0.0.1, signs
in with the token, and asks for each page in turn (Today, People, People
filtered by tag and search, a person, the roster) ``--rounds`` times,
alternating pages so that no page is measured on a quieter machine than
another. The people asked for change every round.

Prints, per page, the median (p50) and p95 time to the whole answer, and the
ratio of p95 to the target (100 ms). The roster chart reads every touchpoint
once and is then kept (for five minutes, or until a form changes something);
its first, cold computation is printed apart and is not a page view counted.

    python bench/web.py --quick        # 1,000 contacts, 20 rounds
    python bench/web.py                # 10,000 contacts, 50 rounds

Exits 1 when any page's p95 misses the target or any answer is not 200.
"""

from __future__ import annotations

import argparse
import http.client
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cadence import Birthday, Contact, ImportBatch, Rule, Touchpoint, open_store, parse_cadence
from cadence.web.app import make_web_app
from cadence.web.feed import make_feed_server, new_token

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TARGET = 0.100
TAGS = ("retainer", "clients", "friends", "card-list")
CHANNELS = ("email", "phone", "video", "text", "meeting")


def _fill(store: object, contacts: int, seed: int = 7) -> int:
    """Fill the store in batches of a thousand contacts; return how many touchpoints it got."""
    rng = random.Random(seed)
    rules = [
        Rule(parse_cadence("2 weeks"), tag="retainer"),
        Rule(parse_cadence("monthly"), tag="clients"),
        Rule(parse_cadence("quarterly"), tag="friends"),
        Rule(parse_cadence("6 weeks")),
    ]
    touches_made = 0
    chunk = 1000
    for first in range(0, contacts, chunk):
        people = []
        occasions = []
        touches = []
        for i in range(first, min(first + chunk, contacts)):
            ident = f"c{i:05}"
            people.append(
                Contact(
                    ident,
                    f"{rng.choice(['Ana', 'Ben', 'Cy', 'Dee', 'Eli', 'Fay'])} Person{i}",
                    email=f"{ident}@example.com",
                    channel=rng.choice(CHANNELS),
                    tags=[TAGS[i % len(TAGS)]],
                    added=date(2025, 6, 1),
                )
            )
            if i % 3 == 0:
                occasions.append(Birthday(ident, 1 + i % 12, 1 + i % 28))
            for _ in range(rng.randint(8, 32)):
                at = NOW - timedelta(days=rng.uniform(1, 365))
                touches.append(
                    Touchpoint(
                        ident,
                        at,
                        rng.choice(CHANNELS),
                        personal=rng.random() > 0.2,
                        direction="in" if rng.random() < 0.4 else "out",
                    )
                )
        touches_made += len(touches)
        batch = ImportBatch(people, rules if first == 0 else (), occasions, touches)
        store.import_batch(batch)  # type: ignore[attr-defined]
    return touches_made


def _get(port: int, target: str, cookie: str) -> tuple[float, int, int]:
    began = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", target, headers={"Cookie": cookie})
        response = connection.getresponse()
        body = response.read()
        return time.perf_counter() - began, response.status, len(body)
    finally:
        connection.close()


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 contacts, 20 rounds")
    parser.add_argument("--contacts", type=int, default=None, help="default 10,000")
    parser.add_argument("--rounds", type=int, default=None, help="default 50")
    args = parser.parse_args()
    contacts = args.contacts or (1000 if args.quick else 10_000)
    rounds = args.rounds or (20 if args.quick else 50)

    token = new_token()
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'cadence.db'}")
        began = time.perf_counter()
        touches = _fill(store, contacts)
        store.agenda(now=NOW, within=timedelta(days=7))  # plan once, as a running store is
        print(
            f"{contacts:,} contacts, {touches:,} touchpoints over a year; "
            f"filled and planned in {time.perf_counter() - began:.1f} s"
        )
        app = make_web_app(store, token=token, clock=lambda: NOW)
        server = make_feed_server(app, "127.0.0.1", 0, token=token, log=open_null())
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.server_port
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request("GET", f"/?token={token}")
            cookie = (connection.getresponse().getheader("Set-Cookie") or "").split(";")[0]
            connection.close()
            cold, status, _ = _get(port, "/roster", cookie)
            print(f"roster chart, cold (reads every touchpoint): {cold * 1000:.0f} ms ({status})")
            rng = random.Random(11)
            pages = {
                "today": lambda: "/",
                "people": lambda: f"/people?page={rng.randint(1, contacts // 50)}",
                "people filtered": lambda: (
                    f"/people?tag={rng.choice(TAGS)}&q=person{rng.randint(1, 9)}"
                ),
                "person": lambda: f"/people/c{rng.randrange(contacts):05}",
                "roster": lambda: "/roster",
            }
            for target in pages.values():  # warm each once
                _get(port, target(), cookie)
            times: dict[str, list[float]] = {name: [] for name in pages}
            bad = 0
            sizes: dict[str, int] = {}
            for _ in range(rounds):
                for name, target in pages.items():
                    took, status, size = _get(port, target(), cookie)
                    bad += status != 200
                    sizes[name] = size
                    times[name].append(took)
        finally:
            server.shutdown()
            server.server_close()
            store.close()
    missed = bool(bad)
    print(f"{rounds} rounds, pages alternating; target p95 {TARGET * 1000:.0f} ms")
    for name, found in times.items():
        p50, p95 = statistics.median(found), _p95(found)
        ok = p95 <= TARGET
        missed |= not ok
        print(
            f"  {name:16} p50 {p50 * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms  "
            f"ratio {p95 / TARGET:4.2f}  ({sizes[name] / 1024:.0f} KiB)  {'ok' if ok else 'MISSED'}"
        )
    if bad:
        print(f"{bad} answers were not 200: MISSED")
    return 1 if missed else 0


def open_null() -> object:
    """Somewhere to write the request log that nobody reads."""
    import io

    return io.StringIO()


if __name__ == "__main__":
    sys.exit(main())
