"""No input reaches the user as a traceback: fuzzed arguments and configuration files.

Most examples run the CLI in this process through ``cadence.cli.main``, the
function ``python -m cadence`` calls, with its own standard streams: the
same code with the same error handling, without a new interpreter per
example. A few cases that only a real process shows (a port in use) run
in a subprocess.

Each run must exit 0, or exit 1 or 2 with a single ``error:`` line on
stderr, no traceback, no "internal error" (the last-resort guard's line,
which names a bug); and a run that fails must leave the store's data as it
was.
"""

from __future__ import annotations

import io
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from _cli import refused
from cadence import new_token
from cadence.cli import main

NOW = "2026-11-23T12:00:00+00:00"
# The tables of what a user gave; the others are plans and ledgers, caches
# that a read may bring up to date.
DATA_TABLES = ("contacts", "contact_tags", "rules", "occasions", "touchpoints", "snoozes")

fuzz = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class Ran:
    """What one in-process run gave: its exit status and its two streams."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.returncode = code
        self.stdout = out
        self.stderr = err


@contextmanager
def environment(**values: str) -> Iterator[None]:
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run(args: Sequence[str], *, db: Path, config: str = "") -> Ran:
    """``cadence ARGS`` in this process, as ``python -m cadence`` runs it."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # `feed` writes bytes to stdout
    err = io.StringIO()
    code = 0
    here = os.getcwd()
    with (
        environment(CADENCE_DB=f"sqlite:///{db}", CADENCE_CONFIG=config, COLUMNS="200"),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        # A store named by a bare path lands in the working directory: keep it in the test's.
        os.chdir(db.parent)
        try:
            main(list(args))
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        finally:
            os.chdir(here)
    out.flush()
    raw = out.buffer
    assert isinstance(raw, io.BytesIO)
    return Ran(code, raw.getvalue().decode("utf-8", "replace"), err.getvalue())


def data(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(db) as conn:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}"), key=repr) for t in DATA_TABLES}


def check(done: Ran, db: Path, before: dict[str, list[tuple[object, ...]]]) -> None:
    """Exit 0, or a one-line refusal that changed nothing."""
    assert "Traceback" not in done.stderr, done.stderr
    assert "internal error" not in done.stderr, done.stderr
    if done.returncode == 0:
        return
    assert done.returncode in (1, 2), (done.returncode, done.stderr)
    refused(done)  # type: ignore[arg-type]
    assert data(db) == before


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with a contact, a tag rule, a birthday and a touch, made once."""
    db = tmp_path_factory.mktemp("fuzz") / "cadence.db"
    for args in (
        ["contact", "add", "ana", "--name", "Ana", "--tag", "vip", "--timezone", "Europe/Madrid"],
        ["contact", "add", "ben", "--name", "Ben"],
        ["rule", "set", "2 weeks", "--tag", "vip"],
        ["occasion", "add", "--contact", "ana", "--birthday", "1986-12-01", "--lead", "7d"],
        ["log", "ana", "--via", "phone", "--at", "2026-11-01T10:00"],
    ):
        done = run(["--now", NOW, *args], db=db)
        assert done.returncode == 0, done.stderr
    return db


# Values of the kinds that once escaped as Python errors, and anything else.
numbers = st.one_of(
    st.integers().map(str),
    st.integers(min_value=10**20, max_value=10**30).map(str),
    st.just("9" * 5000),
    st.just("9" * 400),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["inf", "nan", "-0", "1e300", "²", "٣", "0x10", "1_000", ""]),
)
units = st.sampled_from(["", "s", "m", "h", "d", "w", " weeks", " days", "y", " months"])
durations = st.one_of(
    st.builds(lambda n, u: n + u, numbers, units),
    st.text(max_size=30),
)
moments = st.one_of(
    st.sampled_from(
        [
            "9999-12-31T23:00Z",
            "0001-01-01T00:00+14:00",
            "9999-12-31T23:59:59-12:00",
            "1899-12-31T23:59Z",
            "9000-01-01T00:00Z",
            "2026-02-30T10:00Z",
            "2026-11-23",
            "2026-11-23T25:00Z",
        ]
    ),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.text(max_size=30),
)
dates = st.one_of(
    st.sampled_from(["02-30", "--0229", "13-01", "9999-12-31", "0001-01-01", "²-01"]),
    st.dates().map(str),
    st.text(max_size=20),
)
cadences = st.one_of(
    st.builds(lambda n, u: f"{n}{u}", numbers, st.sampled_from([" weeks", " days", " months"])),
    st.builds(lambda n: f"every {n} weeks", numbers),
    st.sampled_from(["every monday at 25:00", "every weekday at 9:60", "RRULE:FREQ=DAILY"]),
    st.text(max_size=30),
)
anything = st.text(max_size=40)
# Store URLs that are malformed or name a file in the working directory; never
# another folder of this machine, nor a host to connect to.
local = st.text(max_size=20).filter(lambda t: not any(c in t for c in ("/", "\\", "..", "%")))
store_urls = st.one_of(
    local,
    st.builds(lambda s, t: s + t, st.sampled_from(["sqlite://", "nosuch://", "sqlite:"]), local),
    st.sampled_from(
        ["postgresql://[x", "sqlite://x:y@[", "postgresql://u:p@[::1", "\x00", "[::1]:"]
    ),
)


def _a_port(text: str) -> bool:
    try:
        return 0 <= int(text) <= 65535
    except ValueError:
        return False


commands = st.one_of(
    st.tuples(st.just("due"), st.just("--within"), durations),
    st.tuples(st.just("feed"), st.just("--within"), durations),
    st.tuples(st.just("--now"), moments, st.just("due")),
    st.tuples(st.just("--now"), moments, st.just("health")),
    st.tuples(st.just("occasion"), st.just("remove"), numbers),
    st.builds(
        lambda d, lead: ("occasion", "add", "--contact", "ana", "--birthday", d, "--lead", lead),
        dates,
        durations,
    ),
    st.builds(
        lambda d, lead: ("occasion", "add", "--yearly", d, "--title", "t", "--lead", lead),
        dates,
        durations,
    ),
    st.builds(lambda c: ("rule", "set", c, "--contact", "ben"), cadences),
    st.builds(
        lambda i, n, z, s, e: (
            "contact",
            "add",
            i,
            "--name",
            n,
            "--timezone",
            z,
            "--since",
            s,
            "--every",
            e,
        ),
        anything,
        anything,
        st.one_of(st.sampled_from(["UTC", "Europe/Madrid", "../etc", ""]), anything),
        dates,
        cadences,
    ),
    st.builds(lambda at: ("log", "ben", "--at", at), moments),
    st.builds(lambda k, u: ("snooze", k, "--until", u), anything, moments),
    st.builds(lambda k: ("done", k), anything),
    st.builds(lambda n: ("health", "--limit", n), numbers),
    # Only ports it must refuse: any other would serve until stopped.
    st.builds(lambda n: ("serve", "--port", n), numbers.filter(lambda n: not _a_port(n))),
    st.builds(lambda t: ("run", "--dry-run", "--claim-timeout", t), durations),
    st.builds(lambda u: ("--db", u, "due"), store_urls),
    st.lists(anything, max_size=4).map(tuple),
)


@fuzz
@given(command=commands)
@example(command=("due", "--within", "99999999 weeks"))
@example(command=("due", "--within", "9" * 400 + "d"))
@example(command=("due", "--within", "9" * 5000))
@example(command=("--now", "9999-12-31T23:00Z", "due"))
@example(command=("occasion", "remove", "99999999999999999999999"))
@example(command=("serve", "--port", "99999"))
@example(command=("--db", "postgresql://[x", "due"))
@example(command=("--db", "sqlite://x:y@[", "due"))
@example(command=("contact", "add", "x", "--name", "X", "--every", "9" * 5000 + " weeks"))
@example(command=("occasion", "add", "--contact", "ana", "--birthday", "12-01", "--lead", "400d"))
def test_arguments_never_give_a_traceback(seeded: Path, command: tuple[str, ...]) -> None:
    """Any command line exits 0 or refuses in one line, changing nothing."""
    before = data(seeded)
    check(run(["--now", NOW, *command], db=seeded), seeded, before)


# -- the configuration file ----------------------------------------------------------

toml_values = st.one_of(
    st.sampled_from(["inf", "nan", "-inf", "+inf", "1e300", "-1", "0", "true", "[]", "{}"]),
    st.integers().map(str),
    st.just("9" * 5000),
    st.floats().map(lambda f: repr(f) if f == f and abs(f) != float("inf") else "nan"),
    durations.map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
)
setting_names = st.sampled_from(["stream", "colour", "path", "timeout", "url", "title", "tags"])


@fuzz
@given(
    horizon=toml_values,
    claim=toml_values,
    ahead=toml_values,
    adapter=st.sampled_from(
        ['"console"', '"jsonl"', '"ical"', '"smtp"', '"webhook"', '"nope"', "5"]
    ),
    setting=setting_names,
    value=toml_values,
    which=st.sampled_from(["dispatch", "source", "route"]),
)
@example(
    horizon="inf",
    claim="1",
    ahead='"1d"',
    adapter='"console"',
    setting="stream",
    value='"stdout"',
    which="dispatch",
)
@example(
    horizon='"1d"',
    claim="nan",
    ahead='"1d"',
    adapter='"console"',
    setting="stream",
    value='"stdout"',
    which="dispatch",
)
@example(
    horizon='"1d"',
    claim="1",
    ahead="1e300",
    adapter='"console"',
    setting="stream",
    value='"stdout"',
    which="source",
)
@example(
    horizon='"1d"',
    claim="1",
    ahead='"1d"',
    adapter='"console"',
    setting="colour",
    value='"red"',
    which="route",
)
def test_configuration_values_never_give_a_traceback(
    seeded: Path,
    tmp_path_factory: pytest.TempPathFactory,
    horizon: str,
    claim: str,
    ahead: str,
    adapter: str,
    setting: str,
    value: str,
    which: str,
) -> None:
    """Any value in cadence.toml: `run` exits 0 or refuses in one line, changing nothing."""
    if which == "dispatch":
        text = f"[dispatch]\nhorizon = {horizon}\nclaim_timeout = {claim}\n"
    elif which == "source":
        text = f'[[sources]]\nsource = "nope"\nahead = {ahead}\n'
    else:
        text = f"[[routes]]\nadapter = {adapter}\n{setting} = {value}\n"
    path = tmp_path_factory.mktemp("config") / "cadence.toml"
    path.write_text(text, encoding="utf-8")
    before = data(seeded)
    check(run(["--now", NOW, "run", "--dry-run"], db=seeded, config=str(path)), seeded, before)


# -- what only a real process shows --------------------------------------------------


def cadence(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CADENCE_DB": f"sqlite:///{db}", "CADENCE_CONFIG": ""}
    return subprocess.run(
        [sys.executable, "-m", "cadence", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.integration
def test_serve_on_a_port_in_use_or_an_address_not_ours(tmp_path: Path) -> None:
    """`serve` refuses in one line a port another program holds and an address of no interface."""
    db = tmp_path / "cadence.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused(cadence("serve", "--port", str(port), db=db), "cannot listen", str(port))
    # 192.0.2.1 is TEST-NET-1 (RFC 5737): no interface of this machine has it.
    refused(
        cadence("serve", "--host", "192.0.2.1", "--port", "0", "--token", new_token(), db=db),
        "cannot listen",
    )


@pytest.mark.integration
@pytest.mark.parametrize(
    "args",
    [
        ["due", "--within", "99999999 weeks"],
        ["--now", "9999-12-31T23:00Z", "due"],
        ["occasion", "remove", "99999999999999999999999"],
        ["serve", "--port", "99999"],
        ["--db", "postgresql://[x", "due"],
    ],
)
def test_refusals_in_a_real_process(tmp_path: Path, args: list[str]) -> None:
    """The same refusals through ``python -m cadence``, as a user's shell runs it."""
    refused(cadence(*args, db=tmp_path / "cadence.db"))


def test_a_bug_is_named_as_one_not_hidden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error that is not the input's says "internal error", exits 70; CADENCE_DEBUG shows it."""
    import cadence.cli

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cadence.cli, "contact_health", broken)
    db = tmp_path / "cadence.db"
    assert run(["contact", "add", "a", "--name", "A"], db=db).returncode == 0
    done = run(["contact", "show", "a"], db=db)
    assert done.returncode == 70
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: internal error: ZeroDivisionError: a bug; this is a bug")
    monkeypatch.setenv("CADENCE_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["--db", f"sqlite:///{db}", "contact", "show", "a"])
