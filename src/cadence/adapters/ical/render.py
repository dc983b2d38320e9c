"""The iCalendar feed: reminders as RFC 5545 events that a calendar app subscribes to.

``to_ical`` is pure: the same reminders and ``now`` give the same bytes, so a
feed's ETag changes only when something in it changed. Every moment written
derives from the reminders, never from the clock.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import icalendar
from icalendar import Alarm, Calendar, Event, Timezone, vDuration, vText
from icalendar.enums import TRANSP

from cadence.core.durations import shown_value
from cadence.core.errors import CadenceError
from cadence.core.reminders import Agenda, Reminder, reminder_key
from cadence.core.time import local_moment, require_aware
from cadence.l10n import ENGLISH, Words

__all__ = [
    "CHECK_IN_LENGTH",
    "PRODID",
    "clean_text",
    "event_calendar",
    "event_ical",
    "event_inputs",
    "feed_changes_at",
    "feed_inputs",
    "feed_title",
    "tagged_feed",
    "to_ical",
]

#: How long a timed check-in event lasts in a calendar.
CHECK_IN_LENGTH = timedelta(minutes=15)

#: The PRODID of every feed. It names no version, so upgrading cadence alone
#: does not change a feed's bytes.
PRODID = "-//cadence//cadence//EN"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE = timedelta(minutes=1)
_DAY = timedelta(days=1)
_LINE_ENDS = re.compile("\r\n?")
# Control characters (Unicode's Cc: C0, DEL and C1) but tab and newline, which
# RFC 5545 TEXT cannot carry or readers take for line breaks, and lone
# surrogates, which UTF-8 cannot encode.
_UNWRITABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` as a calendar can carry it: line ends made newlines, control characters dropped.

    CR LF and a lone CR become a newline (LF); every other control character
    (C0, DEL and C1) but tab and newline, and any lone surrogate, is removed.
    Everything else, any Unicode included, is kept as it is.
    """
    if "\r" in text:
        text = _LINE_ENDS.sub("\n", text)
    return _UNWRITABLE.sub("", text)


class _Text(vText):
    """TEXT escaped exactly as RFC 5545 3.3.11 says, so that any text reads back unchanged.

    icalendar's own escaping reads a literal backslash followed by ``N`` as a
    line break; this escapes every backslash instead.
    """

    __slots__ = ()

    def to_ical(self) -> bytes:
        escaped = (
            self.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
        )
        return escaped.encode("utf-8")


def _text(value: str) -> _Text:
    return _Text(clean_text(value))


@lru_cache(maxsize=256)
def _vtimezone(tzid: str, tz: ZoneInfo, first: date, last: date) -> Timezone:
    # Building a VTIMEZONE walks the zone's transitions: do it once per zone and span of years.
    return Timezone.from_tzinfo(tz, tzid, first, last)


@lru_cache(maxsize=256)
def _vtimezone_ical(tzid: str, tz: ZoneInfo, first: date, last: date) -> bytes:
    return bytes(_vtimezone(tzid, tz, first, last).to_ical())


