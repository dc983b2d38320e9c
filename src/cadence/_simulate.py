"""Simulated relationship histories, for tuning and testing the drift model.

``simulate(kind, seed)`` gives one contact's touchpoints over about three
years, as mail and meetings would bring them in, for one of ``KINDS``:

- ``steady``: the same rhythm throughout, with the noise of real life: they
  answer most of your messages (not all), sometimes days late, go on
  holiday once a year, and you get a newsletter through now and then;
- ``fading``: steady until ``onset``, then over a few rhythms they answer
  less and slower, write less and stop meeting, until they stop altogether;
- ``one-sided``: you do nearly all the writing, always; they answer rarely;
- ``seasonal``: steady, but each year the same two or three months go
  nearly silent on both sides (a school's summer, a shop's December);
- ``new``: began a few weeks or months before the end;
- ``handed-over``: steady until ``onset``, when they stop at once (they left
  and someone else took over), while you write a few more times;
- ``ended``: steady until ``onset``, when both of you stop.

You keep to a cadence of ``period`` days: you write when it falls due
(within two days), and they write now and then on their own. When several
of your messages in a row go unanswered, you give up. The first check-in
after ``onset`` that you let pass is ``overdue``: the moment the plain
cadence would first show the contact as overdue and undone. Every draw
comes from a ``random.Random`` seeded with the kind and ``seed``, so a
seed always gives the same history.
"""

from __future__ import annotations

import random
from bisect import bisect_right, insort
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeAlias

import attrs

from cadence.core.drift import AT_RISK, Timeline
from cadence.core.model import Touchpoint

__all__ = ["KINDS", "History", "Kind", "first_at_risk", "highest_score", "simulate"]

Kind: TypeAlias = Literal[
    "steady", "fading", "one-sided", "seasonal", "new", "handed-over", "ended"
]
KINDS: tuple[Kind, ...] = (
    "steady",
    "fading",
    "one-sided",
    "seasonal",
    "new",
    "handed-over",
    "ended",
)
#: When every simulated history begins.
EPOCH = datetime(2023, 1, 2, tzinfo=UTC)
YEARS = 3


@attrs.frozen
class History:
    """One simulated relationship: its touches, and what the evaluation needs to know of it.

    ``start`` and ``end`` bound the history; ``onset`` is when a fading,
    handed-over or ended relationship began to change (None otherwise);
    ``overdue`` when the plain cadence of ``period`` days first showed it
    overdue after the onset (None when it never did before ``end``).
    """

    kind: Kind
    seed: int
    contact: str
    period: float
    start: datetime
    end: datetime
    touches: tuple[Touchpoint, ...]
    onset: datetime | None = None
    overdue: datetime | None = None


class _Person:
    """The contact's habits: how likely and how fast they answer, how often they write."""

    def __init__(self, rng: random.Random, kind: Kind, period: float) -> None:
        self.rng = rng
        if kind == "one-sided":
            self.answers = rng.uniform(0.1, 0.35)
            self.delay = rng.uniform(2.0, 8.0)
            self.initiative = rng.uniform(0.0, 0.05)
        else:
            self.answers = rng.uniform(0.75, 0.97)
            self.delay = rng.uniform(0.3, 3.0)
            self.initiative = rng.uniform(0.2, 0.6)
        meets = kind != "one-sided" and rng.random() < 0.4
        self.meeting_every = rng.choice([x for x in (14.0, 30.0, 91.0) if x >= period] or [91.0])
        self.meets = meets


def _gamma(rng: random.Random, mean: float, shape: float = 4.0) -> float:
    return rng.gammavariate(shape, mean / shape)


