"""How fast `cadence serve` answers feed polls over real HTTP, with 10,000 reminders.

Fills a SQLite store (in a temporary folder) through the public import API
with ``--contacts`` contacts (10,000 by default), a monthly cadence for
everyone and a personal touchpoint for each within the last 50 days, so
that the 30-day feed holds one reminder per contact. It runs
``cadence serve`` on that store, as its own process, with the moment
pinned by ``--now`` (the feed then changes only when the store does), and
asks for ``/feed.ics`` over HTTP, alternating in each round:

- a conditional poll with the current ETag (a 304),
- a plain GET of the unchanged feed (a 200 from what the server keeps),
- a GET right after another process logged a touchpoint (a cold 200: the
  feed read and rendered again), every ``--cold-every`` rounds.

Then ``--pollers`` clients poll at once, each on its own connection, with
and without the ETag, for ``--bursts`` bursts, while touches keep coming.

Prints p50 and p95 of each kind and their ratio to the targets (304 under
5 ms, 200 from memory under 50 ms; the cold 200 has none), and how many
answers of the pollers were wrong or failed (target: none).

    python bench/serve.py --quick     # 1,000 contacts, 30 rounds, 2 bursts
    python bench/serve.py             # 10,000 contacts, 60 rounds, 5 bursts

Exits 1 when a target is missed or any answer is wrong.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cadence import Contact, ImportBatch, Rule, Touchpoint, open_store, parse_cadence
from cadence.web.feed import new_token

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TARGET_304 = 0.005
TARGET_200 = 0.050
ZONES = ("Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata", "Australia/Sydney")
TAGS = ("retainer", "clients", "friends", "card-list")


def _fill(url: str, contacts: int) -> None:
    rng = random.Random(3)
    with open_store(url) as store:
        for first in range(0, contacts, 2000):
            people = []
            touches = []
            for i in range(first, min(first + 2000, contacts)):
                ident = f"c{i:05}"
                people.append(
                    Contact(
                        ident,
                        f"Contact {i}",
                        timezone=ZONES[i % len(ZONES)],
                        tags=[TAGS[i % len(TAGS)]],
                        added=date(2025, 6, 1),
                    )
                )
                touches.append(Touchpoint(ident, NOW - timedelta(days=rng.uniform(1, 50))))
            rules = [Rule(parse_cadence("monthly"))] if first == 0 else []
            store.import_batch(ImportBatch(people, rules, (), touches))


def _get(port: int, target: str, etag: str | None = None) -> tuple[float, int, str, bytes]:
    began = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        connection.request("GET", target, headers={"If-None-Match": etag} if etag else {})
        response = connection.getresponse()
        body = response.read()
        return time.perf_counter() - began, response.status, response.getheader("ETag") or "", body
    finally:
        connection.close()


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Toucher:
    """Logs a personal touchpoint for the next contact, from a connection of its own."""

    def __init__(self, url: str, contacts: int) -> None:
        self.store = open_store(url)
        self.contacts = contacts
        self.n = 0

    def touch(self) -> None:
        self.n += 1
        at = NOW - timedelta(minutes=self.n)
        self.store.log(Touchpoint(f"c{(self.n * 7919) % self.contacts:05}", at))


def _serve(url: str, token: str, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    env = {**os.environ, "CADENCE_DB": url, "CADENCE_CONFIG": "", "CADENCE_FEED_TOKEN": token}
    out = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "cadence", "--now", NOW.isoformat(), "serve", "--port", "0"],
        env=env,
        stdout=out,
        stderr=out,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = re.search(rb"http://127\.0\.0\.1:(\d+)/feed\.ics", log.read_bytes())
        if found:
            return process, int(found.group(1))
        if process.poll() is not None:
            raise SystemExit(f"cadence serve stopped: {log.read_text(errors='replace')}")
        time.sleep(0.05)
    process.kill()
    raise SystemExit("cadence serve did not start within 120 s")


def _poll(
    port: int, target: str, etag: str | None, start: threading.Barrier, found: list[object], i: int
) -> None:
    start.wait()
    try:
        found[i] = _get(port, target, etag)
    except OSError as error:
        found[i] = error


def _pollers(
    port: int, target: str, pollers: int, bursts: int, toucher: Toucher
) -> tuple[int, int, list[float]]:
    """Bursts of ``pollers`` clients at once while touches come; (answers, wrong, times)."""
    wrong = 0
    answered = 0
    times: list[float] = []
    lock = threading.Lock()
    for _ in range(bursts):
        _, _, etag, body = _get(port, target)
        start = threading.Barrier(pollers)
        found: list[object] = [None] * pollers
        workers = [
            threading.Thread(
                target=_poll, args=(port, target, etag if i % 2 else None, start, found, i)
            )
            for i in range(pollers)
        ]
        for worker in workers:
            worker.start()
        toucher.touch()  # the store changes while they poll
        for worker in workers:
            worker.join()
        _, _, last_etag, last = _get(port, target)
        with lock:
            for result in found:
                if not isinstance(result, tuple):
                    wrong += 1
                    continue
                took, status, got, answer = result
                times.append(took)
                answered += 1
                good = (status == 304 and got == etag) or (
                    status == 200 and (got, answer) in ((etag, body), (last_etag, last))
                )
                wrong += not good
    return answered, wrong, times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 contacts, 30 rounds")
    parser.add_argument("--contacts", type=int, default=None, help="default 10,000")
    parser.add_argument("--rounds", type=int, default=None, help="default 60")
    parser.add_argument("--cold-every", type=int, default=None, help="default 10 (quick: 5)")
    parser.add_argument("--pollers", type=int, default=50)
    parser.add_argument("--bursts", type=int, default=None, help="default 5 (quick: 2)")
    args = parser.parse_args()
    contacts = args.contacts or (1000 if args.quick else 10_000)
    rounds = args.rounds or (30 if args.quick else 60)
    cold_every = args.cold_every or (5 if args.quick else 10)
    bursts = args.bursts or (2 if args.quick else 5)

    token = new_token()
    target = f"/feed.ics?token={token}"
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'cadence.db'}"
        began = time.perf_counter()
        _fill(url, contacts)
        with open_store(url) as store:
            reminders = len(store.agenda(now=NOW, within=timedelta(days=30)))
        print(
            f"{contacts:,} contacts, {reminders:,} reminders in the 30-day feed; "
            f"filled and planned in {time.perf_counter() - began:.1f} s"
        )
        server, port = _serve(url, token, Path(folder) / "serve.log")
        toucher = Toucher(url, contacts)
        try:
            took, status, etag, body = _get(port, target)
            print(f"first answer: {status}, {len(body):,} bytes in {took * 1000:.0f} ms")
            times: dict[str, list[float]] = {"304": [], "200 kept": [], "200 cold": []}
            wrong = status != 200
            for number in range(rounds):
                if number % cold_every == 0:
                    toucher.touch()
                    took, status, new_etag, new_body = _get(port, target)
                    wrong += status != 200 or new_etag == etag or new_body == body
                    times["200 cold"].append(took)
                    etag, body = new_etag, new_body
                took, status, got, answer = _get(port, target, etag)
                wrong += status != 304 or got != etag or answer != b""
                times["304"].append(took)
                took, status, got, answer = _get(port, target)
                wrong += status != 200 or got != etag or answer != body
                times["200 kept"].append(took)
            answered, bad, polled = _pollers(port, target, args.pollers, bursts, toucher)
        finally:
            toucher.store.close()
            server.terminate()
            server.wait(30)
    missed = bool(wrong) or bool(bad)
    print(f"{rounds} rounds, kinds alternating; a touch logged before each cold 200")
    for name, found in times.items():
        p50, p95 = statistics.median(found), _p95(found)
        goal = {"304": TARGET_304, "200 kept": TARGET_200}.get(name)
        if goal is None:
            verdict = "(no target)"
        else:
            ok = p50 <= goal and p95 <= goal
            missed |= not ok
            verdict = (
                f"target {goal * 1000:.0f} ms, ratio p50 {p50 / goal:.2f} p95 {p95 / goal:.2f}  "
                + ("ok" if ok else "MISSED")
            )
        print(
            f"  {name:9} n={len(found):3}  p50 {p50 * 1000:8.1f} ms  p95 {p95 * 1000:8.1f} ms  "
            f"{verdict}"
        )
    print(
        f"{args.pollers} pollers at once, {bursts} bursts while touches came: "
        f"{answered} answered, {bad} wrong or failed (target 0); "
        f"p50 {statistics.median(polled) * 1000:.1f} ms, p95 {_p95(polled) * 1000:.1f} ms  "
        + ("ok" if not bad else "MISSED")
    )
    if wrong:
        print(f"{wrong} sequential answers were wrong: MISSED")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
