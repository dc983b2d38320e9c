"""Planning: from a roster and a moment to an agenda of reminders. Pure and deterministic."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeAlias
from zoneinfo import ZoneInfo

import attrs

from cadence.core.cadences import Every, Recurring
from cadence.core.drift import at_risk
from cadence.core.durations import parse_duration, shown_value
from cadence.core.errors import CadenceError
from cadence.core.model import Contact
from cadence.core.occasions import Anniversary, Birthday, Occasion, OccasionKind, yearly
from cadence.core.reminders import (
    Agenda,
    Facts,
    History,
    PlanningProblem,
    Reminder,
    ReminderKind,
    _InOrder,
    reminder_key,
)
from cadence.core.roster import Roster
from cadence.core.time import end_of_day, local_moment, long_date, require_aware, zone

__all__ = ["ContactPlan", "health", "health_over", "plan", "plan_contact"]

#: The local time of day at which sliding cadences and occasions fall due.
DUE_AT = time(9, 0)
_MIDNIGHT = time(0, 0)
# Stands for "not worked out yet" where None means "no due moment".
_UNKNOWN = (date.min, datetime.min, datetime.min)
_NO_LEAD = timedelta(0)


def _years(n: int) -> str:
    return "1 year" if n == 1 else f"{n} years"


@attrs.frozen
class ContactPlan:
    """One contact's reminders at ``now``, and until when they stay the same.

    ``stable_until`` is the first moment after ``now`` at which planning this
    contact again could give other reminders than these (a recurring moment
    passes, an occasion's day ends, a touchpoint logged ahead of time comes
    round, the day the relationship began comes), leaving aside reminders
    that enter the horizon as it moves; None when nothing changes with time
    alone. Before then, planning gives the same keys with the same due
    moments, but for one: a contact never touched and without a start date is
    due at whatever moment you plan, under a key that does not change.
    """

    reminders: tuple[Reminder, ...]
    stable_until: datetime | None


# The span in which planning reckons: wide enough for any real roster, and
# far enough from the ends of datetime that no sum of dates overflows.
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _check_roster(roster: object, caller: str) -> Roster:
    if not isinstance(roster, Roster):
        raise CadenceError(f"{caller} needs a Roster, not {roster!r}")
    return roster


def _check_now(now: object, horizon: object = timedelta(0)) -> tuple[datetime, datetime]:
    """``now`` and ``now`` plus ``horizon``, both in UTC, checked."""
    moment = require_aware(now, "now").astimezone(UTC)
    if isinstance(horizon, str):
        horizon = parse_duration(horizon)
    if not isinstance(horizon, timedelta) or horizon < timedelta(0):
        raise CadenceError(
            f"the horizon must be a duration of zero or more, not {shown_value(horizon)}"
        )
    if moment < _EARLIEST or horizon >= _LATEST - moment:
        raise CadenceError(
            f"now and now plus the horizon must lie between the years 1900 and 9000, "
            f"not {moment.isoformat()} plus {shown_value(horizon)}"
        )
    return moment, moment + horizon


def plan(roster: Roster, *, now: datetime, horizon: timedelta | str = timedelta(days=30)) -> Agenda:
    """What is due at ``now`` and what falls due within ``horizon`` after it.

    ``horizon`` is a ``timedelta`` or text that ``parse_duration`` reads ("7d").

    Pure: it reads nothing but its arguments, so the same roster and ``now``
    always give the same agenda with the same keys. ``now`` must be aware.
    A contact that cannot be planned is left out and named in the agenda's
    ``problems``; every other contact is planned as usual.
    """
    roster = _check_roster(roster, "plan()")
    moment, until = _check_now(now, horizon)
    planner = _Planner(roster, moment, until)
    found: list[Reminder] = []
    problems: list[PlanningProblem] = []
    # Agenda order is (due, contact id, key). Planning contacts in id order,
    # each one's reminders in key order, leaves a stable sort by due moment
    # alone to do, and a single datetime is much cheaper to sort on.
    # What planning one contact works out and keeps on the roster (its drift
    # timeline) is dropped once the contact is planned: kept for every contact
    # of a large roster it would outweigh the roster itself. Dicts keep their
    # insertion order, so what this contact added is at the end.
    derived = roster._derived_values
    for contact in roster._in_id_order:
        kept = len(derived)
        try:
            reminders = planner.contact(contact)[0]
        except Exception as error:  # one contact's failure must not hide everyone else's
            problems.append(PlanningProblem(contact.id, problem_reason(error)))
            continue
        finally:
            while len(derived) > kept:
                derived.popitem()
        if len(reminders) > 1:
            reminders.sort(key=_by_key)
        found.extend(reminders)
    found.sort(key=_due_in_utc)
    return Agenda(_InOrder(found), now=now, horizon=until - moment, problems=problems)


def problem_reason(error: Exception) -> str:
    """Why planning a contact failed, in words, for a ``PlanningProblem``."""
    if isinstance(error, CadenceError):
        return str(error)
    return f"unexpected {type(error).__name__}: {error}"


def _by_key(reminder: Reminder) -> str:
    return reminder.key


def _due_in_utc(reminder: Reminder) -> datetime:
    return reminder.due.astimezone(UTC)


def plan_contact(
    roster: Roster,
    contact_id: str,
    *,
    now: datetime,
    horizon: timedelta | str = timedelta(days=30),
) -> ContactPlan:
    """The reminders of one contact at ``now``, as ``plan`` gives them, with their stability.

    Stores use it to keep each contact's next reminders up to date without
    planning the whole roster again.
    """
    roster = _check_roster(roster, "plan_contact()")
    moment, until = _check_now(now, horizon)
    contact = roster.contact(contact_id)
    reminders, next_moment = _Planner(roster, moment, until).contact(contact)
    reminders.sort(key=lambda r: (r.due.astimezone(UTC), r.key))
    stable = _earliest(roster.next_touch(contact.id, moment), next_moment)
    tz = zone(contact.timezone)
    recurring = isinstance(roster.cadence_for(contact), Recurring)
    if recurring and contact.since is not None and roster.last_touch(contact.id, moment) is None:
        # A recurring cadence counts the start date as a touch once it has come.
        began = local_moment(contact.since, _MIDNIGHT, tz)
        if began > moment:
            stable = _earliest(stable, began)
    for reminder in reminders:
        if reminder.occasion_date is not None:
            stable = _earliest(stable, end_of_day(reminder.occasion_date, tz))
    return ContactPlan(tuple(reminders), stable)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


_Moment: TypeAlias = tuple[datetime, datetime, datetime]
"""A moment as a naive wall time (for the key), an aware local moment, and the same in UTC."""


class _Planner:
    """Plans contacts of one roster at one moment.

    Contacts share zones, cadences and dates, so what depends only on those
    (today's date in a zone, a recurring rule's moments around now, the due
    moment of a date) is worked out once per planning and kept here. ``now``
    and ``until`` are in UTC, and so are the moments compared with them:
    aware datetimes of different zones compare much more slowly.
    """

    __slots__ = (
        "_dates",
        "_dismissed",
        "_due",
        "_fixed_moments",
        "_local_now",
        "_overdue",
        "_sliding_due",
        "_snoozes",
        "_windows",
        "_words",
        "_zones",
        "now",
        "roster",
        "until",
    )

    def __init__(self, roster: Roster, now: datetime, until: datetime) -> None:
        self.roster = roster
        self.now = now
        self.until = until
        self._dismissed = roster.dismissed
        self._snoozes = bool(roster.snoozes)
        self._zones: dict[str, ZoneInfo] = {}
        self._local_now: dict[ZoneInfo, tuple[datetime, datetime]] = {}
        self._due: dict[tuple[date, time, timedelta, ZoneInfo], tuple[datetime, datetime]] = {}
        self._sliding_due: dict[tuple[int, date, ZoneInfo], tuple[date, datetime, datetime] | None]
        self._sliding_due = {}
        self._windows: dict[tuple[ZoneInfo, timedelta], tuple[date, date]] = {}
        self._fixed_moments: dict[tuple[int, ZoneInfo], tuple[list[_Moment], list[_Moment]]] = {}
        # A large agenda repeats the same dates, delays, reasons and facts
        # for many contacts: each is made once and shared (they never change).
        self._dates: dict[date, date] = {}
        self._overdue: dict[datetime, timedelta] = {}
        self._words: dict[tuple[int, History, date | None], tuple[str, Facts]] = {}

    def contact(self, contact: Contact) -> tuple[list[Reminder], datetime | None]:
        """The contact's reminders, and the next moment of its recurring cadence if it has one."""
        tz = self._zones.get(contact.timezone)
        if tz is None:
            tz = self._zones[contact.timezone] = zone(contact.timezone)
        found: list[Reminder] = []
        next_moment = None
        cadence = self.roster.cadence_for(contact)
        if isinstance(cadence, Every):
            self._sliding(contact, cadence, tz, found)
        elif isinstance(cadence, Recurring):
            next_moment = self._fixed(contact, cadence, tz, found)
        if cadence is not None:
            at_risk(self.roster, contact, self.now, self.until, found)
        occasions = self.roster._occasions_of(contact)
        if occasions:
            for occasion in occasions:
                self._occasion(contact, occasion, tz, found)
            if len(found) > 1:
                found = _unique(found)
        return found, next_moment

    def _wall_now(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """Now and the end of the horizon as naive wall times in ``tz``."""
        walls = self._local_now.get(tz)
        if walls is None:
            walls = (
                self.now.astimezone(tz).replace(tzinfo=None),
                self.until.astimezone(tz).replace(tzinfo=None),
            )
            self._local_now[tz] = walls
        return walls

    def _due_at(
        self, day: date, at: time, lead: timedelta, tz: ZoneInfo
    ) -> tuple[datetime, datetime]:
        """The moment ``lead`` before wall time ``at`` on ``day`` in ``tz``, local and in UTC."""
        key = (day, at, lead, tz)
        due = self._due.get(key)
        if due is None:
            if lead:
                wall = datetime.combine(day, at) - lead
                day, at = wall.date(), wall.time()
            local = local_moment(day, at, tz)
            due = self._due[key] = (local, local.astimezone(UTC))
        return due

    def _finish(
        self,
        contact: Contact,
        tz: ZoneInfo,
        purpose: str,
        when: str,
        kind: ReminderKind,
        title: str,
        due: datetime,
        due_utc: datetime,
        reason: str,
        facts: Facts,
        occasion_date: date | None = None,
        lead: timedelta = _NO_LEAD,
    ) -> Reminder | None:
        """The reminder due at ``due`` (local), unless dismissed or snoozed beyond the horizon."""
        key = reminder_key(contact.id, purpose, when)
        if key in self._dismissed:
            return None
        if self._snoozes:
            snoozed = self.roster.snoozed_until(key)
            if snoozed is not None and snoozed > due_utc:
                if snoozed > self.until:
                    return None
                due_utc = snoozed
                due = snoozed.astimezone(tz)
                reason = f"{reason}; snoozed until {due:%Y-%m-%d %H:%M}"
                facts = attrs.evolve(facts, snoozed=due)
        now = self.now
        day = due.date()
        day = self._dates.setdefault(day, day)
        if due_utc < now:
            overdue = self._overdue.get(due_utc)
            if overdue is None:
                overdue = self._overdue[due_utc] = now - due_utc
        else:
            overdue = _NO_LEAD
        return Reminder(
            key=key,
            contact=contact,
            kind=kind,
            title=title,
            date=day,
            due=due,
            overdue=overdue,
            channel=contact.channel,
            occasion_date=occasion_date,
            reason=reason,
            purpose=purpose,
            lead=lead,
            facts=facts,
        )

    def _sliding(
        self, contact: Contact, cadence: Every, tz: ZoneInfo, found: list[Reminder]
    ) -> None:
        touched = self.roster.last_touch(contact.id, self.now)
        if touched is not None:
            last = touched.astimezone(tz).date()
        elif _spread(contact, cadence):
            assert contact.added is not None
            self._first_check_in(contact, cadence, contact.added, tz, found)
            return
        elif contact.since is not None:
            last = contact.since
        else:
            # Never touched and no start date: due now, under a key that stays
            # put until the first touch so that it is delivered once, not daily.
            reminder = self._finish(
                contact,
                tz,
                "cadence",
                "never",
                "cadence",
                f"Check in with {contact.name}",
                self.now.astimezone(tz),
                self.now,
                f"{cadence.describe()}; no touch logged yet",
                Facts(cadence=cadence, history="never"),
            )
            if reminder is not None:
                found.append(reminder)
            return
        due = self._due_after(cadence, last, tz)
        if due is None:
            return
        day, local, due_utc = due
        history: History = "touch" if touched is not None else "start"
        reason, facts = self._check_in_words(cadence, history, last)
        self._check_in(contact, tz, day, local, due_utc, reason, facts, found)

    def _check_in_words(
        self, cadence: Every | Recurring, history: History, last: date | None
    ) -> tuple[str, Facts]:
        """A check-in's reason and facts, made once for each cadence, history and day."""
        key = (id(cadence), history, last)
        words = self._words.get(key)
        if words is None:
            described = cadence.describe()
            if last is None:
                reason = f"{described}; no touch logged yet"
            elif history == "added":
                reason = f"{described}; no touch logged yet (added {last.isoformat()})"
            elif isinstance(cadence, Recurring):
                reason = f"{described}; last personal touch {last.isoformat()}"
            elif history == "touch":
                reason = f"{described}; last personal touch on {last.isoformat()}"
            else:
                reason = f"{described}; no touch logged since {last.isoformat()}"
            facts = Facts(cadence=cadence, history=history, last=last)
            words = self._words[key] = (reason, facts)
        return words

    def _check_in(
        self,
        contact: Contact,
        tz: ZoneInfo,
        day: date,
        local: datetime,
        due_utc: datetime,
        reason: str,
        facts: Facts,
        found: list[Reminder],
    ) -> None:
        """Add a sliding cadence's check-in due on ``day`` to ``found``, unless it is hidden."""
        reminder = self._finish(
            contact,
            tz,
            "cadence",
            day.isoformat(),
            "cadence",
            f"Check in with {contact.name}",
            local,
            due_utc,
            reason,
            facts,
        )
        if reminder is not None:
            found.append(reminder)

    def _first_check_in(
        self, contact: Contact, cadence: Every, added: date, tz: ZoneInfo, found: list[Reminder]
    ) -> None:
        """Add the first check-in of a contact never touched, spread from the day it was added."""
        day = first_check_in(contact.id, cadence, added)
        local, due_utc = self._due_at(day, DUE_AT, _NO_LEAD, tz)
        if due_utc > self.until:
            return
        reason, facts = self._check_in_words(cadence, "added", added)
        self._check_in(contact, tz, day, local, due_utc, reason, facts, found)

    def _due_after(
        self, cadence: Every, last: date, tz: ZoneInfo
    ) -> tuple[date, datetime, datetime] | None:
        """The due date and moment after a last touch on ``last``; None beyond the horizon."""
        key = (id(cadence), last, tz)
        known = self._sliding_due.get(key, _UNKNOWN)
        if known is not _UNKNOWN:
            return known
        found: tuple[date, datetime, datetime] | None = None
        try:
            day = cadence.after(last)
        except (OverflowError, ValueError):  # past the year 9999, so past any horizon
            day = None
        if day is not None:
            local, due_utc = self._due_at(day, DUE_AT, _NO_LEAD, tz)
            if due_utc <= self.until:
                found = (day, local, due_utc)
        self._sliding_due[key] = found
        return found

    def _moments(self, cadence: Recurring, tz: ZoneInfo) -> tuple[list[_Moment], list[_Moment]]:
        """The last two moments up to now; those after now to the horizon, and one more."""
        key = (id(cadence), tz)
        moments = self._fixed_moments.get(key)
        if moments is None:
            wall_now, wall_until = self._wall_now(tz)
            before, after = cadence.moments(wall_now, wall_until + timedelta(days=1))
            both = []
            for wall in before + after:
                local = local_moment(wall.date(), wall.time(), tz)
                both.append((wall, local, local.astimezone(UTC)))
            # Naive wall times and aware moments order differently in a DST
            # fold: tell past from future by the moment.
            now = self.now
            moments = ([m for m in both if m[2] <= now][-2:], [m for m in both if m[2] > now])
            self._fixed_moments[key] = moments
        return moments

    def _fixed(
        self, contact: Contact, cadence: Recurring, tz: ZoneInfo, found: list[Reminder]
    ) -> datetime | None:
        """Add the contact's recurring reminders to ``found``; return the next moment after now."""
        past, future = self._moments(cadence, tz)
        last, history = _last_touch(self.roster, contact, tz, self.now)
        due_moments: list[_Moment] = []
        # A moment is satisfied by a personal touch after the moment before it
        # (any touch at all for a rule's first moment). Of the past moments
        # only the latest counts: it is overdue until a touch satisfies it.
        if past:
            previous = past[-2][2] if len(past) == 2 else None
            if last is None or (previous is not None and last <= previous):
                due_moments.append(past[-1])
        until = self.until
        for index, moment in enumerate(future):
            if moment[2] > until:
                break
            if index == 0:
                previous = past[-1][2] if past else None
                if last is not None and (previous is None or last > previous):
                    continue
            due_moments.append(moment)
        if due_moments:
            title = f"Check in with {contact.name}"
            if last is None:
                reason, facts = self._check_in_words(cadence, "never", None)
            else:
                day = last.astimezone(tz).date()
                reason, facts = self._check_in_words(cadence, history, day)
            for wall, local, due_utc in due_moments:
                reminder = self._finish(
                    contact,
                    tz,
                    "cadence",
                    wall.isoformat(timespec="minutes"),
                    "cadence",
                    title,
                    local,
                    due_utc,
                    reason,
                    facts,
                )
                if reminder is not None:
                    found.append(reminder)
        return future[0][1] if future else None

    def _window(self, tz: ZoneInfo, lead: timedelta) -> tuple[date, date]:
        """Today in ``tz``, and a day after which no occasion ``lead`` ahead is within the horizon.

        A day of margin covers any change of offset between the two moments;
        the exact test is on the due moment.
        """
        key = (tz, lead)
        window = self._windows.get(key)
        if window is None:
            last = (self.until + lead + timedelta(days=1)).astimezone(tz).date()
            window = self._windows[key] = (self._wall_now(tz)[0].date(), last)
        return window

    def _occasion(
        self, contact: Contact, occasion: OccasionKind, tz: ZoneInfo, found: list[Reminder]
    ) -> None:
        """Add the occasion's reminders that fall within the horizon to ``found``."""
        lead = occasion.lead
        today, last_day = self._window(tz, lead)
        if isinstance(occasion, Occasion) and occasion.on is not None:
            days = [occasion.on] if today <= occasion.on <= last_day else []
        else:
            if isinstance(occasion, Anniversary):
                month, mday = occasion.date.month, occasion.date.day
            else:
                assert occasion.month is not None
                assert occasion.day is not None
                month, mday = occasion.month, occasion.day
            leap_day = occasion.leap_day
            days = []
            for year in range(today.year, last_day.year + 1):
                day = yearly(month, mday, year, leap_day)
                if today <= day <= last_day:
                    days.append(day)
        for day in days:
            local, due_utc = self._due_at(day, DUE_AT, lead, tz)
            if due_utc > self.until:
                break
            described = _describe(contact, occasion, day)
            if described is None:
                continue
            purpose, title, reason, facts = described
            if lead:
                reason = f"{reason}; remind {_lead_words(lead)} before"
            reminder = self._finish(
                contact,
                tz,
                purpose,
                day.isoformat(),
                "occasion",
                title,
                local,
                due_utc,
                reason,
                facts,
                day,
                lead,
            )
            if reminder is not None:
                found.append(reminder)


def _unique(reminders: list[Reminder]) -> list[Reminder]:
    # Two occasions can name the same thing on the same day (a contact's own
    # launch and its tag's, a birthday entered twice): one reminder stands for
    # both, the earliest, whatever order the roster listed them in.
    chosen: dict[str, Reminder] = {}
    for reminder in reminders:
        other = chosen.get(reminder.key)
        if other is None or _precedence(reminder) < _precedence(other):
            chosen[reminder.key] = reminder
    if len(chosen) == len(reminders):
        return reminders
    return list(chosen.values())


def _precedence(reminder: Reminder) -> tuple[datetime, str, str]:
    return (reminder.due.astimezone(UTC), reminder.title, reminder.reason)


def _spread(contact: Contact, cadence: Every) -> bool:
    """Whether a contact never touched has its first check-in spread from the day it was added.

    It has when it was added and its start date, if any, would make it due
    before that day: cadence does not count as overdue the time before it
    knew of someone (a LinkedIn connection made years ago).
    """
    if contact.added is None:
        return False
    if contact.since is None:
        return True
    try:
        return cadence.after(contact.since) < contact.added
    except CadenceError:  # past the year 9999
        return False


def first_check_in(contact_id: str, cadence: Every, added: date) -> date:
    """The first check-in of a contact added on ``added`` and never touched since.

    So that contacts added together (an import) do not all fall due at once,
    each is given a day within its cadence's first interval from ``added``:
    ``added`` plus a number of days, from 0 to one less than the interval,
    taken from a hash of the contact's id. The same contact always gets the
    same day.
    """
    try:
        interval = (cadence.after(added) - added).days
    except CadenceError:  # an interval past the year 9999
        return added
    spread = int.from_bytes(hashlib.sha256(contact_id.encode()).digest()[:8], "big")
    return added + timedelta(days=spread % max(interval, 1))


def _last_touch(
    roster: Roster, contact: Contact, tz: ZoneInfo, now: datetime
) -> tuple[datetime | None, History]:
    """In UTC, the last personal touch at or before ``now``, else the start date if it has come.

    With it, which of the two it is ("touch" or "start"; "never" for neither).
    """
    touched = roster.last_touch(contact.id, now)
    if touched is not None:
        return touched, "touch"
    if contact.since is not None:
        began = local_moment(contact.since, _MIDNIGHT, tz).astimezone(UTC)
        if began <= now:
            return began, "start"
    return None, "never"


def _lead_words(lead: timedelta) -> str:
    if lead.days and not lead.seconds:
        return "1 day" if lead.days == 1 else f"{lead.days} days"
    hours = lead.total_seconds() / 3600
    return f"{hours:g} hours"


_BIRTHDAY = Facts(occasion="birthday")


def _describe(
    contact: Contact, occasion: OccasionKind, day: date
) -> tuple[str, str, str, Facts] | None:
    """The purpose, English title and reason of an occasion on ``day``, and their facts."""
    name = contact.name
    if isinstance(occasion, Birthday):
        if occasion.year is not None:
            age = day.year - occasion.year
            if age < 1:
                return None
            return (
                "birthday",
                f"{name} turns {age} on {long_date(day)}",
                f"birthday on {day.isoformat()}, born {occasion.year}",
                Facts(occasion="birthday", count=age, born=occasion.year),
            )
        return (
            "birthday",
            f"{name}'s birthday on {long_date(day)}",
            f"birthday on {day.isoformat()}",
            _BIRTHDAY,
        )
    if isinstance(occasion, Anniversary):
        count = day.year - occasion.date.year
        if count < 1:
            return None
        return (
            f"anniversary:{occasion.label}",
            f"{name}: {_years(count)}, {occasion.label}, on {long_date(day)}",
            f"{occasion.label} of {occasion.date.isoformat()}",
            Facts(occasion="anniversary", label=occasion.label, count=count, start=occasion.date),
        )
    one_off = occasion.on is not None
    when = f"{long_date(day)} {day.year}" if one_off else long_date(day)
    return (
        f"occasion:{occasion.title}",
        f"{occasion.title} for {name} on {when}",
        f"{occasion.title} on {day.isoformat()}",
        Facts(occasion="event" if one_off else "yearly", label=occasion.title),
    )


def health(roster: Roster, contact_id: str, *, now: datetime) -> float | None:
    """How well you are keeping in touch with a contact, from 0 (drifting) to 1 (just spoke).

    Health halves with every interval that passes since the last personal
    touch: ``0.5 ** (elapsed / interval)``. It is 1.0 right after a touch and
    never rises while time passes without one. For a sliding cadence the
    interval runs from the last touch to the moment the next one falls due,
    so health is 0.5 when a check-in falls due and 0.25 once it is overdue by
    a whole interval. For a recurring cadence the interval is the mean gap
    between its moments, so health is about 0.5 one gap after a touch.

    Until a touch is logged the start date (``since``) counts as one, and
    health is 1.0 before it comes. A contact never touched, without a start
    date but with the day it was added, is reckoned as if touched one
    interval before its spread first check-in (``first_check_in``), so it is
    at 0.5 on that day; one without even that has health 0.0. A contact
    without a cadence has None.
    """
    (score,) = health_over(roster, contact_id, [now])
    return score


def health_over(roster: Roster, contact_id: str, moments: Iterable[datetime]) -> list[float | None]:
    """``health`` at each of ``moments``, in their order: a chart's points.

    The same numbers as calling ``health`` once per moment, with the
    contact, its cadence and each last touch's interval worked out once.
    """
    roster = _check_roster(roster, "health()")
    checked = [_check_now(moment)[0] for moment in moments]
    contact = roster.contact(contact_id)
    cadence = roster.cadence_for(contact)
    if cadence is None:
        return [None] * len(checked)
    tz = zone(contact.timezone)
    unset = datetime.min  # before_touch not worked out yet: most contacts never need it
    before_touch: datetime | None = unset

    def standing_in() -> datetime | None:
        """What stands for a touch until one is logged: None when nothing does."""
        nonlocal before_touch
        if before_touch is unset:
            before_touch = None
            if isinstance(cadence, Every) and _spread(contact, cadence):
                assert contact.added is not None
                # Spread like the first check-in: the interval ends on its day.
                first = first_check_in(contact.id, cadence, contact.added)
                before_touch = local_moment(first, DUE_AT, tz) - (
                    local_moment(cadence.after(contact.added), DUE_AT, tz)
                    - local_moment(contact.added, DUE_AT, tz)
                )
            elif contact.since is not None:
                before_touch = local_moment(contact.since, _MIDNIGHT, tz)
        return before_touch

    intervals: dict[datetime, float | None] = {}  # by last touch; None: due past the year 9999

    def interval_after(last: datetime) -> float | None:
        if last not in intervals:
            if isinstance(cadence, Every):
                try:
                    due = local_moment(cadence.after(last.astimezone(tz).date()), DUE_AT, tz)
                except (OverflowError, ValueError):  # due past the year 9999
                    intervals[last] = None
                else:
                    intervals[last] = (due - last).total_seconds()
            else:
                intervals[last] = cadence.approx_days * 86400
        return intervals[last]

    scores: list[float | None] = []
    for moment in checked:
        last = roster.last_touch(contact.id, moment)
        if last is None:
            last = standing_in()
            if last is None:
                scores.append(0.0)
                continue
            if last > moment:
                scores.append(1.0)
                continue
        interval = interval_after(last)
        if interval is None:
            scores.append(1.0)
            continue
        elapsed = (moment - last).total_seconds()
        scores.append(float(0.5 ** (elapsed / interval)))
    return scores
