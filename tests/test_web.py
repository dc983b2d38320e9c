"""The web app served by ``cadence serve``: over real HTTP, and in a real headless Chromium.

The server is the CLI's, started as a subprocess on loopback with ``--now``
pinned, over a SQLite store seeded through the public API. The browser tests
share one Chromium (Debian's ``chromium``, driven by Playwright); without it
they skip, and under CADENCE_CI=1 they fail. The run saves a screenshot of
each page at desktop and phone widths, into CADENCE_WEB_SCREENSHOTS if set.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from _servers import free_port, missing, stop
from cadence import Contact, Rule, Touchpoint, open_store, parse_cadence
from cadence.core.occasions import Birthday
from cadence.web.feed import new_token

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script>"
# A channel's name lands in the chart's labels.
HOSTILE_CHANNEL = "</script><script>alert(2)</script>"
CHROMIUM = os.environ.get("CADENCE_CHROMIUM", "/usr/bin/chromium")
SRC = Path(__file__).resolve().parent.parent / "src"


@dataclass
class Served:
    """A running ``cadence serve``: its base URL, token and store URL."""

    url: str
    token: str
    db: str


def _seed(db: str) -> None:
    store = open_store(db)
    try:
        store.put_contacts(
            [
                Contact(
                    "ana",
                    "Ana Lopez",
                    email="ana@example.com",
                    channel="email",
                    tags=["retainer"],
                    timezone="Europe/Madrid",
                ),
                Contact("ben", "Ben Okafor", channel="phone", tags=["retainer"]),
                Contact("cy", "Cy Park", tags=["card-list"]),
                Contact("evil", HOSTILE, channel="email", tags=["card-list"]),
                Contact("dee", "Dee Novak"),
            ]
        )
        store.set_rule(Rule(parse_cadence("2 weeks"), tag="retainer"))
        store.set_rule(Rule(parse_cadence("monthly"), contact="evil"))
        store.set_rule(Rule(parse_cadence("monthly"), contact="cy"))
        store.add_occasion(Birthday("ana", 12, 2))
        start = NOW - timedelta(days=360)
        for n in range(0, 340, 21):
            at = start + timedelta(days=n)
            store.log(Touchpoint("ana", at, "email" if n % 2 else "phone"))
            store.log(Touchpoint("ana", at + timedelta(days=3), "email", direction="in"))
            store.log(Touchpoint("ana", at + timedelta(days=5), "email", personal=False))
        store.log(Touchpoint("ben", NOW - timedelta(days=40), "phone"))
        store.log(Touchpoint("cy", NOW - timedelta(days=33), "email"))
        store.log(Touchpoint("evil", NOW - timedelta(days=50), "email"))
        store.log(Touchpoint("evil", NOW - timedelta(days=70), HOSTILE_CHANNEL, note=HOSTILE))
    finally:
        store.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``cadence serve`` with a token over a seeded store, on a free loopback port."""
    db = f"sqlite:///{tmp_path_factory.mktemp('web') / 'cadence.db'}"
    _seed(db)
    token = new_token()
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC), "CADENCE_FEED_TOKEN": token}
    command = [
        sys.executable,
        "-m",
        "cadence",
        "--db",
        db,
        "--now",
        NOW.isoformat(),
        "serve",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    try:
        assert process.stderr is not None
        lines = [process.stderr.readline().decode(), process.stderr.readline().decode()]
        assert token not in "".join(lines)
        assert f"http://127.0.0.1:{port}/?token=YOUR-TOKEN" in lines[1]
        yield Served(f"http://127.0.0.1:{port}", token, db)
    finally:
        stop(process)  # type: ignore[arg-type]
        if process.stderr is not None:
            process.stderr.close()


def _session(served: Served) -> requests.Session:
    session = requests.Session()
    answer = session.get(f"{served.url}/", params={"token": served.token}, timeout=10)
    assert answer.status_code == 200
    return session


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


# -- over plain HTTP ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/people", "/people/ana", "/roster"])
def test_no_page_shows_data_without_the_token(served: Served, path: str) -> None:
    """Without a session every page sends to the login form, which names no one."""
    answer = requests.get(served.url + path, timeout=10)
    assert answer.history
    assert answer.history[0].status_code == 303
    assert answer.url == f"{served.url}/login"
    assert "Ana" not in answer.text
    assert "retainer" not in answer.text
    wrong = requests.get(f"{served.url}/", params={"token": "x" + served.token}, timeout=10)
    assert wrong.url == f"{served.url}/login"


def test_the_token_opens_a_strict_httponly_session(served: Served) -> None:
    """``/?token=`` sets an HttpOnly, SameSite=Strict cookie and leaves the token out of the URL."""
    answer = requests.get(
        f"{served.url}/", params={"token": served.token}, timeout=10, allow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback: a Secure cookie would not come back
    assert served.token not in cookie


def test_the_feed_is_still_served_beside_the_page(served: Served) -> None:
    """``/feed.ics`` answers with the token as before; the page's session is not needed."""
    answer = requests.get(f"{served.url}/feed.ics", params={"token": served.token}, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/calendar")
    assert requests.get(f"{served.url}/feed.ics", timeout=10).status_code == 403


def test_a_forged_post_is_refused_and_changes_nothing(served: Served) -> None:
    """A POST without the CSRF token, with a wrong one, or from another origin is 403."""
    session = _session(served)
    page = session.get(f"{served.url}/people/dee", timeout=10).text
    token = _csrf(page)
    before = session.get(f"{served.url}/people/dee", timeout=10).text
    form = {"contact": "dee", "channel": "phone", "note": "forged"}
    for extra, headers in (
        ({}, {}),
        ({"csrf": "0" * 64}, {}),
        ({"csrf": token}, {"Origin": "http://evil.example"}),
    ):
        answer = session.post(
            f"{served.url}/log",
            data={**form, **extra},
            headers=headers,
            timeout=10,
            allow_redirects=False,
        )
        assert answer.status_code == 403
    assert session.get(f"{served.url}/people/dee", timeout=10).text.count("forged") == 0
    assert "0 touchpoints" in before


def test_a_login_form_without_its_csrf_token_is_refused(served: Served) -> None:
    """The login form also carries a CSRF token; the right token without it opens nothing."""
    answer = requests.post(
        f"{served.url}/login", data={"token": served.token}, timeout=10, allow_redirects=False
    )
    assert answer.status_code == 403
    assert (
        "Set-Cookie" not in answer.headers or "cadence_session" not in answer.headers["Set-Cookie"]
    )


def test_pages_forbid_scripts(served: Served) -> None:
    """Every page says no script may run, and the hostile name comes escaped."""
    session = _session(served)
    answer = session.get(f"{served.url}/people", params={"tag": "card-list"}, timeout=10)
    assert "script-src" not in answer.headers["Content-Security-Policy"]
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert HOSTILE not in answer.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text


def test_a_hostile_person_page_holds_no_script(served: Served) -> None:
    """A name, note and channel made of markup come out as text, in the page and in its chart."""
    session = _session(served)
    html = session.get(f"{served.url}/people/evil", timeout=10).text
    assert "<script" not in html.lower()
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2  # the title, the name, the note


def test_serve_still_refuses_the_network_without_a_token(tmp_path: Path) -> None:
    """``cadence serve --host 0.0.0.0`` without a token is refused, page or no page."""
    db = f"sqlite:///{tmp_path / 'c.db'}"
    open_store(db).close()
    env = {k: v for k, v in os.environ.items() if k != "CADENCE_FEED_TOKEN"}
    env["PYTHONPATH"] = str(SRC)
    done = subprocess.run(
        [sys.executable, "-m", "cadence", "--db", db, "serve", "--host", "0.0.0.0", "--port", "0"],  # noqa: S104
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "without a token" in done.stderr


# -- in a real browser ---------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole run."""
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        missing(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        # As root, Chromium's sandbox cannot start; the pages are our own.
        found = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield found
        finally:
            found.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the run saves its screenshots."""
    chosen = os.environ.get("CADENCE_WEB_SCREENSHOTS")
    path = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


WIDTHS = {"desktop": (1280, 860), "phone": (390, 844)}


def test_in_a_browser_done_snooze_edit_and_escaping(
    browser: Any, served: Served, shots: Path
) -> None:
    """Log in, finish and snooze reminders, edit a cadence; a hostile name stays text."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        # The login form, then the agenda.
        page.goto(served.url + "/")
        assert page.url == served.url + "/login"
        page.screenshot(path=str(shots / "web-login-desktop.png"))
        page.fill("input[name=token]", served.token)
        page.click("button:has-text('Sign in')")
        assert page.url == served.url + "/"
        overdue = page.locator("#overdue")
        assert overdue.get_by_text("Ben Okafor", exact=True).count() == 1
        # The hostile name is shown as the characters it holds, and runs nothing.
        assert page.get_by_text(HOSTILE, exact=True).count() >= 1
        assert page.locator("script").count() == 0
        assert dialogs == []

        # Done: Ben's reminder leaves, and the touch is on his timeline.
        ben = page.locator("li.reminder", has=page.get_by_text("Ben Okafor", exact=True))
        ben.get_by_role("button", name="Done").click()
        assert page.get_by_role("status").inner_text() == "Logged a phone touch with Ben Okafor."
        assert (
            page.locator("li.reminder", has=page.get_by_text("Ben Okafor", exact=True)).count() == 0
        )
        page.goto(served.url + "/people/ben")
        assert "2 touchpoints" in page.locator("figcaption").inner_text()
        rows = page.locator("table.timeline tbody tr")
        # The table is the chart's text alternative, folded away: read its text, not what shows.
        assert (rows.first.text_content() or "").strip().startswith(NOW.strftime("%Y-%m-%d"))
        assert page.locator(".chart svg").count() == 1

        # Snooze a day: Cy's reminder leaves the overdue list for tomorrow's, in the week ahead.
        page.goto(served.url + "/")
        cy = page.get_by_text("Cy Park", exact=True)
        page.locator("#overdue li.reminder", has=cy).get_by_role(
            "button", name="Snooze a day"
        ).click()
        said = page.get_by_role("status").inner_text()
        assert said.startswith("Snoozed until Sat 21 Nov 2026 09:00 UTC")
        assert page.locator("#overdue li.reminder", has=cy).count() == 0
        assert page.locator("#ahead li.reminder", has=cy).count() == 1

        # Edit Dee's cadence: from none to every 3 weeks.
        page.goto(served.url + "/people/dee")
        assert "none: never due" in page.locator(".facts").inner_text()
        page.fill("input[name=cadence]", "3 weeks")
        page.fill("input[name=tags]", "friends, card-list")
        page.click("button:has-text('Save')")
        facts = page.locator(".facts").inner_text()
        assert "3 weeks" in facts
        assert "card-list, friends" in facts
        assert page.get_by_role("status").inner_text() == "Saved Dee Novak."

        # A bad cadence is refused with words, and changes nothing.
        page.fill("input[name=cadence]", "every blue moon")
        page.click("button:has-text('Save')")
        assert "3 weeks" in page.locator(".facts").inner_text()
        assert page.locator(".said.error").count() == 1

        # A forged POST from this very browser, without the form's token, is refused.
        forged = page.request.post(served.url + "/done", form={"key": "whatever"}, max_redirects=0)
        assert forged.status == 403
        assert dialogs == []
    finally:
        context.close()


PAGES = {"today": "/", "people": "/people", "person": "/people/ana", "roster": "/roster"}


def test_each_page_is_shot_at_desktop_and_phone_width(
    browser: Any, served: Served, shots: Path
) -> None:
    """Each page renders at 1280 and 390 pixels wide without spilling sideways; shots are saved."""
    for width, (w, h) in WIDTHS.items():
        context = browser.new_context(viewport={"width": w, "height": h})
        page = context.new_page()
        try:
            page.goto(f"{served.url}/?token={served.token}")
            for name, path in PAGES.items():
                page.goto(served.url + path)
                assert page.locator("h1").count() == 1
                shot = shots / f"web-{name}-{width}.png"
                page.screenshot(path=str(shot))
                assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
                scroll = page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= w, f"{path} is {scroll}px wide at {w}px"
        finally:
            context.close()


def test_every_action_is_a_plain_form(served: Served) -> None:
    """Each button posts a form with the CSRF token: nothing needs a script."""
    session = _session(served)
    for path in ("/", "/people/ana"):
        html = session.get(served.url + path, timeout=10).text
        forms = re.findall(r"<form method=\"post\".*?</form>", html, flags=re.S)
        assert forms
        for form in forms:
            assert 'name="csrf"' in form


def test_the_cookie_is_secure_under_tls(tmp_path: Path) -> None:
    """A request that came over TLS (``wsgi.url_scheme`` https) gets a Secure session cookie."""
    from wsgiref.util import setup_testing_defaults

    from cadence.web.app import make_web_app

    token = new_token()
    with open_store(f"sqlite:///{tmp_path / 'c.db'}") as store:
        app = make_web_app(store, token=token, clock=lambda: NOW)
        environ: dict[str, Any] = {"QUERY_STRING": f"token={token}", "wsgi.url_scheme": "https"}
        setup_testing_defaults(environ)
        said: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]]) -> None:
            said.update(status=status, headers=dict(headers))

        app(environ, start_response)
    assert said["status"].startswith("303")
    cookie = said["headers"]["Set-Cookie"]
    assert cookie.startswith("cadence_session=")
    assert "; Secure" in cookie
    assert "HttpOnly" in cookie
