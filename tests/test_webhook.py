"""The webhook adapter: settings, payloads, signatures, address checks, and real POSTs on loopback.

Signatures are checked with the ``standardwebhooks`` package, an implementation
independent of cadence's, and standard bodies against the JSON schema that
cadence ships. Servers run on 127.0.0.1 only; addresses beyond it appear only
as data given to the address checks, never as a destination.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema  # type: ignore[import-untyped]  # no stubs in the test extra
import pytest
import trustme
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from requests.adapters import HTTPAdapter
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from urllib3.poolmanager import PoolManager

import cadence.adapters.webhook as webhook_module
from cadence import (
    Birthday,
    CadenceError,
    ConfigError,
    Contact,
    EndpointGone,
    Every,
    Failure,
    Reminder,
    Roster,
    Route,
    Rule,
    plan,
)
from cadence._plugins import Plugins
from cadence.adapters.webhook import (
    SETTINGS,
    WebhookAdapter,
    WebhookSettings,
    parse_settings,
    webhook_adapter,
)
from cadence.adapters.webhook.network import (
    AddressError,
    PinningAdapter,
    address_refusal,
    literal_address,
    parse_retry_after,
    pin_address,
)
from cadence.adapters.webhook.payloads import (
    EVENT_TYPE,
    discord_payload,
    encode,
    payload_schema,
    slack_payload,
    standard_payload,
    teams_payload,
)
from cadence.adapters.webhook.signing import parse_secret, sign

# Made-up secrets of 32 bytes each.
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
OLD_SECRET = "whsec_" + base64.b64encode(bytes(range(100, 132))).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(bytes(range(200, 232))).decode()


# -- a receiver on loopback ---------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it; header names in lower case."""

    path: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    """What the receiver answers, after waiting ``delay`` seconds (cut short at teardown)."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0


class Receiver:
    """A ThreadingHTTPServer on 127.0.0.1 that records every request and answers as told.

    ``handler`` decides each answer; by default the next of ``replies``, then 200.
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.received: list[Received] = []
        self.replies: list[Reply] = []
        self.handler: Callable[[Received], Reply] = self._next_reply
        self.release = threading.Event()
        self.server_names: list[str | None] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        if tls is not None:
            tls.sni_callback = self._sni
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self.scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.received]

    def record(self, received: Received) -> Reply:
        with self._lock:
            self.received.append(received)
        return self.handler(received)

    def _next_reply(self, received: Received) -> Reply:
        with self._lock:
            return self.replies.pop(0) if self.replies else Reply()

    def _sni(self, sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        self.server_names.append(name)

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class _Server(ThreadingHTTPServer):
    receiver: Receiver

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (a timeout test) is expected: stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.receiver.record(Received(self.path, headers, body))
        if reply.delay:
            self.server.receiver.release.wait(reply.delay)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A plain HTTP receiver on 127.0.0.1."""
    running = Receiver()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def reminders(now: datetime) -> tuple[Reminder, ...]:
    """Three due reminders: two cadences and a birthday, one with markup in the name."""
    roster = Roster(
        [
            Contact(
                "ada",
                "Ada Lovelace",
                email="ada@example.com",
                timezone="Europe/London",
                channel="phone",
                tags=["retainer", "card-list"],
                since=date(2026, 1, 1),
            ),
            Contact("bob", "Bob <!channel> @everyone & co", since=date(2026, 10, 1)),
        ],
        [Rule(Every(days=14))],
        [Birthday("ada", 11, 25, lead=timedelta(days=7))],
    )
    due = plan(roster, now=now).due
    assert len(due) == 3
    return due


@pytest.fixture
def adapters() -> Iterator[list[WebhookAdapter]]:
    """A list to put adapters in; each is closed at the end of the test."""
    made: list[WebhookAdapter] = []
    try:
        yield made
    finally:
        for adapter in made:
            adapter.close()


@pytest.fixture
def make(adapters: list[WebhookAdapter]) -> Callable[..., WebhookAdapter]:
    """Builds an adapter from settings (standard format, SECRET, private addresses allowed)."""

    def build(
        *,
        resolver: Callable[[str, int], list[str]] | None = None,
        clock: Callable[[], datetime] | None = None,
        **settings: Any,
    ) -> WebhookAdapter:
        settings.setdefault("allow_private", True)
        if settings.get("format", "standard") == "standard":
            settings.setdefault("secret", SECRET)
        options: dict[str, Any] = {"clock": clock}
        if resolver is not None:
            options["resolver"] = resolver
        adapter = WebhookAdapter(parse_settings(settings), **options)
        adapters.append(adapter)
        return adapter

    return build


def only(failures: list[Failure] | None) -> Failure:
    """The one failure of a one-reminder batch."""
    assert failures is not None
    assert len(failures) == 1
    return failures[0]


def verified(received: Received, secret: str = SECRET) -> Any:
    """The body of ``received`` after the standardwebhooks package checked its signature."""
    return Webhook(secret).verify(received.body, dict(received.headers))


# -- settings -----------------------------------------------------------------------


def test_unknown_setting_is_named() -> None:
    """An unknown setting is refused with its name and the known ones."""
    with pytest.raises(
        ConfigError, match=r"unknown webhook setting 'secrte'.*known: allow_private"
    ):
        parse_settings({"url": "https://example.com/hook", "secrte": SECRET})


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({}, "url"),
        ({"url": "ftp://example.com/hook"}, "http or https"),
        ({"url": "https:///hook"}, "no host"),
        ({"url": "https://example.com:99999/hook"}, "port"),
        ({"url": "https://example.com/a b"}, "spaces"),
        ({"url": "https://example.com/hook", "timeout": "soon"}, "timeout"),
        ({"url": "https://example.com/hook", "timeout": 0}, "timeout"),
        ({"url": "https://example.com/hook", "timeout": float("inf")}, "timeout"),
        ({"url": "https://example.com/hook", "concurrency": 0}, "concurrency"),
        ({"url": "https://example.com/hook", "concurrency": True}, "concurrency"),
        ({"url": "https://example.com/hook", "allow_private": "yes"}, "allow_private"),
        ({"url": "https://example.com/hook", "format": "irc"}, "format"),
        ({"url": "https://example.com/hook", "headers": ["X-A"]}, "headers"),
        ({"url": "https://example.com/hook", "headers": {"Bad Name": "1"}}, "header name"),
        ({"url": "https://example.com/hook", "headers": {"webhook-id": "x"}}, "webhook-id"),
        ({"url": "https://example.com/hook", "headers": {"X-A": "1\r\nX-B: 2"}}, "X-A"),
        ({"url": "https://example.com/hook", "ca_file": "/no/such/ca.pem"}, "ca_file"),
        ({"url": "http://example.com/hook", "ca_file": __file__}, "ca_file"),
    ],
)
def test_bad_settings_name_the_setting(settings: dict[str, Any], named: str) -> None:
    """Each bad setting raises ConfigError whose message names it."""
    settings.setdefault("secret", SECRET)
    if settings.get("url") is None:
        settings.pop("url", None)
    with pytest.raises(ConfigError, match=named):
        parse_settings(settings)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hook",
        "http://0.0.0.0/hook",
        "http://[::ffff:192.168.1.1]/hook",
    ],
)
def test_literal_private_address_is_refused_when_built(url: str) -> None:
    """A URL whose host is a non-public address is refused at once, naming the setting."""
    with pytest.raises(ConfigError, match=r"url: .* address; set allow_private"):
        parse_settings({"url": url, "secret": SECRET})
    assert parse_settings({"url": url, "secret": SECRET, "allow_private": True}).allow_private


@pytest.mark.parametrize(
    "secret",
    [
        "not-a-whsec-SUPERSECRETVALUE",
        "whsec_SUPERSECRETVALUE!!",
        "whsec_" + base64.b64encode(b"SUPERSECRETVALUE").decode(),
        ["whsec_" + base64.b64encode(bytes(32)).decode(), "whsec_SUPERSECRETVALUE!!"],
        12345,
    ],
)
def test_bad_secret_is_refused_without_showing_it(secret: object) -> None:
    """A secret that is not a 24-to-64-byte whsec_ secret is refused, and the message hides it."""
    with pytest.raises(ConfigError, match="secret") as caught:
        parse_settings({"url": "https://example.com/hook", "secret": secret})
    assert "SUPERSECRETVALUE" not in str(caught.value)
    assert "U1VQRVJTRUNSRVRWQUxVRQ" not in str(caught.value)


def test_secret_env_reads_one_or_more_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """secret_env names a variable holding space-separated secrets; each becomes a key."""
    monkeypatch.setenv("CADENCE_TEST_WEBHOOK_SECRET", f"{SECRET} {OLD_SECRET}")
    settings = parse_settings(
        {"url": "https://example.com/hook", "secret_env": "CADENCE_TEST_WEBHOOK_SECRET"}
    )
    assert settings.keys == (parse_secret(SECRET), parse_secret(OLD_SECRET))


def test_secret_env_that_is_not_set_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret_env naming an unset variable is refused with the variable's name."""
    monkeypatch.delenv("CADENCE_TEST_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ConfigError, match="CADENCE_TEST_WEBHOOK_SECRET"):
        parse_settings(
            {"url": "https://example.com/hook", "secret_env": "CADENCE_TEST_WEBHOOK_SECRET"}
        )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"url": "https://example.com/hook"}, "standard format signs every webhook"),
        (
            {"url": "https://example.com/hook", "secret": SECRET, "secret_env": "X"},
            "not both",
        ),
        (
            {"url": "https://hooks.slack.com/services/T/B/X", "format": "slack", "secret": SECRET},
            "unsigned",
        ),
    ],
)
def test_signing_settings_must_fit_the_format(settings: dict[str, Any], message: str) -> None:
    """The standard format needs a secret, the chat formats take none, and only one source."""
    with pytest.raises(ConfigError, match=message):
        parse_settings(settings)


