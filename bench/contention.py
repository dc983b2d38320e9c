"""Many processes on one SQLite store right after a change that makes every plan stale.

Builds a store of N contacts (20,000 by default; the audit used 70,000),
plans them, then sets a new default rule, which makes every plan stale. P
processes (8 by default) then refresh at once, as 8 overlapping ``cadence
run``/``due`` would, while one more process adds a contact, as ``cadence
contact add`` would. Prints how many contacts the processes planned between
them (N means each was planned once), how long the refreshers took, and how
long the contact add waited for the write lock.

    python bench/contention.py --quick                  # 5,000 contacts, 4 processes
    python bench/contention.py
    python bench/contention.py --contacts 70000 --processes 8

The target is one planning per contact between all the processes: it exits 1
when they planned more.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cadence import Contact, Every, Rule
from cadence._config import open_store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

REFRESH = """
import sys, time
from datetime import datetime
from cadence._config import open_store
start = time.perf_counter()
with open_store(sys.argv[1]) as store:
    planned = store.refresh(now=datetime.fromisoformat(sys.argv[2]))
print(planned, time.perf_counter() - start)
"""

ADD = """
import sys, time
from cadence import Contact
from cadence._config import open_store
with open_store(sys.argv[1]) as store:
    start = time.perf_counter()
    store.put_contact(Contact("newcomer", "Newcomer"))
    print(time.perf_counter() - start)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 contacts, 4 processes")
    parser.add_argument("--contacts", type=int, default=None, help="default 20,000")
    parser.add_argument("--processes", type=int, default=None, help="default 8")
    args = parser.parse_args()
    args.contacts = args.contacts or (5_000 if args.quick else 20_000)
    args.processes = args.processes or (4 if args.quick else 8)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'cadence.db'}"
        with open_store(url) as store:
            store.put_contacts(Contact(f"c{i:06}", f"Person {i}") for i in range(args.contacts))
            store.set_rule(Rule(Every(weeks=2)))
            store.refresh(now=NOW)
            store.set_rule(Rule(Every(weeks=3)))  # every plan is stale again
        start = time.perf_counter()
        refreshers = [
            subprocess.Popen(
                [sys.executable, "-c", REFRESH, url, NOW.isoformat()],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(args.processes)
        ]
        time.sleep(0.5)  # let the refreshers start before the writer comes
        adder = subprocess.run(
            [sys.executable, "-c", ADD, url], capture_output=True, text=True, check=True
        )
        results = [p.communicate()[0].split() for p in refreshers]
        elapsed = time.perf_counter() - start
    planned = sum(int(count) for count, _ in results)
    print(f"{args.contacts} contacts, {args.processes} processes refreshing at once")
    print(f"  contacts planned between them: {planned} ({planned / args.contacts:.2f} per contact)")
    print(
        f"  slowest refresher: {max(float(s) for _, s in results):.2f} s; all done {elapsed:.2f} s"
    )
    print(f"  a contact added meanwhile waited {float(adder.stdout):.2f} s")
    ratio = planned / args.contacts
    print(f"  plannings per contact: {ratio:.2f} (target 1.00): {'ok' if ratio <= 1 else 'MISSED'}")
    return 0 if ratio <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
