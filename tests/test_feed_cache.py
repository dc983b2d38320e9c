"""A feed served from a store is kept until what it shows changes, and answers polls from memory."""

from __future__ import annotations

import http.client
import io
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from cadence import (
    Birthday,
    Contact,
    Every,
    ImportBatch,
    Recurring,
    Rule,
    Touchpoint,
    open_store,
)
from cadence.adapters.ical.render import tagged_feed
from cadence.sources.batch import Origin
from cadence.web import feed as feed_module
from cadence.web.feed import FeedApp, _none_match, make_feed_server

TOKEN = "s3cr3t-Token_0123456789.abc~"
NAME = "Clients"
WITHIN = timedelta(days=30)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class Clock:
    """A clock that says what it is told."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


class Served:
    """A FeedApp over a SQLite store, how often it read the agenda, and a way to ask it."""

    def __init__(self, url: str, clock: Clock) -> None:
        self.url = url
        self.clock = clock
        self.store = open_store(url)
        self.reads = 0

        def agenda() -> Any:
            self.reads += 1
            return self.store.agenda(now=clock(), within=WITHIN)

        self.app = FeedApp(agenda, token=TOKEN, name=NAME, clock=clock, store=self.store)

    def ask(self, *tags: str, **headers: str) -> tuple[str, dict[str, str], bytes]:
        """One GET through the WSGI interface: status, headers, body."""
        answers: list[tuple[str, dict[str, str]]] = []

        def start_response(
            status: str, got: list[tuple[str, str]], exc_info: object = None
        ) -> None:
            answers.append((status, dict(got)))

        query = "&".join([f"token={TOKEN}", *(f"tag={t}" for t in tags)])
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/feed.ics",
            "QUERY_STRING": query,
            "wsgi.errors": io.StringIO(),
            **{f"HTTP_{k.upper()}": v for k, v in headers.items()},
        }
        body = b"".join(self.app(environ, start_response))  # type: ignore[arg-type]
        return answers[-1][0], answers[-1][1], body

    def fresh(self, *tags: str) -> bytes:
        """The feed rendered now from a store of its own, as it should be served."""
        with open_store(self.url) as other:
            return tagged_feed(other.agenda(now=self.clock(), within=WITHIN), tags, name=NAME)


def _fill(store: Any) -> None:
    store.put_contacts(
        [
            Contact("ada", "Ada", timezone="Europe/Berlin", tags=["retainer"]),
            Contact("bob", "Bob", timezone="America/New_York", tags=["card-list"]),
            Contact("cy", "Cy", timezone="Pacific/Kiritimati"),
        ]
    )
    store.set_rule(Rule(Every(weeks=2)))
    store.set_rule(Rule(Recurring("FREQ=WEEKLY;BYDAY=MO", at=time(10, 0)), tag="retainer"))
    store.add_occasion(Birthday("bob", 12, 1, lead=timedelta(days=2)))
    store.log(Touchpoint("bob", NOW - timedelta(days=3)))
    store.log(Touchpoint("cy", NOW - timedelta(days=20)))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A feed of a small SQLite store, served at a clock the test moves."""
    url = f"sqlite:///{tmp_path / 'cadence.db'}"
    with open_store(url) as store:
        _fill(store)
    made = Served(url, Clock(NOW))
    try:
        yield made
    finally:
        made.store.close()


def test_an_unchanged_poll_gets_304_with_the_same_etag_and_reads_no_agenda(
    served: Served,
) -> None:
    """Once made, the feed answers polls from memory: 304 for its ETag, 200 with the same bytes."""
    status, first, body = served.ask()
    assert status == "200 OK"
    assert body == served.fresh()
    reads = served.reads
    for _ in range(5):
        status, again, _ = served.ask(If_None_Match=first["ETag"])
        assert status == "304 Not Modified"
        assert again["ETag"] == first["ETag"]
    status, again, repeated = served.ask()
    assert (status, again["ETag"], repeated) == ("200 OK", first["ETag"], body)
    assert served.reads == reads


def _key(store: Any, contact: str) -> str:
    agenda = store.agenda(now=NOW, within=WITHIN)
    return next(r.key for r in agenda if r.contact.id == contact)


