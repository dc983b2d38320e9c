"""The web page's own words (buttons, labels, headings, flash messages) in the app's locale.

The app is served on 127.0.0.1 over real HTTP, once per locale. What each
page should say is read from the catalogs themselves (the ``.po`` files, with
Babel), not from the app's own gettext, and not written into the test.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from cadence import Contact, Every, Rule, Touchpoint, open_store
from cadence.l10n import ENGLISH, LOCALE_DIR, Words, for_locale
from cadence.web.app import make_web_app

LOCALES = ("en", "es", "de", "fr")
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


@cache
def _catalog(lang: str) -> Catalog:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "cadence.po").open("rb") as fp:
        return read_po(fp)


def _says(lang: str | None, message: str, **values: Any) -> str:
    """The catalog's translation of a template's ``message`` (None: as written), filled in."""
    text = message if lang is None else str(_catalog(lang)[message].string)
    assert text, (lang, message)
    return text % values if values else text


def _says_brace(lang: str | None, message: str, **values: Any) -> str:
    """The catalog's translation of a message of the code's (``{placeholders}``), filled in."""
    text = message if lang is None else str(_catalog(lang)[message].string)
    return text.format(**values)


def _plural(lang: str | None, singular: str, plural: str, n: int, **values: Any) -> str:
    """The form of a template's plural message that CLDR's rule picks for ``n``."""
    if lang is None:
        form = singular if n == 1 else plural
    else:
        forms = _catalog(lang)[singular].string
        form = forms[0] if Locale.parse(lang).plural_form(n) == "one" else forms[-1]
    return str(form) % values


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def site(tmp_path: Any, request: pytest.FixtureRequest) -> Iterator[tuple[str, Words]]:
    """The app over a small store, in the locale ``request.param`` names (None: English)."""
    lang: str | None = request.param
    words = ENGLISH if lang is None else for_locale(lang)
    db = f"sqlite:///{tmp_path / 'cadence.db'}"
    store = open_store(db)
    store.put_contacts(
        [
            Contact("ana", "Ana López", since=date(2026, 1, 1), tags={"clients"}),
            Contact("ben", "Ben Okafor", since=date(2026, 1, 1)),
        ]
    )
    store.set_rule(Rule(Every(weeks=2), contact="ana"))
    store.log(Touchpoint("ana", NOW - timedelta(days=40), "email"))
    app = make_web_app(store, token=None, clock=lambda: NOW, words=words)
    server = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", words
    finally:
        server.shutdown()
        server.server_close()
        store.close()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found is not None
    return found.group(1)


ALL = [pytest.param(None, id="core-english"), *LOCALES]


@pytest.mark.parametrize("site", ALL, indirect=True)
def test_today_speaks_the_locale(site: tuple[str, Words]) -> None:
    """Navigation, headings and every button of a reminder are the catalog's."""
    url, words = site
    lang = words.locale and words.locale.split("_")[0]
    page = requests.get(url + "/", timeout=10)
    assert page.status_code == 200
    shown = _text(page.text)
    for message in ("Today", "People", "Roster", "Done", "Snooze a day", "Snooze", "Log a touch"):
        assert _says(lang, message) in shown, message
    assert f">{_says(lang, 'Done')}</button>" in page.text
    assert f'aria-label="{html.escape(_says(lang, "snooze until"))}"' in page.text
    if lang not in (None, "en"):
        assert "Snooze a day" not in shown


@pytest.mark.parametrize("site", ALL, indirect=True)
def test_people_and_person_pages_speak_the_locale(site: tuple[str, Words]) -> None:
    """Column headings, the search form, cadences and the log form are in the locale."""
    url, words = site
    lang = words.locale and words.locale.split("_")[0]
    people = requests.get(url + "/people", timeout=10).text
    for heading in ("Name", "Health", "Drift", "Cadence", "Last touch", "Tags"):
        assert f'<th scope="col">{html.escape(_says(lang, heading))}</th>' in people, heading
    shown = _text(people)
    assert _says(lang, "Filter") in shown
    assert words.cadence(Every(weeks=2)) in shown
    assert _says(lang, "none: never due") in shown  # Ben has no cadence
    person = _text(requests.get(url + "/people/ana", timeout=10).text)
    for message in ("Log the touch", "I reached out", "Coming occasions", "Save"):
        assert _says(lang, message) in person, message
    assert (
        _says(lang, "remove its own cadence (%(cadence)s)", cadence=words.cadence(Every(weeks=2)))
        in person
    )


@pytest.mark.parametrize("site", ALL, indirect=True)
def test_the_roster_chart_and_its_text_speak_the_locale(site: tuple[str, Words]) -> None:
    """The roster's heading, its plural note, the chart's legend and text alternative."""
    url, words = site
    lang = words.locale and words.locale.split("_")[0]
    page = requests.get(url + "/roster", timeout=10).text
    shown = _text(page)
    assert _says(lang, "The roster") in shown
    note = _plural(
        lang,
        "%(count)s contact has no cadence and is not counted.",
        "%(count)s contacts have no cadence and are not counted.",
        1,
        count=1,
    )
    assert note in shown
    for band in ("healthy", "drifting", "overdue"):
        assert f">{html.escape(_says(lang, band))}</text>" in page, band
    assert _says(lang, "Week ending") in shown


@pytest.mark.parametrize("site", ALL, indirect=True)
def test_flash_messages_and_refusals_speak_the_locale(site: tuple[str, Words]) -> None:
    """Logging a touch says so in the locale; a forged form is refused in the locale."""
    url, words = site
    lang = words.locale and words.locale.split("_")[0]
    session = requests.Session()
    form = session.get(url + "/people/ana", timeout=10).text
    done = session.post(
        url + "/log",
        data={"csrf": _csrf(form), "contact": "ana", "channel": "phone", "next": "/people/ana"},
        timeout=10,
    )
    assert done.status_code == 200
    said = _says_brace(
        lang, "Logged a {channel} touch with {name}.", channel="phone", name="Ana López"
    )
    assert f'role="status">{html.escape(said)}</p>' in done.text
    refused = session.post(url + "/log", data={"csrf": "x", "contact": "ana"}, timeout=10)
    assert refused.status_code == 403
    assert _says_brace(lang, "refused: the form was stale or forged") in _text(refused.text)
    assert _says(lang, "Back to Today") in _text(refused.text)
