"""``cadence sync`` and the sync inside ``cadence run``: the real command, a real SQLite file.

The source comes from a plugin that the command finds through its entry point,
as an installed one would be found: a module and its ``.dist-info`` folder on
the subprocess's ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from _cli import refused as _refused

pytestmark = pytest.mark.integration

NOW = "2026-11-23T12:00:00+00:00"
PLUGIN = "cadence-test-events"

#: A source plugin: the events in a JSON file ({"title": "YYYY-MM-DD"}), for every contact
#: with ``tag``; the title "fail" makes it raise.
PLUGIN_MODULE = """
import json
from datetime import date
from pathlib import Path

import cadence


class Events:
    def __init__(self, *, path, tag, lead="0d"):
        self.path = Path(path)
        self.tag = tag
        self.lead = cadence.parse_duration(lead)

    def occasions(self, start, end):
        found = json.loads(self.path.read_text(encoding="utf-8"))
        if "fail" in found:
            raise RuntimeError("the events server is down")
        return [
            cadence.Occasion(title, on=date.fromisoformat(day), tag=self.tag, lead=self.lead)
            for title, day in found.items()
        ]


@cadence.hookimpl
def cadence_register_sources(register):
    register("events", Events)
"""


class Cli:
    """Runs ``python -m cadence`` with a store, a cadence.toml and the events plugin of its own."""

    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "cadence.db"
        self.config = tmp_path / "cadence.toml"
        self.events = tmp_path / "events.json"
        site = tmp_path / "site"
        info = site / "cadence_test_events-0.1.dist-info"
        info.mkdir(parents=True)
        (site / "cadence_test_events.py").write_text(PLUGIN_MODULE, encoding="utf-8")
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {PLUGIN}\nVersion: 0.1\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(
            "[cadence]\ntest-events = cadence_test_events\n", encoding="utf-8"
        )
        # Only cadence's own plugins and this one, whatever else the machine has installed.
        others = sorted(
            ep.name
            for ep in entry_points(group="cadence")
            if ep.dist is not None and ep.dist.metadata["Name"].lower() != "cadence"
        )
        self.env = {
            **os.environ,
            "CADENCE_DB": f"sqlite:///{self.db}",
            "CADENCE_CONFIG": str(self.config),
            "CADENCE_DISABLE_PLUGINS": ",".join(others),
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(site), os.environ.get("PYTHONPATH", "")])
            ),
            "COLUMNS": "200",
        }

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "cadence", "--now", NOW, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    def set_events(self, events: dict[str, str]) -> None:
        self.events.write_text(json.dumps(events), encoding="utf-8")


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The CLI with Ana and Ben tagged "us", Chidi not, and a source of US events."""
    made = Cli(tmp_path)
    made.config.write_text(
        f"""
[[routes]]
adapter = "console"

[[sources]]
source = "events"
name = "us-days"
path = {json.dumps(str(made.events))}
tag = "us"
lead = "2d"
""",
        encoding="utf-8",
    )
    made.set_events({"Thanksgiving (US)": "2026-11-26"})
    made("contact", "add", "ana", "--name", "Ana", "--tag", "us", "--timezone", "America/Denver")
    made("contact", "add", "ben", "--name", "Ben", "--tag", "us")
    made("contact", "add", "chidi", "--name", "Chidi", "--timezone", "Africa/Lagos")
    return made


def test_sync_prints_a_line_per_source_and_twice_changes_nothing(cli: Cli) -> None:
    """sync adds the source's occasions once; the tagged contacts see them in `due`."""
    first = cli("sync")
    assert first.stdout.splitlines() == ["source us-days: 1 added, 0 removed"]
    assert cli("sync").stdout.splitlines() == ["source us-days: 0 added, 0 removed"]
    due = json.loads(cli("due", "--json", "--within", "7d").stdout)
    occasions = [(r["contact"], r["title"], r["date"]) for r in due if r["kind"] == "occasion"]
    assert occasions == [
        ("ben", "Thanksgiving (US) for Ben on 26 November 2026", "2026-11-24"),
        ("ana", "Thanksgiving (US) for Ana on 26 November 2026", "2026-11-24"),
    ]
    cli.set_events({})
    assert cli("sync").stdout.splitlines() == ["source us-days: 0 added, 1 removed"]


