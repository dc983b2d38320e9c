"""How long the carddav source takes on a large address book, against a real Radicale.

Starts Radicale on 127.0.0.1 (as the tests do), stores an address book of
N cards in the shape phones write them, and times, each a few times:

- a first sync (empty state: every card read and parsed),
- an unchanged sync with the sync token (RFC 6578),
- an unchanged sync comparing ETags (no sync token: PROPFIND of every ETag),
- a sync after one card changed, with the sync token,
- ``cadence sync`` end to end, as a user runs it (a new process, a SQLite
  store holding the N contacts, the source's state read and compared),
  with nothing changed.

Prints the median of each and exits 1 when the unchanged sync with the token,
or the unchanged ``cadence sync`` end to end, takes longer than the target.

    python bench/carddav_sync.py                # 5,000 cards, 5 runs, target 2 s
    python bench/carddav_sync.py --quick        # 500 cards, 3 runs
    python bench/carddav_sync.py --cards 20000 --target 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _radicale import USERS, start_radicale  # the tests' server helper
from cadence.sources.carddav import CardDavSource


def card(n: int, name: str = "") -> str:
    """One card as an iPhone writes it: grouped email, phone, birthday, organization."""
    return (
        "BEGIN:VCARD\nVERSION:3.0\nPRODID:-//Apple Inc.//iPhone OS 17.4//EN\n"
        f"N:Person{n};{name or 'Ana'};;;\nFN:{name or 'Ana'} Person{n}\nORG:Firm {n % 97};\n"
        f"item1.EMAIL;type=INTERNET;type=pref:p{n}@example.org\nitem1.X-ABLabel:_$!<Work>!$_\n"
        f"TEL;type=CELL;type=VOICE;type=pref:+1 555 01{n % 100:02}\n"
        f"BDAY;VALUE=date:19{60 + n % 40}-{1 + n % 12:02}-{1 + n % 28:02}\n"
        f"CATEGORIES:tier-{n % 3}\nUID:bench-{n:06}\nEND:VCARD\n"
    )


T = TypeVar("T")


def timed(runs: int, setup: Callable[[], T], action: Callable[[T], object]) -> float:
    """The median of ``runs`` timings of ``action(setup())``, setup not counted."""
    times = []
    for _ in range(runs):
        prepared = setup()
        start = time.perf_counter()
        action(prepared)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--target", type=float, default=2.0, help="seconds, unchanged sync")
    parser.add_argument("--quick", action="store_true", help="500 cards, 3 runs")
    options = parser.parse_args()
    cards, runs = (500, 3) if options.quick else (options.cards, options.runs)
    with tempfile.TemporaryDirectory() as folder:
        server = start_radicale(Path(folder))
        try:
            book = server.make_book("bench")
            # One PUT of the whole address book: Radicale splits it into one resource a card.
            server.put_book(book, "".join(card(n) for n in range(cards)))
            auth = ("ana", USERS["ana"])

            def source(sync: bool = True) -> CardDavSource:
                return CardDavSource(book, auth=auth, sync_collection=sync)

            # Radicale caches what it parsed of each card on first read: warm it.
            state = dict(source().contact_changes({}).state or {})
            first = timed(runs, source, lambda s: s.contact_changes({}))
            unchanged = timed(runs, source, lambda s: s.contact_changes(state))
            tokenless = {k: v for k, v in state.items() if k != "token"}
            by_etags = timed(
                runs,
                lambda: source(sync=False),
                lambda s: s.contact_changes(tokenless),
            )

            def one_changed() -> CardDavSource:
                server.put_card(book, "bench-000001.vcf", card(1, name=f"Bo{time.time_ns()}"))
                return source()

            changed = timed(runs, one_changed, lambda s: s.contact_changes(state))
            command = _command(Path(folder), book)
            first_cli = _run(command)
            assert "new" in first_cli, first_cli
            cli = timed(runs, lambda: command, _run)
        finally:
            server.stop()
    print(f"carddav sync of {cards} cards on Radicale, median of {runs} runs:")
    print(f"  first sync (every card)        {first:7.3f} s")
    print(f"  unchanged, sync token          {unchanged:7.3f} s   (target {options.target:g} s)")
    print(f"  unchanged, ETags compared      {by_etags:7.3f} s")
    print(f"  one card changed, sync token   {changed:7.3f} s")
    print(f"  cadence sync, unchanged        {cli:7.3f} s   (target {options.target:g} s)")
    print(
        f"  ratio to target: {unchanged / options.target:.2f} (source), "
        f"{cli / options.target:.2f} (cadence sync)"
    )
    return 0 if max(unchanged, cli) <= options.target else 1


def _command(folder: Path, book: str) -> tuple[list[str], dict[str, str]]:
    """``cadence sync`` of ``book`` into a store of its own, and its environment."""
    config = folder / "cadence.toml"
    config.write_text(
        f'[[sources]]\nsource = "carddav"\nurl = "{book}"\nusername = "ana"\n'
        'password_env = "BENCH_CARDDAV_PASSWORD"\n',
        encoding="utf-8",
    )
    env = dict(
        os.environ,
        CADENCE_DB=f"sqlite:///{folder / 'cadence.db'}",
        CADENCE_CONFIG=str(config),
        BENCH_CARDDAV_PASSWORD=USERS["ana"],
    )
    return [sys.executable, "-m", "cadence", "sync"], env


def _run(command: tuple[list[str], dict[str, str]]) -> str:
    args, env = command
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return done.stdout


if __name__ == "__main__":
    sys.exit(main())
