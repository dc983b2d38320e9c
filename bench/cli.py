"""How fast the command line starts: `cadence --help` and `cadence due` against `python -c pass`.

A store of 100 contacts (a cadence rule each, a few of them due) is made
and planned once; then ``python -c pass``, ``cadence --help`` and
``cadence due`` run in turn, round after round, so all three meet the same
load on a busy machine. Prints the median wall time of each and its ratio to
``python -c pass``; the target is 6x or less for both commands, and the
script exits non-zero when one is missed.

    python bench/cli.py            # 21 rounds
    python bench/cli.py --quick    # 7 rounds
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cadence import Contact, Every, Rule
from cadence._config import open_store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
#: The most each command may take, in times ``python -c pass``.
TARGET = 6.0


def fill(url: str, count: int) -> None:
    """``count`` contacts with a monthly cadence, begun over the last ten weeks, planned."""
    with open_store(url) as store:
        store.put_contacts(
            Contact(f"c{i:04}", f"Contact {i}", since=date(2026, 9, 14) + timedelta(days=i % 70))
            for i in range(count)
        )
        store.set_rule(Rule(Every(months=1)))
        store.refresh(now=NOW, within=timedelta(days=7))


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="7 rounds instead of 21")
    parser.add_argument("--contacts", type=int, default=100, help="contacts in the store")
    args = parser.parse_args()
    rounds = 7 if args.quick else 21
    folder = Path(tempfile.mkdtemp(prefix="cadence-bench-"))
    url = f"sqlite:///{folder / 'cli.db'}"
    fill(url, args.contacts)
    env = {**os.environ, "CADENCE_DB": url}
    cadence = [sys.executable, "-m", "cadence"]
    contenders = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "cadence --help": [*cadence, "--help"],
        "cadence due": [*cadence, "--now", NOW.isoformat(), "due"],
    }
    for command in contenders.values():  # first runs fill the OS's caches, untimed
        timed(command, env)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for number in range(rounds):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(timed(contenders[name], env))
    base = statistics.median(times["python -c pass"])
    print(f"median of {rounds} rounds, contenders alternated; {args.contacts} contacts")
    missed = False
    for name, found in times.items():
        median = statistics.median(found)
        ratio = median / base
        verdict = ""
        if name != "python -c pass":
            verdict = f"  ({ratio / TARGET:.2f} of the {TARGET:g}x target)"
            missed |= ratio > TARGET
        print(f"  {name:<16} {median * 1000:8.1f} ms  {ratio:5.1f}x{verdict}")
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