def test_run_syncs_before_it_delivers(cli: Cli) -> None:
    """run brings in the source's occasions, then delivers what they made due, once."""
    cli.set_events({"Launch": "2026-11-23"})
    first = cli("run")
    assert "source us-days: 1 added, 0 removed" in first.stderr
    assert "Launch for Ana on 23 November 2026" in first.stdout
    assert "Launch for Ben on 23 November 2026" in first.stdout
    assert "Chidi" not in first.stdout
    second = cli("run")
    assert "source us-days" not in second.stderr
    assert "Launch" not in second.stdout


def test_a_failing_source_is_reported_and_run_still_delivers(cli: Cli) -> None:
    """A source that raises is named on stderr; run delivers all the same and exits 1."""
    cli("sync")
    cli.set_events({"fail": "2026-11-23"})
    done = cli("sync", ok=False)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: source 'us-days': 'events' raised RuntimeError: the events server is down"
    )
    ran = cli("run", ok=False)
    assert ran.returncode == 1
    assert "the events server is down" in ran.stderr
    assert "sent" in ran.stderr
    due = json.loads(cli("due", "--json", "--within", "7d").stdout)
    assert sum(1 for r in due if r["title"].startswith("Thanksgiving")) == 2


def test_sync_without_sources_says_so(cli: Cli) -> None:
    """With no [[sources]] in cadence.toml, sync says there is nothing to do."""
    cli.config.write_text('[[routes]]\nadapter = "console"\n', encoding="utf-8")
    assert cli("sync").stdout.strip() == "no sources configured"


def test_a_bad_sources_table_is_one_line(cli: Cli) -> None:
    """A [[sources]] table without a source, or with a bad ahead, is refused in one line."""
    cli.config.write_text('[[sources]]\nname = "x"\n', encoding="utf-8")
    _refused(cli("sync", ok=False), "cadence.toml", "source 1 has no 'source'")
    cli.config.write_text('[[sources]]\nsource = "events"\nahead = "soon"\n', encoding="utf-8")
    _refused(cli("run", ok=False), "cadence.toml", "not a duration")
    assert "no deliveries yet" in cli("status").stdout


def test_a_source_no_longer_configured_is_pointed_out_and_forgotten_on_request(cli: Cli) -> None:
    """sync names a source whose table is gone; --forget removes its occasions, and only its."""
    cli("sync")
    cli("occasion", "add", "--tag", "us", "--on", "2026-12-01", "--title", "Mine")
    cli.config.write_text('[[routes]]\nadapter = "console"\n', encoding="utf-8")
    left = cli("sync")
    assert left.stdout.strip() == "no sources configured"
    assert left.stderr.strip() == (
        "source 'us-days' is not configured but keeps 1 occasion; "
        "'cadence sync --forget us-days' forgets the source"
    )
    forgotten = cli("sync", "--forget", "us-days")
    assert forgotten.stdout.strip() == "source us-days: forgotten, 1 removed"
    assert forgotten.stderr == ""
    listed = cli("occasion", "list").stdout
    assert "Mine" in listed
    assert "Thanksgiving" not in listed


def test_a_configured_source_cannot_be_forgotten(cli: Cli) -> None:
    """--forget refuses a source that cadence.toml still configures, and changes nothing."""
    cli("sync")
    _refused(cli("sync", "--forget", "us-days", ok=False), "'us-days' is configured")
    assert "Thanksgiving" in cli("occasion", "list").stdout


def test_occasion_list_shows_each_occasion_s_source(cli: Cli) -> None:
    """occasion list names the source of each synced occasion; --source keeps one source's."""
    cli("sync")
    cli("occasion", "add", "--tag", "us", "--on", "2026-12-01", "--title", "Mine")
    rows = [line.split() for line in cli("occasion", "list").stdout.splitlines()[1:]]
    synced = [row for row in rows if "Thanksgiving" in row]
    assert synced
    assert all(row[-1] == "us-days" for row in synced)
    (mine,) = [row for row in rows if "Mine" in row]
    assert mine[-1] != "us-days"
    only = cli("occasion", "list", "--source", "us-days").stdout
    assert "Thanksgiving" in only
    assert "Mine" not in only