WRITES: dict[str, Callable[[Any], object]] = {
    "rename a contact": lambda s: s.put_contact(Contact("ada", "Ada King", tags=["retainer"])),
    "set a rule": lambda s: s.set_rule(Rule(Every(days=3), contact="bob")),
    "remove a rule": lambda s: s.remove_rule(tag="retainer"),
    "add an occasion": lambda s: s.add_occasion(Birthday("cy", 11, 30)),
    "remove an occasion": lambda s: s.remove_occasion(1),
    "a source's occasions": lambda s: s.replace_source_occasions("hr", [Birthday("ada", 12, 3)]),
    "log a touch": lambda s: s.log(Touchpoint("cy", NOW - timedelta(hours=1))),
    "remove a touch": lambda s: s.remove_touch(1),
    "a source's touches": lambda s: s.merge_source_touches(
        "mail", [Touchpoint("cy", NOW - timedelta(days=1), source="mail", ref="m1")]
    ),
    "snooze": lambda s: s.snooze(_key(s, "cy"), NOW + timedelta(days=2)),
    "dismiss": lambda s: s.dismiss(_key(s, "cy"), at=NOW),
    "remove a contact": lambda s: s.remove_contact("cy"),
    "import": lambda s: s.merge_batch(
        ImportBatch(contacts=(Contact("dee", "Dee"),), origins={"dee": Origin(uid="u-dee")}),
        source="file:vcard",
        today=date(2026, 1, 1),
    ),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_each_kind_of_change_makes_the_feed_anew(served: Served, write: str) -> None:
    """A write of any kind that changes what the feed shows, from another connection, gets a 200.

    The new feed is the one rendered afresh, under a new ETag; polls after it get 304 again.
    """
    _, first, body = served.ask()
    with open_store(served.url) as other:
        WRITES[write](other)
    status, changed, new = served.ask(If_None_Match=first["ETag"])
    assert status == "200 OK"
    assert changed["ETag"] != first["ETag"]
    assert new != body
    assert new == served.fresh()
    assert served.ask(If_None_Match=changed["ETag"])[0] == "304 Not Modified"


def test_a_touch_logged_by_another_process_is_seen_at_the_next_poll(served: Served) -> None:
    """Another process writing the same SQLite file changes the feed the server keeps."""
    _, first, body = served.ask()
    script = (
        "import sys; from datetime import datetime; from cadence import Touchpoint, open_store\n"
        "with open_store(sys.argv[1]) as store:\n"
        "    store.log(Touchpoint('cy', datetime.fromisoformat(sys.argv[2])))\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, served.url, (NOW - timedelta(hours=2)).isoformat()],
        check=True,
        timeout=120,
    )
    status, changed, new = served.ask(If_None_Match=first["ETag"])
    assert status == "200 OK"
    assert changed["ETag"] != first["ETag"]
    assert b"SUMMARY:Check in with Cy" in body
    assert new == served.fresh()


def test_a_write_that_changes_nothing_shown_keeps_the_etag(served: Served) -> None:
    """A bulk touch changes no reminder: the feed is read again but its ETag stays, so 304."""
    _, first, _ = served.ask()
    reads = served.reads
    with open_store(served.url) as other:
        other.log(Touchpoint("cy", NOW - timedelta(hours=1), personal=False))
    status, again, _ = served.ask(If_None_Match=first["ETag"])
    assert status == "304 Not Modified"
    assert again["ETag"] == first["ETag"]
    assert served.reads == reads + 1


def test_two_tag_filters_are_kept_apart(served: Served) -> None:
    """Each tag filter has its own feed and ETag, kept side by side and answered from memory."""
    _, whole, whole_body = served.ask()
    _, tagged, tagged_body = served.ask("retainer")
    assert whole["ETag"] != tagged["ETag"]
    assert whole_body == served.fresh()
    assert tagged_body == served.fresh("retainer")
    reads = served.reads
    assert served.ask(If_None_Match=whole["ETag"])[0] == "304 Not Modified"
    assert served.ask("retainer", If_None_Match=tagged["ETag"])[0] == "304 Not Modified"
    assert served.ask("retainer", If_None_Match=whole["ETag"])[0] == "200 OK"
    assert served.ask("retainer")[2] == tagged_body
    assert served.reads == reads


def test_the_feed_follows_the_clock_and_is_made_only_when_it_changes(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through 40 days in uneven steps, every answer is the feed rendered afresh at that moment.

    Reminders fall due, overdue ones move to the next day at midnight in their
    contacts' zones, new ones come into the window: each shows at once, and
    between those moments polls are answered without reading the agenda.
    The hourly look that catches what nothing foresaw is put off, so that
    the moments foreseen alone must keep the feed right.
    """
    monkeypatch.setattr(feed_module, "RECHECK", timedelta(days=1000))
    served.store.log(Touchpoint("ada", NOW - timedelta(days=2)))
    steps = 0
    etags = set()
    moment = NOW
    while moment < NOW + timedelta(days=40):
        served.clock.moment = moment
        status, headers, body = served.ask()
        assert status == "200 OK"
        assert body == served.fresh(), moment
        etags.add(headers["ETag"])
        steps += 1
        moment += timedelta(hours=1, minutes=47)
    assert len(etags) > 20  # the feed did change, many times
    assert served.reads < steps * 2 / 3  # and was not read again at every poll


def test_many_tag_filters_are_kept_within_bounds(served: Served) -> None:
    """Past 64 tag filters the least recently asked for are forgotten; answers stay right."""
    for n in range(80):
        status, _, _ = served.ask(f"t{n}")
        assert status == "200 OK"
    assert len(served.app._kept) == 64
    assert served.ask("t79")[2] == served.fresh("t79")
    assert served.ask("retainer")[2] == served.fresh("retainer")


# -- If-None-Match, as RFC 9110 reads it ----------------------------------------------


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"abc"', True),
        ('W/"abc"', True),  # weak comparison: the W/ does not count
        ('"x", W/"abc"', True),
        ('"x" ,"abc"', True),
        (', ,"abc",', True),  # empty list elements are allowed
        ('"a,b", "abc"', True),  # a comma inside quotes is part of a tag
        ("*", True),
        (" * ", True),
        ('"x"', False),
        ('"ABC"', False),  # opaque: case counts
        ('"x", "a,b"', False),
        ("abc", None),  # not quoted
        ('w/"abc"', None),  # W/ is case-sensitive
        ('"abc', None),
        ('"x", *', None),  # * stands alone
        ('"ab"c"', None),
    ],
)
def test_if_none_match_is_read_as_rfc_9110_says(header: str, matches: bool | None) -> None:
    """Lists, weak and strong tags and * match by weak comparison; malformed values are None."""
    assert _none_match(header, '"abc"') is matches


def test_a_malformed_if_none_match_is_ignored(served: Served) -> None:
    """An If-None-Match that cannot be read counts as absent: If-Modified-Since decides."""
    _, first, _ = served.ask()
    since = first["Last-Modified"]
    status, _, _ = served.ask(If_None_Match="abc", If_Modified_Since=since)
    assert status == "304 Not Modified"
    status, _, _ = served.ask(If_None_Match='"other"', If_Modified_Since=since)
    assert status == "200 OK"  # a readable If-None-Match wins over If-Modified-Since


# -- over real HTTP, many at once ------------------------------------------------------


def _get(port: int, target: str, etag: str | None) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", target, headers={"If-None-Match": etag} if etag else {})
        response = connection.getresponse()
        return response.status, response.getheader("ETag") or "", response.read()
    finally:
        connection.close()


@pytest.mark.integration
def test_fifty_pollers_at_once_get_right_answers_while_the_store_changes(served: Served) -> None:
    """50 clients poll over HTTP while touches are logged: no error, and every answer is right.

    Each 200 carries a feed that was the store's at some moment, under an ETag
    that names only those bytes; once writes stop, every client ends up with
    the last feed, by a 200 or a 304 for the ETag it holds.
    """
    server = make_feed_server(served.app, "127.0.0.1", 0, token=TOKEN, log=io.StringIO())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    target = f"/feed.ics?token={TOKEN}"
    feeds = {served.fresh()}
    seen: dict[str, set[bytes]] = {}
    errors: list[BaseException] = []
    held: list[tuple[str, bytes]] = [("", b"")] * 50
    lock = threading.Lock()

    def poll(i: int, rounds: int) -> None:
        try:
            etag, body = held[i]
            for _ in range(rounds):
                status, got, new = _get(server.server_port, target, etag or None)
                if status == 200:
                    etag, body = got, new
                    with lock:
                        seen.setdefault(got, set()).add(new)
                else:
                    assert status == 304, status
                    assert got == etag
            held[i] = (etag, body)
        except BaseException as error:
            errors.append(error)

    try:
        workers = [threading.Thread(target=poll, args=(i, 6)) for i in range(50)]
        for worker in workers:
            worker.start()
        with open_store(served.url) as other:
            for hours in range(1, 5):
                other.log(Touchpoint("cy", NOW - timedelta(hours=hours * 30)))
                feeds.add(served.fresh())
        for worker in workers:
            worker.join()
        assert errors == []
        assert all(len(bodies) == 1 for bodies in seen.values())
        assert {b for bodies in seen.values() for b in bodies} <= feeds
        last = served.fresh()
        finals = [threading.Thread(target=poll, args=(i, 1)) for i in range(50)]
        for worker in finals:
            worker.start()
        for worker in finals:
            worker.join()
        assert errors == []
        assert {body for _, body in held} == {last}
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_kept_feeds_are_bounded_in_bytes(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_KEPT_BYTES the least recently asked-for feeds go, but the latest stays."""
    size = len(served.ask()[2])
    monkeypatch.setattr(feed_module, "MAX_KEPT_BYTES", size * 2)
    for tags in (("retainer",), ("card-list",), ("retainer", "card-list"), ("x",)):
        served.ask(*tags)
    assert sum(len(f.body) for f in served.app._kept.values()) <= size * 2
    assert ("x",) in served.app._kept
    monkeypatch.setattr(feed_module, "MAX_KEPT_BYTES", 1)
    served.ask()
    assert list(served.app._kept) == [()]
