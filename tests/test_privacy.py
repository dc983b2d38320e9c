"""Personal data stays private: file modes, stores that must exist, secrets, terminal output.

Each test runs the real ``cadence`` (or a real Python process) in a
subprocess with a umask of 022, against real SQLite files, or the real
PostgreSQL server when ``CADENCE_TEST_POSTGRES`` names one.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from _cli import refused
from _servers import in_ci

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.name == "nt", reason="POSIX file modes"),
]

NOW = "2026-11-23T12:00:00+00:00"


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python *args`` with umask 022, the umask most systems give their users."""
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        umask=0o022,
    )


def cadence(*args: str, env: dict[str, str], ok: bool = True) -> subprocess.CompletedProcess[str]:
    """The real ``cadence`` command, with umask 022."""
    done = run("-m", "cadence", "--now", NOW, *args, env=env)
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An environment whose user folders are under ``tmp_path``, with no store named."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CADENCE_", "XDG_"))}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "home" / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "home" / "config"),
        CADENCE_CONFIG="",
        COLUMNS="200",
    )
    return env


# -- files holding personal data are private --------------------------------------

HOLD_OPEN = textwrap.dedent(
    """
    import os, stat, sys
    import cadence
    from cadence import Contact, Touchpoint
    from datetime import datetime, UTC

    store = cadence.open_store(sys.argv[1])
    store.put_contact(Contact("ana", "Ana", email="ana@example.com"))
    store.log(Touchpoint("ana", datetime(2026, 1, 1, tzinfo=UTC), "email", note="private"))
    path = sys.argv[2]
    # While the store is open, after a write: the WAL and shared-memory files exist.
    for suffix in ("", "-wal", "-shm"):
        print(suffix or "db", oct(stat.S_IMODE(os.stat(path + suffix).st_mode)))
    store.close()
    """
)


def test_the_default_store_and_its_folder_are_private_whatever_the_umask(
    home: dict[str, str], tmp_path: Path
) -> None:
    """With umask 022 the default store's folders are 0700 and the file 0600."""
    before = mode(tmp_path)
    cadence("contact", "add", "ana", "--name", "Ana López", env=home)
    data = Path(home["XDG_DATA_HOME"])
    store = data / "cadence" / "cadence.db"
    assert store.is_file()
    assert mode(store) == 0o600
    assert mode(data / "cadence") == 0o700
    # Every folder cadence had to create is private; the ones that existed are not touched.
    assert mode(data) == mode(data.parent) == 0o700
    assert mode(tmp_path) == before


