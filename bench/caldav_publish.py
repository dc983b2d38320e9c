"""How long the caldav adapter takes to publish an agenda into a real Radicale calendar.

Starts Radicale on 127.0.0.1 (as the tests do, at the info level so that it
logs each request), then, in each round, publishes N reminders (check-ins in
eight zones, occasions, lead times, overdue ones) into a new, empty calendar
with a new SQLite ledger, and publishes the same agenda again, unchanged: once
to catch up (the sync token kept by the first publish is the empty
calendar's, so the server names every event once), then a few times from the
sync token, alternating with as many runs whose token was dropped (each
lists the whole calendar, as a first run or a server without sync does).
Each publish builds its adapter anew, as a dispatch run does.
Writes (PUT, DELETE) are counted from the server's log; the time spent
waiting for the server's answers is shown beside each median (Radicale's
cost of a PUT grows with the size of the calendar, so most of a first
publish is the server's).

Prints the median of each and the ratio of the unchanged publish from the
sync token to its target, and exits 1 when it is slower than the target or
when any unchanged publish sends a write.

    python bench/caldav_publish.py              # 2,000 reminders, 1 first, 3 + 3 unchanged
    python bench/caldav_publish.py --quick      # 200 reminders
    python bench/caldav_publish.py --size 5000 --rounds 2 --again 5 --target 2
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


def publish(url: str, agenda: Agenda, store: SqliteStore) -> tuple[float, float]:
    """Seconds to build the adapter and publish ``agenda``, and of those, waiting for answers."""
    waited: list[float] = []
    start = time.perf_counter()
    adapter = caldav_adapter(url=url, username="ana", password_env=PASSWORD_ENV)
    # Each answer's elapsed time: from sending the request to reading its headers.
    adapter._http.session.hooks["response"].append(
        lambda answer, *_, **__: waited.append(answer.elapsed.total_seconds())
    )
    try:
        notes = adapter.publish(agenda, ledger=PublishLedger(store, "bench"))
    finally:
        adapter.close()
    took = time.perf_counter() - start
    assert notes == [], notes
    return took, sum(waited)


def line(label: str, runs: list[tuple[float, float]], wrote: list[int], extra: str = "") -> str:
    took = statistics.median(t for t, _ in runs)
    waited = statistics.median(w for _, w in runs)
    return (
        f"  {label:34s} {took:8.3f} s   writes {max(wrote):,}"
        f"   (waiting for the server {waited:.3f} s{extra})"
    )


def writes(server: Radicale, before: dict[str, int]) -> int:
    seen = server.requests_seen("cadence/")
    return sum(seen[m] - before.get(m, 0) for m in WRITES)


def reads(server: Radicale, before: dict[str, int]) -> tuple[int, int]:
    """The PROPFINDs and REPORTs sent since ``before``."""
    seen = server.requests_seen("cadence/")
    return seen["PROPFIND"] - before.get("PROPFIND", 0), seen["REPORT"] - before.get("REPORT", 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2000, help="how many reminders")
    parser.add_argument(
        "--rounds", type=int, default=1, help="first publishes, each into a new calendar"
    )
    parser.add_argument("--again", type=int, default=3, help="unchanged publishes after each first")
    parser.add_argument("--target", type=float, default=1.0, help="seconds, unchanged publish")
    parser.add_argument("--quick", action="store_true", help="200 reminders")
    options = parser.parse_args()
    size = 200 if options.quick else options.size
    agenda = Agenda(build(size), now=NOW, horizon=timedelta(days=31))
    os.environ[PASSWORD_ENV] = USERS["ana"]
    firsts: list[tuple[float, float]] = []
    catch_up: list[tuple[float, float]] = []
    synced: list[tuple[float, float]] = []
    listed: list[tuple[float, float]] = []
    first_writes: list[int] = []
    catch_up_writes: list[int] = []
    synced_writes: list[int] = []
    listed_writes: list[int] = []
    synced_reads: set[tuple[int, int]] = set()
    with tempfile.TemporaryDirectory() as folder:
        server = start_radicale(Path(folder), level="info")
        try:
            for round_ in range(options.rounds):
                url = server.make_calendar(f"Bench {round_}")
                with SqliteStore(f"sqlite:///{Path(folder) / f'ledger-{round_}.db'}") as store:
                    before = server.requests_seen("cadence/")
                    firsts.append(publish(url, agenda, store))
                    first_writes.append(writes(server, before))
                    before = server.requests_seen("cadence/")
                    catch_up.append(publish(url, agenda, store))
                    catch_up_writes.append(writes(server, before))
                    for _ in range(options.again):
                        before = server.requests_seen("cadence/")
                        synced.append(publish(url, agenda, store))
                        synced_writes.append(writes(server, before))
                        synced_reads.add(reads(server, before))
                        # Without a token the run lists the calendar, and keeps a new token.
                        PublishLedger(store, "bench").keep_sync_token(url, None)
                        before = server.requests_seen("cadence/")
                        listed.append(publish(url, agenda, store))
                        listed_writes.append(writes(server, before))
                server.drop_book(url)
        finally:
            server.stop()
    again = statistics.median(t for t, _ in synced)
    print(
        f"caldav publish of {len(agenda):,} reminders into Radicale: {options.rounds} first "
        f"publishes, {len(catch_up)} catching up, {len(synced)} + {len(listed)} unchanged, medians:"
    )
    print(line("first publish (every event)", firsts, first_writes))
    print(line("unchanged, catching up the token", catch_up, catch_up_writes))
    target = f"; target {options.target:g} s, 0 writes"
    print(line("unchanged, from the sync token", synced, synced_writes, target))
    print(line("unchanged, listing (no token)", listed, listed_writes))
    asked = ", ".join(f"{p} PROPFIND + {r} REPORT" for p, r in sorted(synced_reads))
    print(f"  each run from the sync token sent {asked} (finding the calendar, its changes)")
    print(f"  ratio to target: {again / options.target:.2f}")
    ok = again <= options.target
    ok = ok and max(catch_up_writes + synced_writes + listed_writes) == 0
    ok = ok and min(first_writes) == len(agenda)
    ok = ok and synced_reads == {(1, 1)}
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
