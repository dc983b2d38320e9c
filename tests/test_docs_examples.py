"""Every code example of the documentation (docs/*.md and README.md) runs as written.

For each page, in a fresh working directory and in the page's order:

- ```python blocks run in one namespace per page.
- ```console blocks: each ``$ cadence ...`` line runs in bash, where ``cadence``
  is ``python -m cadence --now 2026-11-23T09:00+01:00`` (a command giving its
  own ``--now`` overrides it), against the page's own SQLite store
  (``CADENCE_DB``) and a private home folder. Each must exit with 0, and the
  lines shown under a command must be among the lines it printed (spaces
  aside). ``$ export ...`` lines set variables for the page's later commands.
  ``cadence serve`` is started on a free port (``--port 0``), its feed fetched
  once over loopback, then stopped. Any other command needs a not-run marker.
- ```toml blocks parse; those with ``[[routes]]`` or ``[dispatch]`` load
  through cadence's configuration loader and name only settings their
  adapters take.
- ```json blocks parse, after ``--8<-- "path"`` includes are read.

``<!-- file: NAME -->`` just before a fence writes the block to NAME in the
working directory. A file block that sets ``port = 8025`` (the port the docs'
local SMTP server listens on) gets, instead, the port of an aiosmtpd server
this test starts on 127.0.0.1 for the page, which must then receive mail.
README.md imports the quickstart's ``contacts.vcf``.

``<!-- not run: REASON -->`` just before a fence keeps a block from running
(a Python block is still compiled, a TOML block still parsed); such blocks
must be few, and each must say why. docs/plugins.md and docs/hooks.md are left
to tests/test_docs_plugins.py and tests/test_hooks_documented.py.
"""

from __future__ import annotations

import inspect
import json
import os
import queue
import re
import shlex
import socket
import subprocess
import sys
import threading
import tomllib
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from cadence._config import load_config
from cadence._plugins import load_plugins
from cadence.adapters import smtp, webhook
from cadence.adapters.caldav import caldav_adapter
from cadence.adapters.console import ConsoleAdapter
from cadence.adapters.ical import IcalAdapter
from cadence.adapters.jsonl import JsonLinesAdapter

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
NOW = "2026-11-23T09:00+01:00"
# Covered by their own tests, which install and run the plugin the guide spells out.
ELSEWHERE = {"plugins.md", "hooks.md"}
PAGES = sorted(p.name for p in DOCS.glob("*.md") if p.name not in ELSEWHERE)
# Files one page's examples take from another page's file blocks.
BORROWED = {"README.md": [("quickstart.md", "contacts.vcf")]}
MOST_NOT_RUN = 8
DOCS_SMTP_PORT = "port = 8025"
# Pages whose examples end with an email received: they must keep doing so.
MAIL_PAGES = {"quickstart.md"}

_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_MARKER = re.compile(r"<!--\s*(.*?)\s*-->\s*$", re.DOTALL)
_INCLUDE = re.compile(r'^--8<-- "([^"]+)"$', re.MULTILINE)
_SERVING = re.compile(r"serving (http://\S+) ")


def _settings_of(factory: Any) -> frozenset[str]:
    return frozenset(
        name
        for name, p in inspect.signature(factory).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    )


KNOWN_SETTINGS = {
    "console": _settings_of(ConsoleAdapter),
    "jsonl": _settings_of(JsonLinesAdapter),
    "ical": _settings_of(IcalAdapter),
    "caldav": _settings_of(caldav_adapter),
    "smtp": smtp.SETTINGS,
    "webhook": webhook.SETTINGS,
}


@attrs.frozen
class Block:
    """One fenced block of a page: its language, text, line and the marker before it."""

    page: str
    language: str
    text: str
    line: int
    marker: str

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def not_run(self) -> str | None:
        """The reason given by a not-run marker, or None when the block runs."""
        if self.marker.startswith("not run"):
            return self.marker.removeprefix("not run").strip(" :")
        return None

    @property
    def file(self) -> str | None:
        """The file a ``<!-- file: NAME -->`` marker writes the block to."""
        if self.marker.startswith("file:"):
            return self.marker.removeprefix("file:").strip()
        return None


def _path(page: str) -> Path:
    return ROOT / page if page == "README.md" else DOCS / page


