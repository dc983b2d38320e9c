"""The ``apprise`` adapter: sends reminders through Apprise to the services its URLs name.

A route lists Apprise URLs (``urls``, or ``urls_env`` naming an environment
variable that holds them) and Apprise configuration files (``config``, whose
services ``tag`` may narrow). Every URL is checked when the route is built,
so a URL that Apprise cannot use stops dispatch before anything is sent.

Each service is sent each notification on its own, so the adapter knows
which service failed. It never retries: it tells dispatch what failed, and
dispatch retries. Within one dispatch run, a service that already took a
notification is not sent it again when dispatch retries the rest, and a
service that fails is not tried again for the other reminders of the same
batch, where each try could wait out a timeout.

Apprise URLs often carry a token or a password in any of their parts, host
included. Errors name a service by its kind and its place in the route
("Telegram #2"), never by its URL, and the reasons taken from Apprise have
every part of every URL of the route masked out.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import apprise
from apprise import AppriseResultStatus, NotifyBase, NotifyFormat, NotifyType

import cadence
from cadence_apprise.messages import Message, digest_message, one_line, reminder_message

__all__ = ["AppriseAdapter", "AppriseSettings", "apprise_adapter", "parse_settings"]

#: Seconds to wait for one service to take one notification.
DEFAULT_TIMEOUT = 30.0

SETTINGS = frozenset({"config", "digest", "tag", "timeout", "title_prefix", "urls", "urls_env"})

#: The longest reason taken from Apprise's log into an error message.
REASON_LIMIT = 200

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]{0,31})://")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TAG = re.compile(r"^[\w.-]+$")
# Where an Apprise URL splits into the pieces that may each be a secret.
_SEPARATORS = re.compile(r"[/:@?&=#,;\s]+")
# Query values Apprise writes into every URL it rebuilds; masking them would only garble reasons.
_PLAIN_VALUES = frozenset({"yes", "no", "true", "false", "post", "get", "put", "upstream"})
_SHORTEST_SECRET = 3
_FAILED = frozenset({"WARNING", "ERROR", "CRITICAL"})


# -- settings -----------------------------------------------------------------


def _texts(name: str, value: object) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise cadence.ConfigError(f"{name} must be text or a non-empty list of texts")
    if not all(isinstance(item, str) for item in items):
        raise cadence.ConfigError(f"{name} must hold only texts")
    return [str(item) for item in items]


def _urls(value: object) -> tuple[str, ...]:
    # Never show a URL here: any part of it may be a token.
    urls = tuple(url for item in _texts("urls", value) for url in item.split())
    if not urls:
        raise cadence.ConfigError("urls holds no URL")
    return urls


def _urls_env(value: object) -> tuple[str, str]:
    if not isinstance(value, str) or not _VARIABLE.match(value):
        raise cadence.ConfigError(f"urls_env must name an environment variable, not {value!r}")
    return value, os.environ.get(value, "")


def _config(value: object) -> tuple[str, ...]:
    paths = []
    for item in _texts("config", value):
        if "://" in item:
            raise cadence.ConfigError(f"config takes paths of local files, not {item!r}")
        path = Path(item).expanduser()
        if not path.is_file():
            raise cadence.ConfigError(f"config {item!r} is not a file")
        paths.append(str(path.resolve()))
    return tuple(paths)


def _tags(value: object) -> tuple[str, ...]:
    tags = _texts("tag", value)
    for tag in tags:
        if not _TAG.match(tag):
            raise cadence.ConfigError(
                f"tag {tag!r} must be a plain name: letters, digits, '_', '.' or '-'"
            )
    return tuple(tags)


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise cadence.ConfigError(f"{name} must be true or false, not {value!r}")
    return value


def _timeout(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not value > 0
    ):
        raise cadence.ConfigError(f"timeout must be a number of seconds above zero, not {value!r}")
    return float(value)


def _prefix(value: object) -> str:
    if not isinstance(value, str) or one_line(value) != value:
        raise cadence.ConfigError(
            "title_prefix must be text on one line, without surrounding spaces"
        )
    return value


@dataclass(frozen=True)
class AppriseSettings:
    """A checked ``apprise`` route. Build it with ``parse_settings``.

    ``urls`` pairs each URL with where it came from ("urls", or the name of
    the variable ``urls_env`` names). Its repr shows no URL.
    """

    urls: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    config: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    digest: bool = True
    title_prefix: str = ""
    timeout: float = DEFAULT_TIMEOUT


def parse_settings(settings: Mapping[str, Any]) -> AppriseSettings:
    """Check an ``apprise`` route's settings; ConfigError names the first bad one.

    At least one of ``urls``, ``urls_env`` and ``config`` is needed; ``tag``
    narrows the services of ``config`` and needs it. Whether Apprise can use
    each URL is checked when the adapter is built.
    """
    unknown = sorted(set(settings) - SETTINGS)
    if unknown:
        known = ", ".join(sorted(SETTINGS))
        raise cadence.ConfigError(f"unknown apprise setting {unknown[0]!r} (known: {known})")
    if not {"urls", "urls_env", "config"} & set(settings):
        raise cadence.ConfigError("the apprise adapter needs 'urls', 'urls_env' or 'config'")
    urls: list[tuple[str, str]] = []
    if "urls" in settings:
        urls += [("urls", url) for url in _urls(settings["urls"])]
    if "urls_env" in settings:
        variable, text = _urls_env(settings["urls_env"])
        found = text.split()
        if not found:
            raise cadence.ConfigError(f"urls_env names {variable!r}, which is not set or empty")
        urls += [(f"${variable}", url) for url in found]
    config = _config(settings["config"]) if "config" in settings else ()
    tag = _tags(settings["tag"]) if "tag" in settings else ()
    if tag and not config:
        raise cadence.ConfigError(
            "tag picks services from config files, and this route has no config"
        )
    return AppriseSettings(
        urls=tuple(urls),
        config=config,
        tag=tag,
        digest=_flag("digest", settings.get("digest", True)),
        title_prefix=_prefix(settings.get("title_prefix", "")),
        timeout=_timeout(settings.get("timeout", DEFAULT_TIMEOUT)),
    )


# -- services -----------------------------------------------------------------


def _asset(settings: AppriseSettings) -> apprise.AppriseAsset:
    # In memory: a reminder sender has nothing to keep on disk between runs.
    return apprise.AppriseAsset(storage_mode="memory", service_timeout=settings.timeout)


def _instantiate(url: str, where: str, asset: apprise.AppriseAsset) -> NotifyBase:
    # Messages name the URL by its number and its scheme only.
    match = _SCHEME.match(url)
    if match is None:
        raise cadence.ConfigError(f"{where} is not an Apprise URL (service://...)")
    scheme = match.group(1).lower()
    # Apprise leaves its plugin registry untyped.
    if scheme not in apprise.NotificationManager():  # type: ignore[no-untyped-call]
        raise cadence.ConfigError(f"{where}: Apprise has no service {scheme}://")
    service = apprise.Apprise.instantiate(url, asset=asset)
    if service is None:
        raise cadence.ConfigError(
            f"{where}: Apprise cannot use this {scheme}:// URL; a part is missing or wrong"
        )
    return service


def _from_config(settings: AppriseSettings, asset: apprise.AppriseAsset) -> list[NotifyBase]:
    services: list[NotifyBase] = []
    for path in settings.config:
        config = apprise.AppriseConfig(asset=asset)
        found = config.services() if config.add(path) else []
        if not found:
            raise cadence.ConfigError(f"config {path!r} holds no service that Apprise can use")
        services += found
    if not settings.tag:
        return services
    # Apprise's own matching: any of the tags, and services tagged "always".
    everyone = apprise.Apprise(services, asset=asset)
    picked = list(everyone.find(list(settings.tag)))
    if not picked:
        raise cadence.ConfigError(f"tag {list(settings.tag)} matches no service in config")
    return picked


def _secrets(urls: Sequence[str]) -> tuple[str, ...]:
    """Every piece of ``urls`` that may be a secret, longest first, to mask in messages."""
    pieces: set[str] = set()
    for url in urls:
        pieces.add(url)
        rest = url.split("://", 1)[-1]
        address, _, query = rest.partition("?")
        found = _SEPARATORS.split(address)
        for pair in query.split("&"):
            value = pair.partition("=")[2]
            if value.lower() not in _PLAIN_VALUES:
                found += _SEPARATORS.split(value)
        for piece in found:
            pieces.update((piece, unquote(piece)))
    return tuple(sorted((p for p in pieces if len(p) >= _SHORTEST_SECRET), key=len, reverse=True))


@dataclass(frozen=True)
class _Service:
    label: str
    caller: apprise.Apprise = field(repr=False)


# -- the adapter ----------------------------------------------------------------


class AppriseAdapter:
    """Sends reminders to every service of a route, as one digest per batch or one each.

    Build it from a route's settings with ``apprise_adapter(**settings)``.
    """

    def __init__(self, settings: AppriseSettings) -> None:
        self.settings = settings
        asset = _asset(settings)
        found: list[NotifyBase] = []
        counts: dict[str, int] = {}
        for origin, url in settings.urls:
            counts[origin] = counts.get(origin, 0) + 1
            found.append(_instantiate(url, f"URL {counts[origin]} of {origin}", asset))
        found += _from_config(settings, asset)
        many = len(found) > 1
        self._services = tuple(
            _Service(
                f"{service.service_name} #{n}" if many else str(service.service_name),
                apprise.Apprise(service, asset=asset),
            )
            for n, service in enumerate(found, 1)
        )
        self._secrets = _secrets(
            [url for _, url in settings.urls]
            # The URLs Apprise rebuilds, secrets in clear, mask those of config files too.
            + [service.url() for service in found]  # type: ignore[no-untyped-call]
        )
        # Which services took which notification, so that a retry in the same
        # run goes only to the rest: a reminder arrives once per service.
        self._taken: dict[str, set[int]] = {}

    def __repr__(self) -> str:
        s = self.settings
        tag = f", tag={list(s.tag)!r}" if s.tag else ""
        names = [service.label for service in self._services]
        return f"AppriseAdapter(services={names!r}, digest={s.digest!r}{tag})"

    @property
    def services(self) -> tuple[str, ...]:
        """The route's services by kind and place ("JSON #1"): how errors name them."""
        return tuple(service.label for service in self._services)

    def messages(self, reminders: Sequence[cadence.Reminder]) -> list[Message]:
        """The notifications ``deliver`` sends for ``reminders``: one digest, or one each."""
        prefix = self.settings.title_prefix
        if self.settings.digest:
            return [digest_message(reminders, prefix)]
        return [reminder_message(reminder, prefix) for reminder in reminders]

    def deliver(self, reminders: Sequence[cadence.Reminder]) -> list[cadence.Failure] | None:
        """Send ``reminders`` to every service; report those that some service did not take.

        In digest mode a failure fails the whole batch: ``DeliveryError``,
        transient. Otherwise each reminder a service did not take gets a
        transient ``Failure``.
        """
        if not reminders:
            return None
        broken: dict[int, str] = {}
        failures: list[cadence.Failure] = []
        for message in self.messages(reminders):
            error = self._send(message, broken)
            if error is None:
                continue
            if self.settings.digest:
                raise cadence.DeliveryError(error)
            failures += [cadence.Failure(key, error) for key in message.keys]
        return failures or None

    def close(self) -> None:
        """Forget which services took what: a later run starts afresh."""
        self._taken.clear()

    def _send(self, message: Message, broken: dict[int, str]) -> str | None:
        """Send ``message`` to each service that has not taken it; None, or what went wrong."""
        taken = self._taken.setdefault(message.id, set())
        problems = []
        for index, service in enumerate(self._services):
            if index in taken:
                continue
            if index in broken:
                problems.append(f"{service.label}: not tried, it failed earlier in this batch")
                continue
            reason = self._notify(service, message)
            if reason is None:
                taken.add(index)
            else:
                broken[index] = reason
                problems.append(f"{service.label}: {reason}")
        if not problems:
            del self._taken[message.id]
            return None
        return "apprise: " + "; ".join(problems)

    def _notify(self, service: _Service, message: Message) -> str | None:
        try:
            with service.caller.notify(
                body=message.body,
                title=message.title,
                notify_type=NotifyType.WARNING if message.late else NotifyType.INFO,
                body_format=NotifyFormat.TEXT,
            ) as result:
                if result.status == AppriseResultStatus.SUCCESS:
                    return None
                if result.status == AppriseResultStatus.TIMEOUT:
                    return f"no answer within {self.settings.timeout:g} s"
                said = [entry.message for entry in result.logs() if entry.level in _FAILED]
        except Exception as error:  # a service's bug is one failed send, not a failed run
            return f"Apprise raised {type(error).__name__}"
        return self._scrub(said[-1]) if said else "the service did not take the notification"

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = one_line(text)
        if len(text) > REASON_LIMIT:
            text = text[: REASON_LIMIT - 1].rstrip() + "\N{HORIZONTAL ELLIPSIS}"
        return text


def apprise_adapter(**settings: Any) -> AppriseAdapter:
    """The ``apprise`` adapter for a route's settings; ConfigError for bad ones."""
    return AppriseAdapter(parse_settings(settings))
