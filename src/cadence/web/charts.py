"""The web app's charts, drawn as SVG on the server by pygal.

pygal is told to link no script (its tooltips load one from the web), so a
chart is plain SVG that scales to the width of the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pygal
from markupsafe import Markup
from pygal.etree import etree
from pygal.style import Style

from cadence.core.model import Touchpoint
from cadence.l10n import ENGLISH, Words
from cadence.web.pages import BANDS

__all__ = ["roster_chart", "timeline_chart"]

# Large type: the SVG is scaled down to the width of a phone.
_STYLE: dict[str, Any] = {
    "background": "transparent",
    "plot_background": "transparent",
    "font_family": "system-ui, sans-serif",
    "label_font_size": 26,
    "major_label_font_size": 26,
    "legend_font_size": 26,
    "title_font_size": 20,
    "value_font_size": 22,
}

_TIMELINE_COLOURS = ("#1f6feb", "#2da44e", "#8c959f", "#cf222e", "#bf8700")
_ROSTER_COLOURS = ("#2da44e", "#bf8700", "#cf222e")


# pygal draws an empty series from a list holding one missing value.
_NOTHING: list[Any] = [None]


def _config(colours: Sequence[str]) -> dict[str, Any]:
    return {
        "style": Style(colors=tuple(colours), **_STYLE),
        # pygal's default links a tooltip script from the internet: none here.
        "js": [],
        "disable_xml_declaration": True,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "truncate_legend": -1,
        "truncate_label": -1,
        "legend_box_size": 22,
        "width": 720,
        "height": 440,
        "margin": 8,
    }


def _render(chart: Any) -> Markup:
    tree = chart.render_tree()
    # pygal adds an inline script holding its configuration, labels included:
    # a page that runs no script needs none, and a channel's name must not
    # end up inside one.
    for script in [e for e in tree.iter() if _local_name(e.tag) == "script"]:
        parent = _parent(tree, script)
        if parent is not None:
            parent.remove(script)
    svg: str = etree.tostring(tree, encoding="unicode")
    # pygal builds the SVG with an XML library, which escapes every label.
    return Markup(svg)  # noqa: S704


def _local_name(tag: object) -> str:
    return str(tag).rpartition("}")[2]


def _parent(tree: Any, child: Any) -> Any:
    for element in tree.iter():
        if child in list(element):
            return element
    return None


def timeline_chart(
    touches: Sequence[Touchpoint],
    due_dates: Sequence[datetime],
    health_points: Sequence[tuple[datetime, float]],
    start: datetime,
    end: datetime,
    *,
    words: Words = ENGLISH,
) -> Markup:
    """A contact's year: touchpoints by channel (in, out, bulk), due dates, health as a line.

    Its legend and labels are in ``words``'s language (the core's English by default).
    """
    channels = sorted({t.channel for t in touches})
    lane = {channel: i + 1 for i, channel in enumerate(channels)}
    config = {**_config(_TIMELINE_COLOURS), "legend_at_bottom_columns": 2}
    config["height"] = 400 + 40 * len(channels)
    chart = pygal.DateTimeLine(
        **config,
        x_value_formatter=lambda moment: f"{moment:%b %Y}",
        x_label_rotation=0,
        range=(0, len(channels) + 1),
        secondary_range=(0, 100),
        y_labels=[{"label": words.gettext("due"), "value": 0}]
        + [{"label": channel, "value": lane[channel]} for channel in channels],
        show_x_guides=False,
        dots_size=6,
    )
    months = [
        datetime(
            start.year + (start.month - 1 + n) // 12,
            (start.month - 1 + n) % 12 + 1,
            1,
            tzinfo=start.tzinfo,
        )
        for n in range(1, 13, 3)
    ]
    chart.x_labels = months
    kinds = (
        (words.gettext("out, personal"), lambda t: t.personal and t.direction == "out"),
        (words.gettext("in, personal"), lambda t: t.personal and t.direction == "in"),
        (words.gettext("bulk"), lambda t: not t.personal),
    )
    for title, keep in kinds:
        chart.add(
            title,
            [(t.at, lane[t.channel]) for t in touches if keep(t)] or _NOTHING,
            stroke=False,
        )
    chart.add(
        words.gettext("due"), [(d, 0) for d in due_dates] or _NOTHING, stroke=False, dots_size=5
    )
    chart.add(
        words.gettext("health %"),
        [(m, round(s * 100)) for m, s in health_points] or _NOTHING,
        secondary=True,
        show_dots=False,
        stroke_style={"width": 3},
    )
    chart.xrange = (start, end)
    return _render(chart)


def roster_chart(
    weeks: Sequence[Any], counts: Mapping[str, Sequence[int]], *, words: Words = ENGLISH
) -> Markup:
    """Per week, how many contacts were healthy, drifting and overdue, as stacked bars.

    Its legend is in ``words``'s language (the core's English by default).
    """

    chart = pygal.StackedBar(**_config(_ROSTER_COLOURS), x_label_rotation=0)
    chart.x_labels = [f"{week:%d %b}" for week in weeks]
    chart.x_labels_major_every = 3
    chart.show_minor_x_labels = False
    for band in ("healthy", "drifting", "overdue"):
        chart.add(words.gettext(BANDS[band]), list(counts[band]))
    return _render(chart)
