"""The plugins that ship with cadence: what each registers, and where its code lives.

Each is declared as an entry point in cadence's own distribution and loaded
like a third party's. What they register is a ``lazy`` reference, so a
command that only reads the store never imports the HTTP, email or calendar
libraries the adapters and sources need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cadence._plugins import lazy
from cadence.hookspecs import hookimpl

if TYPE_CHECKING:
    from cadence.typing import Register

__all__ = [
    "caldav",
    "calendars",
    "carddav",
    "console",
    "csv",
    "ical",
    "imap",
    "jsonl",
    "mailfiles",
    "postgresql",
    "smtp",
    "sqlite",
    "vcard",
    "webhook",
]


class _Builtin:
    def __init__(
        self, name: str, target: str, *, aliases: tuple[str, ...] = (), **options: Any
    ) -> None:
        self.name = name
        self.names = (name, *aliases)
        self.target = target
        self.options = options

    def __repr__(self) -> str:
        return f"<built-in plugin {self.name!r}: {self.target}>"


class _Adapter(_Builtin):
    @hookimpl
    def cadence_register_adapters(self, register: Register) -> None:
        for name in self.names:
            register(name, lazy(self.target), **self.options)


class _Importers:
    """A plugin that registers several importers, each a ``lazy`` reference.

    ``importers`` holds (name, target, options); an option given as a
    ``lazy`` target ("recognises") is a reference too.
    """

    def __init__(self, name: str, *importers: tuple[str, str, dict[str, Any]]) -> None:
        self.name = name
        self.importers = importers

    def __repr__(self) -> str:
        return f"<built-in plugin {self.name!r}: {', '.join(i[0] for i in self.importers)}>"

    @hookimpl
    def cadence_register_importers(self, register: Register) -> None:
        for name, target, options in self.importers:
            register(name, lazy(target), **options)


class _Sources:
    """A plugin that registers several sources, each (name, ``lazy`` target)."""

    def __init__(self, name: str, *sources: tuple[str, str]) -> None:
        self.name = name
        self.sources = sources

    def __repr__(self) -> str:
        return f"<built-in plugin {self.name!r}: {', '.join(s[0] for s in self.sources)}>"

    @hookimpl
    def cadence_register_sources(self, register: Register) -> None:
        for name, target in self.sources:
            register(name, lazy(target))


class _Store(_Builtin):
    @hookimpl
    def cadence_register_stores(self, register: Register) -> None:
        for name in self.names:
            register(name, lazy(self.target), **self.options)


caldav = _Adapter("caldav", "cadence.adapters.caldav:caldav_adapter")
console = _Adapter("console", "cadence.adapters.console:ConsoleAdapter")
ical = _Adapter("ical", "cadence.adapters.ical:IcalAdapter")
jsonl = _Adapter("jsonl", "cadence.adapters.jsonl:JsonLinesAdapter")
smtp = _Adapter("smtp", "cadence.adapters.smtp:smtp_adapter")
webhook = _Adapter("webhook", "cadence.adapters.webhook:webhook_adapter")
# cadence's own columns, and the exports of other programs told apart by
# their headers; the first recognises nothing, so it reads any other .csv.
csv = _Importers(
    "csv",
    ("csv", "cadence.sources.csv:read_csv", {"suffixes": (".csv",)}),
    (
        "google-csv",
        "cadence.sources.google:read_google_csv",
        {
            "suffixes": (".csv",),
            "recognises": lazy("cadence.sources.google:recognises_google_csv"),
            "skips_unchanged": True,
        },
    ),
    (
        "outlook-csv",
        "cadence.sources.outlook:read_outlook_csv",
        {
            "suffixes": (".csv",),
            "recognises": lazy("cadence.sources.outlook:recognises_outlook_csv"),
            "skips_unchanged": True,
        },
    ),
    (
        "linkedin-csv",
        "cadence.sources.linkedin:read_linkedin_csv",
        {
            "suffixes": (".csv",),
            "recognises": lazy("cadence.sources.linkedin:recognises_linkedin_csv"),
            "skips_unchanged": True,
        },
    ),
)
vcard = _Importers(
    "vcard",
    (
        "vcard",
        "cadence.sources.vcard:read_vcard",
        {"suffixes": (".vcf", ".vcard"), "skips_unchanged": True},
    ),
)
carddav = _Sources("carddav", ("carddav", "cadence.sources.carddav:carddav"))
mailfiles = _Sources(
    "mailfiles",
    ("maildir", "cadence.sources.mailfiles:maildir"),
    ("mbox", "cadence.sources.mailfiles:mbox"),
)
calendars = _Sources(
    "calendars",
    ("calendar", "cadence.sources.calendars:calendar"),
    ("caldav", "cadence.sources.calendars:caldav"),
)
imap = _Sources("imap", ("imap", "cadence.sources.imap:imap"))
sqlite = _Store("sqlite", "cadence.stores.sqlite:SqliteStore")
postgresql = _Store(
    "postgresql",
    "cadence.stores.postgresql:PostgresStore",
    aliases=("postgres", "postgresql+psycopg"),
)
