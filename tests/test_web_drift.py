"""The web page shows drift: the level and first reason on People, every reason on a
person's page, and an at-risk reminder with its reason on Today.

The app is served over real HTTP on loopback from a real SQLite store; the
assertions read the HTML the server sends.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import requests

import cadence
from cadence import Contact, Every, Rule, Touchpoint, open_store
from cadence.web import feed  # noqa: F401  # the calendar renderer first, as the app's users load it

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
DAY = timedelta(days=1)
# Twenty weeks of answered mail, then five messages Ana never answers.
NOW = START + (20 * 7 + 40) * DAY


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test's output clean."""


def _seed(db: str) -> None:
    with open_store(db) as store:
        store.put_contacts([Contact("ana", "Ana Lopez"), Contact("ben", "Ben Okafor")])
        store.set_rule(Rule(Every(weeks=1), contact="ana"))
        store.set_rule(Rule(Every(weeks=1), contact="ben"))
        for week in range(20):
            monday = START + week * 7 * DAY
            for who in ("ana", "ben"):
                store.log(Touchpoint(who, monday, "email"))
                store.log(Touchpoint(who, monday + DAY, "email", direction="in"))
        for week in range(20, 26):
            monday = START + week * 7 * DAY
            if monday < NOW:
                store.log(Touchpoint("ana", monday, "email"))
                store.log(Touchpoint("ben", monday, "email"))
                store.log(Touchpoint("ben", monday + DAY, "email", direction="in"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The web app over a seeded store, served on a free loopback port; (base URL, store URL)."""
    db = f"sqlite:///{Path(tmp_path_factory.mktemp('drift')) / 'cadence.db'}"
    _seed(db)
    # Imported after the feed: pygal's import hook, met before dateutil, upsets six under -W error.
    from cadence.web.app import make_web_app

    store = open_store(db)
    app = make_web_app(store, token=None, clock=lambda: NOW)
    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", db
    finally:
        server.shutdown()
        server.server_close()
        store.close()


def _expected(db: str, contact: str) -> cadence.Drift:
    with open_store(db) as store:
        return cadence.drift(store.roster(), contact, now=NOW)


def _row(page: str, name: str) -> str:
    found = re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]*>{name}</a></th>(.*?)</tr>", page, re.S)
    assert found is not None, name
    return found.group(1)


def test_people_shows_each_drift_level_and_the_first_reason(site: tuple[str, str]) -> None:
    """Ana, who stopped answering, is at-risk with her strongest reason; Ben is steady."""
    url, db = site
    ana, ben = _expected(db, "ana"), _expected(db, "ben")
    assert (ana.level, ben.level) == ("at-risk", "steady")
    page = requests.get(f"{url}/people", timeout=10).text
    assert '<th scope="col">Drift</th>' in page
    row = _row(page, "Ana Lopez")
    assert 'class="drift at-risk"' in row
    assert f'<span class="reason">{html.escape(ana.words[0])}</span>' in row
    assert html.escape(ana.words[1]) not in row  # the first reason only
    row = _row(page, "Ben Okafor")
    assert 'class="drift steady"' in row
    assert 'class="reason"' not in row


def test_a_person_page_shows_the_level_and_every_reason(site: tuple[str, str]) -> None:
    """Ana's page lists all her reasons, strongest first."""
    url, db = site
    ana = _expected(db, "ana")
    assert len(ana.words) >= 2
    page = requests.get(f"{url}/people/ana", timeout=10).text
    facts = page[page.index('<dl class="facts">') : page.index("</dl>")]
    assert "<dt>Drift</dt>" in facts
    assert '<span class="level">at-risk</span>' in facts
    items = re.findall(r"<li>(.*?)</li>", facts)
    assert items == [html.escape(w) for w in ana.words]
    ben = requests.get(f"{url}/people/ben", timeout=10).text
    assert '<span class="level">steady</span>' in ben
    assert '<ul class="reasons">' not in ben


def test_today_shows_the_at_risk_reminder_with_its_reason(site: tuple[str, str]) -> None:
    """The at-risk reminder is on Today, titled, with the reasons as they stood when it began."""
    url, db = site
    with open_store(db) as store:
        agenda = cadence.plan(store.roster(), now=NOW, horizon=timedelta(days=7))
    (reminder,) = [r for r in agenda if r.kind == "at-risk"]
    assert reminder.due < NOW
    assert reminder.contact.id == "ana"
    page = requests.get(f"{url}/", timeout=10).text
    item = re.search(
        rf'<li class="reminder \w+" data-key="{reminder.key}">(.*?)</li>', page, flags=re.S
    )
    assert item is not None
    assert "Ana Lopez may be drifting away" in item.group(1)
    assert f'<span class="reason">{html.escape(reminder.reason)}</span>' in item.group(1)
    # Ben's check-ins are plain cadence reminders, and carry no drift reason.
    assert page.count('<span class="reason">') == 1
