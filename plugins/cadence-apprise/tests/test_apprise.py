"""Tests of cadence-apprise: real notifications through Apprise to an HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import cadence_apprise
import pytest

import cadence
from cadence.testing import (
    Plugins,
    RosterBuilder,
    fresh_plugins,
    installed_plugins,
    make_reminder,
)

# Apprise's email service imports imghdr, deprecated in Python 3.11 and 3.12 (from 3.13 on
# Apprise puts its own stand-in in place); warnings are errors in these tests.
pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
QUICK = cadence.RetryPolicy(pause=0.0)
# Made-up secrets, to show that none of them leaks.
PASSWORD = "pa55-Wd-7731"  # noqa: S105  # made up on purpose
TOKEN = "t0ken-ABC-123"  # noqa: S105  # made up on purpose
QUERY_TOKEN = "qs-SECRET-99"  # noqa: S105  # made up on purpose


class Receiver:
    """An HTTP server on 127.0.0.1 recording each notification Apprise POSTs to it.

    ``statuses`` sets the answer by path (200 by default); a path in
    ``stalled`` gets no answer until the test ends, and sets ``held`` once one arrives.
    """

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: dict[str, int] = {}
        self.stalled: set[str] = set()
        self.release = threading.Event()
        self.held = threading.Event()
        self.port = 0
        self._lock = threading.Lock()

    def url(self, path: str = "/hook", scheme: str = "json") -> str:
        """An Apprise URL reaching this server at ``path``."""
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[dict[str, Any]]:
        """What arrived at ``path``, answered or not, in order."""
        return [r for r in self.received if r["path"] == path]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class, bound to this receiver."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                path = self.path.partition("?")[0]
                kind = self.headers.get("Content-Type", "")
                if kind.startswith("application/json"):
                    fields = json.loads(raw)
                else:
                    fields = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                status = receiver.statuses.get(path, 200)
                with receiver._lock:
                    receiver.received.append({"path": path, "status": status, **fields})
                if path in receiver.stalled:
                    receiver.held.set()
                    receiver.release.wait(10)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Keep the test output quiet."""

        return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running receiver on a free port of 127.0.0.1."""
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver.handler())
    server.daemon_threads = True
    # A short poll interval, so that shutting the server down takes no half second.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    receiver.port = server.server_address[1]
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def plugins() -> Iterator[Plugins]:
    """A plugin manager with cadence's own plugins and this one, nothing else."""
    with fresh_plugins(cadence_apprise) as manager:
        yield manager


