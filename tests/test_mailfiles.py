"""The maildir and mbox touch sources, over real files on disk."""

from __future__ import annotations

import mailbox
import os
import shutil
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from cadence import ConfigError
from cadence._plugins import load_plugins
from cadence.core.errors import CadenceError
from cadence.core.touches import Message, TouchRules, message_ref, message_touches
from cadence.sources.batch import TouchChanges
from cadence.sources.mailfiles import MaildirSource, MboxSource, maildir, mbox

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ME = "me@example.com"
CONTACTS = {
    "ana@example.org": "ana",
    "bo@example.net": "bo",
    "cy@corp.example": "cy",
    "dee@example.org": "dee",
    "eve@example.org": "eve",
    "jose@example.es": "jose",
    "news@lists.example.net": "news",
    "offers@shop.example": "shop",
}
RULES = TouchRules("mail", CONTACTS, me=[ME])

# Each fixture, the folder it is delivered to, and when it was written there.
DELIVERED = {
    "thunderbird.eml": ("INBOX", datetime(2026, 11, 10, 8, 15, 40, tzinfo=UTC)),
    "apple-mail.eml": ("INBOX", datetime(2026, 11, 12, 2, 3, 0, tzinfo=UTC)),
    "outlook.eml": ("INBOX", datetime(2026, 11, 12, 8, 30, 9, tzinfo=UTC)),
    "newsletter.eml": ("INBOX", datetime(2026, 11, 13, 7, 0, 31, tzinfo=UTC)),
    "auto-reply.eml": ("INBOX", datetime(2026, 11, 14, 10, 0, 9, tzinfo=UTC)),
    "encoded-words.eml": ("INBOX", datetime(2026, 11, 15, 15, 45, 3, tzinfo=UTC)),
    "no-date.eml": ("INBOX", datetime(2026, 11, 16, 9, 0, 0, tzinfo=UTC)),
    "sent.eml": ("Sent", datetime(2026, 11, 16, 11, 20, 1, tzinfo=UTC)),
}


def _set_time(file: Path, moment: datetime) -> None:
    stamp = moment.timestamp()
    os.utime(file, (stamp, stamp))


def _deliver(folder: Path, name: str, data: bytes, at: datetime, *, seen: bool = True) -> Path:
    """Write a message as a mail client's sync does: into tmp, then renamed into cur or new."""
    for part in ("cur", "new", "tmp"):
        (folder / part).mkdir(parents=True, exist_ok=True)
    unique = f"{int(at.timestamp())}.M{abs(hash(name)) % 10**6}P4242.host,U=1"
    temporary = folder / "tmp" / unique
    temporary.write_bytes(data)
    _set_time(temporary, at)
    target = folder / "cur" / f"{unique}:2,S" if seen else folder / "new" / unique
    temporary.rename(target)
    return target


def _mbsync_tree(root: Path) -> Path:
    """The fixtures as mbsync keeps them: a Maildir a folder, INBOX and Sent side by side."""
    for name, (folder, at) in DELIVERED.items():
        _deliver(root / folder, name, (FIXTURES / name).read_bytes(), at)
    (root / "Archive" / "2024").mkdir(parents=True)  # a plain folder above Maildirs
    return root


def _touches(changes: TouchChanges) -> set[tuple[str, str, bool, str]]:
    found = set()
    for item in changes.items:
        assert isinstance(item, Message)
        for touch in message_touches(item, RULES, now=NOW):
            found.add((touch.contact, touch.direction, touch.personal, touch.at.isoformat()))
    return found


def test_the_first_sync_of_a_maildir_tree_reads_every_folder_by_the_rules(tmp_path: Path) -> None:
    """Each client's message gives the touches the rules make of it: bulk, auto-reply, sent mail."""
    source = maildir(path=str(_mbsync_tree(tmp_path)))
    changes = source.touch_changes({}, now=NOW)
    assert len(changes.items) == len(DELIVERED)
    assert not changes.complete
    assert _touches(changes) == {
        ("ana", "in", True, "2026-11-10T09:15:02+01:00"),
        ("bo", "in", True, "2026-11-11T18:02:44-08:00"),
        ("cy", "in", True, "2026-11-12T08:30:00+00:00"),
        ("news", "in", False, "2026-11-13T07:00:00+00:00"),
        ("jose", "in", True, "2026-11-15T16:45:00+01:00"),
        # No Date: the file's time stands in for it.
        ("eve", "in", True, "2026-11-16T09:00:00+00:00"),
        ("ana", "out", True, "2026-11-16T11:20:00+00:00"),
    }
    # The address mail in Sent comes from is yours, and the state keeps it.
    assert source.me == frozenset({ME})
    assert changes.state is not None
    assert changes.state["me"] == ME
    assert set(changes.state) == {"me", "folder:INBOX", "folder:Sent"}


