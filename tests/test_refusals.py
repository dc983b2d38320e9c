"""The API refuses bad input with a CadenceError in words, never with Python's own error.

Durations, cadences, store calls and adapter settings that once escaped as
OverflowError, ValueError, TypeError or sqlite3.ProgrammingError, or that
showed Python's reprs or named the command line in an API error.
"""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cadence import (
    Birthday,
    CadenceError,
    ConfigError,
    Contact,
    Every,
    Roster,
    Rule,
    parse_cadence,
    parse_duration,
    plan,
)
from cadence._config import load_config, open_store
from cadence._plugins import Plugins
from cadence.sources.vcard import read_vcard

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


# -- durations ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "99999999 weeks",
        "9" * 400 + "d",
        "9" * 5000,
        "9" * 5000 + "s",
        "36526d",
        float("inf"),
        float("nan"),
        float("-inf"),
        1e300,
        pytest.param(10**5000, id="5001-digits"),
        -1,
        timedelta(days=-1),
        timedelta(days=36526),
        "²d",
    ],
)
def test_durations_out_of_range_are_refused_in_words(value: object) -> None:
    """Overflowing, infinite, negative and enormous durations raise CadenceError."""
    with pytest.raises(CadenceError) as caught:
        parse_duration(value)
    assert len(str(caught.value)) < 200
    assert "datetime." not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("36525d", timedelta(days=36525)),
        ("٣d", timedelta(days=3)),  # an Arabic-Indic three is a decimal digit
        (timedelta(days=36525), timedelta(days=36525)),
        (0, timedelta(0)),
        (1.5, timedelta(seconds=1.5)),
    ],
)
def test_durations_at_the_limits_are_read(value: object, expected: timedelta) -> None:
    """A hundred years exactly, digits of other scripts, zero and fractions are read."""
    assert parse_duration(value) == expected


@given(st.one_of(st.text(max_size=30), st.floats(), st.integers(), st.timedeltas()))
def test_parse_duration_raises_nothing_but_cadence_error(value: object) -> None:
    """Whatever it is given, parse_duration returns a duration or raises CadenceError."""
    with contextlib.suppress(CadenceError):
        parse_duration(value)


def test_durations_in_messages_are_words() -> None:
    """An error about a duration says "400 days", not datetime.timedelta(days=400)."""
    from cadence.core.durations import describe_duration

    assert describe_duration(timedelta(days=400)) == "400 days"
    assert describe_duration(timedelta(days=1, hours=2, seconds=1)) == "1 day 2 hours 1 second"
    assert describe_duration(timedelta(0)) == "0 seconds"
    with pytest.raises(CadenceError, match=r"not 400 days$"):
        Birthday("ana", 12, 1, lead=timedelta(days=400))
    with pytest.raises(CadenceError, match="minus 1 day"):
        plan(Roster(contacts=[]), now=NOW, horizon=timedelta(days=-1))


# -- cadences -----------------------------------------------------------------------


def test_every_after_the_end_of_the_calendar_is_a_cadence_error() -> None:
    """A due date past the year 9999 raises CadenceError, not OverflowError."""
    for cadence in (Every(weeks=1), Every(months=1), Every(months=1200)):
        with pytest.raises(CadenceError, match="past the year 9999"):
            cadence.after(date(9999, 12, 31))
    with pytest.raises(CadenceError, match="needs a date"):
        Every(weeks=1).after("2026-01-01")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text", ["every " + "9" * 5000 + " weeks", "9" * 5000 + " days", "every 99999999 days"]
)
def test_enormous_cadences_are_refused_in_words(text: str) -> None:
    """A count of thousands of digits is too long, not an int() error."""
    with pytest.raises(CadenceError, match="longer than a hundred years"):
        parse_cadence(text)


def test_enormous_every_is_refused_in_words() -> None:
    """Every() with an int past Python's limit on digits names it without converting it."""
    with pytest.raises(CadenceError, match="thousands of digits"):
        Every(days=10**5000)


@pytest.mark.parametrize(
    ("text", "cadence"),
    [("2 weeks", Every(weeks=2)), ("10 days", Every(days=10)), ("3 months", Every(months=3))],
)
def test_parse_cadence_reads_what_the_cli_reads(text: str, cadence: Every) -> None:
    """parse_cadence("2 weeks") is parse_cadence("every 2 weeks"), as on the command line."""
    assert parse_cadence(text) == cadence == parse_cadence(f"every {text}")


# -- planning and stores ------------------------------------------------------------


def test_plan_and_agenda_take_a_horizon_as_text(tmp_path: Path) -> None:
    """plan(horizon="7d") and store.agenda(within="7d") read it with parse_duration."""
    roster = Roster(contacts=[Contact("ana", "Ana")], rules=[Rule(Every(days=3))])
    assert plan(roster, now=NOW, horizon="7d") == plan(roster, now=NOW, horizon=timedelta(days=7))
    assert plan(roster, now=NOW, horizon="7d").horizon == timedelta(days=7)
    with pytest.raises(CadenceError, match="not a duration"):
        plan(roster, now=NOW, horizon="soon")
    with open_store(f"sqlite:///{tmp_path / 'c.db'}") as store:
        store.put_contact(Contact("ana", "Ana"))
        store.set_rule(Rule(Every(days=3)))
        assert list(store.agenda(now=NOW, within="7d")) == list(
            store.agenda(now=NOW, within=timedelta(days=7))
        )
        with pytest.raises(CadenceError):
            store.agenda(now=NOW, within=5j)  # type: ignore[arg-type]