def test_wal_and_shared_memory_files_of_a_new_store_are_private(tmp_path: Path) -> None:
    """The -wal and -shm files SQLite makes beside a new store have its 0600 mode."""
    path = tmp_path / "new" / "cadence.db"
    done = run("-c", HOLD_OPEN, f"sqlite:///{path}", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["db", "0o600", "-wal", "0o600", "-shm", "0o600"]
    assert mode(path.parent) == 0o700


def test_an_existing_store_and_folder_keep_the_modes_their_owner_chose(tmp_path: Path) -> None:
    """A store file made 0640 by its owner stays 0640; an existing folder keeps its mode."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o750)
    path = folder / "cadence.db"
    path.touch()
    path.chmod(0o640)
    done = run("-c", HOLD_OPEN, f"sqlite:///{path}", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:2] == ["db", "0o640"]
    assert mode(path) == 0o640
    assert mode(folder) == 0o750
    # A new store in an existing folder is private; the folder keeps its mode.
    other = folder / "other.db"
    done = run("-c", HOLD_OPEN, f"sqlite:///{other}", str(other))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["db", "0o600", "-wal", "0o600", "-shm", "0o600"]
    assert mode(folder) == 0o750


def test_the_jsonl_output_is_private_and_an_existing_file_keeps_its_mode(
    home: dict[str, str], tmp_path: Path
) -> None:
    """cadence run's jsonl route creates its file 0600; a file that exists keeps its mode."""
    store = tmp_path / "cadence.db"
    out = tmp_path / "due.jsonl"
    kept = tmp_path / "kept.jsonl"
    kept.touch()
    kept.chmod(0o644)
    config = tmp_path / "cadence.toml"
    config.write_text(
        f'[[routes]]\nadapter = "jsonl"\nname = "new"\npath = "{out}"\n'
        f'[[routes]]\nadapter = "jsonl"\nname = "kept"\npath = "{kept}"\n'
    )
    env = {**home, "CADENCE_DB": f"sqlite:///{store}", "CADENCE_CONFIG": str(config)}
    cadence("contact", "add", "ana", "--name", "Ana López", "--every", "1 week", env=env)
    cadence("run", env=env)
    assert "Ana López" in out.read_text(encoding="utf-8")
    assert mode(out) == 0o600
    assert "Ana López" in kept.read_text(encoding="utf-8")
    assert mode(kept) == 0o644


def test_feed_files_are_private(home: dict[str, str], tmp_path: Path) -> None:
    """feed -o and the ical route write 0600 files with umask 022."""
    store = tmp_path / "cadence.db"
    published = tmp_path / "route.ics"
    config = tmp_path / "cadence.toml"
    config.write_text(f'[[routes]]\nadapter = "ical"\npath = "{published}"\n')
    env = {**home, "CADENCE_DB": f"sqlite:///{store}", "CADENCE_CONFIG": str(config)}
    cadence("contact", "add", "ana", "--name", "Ana López", "--every", "1 week", env=env)
    written = tmp_path / "feed.ics"
    cadence("feed", "-o", str(written), env=env)
    cadence("run", env=env)
    assert b"Ana L" in written.read_bytes()
    assert b"Ana L" in published.read_bytes()
    assert mode(written) == 0o600
    assert mode(published) == 0o600


# -- a store that does not exist is refused by commands that only read ------------

READING = [
    ("due",),
    ("due", "--json"),
    ("contact", "list"),
    ("contact", "show", "ana"),
    ("contact", "remove", "ana"),
    ("status",),
    ("health",),
    ("feed",),
    ("serve", "--port", "0"),
    ("occasion", "list"),
    ("occasion", "remove", "1"),
    ("rule", "list"),
    ("rule", "remove"),
    ("log", "ana"),
    ("snooze", "0123456789", "--until", "2030-01-01"),
    ("done", "0123456789"),
    ("run", "--dry-run"),
]


@pytest.mark.parametrize("args", READING, ids=" ".join)
def test_a_command_that_only_reads_refuses_a_store_that_does_not_exist(
    home: dict[str, str], tmp_path: Path, args: tuple[str, ...]
) -> None:
    """A mistyped --db is one error line naming the store, and nothing is created."""
    typo = tmp_path / "folder" / "cadnce.db"
    done = cadence("--db", f"sqlite:///{typo}", *args, env=home, ok=False)
    refused(done, str(typo))
    assert not typo.parent.exists()


def test_a_mistyped_cadence_db_is_refused_as_well(home: dict[str, str], tmp_path: Path) -> None:
    """CADENCE_DB naming a missing file, as a bare path, is refused the same way."""
    typo = tmp_path / "folder" / "cadnce.db"
    done = cadence("due", env={**home, "CADENCE_DB": str(typo)}, ok=False)
    refused(done, str(typo))
    assert not typo.parent.exists()
    assert not Path(home["XDG_DATA_HOME"]).exists()


def test_the_default_store_is_not_created_by_a_command_that_only_reads(
    home: dict[str, str],
) -> None:
    """Before anything is added, `cadence due` says the default store does not exist."""
    done = cadence("due", env=home, ok=False)
    refused(done, "cadence.db")
    assert not Path(home["XDG_DATA_HOME"]).exists()


def test_a_file_that_holds_no_cadence_store_is_refused_and_left_alone(
    home: dict[str, str], tmp_path: Path
) -> None:
    """An empty file is not a store to read: refused, and still empty afterwards."""
    empty = tmp_path / "empty.db"
    empty.touch()
    done = cadence("--db", str(empty), "contact", "list", env=home, ok=False)
    refused(done, str(empty))
    assert empty.read_bytes() == b""


def test_commands_that_write_create_the_store_and_readers_then_read_it(
    home: dict[str, str], tmp_path: Path
) -> None:
    """contact add creates a missing store; due then reads it; demo keeps working."""
    store = tmp_path / "new" / "cadence.db"
    env = {**home, "CADENCE_DB": f"sqlite:///{store}"}
    cadence("contact", "add", "ana", "--name", "Ana López", env=env)
    assert store.is_file()
    assert "nothing due" in cadence("due", env=env).stdout
    for args in (("rule", "set", "monthly"), ("import", str(_vcard(tmp_path))), ("run",)):
        fresh = tmp_path / f"{args[0]}.db"
        cadence("--db", str(fresh), *args, env=home)
        assert fresh.is_file()
    assert "A sample roster" in cadence("demo", env=home).stdout


def _vcard(folder: Path) -> Path:
    card = folder / "one.vcf"
    card.write_text("BEGIN:VCARD\nVERSION:3.0\nUID:bo\nFN:Bo\nEND:VCARD\n", encoding="utf-8")
    return card


def test_open_store_creates_only_when_asked(tmp_path: Path) -> None:
    """open_store(url, create=False) refuses a missing store and creates nothing."""
    from cadence import CadenceError, Contact, open_store

    missing = tmp_path / "no" / "such.db"
    for url in (f"sqlite:///{missing}", str(missing)):
        with pytest.raises(CadenceError, match=r"no cadence store at .*such\.db"):
            open_store(url, create=False)
        assert not missing.parent.exists()
    with open_store(f"sqlite:///{missing}") as store:  # creating is the default
        store.put_contact(Contact("ana", "Ana"))
    with open_store(f"sqlite:///{missing}", create=False) as store:
        assert [c.id for c in store.list_contacts()] == ["ana"]
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(CadenceError, match=r"no cadence store at .*empty\.db"):
        open_store(str(empty), create=False)
    assert empty.read_bytes() == b""
    # An in-memory store is new each time: there is nothing that could be mistyped.
    with open_store("sqlite://", create=False) as store:
        assert store.list_contacts() == []


def test_a_store_plugin_without_create_is_opened_with_the_url_alone(plugins: Any) -> None:
    """Factories that take no ``create`` keep working; those that do are told not to create."""
    import cadence

    calls: list[tuple[str, dict[str, Any]]] = []

    def old(url: str) -> str:
        calls.append((url, {}))
        return "old"

    def new(url: str, *, create: bool = True) -> str:
        calls.append((url, {"create": create}))
        return "new"

    class Plugin:
        @cadence.hookimpl
        def cadence_register_stores(self, register: Any) -> None:
            register("old", old)
            register("new", new)

    plugins.register(Plugin(), "stores")
    assert cadence.open_store("old://x", plugins=plugins, create=False) == "old"
    assert cadence.open_store("new://x", plugins=plugins, create=False) == "new"
    assert cadence.open_store("new://y", plugins=plugins) == "new"
    assert calls == [("old://x", {}), ("new://x", {"create": False}), ("new://y", {"create": True})]


POSTGRES = os.environ.get("CADENCE_TEST_POSTGRES")


@pytest.mark.skipif(
    not POSTGRES and not in_ci(), reason="set CADENCE_TEST_POSTGRES to a PostgreSQL URL"
)
def test_a_postgresql_schema_without_a_store_is_refused_when_reading(plugins: Any) -> None:
    """create=False refuses a schema with no cadence tables and creates no schema."""
    import uuid

    import psycopg

    from cadence import CadenceError, open_store

    assert POSTGRES is not None
    schema = f"privacy_{uuid.uuid4().hex[:12]}"
    url = f"{POSTGRES}{'&' if '?' in POSTGRES else '?'}schema={schema}"

    def exists() -> bool:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            row = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
            return row.fetchone() is not None

    with pytest.raises(CadenceError, match="no cadence store in"):
        open_store(url, plugins=plugins, create=False)
    assert not exists()
    try:
        open_store(url, plugins=plugins).close()
        assert exists()
        with open_store(url, plugins=plugins, create=False) as store:
            assert store.list_contacts() == []
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# -- terminal controls in data are shown, never obeyed ------------------------------

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ID = "ana\x9b31m\u202e"  # ids refuse ASCII controls, not C1 ones or overrides
NAME = "Ana\x1b[31mRED\x07\x7f\x9b2J\u202eevil\u2066\x1b]8;;http://evil.example\x1b\\[link=http://evil.example]click[/link][/bold]"
TAG = "vi\x85p\u202d"
NOTE = "called\x1b]0;pwned\x07 back\x1b[2J\x01"
TITLE = "Party\x9b5m\u2067\x8dx"  # titles refuse ASCII controls, not C1 ones


def controls(data: bytes) -> set[str]:
    """The terminal controls in ``data``, a UTF-8 text: all but the newline."""
    text = data.decode("utf-8")
    return {c for c in text if (c != "\n" and ord(c) < 0x20) or 0x7F <= ord(c) <= 0x9F or c in BIDI}


def inert(done: subprocess.CompletedProcess[bytes]) -> str:
    """Both streams of ``done`` hold no terminal control; its stdout as text."""
    assert controls(done.stdout) == set(), done.stdout
    assert controls(done.stderr) == set(), done.stderr
    return done.stdout.decode("utf-8")


def raw(*args: str, env: dict[str, str], ok: bool = True) -> subprocess.CompletedProcess[bytes]:
    """The real ``cadence``, its output as bytes; it must succeed unless ``ok`` is false."""
    done = subprocess.run(
        [sys.executable, "-m", "cadence", "--now", NOW, *args],
        env=env,
        cwd=env.get("PWD"),
        capture_output=True,
        timeout=120,
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def hostile(home: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """A store whose contact, tag, note, occasion and route name carry terminal controls."""
    config = tmp_path / "cadence.toml"
    config.write_text(
        '[[routes]]\nadapter = "console"\n'
        '[[routes]]\nadapter = "jsonl"\nname = "hook\\u001b[5m\\u202e"\n'
        'path = "no\\u001b[31mfolder/out\\u001b]0;x\\u0007.jsonl"\n',
        encoding="utf-8",
    )
    env = {
        **home,
        "CADENCE_DB": f"sqlite:///{tmp_path / 'cadence.db'}",
        "CADENCE_CONFIG": str(config),
        "PWD": str(tmp_path),  # where the jsonl route's relative path points
    }
    add = ["contact", "add", ID, "--name", NAME, "--tag", TAG, "--channel", "\x9bphone"]
    inert(raw(*add, "--every", "1 week", env=env))
    inert(raw("log", ID, "--note", NOTE, "--at", "2026-01-05T10:00Z", env=env))
    inert(raw("occasion", "add", "--tag", TAG, "--on", "2026-11-25", "--title", TITLE, env=env))
    inert(raw("rule", "set", "monthly", "--tag", TAG, env=env))
    return env


def test_no_output_of_the_cli_carries_a_terminal_control_from_the_data(
    hostile: dict[str, str],
) -> None:
    """Tables, show, due, health, status, run and errors print the data without its controls."""
    env = hostile
    listed = inert(raw("contact", "list", env=env))
    assert "Ana\ufffd[31mRED" in listed
    assert "[link=http://evil.example]click[/link][/bold]" in listed  # markup shows as written
    shown = inert(raw("contact", "show", ID, env=env))
    assert "called\ufffd]0;pwned" in shown
    assert "Party\ufffd5m\ufffd\ufffdx" in inert(raw("due", "--within", "7d", env=env))
    for args in (("health",), ("occasion", "list"), ("rule", "list"), ("run", "--dry-run")):
        inert(raw(*args, env=env))
    ran = raw("run", env=env, ok=False)  # the jsonl route cannot write its file
    assert "Ana\ufffd[31mRED" in inert(ran)  # the console route's line
    status = inert(raw("status", "--all", env=env))
    assert "hook\ufffd[5m\ufffd" in status
    assert "no\ufffd[31mfolder" in status
    # Errors: one line each, whatever the input held.
    for args in (
        ("contact", "show", "zz\x9b\u202e"),
        ("snooze", "x\x1b[2J", "--until", "2030-01-01"),
        ("nosuch\x1b[2Jcommand",),
        ("due", "--within", "3\x1b[31m days"),
    ):
        done = raw(*args, env=env, ok=False)
        inert(done)
        refused(
            subprocess.CompletedProcess(
                done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
            )
        )


def test_json_output_escapes_controls_and_reads_back_to_the_same_data(
    hostile: dict[str, str],
) -> None:
    """due --json writes every control as a \\u escape; the JSON still holds the exact name."""
    import json

    text = inert(raw("due", "--json", "--within", "7d", env=hostile))
    items = json.loads(text)
    assert {item["name"] for item in items} == {NAME}
    assert {item["contact"] for item in items} == {ID}
    assert any(item["title"].startswith(TITLE) for item in items)


def test_controls_are_neutralised_when_rich_colours_the_output(hostile: dict[str, str]) -> None:
    """With colours forced, only rich's own colour codes reach the terminal."""
    import re

    env = {**hostile, "FORCE_COLOR": "1", "TERM": "xterm-256color"}
    for args in (("contact", "show", ID), ("due", "--within", "7d"), ("health",), ("status",)):
        text = raw(*args, env=env).stdout.decode("utf-8")
        assert "\x1b[" in text or args[0] == "status"  # rich coloured something
        # What remains once rich's colour codes (SGR) are taken out holds no control.
        plain = re.sub("\x1b\\[[0-9;]*m", "", text)
        assert controls(plain.encode()) == set(), plain
        assert "\x1b]" not in text  # no OSC: no title, no hyperlink


# -- no part of a password ever shows ---------------------------------------------

SPECIALS = ["@", ":", "/", "#", "?", "%", "&", "=", "[", "]", " ", "+", "ä", "@:/#?", "%41"]


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _password(special: str) -> str:
    """A password whose every piece is recognisable: Zq, Wv and Kj never occur in messages."""
    return f"Zq{special}Wv{special}Kj"


def _leaks(text: str) -> list[str]:
    return [piece for piece in ("Zq", "Wv", "Kj") if piece in text]


def _urls(port: int) -> list[str]:
    from urllib.parse import quote

    urls = []
    for special in SPECIALS:
        password = _password(special)
        base = f"127.0.0.1:{port}/db?connect_timeout=2"
        urls += [
            f"postgresql://cadence:{password}@{base}",  # as typed, unencoded
            f"postgresql://cadence:{quote(password, safe='')}@{base}",  # percent-encoded
            f"postgresql://{base}&password={quote(password, safe='')}",
        ]
    return [
        *urls,
        f"postgresql://u:ZqWvKj@[::1:{port}/db",
        "postgresql://u:ZqWv Kj@127.0.0.1:abc/db",
        "postgresql://Zq:WvKj/db",
        f"postgresql://127.0.0.1:{port}/db?password=ZqWv&Kj",
        f"postgresql://127.0.0.1:{port}/db?password=Zq&WvKj=1",
        f"postgresql://u:Zq%zzWvKj@127.0.0.1:{port}/db",
        f"postgresql://u:Zq%ffWvKj@127.0.0.1:{port}/db",
        f"postgresql://u:Zq%00WvKj@127.0.0.1:{port}/db",
        f"postgresql://u:Zq@Wv@Kj@127.0.0.1:{port}/db?schema=Bad;Name",
        f"postgres://u:ZqWvKj@127.0.0.1:{port}/db?sslmode=nonsense",
        f"postgresql+psycopg://u:ZqWvKj@127.0.0.1:{port},[::1:{port}/db",
        f"mysql://u:ZqWvKj@127.0.0.1:{port}/db",
    ]


def test_no_part_of_a_password_shows_in_any_error_or_log(
    plugins: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Passwords with each special character, encoded or not, and malformed URLs: no leak."""
    import logging

    from cadence import CadenceError, open_store
    from cadence.stores import postgresql

    pytest.importorskip("psycopg")
    caplog.set_level(logging.DEBUG)
    for url in _urls(_closed_port()):
        with pytest.raises(CadenceError) as raised:
            open_store(url, plugins=plugins, create=False)
        message = str(raised.value)
        assert _leaks(message) == [], (url, message)
        assert "\n" not in message
        assert _leaks(postgresql._redacted(url)) == [], url
    assert _leaks(caplog.text) == []


CLI_LOOP = textwrap.dedent(
    """
    import contextlib, io, json, sys
    from cadence.cli import main

    results = []
    for url in json.loads(sys.argv[1]):
        for args in (["due"], ["contact", "add", "a", "--name", "A"], ["status"]):
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    main(["--db", url, *args])
                    code = 0
                except SystemExit as stop:
                    code = stop.code
            results.append([url, code, out.getvalue(), err.getvalue()])
    print(json.dumps(results))
    """
)


def test_the_cli_shows_no_part_of_a_password(home: dict[str, str]) -> None:
    """The real CLI, given such URLs for reading and writing commands, prints one clean line."""
    import json

    pytest.importorskip("psycopg")
    urls = _urls(_closed_port())
    done = run("-c", CLI_LOOP, json.dumps(urls), env=home)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert len(results) == 3 * len(urls)
    for url, code, out, err in results:
        assert code == 1, (url, out, err)
        assert err.startswith("error: "), (url, err)
        assert err.count("\n") == 1, (url, err)
        assert "Traceback" not in err
        assert _leaks(out + err) == [], (url, err)
    assert _leaks(done.stderr) == []


@pytest.mark.skipif(
    not POSTGRES and not in_ci(), reason="set CADENCE_TEST_POSTGRES to a PostgreSQL URL"
)
def test_a_percent_encoded_password_with_every_special_character_connects(plugins: Any) -> None:
    """Encoded as a URL needs, any password is read whole: the store opens (trust auth here)."""
    from urllib.parse import quote, urlsplit

    from cadence import open_store

    assert POSTGRES is not None
    parts = urlsplit(POSTGRES)
    password = _password("@:/#?%&=[] +ä")
    netloc = f"{parts.username or 'postgres'}:{quote(password, safe='')}@{parts.hostname}"
    netloc += f":{parts.port}" if parts.port else ""
    # A schema of its own: the database's default one is no test's to fill.
    schema = f"privacy_{uuid.uuid4().hex[:12]}"
    query = f"{parts.query}&schema={schema}" if parts.query else f"schema={schema}"
    url = parts._replace(netloc=netloc, query=query).geturl()
    try:
        with open_store(url, plugins=plugins) as store:
            assert _leaks(store.url) == []
            assert store.url.count("***") == 1
            store.list_contacts()
    finally:
        import psycopg

        with psycopg.connect(POSTGRES.split("?")[0], autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