def test_refs_are_the_message_ids_and_names_are_decoded(tmp_path: Path) -> None:
    """A message's ref is its Message-ID's; encoded-word subjects are read as words."""
    changes = maildir(path=str(_mbsync_tree(tmp_path))).touch_changes({}, now=NOW)
    by_ref = {item.ref: item for item in changes.items if isinstance(item, Message)}
    outlook = by_ref[
        message_ref(
            "<AM0PR01MB1234ABCD5678EF90A1B2C3D4E5F6A7B8@AM0PR01MB1234.eurprd01.prod.outlook.com>",
            "",
        )
    ]
    assert outlook.cc == ("bo@example.net",)
    spanish = by_ref[message_ref("<CAF9x2kQ_encoded@mail.example.es>", "")]
    assert spanish.subject == "Reunión del lunes"
    assert spanish.to == ("francois@example.fr", "taro@example.jp", ME)
    assert by_ref[message_ref("<autoreply-7f3e@example.org>", "")].automatic


def test_a_second_sync_returns_nothing_and_a_new_message_is_picked_up(tmp_path: Path) -> None:
    """Nothing is read twice; a message delivered afterwards, even in the same second, is read."""
    root = _mbsync_tree(tmp_path)
    source = maildir(path=str(root))
    first = source.touch_changes({}, now=NOW)
    assert first.state is not None
    second = source.touch_changes(first.state, now=NOW)
    assert second.items == ()
    assert second.state == first.state
    # Same second as the newest file: only the kept names tell it apart.
    newest = max(at for folder, at in DELIVERED.values() if folder == "INBOX")
    data = (FIXTURES / "thunderbird.eml").read_bytes().replace(b"5c0f2a91", b"77777777")
    _deliver(root / "INBOX", "again", data, newest, seen=False)
    third = source.touch_changes(second.state or {}, now=NOW)
    assert [item.ref for item in third.items] == [
        message_ref("<77777777-7d4e-4b1a-9e33-2f6d8c1b7a40@example.org>", "")
    ]
    # Read from new/ and then moved to cur/ with flags: the same file, not read again.
    moved = next((root / "INBOX" / "new").iterdir())
    moved.rename(root / "INBOX" / "cur" / f"{moved.name}:2,RS")
    assert source.touch_changes(third.state or {}, now=NOW).items == ()


def test_a_file_written_just_before_the_newest_is_still_read(tmp_path: Path) -> None:
    """A delivery renamed into place after a newer one was seen is not missed."""
    root = _mbsync_tree(tmp_path)
    source = maildir(path=str(root))
    first = source.touch_changes({}, now=NOW)
    newest = max(at for folder, at in DELIVERED.values() if folder == "INBOX")
    data = (FIXTURES / "outlook.eml").read_bytes().replace(b"AM0PR01MB1234ABCD", b"LATE")
    _deliver(root / "INBOX", "late", data, newest - timedelta(seconds=2))
    later = source.touch_changes(first.state or {}, now=NOW)
    assert len(later.items) == 1


def test_a_file_dated_in_the_future_does_not_hide_the_mail_after_it(tmp_path: Path) -> None:
    """The mark never passes the sync's own time, so mail written after it is still read."""
    folder = tmp_path / "Maildir"
    _deliver(folder, "ahead", (FIXTURES / "apple-mail.eml").read_bytes(), NOW + timedelta(days=9))
    source = maildir(path=str(folder))
    first = source.touch_changes({}, now=NOW)
    assert len(first.items) == 1
    _deliver(folder, "next", (FIXTURES / "thunderbird.eml").read_bytes(), NOW + timedelta(hours=1))
    later = source.touch_changes(first.state or {}, now=NOW + timedelta(hours=2))
    assert [item.sender for item in later.items if isinstance(item, Message)] == [
        ("ana@example.org",)
    ]


def test_the_first_sync_reads_only_mail_within_since(tmp_path: Path) -> None:
    """Older mail is left out of the first sync, whether its file or its Date says so."""
    folder = tmp_path / "Maildir"
    _deliver(folder, "recent", (FIXTURES / "thunderbird.eml").read_bytes(), NOW - timedelta(days=3))
    old = (FIXTURES / "outlook.eml").read_bytes().replace(b"Thu, 12 Nov 2026", b"Mon, 12 Jan 2026")
    # Fetched today, written long ago: its Date tells.
    _deliver(folder, "old", old, NOW - timedelta(hours=1))
    _deliver(folder, "older", (FIXTURES / "apple-mail.eml").read_bytes(), NOW - timedelta(days=90))
    changes = maildir(path=str(folder), since="30d").touch_changes({}, now=NOW)
    assert [item.sender for item in changes.items if isinstance(item, Message)] == [
        ("ana@example.org",)
    ]


