"""How the ``webhook`` adapter signs: ``whsec_`` secrets and the ``webhook-signature`` header."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

from cadence.core.errors import ConfigError

__all__ = [
    "parse_secret",
    "sign",
]

# -- signing ---------------------------------------------------------------------

_SECRET_PREFIX = "whsec_"  # noqa: S105  # the prefix of every secret, not a secret


def parse_secret(value: object, what: str = "secret") -> bytes:
    """The key bytes of a ``whsec_`` secret; ConfigError names ``what``, never the value.

    The Standard Webhooks specification asks for 24 to 64 random bytes,
    base64-encoded after the ``whsec_`` prefix.
    """
    if not isinstance(value, str) or not value.startswith(_SECRET_PREFIX):
        raise ConfigError(f"{what} must be a Standard Webhooks secret starting with 'whsec_'")
    text = value[len(_SECRET_PREFIX) :]
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{what} is not valid base64 after 'whsec_'") from None
    if not 24 <= len(key) <= 64:
        raise ConfigError(f"{what} must hold 24 to 64 bytes, not {len(key)}")
    return key


def sign(msg_id: str, timestamp: int, body: bytes, keys: Sequence[bytes]) -> str:
    """The ``webhook-signature`` header: one ``v1,<base64 HMAC-SHA256>`` per key, space-separated.

    What is signed is ``{msg_id}.{timestamp}.{body}``; several keys let a
    receiver move to a new secret without missing a webhook.
    """
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")
        for key in keys
    )
