"""How long plan() takes for large rosters.

Each contact has a tag with a rule (three sliding cadences and one recurring
one), a birthday, and ten touchpoints over the past year and a half (one in
five of them bulk). Building the roster is timed on its own; plan() is run
several times and the median is printed, with the time per contact. The
peak memory printed at the end is the process's peak resident set size
(``ru_maxrss``), building and planning included. Target: under 1.2 GiB
when a million contacts or more were planned; the script prints the ratio
and exits 1 when it is missed.

    python bench/plan.py            # 10,000, 100,000 and 1,000,000 contacts
    python bench/plan.py --quick    # 10,000 and 100,000, fewer runs
    python bench/plan.py --sizes 50000 --repeats 3
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from cadence import Birthday, Contact, Every, Recurring, Roster, Rule, Touchpoint, plan

#: The most a million contacts may take, in GiB of peak resident memory.
PEAK_TARGET = 1.2
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Lord_Howe",
    "Pacific/Apia",
)
RULES = (
    Rule(Every(weeks=2), tag="family"),
    Rule(Every(months=1), tag="client"),
    Rule(Every(months=3), tag="friend"),
    Rule(Recurring("FREQ=MONTHLY;BYDAY=1MO", at=clock(10, 0)), tag="vip"),
)
TAGS = tuple(rule.tag for rule in RULES if rule.tag is not None)
CHANNELS = ("email", "phone", "video", "text")
HISTORY_SECONDS = 540 * 86400


def build(n: int, seed: int = 2026) -> Roster:
    """A roster of ``n`` contacts, the same for the same ``n`` and ``seed``.

    Built as a large store builds one: the touchpoints stream into the
    roster contact by contact, never all held at once.
    """
    rng = random.Random(seed)
    contacts = []
    occasions = []
    for i in range(n):
        cid = f"c{i:07d}"
        contacts.append(
            Contact(
                cid,
                f"Contact {i}",
                timezone=rng.choice(ZONES),
                channel=rng.choice(CHANNELS),
                tags=(rng.choice(TAGS),),
                since=date(2024, 1, 1) + timedelta(days=rng.randrange(600)),
            )
        )
        month, day = rng.randrange(1, 13), rng.randrange(1, 29)
        year = rng.randrange(1940, 2005) if rng.random() < 0.5 else None
        occasions.append(
            Birthday(cid, month, day, year=year, lead=timedelta(days=rng.choice((0, 7))))
        )

    def touchpoints() -> Iterator[Touchpoint]:
        touches = random.Random(seed + 1)
        for contact in contacts:
            for _ in range(10):
                at = NOW - timedelta(seconds=touches.randrange(HISTORY_SECONDS))
                yield Touchpoint(
                    contact.id, at, touches.choice(CHANNELS), personal=touches.random() >= 0.2
                )

    return Roster(contacts, RULES, occasions, touchpoints())


def timed(action: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one call (the CPU time is steadier on a shared machine)."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - start, time.process_time() - cpu


def run(n: int, repeats: int) -> tuple[float, float]:
    """Build ``n`` contacts, plan them ``repeats`` times, print the medians; return build, wall."""
    start = time.perf_counter()
    roster = build(n)
    built = time.perf_counter() - start
    reminders = len(plan(roster, now=NOW))
    runs = [timed(lambda: plan(roster, now=NOW)) for _ in range(repeats)]
    wall = statistics.median(t for t, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    print(
        f"{n:>9,} contacts  build {built:6.1f} s  plan median {wall:6.3f} s wall, {cpu:6.3f} s CPU "
        f"({wall / n * 1e6:5.1f} us/contact wall, {cpu / n * 1e6:5.1f} CPU; {repeats} runs, "
        f"{reminders:,} reminders)",
        flush=True,
    )
    return built, wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 and 100,000 contacts only")
    parser.add_argument("--sizes", help="comma-separated numbers of contacts")
    parser.add_argument("--repeats", type=int, help="runs of plan() per size")
    args = parser.parse_args(argv)
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    elif args.quick:
        sizes = [10_000, 100_000]
    else:
        sizes = [10_000, 100_000, 1_000_000]
    print(f"Python {sys.version.split()[0]}, now = {NOW.isoformat()}, horizon 30 days")
    results = {}
    for n in sizes:
        repeats = args.repeats or (3 if args.quick or n >= 1_000_000 else 5)
        results[n] = run(n, repeats)[1]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    missed = False
    if max(sizes) >= 1_000_000:
        missed = peak > PEAK_TARGET
        verdict = "MISSED" if missed else "ok"
        ratio = peak / PEAK_TARGET
        print(f"peak memory {peak:.2f} GiB (target {PEAK_TARGET} GiB, ratio {ratio:.2f}) {verdict}")
    else:
        print(f"peak memory {peak:.2f} GiB")
    if len(results) > 1:
        first = min(results)
        for n in sorted(results):
            if n != first:
                ratio = results[n] / results[first]
                print(f"plan time {n:,} / {first:,}: x{ratio:.1f} for x{n // first} contacts")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
