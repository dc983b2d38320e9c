"""The People and Roster pages read the store a part at a time and agree with the whole roster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cadence import Birthday, Contact, Rule, Touchpoint, open_store, parse_cadence
from cadence.web import pages

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    with open_store(f"sqlite:///{tmp_path / 'cadence.db'}") as opened:
        opened.set_rule(Rule(parse_cadence("2 weeks"), tag="retainer"))
        opened.set_rule(Rule(parse_cadence("monthly")))
        people = [
            Contact(f"p{i}", f"{'ZYXWVUTSRQ'[i]} Person", tags=["retainer"] if i % 2 else [])
            for i in range(9)
        ]
        opened.put_contacts(people)
        opened.set_rule(Rule(parse_cadence("weekly"), contact="p4"))
        opened.add_occasion(Birthday("p3", 12, 1))
        for i in range(9):
            for n in range(i % 4):
                opened.log(Touchpoint(f"p{i}", NOW - timedelta(days=3 + 5 * i + 7 * n), "email"))
        yield opened


def test_the_roster_chart_counts_as_the_whole_roster_does(store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    whole = pages.roster_history([store.roster()], now=NOW)
    monkeypatch.setattr(pages, "SNAPSHOT_PART", 2)
    taken = pages.snapshot(store, now=NOW)
    assert taken.history == whole
    assert sum(counts[-1] for counts in whole.counts.values()) == 9
    assert [c.name for c in taken.contacts] == sorted(c.name for c in taken.contacts)
    assert len(taken.contacts) == 9
    assert taken.tags == ["retainer"]


def test_a_people_page_shows_what_the_whole_roster_says(store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(pages, "SNAPSHOT_PART", 3)
    monkeypatch.setattr(pages, "PAGE_SIZE", 4)
    taken = pages.snapshot(store, now=NOW)
    roster = store.roster()
    for number in (1, 2, 3):
        people = pages.people_page(store, taken, now=NOW, page=number)
        assert people.total == 9
        expected = [pages.person_row(roster, row.contact, NOW) for row in people.rows]
        assert list(people.rows) == expected
    weekly = pages.people_page(store, taken, now=NOW, search="p4").rows
    assert [row.contact.id for row in weekly] == ["p4"]
    assert weekly[0].cadence == pages.person_row(roster, roster.contact("p4"), NOW).cadence