def test_repr_hides_url_path_secret_and_headers() -> None:
    """The settings' and adapter's reprs show no URL path, key or header value."""
    adapter = webhook_adapter(
        url="https://hooks.example.com/services/TOKEN123",
        secret=SECRET,
        headers={"Authorization": "Bearer TOKEN456"},
    )
    try:
        shown = repr(adapter) + repr(adapter.settings)
    finally:
        adapter.close()
    assert "https://hooks.example.com" in shown
    for hidden in ("TOKEN123", "TOKEN456", SECRET, repr(parse_secret(SECRET))):
        assert hidden not in shown


def test_plugin_registers_the_webhook_adapter(plugins: Plugins) -> None:
    """The built-in plugin registers 'webhook'; a bad setting is named with its route."""
    adapter = plugins.build_adapter(
        Route("webhook", name="ops", settings={"url": "https://example.com/h", "secret": SECRET})
    )
    try:
        assert isinstance(adapter, WebhookAdapter)
    finally:
        adapter.close()
    with pytest.raises(ConfigError, match="route 'ops': unknown webhook setting 'timout'"):
        plugins.build_adapter(
            Route(
                "webhook",
                name="ops",
                settings={"url": "https://example.com/h", "secret": SECRET, "timout": 3},
            )
        )


# -- signing, payloads, Retry-After -----------------------------------------------------


