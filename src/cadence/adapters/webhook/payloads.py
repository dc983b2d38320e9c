"""What the ``webhook`` adapter sends: the Standard Webhooks body of a reminder
(``reminder.due``, its JSON schema shipped as
``cadence/schemas/reminder.due.v1.json``) and the incoming-webhook messages of
Slack, Discord and Microsoft Teams.

Every builder takes ``words`` (``cadence.l10n``; the core's English by
default): the standard body keeps its machine fields and the core's English
``title`` and ``reason``, and adds ``localized``, the same in the route's
language; the chat messages are worded in it throughout. Keys, dates and the
``webhook-id`` never change with the language."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, Literal, TypeAlias

from cadence.core.reminders import Reminder
from cadence.l10n import ENGLISH, Words

__all__ = [
    "EVENT_TYPE",
    "FORMATS",
    "SCHEMA_VERSION",
    "Format",
    "discord_payload",
    "encode",
    "payload_schema",
    "reminder_data",
    "slack_payload",
    "standard_payload",
    "teams_payload",
]

#: The Standard Webhooks event type of a due reminder.
EVENT_TYPE = "reminder.due"

#: The version of the ``reminder.due`` payload schema that cadence sends.
SCHEMA_VERSION = 1

Format: TypeAlias = Literal["standard", "slack", "discord", "teams"]


# -- payloads -------------------------------------------------------------------


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def reminder_data(reminder: Reminder, words: Words = ENGLISH) -> dict[str, Any]:
    """The ``data`` of a ``reminder.due`` webhook: the reminder and its contact.

    ``reminder.localized`` holds the title, the reason and the due date as
    ``words`` says them, with their ``locale`` (None for the core's English).
    """
    contact = reminder.contact
    return {
        "reminder": {
            "key": reminder.key,
            "kind": reminder.kind,
            "purpose": reminder.purpose,
            "title": reminder.title,
            "reason": reminder.reason,
            "date": reminder.date.isoformat(),
            "due": reminder.due.isoformat(),
            "overdue_seconds": int(reminder.overdue.total_seconds()),
            "channel": reminder.channel,
            "occasion_date": (
                reminder.occasion_date.isoformat() if reminder.occasion_date else None
            ),
            "localized": {
                "locale": words.locale,
                "title": words.title(reminder),
                "reason": words.reason(reminder),
                "date": words.full_date(reminder.date),
            },
        },
        "contact": {
            "id": contact.id,
            "name": contact.name,
            "email": contact.email,
            "timezone": contact.timezone,
            "tags": sorted(contact.tags),
        },
    }


def standard_payload(reminder: Reminder, words: Words = ENGLISH) -> dict[str, Any]:
    """The Standard Webhooks body of ``reminder``: type, timestamp and data.

    ``timestamp`` is when the event happened, the moment the reminder fell
    due, so it is the same on every retry; the moment of each attempt goes in
    the ``webhook-timestamp`` header.
    """
    return {
        "type": EVENT_TYPE,
        "timestamp": _utc_text(reminder.due),
        "data": reminder_data(reminder, words),
    }


def _facts(reminder: Reminder, words: Words) -> list[tuple[str, str]]:
    contact = reminder.contact
    who = contact.name if contact.email is None else f"{contact.name} <{contact.email}>"
    facts = [(words.gettext("Contact"), who), (words.gettext("Due"), words.date(reminder.date))]
    if reminder.occasion_date is not None:
        facts.append((words.gettext("Occasion"), words.date(reminder.occasion_date)))
    if reminder.channel:
        facts.append((words.gettext("Channel"), reminder.channel))
    days = reminder.overdue.days
    if days:
        facts.append((words.gettext("Overdue"), words.ngettext("{n} day", "{n} days", days)))
    return facts


# -- the chat services' limits ----------------------------------------------------
#
# Each service refuses (or cuts) a message past its documented limits, so every
# text a contact's data can make long is clipped to fit, with an ellipsis.
# Services count "characters" in their own way; cadence counts UTF-16 code units,
# which are never fewer than code points, so a limit holds however it is counted.

# Slack: "text" is truncated past 40,000 characters (chat.postMessage, "Truncating
# content"); a section block's text and a context element's text object take at
# most 3,000 characters (Block Kit reference: section block, text object).
SLACK_TEXT_LIMIT = 40_000
SLACK_BLOCK_TEXT_LIMIT = 3_000

# Discord, "Embed Limits" of the message resource: title 256, description 4,096,
# 25 fields, field name 256, field value 1,024, footer text 2,048, author name
# 256, and 6,000 characters in all of these together across a message's embeds.
DISCORD_TITLE_LIMIT = 256
DISCORD_DESCRIPTION_LIMIT = 4_096
DISCORD_FIELDS_LIMIT = 25
DISCORD_FIELD_NAME_LIMIT = 256
DISCORD_FIELD_VALUE_LIMIT = 1_024
DISCORD_FOOTER_LIMIT = 2_048
DISCORD_AUTHOR_LIMIT = 256
DISCORD_TOTAL_LIMIT = 6_000

# Microsoft Teams: "The message size limit is 28 KB" for incoming webhooks and the
# Workflows "post a card" actions (Teams platform docs, "Create an Incoming
# Webhook"; Teams connector, known issues). Counted here as bytes of the JSON with
# every non-ASCII character escaped (the longest way to write it), against 28,000.
TEAMS_BYTES_LIMIT = 28_000

_ELLIPSIS = "\u2026"


def utf16_units(text: str) -> int:
    """The length of ``text`` in UTF-16 code units: what JavaScript's ``length`` says."""
    return len(text.encode("utf-16-le")) // 2


def _prefix(text: str, units: int) -> str:
    """The longest start of ``text`` within ``units`` UTF-16 code units, whole code points only."""
    cut = text[:units].encode("utf-16-le")[: 2 * units]
    return cut.decode("utf-16-le", "ignore")  # drops half a surrogate pair at the end


def _clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-16 code units, ending in an ellipsis when cut.

    Only the first ``limit`` characters are ever looked at, so a huge text
    costs no more than a short one.
    """
    if len(text) <= limit and utf16_units(text) <= limit:
        return text
    return _prefix(text, limit - 1).rstrip() + _ELLIPSIS


def _fit(
    build: Callable[[int], dict[str, Any]],
    size: Callable[[dict[str, Any]], int],
    limit: int,
    most: int,
) -> dict[str, Any]:
    """``build(cap)`` for the largest cap on each text's length whose result is within ``limit``.

    Size grows with the cap, so a binary search finds it; short texts are
    never touched, and only the long ones share what room there is.
    """
    low, high = 1, most
    whole = build(high)
    if size(whole) <= limit:
        return whole
    while low < high:
        middle = (low + high + 1) // 2
        if size(build(middle)) <= limit:
            low = middle
        else:
            high = middle - 1
    return build(low)


def _slack_escape(text: str) -> str:
    # Slack reads &, < and > as markup ("<!channel>" pings everyone); nothing else is escaped.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_clip(text: str, limit: int) -> str:
    """``text`` escaped for Slack and clipped to ``limit`` as escaped, never inside an escape."""
    escaped = _slack_escape(text[: limit + 1])  # escaping only lengthens
    if len(text) <= limit and utf16_units(escaped) <= limit:
        return escaped
    cut = _prefix(escaped, limit - 1)
    start = cut.rfind("&")  # every & here begins an escape: drop one cut short
    if start != -1 and ";" not in cut[start:]:
        cut = cut[:start]
    return cut.rstrip() + _ELLIPSIS


def slack_payload(reminder: Reminder, words: Words = ENGLISH) -> dict[str, Any]:
    """A Slack incoming-webhook message: a plain fallback ``text`` and Block Kit blocks."""
    facts = "  \u00b7  ".join(
        words.gettext("{name}: {value}", name=name, value=value)
        for name, value in _facts(reminder, words)
    )
    # Bold markers and the line break cost 3 of the section's characters.
    room = SLACK_BLOCK_TEXT_LIMIT - 3
    heading, reason = words.title(reminder), words.reason(reminder)
    title = _slack_clip(heading, room // 2 if reason else room)
    lines = [f"*{title}*"]
    if reason:
        lines.append(_slack_clip(reason, room - utf16_units(title)))
    fallback = words.gettext("{title} (due {date})", title=heading, date=words.date(reminder.date))
    return {
        "text": _slack_clip(fallback, SLACK_TEXT_LIMIT),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": _slack_clip(facts, SLACK_BLOCK_TEXT_LIMIT)}
                ],
            },
        ],
    }


def discord_embed_characters(embed: Mapping[str, Any]) -> int:
    """The characters of ``embed`` that count toward Discord's 6,000, in UTF-16 code units."""
    texts = [embed.get("title", ""), embed.get("description", "")]
    texts += [embed.get("footer", {}).get("text", ""), embed.get("author", {}).get("name", "")]
    for field in embed.get("fields", []):
        texts += [field["name"], field["value"]]
    return sum(utf16_units(text) for text in texts)


def discord_payload(reminder: Reminder, words: Words = ENGLISH) -> dict[str, Any]:
    """A Discord webhook message: one embed, and no mentions, whatever the text holds."""
    facts = _facts(reminder, words)[:DISCORD_FIELDS_LIMIT]
    title, reason = words.title(reminder), words.reason(reminder)

    def build(cap: int) -> dict[str, Any]:
        embed: dict[str, Any] = {
            "title": _clip(title, min(cap, DISCORD_TITLE_LIMIT)),
            "timestamp": _utc_text(reminder.due),
            "fields": [
                {
                    "name": _clip(name, DISCORD_FIELD_NAME_LIMIT),
                    # Discord refuses an empty value, and strips spaces to see.
                    "value": _clip(value, min(cap, DISCORD_FIELD_VALUE_LIMIT)).strip() or "-",
                    "inline": True,
                }
                for name, value in facts
            ],
        }
        if reason:
            embed["description"] = _clip(reason, min(cap, DISCORD_DESCRIPTION_LIMIT))
        return embed

    embed = _fit(build, discord_embed_characters, DISCORD_TOTAL_LIMIT, DISCORD_DESCRIPTION_LIMIT)
    # A contact called "@everyone" must not ping a whole server.
    return {"embeds": [embed], "allowed_mentions": {"parse": []}}


def teams_bytes(payload: Mapping[str, Any]) -> int:
    """The size of ``payload`` as JSON with every non-ASCII character escaped: its longest form."""
    return len(json.dumps(payload, ensure_ascii=True, separators=(",", ":")))


def teams_payload(reminder: Reminder, words: Words = ENGLISH) -> dict[str, Any]:
    """A Microsoft Teams Workflows message: an Adaptive Card in a message attachment."""
    facts = _facts(reminder, words)
    title, reason = words.title(reminder), words.reason(reminder)

    def build(cap: int) -> dict[str, Any]:
        body: list[dict[str, Any]] = [
            {
                "type": "TextBlock",
                "text": _clip(title, cap),
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            }
        ]
        if reason:
            body.append(
                {
                    "type": "TextBlock",
                    "text": _clip(reason, cap),
                    "isSubtle": True,
                    "wrap": True,
                }
            )
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": name, "value": _clip(value, cap)} for name, value in facts],
            }
        )
        card: dict[str, Any] = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
        }
        if words.locale is not None:
            # The card's language (a two-letter ISO 639-1 code, as the schema says).
            card["lang"] = words.locale.split("_")[0]
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": card,
                }
            ],
        }

    # No text in a card needs more than this many characters to be read.
    return _fit(build, teams_bytes, TEAMS_BYTES_LIMIT, most=4_096)


#: The body builder of each format, given a reminder and the route's words.
FORMATS: Mapping[Format, Callable[[Reminder, Words], dict[str, Any]]] = {
    "standard": standard_payload,
    "slack": slack_payload,
    "discord": discord_payload,
    "teams": teams_payload,
}


def encode(payload: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are signed and sent."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@cache
def _schema_text() -> str:
    name = f"{EVENT_TYPE}.v{SCHEMA_VERSION}.json"
    return resources.files("cadence.schemas").joinpath(name).read_text(encoding="utf-8")


def payload_schema() -> dict[str, Any]:
    """The JSON schema of the ``reminder.due`` body that cadence sends, as shipped."""
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema
