"""Drift: the model's reasons in words, its at-risk reminders, and its properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cadence
from cadence import Contact, Every, Roster, Route, Rule, Touchpoint
from cadence._simulate import KINDS, first_at_risk, highest_score, simulate
from cadence.core.drift import AT_RISK, Timeline

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
DAY = timedelta(days=1)
RANK = {"steady": 0, "watch": 1, "at-risk": 2}


def _mail(at: datetime, direction: str = "out") -> Touchpoint:
    return Touchpoint("ana", at, "email", direction=direction)  # type: ignore[arg-type]


def _weeks(
    count: int, *, reply_after: timedelta | None = DAY, meet: bool = True
) -> list[Touchpoint]:
    """A weekly relationship: you write on Mondays, Ana answers, and you meet every four weeks."""
    touches = []
    for week in range(count):
        monday = START + week * 7 * DAY
        touches.append(_mail(monday))
        if reply_after is not None:
            touches.append(_mail(monday + reply_after, "in"))
        if meet and week % 4 == 0:
            touches.append(Touchpoint("ana", monday + 3 * DAY, "meeting"))
    return touches


def _roster(touches: list[Touchpoint]) -> Roster:
    return Roster([Contact("ana", "Ana")], [Rule(Every(weeks=1))], touchpoints=touches)


def _drift(touches: list[Touchpoint], now: datetime) -> cadence.Drift:
    return cadence.drift(_roster(touches), "ana", now=now)


def test_a_steady_relationship_is_steady() -> None:
    """Twenty weeks of the same rhythm give no reason at all."""
    found = _drift(_weeks(20), START + 20 * 7 * DAY)
    assert (found.level, found.score, found.reasons) == ("steady", 0.0, ())


def test_silence_in_words() -> None:
    """When Ana falls silent, the silence is measured against her usual longest gaps."""
    touches = _weeks(20, meet=False)
    found = _drift(touches, START + (19 * 7 + 40) * DAY)
    assert found.level == "at-risk"
    assert found.words[0] == (
        "nothing from Ana since 19 May (39 days); before, no more than 7 days passed"
    )


def test_unanswered_in_words() -> None:
    """A run of messages left unanswered since her last touch is weighed against her habit."""
    touches = _weeks(20, meet=False)
    last = START + 20 * 7 * DAY
    touches += [_mail(last + week * 7 * DAY) for week in range(5)]
    found = _drift(touches, last + 40 * DAY)
    assert (
        "Ana has not answered your last 5 messages, since 25 May; before, 20 of 20 were answered"
        in found.words
    )


def test_one_unanswered_message_in_words() -> None:
    """A run of one is "your last message"."""
    touches = [_mail(START + week * 7 * DAY) for week in range(4)]
    touches += [_mail(START + week * 7 * DAY + DAY, "in") for week in range(4)]
    reason = cadence.DriftReason("unanswered", 0.5, since=(START + 28 * DAY).date(), days=1.0)
    reason = attrs.evolve(reason, answered=3, of=4)
    assert cadence.reason_words(reason, "Ana") == (
        "Ana has not answered your last message, since 2 February; before, 3 of 4 were answered"
    )
    assert _drift(touches, START + 30 * DAY).level == "steady"


def test_an_answer_of_yours_waits_for_no_answer() -> None:
    """A message of yours within a day of hers answers it, and is never counted unanswered."""
    touches = _weeks(20, meet=False)
    last_in = max(t.at for t in touches if t.direction == "in")
    thanks = [_mail(last_in + timedelta(hours=h)) for h in (1, 5, 20)]
    now = last_in + 20 * DAY
    found = _drift([*touches, *thanks], now)
    assert all(r.signal != "unanswered" for r in found.reasons)
    asked = _drift([*touches, *(_mail(last_in + d * DAY) for d in (2, 3, 4))], now)
    assert any(r.signal == "unanswered" for r in asked.reasons)


def test_replies_in_words() -> None:
    """Messages she left unanswered before writing again count against the share she answered."""
    touches = _weeks(20, meet=False)
    last = START + 20 * 7 * DAY
    touches += [_mail(last + week * 7 * DAY) for week in range(5)]
    touches.append(_mail(last + 32 * DAY, "in"))  # which answers the last of them
    found = _drift(touches, last + 40 * DAY)
    assert "Ana answered 1 of your last 5 messages; before, 10 in 10 within 1 day" in found.words
    assert all(r.signal != "unanswered" for r in found.reasons)


def test_reply_time_in_words() -> None:
    """Answers that come ever later are compared with how fast they used to come."""
    touches = _weeks(20, meet=False)
    last = START + 20 * 7 * DAY
    for week in range(6):
        touches += [_mail(last + week * 14 * DAY), _mail(last + (week * 14 + 4) * DAY, "in")]
    found = _drift(touches, last + (5 * 14 + 7) * DAY)
    assert "Ana now takes 4 days to answer; before, 1 day" in found.words


def test_meetings_in_words() -> None:
    """Meetings that stop while mail goes on are noticed by their own rhythm."""
    touches = _weeks(20)
    last = START + 20 * 7 * DAY
    touches += _weeks_after(last, 12)
    found = _drift(touches, last + 12 * 7 * DAY)
    assert "no meeting since 30 April; you met monthly before" in found.words


def _weeks_after(first: datetime, count: int) -> list[Touchpoint]:
    return [
        touch
        for week in range(count)
        for touch in (_mail(first + week * 7 * DAY), _mail(first + week * 7 * DAY + DAY, "in"))
    ]


def test_reason_words_is_the_one_place_of_wording() -> None:
    """Each reason is facts, and reason_words turns the same facts into the same words."""
    found = _drift(_weeks(20, meet=False), START + (19 * 7 + 40) * DAY)
    (reason, *_) = found.reasons
    assert reason.signal == "silence"
    assert reason.usual_days is not None
    assert cadence.reason_words(reason, "Ana") == found.words[0]


def _fading() -> tuple[Roster, datetime]:
    touches = _weeks(20, meet=False)
    last = START + 20 * 7 * DAY
    touches += [_mail(last + week * 7 * DAY) for week in range(5)]
    return _roster(touches), last


def test_an_at_risk_reminder_comes_once_per_episode() -> None:
    """Planned at any moment of the episode, the at-risk reminder keeps its key and due moment."""
    roster, last = _fading()
    seen = set()
    for days in (30, 45, 60, 90):
        now = last + days * DAY
        (reminder,) = [r for r in cadence.plan(roster, now=now) if r.kind == "at-risk"]
        found = cadence.drift(roster, "ana", now=now)
        assert found.since == reminder.due
        assert reminder.title == "Ana may be drifting away"
        assert reminder.reason.startswith("nothing from Ana since")
        seen.add((reminder.key, reminder.due))
    assert len(seen) == 1


def test_the_at_risk_reminder_is_announced_before_it_falls_due() -> None:
    """Within the horizon, the at-risk reminder falls due when the contact would be at risk."""
    roster, last = _fading()
    now = last - 6 * DAY
    assert cadence.drift(roster, "ana", now=now).level != "at-risk"
    (ahead,) = [r for r in cadence.plan(roster, now=now) if r.kind == "at-risk"]
    assert ahead.due > now
    assert cadence.drift(roster, "ana", now=ahead.due).level == "at-risk"
    assert cadence.drift(roster, "ana", now=ahead.due - timedelta(minutes=2)).level != "at-risk"


def test_a_reply_ends_the_episode() -> None:
    """Once Ana answers again, the at-risk reminder is gone."""
    roster, last = _fading()
    now = last + 60 * DAY
    answered = Roster(
        roster.contacts, roster.rules, touchpoints=[*roster.touchpoints, _mail(now - DAY, "in")]
    )
    (before,) = [r for r in cadence.plan(roster, now=now) if r.kind == "at-risk"]
    after = cadence.plan(answered, now=now, horizon=timedelta(0))
    assert [r for r in after if r.kind == "at-risk"] == []
    assert after.by_key(before.key) is None


def test_routes_take_or_leave_at_risk_reminders_by_kinds() -> None:
    """A route's kinds name at-risk like the other kinds."""
    roster, last = _fading()
    (reminder,) = [r for r in cadence.plan(roster, now=last + 60 * DAY) if r.kind == "at-risk"]
    assert Route("console", kinds=["at-risk"]).takes(reminder)
    assert not Route("console", kinds=["cadence", "occasion"]).takes(reminder)