def test_signature_matches_the_standardwebhooks_package() -> None:
    """cadence's v1 signature equals the one the standardwebhooks package computes."""
    body = b'{"type":"reminder.due","data":{"name":"Zo\xc3\xab"}}'
    moment = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    ours = sign("0123abcd", int(moment.timestamp()), body, [parse_secret(SECRET)])
    assert ours == Webhook(SECRET).sign("0123abcd", moment, body.decode("utf-8"))


#: Fields added to version 1 after its first bodies were sent: optional, so that those stay valid.
ADDED_TO_V1 = {"reminder": {"localized"}, "contact": set()}


def test_standard_payload_follows_the_shipped_schema(reminders: tuple[Reminder, ...]) -> None:
    """Every standard body validates against the shipped schema, which names exactly its fields.

    Every field is sent; those first sent in version 1 are required, those added since optional.
    """
    schema = payload_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    data_schema = schema["properties"]["data"]["properties"]
    for reminder in reminders:
        payload = json.loads(json.dumps(standard_payload(reminder)))
        validator.validate(payload)
        assert payload["type"] == EVENT_TYPE
        assert payload["timestamp"].endswith("Z")
        for part in ("reminder", "contact"):
            assert set(payload["data"][part]) == set(data_schema[part]["properties"])
            required = set(data_schema[part]["properties"]) - ADDED_TO_V1[part]
            assert set(data_schema[part]["required"]) == required


def test_schema_refuses_a_wrong_payload(reminders: tuple[Reminder, ...]) -> None:
    """The schema is strict enough to catch a broken body (a missing key, a wrong kind)."""
    validator = jsonschema.Draft202012Validator(payload_schema())
    payload = standard_payload(reminders[0])
    del payload["data"]["reminder"]["key"]
    assert not validator.is_valid(payload)
    payload = standard_payload(reminders[0])
    payload["data"]["reminder"]["kind"] = "nag"
    assert not validator.is_valid(payload)


def test_retry_after_reads_seconds_and_http_dates(now: datetime) -> None:
    """Retry-After in seconds or as an HTTP date gives a moment after now; nonsense gives None."""
    later = now + timedelta(minutes=5)
    assert parse_retry_after("120", now) == now + timedelta(seconds=120)
    assert parse_retry_after(format_datetime(later, usegmt=True), now) == later
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now) is None
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("-5", now) is None
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("99999999999999999999", now) == now + timedelta(days=7)


# -- the address check ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104  # data for the check, nothing binds it
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "address"),
        ("100.64.0.1", "special-purpose"),
        ("198.18.0.1", "address"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a00:1", "address"),
        ("2002:7f00:1::", "address"),
    ],
)
def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    """Loopback, private, link-local, multicast, reserved and special addresses are refused."""
    literal = literal_address(address)
    assert literal is not None
    refusal = address_refusal(literal)
    assert refusal is not None
    assert kind in refusal


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    """Public unicast addresses are not refused (checked as data only; nothing connects to them)."""
    literal = literal_address(address)
    assert literal is not None
    assert address_refusal(literal) is None


def fixed(*answers: list[str] | BaseException) -> tuple[Callable[[str, int], list[str]], list[str]]:
    """A resolver giving ``answers`` in turn, and the list of names it was asked for."""
    asked: list[str] = []
    queue = list(answers)

    def resolve(host: str, port: int) -> list[str]:
        asked.append(f"{host}:{port}")
        answer = queue.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    return resolve, asked


