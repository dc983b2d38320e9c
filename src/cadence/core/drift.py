"""Drift: the signs, read from a contact's own history, that a relationship is fading.

The model compares what happened lately with what used to happen between you
and this contact, never with other contacts. It reads personal touchpoints
alone (bulk mail is no sign of anything) from the last ``LOOKBACK`` before
``now``, and looks at five things:

- **silence**: how long since they were last in touch (a message or call
  from them, or a meeting), against the longest silences the relationship
  usually has (``SILENCE_QUANTILE`` of the earlier gaps), or against a longer
  one it was in a year or two before, around the day this silence began, and
  came back from (a season);
- **unanswered**: the run of your messages since their last touch that have
  waited past the reply window, weighed by how rare such a run is by their
  own habit (the share they left unanswered before);
- **replies**: how many of your last ``RECENT_MAILS`` messages they answered
  within the reply window, against the share they answered before;
- **reply time**: how long they took to answer your latest messages (or
  how long your newest unanswered one has waited), against how long they
  used to take;
- **meetings**: how long since the last meeting, against the usual gap
  between meetings.

Each sign gives a strength, 0 when things look as usual and 1 when that
sign alone is enough to call the relationship at risk; the score is their
sum. A score of ``WATCH`` or more is ``watch``, ``AT_RISK`` or more is
``at-risk``. Every sign needs enough history of its own to say anything,
so a new relationship, or one without mail or meetings, gives no signal.

Between two touches the score only grows as time passes (silences lengthen,
messages go unanswered), so the moment a contact enters at-risk can be found
from the history alone. That moment starts an *episode*, which lasts until a
touch brings the score down again, and it keys the at-risk reminder.

Reasons are kept as facts (``DriftReason``: numbers and dates) and put into
English words by ``reason_words`` alone; an at-risk reminder carries them in
its facts (``Facts.signs``), from which ``cadence.l10n`` words them in any
language.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Literal, TypeAlias
from zoneinfo import ZoneInfo

import attrs

from cadence.core.errors import CadenceError
from cadence.core.model import Contact, Touchpoint
from cadence.core.reminders import Facts, Reminder, reminder_key
from cadence.core.roster import BULK, MET, SENT, Roster
from cadence.core.time import long_date, require_aware

__all__ = [
    "AT_RISK",
    "LOOKBACK",
    "WATCH",
    "Drift",
    "DriftLevel",
    "DriftReason",
    "at_risk",
    "drift",
    "reason_words",
    "rhythm",
]

DriftLevel: TypeAlias = Literal["steady", "watch", "at-risk"]
Signal: TypeAlias = Literal["silence", "unanswered", "replies", "reply-time", "meetings"]
Trend: TypeAlias = Literal["worse", "better", "same"]

#: How far back the model reads a contact's history.
LOOKBACK = timedelta(days=730)
#: The score from which a relationship is worth watching, and from which it is at risk.
WATCH = 0.5
AT_RISK = 1.0
#: How many of your latest messages the replies sign looks at.
RECENT_MAILS = 5
#: Which of the earlier silences counts as the usual longest: the 90th percentile.
SILENCE_QUANTILE = 0.9
#: How far back the trend compares the score.
TREND_SPAN = timedelta(days=28)

# The unanswered sign weighs how rare a run of unanswered messages would be
# by the contact's own habits: its "rarity" is -log10 of the chance (1 in
# 100 is 2), and its strength (rarity - start) / span.
UNANSWERED_START, UNANSWERED_SPAN, UNANSWERED_CAP = 1.5, 2.0, 0.9
# Each sign's strength is (ratio - start) / span: 0 up to ``start``, 1 at ``start + span``.
SILENCE_START, SILENCE_SPAN = 1.2, 1.5
REPLIES_START, REPLIES_SPAN = 0.3, 0.6
LATENCY_START, LATENCY_SPAN = 2.5, 4.0
MEETINGS_START, MEETINGS_SPAN = 1.75, 2.0
# The most each sign can give: only a long silence is enough alone; the
# others need another sign to agree before a relationship is at risk.
SILENCE_CAP, REPLIES_CAP, LATENCY_CAP, MEETINGS_CAP = 2.0, 0.9, 0.4, 0.6

# How much history each sign needs: gaps between their touches, your earlier
# messages, gaps between meetings.
MIN_GAPS = 4
MIN_MAILS = 5
MIN_ANSWERS = 3
MIN_UNANSWERED_MAILS = 3
MIN_MEETING_GAPS = 3
# A message counts as unanswered once this many times their usual reply
# time has passed, and never sooner than MIN_WINDOW days.
WINDOW_FACTOR = 4.0
MIN_WINDOW = 2.0
# Touches from them less than this many days apart are one conversation.
SAME_CONVERSATION = 1.0
# A message of yours this many days after one of theirs is your answer to it.
ANSWER_SPAN = 1.0
# At most this many earlier gaps or messages make the baseline.
MAX_BASELINE = 40
# A season: a silence around the same day a year before (give or take
# SEASON_SLACK days) that the relationship came back from.
YEAR = 365.0
SEASON_SLACK = 30.0
SEASON_AHEAD = 60.0
# A quiet stretch at least this many usual gaps long is a season; so is a
# shorter one, from SEASON_QUIET usual gaps, in which you too wrote less than
# SEASON_YOURS times as often as you usually do (quiet on both sides, as a
# season is, where a holiday of theirs leaves your messages waiting).
SEASON_LENGTH = 2.0
SEASON_QUIET = 0.8
SEASON_YOURS = 0.5
_DAY = 86400.0


@attrs.frozen
class DriftReason:
    """One sign of drift, as facts: which sign, how strong, and its numbers and dates.

    ``signal`` is "silence", "unanswered", "replies", "reply-time" or "meetings";
    ``strength`` is 0 when things look as usual and 1 when this sign alone
    makes the relationship at risk. The other fields are the numbers the
    words are made of (``reason_words`` says which each sign uses): ``since``
    is the local date of their last touch or of the last meeting; ``days``
    how long it has been, or how long they take to answer now; ``usual_days``
    the usual gap or reply time before; ``answered`` and ``of`` how many of
    your latest messages they answered (for "unanswered": how many of your
    earlier messages they answered, of how many; ``days`` is then the run of
    unanswered ones, and ``since`` the first of them); ``usual_share`` the
    share they answered before.
    """

    signal: Signal
    strength: float
    since: date | None = None
    days: float | None = None
    usual_days: float | None = None
    answered: int | None = None
    of: int | None = None
    usual_share: float | None = None


@attrs.frozen
class Drift:
    """How a relationship is going, by its own history: a level, a score, the reasons, a trend.

    ``level`` is "steady", "watch" or "at-risk"; ``score`` the sum of the
    signs' strengths (``WATCH`` and ``AT_RISK`` are the thresholds);
    ``reasons`` the signs that count, strongest first; ``trend`` compares the
    score with the one ``TREND_SPAN`` earlier: "worse", "better" or "same";
    ``since`` is when the current at-risk episode began (None unless
    at-risk). ``name`` is the contact's name, for the words.
    """

    contact: str
    name: str
    level: DriftLevel
    score: float
    reasons: tuple[DriftReason, ...] = ()
    trend: Trend = "same"
    since: datetime | None = None

    @property
    def words(self) -> tuple[str, ...]:
        """The reasons in words, strongest first."""
        return tuple(reason_words(reason, self.name) for reason in self.reasons)


def level_of(score: float) -> DriftLevel:
    """The level a score gives: at-risk from ``AT_RISK``, watch from ``WATCH``, else steady."""
    if score >= AT_RISK:
        return "at-risk"
    if score >= WATCH:
        return "watch"
    return "steady"


# -- the words -----------------------------------------------------------------


def _days(value: float) -> str:
    days = max(1, round(value))
    return "1 day" if days == 1 else f"{days} days"


Rhythm: TypeAlias = Literal["weekly", "fortnightly", "monthly", "quarterly"]
_RHYTHMS: tuple[tuple[int, Rhythm], ...] = (
    (7, "weekly"),
    (14, "fortnightly"),
    (30, "monthly"),
    (91, "quarterly"),
)


def rhythm(days: float) -> Rhythm | None:
    """The usual gap of ``days`` as a named rhythm ("weekly", "monthly"...), or None."""
    for near, word in _RHYTHMS:
        if abs(days - near) <= near * 0.15:
            return word
    return None


def _rhythm(days: float) -> str:
    """A usual gap in words: "weekly", "monthly", "every 10 days"."""
    return rhythm(days) or f"every {_days(days)}"


def reason_words(reason: DriftReason, name: str) -> str:
    """One reason in plain words, for the contact called ``name``.

    The one place where drift's facts become English, such as "Ana
    answered 1 of your last 5 messages; before, 9 in 10 within 2 days":
    a translation replaces this function.
    """
    if reason.signal == "silence":
        assert reason.since is not None
        assert reason.days is not None
        assert reason.usual_days is not None
        return (
            f"nothing from {name} since {long_date(reason.since)} ({_days(reason.days)}); "
            f"before, no more than {_days(reason.usual_days)} passed"
        )
    if reason.signal == "unanswered":
        assert reason.since is not None
        assert reason.days is not None
        assert reason.answered is not None
        assert reason.of is not None
        run = round(reason.days)
        mails = "your last message" if run == 1 else f"your last {run} messages"
        return (
            f"{name} has not answered {mails}, since {long_date(reason.since)}; "
            f"before, {reason.answered} of {reason.of} were answered"
        )
    if reason.signal == "replies":
        assert reason.answered is not None
        assert reason.of is not None
        assert reason.usual_share is not None
        assert reason.usual_days is not None
        tenths = round(reason.usual_share * 10)
        return (
            f"{name} answered {reason.answered} of your last {reason.of} messages; "
            f"before, {tenths} in 10 within {_days(reason.usual_days)}"
        )
    if reason.signal == "reply-time":
        assert reason.days is not None
        assert reason.usual_days is not None
        return (
            f"{name} now takes {_days(reason.days)} to answer; before, {_days(reason.usual_days)}"
        )
    assert reason.since is not None
    assert reason.usual_days is not None
    return (
        f"no meeting since {long_date(reason.since)}; you met {_rhythm(reason.usual_days)} before"
    )


# -- the model -------------------------------------------------------------------


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _median(values: Sequence[float]) -> float:
    return _quantile(values, 0.5)


def _strength(ratio: float, start: float, span: float, cap: float) -> float:
    return min(cap, max(0.0, (ratio - start) / span))


@attrs.frozen
class _Fact:
    """A reason before its date is made local: moments stay in days since the epoch."""

    signal: Signal
    strength: float
    since: float | None = None
    days: float | None = None
    usual_days: float | None = None
    answered: int | None = None
    of: int | None = None
    usual_share: float | None = None


class Timeline:
    """One contact's personal touches as moments (days since the epoch), ready to be assessed.

    ``heard`` holds the moments they were in touch (a touch "in", or a
    meeting), ``sent`` those you reached out by any other way, ``met`` the
    meetings. Bulk touches are left out: they are neither a reply nor a sign.
    """

    __slots__ = ("heard", "met", "sent")

    def __init__(self, touches: Sequence[Touchpoint]) -> None:
        heard: list[float] = []
        sent: list[float] = []
        met: list[float] = []
        for touch in touches:
            if not touch.personal:
                continue
            moment = touch.at.timestamp() / _DAY
            if touch.channel == "meeting":
                met.append(moment)
                heard.append(moment)
            elif touch.direction == "in":
                heard.append(moment)
            else:
                sent.append(moment)
        heard.sort()
        sent.sort()
        met.sort()
        self.heard = heard
        self.sent = sent
        self.met = met

    @classmethod
    def _of(cls, roster: Roster, contact_id: str) -> Timeline:
        """The contact's timeline, read from the roster's columns without making touchpoints."""
        at, kinds = roster._personal(contact_id)
        heard: list[float] = []
        sent: list[float] = []
        met: list[float] = []
        # In time order already. As Touchpoint.at.timestamp() / _DAY gives it:
        # microseconds / 10**6 is the same correctly rounded division.
        for micros, kind in zip(at, kinds, strict=True):
            if kind == BULK:
                continue
            moment = micros / 1_000_000 / _DAY
            if kind == SENT:
                sent.append(moment)
            else:
                heard.append(moment)
                if kind == MET:
                    met.append(moment)
        line = cls.__new__(cls)
        line.heard = heard
        line.sent = sent
        line.met = met
        return line

    def times(self) -> list[float]:
        """Every moment of the timeline, in order."""
        return sorted({*self.heard, *self.sent})

    def score(self, now: float) -> float:
        """The score at ``now`` (days since the epoch)."""
        return sum(fact.strength for fact in self.assess(now))

    def assess(self, now: float) -> list[_Fact]:
        """The signs at ``now``, each with its strength, from the touches up to ``now``."""
        upto = bisect_right(self.heard, now)
        if not upto:
            return []
        # The history read ends LOOKBACK before their last touch, not before
        # now: a silence must not wipe out the history it is measured against.
        start = self.heard[upto - 1] - LOOKBACK.days
        heard = self.heard[bisect_left(self.heard, start) : upto]
        sent = self.sent[bisect_left(self.sent, start) : bisect_right(self.sent, now)]
        met = self.met[bisect_left(self.met, start) : bisect_right(self.met, now)]
        # A message of yours soon after one of theirs answers it; it is no
        # question of yours waiting for an answer, so it is left out of the
        # reply signs, lest a "thank you" left unanswered count as a miss.
        sent = [t for t in sent if not _answers(heard, t)]
        facts: list[_Fact] = []
        # Your messages before their last touch tell how often you write: the
        # ones since then are left out, so that more of them never shorten
        # the silence a season allows.
        usual_gap = self._silence(heard, sent[: bisect_left(sent, heard[-1])], now, facts)
        self._replies(heard, sent, now, usual_gap, facts)
        self._meetings(met, now, facts)
        return facts

    def _silence(
        self, heard: list[float], sent: list[float], now: float, facts: list[_Fact]
    ) -> float | None:
        """Add the silence sign; return the usual longest gap between their touches."""
        gaps: list[tuple[float, float]] = []
        for before, after in zip(heard, heard[1:], strict=False):  # noqa: RUF007  # the core keeps to its few imports
            if after - before >= SAME_CONVERSATION:
                gaps.append((before, after))
        if len(gaps) < MIN_GAPS:
            return None
        usual = _quantile([b - a for a, b in gaps[-MAX_BASELINE:]], SILENCE_QUANTILE)
        usual = max(usual, _season(gaps, heard[-1], usual, sent))
        last = heard[-1]
        silence = now - last
        strength = _strength(silence / usual, SILENCE_START, SILENCE_SPAN, SILENCE_CAP)
        if strength > 0:
            facts.append(_Fact("silence", strength, since=last, days=silence, usual_days=usual))
        return usual

    def _replies(
        self,
        heard: list[float],
        sent: list[float],
        now: float,
        usual_gap: float | None,
        facts: list[_Fact],
    ) -> None:
        """Add the replies and reply-time signs."""
        last_heard = heard[-1]
        split = bisect_left(sent, last_heard)
        before = sent[:split]  # all answered or not, for good: a touch from them came after
        self._unanswered(heard, before, sent[split:], now, usual_gap, facts)
        # The latest RECENT_MAILS before their last touch are part of the recent
        # window; the baseline is what came before those, so that more
        # unanswered messages after it can only make the recent window worse.
        baseline = before[:-RECENT_MAILS][-MAX_BASELINE:]
        if len(baseline) < MIN_MAILS:
            return
        delays = [_reply_delay(heard, t) for t in baseline]
        answered_delays = [d for d in delays if d is not None]
        if not answered_delays:
            return
        usual_delay = max(_median(answered_delays), 0.05)
        window = max(MIN_WINDOW, WINDOW_FACTOR * usual_delay)
        if usual_gap is not None:
            window = min(window, max(MIN_WINDOW, usual_gap))
        share_before = sum(1 for d in delays if d is not None and d <= window) / len(delays)
        after = [t for t in sent[split:] if now - t > window]  # unanswered, for good
        recent = [*before[-RECENT_MAILS:], *after][-RECENT_MAILS:]
        if share_before > 0:
            answered = sum(
                1 for t in recent if (d := _reply_delay(heard, t)) is not None and d <= window
            )
            drop = 1 - (answered / len(recent)) / share_before
            strength = _strength(drop, REPLIES_START, REPLIES_SPAN, REPLIES_CAP)
            if facts and facts[-1].signal == "unanswered":
                # The run since their last touch is among the latest messages
                # too: one cause, counted once, by the stronger sign.
                strength = max(0.0, strength - facts[-1].strength)
            if strength > 0:
                facts.append(
                    _Fact(
                        "replies",
                        strength,
                        answered=answered,
                        of=len(recent),
                        usual_share=share_before,
                        usual_days=usual_delay,
                    )
                )
        # Reply time: how long they took to answer your latest messages that
        # they did answer (before a usual silence had passed: a touch after
        # that is no answer), against how long they took before.
        longest = usual_gap if usual_gap is not None else float("inf")
        latest = [
            d
            for d in (_reply_delay(heard, t) for t in before[-RECENT_MAILS:])
            if d is not None and d <= longest
        ]
        if len(latest) < MIN_ANSWERS:
            return
        taken = _median(latest)
        strength = _strength(taken / usual_delay, LATENCY_START, LATENCY_SPAN, LATENCY_CAP)
        if facts and facts[-1].signal == "replies":
            # Late answers also go unanswered within the window: one cause,
            # counted once, by the stronger of the two signs.
            strength = max(0.0, strength - facts[-1].strength)
        if strength > 0:
            facts.append(_Fact("reply-time", strength, days=taken, usual_days=usual_delay))

    def _unanswered(
        self,
        heard: list[float],
        before: list[float],
        since: list[float],
        now: float,
        usual_gap: float | None,
        facts: list[_Fact],
    ) -> None:
        """Add the unanswered sign: your messages since their last touch, against their habit.

        The chance that they leave a message unanswered is read from your
        earlier messages, counting one more answered and one more unanswered
        than there were (so that a short history never makes a miss look
        impossible); the chance of the run is that chance to the power of
        its length.
        """
        baseline = before[-MAX_BASELINE:]
        if len(baseline) < MIN_UNANSWERED_MAILS:
            return
        delays = [_reply_delay(heard, t) for t in baseline]
        answered_delays = [d for d in delays if d is not None]
        if not answered_delays:
            return
        window = max(MIN_WINDOW, WINDOW_FACTOR * max(_median(answered_delays), 0.05))
        if usual_gap is not None:
            window = min(window, max(MIN_WINDOW, usual_gap))
        missed = [d is None or d > window for d in delays]
        answered = missed.count(False)
        miss = (len(baseline) - answered + 1) / (len(baseline) + 2)
        run = [t for t in since if now - t > window]
        if not run:
            return
        rarity = len(run) * -math.log10(miss)
        strength = _strength(rarity, UNANSWERED_START, UNANSWERED_SPAN, UNANSWERED_CAP)
        if strength > 0:
            facts.append(
                _Fact(
                    "unanswered",
                    strength,
                    since=run[0],
                    answered=answered,
                    of=len(baseline),
                    days=float(len(run)),
                )
            )

    def _meetings(self, met: list[float], now: float, facts: list[_Fact]) -> None:
        """Add the meetings sign."""
        pairs = zip(met, met[1:], strict=False)  # noqa: RUF007  # the core keeps to its few imports
        spans = [(a, b) for a, b in pairs if b - a >= SAME_CONVERSATION]
        if len(spans) < MIN_MEETING_GAPS:
            return
        usual = _median([b - a for a, b in spans[-MAX_BASELINE:]])
        # Seasons count here too: the usual gap is a median, so a season is
        # a stretch of more than SEASON_LENGTH of them.
        usual = max(usual, _season(spans, met[-1], usual) / MEETINGS_START)
        since = now - met[-1]
        strength = _strength(since / usual, MEETINGS_START, MEETINGS_SPAN, MEETINGS_CAP)
        if strength > 0:
            facts.append(_Fact("meetings", strength, since=met[-1], usual_days=usual))

    def entered_at_risk(self, now: float) -> float | None:
        """When the at-risk episode under way at ``now`` began; None when not at risk at ``now``.

        Between touches the score only grows, so within the stretch since the
        last touch the episode began where the score first reached
        ``AT_RISK``; when it was at risk from that touch on, the episode
        may have begun in an earlier stretch, and the search goes on back.
        """
        if self.score(now) < AT_RISK:
            return None
        times = self.times()
        index = bisect_right(times, now)
        end = now
        while index > 0:
            touch = times[index - 1]
            if self.score(touch) < AT_RISK:
                return self._crossing(touch, end)
            if self.score(touch - 1e-6) < AT_RISK:
                return touch
            end = touch - 1e-6
            index -= 1
        return self._crossing(end - LOOKBACK.days, end)

    def next_at_risk(self, now: float, until: float) -> float | None:
        """When, after ``now`` and by ``until``, the score reaches AT_RISK if nothing happens."""
        if self.score(until) < AT_RISK:
            return None
        return self._crossing(now, until)

    def _crossing(self, low: float, high: float, threshold: float = AT_RISK) -> float:
        """The first moment in (low, high] at which the score reaches ``threshold``.

        It does at ``high``.
        """
        # To the minute: the score only grows between touches.
        while high - low > 1 / 1440:
            middle = (low + high) / 2
            if self.score(middle) >= threshold:
                high = middle
            else:
                low = middle
        return _to_minute(high)


def _to_minute(moment: float) -> float:
    minutes = moment * 1440
    whole = int(minutes)
    return (whole if whole == minutes else whole + 1) / 1440


def _answers(heard: list[float], sent_at: float) -> bool:
    """Whether a message sent at ``sent_at`` came within ``ANSWER_SPAN`` days of one of theirs."""
    index = bisect_right(heard, sent_at)
    return index > 0 and sent_at - heard[index - 1] <= ANSWER_SPAN


def _reply_delay(heard: list[float], sent_at: float) -> float | None:
    """How long after ``sent_at`` they were next in touch, if they were."""
    index = bisect_right(heard, sent_at)
    return heard[index] - sent_at if index < len(heard) else None


def _season(
    gaps: list[tuple[float, float]],
    began: float,
    usual: float,
    sent: Sequence[float] = (),
) -> float:
    """How long a silence that ``began`` then may last, by the same season of earlier years.

    A quiet stretch is a run of gaps longer than ``usual`` that the
    relationship came back from (a usual gap followed it), at least
    ``SEASON_LENGTH`` usual gaps long in all, or at least ``SEASON_QUIET``
    usual gaps long if you too wrote less than ``SEASON_YOURS`` times as
    often as usual then (your messages ``sent``: quiet on both sides, as in
    a season, not only on theirs, as in a holiday). One that, a year or two before, was under
    way on the day this silence began, or began up to ``SEASON_AHEAD`` days
    later (a season's last touch falls a little earlier or later each year),
    allows this silence to last until the day they came back then. Reckoned
    from when the silence began, not from now, so that the allowance stays
    put while the silence lasts.
    """
    longest = 0.0
    begun: float | None = None
    # How often you write, per day, over the history read.
    pace = (len(sent) - 1) / (sent[-1] - sent[0]) if len(sent) > 1 and sent[-1] > sent[0] else 0.0
    for before, after in gaps:
        if after - before > usual:
            if begun is None:
                begun = before
            continue
        if begun is not None:
            quiet_end = before  # the stretch ended with the touch that began this usual gap
            length = quiet_end - begun
            season = length >= SEASON_LENGTH * usual
            if not season and pace > 0 and length >= SEASON_QUIET * usual:
                yours = bisect_left(sent, quiet_end) - bisect_right(sent, begun)
                season = yours < SEASON_YOURS * pace * length
            if season:
                for years in (1, 2):
                    around = began - years * YEAR
                    if quiet_end >= around - SEASON_SLACK and begun <= around + SEASON_AHEAD:
                        longest = max(longest, quiet_end - min(begun, around))
            begun = None
    return longest


# -- the public function ---------------------------------------------------------


def _moment(days: float) -> datetime:
    return datetime.fromtimestamp(round(days * _DAY), UTC)


def timeline(roster: Roster, contact_id: str) -> Timeline:
    """The contact's timeline, built once per roster."""
    return roster._derived(("drift", contact_id), lambda: Timeline._of(roster, contact_id))


def _reasons(facts: list[_Fact], tz: ZoneInfo) -> tuple[DriftReason, ...]:
    """The facts as reasons, strongest first, with local dates and rounded numbers."""
    return tuple(
        DriftReason(
            f.signal,
            round(f.strength, 2),
            since=None if f.since is None else _moment(f.since).astimezone(tz).date(),
            days=None if f.days is None else round(f.days, 1),
            usual_days=None if f.usual_days is None else round(f.usual_days, 1),
            answered=f.answered,
            of=f.of,
            usual_share=None if f.usual_share is None else round(f.usual_share, 2),
        )
        for f in sorted(facts, key=lambda f: (-f.strength, f.signal))
    )


def drift(roster: Roster, contact_id: str, *, now: datetime) -> Drift:
    """How the relationship with a contact is going at ``now``, judged by its own history.

    Compares the contact's recent touches with their own earlier ones (see
    the module's notes and docs/drift.md for the model) and returns a
    ``Drift``: the level ("steady", "watch" or "at-risk"), the score, the
    reasons and the trend. Pure: the same roster and ``now`` give the same
    answer. A contact with no history, or too little, is "steady" with no
    reasons: no history gives no signal.
    """
    if not isinstance(roster, Roster):
        raise CadenceError(f"drift() needs a Roster, not {roster!r}")
    moment = require_aware(now, "now").astimezone(UTC)
    contact = roster.contact(contact_id)
    line = timeline(roster, contact.id)
    at = moment.timestamp() / _DAY
    facts = line.assess(at)
    raw = sum(f.strength for f in facts)
    score = round(raw, 2)
    earlier = round(line.score(at - TREND_SPAN.days), 2)
    trend: Trend = "worse" if score > earlier else "better" if score < earlier else "same"
    level = level_of(raw)
    tz = contact.zone
    reasons = _reasons(facts, tz)
    since = None
    if level == "at-risk":
        began = line.entered_at_risk(at)
        since = None if began is None else _moment(began).astimezone(tz)
    return Drift(contact.id, contact.name, level, score, reasons, trend, since)


def at_risk(
    roster: Roster, contact: Contact, now: datetime, until: datetime, found: list[Reminder]
) -> None:
    """Add the contact's at-risk reminder to ``found``, if it is at risk by ``until`` (both UTC).

    It falls due when the episode began, or, when the contact is not at
    risk at ``now``, at the moment it will be if nothing happens first.
    Its key comes from the contact and the day the episode began, so the
    episode gives one reminder however often it is planned; its reason is
    the reasons as they stood when it began.
    """
    line = timeline(roster, contact.id)
    if len(line.heard) <= MIN_GAPS:  # too little history to say anything
        return
    at = now.timestamp() / _DAY
    began = line.entered_at_risk(at)
    if began is None:
        began = line.next_at_risk(at, until.timestamp() / _DAY)
        if began is None:
            return
    due = _moment(began).astimezone(contact.zone)
    key = reminder_key(contact.id, "at-risk", due.date().isoformat())
    if roster.is_dismissed(key):
        return
    snoozed = roster.snoozed_until(key)
    signs = _reasons(line.assess(began), contact.zone)
    reason = "; ".join(reason_words(r, contact.name) for r in signs)
    facts = Facts(signs=signs)
    if snoozed is not None and snoozed > due.astimezone(UTC):
        if snoozed > until:
            return
        due = snoozed.astimezone(contact.zone)
        reason = f"{reason}; snoozed until {due:%Y-%m-%d %H:%M}"
        facts = Facts(signs=signs, snoozed=due)
    moment = due.astimezone(UTC)
    found.append(
        Reminder(
            key=key,
            contact=contact,
            kind="at-risk",
            title=f"{contact.name} may be drifting away",
            date=due.date(),
            due=due,
            overdue=now - moment if moment < now else timedelta(0),
            channel=contact.channel,
            reason=reason,
            purpose="at-risk",
            facts=facts,
        )
    )