def test_agenda_past_the_end_of_the_calendar_is_a_cadence_error(tmp_path: Path) -> None:
    """A moment whose horizon runs past the year 9999 raises CadenceError."""
    with open_store(f"sqlite:///{tmp_path / 'c.db'}") as store:
        store.put_contact(Contact("ana", "Ana"))
        with pytest.raises(CadenceError):
            store.agenda(now=datetime(9999, 12, 31, 23, tzinfo=UTC), within=timedelta(days=7))


def test_a_closed_store_raises_cadence_error(tmp_path: Path) -> None:
    """Using a store after close() says so in a CadenceError, not sqlite3.ProgrammingError."""
    store = open_store(f"sqlite:///{tmp_path / 'c.db'}")
    store.close()
    with pytest.raises(CadenceError, match="is closed"):
        store.count_contacts()
    with pytest.raises(CadenceError, match="is closed"):
        store.put_contact(Contact("ana", "Ana"))


@pytest.mark.parametrize("ident", [10**30, 2**63, 0, -1, pytest.param(10**5000, id="5001-digits")])
def test_removing_an_occasion_that_cannot_exist(tmp_path: Path, ident: int) -> None:
    """An id past SQLite's integers, or not positive, names no occasion: CadenceError."""
    with (
        open_store(f"sqlite:///{tmp_path / 'c.db'}") as store,
        pytest.raises(CadenceError, match="no occasion"),
    ):
        store.remove_occasion(ident)


def test_api_errors_do_not_name_the_command_line(tmp_path: Path) -> None:
    """A store's errors say what is wrong, not which cadence command to run."""
    with open_store(f"sqlite:///{tmp_path / 'c.db'}") as store:
        for call in (
            lambda: store.resolve_key("abcdef"),
            lambda: store.resolve_key("not-a-key"),
            lambda: store.planned("abcdef" * 5, now=NOW),
            lambda: store.snooze("abcdef" * 5, NOW),
        ):
            with pytest.raises(CadenceError) as caught:
                call()
            assert "'cadence" not in str(caught.value)


@pytest.mark.parametrize("url", ["postgresql://[x", "sqlite://x:y@[", "sqlite:///a\x00b"])
def test_malformed_store_urls_are_config_errors(url: str) -> None:
    """A URL that urlsplit or the file system refuses raises ConfigError."""
    with pytest.raises(ConfigError, match=r"not a store URL|bad PostgreSQL URL"):
        open_store(url)


# -- configuration ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "[dispatch]\nhorizon = inf\n",
        "[dispatch]\nhorizon = nan\n",
        "[dispatch]\nclaim_timeout = 1e300\n",
        "[dispatch]\nclaim_timeout = -inf\n",
        f"[dispatch]\nhorizon = {'9' * 5000}\n",
        '[[sources]]\nsource = "x"\nahead = inf\n',
        '[[sources]]\nsource = "x"\nahead = "99999999 weeks"\n',
    ],
)
def test_configuration_values_out_of_range(tmp_path: Path, text: str) -> None:
    """Infinite, undefined and enormous durations in cadence.toml raise ConfigError."""
    path = tmp_path / "cadence.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(path)


@pytest.mark.parametrize(
    ("adapter", "settings"),
    [
        ("console", {"colour": "red"}),
        ("jsonl", {"path": "x.jsonl", "colour": "red"}),
        ("ical", {"path": "x.ics", "colour": "red"}),
        ("smtp", {"host": "127.0.0.1", "from": "a@b.c", "to": "d@e.f", "colour": "red"}),
        ("webhook", {"url": "https://example.org/hook", "colour": "red"}),
    ],
)
def test_unknown_settings_of_every_built_in_adapter(
    plugins: Plugins, adapter: str, settings: dict[str, object]
) -> None:
    """Each built-in adapter names an unknown setting and the ones it knows."""
    from cadence import Route

    with pytest.raises(ConfigError) as caught:
        plugins.build_adapter(Route(adapter, settings=settings))
    message = str(caught.value)
    assert f"unknown {adapter} setting 'colour' (known: " in message
    assert "__init__" not in message
    assert "keyword argument" not in message


@pytest.mark.parametrize("adapter", ["jsonl", "ical", "webhook"])
def test_a_missing_required_setting_is_named(plugins: Plugins, adapter: str) -> None:
    """A required setting left out is named, not reported as a missing keyword argument."""
    from cadence import Route

    with pytest.raises(ConfigError) as caught:
        plugins.build_adapter(Route(adapter))
    assert "keyword" not in str(caught.value)
    assert "needs the setting" in str(caught.value) or "setting" in str(caught.value)


# -- vCard parameters ---------------------------------------------------------------


@pytest.mark.parametrize("pref", ["²", "¹", "٣", "9" * 5000, "-1", "x"])
def test_vcard_preferences_that_are_not_numbers(pref: str) -> None:
    """PREF values that are no ASCII number (superscripts, thousands of digits) count as unset."""
    text = (
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ada\r\nUID:ada\r\n"
        f"EMAIL;PREF={pref}:late@example.org\r\nEMAIL;PREF=1:first@example.org\r\n"
        f"BDAY;X-APPLE-OMIT-YEAR={pref}:1604-12-10\r\nEND:VCARD\r\n"
    )
    batch = read_vcard(text, source="a.vcf")
    assert batch.contacts[0].email == "first@example.org"


def test_no_test_left_files_behind() -> None:
    """This module writes only under tmp_path (a guard for the working directory)."""
    assert not any(name.endswith(".db") for name in os.listdir("."))