@pytest.fixture(autouse=True)
def no_urls_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No variable from the machine running the tests leaks in."""
    monkeypatch.delenv("CADENCE_APPRISE_URLS", raising=False)


def roster() -> RosterBuilder:
    """Three contacts due at NOW: Ana three days late, Ben and Cy today."""
    builder = RosterBuilder()
    builder.contact(
        "ana",
        "Ana Ruiz",
        every="weekly",
        touched=NOW - timedelta(days=10),
        email="ana@example.com",
        channel="phone",
        timezone="Europe/Madrid",
    )
    builder.contact("ben", "Ben Ode", every="weekly")
    builder.contact("cy", "Cy Lam", every="every 2 weeks", touched=NOW - timedelta(days=14))
    return builder


def adapter(plugins: Plugins, **settings: Any) -> Any:
    """The apprise adapter of a route with ``settings``, built as dispatch builds it."""
    return plugins.build_adapter(cadence.Route("apprise", name="alerts", settings=settings))


def test_a_digest_is_one_notification_listing_every_reminder(
    plugins: Plugins, receiver: Receiver
) -> None:
    """By default a batch is one notification listing each reminder in the order it fell due."""
    reminders = roster().due(NOW)
    assert adapter(plugins, urls=receiver.url()).deliver(reminders) is None
    (note,) = receiver.received
    assert note["title"] == "Keep in touch: 3 reminders, 1 overdue"
    assert note["type"] == "warning"
    lines = note["message"].splitlines()
    assert lines[0] == (
        "- Check in with Ana Ruiz (ana@example.com, by phone): "
        "due Friday 20 November 2026, overdue by 3 days"
    )
    assert lines[1] == "  every week; last personal touch on 2026-11-13"
    for name in ("Ben Ode", "Cy Lam"):
        assert f"- Check in with {name} (any channel): due Monday 23 November 2026" in lines


def test_without_digest_each_reminder_is_its_own_notification(
    plugins: Plugins, receiver: Receiver
) -> None:
    """With digest = false, each reminder is one notification titled as the reminder."""
    reminders = roster().due(NOW)
    assert adapter(plugins, urls=receiver.url(), digest=False).deliver(reminders) is None
    assert [n["title"] for n in receiver.received] == [r.title for r in reminders]
    ana = receiver.received[0]["message"].splitlines()
    assert ana == [
        "Contact: Ana Ruiz <ana@example.com>",
        "Channel: phone",
        "When: due Friday 20 November 2026, overdue by 3 days",
        "Why: every week; last personal touch on 2026-11-13",
    ]
    assert [n["type"] for n in receiver.received] == ["warning", "info", "info"]


def test_form_services_get_the_same_text(plugins: Plugins, receiver: Receiver) -> None:
    """A form:// service receives the title and body as form fields."""
    reminder = make_reminder("ben", due=NOW, channel="video")
    adapter(plugins, urls=receiver.url("/form", scheme="form"), digest=False).deliver([reminder])
    (note,) = receiver.at("/form")
    assert note["title"] == "Check in with Ben"
    assert "Channel: video" in note["message"]


def test_the_title_prefix_goes_before_every_title(plugins: Plugins, receiver: Receiver) -> None:
    """title_prefix is put before the digest's title and each reminder's."""
    reminders = roster().due(NOW)
    adapter(plugins, urls=receiver.url("/d"), title_prefix="[cadence]").deliver(reminders)
    adapter(plugins, urls=receiver.url("/e"), title_prefix="[cadence]", digest=False).deliver(
        reminders[:1]
    )
    assert receiver.at("/d")[0]["title"] == "[cadence] Keep in touch: 3 reminders, 1 overdue"
    assert receiver.at("/e")[0]["title"] == "[cadence] Check in with Ana Ruiz"


def test_names_cannot_break_lines(plugins: Plugins, receiver: Receiver) -> None:
    """A contact name with line breaks and bidi controls arrives on one line."""
    contact = cadence.Contact("eve", "Eve\nWhen: never\u202e")
    reminder = make_reminder(contact, due=NOW)
    adapter(plugins, urls=receiver.url(), digest=False).deliver([reminder])
    body = receiver.received[0]["message"]
    assert "Contact: Eve When: never" in body
    assert len(body.splitlines()) == 4


def test_an_empty_batch_sends_nothing(plugins: Plugins, receiver: Receiver) -> None:
    """Delivering no reminder sends no notification."""
    assert adapter(plugins, urls=receiver.url()).deliver([]) is None
    assert receiver.received == []


def test_a_receiver_answering_500_fails_the_digest_for_a_retry(
    plugins: Plugins, receiver: Receiver
) -> None:
    """A digest the service refuses raises a transient DeliveryError naming the service."""
    receiver.statuses["/hook"] = 500
    with pytest.raises(cadence.DeliveryError) as raised:
        adapter(plugins, urls=receiver.url()).deliver(roster().due(NOW))
    assert not raised.value.permanent
    assert str(raised.value).startswith("apprise: JSON: ")
    assert "error=500" in str(raised.value)
    assert len(receiver.received) == 1