def blocks(page: str) -> list[Block]:
    """The fenced blocks of ``page``, in order."""
    text = _path(page).read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()].rstrip()
        marker = _MARKER.search(before.rsplit("\n", 1)[-1])
        found.append(
            Block(
                page,
                match.group(1),
                match.group(2),
                text.count("\n", 0, match.start()) + 2,
                marker.group(1) if marker else "",
            )
        )
    return found


# -- servers on loopback ------------------------------------------------------------


class Inbox:
    """An SMTP handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.messages.append(bytes(envelope.original_content or b""))
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """An aiosmtpd server on 127.0.0.1, on a free port; yields its inbox and port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


# -- running a page ------------------------------------------------------------------


class Page:
    """The working directory, environment and Python namespace a page's examples share."""

    def __init__(self, name: str, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.name = name
        self.work = work
        self.monkeypatch = monkeypatch
        self.namespace: dict[str, object] = {"__name__": "docs"}
        self.smtp_port: int | None = None
        home = work / "home"
        tools = work / ".bin"
        home.mkdir()
        tools.mkdir()
        for name, command in {
            "cadence": f'exec "{sys.executable}" -m cadence --now "{NOW}" "$@"',
            "python3": f'exec "{sys.executable}" "$@"',
            "python": f'exec "{sys.executable}" "$@"',
        }.items():
            tool = tools / name
            tool.write_text(f"#!/bin/sh\n{command}\n", encoding="utf-8")
            tool.chmod(0o755)
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("CADENCE_CONFIG", "CADENCE_FEED_TOKEN")
        }
        self.env.update(
            CADENCE_DB=f"sqlite:///{work / 'cadence.db'}",
            CADENCE_DISABLE_PLUGINS="*",
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_STATE_HOME=str(home / ".local" / "state"),
            PATH=f"{tools}{os.pathsep}{os.environ.get('PATH', '')}",
            COLUMNS="120",
        )
        self.env.pop("PYTHONPATH", None)

    def run(self, block: Block) -> None:
        """Run one block as its language says."""
        if block.file is not None:
            self.write(block)
        if block.language == "python":
            code = compile("\n" * (block.line - 1) + block.text, str(_path(block.page)), "exec")
            if block.not_run is None:
                self.python(code)
        elif block.language == "toml":
            check_toml(block, self.work)
        elif block.language == "json":
            json.loads(_INCLUDE.sub(lambda m: (ROOT / m.group(1)).read_text(), block.text))
        elif block.language == "console" and block.not_run is None:
            commands = list(_commands(block))
            assert commands, (
                f"{block.where}: a console block without `$ cadence ...`: "
                "mark it <!-- not run: REASON -->"
            )
            for command, shown in commands:
                self.console(block, command, shown)

    def write(self, block: Block) -> None:
        text = block.text
        if DOCS_SMTP_PORT in text:
            assert self.smtp_port is not None
            text = text.replace(DOCS_SMTP_PORT, f"port = {self.smtp_port}")
        target = self.work / str(block.file)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def python(self, code: Any) -> None:
        for key, value in self.env.items():
            if key.startswith(("CADENCE_", "XDG_")) or key == "HOME":
                self.monkeypatch.setenv(key, value)
        for key in ("CADENCE_CONFIG", "CADENCE_FEED_TOKEN"):
            if key not in self.env:
                self.monkeypatch.delenv(key, raising=False)
        self.monkeypatch.chdir(self.work)
        exec(code, self.namespace)  # noqa: S102  # the docs' own examples, run as they are shown

    def console(self, block: Block, command: str, shown: list[str]) -> None:
        if command.startswith("export "):
            self.export(block, command)
        elif command.startswith("cadence serve"):
            self.serve(block, command)
        elif command.startswith("cadence "):
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=self.work,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            printed = done.stdout + done.stderr
            assert done.returncode == 0, f"{block.where}: `{command}` failed:\n{printed}"
            lines = {" ".join(line.split()) for line in printed.splitlines()}
            for line in shown:
                assert " ".join(line.split()) in lines, (
                    f"{block.where}: `{command}` did not print {line!r}; it printed:\n{printed}"
                )
        else:
            pytest.fail(
                f"{block.where}: `{command}` is not a cadence command; "
                "mark the block <!-- not run: REASON -->"
            )

    def export(self, block: Block, command: str) -> None:
        done = subprocess.run(
            ["bash", "-c", f"{command}\nenv -0"],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"{block.where}: `{command}` failed: {done.stderr!r}"
        pairs = (item.split(b"=", 1) for item in done.stdout.split(b"\0") if b"=" in item)
        self.env = {k.decode(): v.decode() for k, v in pairs}

    def serve(self, block: Block, command: str) -> None:
        """Start the server on a free port, fetch the feed once, and stop it."""
        words = shlex.split(command, comments=True)
        with subprocess.Popen(
            [*words, "--port", "0"],
            cwd=self.work,
            env=self.env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        ) as server:
            lines: queue.Queue[str] = queue.Queue()
            reader = threading.Thread(target=lambda: [lines.put(x) for x in server.stderr or ()])
            reader.start()
            try:
                first = lines.get(timeout=30)
                found = _SERVING.search(first)
                assert found, f"{block.where}: `{command}` printed {first!r}"
                token = self.env.get("CADENCE_FEED_TOKEN", "")
                url = found.group(1).replace("YOUR-TOKEN", token)
                with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310  # loopback
                    assert answer.status == 200
                    assert answer.read().startswith(b"BEGIN:VCALENDAR")
            finally:
                server.terminate()
                server.wait(timeout=30)
                reader.join(timeout=30)


def _commands(block: Block) -> Iterator[tuple[str, list[str]]]:
    """Each ``$ `` command of a console block, with the output lines shown under it."""
    command: str | None = None
    shown: list[str] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            if command is not None:
                yield command, shown
            command, shown = line[2:].strip(), []
        elif command is not None and line.strip():
            shown.append(line)
    if command is not None:
        yield command, shown


def check_toml(block: Block, work: Path) -> None:
    """Parse a TOML block; a configuration loads, and its routes name only known settings."""
    data = tomllib.loads(block.text)
    if not ({"routes", "dispatch"} & set(data)):
        return
    path = work / "checked.toml"
    path.write_text(block.text, encoding="utf-8")
    config = load_config(path)
    adapters = set(load_plugins(entry_points=False).adapter_names())
    for route in config.routes:
        assert route.adapter in adapters, f"{block.where}: no adapter {route.adapter!r}"
        unknown = set(route.settings) - KNOWN_SETTINGS[route.adapter]
        assert not unknown, f"{block.where}: route {route.name!r} has unknown settings {unknown}"


@pytest.mark.integration
@pytest.mark.parametrize("page", [p for p in [*PAGES, "README.md"] if blocks(p)])
def test_the_examples_of_a_page_run(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each example of the page runs as written, in order, and those that send mail send it."""
    runner = Page(page, tmp_path, monkeypatch)
    found = blocks(page)
    for other, name in BORROWED.get(page, ()):
        (source,) = [b for b in blocks(other) if b.file == name]
        runner.write(source)
    sends_mail = any(b.file is not None and DOCS_SMTP_PORT in b.text for b in found)
    assert sends_mail or page not in MAIL_PAGES, f"{page}: no file block sets {DOCS_SMTP_PORT}"
    if not sends_mail:
        for block in found:
            runner.run(block)
        return
    with smtp_server() as (inbox, port):
        runner.smtp_port = port
        for block in found:
            runner.run(block)
    if page in MAIL_PAGES:
        # The quickstart promises one digest, however many runs it shows.
        assert len(inbox.messages) == 1, f"{page}: {len(inbox.messages)} emails"
    assert inbox.messages, f"{page}: its smtp route sent nothing"
    assert all(b"\nSubject: Keep in touch" in m for m in inbox.messages)


def test_examples_that_do_not_run_are_few_and_say_why() -> None:
    """Every block kept from running says why, and there are at most a handful of them."""
    kept = [b for page in [*PAGES, "README.md"] for b in blocks(page) if b.not_run is not None]
    assert all(b.not_run for b in kept), [b.where for b in kept if not b.not_run]
    assert len(kept) <= MOST_NOT_RUN, [f"{b.where}: {b.not_run}" for b in kept]


def test_every_page_is_in_the_site_navigation() -> None:
    """mkdocs.yml lists every page of docs/, and only pages that exist."""
    listed = re.findall(r"^\s*- [^:\n]+: (\S+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert sorted(listed) == sorted(p.name for p in DOCS.glob("*.md"))


def test_relative_links_reach_files_that_exist() -> None:
    """Each relative link of docs/*.md and README.md names a file of the repository."""
    for path in [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]:
        text = _FENCE.sub("", path.read_text(encoding="utf-8"))
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:|#", target):
                continue
            assert (path.parent / target.split("#")[0]).exists(), f"{path.name}: {target}"