def test_old_mail_fetched_today_keeps_its_date(tmp_path: Path) -> None:
    """A file written today for mail of last month is a touch of last month, not of today."""
    folder = tmp_path / "Maildir"
    _deliver(folder, "old", (FIXTURES / "thunderbird.eml").read_bytes(), NOW - timedelta(hours=1))
    changes = maildir(path=str(folder)).touch_changes({}, now=NOW + timedelta(days=20))
    assert _touches(changes) == {("ana", "in", True, "2026-11-10T09:15:02+01:00")}


def test_a_maildir_plus_plus_root_is_read_with_its_subfolders(tmp_path: Path) -> None:
    """Maildir++: the root is the inbox, ``.Sent`` and ``.Archive.2026`` are folders in it."""
    root = tmp_path / "Maildir"
    _deliver(root, "in", (FIXTURES / "apple-mail.eml").read_bytes(), NOW - timedelta(days=8))
    _deliver(root / ".Sent", "out", (FIXTURES / "sent.eml").read_bytes(), NOW - timedelta(days=4))
    _deliver(
        root / ".Archive.2026",
        "archived",
        (FIXTURES / "outlook.eml").read_bytes(),
        NOW - timedelta(days=8),
    )
    (root / "dovecot-uidlist").write_text("3 V1 N4\n")
    source = maildir(path=str(root))
    changes = source.touch_changes({}, now=NOW)
    assert {c for c, *_ in _touches(changes)} == {"ana", "bo", "cy"}
    assert set(changes.state or {}) == {"folder:.", "folder:.Sent", "folder:.Archive.2026", "me"}
    assert source.me == frozenset({ME})


def test_a_message_without_message_id_has_a_ref_by_its_file(tmp_path: Path) -> None:
    """Without a Message-ID, the ref names the folder and the file's unique name, not its flags."""
    folder = tmp_path / "Maildir"
    data = (
        (FIXTURES / "no-date.eml")
        .read_bytes()
        .replace(b"Message-ID: <nodate-0001@example.org>\n", b"")
    )
    path = _deliver(folder, "x", data, NOW - timedelta(days=1))
    changes = maildir(path=str(folder)).touch_changes({}, now=NOW)
    unique = path.name.partition(":")[0]
    assert [item.ref for item in changes.items] == [message_ref(None, f"maildir:./{unique}")]


@pytest.mark.parametrize(
    ("kind", "make"),
    [
        ("maildir", lambda p: None),
        ("maildir", lambda p: p.write_text("not a folder")),
        ("maildir", lambda p: (p / "cur").mkdir(parents=True)),
        ("mbox", lambda p: None),
        ("mbox", lambda p: p.write_text("Subject: not an mbox\n\nhello\n")),
        ("mbox", lambda p: p.mkdir()),
    ],
)
def test_a_path_that_is_not_mail_is_one_line_naming_it(
    tmp_path: Path, kind: str, make: object
) -> None:
    """A missing path, or one that holds no Maildir or mbox, is a one-line error naming it."""
    path = tmp_path / "mail"
    make(path)  # type: ignore[operator]
    source = maildir(path=str(path)) if kind == "maildir" else mbox(path=str(path))
    with pytest.raises(CadenceError) as raised:
        source.touch_changes({}, now=NOW)
    message = str(raised.value)
    assert str(path) in message
    assert message.startswith(f"{kind}: ")
    assert "\n" not in message


def test_bad_settings_are_config_errors() -> None:
    """A since that is no duration, or an empty path, is refused when the source is built."""
    with pytest.raises(ConfigError, match="since"):
        maildir(path="Maildir", since="a year")
    with pytest.raises(ConfigError, match="path"):
        mbox(path="")


# -- mbox ----------------------------------------------------------------------------


def test_a_takeout_mbox_is_read_by_its_from_lines_and_labels(tmp_path: Path) -> None:
    """Messages split at "From " lines with a date only; Sent labels say which address is yours."""
    path = tmp_path / "All mail Including Spam and Trash.mbox"
    shutil.copy(FIXTURES / "takeout.mbox", path)
    source = mbox(path=str(path))
    changes = source.touch_changes({}, now=NOW)
    # The 2024 message is outside the first sync's window; "From the desk" splits nothing.
    assert _touches(changes) == {
        ("ana", "in", True, "2026-11-09T15:03:00+01:00"),
        ("ana", "out", True, "2026-11-10T10:00:00+01:00"),
        ("bo", "out", True, "2026-11-10T10:00:00+01:00"),
        ("shop", "in", False, "2026-11-11T07:29:58+00:00"),
    }
    assert source.me == frozenset({ME})
    first = changes.items[0]
    assert isinstance(first, Message)
    assert first.subject == "Photos from Saturday"