def simulate(kind: Kind, seed: int, *, contact: str = "c") -> History:
    """One simulated history of ``kind`` drawn from ``seed``; see the module's notes."""
    rng = random.Random(f"{kind}:{seed}")
    period = rng.choice((7.0, 7.0, 14.0, 14.0, 30.0, 30.0, 30.0, 91.0))
    if kind == "seasonal":
        period = rng.choice((7.0, 14.0, 30.0))
    person = _Person(rng, kind, period)
    total = YEARS * 365.0
    start = 0.0
    if kind == "new":
        start = total - rng.uniform(30.0, 120.0)
    onset: float | None = None
    fade = 0.0
    if kind in ("fading", "handed-over", "ended"):
        onset = rng.uniform(365.0, 2 * 365.0 - 60)
        fade = max(21.0, period * rng.uniform(3.0, 8.0)) if kind == "fading" else 0.0
    season = rng.uniform(0, 365.0), rng.uniform(45.0, 90.0)
    holidays = {year: rng.uniform(0, 350.0) for year in range(YEARS + 1)}
    give_up = rng.choice((2, 3, 4))
    newsletter = rng.random() < 0.5

    def vigour(t: float) -> float:
        """How much of their usual selves they are at ``t``: 1, falling to 0 as it fades."""
        if onset is None or t < onset:
            return 1.0
        if kind == "fading":
            return max(0.0, 1.0 - (t - onset) / fade)
        return 0.0

    def off_season(t: float) -> bool:
        if kind != "seasonal":
            return False
        day = t % 365.0
        begin, length = season
        return (day - begin) % 365.0 < length

    def on_holiday(t: float) -> bool:
        begin = holidays[int(t // 365.0)]
        return begin <= t % 365.0 < begin + 14

    touches: list[tuple[float, str, str, bool]] = []  # (day, direction, channel, personal)
    heard: list[float] = []

    def they_answer(t: float) -> None:
        v = vigour(t)
        chance = person.answers * (0.5 if off_season(t) else 1.0) * (v if v < 1 else 1.0)
        if rng.random() >= chance:
            return
        slow = (3.0 if off_season(t) else 1.0) / max(v, 0.15)
        at = t + rng.lognormvariate(0, 0.8) * person.delay * slow
        while on_holiday(at):
            at += 1.0
        touches.append((at, "in", "email", True))
        heard.append(at)

    # They write on their own.
    t = start
    while True:
        t += rng.expovariate(max(person.initiative, 1e-6) / period)
        if t >= total:
            break
        quiet = 0.1 if off_season(t) else 1.0
        if rng.random() < vigour(t) * quiet and not on_holiday(t):
            touches.append((t, "in", "email", True))
            heard.append(t)
            if rng.random() < 0.8:  # and you answer
                touches.append((t + rng.uniform(0.05, 1.5), "out", "email", True))
    # Meetings.
    if person.meets:
        t = start + rng.uniform(0, person.meeting_every)
        while t < total:
            if rng.random() < 0.9 * vigour(t) and not off_season(t) and not on_holiday(t):
                direction = "out" if rng.random() < 0.6 else "in"
                touches.append((t, direction, "meeting", True))
                heard.append(t)
            t += person.meeting_every * rng.uniform(0.85, 1.15)
    # Newsletters: bulk, never a touch.
    if newsletter:
        t = start + rng.uniform(0, 30)
        while t < total:
            touches.append((t, "out", "email", False))
            t += 30.0
    # You: write when the cadence falls due, until you give up.
    clock = sorted(x[0] for x in touches if x[3])  # what restarts the cadence
    heard.sort()
    last = start
    unanswered = 0
    last_sent_at = start
    while True:
        due = last + period
        while True:  # a touch before the check-in falls due moves it
            index = bisect_right(clock, due)
            if index and clock[index - 1] > last:
                last = clock[index - 1]
                due = last + period
            else:
                break
        t = due + rng.uniform(0, 2.0)
        if t >= total or (kind == "ended" and onset is not None and t >= onset):
            break
        replied = bisect_right(heard, t) > bisect_right(heard, last_sent_at)
        unanswered = 0 if replied else unanswered + 1
        if onset is not None and t >= onset and unanswered >= give_up:
            break
        last = t
        if off_season(t) and rng.random() < 0.8:
            continue  # out of season you let it be
        touches.append((t, "out", "email", True))
        insort(clock, t)
        last_sent_at = t
        before = len(heard)
        they_answer(t)
        for answer in heard[before:]:
            insort(clock, answer)
        heard.sort()
    touches.sort()
    # The first check-in after the onset that you let pass.
    overdue = None
    if onset is not None:
        personal = [x[0] for x in touches if x[3] and x[0] <= total]
        previous = max([p for p in personal if p <= onset], default=start)
        for moment in [p for p in personal if p > onset] + [total + 10 * period]:
            if moment > previous + period + 2.0:
                overdue = previous + period
                break
            previous = moment
    name = contact
    result = tuple(
        Touchpoint(name, _at(day), channel, personal=personal, direction=direction)  # type: ignore[arg-type]
        for day, direction, channel, personal in touches
        if start <= day <= total
    )
    return History(
        kind=kind,
        seed=seed,
        contact=name,
        period=period,
        start=_at(start),
        end=_at(total),
        touches=result,
        onset=None if onset is None else _at(onset),
        overdue=None if overdue is None or overdue > total else _at(overdue),
    )


def _at(day: float) -> datetime:
    return EPOCH + timedelta(days=day)


def _stretches(line: Timeline, start: float, end: float) -> list[tuple[float, float]]:
    """The stretches between their touches in [start, end], each as (where it begins, its end).

    The score only falls when they get in touch, and grows in between, so
    within a stretch it is highest at the end: just before their next
    touch, or at ``end``.
    """
    heard = [t for t in line.heard if start < t <= end]
    return list(zip([start, *heard], [*(t - 1e-6 for t in heard), end], strict=True))


def first_at_risk(
    line: Timeline, start: float, end: float, threshold: float = AT_RISK
) -> float | None:
    """The first moment in [start, end] (days since the epoch) at which drift says at-risk.

    It is enough to look at ``start`` and at the end of each stretch between
    their touches, and then to find the crossing within the stretch where
    it happened. ``threshold`` is the score that counts as at risk:
    ``AT_RISK`` unless the evaluation is trying another.
    """
    if line.score(start) >= threshold:
        return start
    for low, high in _stretches(line, start, end):
        if line.score(high) >= threshold:
            return line._crossing(low, high, threshold)
    return None


def highest_score(line: Timeline, start: float, end: float) -> float:
    """The highest score drift gives in [start, end] (days since the epoch).

    It is the highest at ``start`` or at the end of a stretch between their
    touches, the moments ``first_at_risk`` looks at: a threshold is reached
    in [start, end] exactly when this is at least the threshold.
    """
    return max(line.score(start), *(line.score(high) for _, high in _stretches(line, start, end)))
