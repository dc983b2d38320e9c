"""The ``webhook`` adapter: POSTs each due reminder to a URL, signed as Standard Webhooks say.

One route is one receiver: the adapter keeps one pooled HTTP session for it
and sends the reminders of a ``deliver()`` call concurrently (``concurrency``
at a time), so one slow answer does not hold up the rest. It never retries:
it tells dispatch how each reminder fared, and dispatch retries.

- 2xx: delivered.
- 3xx: a permanent failure; redirects are never followed.
- 410 Gone: ``cadence.EndpointGone`` for the whole route.
- 429, 408, 5xx, timeouts and connection errors: transient failures, with
  ``retry_after`` taken from a ``Retry-After`` header when there is one.
- any other 4xx: a permanent failure.
- a host that resolves to a loopback, private, link-local, multicast or
  reserved address, unless the route sets ``allow_private``: a permanent
  failure, and nothing is sent.

Errors name the receiver by scheme, host and port only: a webhook URL's path
often holds a token (Slack's and Discord's do).
"""

from __future__ import annotations

import os
import re
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http import HTTPStatus
from http.cookiejar import DefaultCookiePolicy
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import attrs
import requests
from urllib3.util.ssl_match_hostname import CertificateError

from cadence import __version__
from cadence._delivery import Failure
from cadence.adapters import _settings as check
from cadence.adapters.webhook.network import (
    AddressError,
    PinningAdapter,
    Resolver,
    address_refusal,
    literal_address,
    parse_retry_after,
    system_resolver,
)
from cadence.adapters.webhook.payloads import FORMATS, Format, encode
from cadence.adapters.webhook.signing import parse_secret, sign
from cadence.core.errors import ConfigError, EndpointGone
from cadence.core.reminders import Reminder
from cadence.l10n import ENGLISH, Words, route_words

__all__ = ["WebhookAdapter", "WebhookSettings", "parse_settings", "webhook_adapter"]

#: Seconds to wait to connect, and then between bytes of the answer; the
#: Standard Webhooks specification recommends 15 to 30.
DEFAULT_TIMEOUT = 15.0

#: Requests in flight at once for one route. Ten matches the connection pool
#: that requests keeps per host by default.
DEFAULT_CONCURRENCY = 10

MAX_CONCURRENCY = 64

SETTINGS = frozenset(
    {
        "allow_private",
        "ca_file",
        "concurrency",
        "format",
        "headers",
        "locale",
        "secret",
        "secret_env",
        "timeout",
        "url",
    }
)

# Headers cadence sets itself, or that only the HTTP layer may set.
_RESERVED_HEADERS = frozenset(
    {
        "connection",
        "content-length",
        "content-type",
        "host",
        "transfer-encoding",
        "webhook-id",
        "webhook-signature",
        "webhook-timestamp",
    }
)

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

# How much of an answer's body is read so that its connection can be reused;
# a longer body is cut off and its connection dropped.
_DRAIN_LIMIT = 64 * 1024


# -- settings -----------------------------------------------------------------


def _url(value: object, *, allow_private: bool) -> str:
    # Messages show the scheme and host at most: the path may hold a token.
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("url must be an http or https URL")
    if value != value.strip() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigError("url must have no spaces or control characters")
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ConfigError(f"url must use http or https, not {scheme or 'no scheme'!r}")
    try:
        parts.port  # noqa: B018  # reading it checks it
    except ValueError:
        raise ConfigError("url has a port that is not a number from 0 to 65535") from None
    host = parts.hostname
    if not host:
        raise ConfigError("url has no host")
    literal = literal_address(host)
    if literal is not None and not allow_private:
        refusal = address_refusal(literal)
        if refusal is not None:
            raise ConfigError(f"url: {refusal}; set allow_private = true to allow it")
    return value


def _format(value: object) -> Format:
    if value == "standard" or value == "slack" or value == "discord" or value == "teams":
        return value
    raise ConfigError(f"format must be 'standard', 'slack', 'discord' or 'teams', not {value!r}")


