"""What the DAV clients share (CardDAV contacts, CalDAV meetings): XML, URLs and HTTP.

Answers are read with ``parse_xml``, which refuses document types and
entities; requests go through a ``Session`` that follows no redirect by
itself; messages show a URL through ``shown_url``, never with a user or a
password.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from types import MappingProxyType
from urllib.parse import SplitResult, urlsplit, urlunsplit
from xml.etree import ElementTree as ET
from xml.parsers import expat

import attrs
import requests

from cadence.adapters import _settings as check
from cadence.core.errors import ConfigError

__all__ = [
    "Response",
    "Session",
    "checked_url",
    "collection",
    "dav",
    "login_and_trust",
    "loopback",
    "multistatus",
    "parse_xml",
    "port_of",
    "reason",
    "same_site",
    "shown_url",
    "status_of",
]

DAV = "DAV:"


def dav(name: str) -> str:
    return f"{{{DAV}}}{name}"


class RefusedXml(Exception):
    """The server's XML declares a document type or an entity, which a DAV answer never needs."""


def refuse(*_: object) -> None:
    raise RefusedXml


def clark(name: str) -> str:
    # expat gives "namespace local" with the separator below; ElementTree writes "{namespace}local".
    namespace, _, local = name.rpartition(" ")
    return f"{{{namespace}}}{local}" if namespace else local


def parse_xml(body: bytes) -> ET.Element:
    """The element tree of an XML document from a server, refusing document types and entities.

    Expat itself never fetches external entities; refusing any ``DOCTYPE``
    also rules out entity expansion ("billion laughs") whatever expat's
    version. Attributes, comments and processing instructions are left out:
    WebDAV answers carry their meaning in elements and text. Raises
    ValueError for a document that is not well-formed or declares a type.
    """
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler = lambda name, _attributes: builder.start(clark(name), {})
    parser.EndElementHandler = lambda name: builder.end(clark(name))
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(body, True)
    except RefusedXml:
        raise ValueError("the document declares a document type") from None
    except expat.ExpatError as error:
        raise ValueError(f"not well-formed XML: {expat.ErrorString(error.code)}") from None
    root: ET.Element = builder.close()
    return root


@attrs.frozen
class Response:
    """One ``DAV:response`` of a multistatus: its href, its own status, and the props found."""

    href: str
    status: int | None
    props: Mapping[str, ET.Element]

    def text(self, tag: str) -> str | None:
        element = self.props.get(tag)
        return None if element is None else (element.text or "")

    def href_in(self, tag: str) -> str | None:
        """The first ``DAV:href`` inside the property ``tag``."""
        element = self.props.get(tag)
        found = None if element is None else element.find(dav("href"))
        return None if found is None or not found.text else found.text.strip()

    def is_type(self, tag: str) -> bool:
        """Whether the ``DAV:resourcetype`` holds ``tag``."""
        kinds = self.props.get(dav("resourcetype"))
        return kinds is not None and kinds.find(tag) is not None


def status_of(text: str | None) -> int | None:
    # "HTTP/1.1 404 Not Found"
    parts = (text or "").split()
    if len(parts) >= 2 and parts[1].isdigit():
        return int(parts[1])
    return None


def multistatus(root: ET.Element) -> tuple[list[Response], str | None]:
    """The responses of a multistatus, and its ``DAV:sync-token`` if it has one."""
    if root.tag != dav("multistatus"):
        raise ValueError(f"expected a DAV:multistatus, not {root.tag!r}")
    responses = []
    for item in root.findall(dav("response")):
        href = item.findtext(dav("href"))
        if not href or not href.strip():
            continue
        props: dict[str, ET.Element] = {}
        for propstat in item.findall(dav("propstat")):
            code = status_of(propstat.findtext(dav("status")))
            prop = propstat.find(dav("prop"))
            if code is not None and 200 <= code < 300 and prop is not None:
                props.update((element.tag, element) for element in prop)
        responses.append(
            Response(href.strip(), status_of(item.findtext(dav("status"))), MappingProxyType(props))
        )
    token = root.findtext(dav("sync-token"))
    return responses, token.strip() if token and token.strip() else None


def loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def login_and_trust(
    url: str, username: object, password_env: object, ca_file: object
) -> tuple[tuple[str, str] | None, str | None]:
    """The login (user, password) and the certificates to trust that a DAV setting names.

    ``username`` and ``password_env`` go together; ``ca_file`` only with an
    https ``url``. Bad settings raise ConfigError naming the setting, never
    the password.
    """
    if (username is None) != (password_env is None):
        raise ConfigError("username and password_env go together")
    auth = None
    if username is not None:
        auth = (check.text("username", username), check.password_from_env(password_env))
    trusted = None
    if ca_file is not None:
        if urlsplit(url).scheme != "https":
            raise ConfigError("ca_file has no use with an http url")
        trusted = check.ca_file(ca_file)
    return auth, trusted


def shown_url(url: str) -> str:
    """``url`` as messages show it: scheme, host, port and path, never a user or password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))


def reason(error: BaseException) -> str:
    """The root cause of a requests error in a few words, without its URL."""
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    while stack:
        current = stack.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        verify = getattr(current, "verify_message", None)
        if verify:
            return f"certificate not trusted: {verify}"
        if isinstance(current, OSError) and current.strerror:
            return str(current.strerror).lower()
        linked = [getattr(current, "reason", None), current.__cause__, current.__context__]
        linked.extend(current.args)
        stack.extend(item for item in linked if isinstance(item, BaseException))
    return type(error).__name__


def same_site(configured: str, host: str) -> bool:
    """Whether ``host`` is the configured host, or one of its domain (not merely its TLD's)."""
    if host == configured:
        return True
    if literal_address(configured) or literal_address(host):
        return False
    labels = configured.split(".")
    parent = labels[1:]
    # "contacts.icloud.com" shares "icloud.com" with "p42-contacts.icloud.com";
    # a parent such as "co.uk" (a short first label, then the TLD) is no one's domain.
    if len(parent) < 2 or (len(parent) == 2 and len(parent[0]) <= 3):
        return False
    return host.endswith("." + ".".join(parent))


def port_of(scheme: str, port: int | None) -> int:
    return port if port is not None else (443 if scheme == "https" else 80)


def literal_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class Session(requests.Session):
    """A session that never follows a redirect itself: each one is checked before it is taken."""

    def get_redirect_target(self, resp: requests.Response) -> None:
        """Redirects are followed by ``_Dav.request``, after checking where they lead."""


def collection(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def checked_url(value: object, *, wrong: str, schemes: str, userinfo: str) -> SplitResult:
    """The parts of a server's URL from a setting, or a ConfigError that shows no secret.

    ``wrong`` is the message for a value that is no text at all, ``schemes``
    words the schemes allowed ("http or https"), ``userinfo`` the message
    for a URL holding a user or password.
    """
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(wrong)
    if value != value.strip() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigError("url must have no spaces or control characters")
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ConfigError(f"url must use {schemes}, not {scheme or 'no scheme'!r}")
    if "@" in parts.netloc:
        # Messages never show a URL that may hold a password: name no part of it.
        raise ConfigError(userinfo)
    try:
        parts.port  # noqa: B018  # reading it checks it
    except ValueError:
        raise ConfigError("url has a port that is not a number from 0 to 65535") from None
    if not parts.hostname:
        raise ConfigError("url has no host")
    return parts