def test_no_history_gives_no_signal() -> None:
    """A contact with no touches, or only your own, is steady with no reasons."""
    assert _drift([], START).reasons == ()
    only_mine = [_mail(START + week * 7 * DAY) for week in range(30)]
    found = _drift(only_mine, START + 300 * DAY)
    assert (found.level, found.reasons) == ("steady", ())


def test_the_simulator_is_driven_by_its_seed() -> None:
    """The same kind and seed give the same history; another seed another one."""
    for kind in KINDS:
        assert simulate(kind, 3) == simulate(kind, 3)
    assert simulate("steady", 3).touches != simulate("steady", 4).touches


def test_the_evaluation_finds_a_flag_exactly_where_the_highest_score_reaches_the_threshold() -> (
    None
):
    """bench/drift.py's trade-off at other thresholds agrees with its search for the first flag.

    The first flag at a threshold is where the score first reaches it, and
    the highest score reaches it exactly when there is such a flag.
    """
    checked = 0
    for kind in ("steady", "fading", "seasonal"):
        for seed in range(4):
            history = simulate(kind, seed)
            line = Timeline(history.touches)
            start = history.start.timestamp() / 86400 + 200
            end = history.end.timestamp() / 86400
            highest = highest_score(line, start, end)
            for threshold in (0.6, AT_RISK, 1.4):
                found = first_at_risk(line, start, end, threshold)
                assert (found is not None) == (highest >= threshold)
                if found is not None:
                    checked += 1
                    assert start <= found <= end
                    assert line.score(found) >= threshold
                    assert found == start or line.score(found - 2 / 1440) < threshold
            assert first_at_risk(line, start, end) == first_at_risk(line, start, end, AT_RISK)
    assert checked >= 10