def _sequence(revised: datetime) -> int:
    return max(0, (revised - _EPOCH) // _MINUTE)


def _description(reminder: Reminder, moved: bool, now: datetime | None, words: Words) -> _Text:
    # Each part is cleaned on its own: a CR ending one part must not swallow the next line break.
    lines = [words.gettext("Contact: {name}", name=clean_text(reminder.contact.name))]
    reason = words.reason(reminder)
    if reason:
        lines.append(words.gettext("Why: {reason}", reason=clean_text(reason)))
    if reminder.channel:
        lines.append(words.gettext("Channel: {channel}", channel=clean_text(reminder.channel)))
    # Only an event moved to today says how far its occasion is: the others
    # keep a description that does not change from day to day.
    occasion = words.occasion_words(reminder, now) if moved and now is not None else None
    if reminder.occasion_date is not None:
        day = words.date(reminder.occasion_date)
        if occasion:
            lines.append(
                words.gettext("Occasion: {date} ({when})", date=day, when=clean_text(occasion))
            )
        else:
            lines.append(words.gettext("Occasion: {date}", date=day))
    if moved and occasion is None:
        lines.append(words.gettext("Overdue since: {date}", date=words.date(reminder.date)))
    return _Text("\n".join(lines))


class _Zones:
    """The zones that timed events use, and the years they span, for the VTIMEZONEs."""

    __slots__ = ("first", "last", "used")

    def __init__(self) -> None:
        self.used: dict[str, ZoneInfo] = {}
        self.first = date.max.year
        self.last = date.min.year

    def note(self, event: Event, tz: ZoneInfo, year: int) -> None:
        tzid = event["DTSTART"].params.get("TZID")
        if tzid is None:  # UTC, written with a Z
            return
        self.used[tzid] = tz
        self.first = min(self.first, year)
        self.last = max(self.last, year)

    def components(self) -> list[Timezone]:
        if not self.used:
            return []
        # Whole years, so a VTIMEZONE stays the same while the feed's span of years does.
        first, last = date(self.first, 1, 1), date(self.last + 1, 1, 1)
        return [_vtimezone(tzid, self.used[tzid], first, last) for tzid in sorted(self.used)]


def _start(due: datetime, tz: ZoneInfo) -> datetime:
    """The start of a timed event: in the contact's zone when its TZID reads back as ``due``.

    RFC 5545 reads a local time that happens twice (the hour repeated when
    clocks go back) as its first occurrence, so the second one, and any
    other local time that would read back as another instant, is written in
    UTC instead.
    """
    local = due.astimezone(tz)
    if local.replace(fold=0).astimezone(UTC) != due.astimezone(UTC):
        return due.astimezone(UTC)
    return local


def _never_touched(reminder: Reminder) -> bool:
    # The check-in of a contact never touched is due from the moment it was
    # first planned, which says nothing about the hour to act: it is a to-do
    # for its day, like an overdue one.
    return reminder.key == reminder_key(reminder.contact.id, "cadence", "never")


def _event(reminder: Reminder, now: datetime | None, zones: _Zones, words: Words) -> Event:
    tz = reminder.contact.zone
    due = reminder.due
    # Where the event shows, and the moment from which it shows it there.
    day, revised, moved = reminder.date, due, False
    if now is not None and due <= now:
        today = now.astimezone(tz).date()
        if reminder.date < today:
            # Overdue from an earlier day: a to-do for today, shown all day.
            day, revised, moved = today, local_moment(today, time(0, 0), tz), True
    all_day = moved or reminder.kind == "occasion"
    if not all_day and _never_touched(reminder):
        # Shown all day on its date; its stamps derive from that day, so the
        # feed stays the same whatever moment planning gave it within the day.
        all_day, revised = True, local_moment(day, time(0, 0), tz)
    stamp = revised.astimezone(UTC).replace(microsecond=0)
    event = Event.new(
        uid=_text(reminder.key),
        stamp=stamp,
        last_modified=stamp,
        sequence=_sequence(revised),
        summary=_text(words.title(reminder)),
        description=_description(reminder, moved, now, words),
        start=day if all_day else _start(due, tz),
        end=day + _DAY if all_day else None,
        # Reminders are not appointments: they never make you look busy.
        transparency=TRANSP.TRANSPARENT,
    )
    if not all_day:
        event.DURATION = CHECK_IN_LENGTH
        zones.note(event, tz, day.year)
    if reminder.lead and (now is None or due > now):
        rings = due.astimezone(UTC).replace(microsecond=0)
        event.add_component(_alarm(words.title(reminder), rings))
    return event


def _alarm(title: str, rings: datetime) -> Alarm:
    alarm = Alarm.new_display(description=_Text(clean_text(title) or "Reminder"), trigger=rings)
    # RFC 5545 requires the parameter on an absolute trigger; icalendar leaves it out.
    alarm["TRIGGER"].params["VALUE"] = "DATE-TIME"
    return alarm


def _order(reminder: Reminder) -> tuple[datetime, str, str]:
    return (reminder.due, reminder.contact.id, reminder.key)


def _unique(reminders: Iterable[Reminder]) -> list[Reminder]:
    items = list(reminders)
    for item in items:
        if not isinstance(item, Reminder):
            raise CadenceError(f"to_ical() takes Reminders, not {type(item).__name__}")
    items.sort(key=_order)
    seen: set[str] = set()
    unique = []
    for item in items:
        if item.key not in seen:
            seen.add(item.key)
            unique.append(item)
    return unique


def _feed_name(name: object) -> _Text:
    if not isinstance(name, str) or not clean_text(name).strip():
        raise CadenceError(f"a feed's name must be non-empty text, not {name!r}")
    return _text(name)


def feed_title(name: str, tags: Iterable[str] = ()) -> str:
    """The title of the feed of the contacts with any of ``tags``, named ``name``.

    Without tags it is ``name``; with them, ``name`` followed by the tags,
    sorted, in brackets: ``cadence (card-list, retainer)``. The calendar's
    UID derives from the title, so each tag's feed is a calendar of its own.
    ``cadence feed --tag`` and the feed server's ``?tag=`` both title their
    calendars with it.
    """
    wanted = sorted(set(tags))
    return f"{name} ({', '.join(wanted)})" if wanted else name


def tagged_feed(
    reminders: Iterable[Reminder],
    tags: Iterable[str],
    *,
    name: str = "cadence",
    now: datetime | None = None,
    words: Words = ENGLISH,
) -> bytes:
    """The feed of the ``reminders`` of contacts with any of ``tags``, titled by ``feed_title``.

    Without tags it is the whole feed, ``to_ical(reminders, name=name)``.
    ``now`` defaults to the Agenda's, and ``words`` words it, as for ``to_ical``.
    """
    wanted = frozenset(tags)
    if now is None and isinstance(reminders, Agenda):
        now = reminders.now
    return to_ical(_tagged(reminders, wanted), name=feed_title(name, wanted), now=now, words=words)


def _tagged(reminders: Iterable[Reminder], wanted: frozenset[str]) -> Iterable[Reminder]:
    if not wanted:
        return reminders
    return [r for r in reminders if not wanted.isdisjoint(r.contact.tags)]


def feed_inputs(
    reminders: Iterable[Reminder],
    tags: Iterable[str] = (),
    *,
    name: str = "cadence",
    now: datetime | None = None,
    words: Words = ENGLISH,
) -> str:
    """A digest of everything ``tagged_feed`` reads, far cheaper than rendering.

    Equal digests give equal bytes, so it serves as the feed's ETag: it
    comes from what the feed is made of (each reminder's key and what its
    event shows at ``now``, the title), not from rendering it. It names the
    versions of cadence and of the iCalendar library too: an upgrade that
    may write other bytes gives other digests. ``now`` defaults to the
    Agenda's, as for ``tagged_feed``.
    """
    from cadence import __version__

    wanted = frozenset(tags)
    if now is None and isinstance(reminders, Agenda):
        now = reminders.now
    if now is not None:
        now = require_aware(now, "now")
    title = _feed_name(feed_title(name, wanted))
    digest = hashlib.sha256(repr((__version__, icalendar.__version__, str(title))).encode("utf-8"))
    for reminder in _unique(_tagged(reminders, wanted)):
        digest.update(repr(_event_parts(reminder, now, words)).encode("utf-8"))
    return digest.hexdigest()


def feed_changes_at(reminders: Iterable[Reminder], now: datetime) -> datetime | None:
    """The first moment after ``now`` at which the same reminders could render to other bytes.

    A feed written at ``now`` stays the same until then: the moment a
    reminder with a lead time falls due (its alarm goes), the first
    midnight, in a contact's zone, after a reminder's day once it is due
    (it moves to today, all day), and each midnight after that while it is
    shown on today. None when there is no reminder.
    """
    moment = require_aware(now, "now").astimezone(UTC)
    first: datetime | None = None
    midnights: dict[tuple[date, str], datetime] = {}
    for reminder in reminders:
        tz = reminder.contact.zone
        due = reminder.due.astimezone(UTC)
        # Once due, a reminder shows on today (or its own day, if later), which
        # changes when the day after begins in the contact's zone.
        today = moment.astimezone(tz).date() if due <= moment else reminder.date
        day = max(reminder.date, today)
        key = (day, tz.key)
        after = midnights.get(key)
        if after is None:
            after = midnights[key] = local_moment(day + _DAY, time(0, 0), tz).astimezone(UTC)
        changes = max(due, after)
        if reminder.lead and due > moment:
            changes = due
        if first is None or changes < first:
            first = changes
    return first


def to_ical(
    reminders: Iterable[Reminder],
    *,
    name: str = "cadence",
    now: datetime | None = None,
    refresh: timedelta = timedelta(hours=1),
    words: Words = ENGLISH,
) -> bytes:
    """An RFC 5545 calendar of ``reminders``, as the bytes of an .ics file.

    ``reminders`` is an Agenda or any iterable of Reminders; each becomes one
    VEVENT whose UID is the reminder's key, so a regenerated feed updates its
    events instead of adding copies. Occasions are all-day events; check-ins
    are timed events in the contact's zone, with that zone's VTIMEZONE.
    Reminders overdue from an earlier day are shown all day on today, the day
    ``now`` falls on in the contact's zone; ``now`` defaults to the Agenda's,
    and without one every reminder stays on its own date. A reminder with a
    lead time is its own event on the day to act, with an alarm at its due
    moment while that is still ahead.

    DTSTAMP, LAST-MODIFIED and SEQUENCE derive from each reminder, never from
    the clock: the same reminders and ``now`` give the same bytes. ``name``
    titles the calendar (NAME and X-WR-CALNAME); ``refresh`` is how often
    clients should fetch it again (REFRESH-INTERVAL and X-PUBLISHED-TTL).
    Text keeps any Unicode; line ends become newlines and other control
    characters are dropped (see ``clean_text``). ``words`` gives SUMMARY and
    DESCRIPTION their words (``cadence.l10n``; the core's English by
    default); UIDs, dates and stamps are the same in every language.
    """
    title = _feed_name(name)
    if now is None and isinstance(reminders, Agenda):
        now = reminders.now
    if now is not None:
        now = require_aware(now, "now")
    every: object = refresh
    if not isinstance(every, timedelta) or every < timedelta(seconds=1):
        raise CadenceError(
            f"refresh must be a duration of a second or more, not {shown_value(every)}"
        )
    refresh = timedelta(seconds=int(every.total_seconds()))
    zones = _Zones()
    events = [_event(reminder, now, zones, words) for reminder in _unique(reminders)]
    calendar = Calendar.new(
        prodid=PRODID,
        calscale="GREGORIAN",
        # A calendar UID (RFC 7986) that names the feed, not the moment it was made.
        uid=hashlib.sha256(title.encode("utf-8")).hexdigest()[:32],
        name=title,
        refresh_interval=refresh,
        subcomponents=[*zones.components(), *events],
    )
    # RFC 7986 requires the parameter; icalendar leaves it out.
    calendar["REFRESH-INTERVAL"].params["VALUE"] = "DURATION"
    # icalendar leaves vDuration.to_ical unannotated.
    ttl = vDuration(refresh).to_ical()  # type: ignore[no-untyped-call]
    calendar.add("X-PUBLISHED-TTL", vText(ttl.decode("ascii")))
    return bytes(calendar.to_ical())


def event_calendar(
    reminder: Reminder,
    *,
    now: datetime | None = None,
    alarm: timedelta | None = None,
    properties: Mapping[str, str] = MappingProxyType({}),
    words: Words = ENGLISH,
) -> bytes:
    """One reminder's event alone in a calendar, as a CalDAV server stores it (RFC 4791 4.1).

    The VEVENT is the one ``to_ical`` writes for ``reminder`` at ``now``,
    with the VTIMEZONE it uses, and ``properties`` (``X-`` names) added to
    it. Its alarms are replaced: with ``alarm``, one VALARM rings that long
    before the due moment while that moment is still ahead of ``now``;
    without it, the event has none. Pure, like ``to_ical``, and worded by
    ``words`` as it is.
    """
    if not isinstance(reminder, Reminder):
        raise CadenceError(f"event_calendar() takes a Reminder, not {type(reminder).__name__}")
    if now is not None:
        now = require_aware(now, "now")
    zones = _Zones()
    event = _event(reminder, now, zones, words)
    event.subcomponents = [c for c in event.subcomponents if not isinstance(c, Alarm)]
    for name, value in properties.items():
        event.add(name, _text(value))
    if alarm is not None:
        rings = (reminder.due - alarm).astimezone(UTC).replace(microsecond=0)
        if now is None or rings > now:
            event.add_component(_alarm(words.title(reminder), rings))
    calendar = Calendar.new(
        prodid=PRODID, calscale="GREGORIAN", subcomponents=[*zones.components(), event]
    )
    del calendar["UID"]  # icalendar makes up a random one; the event's UID is what counts
    return bytes(calendar.to_ical())


def event_ical(
    reminder: Reminder, *, now: datetime | None = None, words: Words = ENGLISH
) -> tuple[bytes, bytes]:
    """The VTIMEZONE and the VEVENT of ``to_ical((reminder,), now=now, words=words)``.

    The first is empty when the event needs no zone (all day, or in UTC).
    The calendar of one reminder is ``to_ical((), ...)`` with these two
    written before its END:VCALENDAR, byte for byte: a writer of many
    one-reminder calendars renders the calendar's own properties once and
    each reminder's parts once, as this does.
    """
    if not isinstance(reminder, Reminder):
        raise CadenceError(f"event_ical() takes a Reminder, not {type(reminder).__name__}")
    if now is not None:
        now = require_aware(now, "now")
    zones = _Zones()
    event = _event(reminder, now, zones, words)
    zone = b""
    if zones.used:
        first, last = date(zones.first, 1, 1), date(zones.last + 1, 1, 1)
        (tzid,) = zones.used
        zone = _vtimezone_ical(tzid, zones.used[tzid], first, last)
    return zone, bytes(event.to_ical())


def event_inputs(
    reminder: Reminder,
    *,
    now: datetime | None = None,
    alarm: timedelta | None = None,
    properties: Mapping[str, str] = MappingProxyType({}),
    words: Words = ENGLISH,
) -> str:
    """A digest of everything ``event_calendar`` reads, far cheaper than rendering.

    Equal digests give equal bytes, so a publisher that kept the digest of
    what it wrote need not render an unchanged event again. It names the
    cadence version too: an upgrade renders everything once more.
    """
    from cadence import __version__

    # The moment as event_calendar writes it: in UTC, to the second.
    rings = None if alarm is None else (reminder.due - alarm).astimezone(UTC).replace(microsecond=0)
    parts = (
        __version__,
        *_event_parts(reminder, now, words),
        None if rings is None else (rings.isoformat(), now is None or rings > now),
        sorted(properties.items()),
    )
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def _event_parts(reminder: Reminder, now: datetime | None, words: Words) -> tuple[object, ...]:
    """Everything ``_event`` reads of ``reminder`` at ``now``, worded by ``words``."""
    tz = reminder.contact.zone
    moved: tuple[object, ...] = ()
    if now is not None and reminder.due <= now:
        today = now.astimezone(tz).date()
        if reminder.date < today:
            moved = (today.isoformat(), words.occasion_words(reminder, now))
    return (
        reminder.key,
        reminder.contact.id,
        reminder.contact.name,
        tz.key,
        reminder.due.astimezone(UTC).isoformat(),
        reminder.date.isoformat(),
        reminder.kind,
        reminder.title,
        reminder.reason,
        reminder.channel,
        reminder.occasion_date.isoformat() if reminder.occasion_date else None,
        bool(reminder.lead) and (now is None or reminder.due > now),
        moved,
        # Another language, other words; the facts are what they are made of there.
        words.locale,
        reminder.facts if words.locale is not None else None,
    )