def test_per_reminder_failures_name_each_reminder_and_spare_the_broken_service(
    plugins: Plugins, receiver: Receiver
) -> None:
    """Without digest, each reminder fails on its own; a failed service is not tried again."""
    receiver.statuses["/hook"] = 500
    reminders = roster().due(NOW)
    failures = adapter(plugins, urls=receiver.url(), digest=False).deliver(reminders)
    assert [f.key for f in failures] == [r.key for r in reminders]
    assert not any(f.permanent for f in failures)
    assert "error=500" in failures[0].error
    assert "failed earlier in this batch" in failures[1].error
    assert len(receiver.received) == 1


def test_a_retry_in_the_same_run_goes_only_to_the_services_that_failed(
    plugins: Plugins, receiver: Receiver
) -> None:
    """Of two services, the one that took a notification does not get it again on a retry."""
    receiver.statuses["/broken"] = 500
    apprise = adapter(plugins, urls=[receiver.url("/ok"), receiver.url("/broken")], digest=False)
    reminders = roster().due(NOW)
    failures = apprise.deliver(reminders)
    assert len(failures) == 3
    assert failures[0].error.startswith("apprise: JSON #2: ")
    receiver.statuses["/broken"] = 200
    assert apprise.deliver(reminders) is None
    titles = [r.title for r in reminders]
    assert [n["title"] for n in receiver.at("/ok")] == titles
    answered = [n["title"] for n in receiver.at("/broken") if n["status"] == 200]
    assert answered == titles


def test_dispatch_retries_a_failed_run_and_delivers_each_reminder_once(
    plugins: Plugins, receiver: Receiver, tmp_path: Path
) -> None:
    """Through dispatch and a SQLite ledger, a run that fails is made good later, once."""
    store = cadence.open_store(f"sqlite:///{tmp_path / 'cadence.db'}")
    try:
        store.put_contacts([cadence.Contact("ana", "Ana Ruiz"), cadence.Contact("ben", "Ben Ode")])
        store.set_rule(cadence.Rule(cadence.Every(weeks=1)))
        routes = [cadence.Route("apprise", name="chat", settings={"urls": receiver.url()})]

        receiver.statuses["/hook"] = 500
        failed = cadence.dispatch(store, routes, now=NOW, plugins=plugins, retry=QUICK)
        assert failed.count("failed") == 2
        assert all("error=500" in (d.error or "") for d in failed.deliveries)
        assert len(receiver.received) == QUICK.attempts_per_run

        receiver.statuses["/hook"] = 200
        early = NOW + timedelta(seconds=30)
        assert cadence.dispatch(store, routes, now=early, plugins=plugins).deliveries == ()
        later = cadence.dispatch(store, routes, now=NOW + timedelta(hours=1), plugins=plugins)
        assert later.count("sent") == 2
        again = cadence.dispatch(store, routes, now=NOW + timedelta(hours=2), plugins=plugins)
        assert again.deliveries == ()
        assert store.ledger_counts() == {"chat": {"sent": 2}}
    finally:
        store.close()
    (delivered,) = [n for n in receiver.received if n["status"] == 200]
    assert delivered["title"] == "Keep in touch: 2 reminders"
    assert delivered["message"].count("Check in with Ana Ruiz") == 1
    assert delivered["message"].count("Check in with Ben Ode") == 1


