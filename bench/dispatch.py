"""How fast ``cadence run`` delivers a large backlog through a jsonl route, planning included.

For each size, a fresh store (SQLite file, and a fresh schema in PostgreSQL)
is filled with contacts that each have a check-in due now, added as an
import adds them (unplanned), and then ``dispatch()`` delivers every due
reminder to a jsonl file (flushed to disk per batch, as by default): the
time counts planning the fresh store, claiming, writing and recording.
Every run checks that each reminder was written once and recorded sent.
The stores take turns, size after size and round after round, so both meet
the same load on a busy machine; figures are medians over rounds.

Targets: 100,000 reminders in under 20 s on SQLite and under 30 s on
PostgreSQL, and linear growth (100,000 taking at most 12x the time of
10,000). Exits non-zero when a target is missed.

    python bench/dispatch.py                 # 10,000 and 100,000, 3 rounds
    python bench/dispatch.py --quick         # 10,000 and 30,000, 1 round (targets scaled)
    python bench/dispatch.py --postgres postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cadence import Contact, Every, Route, Rule, dispatch
from cadence._config import open_store
from cadence._plugins import load_plugins
from cadence.stores import postgresql

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/test"
#: Seconds for 100,000 reminders, per store.
TARGETS = {"sqlite": 20.0, "postgresql": 30.0}
#: The most the largest size may take per reminder, against the smallest.
LINEAR = 1.2


def _drop_schema(url: str, schema: str) -> None:
    import psycopg

    libpq, _ = postgresql.split_url(url)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # a fixed, plain name


def one_run(kind: str, count: int, folder: Path, postgres: str) -> float:
    """Fill a fresh store of ``kind`` with ``count`` due contacts and deliver them all; seconds."""
    plugins = load_plugins()
    if "postgresql" not in plugins.registered("store"):
        plugins.register(postgresql, "postgresql", builtin=True)
    tag = uuid.uuid4().hex[:8]
    schema = f"cadence_bench_{tag}"
    if kind == "sqlite":
        url = f"sqlite:///{folder / f'{tag}.db'}"
    else:
        url = f"{postgres}{'&' if '?' in postgres else '?'}schema={schema}"
    out = folder / f"{tag}.jsonl"
    try:
        with open_store(url, plugins=plugins) as store:
            store.set_rule(Rule(Every(weeks=2)))
            chunk = 20_000
            for start in range(0, count, chunk):
                store.put_contacts(
                    Contact(
                        f"c{i:07}", f"Contact {i}", since=date(2026, 8, 1) + timedelta(days=i % 60)
                    )
                    for i in range(start, min(start + chunk, count))
                )
            started = time.perf_counter()
            report = dispatch(
                store, [Route("jsonl", settings={"path": str(out)})], now=NOW, plugins=plugins
            )
            took = time.perf_counter() - started
            counts = store.ledger_counts()
        lines = out.read_text(encoding="utf-8").count("\n")
        if report.count("sent") != count or lines != count or counts != {"jsonl": {"sent": count}}:
            raise SystemExit(f"{kind}: {count} due, {lines} written, ledger {counts}")
        return took
    finally:
        out.unlink(missing_ok=True)
        if kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{folder / tag}.db{suffix}").unlink(missing_ok=True)
        else:
            _drop_schema(postgres, schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 and 30,000, one round")
    parser.add_argument("--sizes", type=int, nargs="*", help="reminders per run")
    parser.add_argument("--rounds", type=int, help="runs per store and size")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CADENCE_TEST_POSTGRES") or DEFAULT_DB,
        help="PostgreSQL URL; a fresh schema in it is used per run and dropped",
    )
    parser.add_argument("--stores", nargs="*", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    sizes = args.sizes or ([10_000, 30_000] if args.quick else [10_000, 100_000])
    rounds = args.rounds or (1 if args.quick else 3)
    folder = Path(tempfile.mkdtemp(prefix="cadence-bench-"))
    times: dict[tuple[str, int], list[float]] = {}
    for _ in range(rounds):
        for count in sizes:
            for kind in args.stores:
                times.setdefault((kind, count), []).append(
                    one_run(kind, count, folder, args.postgres)
                )
    print(f"median of {rounds} round(s), stores alternated")
    print(f"{'store':>10} {'reminders':>10} {'seconds':>9} {'per second':>11} {'vs target':>10}")
    missed = []
    for kind in args.stores:
        for count in sizes:
            took = statistics.median(times[kind, count])
            # The target scales with the size: 100,000 in TARGETS seconds.
            target = TARGETS[kind] * count / 100_000
            ratio = took / target
            print(f"{kind:>10} {count:>10,} {took:>9.2f} {count / took:>11,.0f} {ratio:>9.2f}x")
            if ratio > 1:
                missed.append(f"{kind} {count:,}: {took:.1f} s, target {target:.1f} s")
        low, high = min(sizes), max(sizes)
        if low != high:
            growth = (statistics.median(times[kind, high]) / high) / (
                statistics.median(times[kind, low]) / low
            )
            print(f"{kind:>10} time per reminder, {high:,} / {low:,}: {growth:.2f}x (<= {LINEAR})")
            if growth > LINEAR:
                missed.append(f"{kind}: not linear ({growth:.2f}x per reminder)")
    if missed:
        print("missed: " + "; ".join(missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