def test_an_mbox_is_read_incrementally_and_again_when_rewritten(tmp_path: Path) -> None:
    """Second sync: nothing; appended: only the new message; shrunk: all read again, same refs."""
    path = tmp_path / "Inbox"
    shutil.copy(FIXTURES / "thunderbird.mbox", path)
    source = mbox(path=str(path))
    first = source.touch_changes({}, now=NOW)
    assert len(first.items) == 2
    assert first.state is not None
    second = source.touch_changes(first.state, now=NOW)
    assert second.items == ()
    assert second.state == first.state

    appended = (FIXTURES / "thunderbird.eml").read_bytes().replace(b"5c0f2a91", b"88888888")
    with path.open("ab") as stream:
        stream.write(b"From - Wed Nov 18 10:00:00 2026\n" + appended + b"\n")
    third = source.touch_changes(second.state or {}, now=NOW)
    assert [item.ref for item in third.items] == [
        message_ref("<88888888-7d4e-4b1a-9e33-2f6d8c1b7a40@example.org>", "")
    ]

    # Compacted: the first message deleted, the file shorter.
    whole = path.read_bytes()
    path.write_bytes(whole[whole.index(b"From - Fri") :])
    fourth = source.touch_changes(third.state or {}, now=NOW)
    assert len(fourth.items) == 2
    assert {item.ref for item in fourth.items} <= {
        item.ref for item in (*first.items, *third.items)
    }


def test_an_mbox_rewritten_at_the_same_size_is_read_again(tmp_path: Path) -> None:
    """A file that starts otherwise was replaced, even when it is no shorter."""
    path = tmp_path / "Inbox"
    shutil.copy(FIXTURES / "thunderbird.mbox", path)
    source = mbox(path=str(path))
    first = source.touch_changes({}, now=NOW)
    data = path.read_bytes().replace(
        b"From - Tue Nov 10 08:15:40", b"From - Tue Nov 10 08:15:41", 1
    )
    path.write_bytes(data)
    assert len(source.touch_changes(first.state or {}, now=NOW).items) == 2


def test_a_generated_mbox_with_many_messages_and_crlf_lines(tmp_path: Path) -> None:
    """Python's own mbox writer, CRLF messages and a thousand of them: each read once, in order."""
    path = tmp_path / "big.mbox"
    box = mailbox.mbox(path)
    start = NOW - timedelta(days=100)
    for i in range(1000):
        moment = start + timedelta(hours=i)
        text = (
            f"From: Ana Lima <ana@example.org>\r\nTo: {ME}\r\n"
            f"Date: {format_datetime(moment)}\r\nMessage-ID: <gen-{i}@example.org>\r\n"
            f"Subject: number {i}\r\n\r\nFrom me to you, {i}:00 in 2026.\r\n"
        )
        box.add(mailbox.mboxMessage(text.encode()))
    box.close()
    changes = mbox(path=str(path)).touch_changes({}, now=NOW)
    assert [item.ref for item in changes.items] == [
        message_ref(f"<gen-{i}@example.org>", "") for i in range(1000)
    ]


def test_a_folder_of_mbox_files_is_read_file_by_file(tmp_path: Path) -> None:
    """A Thunderbird folder: every mbox file in it, not its index files."""
    shutil.copy(FIXTURES / "thunderbird.mbox", tmp_path / "Inbox")
    sent = b"From - Mon Nov 16 11:20:02 2026\n" + (FIXTURES / "sent.eml").read_bytes() + b"\n"
    (tmp_path / "Sent").write_bytes(sent)
    (tmp_path / "Inbox.msf").write_text('// <!-- <mdb:mork:z v="1.4"/> -->\n')
    source = mbox(path=str(tmp_path))
    changes = source.touch_changes({}, now=NOW)
    assert len(changes.items) == 3
    assert set(changes.state or {}) == {"file:Inbox", "file:Sent", "me"}
    # Thunderbird's Sent folder is yours.
    assert source.me == frozenset({ME})
    assert ("ana", "out", True, "2026-11-16T11:20:00+00:00") in _touches(changes)


def test_the_sources_are_registered(plugins: object) -> None:
    """``maildir`` and ``mbox`` are built-in sources that build these classes."""
    registered = load_plugins().registered("source")
    assert isinstance(registered["maildir"].thing.resolve()(path="/x"), MaildirSource)
    assert isinstance(registered["mbox"].thing.resolve()(path="/x"), MboxSource)
