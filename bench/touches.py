"""How long the imap touch source takes on a large mailbox, against a real Dovecot.

Starts Dovecot on 127.0.0.1 (as the tests do), writes N messages with the
headers real mail carries (Received, DKIM, MIME, lists) from a few hundred
contacts straight into the Maildir (70% INBOX, 30% Sent, over the last 300
days), lets Dovecot index them, and times:

- the first sync (``touch_changes({})``: every header of the last year
  fetched and read), the first run with Dovecot's header cache cold;
- a re-sync after 10 new messages arrived (5 in INBOX, 5 in Sent).

Prints the median of each, messages read per second, the process's peak
memory (ru_maxrss), the ratio of each to its target, and exits 1 when the
cold first sync or the re-sync misses its target.

    python bench/touches.py                 # 50,000 messages; targets 30 s and 1 s
    python bench/touches.py --quick         # 5,000 messages, targets scaled (3 s, 1 s)
    python bench/touches.py --messages 100000 --runs 5
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _dovecot import PASSWORD, USER, Dovecot, start_dovecot, stop_dovecot  # the tests' server
from cadence.sources.imap import ImapSource, imap

PASSWORD_ENV = "BENCH_IMAP_PASSWORD"  # noqa: S105  # the variable's name, no secret
CONTACTS = 300
NEW = 10


def _contacts(count: int) -> list[tuple[str, str]]:
    firms = ["client", "studio", "partner", "agency", "legal", "clinic", "example"]
    return [
        (f"Person {n}", f"person{n}@{firms[n % len(firms)]}{n % 23}.example") for n in range(count)
    ]


def message(n: int, when: datetime, sent: bool, people: list[tuple[str, str]]) -> bytes:
    """One message as it lands in a mailbox: a routing header, a body of a few lines."""
    rng = random.Random(n)
    name, address = rng.choice(people)
    newsletter = not sent and n % 10 == 0
    if newsletter:
        sender = f'"Weekly {n % 7}" <news{n % 7}@lists.example>'
        to = USER
    elif sent:
        sender = f"Ana <{USER}>"
        to = f'"{name}" <{address}>'
    else:
        sender = f'"{name}" <{address}>'
        to = f"Ana <{USER}>"
    lines = [
        f"Return-Path: <{address}>",
        f"Received: from mx{n % 5}.example ([192.0.2.{n % 250}]) by mail.example.org "
        f"with ESMTPS id {n:x}; {format_datetime(when)}",
        f"Received: from client.example by mx{n % 5}.example; {format_datetime(when)}",
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example; s=s1; "
        f"h=from:to:subject:date:message-id; bh={'A' * 44}; b={'B' * 340}",
        f"Message-ID: <{n}.{rng.getrandbits(40):x}@mail.example>",
        f"Date: {format_datetime(when)}",
        f"From: {sender}",
        f"To: {to}",
    ]
    if rng.random() < 0.2:
        other = rng.choice(people)
        lines.append(f'Cc: "{other[0]}" <{other[1]}>')
    lines += [
        f"Subject: {'Re: ' if n % 3 else ''}project update {n % 97}",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
    ]
    if newsletter:
        lines += [
            f"List-Id: Weekly {n % 7} <weekly{n % 7}.lists.example>",
            "List-Unsubscribe: <mailto:leave@lists.example>",
            "Precedence: bulk",
        ]
    body = "\n".join(f"Line {i} of the message, as people write them." for i in range(20 + n % 40))
    return ("\n".join(lines) + "\n\n" + body + "\n").encode()


def fill(server: Dovecot, count: int, now: datetime) -> None:
    """Write ``count`` messages into INBOX (70%) and Sent (30%), then let Dovecot index them."""
    people = _contacts(CONTACTS)

    def folder(sent: bool) -> Iterator[tuple[bytes, float]]:
        for n in range(count):
            if (n % 10 < 3) != sent:
                continue
            when = now - timedelta(days=300 * (count - n) / count, minutes=n % 60)
            yield message(n, when, sent, people), when.timestamp()

    server.write_maildir("INBOX", folder(False))
    server.write_maildir("Sent", folder(True))
    with server.client() as client:
        for name in ("INBOX", "Sent"):
            client.select_folder(name, readonly=True)


def source(server: Dovecot) -> ImapSource:
    """The imap source of ana's mailbox."""
    return imap(
        host=server.host,
        port=server.port,
        security="none",
        username=USER,
        password_env=PASSWORD_ENV,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--target", type=float, default=30.0, help="seconds, first sync")
    parser.add_argument("--resync-target", type=float, default=1.0, help="seconds, re-sync")
    parser.add_argument("--quick", action="store_true", help="5,000 messages, targets scaled")
    options = parser.parse_args()
    count, runs, target = options.messages, options.runs, options.target
    if options.quick:
        count, target = 5_000, options.target * 5_000 / options.messages
    os.environ[PASSWORD_ENV] = PASSWORD
    now = datetime.now(UTC)
    server = start_dovecot()
    try:
        started = time.perf_counter()
        fill(server, count, now)
        filled = time.perf_counter() - started
        firsts: list[float] = []
        state: dict[str, str] = {}
        for _ in range(runs):
            reader = source(server)
            start = time.perf_counter()
            changes = reader.touch_changes({}, now=now)
            firsts.append(time.perf_counter() - start)
            assert len(changes.items) == count, (len(changes.items), count)
            state = dict(changes.state or {})
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        resyncs = []
        people = _contacts(CONTACTS)
        for run in range(runs):
            for k in range(NEW):
                n = count + run * NEW + k
                sent = k % 2 == 1
                server.append(
                    "Sent" if sent else "INBOX",
                    message(n, datetime.now(UTC), sent, people),
                    arrived=datetime.now(UTC),
                )
            reader = source(server)
            start = time.perf_counter()
            changes = reader.touch_changes(state, now=datetime.now(UTC))
            resyncs.append(time.perf_counter() - start)
            assert len(changes.items) == NEW, len(changes.items)
            state = dict(changes.state or {})
    finally:
        stop_dovecot(server)
    cold, first, resync = firsts[0], statistics.median(firsts), statistics.median(resyncs)
    print(f"imap touch source, {count:,} messages on Dovecot (Maildir), median of {runs} runs:")
    print(f"  mailbox written and indexed         {filled:7.2f} s")
    print(f"  first sync, header cache cold       {cold:7.2f} s   (target {target:g} s)")
    print(f"  first sync, median                  {first:7.2f} s")
    print(f"  re-sync after {NEW} new messages      {resync:7.3f} s   ", end="")
    print(f"(target {options.resync_target:g} s)")
    print(f"  messages read a second (cold)       {count / cold:9,.0f}")
    print(f"  peak memory (ru_maxrss)             {peak / 1024:7.1f} MB")
    print(
        f"  ratio to target: {cold / target:.2f} (first sync), "
        f"{resync / options.resync_target:.2f} (re-sync)"
    )
    return 0 if cold <= target and resync <= options.resync_target else 1


if __name__ == "__main__":
    sys.exit(main())
