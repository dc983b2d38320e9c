"""What each page of the web app shows, gathered from a store through its public methods.

Each function reads the store and returns plain values for a template; the
health, the cadence and the planning come from the core, as ``cadence
health`` and ``cadence due`` get them. Writes go through ``cadence._actions``.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, TypeVar

import attrs

from cadence._actions import health_band
from cadence.core.drift import Drift, drift
from cadence.core.model import Contact
from cadence.core.planning import health_over, plan_contact
from cadence.core.reminders import Agenda, Reminder, occasion_words
from cadence.core.roster import Roster
from cadence.l10n import ENGLISH, N_, Words

__all__ = [
    "BANDS",
    "PAGE_SIZE",
    "TRENDS",
    "PersonRow",
    "RosterHistory",
    "Today",
    "people_page",
    "person_page",
    "roster_history",
    "snapshot",
    "today_page",
]

T = TypeVar("T")

#: How many rows a page of People shows at once.
PAGE_SIZE = 50
#: How many reminders each section of Today shows, unless asked for all: a
#: hundred forms and more make the page slow to build and to read.
TODAY_SIZE = 25
#: How far back a person's health is compared to say where it is heading.
TREND_SPAN = timedelta(days=28)
#: A change of health smaller than this is "steady".
TREND_STEP = 0.05
#: The arrows and words of each trend, in English; the page words them.
TRENDS = {"up": ("↑", N_("rising")), "down": ("↓", N_("falling")), "steady": ("→", N_("steady"))}
#: The health bands as the pages name them, in English; the page words them.
BANDS = {"healthy": N_("healthy"), "drifting": N_("drifting"), "overdue": N_("overdue")}
#: The sections of the Today page and their headings, in English; the page words them.
TODAY_SECTIONS = (
    ("overdue", N_("Overdue")),
    ("today", N_("Due today")),
    ("ahead", N_("The week ahead")),
)
#: How far back a person's timeline and health chart reach.
TIMELINE_SPAN = timedelta(days=365)
#: How many weeks the roster chart covers.
ROSTER_WEEKS = 12


@attrs.frozen
class Today:
    """The Today page: overdue, due today and the week ahead, each capped, with totals."""

    overdue: Sequence[Reminder]
    today: Sequence[Reminder]
    ahead: Sequence[Reminder]
    totals: dict[str, int]
    problems: Sequence[str]
    now: datetime


def _when_words(reminder: Reminder, now: datetime, words: Words = ENGLISH) -> str:
    """How late or how soon a reminder is, in words (``words``'s; the core's English by default)."""
    if words.locale is not None:
        return _localized_when(reminder, now, words)
    occasion = occasion_words(reminder, now)
    if occasion is not None:
        return occasion
    today = now.astimezone(reminder.contact.zone).date()
    days = (reminder.date - today).days
    if days < 0:
        return f"{-days} day{'s' if days != -1 else ''} overdue"
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days} days, {reminder.date:%a %d %b}"


def _localized_when(reminder: Reminder, now: datetime, words: Words) -> str:
    occasion = words.occasion_words(reminder, now)
    if occasion is not None:
        return occasion
    today = now.astimezone(reminder.contact.zone).date()
    days = (reminder.date - today).days
    if days < 0:
        return words.overdue(-days)
    if days == 0:
        return words.gettext("today")
    if days == 1:
        return words.gettext("tomorrow")
    return words.gettext(
        "{when}, {date}", when=words.days_from_now(days), date=words.date(reminder.date)
    )


def today_page(agenda: Agenda, *, show: str = "") -> Today:
    """The reminders of ``agenda`` in three sections: overdue, due today, the days ahead.

    Each section shows ``TODAY_SIZE`` reminders unless ``show`` names it.
    """
    now = agenda.now
    sections: dict[str, list[Reminder]] = {"overdue": [], "today": [], "ahead": []}
    for reminder in agenda:
        today = now.astimezone(reminder.contact.zone).date()
        if reminder.date < today:
            sections["overdue"].append(reminder)
        elif reminder.date == today:
            sections["today"].append(reminder)
        else:
            sections["ahead"].append(reminder)
    totals = {name: len(found) for name, found in sections.items()}
    shown = {
        name: found if name == show else found[:TODAY_SIZE] for name, found in sections.items()
    }
    return Today(
        shown["overdue"],
        shown["today"],
        shown["ahead"],
        totals,
        [str(p) for p in agenda.problems],
        now,
    )


when_words = _when_words


@attrs.frozen
class PersonRow:
    """One contact as the People page shows it: health and its trend, drift, cadence, last touch.

    ``band`` is the health's band (healthy, drifting, overdue); None without a
    cadence. ``drift`` is the relationship's drift by its own history (its
    level and reasons), whether or not it has a cadence. Further judgements
    of a relationship belong here, beside them, so that every page that
    lists a contact shows them.
    """

    contact: Contact
    cadence: str | None
    health: float | None
    before: float | None
    band: str | None
    last_touch: datetime | None
    drift: Drift

    @property
    def drift_reason(self) -> str | None:
        """The first (strongest) drift reason in words; None when there is none."""
        words = self.drift.words
        return words[0] if words else None

    @property
    def trend(self) -> str | None:
        """``up``, ``down`` or ``steady``: how health moved over the last four weeks."""
        if self.health is None or self.before is None:
            return None
        change = self.health - self.before
        if change > TREND_STEP:
            return "up"
        if change < -TREND_STEP:
            return "down"
        return "steady"


def person_row(
    roster: Roster, contact: Contact, now: datetime, words: Words = ENGLISH
) -> PersonRow:
    """The summary of ``contact`` at ``now`` from a roster that holds it; cadence in ``words``."""
    cadence = roster.cadence_for(contact)
    score, before = health_over(roster, contact.id, [now, now - TREND_SPAN])
    return PersonRow(
        contact,
        words.cadence(cadence) if cadence is not None else None,
        score,
        before,
        health_band(score) if score is not None else None,
        roster.last_touch(contact.id, now),
        drift(roster, contact.id, now=now),
    )


def _haystack(contact: Contact) -> str:
    """What a search looks in: name, id and addresses, folded, apart so no word spans two."""
    return "\0".join((contact.name, contact.id, *contact.emails)).casefold()


@attrs.frozen
class People:
    """A page of the People list, with what filtered it."""

    rows: Sequence[PersonRow]
    total: int
    page: int
    pages: int
    tags: Sequence[str]
    taken: datetime


def people_page(
    store: Any,
    snapshot: Snapshot,
    *,
    now: datetime,
    tag: str = "",
    search: str = "",
    page: int = 1,
    words: Words = ENGLISH,
) -> People:
    """The contacts with ``tag`` whose name, id or address holds ``search``, a page at a time.

    Which contacts match comes from ``snapshot``; the rows shown are worked
    out from ``store`` for those contacts alone (``store.roster_of``). ``words`` word each row's
    cadence (the core's English by default).
    """
    wanted = search.strip().casefold()
    found = [
        c
        for c, haystack in zip(snapshot.contacts, snapshot.haystacks, strict=True)
        if (not tag or tag in c.tags) and (not wanted or wanted in haystack)
    ]
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    roster = store.roster_of(c.id for c in shown)
    rows = [person_row(roster, c, now, words) for c in shown]
    return People(rows, len(found), page, pages, snapshot.tags, snapshot.taken)


@attrs.frozen
class Person:
    """A person's page: the summary, the touchpoints and due dates of a year, health over it."""

    row: PersonRow
    touches: Sequence[Any]
    due_dates: Sequence[datetime]
    health_points: Sequence[tuple[datetime, float]]
    upcoming: Sequence[Reminder]
    own_cadence: str | None
    start: datetime
    #: The contact's own cadence in the page's words; ``own_cadence`` is as the form takes it.
    own_cadence_words: str | None = None


def _due_dates(roster: Roster, contact_id: str, start: datetime, now: datetime) -> list[datetime]:
    """When the cadence made ``contact_id`` due between ``start`` and now, as planning says.

    Planning at the start and just after each personal touch gives the next
    check-in as it stood then; together they are the due dates of the year.
    """
    contact = roster.contact(contact_id)
    checkpoints = [start]
    checkpoints += sorted(
        t.at.astimezone(UTC)
        for t in roster.touchpoints
        if t.contact == contact_id and t.personal and start < t.at <= now
    )
    checkpoints.append(now)
    found: dict[str, datetime] = {}
    for moment, following in itertools.pairwise(checkpoints):
        ahead = max(following - moment, timedelta(0))
        for reminder in plan_contact(roster, contact.id, now=moment, horizon=ahead).reminders:
            if reminder.kind == "cadence" and start <= reminder.due <= now:
                found[reminder.key] = reminder.due
    return sorted(found.values())


def person_page(
    store: Any,
    contact_id: str,
    *,
    now: datetime,
    words: Words = ENGLISH,
) -> Person:
    """Everything the page of one contact shows; an unknown id raises CadenceError.

    ``words`` word the cadence (the core's English by default).
    """
    roster = store.contact_roster(contact_id)
    contact = roster.contact(contact_id)
    rules = store.list_rules()
    touches = roster.touchpoints
    start = now - TIMELINE_SPAN
    weeks = [now - timedelta(weeks=n) for n in range(52, -1, -1)]
    points = list(zip(weeks, health_over(roster, contact.id, weeks), strict=True))
    upcoming = [
        r
        for r in plan_contact(roster, contact.id, now=now, horizon=timedelta(days=365)).reminders
        if r.kind != "cadence"
    ]
    own_rule = next((r.cadence for r in rules if r.contact == contact.id), None)
    own = None if own_rule is None else own_rule.describe()
    return Person(
        person_row(roster, contact, now, words),
        [t for t in touches if t.at >= start],
        _due_dates(roster, contact.id, start, now) if roster.cadence_for(contact) else [],
        [(m, s) for m, s in points if s is not None],
        upcoming,
        own,
        start,
        None if own_rule is None else words.cadence(own_rule),
    )


@attrs.frozen
class RosterHistory:
    """How many contacts were healthy, drifting and overdue at the end of each week."""

    weeks: Sequence[date]
    counts: Mapping[str, Sequence[int]]
    without_cadence: int
    computed: datetime


def roster_history(
    parts: Iterable[Roster], *, now: datetime, weeks: int = ROSTER_WEEKS
) -> RosterHistory:
    """Per week, the last ``weeks`` of them ending at ``now``: the contacts in each health band.

    ``parts`` are rosters that together hold every contact once, each with
    all that applies to its contacts (as ``store.rosters()`` gives them),
    so that only one part is in memory at a time.
    """
    ends = [now - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    counts = {band: [0] * weeks for band in ("healthy", "drifting", "overdue")}
    bare = 0
    for roster in parts:
        for contact in roster.contacts:
            if roster.cadence_for(contact) is None:
                bare += 1
                continue
            for i, score in enumerate(health_over(roster, contact.id, ends)):
                if score is not None:
                    counts[health_band(score)][i] += 1
    return RosterHistory([e.date() for e in ends], counts, bare, now)


@attrs.frozen
class Snapshot:
    """The store's contacts read at one moment, for the pages that show everyone at once.

    ``contacts`` are in name order; ``history`` is the roster chart's data.
    """

    contacts: Sequence[Contact]
    haystacks: Sequence[str]
    tags: Sequence[str]
    history: RosterHistory
    taken: datetime


#: How many contacts the snapshot reads at a time, with their touchpoints.
SNAPSHOT_PART = 2000


def snapshot(store: Any, *, now: datetime) -> Snapshot:
    """Read the store a part at a time and work out what the People and Roster pages need.

    Only the contacts are kept; their touchpoints are read a part at a
    time for the roster chart, and again for the few rows a page shows
    (``people_page``).
    """
    contacts: list[Contact] = []

    def parts() -> Iterator[Roster]:
        for part in store.rosters(SNAPSHOT_PART):
            contacts.extend(part.contacts)
            yield part

    history = roster_history(parts(), now=now)
    contacts.sort(key=lambda c: (c.name.casefold(), c.id))
    tags = sorted({t for c in contacts for t in c.tags})
    haystacks = [_haystack(c) for c in contacts]
    return Snapshot(contacts, haystacks, tags, history, now)


#: A snapshot that took less than this many seconds is taken again at once
#: when it is out of date; a longer one is taken again in the background.
QUICK = 0.25


class Cached(Generic[T]):
    """A value that is costly to compute, kept for ``ttl`` seconds or until ``forget()``.

    When it is out of date it is computed again before answering if that
    was quick last time (a small store: pages are never stale), and else in
    a background thread while the old value is served (a large store: no
    page waits seconds), each page saying when its data were read. With
    ``wait_after_change``, a value that ``forget()`` marked is always
    computed again before answering, however long that takes.
    """

    def __init__(
        self, compute: Callable[[], T], ttl: float, *, wait_after_change: bool = False
    ) -> None:
        self._compute = compute
        self._wait = wait_after_change
        self._ttl = ttl
        self._lock = threading.Lock()
        self._value: T | None = None
        self._at = 0.0
        self._took = 0.0
        self._stale = False
        self._refreshing = False

    def _run(self) -> T:
        began = time.monotonic()
        value = self._compute()
        with self._lock:
            self._value, self._at = value, time.monotonic()
            self._took = self._at - began
            self._refreshing = False
        return value

    def _background(self) -> None:
        try:
            self._run()
        except Exception:  # the next request computes it again, and shows any error
            with self._lock:
                self._refreshing = False

    def get(self) -> T:
        """The value: computed now, or the old one while a new one is computed."""
        with self._lock:
            value = self._value
            old = self._stale or time.monotonic() - self._at > self._ttl
            waits = self._took < QUICK or (self._stale and self._wait)
            if value is not None and old and not waits:
                if not self._refreshing:
                    self._refreshing = True
                    self._stale = False
                    threading.Thread(target=self._background, daemon=True).start()
                return value
            if value is not None and not old:
                return value
            self._stale = False
        return self._run()

    def forget(self) -> None:
        """Mark the value out of date: something it was computed from changed."""
        with self._lock:
            self._stale = True
