"""How long the caldav adapter takes to publish an agenda into a real Radicale calendar.

Starts Radicale on 127.0.0.1 (as the tests do, at the info level so that it
logs each request), then, in each round, publishes N reminders (check-ins in
eight zones, occasions, lead times, overdue ones) into a new, empty calendar
with a new SQLite ledger, and publishes the same agenda again, unchanged.
Each publish builds its adapter anew, as a dispatch run does. Writes (PUT,
DELETE) are counted from the server's log.

Prints the median of each and the ratio of the unchanged publish to its
target, and exits 1 when the unchanged publish is slower than the target or
sends any write.

    python bench/caldav.py              # 2,000 reminders, 2 rounds, target 1 s
    python bench/caldav.py --quick      # 200 reminders, 2 rounds
    python bench/caldav.py --size 5000 --rounds 5 --target 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ical import NOW, build  # the feed benchmark's reminders

from _radicale import USERS, Radicale, start_radicale  # the tests' server helper
from cadence import Agenda
from cadence._delivery import PublishLedger
from cadence.adapters.caldav import caldav_adapter
from cadence.stores.sqlite import SqliteStore

PASSWORD_ENV = "BENCH_CALDAV_PASSWORD"  # noqa: S105  # the name of a variable, not a password
WRITES = ("PUT", "DELETE")


def publish(url: str, agenda: Agenda, store: SqliteStore) -> float:
    """Seconds to build the adapter and publish ``agenda`` through it."""
    start = time.perf_counter()
    adapter = caldav_adapter(url=url, username="ana", password_env=PASSWORD_ENV)
    try:
        notes = adapter.publish(agenda, ledger=PublishLedger(store, "bench"))
    finally:
        adapter.close()
    took = time.perf_counter() - start
    assert notes == [], notes
    return took


def writes(server: Radicale, before: dict[str, int]) -> int:
    seen = server.requests_seen("cadence/")
    return sum(seen[m] - before.get(m, 0) for m in WRITES)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2000, help="how many reminders")
    parser.add_argument(
        "--rounds", type=int, default=2, help="first publishes, each followed by two unchanged"
    )
    parser.add_argument("--target", type=float, default=1.0, help="seconds, unchanged publish")
    parser.add_argument("--quick", action="store_true", help="200 reminders, 2 rounds")
    options = parser.parse_args()
    size, rounds = (200, 2) if options.quick else (options.size, options.rounds)
    agenda = Agenda(build(size), now=NOW, horizon=timedelta(days=31))
    os.environ[PASSWORD_ENV] = USERS["ana"]
    firsts: list[float] = []
    unchanged: list[float] = []
    first_writes: list[int] = []
    unchanged_writes: list[int] = []
    with tempfile.TemporaryDirectory() as folder:
        server = start_radicale(Path(folder), level="info")
        try:
            for round_ in range(rounds):
                url = server.make_calendar(f"Bench {round_}")
                with SqliteStore(f"sqlite:///{Path(folder) / f'ledger-{round_}.db'}") as store:
                    before = server.requests_seen("cadence/")
                    firsts.append(publish(url, agenda, store))
                    first_writes.append(writes(server, before))
                    # Two unchanged runs a round, alternating with the first publishes.
                    for _ in range(2):
                        before = server.requests_seen("cadence/")
                        unchanged.append(publish(url, agenda, store))
                        unchanged_writes.append(writes(server, before))
                server.drop_book(url)
        finally:
            server.stop()
    first, again = statistics.median(firsts), statistics.median(unchanged)
    print(f"caldav publish of {len(agenda):,} reminders into Radicale, {rounds} rounds:")
    print(f"  first publish (every event)  {first:7.3f} s   writes {max(first_writes):,}")
    print(
        f"  unchanged                    {again:7.3f} s   writes {max(unchanged_writes):,}"
        f"   (target {options.target:g} s, 0 writes)"
    )
    print(f"  ratio to target: {again / options.target:.2f}")
    ok = again <= options.target and max(unchanged_writes) == 0
    ok = ok and min(first_writes) == len(agenda)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
