"""How fast ``cadence due`` answers on large stores: the indexed next-due table at work.

Builds stores of 10,000, 100,000 and 1,000,000 contacts through the public
import path (``store.import_batch``, as ``cadence import`` does), each
contact with a tier rule, a birthday and a personal touch, and ``--due`` of
them (50 by default, a screenful) due now; plans them once, and then times
what ``cadence due`` does (its default week ahead): ``store.agenda(now,
within=7d)`` in process, and the whole command in a subprocess. Prints
medians. SQLite files by default; with ``--postgres URL``, a fresh schema per
size in that database (dropped afterwards).

Target: on PostgreSQL, ``cadence due`` at 1,000,000 contacts in under
0.35 s; the script exits 1 when a measured size of a million or more misses
it. A screenful is what the command is for: with a quarter of the roster
due, the time goes to printing rows, not to finding them.

    python bench/due.py            # 10k, 100k and 1M contacts
    python bench/due.py --quick    # 10k and 100k, fewer repeats
    python bench/due.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python bench/due.py --postgres URL --keep   # fill each size's schema once, reuse it

With ``--keep`` the schemas stay after the run and a later run with
``--keep`` measures them again without filling them (a 1M store takes many
minutes to fill); a schema that does not hold exactly the size is filled anew.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cadence import Birthday, Contact, Every, ImportBatch, Rule, Touchpoint
from cadence._config import open_store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
#: Seconds ``cadence due`` may take on PostgreSQL at a million contacts.
TARGET = 0.35
ZONES = ("Europe/Madrid", "America/New_York", "Asia/Kolkata", "UTC", "Australia/Sydney")


WEEK = timedelta(days=7)


def build(url: str, count: int, due_now: int) -> float:
    """Import ``count`` contacts into a store and plan them; returns seconds spent planning."""
    rng = random.Random(count)
    with open_store(url) as store:
        chunk = 20_000
        for start in range(0, count, chunk):
            ids = [f"c{i:07}" for i in range(start, min(start + chunk, count))]
            contacts = [
                Contact(ident, f"Person {ident}", timezone=ZONES[i % len(ZONES)], tags=["client"])
                for i, ident in enumerate(ids, start)
            ]
            touches = [
                Touchpoint(
                    ident,
                    NOW - timedelta(days=100 if i < due_now else rng.uniform(1, 60)),
                    "phone",
                )
                for i, ident in enumerate(ids, start)
            ]
            # Birthdays in March and April: outside a week's window, like most of a real roster.
            birthdays = [
                Birthday(ident, 3 + i % 2, 1 + i % 28) for i, ident in enumerate(ids, start)
            ]
            rules = [Rule(Every(months=3), tag="client")] if start == 0 else []
            store.import_batch(ImportBatch(contacts, rules, birthdays, touches))
        started = time.perf_counter()
        planned = store.refresh(now=NOW)
        assert planned == count
        return time.perf_counter() - started


def _filled(url: str, schema: str, count: int) -> bool:
    """Whether ``schema`` holds a store of ``count`` contacts, all planned."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name = 'plan_state'",
            (schema,),
        ).fetchone()
        if found is None:
            return False
        # A fixed, plain name: the schema is the bench's own.
        (contacts,) = conn.execute(f'SELECT count(*) FROM "{schema}".contacts').fetchone()
        (planned,) = conn.execute(f'SELECT count(*) FROM "{schema}".plan_state').fetchone()
    return bool(contacts == planned == count)


def _drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # a fixed, plain name


def median_of(runs: int, action) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k contacts, fewer repeats")
    parser.add_argument("--sizes", type=int, nargs="*", help="store sizes to measure")
    parser.add_argument("--postgres", metavar="URL", help="measure PostgreSQL at this URL")
    parser.add_argument(
        "--keep", action="store_true", help="with --postgres: keep the schemas, reuse filled ones"
    )
    parser.add_argument(
        "--due", type=int, default=50, help="how many contacts are due now (default 50)"
    )
    args = parser.parse_args()
    sizes = args.sizes or ([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    repeats = 5 if args.quick else 9
    folder = Path(tempfile.mkdtemp(prefix="cadence-bench-"))
    results = {}
    missed = False
    print(
        f"{'contacts':>10} {'build+plan s':>13} {'agenda() ms':>12} "
        f"{'cadence due ms':>15} {'due rows':>9}"
    )
    for count in sizes:
        path = folder / f"{count}.db"
        schema = f"cadence_bench_{count}"
        reuse = False
        if args.postgres:
            reuse = args.keep and _filled(args.postgres, schema, count)
            if not reuse:
                _drop_schema(args.postgres, schema)
            sep = "&" if "?" in args.postgres else "?"
            url = f"{args.postgres}{sep}schema={schema}"
        else:
            url = f"sqlite:///{path}"
        started = time.perf_counter()
        planning = 0.0 if reuse else build(url, count, args.due)
        building = time.perf_counter() - started
        with open_store(url) as store:
            rows = len(store.agenda(now=NOW, within=WEEK))
            # The lambda is called at once, inside this block.
            in_process = median_of(repeats, lambda: store.agenda(now=NOW, within=WEEK))
        env = {**os.environ, "CADENCE_DB": url}
        command = [
            sys.executable,
            "-m",
            "cadence",
            "--now",
            NOW.isoformat(),
            "due",
        ]
        whole = median_of(
            repeats,
            lambda: subprocess.run(command, env=env, check=True, capture_output=True),  # noqa: B023
        )
        results[count] = (in_process, whole)
        print(
            f"{count:>10,} {building:>13.1f} {in_process * 1000:>12.2f} {whole * 1000:>15.1f} "
            f"{rows:>9}   (planning alone {planning:.1f} s)"
        )
        if args.postgres and count >= 1_000_000:
            ratio = whole / TARGET
            verdict = "ok" if ratio <= 1 else "missed"
            print(f"{'':>10} cadence due against {TARGET} s: {ratio:.2f}  {verdict}")
            missed = missed or ratio > 1
        if args.postgres:
            if not args.keep:
                _drop_schema(args.postgres, schema)
        else:
            path.unlink()
    smallest, largest = min(results), max(results)
    if smallest != largest:
        ratio_in = results[largest][0] / results[smallest][0]
        ratio_whole = results[largest][1] / results[smallest][1]
        print(
            f"ratio {largest:,} / {smallest:,}: agenda() {ratio_in:.2f}x, "
            f"cadence due {ratio_whole:.2f}x"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