# -- properties ---------------------------------------------------------------------

_noise = st.lists(st.floats(0.0, 1.0), min_size=60, max_size=60)


def _history(noise: list[float], weeks: int = 24) -> list[Touchpoint]:
    """A weekly relationship with noise: some answers missing, some late."""
    touches = []
    for week in range(weeks):
        monday = START + week * 7 * DAY
        touches.append(_mail(monday))
        if week == 0 or noise[week] > 0.15:
            touches.append(_mail(monday + (0.5 + 4 * noise[week + 30]) * DAY, "in"))
    return touches


@settings(max_examples=60, deadline=None)
@given(_noise, st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8), st.floats(1.0, 120.0))
def test_more_unanswered_mail_never_improves_the_level(
    noise: list[float], extra: list[float], after: float
) -> None:
    """Messages of yours after Ana's last touch can only keep or raise the level."""
    touches = _history(noise)
    last_heard = max(t.at for t in touches if t.direction == "in")
    now = last_heard + after * DAY
    more = [_mail(last_heard + (0.01 + 0.98 * x) * (now - last_heard)) for x in extra]
    before = _drift(touches, now)
    later = _drift([*touches, *more], now)
    assert RANK[later.level] >= RANK[before.level]
    assert later.score >= before.score


@settings(max_examples=40, deadline=None)
@given(_noise, st.lists(st.floats(0.0, 170.0), min_size=1, max_size=10), st.floats(0.0, 200.0))
def test_bulk_touches_never_count_as_replies(
    noise: list[float], moments: list[float], after: float
) -> None:
    """Newsletters, from you or from them, change nothing the model says."""
    touches = _history(noise)
    now = START + (170 + after) * DAY
    bulk = [
        Touchpoint("ana", START + m * DAY, "email", personal=False, direction=d)
        for m, d in zip(moments, ["in", "out"] * 5, strict=False)
    ]
    assert _drift([*touches, *bulk], now) == _drift(touches, now)