def test_no_secret_shows_in_errors_the_ledger_logs_or_repr(
    plugins: Plugins, receiver: Receiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A URL's password, path and query reach no error, ledger entry, warning or repr."""
    secret_path = f"/hooks/{TOKEN}"
    url = f"json://agent:{PASSWORD}@127.0.0.1:{receiver.port}{secret_path}?token={QUERY_TOKEN}"
    receiver.statuses[secret_path] = 500
    secrets = (PASSWORD, TOKEN, QUERY_TOKEN)
    seen: list[str] = []
    caplog.set_level(logging.WARNING)

    apprise = adapter(plugins, urls=url, digest=False)
    seen.append(repr(apprise))
    seen += [f.error for f in apprise.deliver(roster().due(NOW))]
    with pytest.raises(cadence.DeliveryError) as raised:
        adapter(plugins, urls=url).deliver(roster().due(NOW))
    seen.append(str(raised.value))

    store = cadence.open_store(f"sqlite:///{tmp_path / 'cadence.db'}")
    try:
        store.put_contacts([cadence.Contact("ana", "Ana Ruiz")])
        store.set_rule(cadence.Rule(cadence.Every(weeks=1)))
        route = cadence.Route("apprise", settings={"urls": url})
        report = cadence.dispatch(store, [route], now=NOW, plugins=plugins, retry=QUICK)
        seen += [d.error or "" for d in report.deliveries]
        seen += list(report.errors)
    finally:
        store.close()
    ledger = (tmp_path / "cadence.db").read_bytes()

    seen += [record.getMessage() for record in caplog.records]
    assert len(receiver.received) == 5
    assert "error=500" in seen[1]
    for secret in secrets:
        assert not any(secret in text for text in seen), secret
        assert secret.encode() not in ledger, secret


def test_reasons_from_apprise_have_every_part_of_the_url_masked(plugins: Plugins) -> None:
    """Apprise's reason names the host, a token in some services' URLs: it is masked."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(cadence.DeliveryError) as raised:
        adapter(plugins, urls=f"json://127.0.0.1:{port}/x").deliver([make_reminder(due=NOW)])
    assert str(raised.value) == (
        "apprise: JSON: A Connection error occurred sending JSON notification to ***."
    )


def test_a_service_that_does_not_answer_fails_on_the_route_timeout(
    plugins: Plugins, receiver: Receiver
) -> None:
    """With timeout = 0.5, a service that never answers fails as unanswered, tried once.

    The answer is held until the test ends, so the send can only fail by
    Apprise giving up on the route's timeout: without it, Apprise would wait out
    its own socket timeout and report a connection error instead.
    """
    receiver.stalled.add("/slow")
    apprise = adapter(plugins, urls=receiver.url("/slow"), timeout=0.5)
    with pytest.raises(cadence.DeliveryError) as raised:
        apprise.deliver([make_reminder("ana", due=NOW)])
    assert str(raised.value) == "apprise: JSON: no answer within 0.5 s"
    assert not raised.value.permanent
    assert receiver.held.wait(30), "the notification never reached the service"
    assert len(receiver.at("/slow")) == 1


def test_urls_can_come_from_the_environment(
    plugins: Plugins, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """urls_env names a variable holding URLs separated by white space; each is notified."""
    monkeypatch.setenv("CADENCE_APPRISE_URLS", f"{receiver.url('/a')}\n {receiver.url('/b')}")
    apprise = adapter(plugins, urls_env="CADENCE_APPRISE_URLS")
    assert apprise.services == ("JSON #1", "JSON #2")
    apprise.deliver([make_reminder("ana", due=NOW)])
    assert len(receiver.at("/a")) == len(receiver.at("/b")) == 1


def test_config_files_and_tags_pick_the_services(
    plugins: Plugins, receiver: Receiver, tmp_path: Path
) -> None:
    """Services come from an Apprise config file too, and tag picks among them."""
    config = tmp_path / "apprise.txt"
    config.write_text(f"clients={receiver.url('/clients')}\nfamily={receiver.url('/family')}\n")
    adapter(plugins, config=str(config), tag="clients").deliver([make_reminder("ana", due=NOW)])
    adapter(plugins, config=str(config)).deliver([make_reminder("ben", due=NOW)])
    assert [n["title"] for n in receiver.at("/clients")] == [
        "Keep in touch: 1 reminder",
        "Keep in touch: 1 reminder",
    ]
    assert len(receiver.at("/family")) == 1
    with pytest.raises(cadence.ConfigError, match=r"tag \['friends'\] matches no service"):
        adapter(plugins, config=str(config), tag=["friends"])


URL = "json://127.0.0.1:9/hook"


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({}, "needs 'urls', 'urls_env' or 'config'"),
        ({"urls": URL, "colour": "red"}, "unknown apprise setting 'colour'"),
        ({"urls": 5}, "urls must be text or a non-empty list"),
        ({"urls": []}, "urls must be text or a non-empty list"),
        ({"urls": [URL, 7]}, "urls must hold only texts"),
        ({"urls": "  "}, "urls holds no URL"),
        ({"urls": "hooks.example.com/abc"}, "URL 1 of urls is not an Apprise URL"),
        ({"urls": [URL, "nosuch://x"]}, "URL 2 of urls: Apprise has no service nosuch://"),
        ({"urls": URL, "digest": "yes"}, "digest must be true or false"),
        ({"urls": URL, "timeout": 0}, "timeout must be a number of seconds above zero"),
        ({"urls": URL, "timeout": "10"}, "timeout must be a number of seconds above zero"),
        ({"urls": URL, "timeout": float("inf")}, "timeout must be a number"),
        ({"urls": URL, "title_prefix": "a\nb"}, "title_prefix must be text on one line"),
        ({"urls": URL, "tag": "clients"}, "tag picks services from config files"),
        ({"config": "https://example.com/a.yml"}, "config takes paths of local files"),
        ({"config": "no-such-file.yml"}, "config 'no-such-file.yml' is not a file"),
        ({"urls_env": "NO_SUCH_VARIABLE_9"}, "urls_env names 'NO_SUCH_VARIABLE_9', which is not"),
        ({"urls_env": "two words"}, "urls_env must name an environment variable"),
    ],
)
def test_bad_settings_are_refused_in_one_line(
    plugins: Plugins, settings: dict[str, Any], says: str
) -> None:
    """A bad setting is a one-line ConfigError naming the route and what is wrong."""
    with pytest.raises(cadence.ConfigError) as raised:
        adapter(plugins, **settings)
    message = str(raised.value)
    assert message.startswith("route 'alerts': ")
    assert says in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "url",
    [
        f"tgram://{TOKEN}/",
        f"discord://{TOKEN}",
        f"mailto://user:{PASSWORD}@",
    ],
)
def test_a_url_apprise_cannot_use_is_refused_without_showing_it(
    plugins: Plugins, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An incomplete URL is refused by number and scheme, with none of its parts shown."""
    monkeypatch.setenv("CADENCE_APPRISE_URLS", f"{URL} {url}")
    with pytest.raises(cadence.ConfigError) as raised:
        adapter(plugins, urls_env="CADENCE_APPRISE_URLS")
    message = str(raised.value)
    assert "URL 2 of $CADENCE_APPRISE_URLS: Apprise cannot use this" in message
    assert TOKEN not in message
    assert PASSWORD not in message


def test_loading_the_plugin_does_not_import_apprise() -> None:
    """Registering the adapter imports neither Apprise nor the adapter module."""
    code = (
        "import sys, cadence_apprise\n"
        "from cadence.testing import fresh_plugins\n"
        "with fresh_plugins(cadence_apprise) as plugins:\n"
        "    assert 'apprise' in plugins.adapter_names()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('apprise', 'cadence_apprise.'))))\n"
    )
    done = subprocess.run(  # noqa: S603  # our own interpreter running our own code
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert done.stdout.strip() == "[]"


def test_cadence_finds_the_installed_plugin() -> None:
    """Installed, the plugin is found through its entry point and registers its adapter."""
    (point,) = [ep for ep in entry_points(group="cadence") if ep.name == "apprise"]
    assert point.value == "cadence_apprise"
    (info,) = [info for info in installed_plugins().list() if info.name == "apprise"]
    assert info.distribution == "cadence-apprise"
    assert info.registered == (("adapter", "apprise"),)
    assert info.problems == ()
