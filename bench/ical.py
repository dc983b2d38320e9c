"""How much cadence's to_ical() adds to the icalendar library it is built on.

Renders 10,000 reminders (check-ins in eight zones, occasions, lead times with
alarms, overdue ones moved to today) with ``cadence.to_ical`` and with a
minimal loop that builds the same events with icalendar directly: the same
properties, the same VTIMEZONEs, icalendar's own text escaping and no
checks. The two outputs are compared first, so the race is between equals.
Both are run several times, alternating; the medians and their ratio are
printed. cadence's cache of VTIMEZONEs is emptied before each of its runs, so
both build them every time.

    python bench/ical.py            # 10,000 reminders, 7 runs each
    python bench/ical.py --quick    # 10,000 reminders, 3 runs each
    python bench/ical.py --size 50000 --repeats 5

Exits 1 when cadence takes more than 20% longer than the minimal loop.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone
from icalendar.enums import TRANSP

from cadence import Contact, Reminder, occasion_words, reminder_key
from cadence.adapters.ical.render import _vtimezone, to_ical

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
CHANNELS = ("email", "phone", "video", None)
LIMIT = 1.20


def build(n: int, seed: int = 2026) -> list[Reminder]:
    """``n`` reminders from a month around NOW, the same for the same ``n`` and ``seed``."""
    rng = random.Random(seed)
    contacts = [
        Contact(
            f"c{i:05d}",
            f"Contact {i}, {rng.choice(['Ltd.', 'GmbH', 'K.K.'])}",
            timezone=ZONES[i % len(ZONES)],
            channel=CHANNELS[i % len(CHANNELS)],
        )
        for i in range(max(1, n // 4))
    ]
    reminders = []
    for i in range(n):
        contact = contacts[i % len(contacts)]
        tz = contact.zone
        day = (NOW + timedelta(days=rng.randint(-10, 30))).astimezone(tz).date()
        occasion = i % 3 == 0
        lead = timedelta(days=7) if occasion and i % 2 == 0 else timedelta(0)
        due = datetime.combine(day, clock(9 if occasion else rng.randint(8, 17), 0), tzinfo=tz)
        purpose = "birthday" if occasion else "cadence"
        reminders.append(
            Reminder(
                key=reminder_key(contact.id, purpose, f"{day.isoformat()}:{i}"),
                contact=contact,
                kind="occasion" if occasion else "cadence",
                title=f"{contact.name}'s birthday" if occasion else f"Check in with {contact.name}",
                date=day,
                due=due,
                overdue=max(NOW - due, timedelta(0)),
                channel=contact.channel,
                occasion_date=day + lead if occasion else None,
                reason="birthday; remind 7 days before" if lead else "every 2 weeks; last touch",
                purpose=purpose,
                lead=lead,
            )
        )
    return reminders


def minimal(reminders: Sequence[Reminder], now: datetime, name: str = "cadence") -> bytes:
    """The same feed, built with icalendar directly and nothing else."""
    used: dict[str, ZoneInfo] = {}
    years: list[int] = []
    events = []
    for r in sorted(reminders, key=lambda r: (r.due, r.contact.id, r.key)):
        tz = r.contact.zone
        today = now.astimezone(tz).date()
        moved = r.due <= now and r.date < today
        day = today if moved else r.date
        revised = datetime.combine(today, clock(0), tzinfo=tz) if moved else r.due
        stamp = revised.astimezone(UTC)
        lines = [f"Contact: {r.contact.name}"]
        if r.reason:
            lines.append(f"Why: {r.reason}")
        if r.channel:
            lines.append(f"Channel: {r.channel}")
        # The words are cadence's (how far the occasion is); the race is the rendering.
        words = occasion_words(r, now) if moved else None
        if r.occasion_date is not None:
            lines.append(
                f"Occasion: {r.occasion_date.isoformat()}" + (f" ({words})" if words else "")
            )
        if moved and words is None:
            lines.append(f"Overdue since: {r.date.isoformat()}")
        all_day = moved or r.kind == "occasion"
        event = Event.new(
            uid=r.key,
            stamp=stamp,
            last_modified=stamp,
            sequence=int((revised - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() // 60),
            summary=r.title,
            description="\n".join(lines),
            start=day if all_day else _start(r.due, tz),
            end=day + timedelta(days=1) if all_day else None,
            transparency=TRANSP.TRANSPARENT,
        )
        if not all_day:
            event.DURATION = timedelta(minutes=15)
            tzid = event["DTSTART"].params.get("TZID")
            if tzid:
                used[tzid] = tz
                years.append(day.year)
        if r.lead and r.due > now:
            alarm = Alarm.new_display(description=r.title, trigger=r.due.astimezone(UTC))
            alarm["TRIGGER"].params["VALUE"] = "DATE-TIME"
            event.add_component(alarm)
        events.append(event)
    first, last = datetime(min(years), 1, 1).date(), datetime(max(years) + 1, 1, 1).date()
    zones = [Timezone.from_tzinfo(used[t], t, first, last) for t in sorted(used)]
    calendar = Calendar.new(
        prodid="-//cadence//cadence//EN",
        calscale="GREGORIAN",
        uid=hashlib.sha256(name.encode()).hexdigest()[:32],
        name=name,
        refresh_interval=timedelta(hours=1),
        subcomponents=[*zones, *events],
    )
    calendar["REFRESH-INTERVAL"].params["VALUE"] = "DURATION"
    calendar.add("X-PUBLISHED-TTL", "PT1H")
    return bytes(calendar.to_ical())


def _start(due: datetime, tz: ZoneInfo) -> datetime:
    # A local time that reads back through its TZID as another instant goes in UTC.
    local = due.astimezone(tz)
    return due.astimezone(UTC) if local.replace(fold=0).astimezone(UTC) != due else local


def _cadence(reminders: Sequence[Reminder]) -> bytes:
    _vtimezone.cache_clear()
    return to_ical(reminders, now=NOW)


def _timed(run: Callable[[], bytes]) -> float:
    gc.collect()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs each instead of 7")
    parser.add_argument("--size", type=int, default=10_000, help="how many reminders")
    parser.add_argument("--repeats", type=int, help="runs of each (default 7, or 3 with --quick)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    reminders = build(args.size)

    ours = _cadence(reminders)
    theirs = minimal(reminders, NOW)
    if ours != theirs:
        print("the two outputs differ: the comparison would be unfair", file=sys.stderr)
        return 2
    print(
        f"{len(reminders):,} reminders, {ours.count(b'BEGIN:VEVENT'):,} events, "
        f"{len(ours) / 1e6:.1f} MB, {repeats} runs each"
    )

    cadence_times, minimal_times = [], []
    for _ in range(repeats):
        cadence_times.append(_timed(lambda: _cadence(reminders)))
        minimal_times.append(_timed(lambda: minimal(reminders, NOW)))
    ours_median = statistics.median(cadence_times)
    theirs_median = statistics.median(minimal_times)
    ratio = ours_median / theirs_median
    print(f"icalendar directly: median {theirs_median:.3f} s")
    print(f"cadence.to_ical:    median {ours_median:.3f} s")
    print(
        f"ratio {ratio:.3f} (overhead {100 * (ratio - 1):+.1f}%, limit +{100 * (LIMIT - 1):.0f}%)"
    )
    return 0 if ratio <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