def _pattern(period: float, noise: list[float], fade: float) -> list[Touchpoint]:
    """Six periods as usual, then two in which answers come ``fade`` times later, if at all.

    The latest answer comes 0.3 of a period after its message, so in a weekly
    pattern too the next message leaves more than a day after it, as the
    model's day-long constants ask (a message sent within a day of theirs is
    an answer to it).
    """
    touches = []
    for n in range(8):
        for half in (0.0, 0.5):
            sent = START + (n + half) * period * DAY
            touches.append(_mail(sent))
            late = 1.0 if n < 6 else fade
            if n < 6 or noise[n * 2 + int(half * 2)] < 1 / fade:
                touches.append(_mail(sent + (0.09 + 0.03 * noise[n]) * late * period * DAY, "in"))
    return touches


@settings(max_examples=40, deadline=None)
@given(_noise, st.floats(1.0, 2.5), st.floats(0.0, 2.0))
def test_weekly_and_quarterly_fading_alike_are_flagged_alike(
    noise: list[float], fade: float, after: float
) -> None:
    """The model measures each relationship by its own rhythm, so time's scale does not matter.

    (Its few absolute constants, a day for one conversation or for an answer
    of yours and two years of history, stay out of the way here: touches are
    more than a day apart.)
    """
    levels = set()
    for period in (7.0, 91.0):
        touches = _pattern(period, noise, fade)
        now = START + (8 + after) * period * DAY
        levels.add(_drift(touches, now).level)
    assert len(levels) == 1


def _at_risk_reminder() -> cadence.Reminder:
    roster, last = _fading()
    (reminder,) = [r for r in cadence.plan(roster, now=last + 60 * DAY) if r.kind == "at-risk"]
    return reminder


def test_the_webhook_payload_of_an_at_risk_reminder_fits_version_1() -> None:
    """The payload's kind says at-risk and the body still validates against reminder.due v1."""
    import jsonschema  # type: ignore[import-untyped]  # no stubs in the test extra

    from cadence.adapters.webhook.payloads import payload_schema, standard_payload

    reminder = _at_risk_reminder()
    body = standard_payload(reminder)
    jsonschema.Draft202012Validator(payload_schema()).validate(body)
    assert body["data"]["reminder"]["kind"] == "at-risk"
    assert body["data"]["reminder"]["reason"].startswith("nothing from Ana since")


def test_the_feed_and_the_console_show_an_at_risk_reminder(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The calendar feed and the console carry its title and reasons."""
    from cadence.adapters.console import ConsoleAdapter

    reminder = _at_risk_reminder()
    feed = cadence.to_ical([reminder]).decode()
    assert "Ana may be drifting away" in feed
    assert "nothing from Ana since" in feed.replace("\r\n ", "")
    ConsoleAdapter().deliver([reminder])
    assert "Ana may be drifting away" in capsys.readouterr().out


def test_an_email_of_an_at_risk_reminder_gives_its_reasons() -> None:
    """The email says the title and, under Why, the reasons."""
    from email.headerregistry import Address

    from cadence.adapters.smtp.message import Addressing, reminder_message

    reminder = _at_risk_reminder()
    me = Address("Me", "me", "example.com")
    message = reminder_message(reminder, Addressing(me, (me,)), reminder.due + DAY)
    assert message["Subject"] == "Ana may be drifting away"
    body = message.get_body(("plain",))
    assert body is not None
    assert "Why: nothing from Ana since" in body.get_content()


def test_plan_keeps_no_timeline_it_built_and_the_ones_it_found() -> None:
    """plan() drops the drift timelines it worked out; one drift() built stays for the next."""
    roster, last = _fading()
    now = last + 45 * DAY
    first = cadence.plan(roster, now=now)
    assert [r.kind for r in first].count("at-risk") == 1
    assert roster._derived_values == {}
    cadence.drift(roster, "ana", now=now)
    kept = dict(roster._derived_values)
    assert kept
    assert list(cadence.plan(roster, now=now)) == list(first)
    assert roster._derived_values == kept
