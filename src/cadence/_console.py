"""The rich console that the command line prints through when plain text will not do.

See ``cadence._output`` for when that is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.text import Text

from cadence._terminal import neutralise

__all__ = ["Terminal"]


class Terminal(Console):
    """A rich console that shows what users and servers wrote as text, never as commands.

    Markup and emoji codes are off, so a name like ``[link=...]`` prints as
    written; styles come from ``Text`` objects or ``style=``. Every string
    is neutralised before it is laid out, and every segment again before it
    is written, so no terminal control in the data reaches the terminal,
    whether or not rich colours the output.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, soft_wrap=True, **options)

    def render_str(self, text: str, **options: Any) -> Text:
        """``text`` as rich Text, with its terminal controls neutralised."""
        return super().render_str(text if text.isprintable() else neutralise(text), **options)

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterator[Segment]:
        """The segments of ``renderable``; the text of each neutralised, rich's controls kept."""
        for segment in super().render(renderable, options):
            # isprintable() is a quick pass for the many segments that hold no control.
            if segment.control is None and not segment.text.isprintable():
                text = neutralise(segment.text)
                if text != segment.text:
                    segment = Segment(text, segment.style)
            yield segment