def _names(name: str, value: object) -> list[object]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise ConfigError(f"{name} must be one value or a non-empty list of them")
    return list(items)


def _keys(settings: Mapping[str, Any]) -> tuple[bytes, ...]:
    # Messages here never show a secret: only settings' and variables' names.
    if "secret" in settings and "secret_env" in settings:
        raise ConfigError("give secret or secret_env, not both")
    if "secret" in settings:
        values = _names("secret", settings["secret"])
        if len(values) == 1:
            return (parse_secret(values[0], "secret"),)
        return tuple(parse_secret(value, f"secret number {n}") for n, value in enumerate(values, 1))
    if "secret_env" in settings:
        keys: list[bytes] = []
        for item in _names("secret_env", settings["secret_env"]):
            variable = check.text("secret_env", item)
            found = os.environ.get(variable, "").split()
            if not found:
                raise ConfigError(f"secret_env names {variable!r}, which is not set or empty")
            keys.extend(parse_secret(text, f"the secret in ${variable}") for text in found)
        return tuple(keys)
    return ()


def _concurrency(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
        raise ConfigError(
            f"concurrency must be a whole number from 1 to {MAX_CONCURRENCY}, not {value!r}"
        )
    return value


def _headers(value: object) -> Mapping[str, str]:
    # Header values may be tokens (Authorization): messages name the header, never its value.
    if not isinstance(value, Mapping):
        raise ConfigError("headers must be a table of header names and values")
    headers: dict[str, str] = {}
    for name, text in value.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise ConfigError(f"headers: {name!r} is not a valid header name")
        if name.lower() in _RESERVED_HEADERS:
            raise ConfigError(f"headers: {name} is set by cadence and cannot be changed")
        if name.lower() in (known.lower() for known in headers):
            raise ConfigError(f"headers: {name} is given twice")
        if (
            not isinstance(text, str)
            or text != text.strip()
            or any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in text)
        ):
            raise ConfigError(f"headers: the value of {name} must be text on one line")
        headers[name] = text
    return MappingProxyType(headers)