def test_pin_returns_the_checked_address_after_one_lookup() -> None:
    """A public name is resolved once and its first address is the one to connect to."""
    resolve, asked = fixed(["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
    assert pin_address("example.com", 443, allow_private=False, resolver=resolve) == "93.184.215.14"
    assert asked == ["example.com:443"]


def test_pin_refuses_a_name_with_any_private_address() -> None:
    """A name whose answers mix public and private addresses is refused, permanently."""
    resolve, _ = fixed(["93.184.215.14", "10.0.0.7"])
    with pytest.raises(AddressError, match=r"10\.0\.0\.7 is a private address") as caught:
        pin_address("rebind.example", 443, allow_private=False, resolver=resolve)
    assert caught.value.permanent


def test_pin_allows_private_addresses_when_the_route_does() -> None:
    """With allow_private a private answer is pinned like any other."""
    resolve, _ = fixed(["10.0.0.7"])
    assert pin_address("intranet.example", 80, allow_private=True, resolver=resolve) == "10.0.0.7"


def test_pin_skips_the_resolver_for_a_literal_address() -> None:
    """A literal address is checked as written, without asking the resolver."""
    resolve, asked = fixed()
    with pytest.raises(AddressError, match="loopback"):
        pin_address("127.0.0.1", 80, allow_private=False, resolver=resolve)
    assert pin_address("::1", 80, allow_private=True, resolver=resolve) == "::1"
    assert asked == []


@pytest.mark.parametrize(
    "answer",
    [socket.gaierror(socket.EAI_NONAME, "Name or service not known"), []],
)
def test_pin_failure_to_resolve_is_transient(answer: list[str] | BaseException) -> None:
    """A name that does not resolve (yet) is a transient failure, not a refusal."""
    resolve, _ = fixed(answer)
    with pytest.raises(AddressError, match="example") as caught:
        pin_address("down.example", 443, allow_private=False, resolver=resolve)
    assert not caught.value.permanent


@pytest.mark.integration
def test_each_delivery_resolves_once_and_is_pinned(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """A name resolved by the injected resolver is connected to at that address, Host kept."""
    resolve, asked = fixed(["127.0.0.1"], ["127.0.0.1"])
    adapter = make(url=receiver.url(host="receiver.test"), resolver=resolve, concurrency=1)
    assert adapter.deliver(reminders[:2]) is None
    assert asked == [f"receiver.test:{receiver.port}"] * 2
    assert [r.headers["host"] for r in receiver.received] == [f"receiver.test:{receiver.port}"] * 2


@pytest.mark.integration
def test_rebinding_to_a_private_address_is_caught_at_delivery(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """A name that now resolves to loopback is refused for good and nothing is sent."""
    resolve, _ = fixed(["127.0.0.1"])
    adapter = make(url=receiver.url(host="receiver.test"), resolver=resolve, allow_private=False)
    failure = only(adapter.deliver(reminders[:1]))
    assert failure.permanent
    assert "127.0.0.1 is a loopback address" in failure.error
    assert receiver.received == []


# -- pinning fails closed ---------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize(
    "host",
    ["localhost", "LocalHost", "2130706433", "0x7f000001", "127.1", "0177.0.0.1", "<hostname>"],
)
def test_names_and_numbers_that_mean_this_machine_are_refused_at_delivery(
    receiver: Receiver, reminders: tuple[Reminder, ...], host: str
) -> None:
    """Hosts the system resolver turns into a local address are refused, whatever requests does.

    Each is left to the real resolver: a name in any case, and the numeric
    shorthands (one 32-bit number in decimal or hex, two parts, octal) that inet_aton
    reads as 127.0.0.1. The receiver on 127.0.0.1 gets nothing.
    """
    if host == "<hostname>":
        host = socket.gethostname()
        try:
            socket.getaddrinfo(host, receiver.port)
        except OSError:
            pytest.skip("this machine's own name does not resolve")
    adapter = webhook_adapter(url=receiver.url(host=host), secret=SECRET)
    try:
        failure = only(adapter.deliver(reminders[:1]))
    finally:
        adapter.close()
    assert failure.permanent
    assert "refused to connect" in failure.error
    assert receiver.received == []


class _Requests231Hook(PinningAdapter):
    """A transport whose pool comes the way requests 2.31 got it: never through the 2.32 hook.

    requests 2.31 calls ``get_connection(url)``, which asks the pool manager
    for ``connection_from_url(url)`` (and then sets certificate checks, which
    plain http has none of); ``get_connection_with_tls_context`` does not
    exist there.
    """

    def get_connection_with_tls_context(
        self, request: Any, verify: Any, proxies: Any = None, cert: Any = None
    ) -> Any:
        return self.poolmanager.connection_from_url(request.url)


class _UnpinnedPool(PinningAdapter):
    """A transport that reaches a pool past the pinning, as a future urllib3 path might.

    Both hooks are replaced: ``get_connection`` is the one requests 2.31 calls.
    """

    def get_connection_with_tls_context(
        self, request: Any, verify: Any, proxies: Any = None, cert: Any = None
    ) -> Any:
        return self.get_connection(request.url)

    def get_connection(self, url: Any, proxies: Any = None) -> Any:
        parts = urlsplit(url)
        return PoolManager.connection_from_host(
            self.poolmanager, parts.hostname, parts.port, parts.scheme
        )


def _with_transport(
    monkeypatch: pytest.MonkeyPatch, transport: type[PinningAdapter], **settings: Any
) -> WebhookAdapter:
    monkeypatch.setattr(webhook_module, "PinningAdapter", transport)
    return webhook_adapter(secret=SECRET, **settings)


@pytest.mark.integration
def test_pinning_holds_when_requests_never_calls_the_tls_context_hook(
    receiver: Receiver, reminders: tuple[Reminder, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pools asked for the way requests 2.31 asks still go to checked addresses only."""
    adapter = _with_transport(monkeypatch, _Requests231Hook, url=receiver.url(host="localhost"))
    try:
        failure = only(adapter.deliver(reminders[:1]))
    finally:
        adapter.close()
    assert failure.permanent
    assert "127.0.0.1 is a loopback address" in failure.error
    assert receiver.received == []


@pytest.mark.integration
@pytest.mark.parametrize(("host", "allow_private"), [("localhost", True), ("127.0.0.1", False)])
def test_a_connection_whose_address_was_not_checked_does_not_open(
    receiver: Receiver,
    reminders: tuple[Reminder, ...],
    monkeypatch: pytest.MonkeyPatch,
    host: str,
    allow_private: bool,
) -> None:
    """A pool reached past the pinning opens no connection to a name, nor to a refused address."""
    monkeypatch.setattr(webhook_module, "PinningAdapter", _UnpinnedPool)
    settings = WebhookSettings(
        url=receiver.url(host=host), keys=(parse_secret(SECRET),), allow_private=allow_private
    )
    adapter = WebhookAdapter(settings, resolver=lambda host, port: ["127.0.0.1"])
    try:
        failure = only(adapter.deliver(reminders[:1]))
    finally:
        adapter.close()
    assert failure.permanent
    assert "refused to connect" in failure.error
    assert receiver.received == []


class _PlainPoolManager(PinningAdapter):
    """A transport whose requests would not take the pinning pool manager."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        HTTPAdapter.init_poolmanager(self, *args, **kwargs)


def test_a_transport_that_cannot_pin_refuses_to_be_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When requests does not take the pinning pool manager, building the adapter fails."""
    with pytest.raises(AddressError, match="cannot check the addresses"):
        _with_transport(monkeypatch, _PlainPoolManager, url="https://example.com/hook")


@pytest.mark.integration
def test_a_pool_manager_swapped_after_building_refuses_to_send(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """A transport whose pool manager was replaced sends nothing, even to an allowed address."""
    adapter = make(url=receiver.url())
    transport = adapter._session.get_adapter(receiver.url())
    transport.poolmanager.clear()  # type: ignore[attr-defined]  # a requests HTTPAdapter
    transport.poolmanager = PoolManager()  # type: ignore[attr-defined]
    failure = only(adapter.deliver(reminders[:1]))
    assert "cannot check the addresses" in failure.error
    assert receiver.received == []


@pytest.mark.integration
def test_proxies_are_refused(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """A proxy given to the session is refused rather than used, and the proxy gets nothing."""
    adapter = make(url="http://receiver.test/hook", resolver=lambda host, port: ["127.0.0.1"])
    adapter._session.proxies = {"http": receiver.url(path="")}
    failure = only(adapter.deliver(reminders[:1]))
    assert failure.permanent
    assert "proxy" in failure.error
    assert receiver.received == []


# -- real deliveries -----------------------------------------------------------------------


@pytest.mark.integration
def test_standard_webhooks_are_signed_and_follow_the_schema(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """Each reminder arrives once, signed, with its key as webhook-id and a schema-valid body."""
    adapter = make(url=receiver.url())
    assert adapter.deliver(reminders) is None
    validator = jsonschema.Draft202012Validator(
        payload_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    by_id = {r.headers["webhook-id"]: r for r in receiver.received}
    assert set(by_id) == {r.key for r in reminders}
    for reminder in reminders:
        received = by_id[reminder.key]
        body = verified(received)
        validator.validate(body)
        assert received.path == "/hook"
        assert received.headers["content-type"] == "application/json"
        assert received.headers["user-agent"].startswith("cadence/")
        assert body["data"]["reminder"]["key"] == reminder.key
        assert body["data"]["contact"]["id"] == reminder.contact.id


@pytest.mark.integration
def test_receiver_that_fails_three_times_then_recovers(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """Three 5xx answers give transient failures; the fourth attempt delivers, same webhook-id."""
    receiver.replies = [Reply(503), Reply(500), Reply(502)]
    adapter = make(url=receiver.url())
    outcomes = [adapter.deliver(reminders[:1]) for _ in range(4)]
    for outcome, status in zip(outcomes[:3], ("503", "500", "502"), strict=True):
        failure = only(outcome)
        assert not failure.permanent
        assert failure.key == reminders[0].key
        assert f"HTTP {status}" in failure.error
    assert outcomes[3] is None
    assert [r.headers["webhook-id"] for r in receiver.received] == [reminders[0].key] * 4
    for received in receiver.received:
        verified(received)


@pytest.mark.integration
def test_429_is_transient_with_retry_after_from_the_header(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """429 with Retry-After in seconds or as a date asks for the next try at that moment."""
    moment = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    receiver.replies = [
        Reply(429, {"Retry-After": "90"}),
        Reply(429, {"Retry-After": format_datetime(moment + timedelta(hours=1), usegmt=True)}),
        Reply(429),
    ]
    adapter = make(url=receiver.url(), clock=lambda: moment)
    seconds, date_, bare = (only(adapter.deliver(reminders[:1])) for _ in range(3))
    assert seconds.retry_after == moment + timedelta(seconds=90)
    assert date_.retry_after == moment + timedelta(hours=1)
    assert bare.retry_after is None
    assert not any(f.permanent for f in (seconds, date_, bare))
    assert "429 Too Many Requests" in seconds.error


@pytest.mark.integration
@pytest.mark.parametrize("status", [408, 503])
def test_408_and_503_are_transient_and_honour_retry_after(
    receiver: Receiver,
    make: Callable[..., WebhookAdapter],
    reminders: tuple[Reminder, ...],
    status: int,
) -> None:
    """408 and 5xx answers are transient, and their Retry-After is kept too."""
    moment = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    receiver.replies = [Reply(status, {"Retry-After": "30"})]
    failure = only(make(url=receiver.url(), clock=lambda: moment).deliver(reminders[:1]))
    assert not failure.permanent
    assert failure.retry_after == moment + timedelta(seconds=30)


@pytest.mark.integration
def test_timeout_is_transient(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """A receiver slower than the timeout gives a transient failure that names the wait."""
    receiver.replies = [Reply(200, delay=10)]
    adapter = make(url=receiver.url(), timeout=0.2)
    failure = only(adapter.deliver(reminders[:1]))
    assert not failure.permanent
    assert "no answer" in failure.error
    assert "0.2 s" in failure.error


@pytest.mark.integration
def test_connection_refused_is_transient(
    make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """Nothing listening on the port is a transient failure, and the message has no URL path."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = make(url=f"http://127.0.0.1:{port}/secret-path-token")
    failure = only(adapter.deliver(reminders[:1]))
    assert not failure.permanent
    assert "cannot connect to http://127.0.0.1" in failure.error
    assert "secret-path-token" not in failure.error


@pytest.mark.integration
@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_other_4xx_is_permanent(
    receiver: Receiver,
    make: Callable[..., WebhookAdapter],
    reminders: tuple[Reminder, ...],
    status: int,
) -> None:
    """A 4xx other than 408, 410 and 429 is a permanent failure."""
    receiver.replies = [Reply(status, body=b"nope")]
    failure = only(make(url=receiver.url()).deliver(reminders[:1]))
    assert failure.permanent
    assert f"HTTP {status}" in failure.error


@pytest.mark.integration
def test_410_raises_endpoint_gone_and_sends_no_more(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """410 Gone raises EndpointGone for the route; reminders not yet sent stay unsent."""
    receiver.replies = [Reply(410)]
    adapter = make(url=receiver.url(), concurrency=1)
    with pytest.raises(EndpointGone, match="410 Gone"):
        adapter.deliver(reminders)
    assert len(receiver.received) == 1


@pytest.mark.integration
def test_redirect_to_a_private_address_is_not_followed(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """A 3xx is a permanent failure and its Location is never requested."""
    receiver.replies = [Reply(307, {"Location": receiver.url("/internal/admin")}, b"x" * 1000)]
    failure = only(make(url=receiver.url()).deliver(reminders[:1]))
    assert failure.permanent
    assert "HTTP 307" in failure.error
    assert "not followed" in failure.error
    assert receiver.paths() == ["/hook"]


@pytest.mark.integration
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_private_address_without_allow_private_is_refused(
    receiver: Receiver, reminders: tuple[Reminder, ...], host: str
) -> None:
    """Without allow_private a loopback URL is refused (built or delivering); nothing arrives."""
    settings = {"url": receiver.url(host=host), "secret": SECRET}
    if host == "127.0.0.1":
        with pytest.raises(ConfigError, match="loopback"):
            webhook_adapter(**settings)
        return
    adapter = webhook_adapter(**settings)
    try:
        failure = only(adapter.deliver(reminders[:1]))
    finally:
        adapter.close()
    assert failure.permanent
    assert "loopback address" in failure.error
    assert receiver.received == []


@pytest.mark.integration
def test_secret_rotation_sends_a_signature_per_secret(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """Two secrets give two v1 signatures; each verifies with its own secret, a third does not."""
    adapter = make(url=receiver.url(), secret=[SECRET, OLD_SECRET])
    assert adapter.deliver(reminders[:1]) is None
    (received,) = receiver.received
    signatures = received.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert all(s.startswith("v1,") for s in signatures)
    for secret, signature in ((SECRET, signatures[0]), (OLD_SECRET, signatures[1])):
        alone = {**received.headers, "webhook-signature": signature}
        assert Webhook(secret).verify(received.body, alone)["type"] == EVENT_TYPE
    with pytest.raises(WebhookVerificationError):
        verified(received, OTHER_SECRET)


@pytest.mark.integration
def test_extra_headers_are_sent(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """The route's extra headers go with every request, beside the webhook headers."""
    adapter = make(url=receiver.url(), headers={"Authorization": "Bearer t0k3n", "X-Team": "ops"})
    assert adapter.deliver(reminders[:1]) is None
    (received,) = receiver.received
    assert received.headers["authorization"] == "Bearer t0k3n"
    assert received.headers["x-team"] == "ops"
    verified(received)


@pytest.mark.integration
def test_cookies_from_a_receiver_are_not_sent_back(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """A cookie a receiver sets never comes back with the next webhook."""
    receiver.replies = [Reply(200, {"Set-Cookie": "session=abc; Path=/"})]
    adapter = make(url=receiver.url(), concurrency=1)
    assert adapter.deliver(reminders[:2]) is None
    assert [r.headers.get("cookie") for r in receiver.received] == [None, None]


@pytest.mark.integration
def test_slack_message(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """Slack gets text and blocks, unsigned, with &, < and > escaped so nothing pings a channel."""
    bob = next(r for r in reminders if r.contact.id == "bob")
    assert make(url=receiver.url(), format="slack").deliver([bob]) is None
    (received,) = receiver.received
    body = received.json()
    assert "webhook-signature" not in received.headers
    assert set(body) == {"text", "blocks"}
    assert "&lt;!channel&gt;" in body["text"]
    assert "<!channel>" not in json.dumps(body)
    assert [block["type"] for block in body["blocks"]] == ["section", "context"]
    assert body["blocks"][0]["text"]["type"] == "mrkdwn"


@pytest.mark.integration
def test_discord_message(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """Discord gets one embed with the title and facts, and no mention is allowed to ping."""
    bob = next(r for r in reminders if r.contact.id == "bob")
    assert make(url=receiver.url(), format="discord").deliver([bob]) is None
    (received,) = receiver.received
    body = received.json()
    assert "webhook-signature" not in received.headers
    assert body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    assert embed["title"] == bob.title
    assert {"name": "Due", "value": bob.date.isoformat(), "inline": True} in embed["fields"]
    assert len(embed["title"]) <= 256


@pytest.mark.integration
def test_teams_message(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """Teams gets a Workflows message: an Adaptive Card attachment with the title and a fact set."""
    birthday = next(r for r in reminders if r.kind == "occasion")
    assert make(url=receiver.url(), format="teams").deliver([birthday]) is None
    (received,) = receiver.received
    body = received.json()
    assert "webhook-signature" not in received.headers
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["body"][0] == {
        "type": "TextBlock",
        "text": birthday.title,
        "weight": "Bolder",
        "size": "Medium",
        "wrap": True,
    }
    facts = {fact["title"]: fact["value"] for fact in card["body"][-1]["facts"]}
    assert facts["Occasion"] == "2026-11-25"


@pytest.mark.integration
def test_deliveries_of_one_call_go_out_concurrently(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """All POSTs of a batch are in flight together: each answer waits for all of them to arrive."""
    everyone = threading.Barrier(3, timeout=10)

    def together(received: Received) -> Reply:
        try:
            everyone.wait()
        except threading.BrokenBarrierError:
            return Reply(500)
        return Reply(204)

    receiver.handler = together
    assert make(url=receiver.url(), concurrency=3).deliver(reminders) is None
    assert len(receiver.received) == 3


@pytest.mark.integration
def test_close_releases_the_pooled_connections(
    receiver: Receiver, make: Callable[..., WebhookAdapter], reminders: tuple[Reminder, ...]
) -> None:
    """Connections are pooled across calls, and close() lets them go."""
    adapter = make(url=receiver.url(), concurrency=1)
    assert adapter.deliver(reminders[:1]) is None
    assert adapter.deliver(reminders[1:2]) is None
    transport = adapter._session.get_adapter(receiver.url())
    pools = transport.poolmanager.pools  # type: ignore[attr-defined]  # a requests HTTPAdapter
    assert len(pools) == 1
    adapter.close()
    assert len(pools) == 0


# -- TLS with a pinned address -------------------------------------------------------------


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    """A throwaway certificate authority."""
    return trustme.CA()


def tls_receiver(authority: trustme.CA, name: str) -> Receiver:
    """An HTTPS receiver on 127.0.0.1 whose certificate is for ``name``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(name).configure_cert(context)
    return Receiver(tls=context)


@pytest.mark.integration
def test_https_keeps_sni_and_certificate_check_for_the_name(
    authority: trustme.CA,
    tmp_path: Path,
    make: Callable[..., WebhookAdapter],
    reminders: tuple[Reminder, ...],
) -> None:
    """At the pinned address, TLS still sends the host name and checks it in the certificate."""
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    right = tls_receiver(authority, "receiver.test")
    wrong = tls_receiver(authority, "someone-else.test")
    try:
        resolve, _ = fixed(["127.0.0.1"], ["127.0.0.1"])
        good = make(url=right.url(host="receiver.test"), ca_file=str(ca_file), resolver=resolve)
        assert good.deliver(reminders[:1]) is None
        assert right.server_names == ["receiver.test"]
        verified(right.received[0])

        bad = make(url=wrong.url(host="receiver.test"), ca_file=str(ca_file), resolver=resolve)
        failure = only(bad.deliver(reminders[:1]))
        assert "certificate" in failure.error
        assert wrong.received == []
    finally:
        right.stop()
        wrong.stop()


# -- the chat services' limits ---------------------------------------------------------------

# Long texts of any Unicode: a short piece (astral characters, combining marks,
# Slack's &, < and > among them) repeated up to thousands of times.
_PIECES = st.text(
    st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from("&<>\U0001f600e\u0301 "),
    min_size=1,
    max_size=6,
)
_LONG = st.builds(lambda piece, times: piece * times, _PIECES, st.integers(1, 6_000))


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@st.composite
def _long_reminders(draw: st.DrawFn) -> Reminder:
    """A reminder whose contact name, email, reason and channel may each be very long."""
    name = draw(_LONG)
    try:
        contact = Contact("c", name, email=draw(st.none() | st.just("x" * 300 + "@example.com")))
    except CadenceError:  # a name the model refuses (blank, control characters)
        assume(False)
    moment = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    return Reminder(
        key="0" * 32,
        contact=contact,
        kind=draw(st.sampled_from(["cadence", "occasion"])),
        title=f"Check in with {name}",
        date=moment.date(),
        due=moment,
        overdue=timedelta(days=draw(st.integers(0, 400))),
        channel=draw(st.none() | _LONG),
        occasion_date=draw(st.none() | st.just(date(2026, 11, 25))),
        reason=draw(st.just("") | _LONG),
    )


def _unescaped_slack_markup(text: str) -> str:
    return re.sub(r"&(amp|lt|gt);", "", text)


@settings(max_examples=60, deadline=None)
@given(_long_reminders())
def test_chat_messages_keep_within_each_services_limits(reminder: Reminder) -> None:
    """Slack, Discord and Teams messages stay within every documented limit, as each counts.

    Slack and Discord count characters (here in UTF-16 code units, never fewer
    than code points); Teams counts the bytes of the message.
    """
    slack = slack_payload(reminder)
    assert _utf16(slack["text"]) <= 40_000
    texts = [slack["blocks"][0]["text"]["text"], slack["blocks"][1]["elements"][0]["text"]]
    for text in [slack["text"], *texts]:
        # Clipping never cuts an escape in two, so no raw &, < or > reaches Slack.
        assert not set(_unescaped_slack_markup(text)) & set("&<>")
    assert all(_utf16(text) <= 3_000 for text in texts)

    (embed,) = discord_payload(reminder)["embeds"]
    assert _utf16(embed["title"]) <= 256
    assert _utf16(embed.get("description", "")) <= 4_096
    assert len(embed["fields"]) <= 25
    for fact in embed["fields"]:
        assert 0 < _utf16(fact["name"]) <= 256
        assert fact["value"].strip()
        assert _utf16(fact["value"]) <= 1_024
    total = sum(
        _utf16(text)
        for text in [
            embed["title"],
            embed.get("description", ""),
            *(part for fact in embed["fields"] for part in (fact["name"], fact["value"])),
        ]
    )
    assert total <= 6_000

    teams = teams_payload(reminder)
    assert len(encode(teams)) <= 28_000
    assert len(json.dumps(teams, separators=(",", ":")).encode("ascii")) <= 28_000


@pytest.mark.parametrize("render", [discord_payload, teams_payload])
def test_a_clipped_text_keeps_its_start_and_ends_in_an_ellipsis(
    render: Callable[[Reminder], dict[str, Any]], now: datetime
) -> None:
    """A reason too long for the message keeps as much of its start as fits, then '\u2026'."""
    reason = "Met at the conference \U0001f600 " * 2_000
    reminder = Reminder(
        key="0" * 32,
        contact=Contact("c", "Zo\u00eb"),
        kind="cadence",
        title="Check in with Zo\u00eb",
        date=now.date(),
        due=now,
        reason=reason,
    )
    body = render(reminder)
    text = (
        body["embeds"][0]["description"]
        if "embeds" in body
        else body["attachments"][0]["content"]["body"][1]["text"]
    )
    assert text.endswith("\u2026")
    assert reason.startswith(text[:-1])
    assert len(text) > 1_000
    title = (
        body["embeds"][0]["title"]
        if "embeds" in body
        else body["attachments"][0]["content"]["body"][0]["text"]
    )
    assert title == reminder.title


# -- the documentation ----------------------------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs" / "webhooks.md"


def test_documented_example_follows_the_schema() -> None:
    """The example body in docs/webhooks.md is valid by the shipped schema and has every field."""
    text = DOCS.read_text(encoding="utf-8")
    example = text.split("<!-- example: reminder.due v1 -->", 1)[1]
    body = json.loads(example.split("```json", 1)[1].split("```", 1)[0])
    schema = payload_schema()
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(body)
    data_schema = schema["properties"]["data"]["properties"]
    for part in ("reminder", "contact"):
        assert set(body["data"][part]) == set(data_schema[part]["properties"])
    for name in data_schema["reminder"]["properties"]:
        assert f"`data.reminder.{name}`" in text
    for name in data_schema["contact"]["properties"]:
        assert f"`data.contact.{name}`" in text


def test_every_setting_is_documented() -> None:
    """Each setting the adapter accepts has a row in the settings table of docs/webhooks.md."""
    text = DOCS.read_text(encoding="utf-8")
    for name in SETTINGS:
        assert f"| `{name}` |" in text
