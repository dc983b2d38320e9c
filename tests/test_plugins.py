"""The plugin manager: hooks, the registry, isolation of faulty plugins, and cadence.testing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pluggy
import pytest

import cadence
import cadence.typing
from cadence import _plugins
from cadence.adapters.console import ConsoleAdapter
from cadence.core.errors import PluginError
from cadence.testing import (
    RecordingAdapter,
    RosterBuilder,
    fresh_plugins,
    make_reminder,
    recording_plugin,
)
from cadence.typing import Register

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


# -- plugins used by the tests ----------------------------------------------


class Sms:
    """A minimal adapter: keeps what it was given."""

    def __init__(self, *, sender: str = "+10000", token: str = "") -> None:
        if not sender.startswith("+"):
            raise cadence.ConfigError(f"sender must start with '+', not {sender!r}")
        self.sender = sender
        self.sent: list[str] = []

    def deliver(self, reminders: Sequence[cadence.Reminder]) -> None:
        self.sent.extend(r.key for r in reminders)


class SmsPlugin:
    """Registers the ``sms`` adapter."""

    @cadence.hookimpl
    def cadence_register_adapters(self, register: Register) -> None:
        register("sms", Sms)


class Quiet:
    """Drops reminders of contacts tagged ``quiet``; says nothing about the others."""

    @cadence.hookimpl
    def cadence_filter_reminder(self, reminder: cadence.Reminder) -> bool | None:
        return False if "quiet" in reminder.contact.tags else None


class Verdict:
    """A filter that answers ``verdict`` about everything, and records what it was asked."""

    def __init__(self, verdict: object) -> None:
        self.verdict = verdict
        self.asked: list[tuple[str, str, datetime]] = []

    @cadence.hookimpl
    def cadence_filter_reminder(
        self, now: datetime, route: cadence.Route, reminder: cadence.Reminder
    ) -> object:
        self.asked.append((reminder.key, route.name, now))
        return self.verdict


@pytest.fixture
def bare() -> _plugins.Plugins:
    """A plugin manager with nothing registered at all."""
    return _plugins.Plugins()


def reminder(contact: str = "ada", *tags: str) -> cadence.Reminder:
    """A reminder due at NOW for ``contact`` with ``tags``."""
    return make_reminder(contact, due=NOW, tags=tags)


# -- markers and loading ------------------------------------------------------


def test_markers_belong_to_the_cadence_project() -> None:
    """The markers belong to the project "cadence", which is also the entry-point group."""
    assert cadence.hookimpl.project_name == "cadence"
    assert cadence.hookspec.project_name == "cadence"
    assert cadence.hookspecs.PROJECT == "cadence"


def test_cadences_own_plugins_are_registered_like_any_other(plugins: _plugins.Plugins) -> None:
    """The console adapter comes from a built-in plugin, listed with cadence's version."""
    (console,) = [info for info in plugins.list() if info.name == "console"]
    assert console.builtin
    assert console.distribution == "cadence"
    assert console.version == cadence.__version__
    assert console.registered == (("adapter", "console"),)
    assert console.hooks == ("cadence_register_adapters",)
    assert isinstance(plugins.build_adapter(cadence.Route("console")), ConsoleAdapter)


def test_get_plugins_loads_once_and_lazily() -> None:
    """The process's plugin manager is made on first use and then kept."""
    previous = _plugins.reset_plugins(None)
    try:
        first = _plugins.get_plugins()
        assert _plugins.get_plugins() is first
        assert "console" in first.adapter_names()
    finally:
        _plugins.reset_plugins(previous)