@attrs.frozen
class WebhookSettings:
    """A checked ``webhook`` route. Build it with ``parse_settings``.

    Its repr shows neither the URL (whose path may be a token), the keys,
    nor the extra headers.
    """

    url: str = attrs.field(repr=False)
    format: Format = "standard"
    keys: tuple[bytes, ...] = attrs.field(default=(), repr=False)
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY
    allow_private: bool = False
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    ca_file: str | None = None
    #: The words of the bodies: the ``locale`` setting's, else ``CADENCE_LOCALE``'s
    #: or the platform's (``cadence.l10n.route_words``).
    words: Words = attrs.field(default=ENGLISH, repr=False)

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` of the URL, to name the receiver in messages."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port is not None else ""
        return f"{parts.scheme.lower()}://{host}{port}"


def parse_settings(settings: Mapping[str, Any]) -> WebhookSettings:
    """Check a ``webhook`` route's settings; ConfigError names the first bad one.

    ``url`` is required. ``secret`` (a ``whsec_`` secret, or a list of them
    to sign with each) or ``secret_env`` (the name of an environment variable
    holding one or more, space-separated) is required by the ``standard``
    format and refused by the others, whose services check no signature.
    """
    unknown = sorted(set(settings) - SETTINGS)
    if unknown:
        known = ", ".join(sorted(SETTINGS))
        raise ConfigError(f"unknown webhook setting {unknown[0]!r} (known: {known})")
    if "url" not in settings:
        raise ConfigError("the webhook adapter needs the 'url' setting")
    allow_private = check.flag("allow_private", settings.get("allow_private", False))
    url = _url(settings["url"], allow_private=allow_private)
    format = _format(settings.get("format", "standard"))
    keys = _keys(settings)
    if format == "standard" and not keys:
        raise ConfigError("the standard format signs every webhook: set secret or secret_env")
    if format != "standard" and keys:
        raise ConfigError(
            f"format {format!r} is sent unsigned, since that service checks no signature: "
            "remove secret and secret_env"
        )
    ca_file = settings.get("ca_file")
    if ca_file is not None:
        if urlsplit(url).scheme.lower() != "https":
            raise ConfigError("ca_file has no use with an http url")
        ca_file = check.ca_file(ca_file)
    return WebhookSettings(
        url=url,
        format=format,
        keys=keys,
        timeout=check.timeout(settings.get("timeout", DEFAULT_TIMEOUT)),
        concurrency=_concurrency(settings.get("concurrency", DEFAULT_CONCURRENCY)),
        allow_private=allow_private,
        headers=_headers(settings.get("headers", {})),
        ca_file=ca_file,
        words=route_words(settings.get("locale"), "webhook"),
    )


# -- the session ------------------------------------------------------------------


class _Session(requests.Session):
    """A session that never follows a redirect, nor reads a redirect's body to prepare one."""

    def get_redirect_target(self, resp: requests.Response) -> None:
        """No redirect is ever followed: there is never a target."""


def _session(settings: WebhookSettings, resolver: Resolver) -> requests.Session:
    session = _Session()
    # Proxies from the environment would resolve the host themselves, past the
    # address check; and a webhook sender has no use for .netrc logins.
    session.trust_env = False
    # Nothing a receiver says should follow the next request around.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    session.headers["User-Agent"] = f"cadence/{__version__}"
    session.verify = settings.ca_file or True
    transport = PinningAdapter(
        allow_private=settings.allow_private,
        resolver=resolver,
        pool_maxsize=settings.concurrency,
    )
    session.mount("http://", transport)
    session.mount("https://", transport)
    return session


def _reason(error: BaseException) -> str:
    """The root cause of a requests error in a few words, without its URL."""
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    while stack:
        current = stack.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return f"certificate not trusted: {current.verify_message}"
        if isinstance(current, CertificateError):
            return f"certificate not valid for the host: {current}"
        if isinstance(current, OSError) and current.strerror:
            return str(current.strerror)
        linked = [getattr(current, "reason", None), current.__cause__, current.__context__]
        linked.extend(current.args)
        stack.extend(item for item in linked if isinstance(item, BaseException))
    return type(error).__name__


def _drain(response: requests.Response) -> None:
    """Read what is left of a short answer so that its connection goes back to the pool."""
    read = 0
    try:
        for chunk in response.iter_content(16 * 1024):
            read += len(chunk)
            if read > _DRAIN_LIMIT:
                break
    except (requests.RequestException, OSError):
        pass  # the answer's status is all that counts; its connection is dropped on close
    finally:
        response.close()


def _status(code: int) -> str:
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


class WebhookAdapter:
    """Delivers reminders by POSTing them to one URL, concurrently, through one pooled session.

    Build it from a route's settings with ``webhook_adapter(**settings)``.
    ``resolver`` resolves host names (the system's resolver by default) and
    ``clock`` gives the current moment (for ``webhook-timestamp`` and
    ``Retry-After``); both are there for embedding and tests.
    """

    def __init__(
        self,
        settings: WebhookSettings,
        *,
        resolver: Resolver = system_resolver,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock or (lambda: datetime.now(UTC))
        self._render = FORMATS[settings.format]
        self._session = _session(settings, resolver)

    def __repr__(self) -> str:
        return f"WebhookAdapter(origin={self.settings.origin!r}, format={self.settings.format!r})"

    def deliver(
        self,
        reminders: Sequence[Reminder],
        *,
        report: Callable[[str, Failure | None], None] | None = None,
    ) -> list[Failure] | None:
        """POST each reminder; return the Failure of each one that was not delivered.

        ``report(key, failure)`` is told each outcome as soon as its answer
        arrives (``failure`` None when delivered). Raises EndpointGone when
        the receiver answers 410 Gone; the POSTs not yet started are then
        not sent.
        """
        batch = list(reminders)
        if not batch:
            return None
        gone = threading.Event()

        def attempt(reminder: Reminder) -> Failure | None:
            if gone.is_set():
                return Failure(reminder.key, f"not sent: {self.settings.origin} is gone")
            outcome = self._post(reminder, gone)
            if report is not None:
                report(reminder.key, outcome)
            return outcome

        workers = min(self.settings.concurrency, len(batch))
        if workers == 1:
            outcomes = [attempt(reminder) for reminder in batch]
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="cadence-webhook") as pool:
                outcomes = list(pool.map(attempt, batch))
        if gone.is_set():
            raise EndpointGone(
                f"{self.settings.origin} answered 410 Gone: it takes no more webhooks; "
                "change or remove the route"
            )
        failures = [outcome for outcome in outcomes if outcome is not None]
        return failures or None

    def close(self) -> None:
        """Close the session and its pooled connections."""
        self._session.close()

    # -- one POST ---------------------------------------------------------------

    def _headers(self, reminder: Reminder, body: bytes) -> dict[str, str]:
        headers = {**self.settings.headers, "Content-Type": "application/json"}
        if self.settings.format == "standard":
            # The attempt's moment; the reminder's key stays the same on every retry.
            timestamp = int(self._clock().timestamp())
            headers["webhook-id"] = reminder.key
            headers["webhook-timestamp"] = str(timestamp)
            headers["webhook-signature"] = sign(reminder.key, timestamp, body, self.settings.keys)
        return headers

    def _post(self, reminder: Reminder, gone: threading.Event) -> Failure | None:
        settings = self.settings
        body = encode(self._render(reminder, self.settings.words))
        origin = settings.origin
        key = reminder.key
        try:
            # Prepared here rather than by Session.post, which would merge the
            # environment's settings and the cookie jar into every POST: a
            # quarter of the CPU a POST costs, for nothing a webhook uses.
            request = requests.PreparedRequest()
            request.prepare(
                method="POST",
                url=settings.url,
                headers={**self._session.headers, **self._headers(reminder, body)},
                data=body,
            )
            response = self._session.send(
                request,
                timeout=(settings.timeout, settings.timeout),
                allow_redirects=False,
                stream=True,
            )
        except AddressError as error:
            return Failure(key, str(error), permanent=error.permanent)
        except requests.Timeout:
            return Failure(key, f"no answer from {origin} within {settings.timeout:g} s")
        except requests.exceptions.SSLError as error:
            return Failure(key, f"TLS with {origin} failed: {_reason(error)}")
        except requests.ConnectionError as error:
            return Failure(key, f"cannot connect to {origin}: {_reason(error)}")
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.InvalidHeader,
            requests.exceptions.InvalidSchema,
        ) as error:
            return Failure(key, f"cannot send to {origin}: {_reason(error)}", permanent=True)
        except requests.RequestException as error:
            return Failure(key, f"sending to {origin} failed: {_reason(error)}")
        try:
            return self._judge(key, response, gone)
        finally:
            _drain(response)

    def _judge(
        self, key: str, response: requests.Response, gone: threading.Event
    ) -> Failure | None:
        code = response.status_code
        if 200 <= code < 300:
            return None
        said = f"{_status(code)} from {self.settings.origin}"
        if 300 <= code < 400:
            return Failure(
                key,
                f"{said}: redirects are not followed; set the route's url to the final address",
                permanent=True,
            )
        if code == 410:
            gone.set()
            return Failure(key, said, permanent=True)
        if code == 429 or code == 408 or code >= 500:
            wait = parse_retry_after(response.headers.get("Retry-After"), self._clock())
            return Failure(key, said, retry_after=wait)
        return Failure(key, said, permanent=400 <= code < 500)


def webhook_adapter(**settings: Any) -> WebhookAdapter:
    """The ``webhook`` adapter for a route's settings; ConfigError for bad ones."""
    return WebhookAdapter(parse_settings(settings))
