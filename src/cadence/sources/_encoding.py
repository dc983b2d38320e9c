"""Turning the bytes of an imported file into text, whichever program wrote it.

- A UTF-8 byte order mark: UTF-8 (spreadsheet programs, Outlook on the
  web). The mark is dropped.
- A UTF-16 byte order mark, little- or big-endian: UTF-16 (classic
  Outlook's "Unicode" exports, Excel's "Unicode Text"). The mark is dropped.
- Otherwise UTF-8 when the bytes are valid UTF-8, which plain ASCII is too.
- Otherwise Windows-1252, the ANSI code page of Windows in Western Europe
  and the Americas, which classic Outlook on Windows writes its CSV files
  in. Its five unassigned bytes are read as the control characters of the
  same number, as Windows itself reads them, so this never fails.

A file that starts with a byte order mark but is not valid in its encoding
raises ImportFailed naming the line of the first bad byte.
"""

from __future__ import annotations

import codecs

from cadence.core.errors import ImportFailed

__all__ = ["decode"]

_UTF16 = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_ERRORS = "cadence-windows-1252"


def _as_windows_does(error: UnicodeError) -> tuple[str, int]:
    """Read each byte Windows-1252 leaves unassigned as the character of the same number."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "".join(chr(byte) for byte in error.object[error.start : error.end]), error.end


codecs.register_error(_ERRORS, _as_windows_does)


def decode(data: bytes, *, source: str) -> str:
    """The text of ``data``, the bytes of the file ``source``; see the module for how."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data, len(codecs.BOM_UTF8), "utf-8", source)
    if data.startswith(_UTF16):
        # The "utf-16" codec reads the mark to know the byte order, and drops it.
        return _strict(data, 0, "utf-16", source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors=_ERRORS)


def _strict(data: bytes, start: int, encoding: str, source: str) -> str:
    try:
        return data[start:].decode(encoding)
    except UnicodeDecodeError as error:
        before = data[: start + error.start]
        if encoding == "utf-16":
            before = before.decode("utf-16", errors="replace").encode("utf-8")
        raise ImportFailed(
            f"not valid {encoding.upper()}, though the file starts with its byte order mark: "
            f"{error.reason} at byte {start + error.start}",
            path=source,
            line=before.count(b"\n") + 1,
        ) from None