def test_registering_reads_a_plugin_s_own_names_not_its_dunders(
    bare: _plugins.Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pluggy is asked about a plugin's own names only; its hooks are found as before."""
    asked: list[str] = []
    read = pluggy.PluginManager.parse_hookimpl_opts

    def recording(self: pluggy.PluginManager, plugin: object, name: str) -> Any:
        asked.append(name)
        return read(self, plugin, name)

    monkeypatch.setattr(pluggy.PluginManager, "parse_hookimpl_opts", recording)
    assert bare.register(SmsPlugin(), "sms") == "sms"
    assert "cadence_register_adapters" in asked
    assert not [name for name in asked if name.startswith("__")]
    assert "__init__" in dir(SmsPlugin())
    assert bare.adapter_names() == ["sms"]


# -- cadence_register_adapters ------------------------------------------------


def test_hook_cadence_register_adapters_names_an_adapter_for_routes(
    plugins: _plugins.Plugins,
) -> None:
    """A registered adapter is built from a route's settings and listed under its plugin."""
    assert plugins.register(SmsPlugin(), "sms-plugin") == "sms-plugin"
    adapter = plugins.build_adapter(cadence.Route("sms", name="texts", settings={"sender": "+1"}))
    assert isinstance(adapter, Sms)
    assert adapter.sender == "+1"
    (info,) = [info for info in plugins.list() if info.name == "sms-plugin"]
    assert info.registered == (("adapter", "sms"),)
    assert not info.builtin
    assert plugins.registered("adapter")["sms"].plugin == "sms-plugin"


def test_an_unknown_adapter_is_a_config_error_naming_the_route(plugins: _plugins.Plugins) -> None:
    """A route naming no registered adapter raises ConfigError with the route and the known ones."""
    with pytest.raises(cadence.ConfigError, match=r"route 'texts'.*'sms'.*known: .*console"):
        plugins.build_adapter(cadence.Route("sms", name="texts"))


def test_bad_settings_are_config_errors_naming_the_route(bare: _plugins.Plugins) -> None:
    """An unknown setting, or one the factory refuses, raises ConfigError naming the route."""
    bare.register(SmsPlugin(), "sms-plugin")
    with pytest.raises(
        cadence.ConfigError, match=r"route 'texts': unknown sms setting 'colour' \(known: "
    ):
        bare.build_adapter(cadence.Route("sms", name="texts", settings={"colour": "red"}))
    with pytest.raises(cadence.ConfigError, match=r"^route 'texts': sender must start with"):
        bare.build_adapter(cadence.Route("sms", name="texts", settings={"sender": "0"}))


def test_a_factory_that_breaks_is_a_plugin_error_without_its_message(
    bare: _plugins.Plugins,
) -> None:
    """Another exception from a factory names the plugin, not its message (it may hold secrets)."""

    def factory(**settings: Any) -> object:
        raise RuntimeError(f"could not log in with {settings['token']}")

    class Plugin:
        @cadence.hookimpl
        def cadence_register_adapters(self, register: Register) -> None:
            register("leaky", factory)

    bare.register(Plugin(), "leaky-plugin")
    with pytest.raises(PluginError, match="'leaky-plugin'") as caught:
        bare.build_adapter(cadence.Route("leaky", settings={"token": "s3cret"}))
    assert "s3cret" not in str(caught.value)


def test_an_adapter_without_deliver_or_publish_is_refused_naming_its_plugin(
    bare: _plugins.Plugins,
) -> None:
    """A factory that returns garbage is a PluginError naming the plugin."""

    class Plugin:
        @cadence.hookimpl
        def cadence_register_adapters(self, register: Register) -> None:
            register("nothing", lambda **settings: object())

    bare.register(Plugin(), "garbage")
    with pytest.raises(PluginError, match=r"plugin 'garbage'.*neither deliver"):
        bare.build_adapter(cadence.Route("nothing"))


def test_one_plugin_registers_many_things_and_unregistering_removes_them(
    bare: _plugins.Plugins,
) -> None:
    """A plugin may register several adapters; unregistering it takes them all away."""

    class Plugin:
        @cadence.hookimpl
        def cadence_register_adapters(self, register: Register) -> None:
            register("sms", Sms)
            register("mms", Sms)

    bare.register(Plugin(), "multi")
    assert bare.adapter_names() == ["mms", "sms"]
    bare.unregister("multi")
    assert bare.adapter_names() == []
    assert [info.name for info in bare.list()] == []


# -- cadence_register_importers -----------------------------------------------


def read_lines(text: str, *, source: str) -> cadence.ImportBatch:
    """An importer: one contact per line, "id,name"."""
    contacts = [cadence.Contact(*line.split(",", 1)) for line in text.splitlines() if line]
    # attrs' converter=tuple leaves the element type unsolved for mypy.
    return cadence.ImportBatch(contacts)  # type: ignore[arg-type]


class LinesPlugin:
    """Registers the ``lines`` importer for .lines and .LST files."""

    @cadence.hookimpl
    def cadence_register_importers(self, register: Register) -> None:
        register("lines", read_lines, suffixes=(".lines", ".LST"))


def test_hook_cadence_register_importers_by_format_and_by_suffix(bare: _plugins.Plugins) -> None:
    """An importer is found by its format's name, or by a file's suffix whatever its case."""
    bare.register(LinesPlugin(), "lines-plugin")
    assert bare.importer_for("whatever.txt", format="lines").thing is read_lines
    assert bare.importer_for("Clients.LINES").thing is read_lines
    assert bare.importer_for("team.lst").name == "lines"
    batch = bare.importer_for("a.lines").thing("ada,Ada\n", source="a.lines")
    assert [c.id for c in batch.contacts] == ["ada"]
    with pytest.raises(cadence.ConfigError, match=r"people\.xls.*known: lines"):
        bare.importer_for("people.xls")
    with pytest.raises(cadence.ConfigError, match="unknown import format 'xls'"):
        bare.importer_for("people.xls", format="xls")


def test_importer_suffixes_must_be_a_tuple_of_suffixes(bare: _plugins.Plugins) -> None:
    """``suffixes=".vcf"`` (a string) is refused naming the plugin, as is an unknown option."""

    class Plugin:
        @cadence.hookimpl
        def cadence_register_importers(self, register: Register) -> None:
            register("one", read_lines, suffixes=".vcf")
            register("two", read_lines, encoding="latin-1")
            register("three", read_lines, suffixes=3)
            register("four", read_lines, suffixes=[".four"])
            register("five", read_lines, suffixes=(".five",), skips_unchanged="yes")
            register("six", read_lines, suffixes=(".six",), skips_unchanged=True)

    bare.register(Plugin(), "sloppy")
    first, second, third, fifth = bare.problems("sloppy")
    assert "importer 'one' with suffixes '.vcf'" in first
    assert "importer 'two' with unknown options ['encoding']" in second
    assert "importer 'three' with suffixes 3" in third
    assert "importer 'five' with skips_unchanged='yes'; expected True or False" in fifth
    assert list(bare.registered("importer")) == ["four", "six"]
    assert bare.registered("importer")["six"].options["skips_unchanged"] is True


# -- cadence_register_stores --------------------------------------------------


def test_hook_cadence_register_stores_by_url_scheme(bare: _plugins.Plugins) -> None:
    """A store factory is found by URL scheme; an unknown scheme is a ConfigError."""
    opened: list[str] = []

    class Plugin:
        @cadence.hookimpl
        def cadence_register_stores(self, register: Register) -> None:
            register("memory", opened.append)
            register("MySQL", opened.append)

    bare.register(Plugin(), "stores")
    bare.store_factory("memory")("memory://test")
    assert opened == ["memory://test"]
    (problem,) = bare.problems("stores")
    assert "'MySQL', which is not a URL scheme" in problem
    with pytest.raises(cadence.ConfigError, match=r"scheme 'redis'.*known: memory"):
        bare.store_factory("redis")


# -- cadence_register_sources -------------------------------------------------


class Days:
    """A source: an occasion on each of ``days`` (ISO dates) for every contact with ``tag``."""

    def __init__(self, *, days: Sequence[str] = (), tag: str = "client") -> None:
        self.days = [date.fromisoformat(day) for day in days]
        self.tag = tag

    def occasions(self, start: date, end: date) -> list[cadence.Occasion]:
        return [
            cadence.Occasion(f"Day {day}", on=day, tag=self.tag)
            for day in self.days
            if start <= day <= end
        ]


def test_hook_cadence_register_sources_names_a_source_for_source_tables(
    bare: _plugins.Plugins,
) -> None:
    """A registered source is built from a [[sources]] table's settings, listed under its plugin.

    An unknown source or bad settings are ConfigErrors naming the table; a
    factory that breaks its contract is a PluginError naming the plugin.
    """

    class Plugin:
        @cadence.hookimpl
        def cadence_register_sources(self, register: Register) -> None:
            register("days", Days)
            register("nothing", lambda **settings: object())
            register("leaky", lambda **settings: 1 / 0)

    assert bare.register(Plugin(), "days-plugin") == "days-plugin"
    table = cadence.SourceConfig("days", name="team", settings={"days": ["2026-12-01"]})
    source = bare.build_source(table)
    assert isinstance(source, cadence.typing.Source)
    assert source.occasions(date(2026, 11, 23), date(2026, 12, 31)) == [
        cadence.Occasion("Day 2026-12-01", on=date(2026, 12, 1), tag="client")
    ]
    (info,) = [info for info in bare.list() if info.name == "days-plugin"]
    assert info.registered == (("source", "days"), ("source", "leaky"), ("source", "nothing"))
    assert bare.source_names() == ["days", "leaky", "nothing"]
    with pytest.raises(cadence.ConfigError, match=r"^source 'x': unknown source 'dayz' .*days"):
        bare.build_source(cadence.SourceConfig("dayz", name="x"))
    with pytest.raises(
        cadence.ConfigError,
        match=r"^source 'team': unknown days setting 'colour' \(known: days, tag\)",
    ):
        bare.build_source(cadence.SourceConfig("days", name="team", settings={"colour": "red"}))
    with pytest.raises(
        PluginError, match=r"plugin 'days-plugin'.*has neither occasions\(\) nor contact_changes"
    ):
        bare.build_source(cadence.SourceConfig("nothing"))
    with pytest.raises(PluginError, match=r"plugin 'days-plugin'.*ZeroDivisionError$"):
        bare.build_source(cadence.SourceConfig("leaky"))


# -- cadence_filter_reminder --------------------------------------------------


def test_hook_cadence_filter_reminder_false_drops_for_that_route(bare: _plugins.Plugins) -> None:
    """Any implementation returning False drops the reminder; None and True let it through."""
    saying_yes, saying_nothing = Verdict(True), Verdict(None)
    bare.register(saying_yes, "yes")
    bare.register(saying_nothing, "nothing")
    bare.register(Quiet(), "quiet")
    route = cadence.Route("console", name="screen")
    assert bare.keep(reminder("bob"), route, now=NOW)
    assert not bare.keep(reminder("ada", "quiet"), route, now=NOW)
    assert saying_yes.asked == [
        (reminder("bob").key, "screen", NOW),
        (reminder("ada", "quiet").key, "screen", NOW),
    ]
    assert bare.errors == []


def test_a_filter_is_told_the_clock_when_dispatch_gives_no_now(bare: _plugins.Plugins) -> None:
    """Without ``now``, filters get the current aware moment; a naive ``now`` is refused."""
    asked = Verdict(None)
    bare.register(asked, "asked")
    before = datetime.now(UTC)
    bare.keep(reminder(), cadence.Route("console"))
    ((_, _, now),) = asked.asked
    assert before <= now <= datetime.now(UTC)
    with pytest.raises(cadence.CadenceError, match="timezone-aware"):
        bare.keep(reminder(), cadence.Route("console"), now=datetime(2026, 11, 23, 12, 0))


def test_a_filter_returning_garbage_is_reported_and_drops_nothing(bare: _plugins.Plugins) -> None:
    """A filter returning neither a bool nor None is reported by name; the reminder is kept."""
    bare.register(Verdict("no"), "garbage")
    assert bare.keep(reminder(), cadence.Route("console"), now=NOW)
    (problem,) = bare.problems("garbage")
    assert "plugin 'garbage' returned 'no' from cadence_filter_reminder" in problem


def test_a_filter_that_raises_is_reported_and_the_others_still_decide(
    bare: _plugins.Plugins,
) -> None:
    """A raising filter is reported by name and does not drop; the other filters still run."""

    class Raising:
        @cadence.hookimpl
        def cadence_filter_reminder(self) -> bool:
            raise KeyError("boom")

    bare.register(Raising(), "raising")
    bare.register(Quiet(), "quiet")
    assert bare.keep(reminder("bob"), cadence.Route("console"), now=NOW)
    assert not bare.keep(reminder("ada", "quiet"), cadence.Route("console"), now=NOW)
    assert len(bare.problems("raising")) == 2
    assert "plugin 'raising' failed in cadence_filter_reminder: KeyError('boom')" in str(
        bare.errors[0]
    )


# -- cadence_delivered --------------------------------------------------------


def test_hook_cadence_delivered_sees_every_outcome_even_after_a_failing_observer(
    bare: _plugins.Plugins,
) -> None:
    """Observers get the frozen Delivery; one that raises is reported, the others still see it."""
    seen: list[cadence.Delivery] = []

    class Observer:
        @cadence.hookimpl
        def cadence_delivered(self, delivery: cadence.Delivery) -> None:
            seen.append(delivery)

    class Failing:
        @cadence.hookimpl
        def cadence_delivered(self) -> None:
            raise RuntimeError("observer down")

    bare.register(Failing(), "failing")
    bare.register(Observer(), "observer")
    delivery = cadence.Delivery(
        key=reminder().key, route="screen", status="sent", attempts=1, at=NOW, reminder=reminder()
    )
    bare.delivered(delivery)
    assert seen == [delivery]
    assert seen[0].kind == "cadence"
    (problem,) = bare.problems("failing")
    assert "observer down" in problem


# -- faulty plugins -----------------------------------------------------------


def test_a_taken_name_is_refused_naming_both_plugins(plugins: _plugins.Plugins) -> None:
    """A taken adapter name is refused with both plugins named; the rest still registers."""

    class Impostor:
        @cadence.hookimpl
        def cadence_register_adapters(self, register: Register) -> None:
            register("console", Sms)
            register("pager", Sms)

    plugins.register(Impostor(), "impostor")
    (problem,) = plugins.problems("impostor")
    assert "plugin 'impostor' registered adapter 'console'" in problem
    assert "plugin 'console' registered already" in problem
    assert isinstance(plugins.build_adapter(cadence.Route("console")), ConsoleAdapter)
    assert isinstance(plugins.build_adapter(cadence.Route("pager")), Sms)


def test_a_plugin_registering_the_same_name_twice_keeps_the_first(bare: _plugins.Plugins) -> None:
    """A plugin registering one name twice is told so by name; its first registration stands."""

    class Twice:
        @cadence.hookimpl
        def cadence_register_adapters(self, register: Register) -> None:
            register("sms", Sms)
            register("sms", ConsoleAdapter)

    bare.register(Twice(), "twice")
    (problem,) = bare.problems("twice")
    assert "'twice' registered adapter 'sms', which plugin 'twice' registered already" in problem
    assert bare.registered("adapter")["sms"].thing is Sms


def test_a_plugin_registered_twice_is_refused(bare: _plugins.Plugins) -> None:
    """The same plugin object, or a second plugin under a taken name, is refused with its name."""
    plugin = SmsPlugin()
    bare.register(plugin, "sms-plugin")
    assert bare.register(plugin, "again") is None
    assert bare.register(SmsPlugin(), "sms-plugin") is None
    assert "registered already, as 'sms-plugin'" in str(bare.errors[0])
    assert "plugin 'sms-plugin' is not registered: another plugin has that name" in str(
        bare.errors[1]
    )
    assert bare.adapter_names() == ["sms"]


def test_garbage_from_a_registration_hook_is_reported(bare: _plugins.Plugins) -> None:
    """Returning things instead of calling register, or registering garbage, names the plugin."""

    class Plugin:
        @cadence.hookimpl
        def cadence_register_adapters(self, register: Register) -> list[object]:
            register("", Sms)
            register("string", "not a factory")
            return [Sms]

    bare.register(Plugin(), "garbage")
    problems = bare.problems("garbage")
    assert len(problems) == 3
    assert "registered adapter '', which is not a name" in problems[0]
    assert "'string' as 'not a factory', which is not callable" in problems[1]
    assert "returned [<class" in problems[2]
    assert "expected None (call register(...) instead)" in problems[2]
    assert bare.adapter_names() == []


def test_a_raising_registration_hook_is_reported_and_others_register(
    bare: _plugins.Plugins,
) -> None:
    """A registration hook that raises is reported by name; the next plugin registers normally."""

    class Raising:
        @cadence.hookimpl
        def cadence_register_adapters(self, register: Register) -> None:
            raise ImportError("needs the twilio package")

    bare.register(Raising(), "raising")
    bare.register(SmsPlugin(), "sms-plugin")
    (problem,) = bare.problems("raising")
    assert "plugin 'raising' failed in cadence_register_adapters" in problem
    assert "twilio" in problem
    assert bare.adapter_names() == ["sms"]


def test_a_misspelled_hook_is_refused_with_a_suggestion(bare: _plugins.Plugins) -> None:
    """check_pending's finding: a hookimpl for no hook gets the plugin refused, naming the hook."""

    class Typo:
        @cadence.hookimpl
        def cadence_filter_reminders(self, reminder: cadence.Reminder) -> bool:
            return False

    assert bare.register(Typo(), "typo") is None
    (problem,) = bare.problems("typo")
    assert (
        "plugin 'typo' implements cadence_filter_reminders, which is not a cadence hook" in problem
    )
    assert "did you mean cadence_filter_reminder?" in problem
    assert bare.keep(reminder(), cadence.Route("console"), now=NOW)
    (info,) = bare.list()
    assert (info.name, info.loaded) == ("typo", False)


def test_an_optional_hook_for_another_version_is_allowed(bare: _plugins.Plugins) -> None:
    """An implementation with optionalhook=True for a hook this cadence lacks is allowed."""

    class Future:
        @cadence.hookimpl(optionalhook=True)
        def cadence_from_the_future(self) -> None:
            """A hook of a later cadence."""

        @cadence.hookimpl
        def cadence_register_adapters(self, register: Register) -> None:
            register("sms", Sms)

    assert bare.register(Future(), "future") == "future"
    assert bare.adapter_names() == ["sms"]


def test_check_pending_reports_plugins_registered_behind_cadences_back(
    bare: _plugins.Plugins,
) -> None:
    """A plugin registered on pluggy's manager directly is still checked by check_pending."""

    class Typo:
        @cadence.hookimpl
        def cadence_deliverd(self) -> None:
            """Misspelled."""

    bare.pm.register(Typo(), "sneaky")
    bare.check_pending()
    (error,) = bare.errors
    assert "cadence_deliverd" in str(error)


def test_an_argument_the_hook_does_not_offer_is_refused(bare: _plugins.Plugins) -> None:
    """A hookimpl naming an argument its hook lacks is refused in one line naming the plugin."""

    class Greedy:
        @cadence.hookimpl
        def cadence_filter_reminder(self, reminder: cadence.Reminder, store: object) -> bool:
            return True

    assert bare.register(Greedy(), "greedy") is None
    (problem,) = bare.problems("greedy")
    assert problem.startswith("plugin 'greedy' does not fit cadence's hooks")
    assert "store" in problem
    assert "\n" not in problem


def test_a_wrapper_is_refused(bare: _plugins.Plugins) -> None:
    """cadence calls implementations one by one, so a wrapper implementation is refused by name."""

    class Wrapper:
        @cadence.hookimpl(wrapper=True)
        def cadence_filter_reminder(self) -> Iterator[None]:
            return (yield)

    assert bare.register(Wrapper(), "wrapper") is None
    assert "wrappers are not supported" in bare.problems("wrapper")[0]


def test_a_hook_without_the_marker_is_reported(bare: _plugins.Plugins) -> None:
    """A function named after a hook but not marked with @cadence.hookimpl is pointed out."""

    class Forgetful:
        @cadence.hookimpl
        def cadence_register_adapters(self, register: Register) -> None:
            register("sms", Sms)

        def cadence_filter_reminder(self, reminder: cadence.Reminder) -> bool:
            return False

    assert bare.register(Forgetful(), "forgetful") == "forgetful"
    (problem,) = bare.problems("forgetful")
    assert "defines cadence_filter_reminder without @cadence.hookimpl" in problem


# -- loading from entry points ------------------------------------------------


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for plugin modules written by a test, forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.startswith("test_plugin_"):
            del sys.modules[name]


def write_module(folder: Path, name: str, code: str) -> EntryPoint:
    """Write module ``name`` and an entry point in the group ``cadence`` for it."""
    (folder / f"{name}.py").write_text(textwrap.dedent(code), encoding="utf-8")
    return EntryPoint(name=name.removeprefix("test_plugin_"), value=name, group="cadence")


GOOD = """
    import cadence

    class Pager:
        def __init__(self, **settings):
            pass

        def deliver(self, reminders):
            return None

    @cadence.hookimpl
    def cadence_register_adapters(register):
        register("pager", Pager)
"""

HIJACK = """
    import cadence

    @cadence.hookimpl
    def cadence_register_adapters(register):
        register("console", object)
"""


def test_entry_points_are_loaded_one_by_one_and_a_broken_one_is_reported(
    modules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plugin raising on import is reported by name; cadence's plugins and the others load."""
    points = [
        write_module(modules, "test_plugin_broken", "raise RuntimeError('half-written')"),
        write_module(modules, "test_plugin_good", GOOD),
    ]
    monkeypatch.setattr(_plugins, "_entry_points", lambda: points)
    loaded = _plugins.load_plugins(disable=[])
    (problem,) = loaded.problems("broken")
    assert "plugin 'broken' (unknown distribution) failed to load" in problem
    assert "half-written" in problem
    assert {"console", "pager"} <= set(loaded.adapter_names())
    broken = {info.name: info for info in loaded.list()}["broken"]
    assert not broken.loaded


def test_cadences_own_plugins_load_first_so_their_names_cannot_be_taken(
    modules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plugin whose entry point sorts before "console" cannot take the console adapter."""
    points = [write_module(modules, "test_plugin_aaa", HIJACK)]
    monkeypatch.setattr(_plugins, "_entry_points", lambda: points)
    loaded = _plugins.load_plugins(disable=[])
    assert loaded.registered("adapter")["console"].plugin == "console"
    (problem,) = loaded.problems("aaa")
    assert "which plugin 'console' registered already" in problem


def test_disabled_plugins_are_never_imported(
    modules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names in CADENCE_DISABLE_PLUGINS, and "*", keep plugins from being imported at all."""
    points = [
        write_module(modules, "test_plugin_good", GOOD),
        write_module(modules, "test_plugin_broken", "raise RuntimeError('imported')"),
    ]
    monkeypatch.setattr(_plugins, "_entry_points", lambda: points)
    monkeypatch.setenv("CADENCE_DISABLE_PLUGINS", "broken, console")
    loaded = _plugins.load_plugins()
    assert loaded.errors == []
    assert "pager" in loaded.adapter_names()
    assert "console" not in loaded.adapter_names()
    monkeypatch.setenv("CADENCE_DISABLE_PLUGINS", "*")
    everything = _plugins.load_plugins()
    assert "pager" not in everything.adapter_names()
    assert "console" in everything.adapter_names()


def test_the_list_puts_cadences_plugins_first(plugins: _plugins.Plugins) -> None:
    """``cadence plugins`` shows built-ins first, then the others by name."""
    plugins.register(SmsPlugin(), "aardvark")
    listed = plugins.list()
    builtins = [info.builtin for info in listed]
    assert builtins == sorted(builtins, reverse=True)
    assert listed[-1].name == "aardvark"


# -- cadence.testing ----------------------------------------------------------


def test_fresh_plugins_registers_for_the_block_and_installs_the_manager() -> None:
    """Inside the block the plugin is registered and the process default; afterwards neither."""
    before = _plugins.get_plugins()
    plugin = SmsPlugin()
    with fresh_plugins(plugin) as manager:
        assert _plugins.get_plugins() is manager
        assert "sms" in manager.adapter_names()
        assert "console" in manager.adapter_names()
    assert "sms" not in manager.adapter_names()
    assert _plugins.get_plugins() is before
    with fresh_plugins(builtins=False, install=False) as empty:
        assert empty.adapter_names() == []
        assert _plugins.get_plugins() is before


def test_fresh_plugins_raises_on_a_faulty_plugin_and_still_cleans_up() -> None:
    """With strict (the default) a problem with a test's plugin raises, naming it."""
    before = _plugins.get_plugins()

    class Impostor:
        @cadence.hookimpl
        def cadence_register_adapters(self, register: Register) -> None:
            register("console", Sms)

    with pytest.raises(PluginError, match="'Impostor' registered adapter 'console'"):  # noqa: SIM117  # the with under test must be entered inside raises
        with fresh_plugins(Impostor()):
            pass
    assert _plugins.get_plugins() is before
    with fresh_plugins(Impostor(), strict=False) as lenient:
        assert lenient.problems("Impostor")


def test_recording_adapter_records_batches_and_fails_what_it_is_told() -> None:
    """It records each batch, returns a Failure per key in ``fail``, and raises ``raises``."""
    ada, bob = reminder("ada"), reminder("bob")
    adapter = RecordingAdapter(fail=[bob.key], permanent=True)
    (failure,) = adapter.deliver([ada, bob]) or []
    assert (failure.key, failure.permanent) == (bob.key, True)
    assert adapter.delivered == [ada.key]
    adapter.fail.clear()
    assert adapter.deliver([bob]) is None
    adapter.raises = cadence.DeliveryError("down")
    with pytest.raises(cadence.DeliveryError):
        adapter.deliver([ada])
    assert adapter.keys == [ada.key, bob.key, bob.key, ada.key]
    assert adapter.delivered == [ada.key, bob.key]
    adapter.close()
    assert adapter.closed


def test_recording_plugin_hands_every_route_the_same_adapter() -> None:
    """Routes naming the recording adapter all get the one adapter, their settings recorded."""
    adapter = RecordingAdapter()
    with fresh_plugins(recording_plugin(adapter)) as manager:
        built = manager.build_adapter(cadence.Route("recording", settings={"channel": "#crm"}))
    assert built is adapter
    assert adapter.settings == {"channel": "#crm"}


def test_roster_builder_plans_like_cadence() -> None:
    """The builder's roster plans as cadence.plan does; due() is what is due at that moment."""
    builder = (
        RosterBuilder()
        .contact("ada", every="every 2 weeks", touched=NOW - timedelta(days=20))
        .contact("bob", every="quarterly", touched=NOW - timedelta(days=3), tags=["client"])
        .birthday("bob", 12, 1, lead=timedelta(days=7))
    )
    agenda = builder.plan(NOW)
    assert agenda == cadence.plan(builder.build(), now=NOW)
    assert [r.contact.id for r in builder.due(NOW)] == ["ada"]
    assert {r.kind for r in agenda if r.contact.id == "bob"} == {"occasion"}


def test_make_reminder_gives_stable_keys_in_the_contacts_zone() -> None:
    """The same arguments give the same key; the date is the local date in the contact's zone."""
    late = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    first = make_reminder("kai", due=late, timezone="Asia/Tokyo", now=late + timedelta(hours=2))
    again = make_reminder("kai", due=late, timezone="Asia/Tokyo")
    assert first.key == again.key
    assert first.date.isoformat() == "2026-11-24"
    assert first.overdue == timedelta(hours=2)
    assert again.overdue == timedelta(0)


# -- lazy factories -----------------------------------------------------------


def test_reading_the_store_imports_no_adapter_library(tmp_path: Path) -> None:
    """The built-ins register lazy factories: `cadence due` never imports requests,
    icalendar, vobject or psycopg."""
    cadence.open_store(f"sqlite:///{tmp_path / 'c.db'}").close()  # `due` reads an existing store
    script = (
        "import sys\n"
        "from cadence.cli import main\n"
        "try:\n"
        f"    main(['--db', 'sqlite:///{tmp_path / 'c.db'}', 'due'])\n"
        "finally:\n"
        "    heavy = {'requests', 'icalendar', 'vobject', 'psycopg', 'smtplib'}\n"
        "    print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_a_lazy_factory_imports_its_target_when_called() -> None:
    """lazy() resolves "module:name" on first call; a missing module is a PluginError naming it."""
    joined = cadence.lazy("os.path:join")
    assert joined("a", "b") == "a/b"
    assert joined.resolve() is __import__("os").path.join
    with pytest.raises(PluginError, match="no_such_module_here"):
        cadence.lazy("no_such_module_here:Thing")()
    with pytest.raises(PluginError, match="not of the form"):
        cadence.lazy("just_a_module")
