"""Reading the bytes of an exported file as text."""

from __future__ import annotations

from cadence.core.errors import ImportFailed

__all__ = ["decode"]


def decode(data: bytes, *, source: str) -> str:
    """The text of ``data``, read as UTF-8 (a byte order mark is skipped)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFailed(f"not UTF-8 text: {error}", path=source) from None
