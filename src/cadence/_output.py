"""What the command line prints: tables and styled text, laid out by rich only when needed.

rich colours text and lays out tables for a terminal, but it costs tens of
milliseconds to import, and as much again to lay out a table of a hundred
rows: more than the rest of ``cadence due`` together. Most output goes to a
pipe or a file, where rich writes no colour, and a table whose cells are
single lines that fit the width is plain text padded with spaces. So the
command line describes what it prints with the small ``Text`` and ``Table``
here; ``Output.print`` writes such output itself, character for character
as rich would, and hands everything else (a terminal, colour forced on, a
table too wide for the screen, text rich would lay out differently) to a
rich console (``cadence._console``).

Every string is neutralised (see ``cadence._terminal``), whichever way it goes.
"""

from __future__ import annotations

import builtins
import os
import sys
from typing import IO, TYPE_CHECKING, Any

from cadence._terminal import neutralise

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text as RichText

__all__ = ["Column", "Output", "Table", "Text"]

#: What rich treats as a request to write for a terminal whatever the stream is.
_TERMINAL_ENV = ("FORCE_COLOR", "TTY_COMPATIBLE")
#: The keyword options of ``print`` that change nothing in text written without colour.
_PLAIN_OPTIONS = frozenset({"markup", "highlight", "style"})


class Text:
    """A line of text in parts, each with an optional rich style ("bold", "red")."""

    def __init__(self, text: str = "", style: str | None = None) -> None:
        self.parts: list[tuple[str, str | None]] = [(text, style)] if text else []

    @classmethod
    def assemble(cls, *parts: str | tuple[str, str]) -> Text:
        """Text from plain strings and (text, style) pairs, in order."""
        made = cls()
        made.parts = [(part, None) if isinstance(part, str) else part for part in parts]
        return made

    @property
    def plain(self) -> str:
        """The characters, without styles."""
        return "".join(text for text, _ in self.parts)

    def to_rich(self) -> RichText:
        """The same text as rich's ``Text``."""
        from rich.text import Text as RichText

        return RichText.assemble(
            *(text if style is None else (text, style) for text, style in self.parts)
        )


class Column:
    """A column of a ``Table``: its header, and whether rich may wrap its cells."""

    def __init__(self, header: str) -> None:
        self.header = header
        self.no_wrap = False


class Table:
    """A table with a header row and no borders, as ``rich.table.Table(..., box=None)`` draws it."""

    def __init__(self, *headers: str, box: None = None) -> None:
        self.columns = [Column(header) for header in headers]
        self.rows: list[tuple[str | Text, ...]] = []

    def add_row(self, *cells: str | Text) -> None:
        """Add a row; a row shorter than the header is filled with empty cells."""
        self.rows.append(cells + ("",) * (len(self.columns) - len(cells)))

    def to_rich(self) -> RichTable:
        """The same table as rich's ``Table``."""
        from rich.table import Table as RichTable

        made = RichTable(*(column.header for column in self.columns), box=None)
        for column, rich_column in zip(self.columns, made.columns, strict=True):
            rich_column.no_wrap = column.no_wrap
        for row in self.rows:
            made.add_row(*(cell.to_rich() if isinstance(cell, Text) else cell for cell in row))
        return made


class Output:
    """Standard output, or standard error, as the command line writes to it.

    ``print`` takes strings, ``Text`` and ``Table`` (and anything rich
    prints, which goes to rich). ``console`` is the rich console, made on
    first use.
    """

    def __init__(self, *, stderr: bool = False) -> None:
        self.stderr = stderr
        self._console: Console | None = None

    @property
    def file(self) -> IO[str]:
        """The stream written to, looked up at each write as rich does."""
        return sys.stderr if self.stderr else sys.stdout

    @property
    def console(self) -> Console:
        """The rich console for this stream; see ``cadence._output`` for when it is used."""
        if self._console is None:
            from cadence._console import Terminal

            self._console = Terminal(stderr=self.stderr)
        return self._console

    def print(self, *objects: Any, **options: Any) -> None:
        """Print ``objects`` separated by spaces, then a newline, as rich's ``Console.print``."""
        plain = self._plain(objects, options)
        if plain is None:
            self.console.print(*map(_to_rich, objects), **options)
            return
        self.file.write(plain)
        self.file.flush()

    def _plain(self, objects: tuple[Any, ...], options: dict[str, Any]) -> str | None:
        """What rich would write for ``objects``, or None when only rich can tell."""
        if not set(options) <= _PLAIN_OPTIONS or self._is_terminal():
            return None
        if len(objects) == 1 and isinstance(objects[0], Table):
            return _plain_table(objects[0], _width())
        texts = []
        for thing in objects:
            if isinstance(thing, str):
                # rich neutralises a string before laying it out (see _Terminal.render_str).
                texts.append(thing if thing.isprintable() else neutralise(thing))
            elif isinstance(thing, Text) and thing.plain.isprintable():
                texts.append(thing.plain)
            else:
                return None
        text = " ".join(texts)
        # rich trims the spaces that end a line past the width; rather than measure, let it.
        if any(line != line.rstrip() for line in text.split("\n")):
            return None
        return text + "\n"

    def _is_terminal(self) -> bool:
        # As rich decides it, and then some: an environment that asks for a terminal,
        # a notebook, Windows' consoles (rich measures them differently), or a tty.
        if (
            any(name in os.environ for name in _TERMINAL_ENV)
            or hasattr(builtins, "get_ipython")
            or os.name == "nt"
        ):
            return True
        isatty = getattr(self.file, "isatty", None)
        try:
            return isatty is not None and bool(isatty())
        except ValueError:  # a closed stream: rich says no terminal either
            return False


def _width() -> int:
    """The width rich lays out for when not writing to a terminal."""
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)
    for descriptor in (0, 1, 2):
        try:
            width = os.get_terminal_size(descriptor).columns
        except (AttributeError, ValueError, OSError):  # not a terminal
            continue
        return width or 80
    return 80


def _cells(text: str) -> int:
    """How many columns of a terminal ``text`` takes."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len  # wide and combining characters: rich's own measure

    return cell_len(text)


def _plain_table(table: Table, width: int) -> str | None:
    """``table`` as rich draws it without colour, or None when rich would have to wrap it."""
    rows: list[list[str]] = [[column.header for column in table.columns]]
    for row in table.rows:
        cells: list[str] = []
        for cell in row:
            text = cell.plain if isinstance(cell, Text) else cell
            # A line break, or a control that rich measures as nothing but prints as a mark.
            if not text.isprintable():
                return None
            cells.append(text)
        rows.append(cells)
    # Each column as wide as its widest cell, with a space either side of every cell.
    widths = [max(_cells(row[i]) for row in rows) + 2 for i in range(len(table.columns))]
    if sum(widths) > width:
        return None  # rich would shrink and wrap columns: leave that to it
    lines = []
    for cells in rows:
        line = "".join(
            f" {text}{' ' * (size - 1 - _cells(text))}"
            for text, size in zip(cells, widths, strict=True)
        )
        lines.append(line + "\n")
    return "".join(lines)


def _to_rich(thing: Any) -> Any:
    if isinstance(thing, Text | Table):
        return thing.to_rich()
    return thing
