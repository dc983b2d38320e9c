"""Text bound for a terminal: what users and servers wrote can show, never steer it.

Names, notes, tags, ids, titles, route names and the error text of servers
may hold terminal controls: an escape sequence can recolour or clear the
screen, set the window title, write a link or answer back to the terminal,
and a bidirectional override can make text read differently from what it
is. Everything the CLI prints of such text goes through :func:`neutralise`.
"""

from __future__ import annotations

import re

__all__ = ["REPLACEMENT", "escape_json", "neutralise"]

#: What a control character is shown as.
REPLACEMENT = "\ufffd"

# C0 controls but the newline, DEL, C1 controls, and the bidirectional
# embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
_CONTROLS = "\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
# One pattern: a class reaching past U+00FF is slow to compile, and every
# command compiles it when it starts.
_UNSAFE = re.compile(f"[{_CONTROLS}]")


def neutralise(text: str, *, one_line: bool = False) -> str:
    """``text`` with every terminal control replaced by U+FFFD.

    Newlines stay unless ``one_line`` is true, which replaces them too, so
    that one message stays one line.
    """
    safe = _UNSAFE.sub(REPLACEMENT, text)
    return safe.replace("\n", REPLACEMENT) if one_line else safe


def escape_json(text: str) -> str:
    """JSON text with the controls that ``json.dumps`` leaves raw written as ``\\uXXXX``.

    ``json.dumps`` escapes C0 controls but, without ``ensure_ascii``, writes
    DEL, C1 controls and bidirectional overrides as they are. Escaped, the
    JSON reads back to the same data, and a terminal shows it inertly.
    """
    return _UNSAFE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
