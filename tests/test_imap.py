"""The imap touch source, against a real Dovecot server on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme

from _dovecot import PASSWORD, USER, Dovecot, dovecot, start_dovecot, stop_dovecot
from cadence import SourceConfig
from cadence._plugins import load_plugins
from cadence.core.errors import CadenceError, ConfigError
from cadence.core.touches import Message, message_ref
from cadence.sources.batch import TouchChanges
from cadence.sources.imap import ImapSource, imap

__all__ = ["dovecot"]  # a fixture, used by name

integration = pytest.mark.integration

PASSWORD_ENV = "CADENCE_TEST_IMAP_PASSWORD"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _at(days_ago: float) -> datetime:
    return NOW - timedelta(days=days_ago)


def _date(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


REPLY = f"""\
Message-ID: <reply-1@client.example>
Date: {_date(_at(3))}
From: Kim Park <kim@client.example>
To: Ana <{USER}>
Subject: Re: the launch
In-Reply-To: <sent-1@example.org>

Sounds good, see you Thursday.
"""
SENT = f"""\
Message-ID: <sent-1@example.org>
Date: {_date(_at(4))}
From: Ana <{USER}>
To: Kim Park <kim@client.example>
Bcc: lee@studio.example
Subject: the launch

Shall we meet on Thursday?
"""
TWO = f"""\
Message-ID: <two-1@example.org>
Date: {_date(_at(5))}
From: {USER}
To: kim@client.example, "Lee, Jo" <lee@studio.example>
Cc: sam@partner.example
Subject: Quarterly review

Agenda attached.
"""
NEWSLETTER = f"""\
Message-ID: <news-77@lists.example>
Date: {_date(_at(6))}
From: Weekly <news@lists.example>
To: {USER}
List-Id: Weekly news <weekly.lists.example>
List-Unsubscribe: <mailto:leave@lists.example>
Subject: This week

News.
"""
AUTO_REPLY = f"""\
Message-ID: <away-1@client.example>
Date: {_date(_at(2))}
From: kim@client.example
To: {USER}
Auto-Submitted: auto-replied
Subject: Out of office

I am away until Monday.
"""
NO_ID = f"""\
Date: {_date(_at(1))}
From: Sam <sam@partner.example>
To: {USER}
Subject: =?utf-8?q?Caf=C3=A9?= tomorrow?

Coffee?
"""
OLD = f"""\
Message-ID: <old-1@client.example>
Date: {_date(_at(800))}
From: kim@client.example
To: {USER}
Subject: long ago

Old.
"""


def _ref(message_id: str) -> str:
    return message_ref(message_id, "unused")


@pytest.fixture
def mailbox(dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> Dovecot:
    """Ana's mailbox, INBOX and Sent emptied, her password in the environment."""
    dovecot.empty("INBOX", "Sent")
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return dovecot


def _source(server: Dovecot, **settings: object) -> ImapSource:
    options: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "security": "none",
        "username": server.user,
        "password_env": PASSWORD_ENV,
        **settings,
    }
    return imap(**options)  # type: ignore[arg-type]


def _sync(server: Dovecot, state: dict[str, str] | None = None, **settings: object) -> TouchChanges:
    source = _source(server, **settings)
    try:
        return source.touch_changes(state or {}, now=NOW)
    finally:
        source.close()


def _by_ref(changes: TouchChanges) -> dict[str, Message]:
    found = {}
    for item in changes.items:
        assert isinstance(item, Message)
        found[item.ref] = item
    return found


def _fill(server: Dovecot) -> None:
    server.append("INBOX", REPLY, arrived=_at(3) + timedelta(minutes=1))
    server.append("Sent", SENT, arrived=_at(4), flags=[r"\Seen"])
    server.append("Sent", TWO, arrived=_at(5), flags=[r"\Seen"])
    server.append("INBOX", NEWSLETTER, arrived=_at(6))
    server.append("INBOX", AUTO_REPLY, arrived=_at(2))
    server.append("INBOX", NO_ID, arrived=_at(1))
    server.append("INBOX", OLD, arrived=_at(800))


# -- what a sync reads ------------------------------------------------------------------


@integration
def test_first_sync_reads_inbox_and_the_sent_folder_into_messages(mailbox: Dovecot) -> None:
    """INBOX and the folder flagged \\Sent are read; each message's header becomes a Message."""
    _fill(mailbox)
    changes = _sync(mailbox)
    found = _by_ref(changes)
    assert not changes.complete
    assert not changes.gone
    no_id = [m for m in found.values() if m.subject == "Café tomorrow?"]
    assert len(no_id) == 1
    assert set(found) == {
        _ref("reply-1@client.example"),
        _ref("sent-1@example.org"),
        _ref("two-1@example.org"),
        _ref("news-77@lists.example"),
        _ref("away-1@client.example"),
        no_id[0].ref,
    }
    reply = found[_ref("reply-1@client.example")]
    assert reply.sender == ("kim@client.example",)
    assert reply.to == (USER,)
    assert reply.date == _at(3)
    assert reply.arrived == _at(3) + timedelta(minutes=1)
    assert not reply.bulk
    assert not reply.automatic
    sent = found[_ref("sent-1@example.org")]
    assert (sent.sender, sent.to, sent.bcc) == (
        (USER,),
        ("kim@client.example",),
        ("lee@studio.example",),
    )
    two = found[_ref("two-1@example.org")]
    assert two.to == ("kim@client.example", "lee@studio.example")
    assert two.cc == ("sam@partner.example",)
    assert found[_ref("news-77@lists.example")].bulk
    assert found[_ref("away-1@client.example")].automatic
    assert no_id[0].sender == ("sam@partner.example",)
    assert no_id[0].date == _at(1)
    assert changes.state is not None
    assert set(changes.state) == {"folder:INBOX", "folder:Sent"}
    uidvalidity, last = changes.state["folder:INBOX"].split()
    assert int(uidvalidity) == mailbox.uidvalidity("INBOX")
    assert int(last) == max(mailbox.uids("INBOX"))


@integration
def test_a_sync_marks_nothing_read(mailbox: Dovecot) -> None:
    """Folders are opened read-only and headers fetched with PEEK: no message gains \\Seen."""
    _fill(mailbox)
    _sync(mailbox)
    for uid in mailbox.uids("INBOX"):
        assert b"\\Seen" not in mailbox.flags("INBOX", uid)
    assert all(b"\\Seen" in mailbox.flags("Sent", uid) for uid in mailbox.uids("Sent"))


@integration
def test_me_is_the_username_when_it_is_an_address(mailbox: Dovecot) -> None:
    """A username that is an address is one of yours; another is not taken for one."""
    assert _source(mailbox).me == frozenset({USER})
    assert _source(mailbox, username="ana").me == frozenset()


@integration
def test_a_second_sync_reads_only_what_arrived_since(mailbox: Dovecot) -> None:
    """With the state returned, nothing is read again; a message appended later is."""
    _fill(mailbox)
    first = _sync(mailbox)
    assert first.state is not None
    again = _sync(mailbox, dict(first.state))
    assert again.items == ()
    assert again.state == first.state
    late = REPLY.replace("reply-1@", "reply-2@")
    uid = mailbox.append("INBOX", late, arrived=_at(0.5))
    later = _sync(mailbox, dict(first.state))
    assert list(_by_ref(later)) == [_ref("reply-2@client.example")]
    assert later.state is not None
    assert later.state["folder:INBOX"].split()[1] == str(uid)
    assert _sync(mailbox, dict(later.state)).items == ()


@integration
def test_the_last_message_is_not_read_again_when_nothing_is_newer(mailbox: Dovecot) -> None:
    """ "UID N:*" names the last message even below N: the source leaves it out itself."""
    _fill(mailbox)
    first = _sync(mailbox)
    assert first.state is not None
    inbox = first.state["folder:INBOX"].split()
    # A state one UID ahead makes UIDNEXT no help; the search must still find nothing.
    ahead = {**first.state, "folder:INBOX": f"{inbox[0]} {int(inbox[1]) + 5}"}
    assert _sync(mailbox, ahead).items == ()


@integration
def test_a_changed_uidvalidity_reads_the_folder_again_with_the_same_refs(mailbox: Dovecot) -> None:
    """A rebuilt folder is read again from ``since``; every message keeps its ref."""
    _fill(mailbox)
    first = _sync(mailbox)
    assert first.state is not None
    sent_refs = {m.ref for m in first.items if isinstance(m, Message) and USER in m.sender}
    mailbox.delete_folder("Sent")
    mailbox.create_folder("Sent")
    mailbox.append("Sent", SENT, arrived=_at(4))
    mailbox.append("Sent", TWO, arrived=_at(5))
    mailbox.append(
        "Sent",
        NO_ID.replace(
            f"From: Sam <sam@partner.example>\nTo: {USER}", f"From: {USER}\nTo: sam@partner.example"
        ),
        arrived=_at(1),
    )
    assert str(mailbox.uidvalidity("Sent")) != first.state["folder:Sent"].split()[0]
    again = _sync(mailbox, dict(first.state))
    refs = {m.ref for m in again.items if isinstance(m, Message)}
    assert sent_refs <= refs
    assert len(refs) == 3
    assert again.state is not None
    assert again.state["folder:INBOX"] == first.state["folder:INBOX"]
    # Read twice, a message without a Message-ID is named by its header, not by its UID.
    twice = _sync(mailbox, {"folder:Sent": "1 0"}, folders=["Sent"])
    assert {m.ref for m in twice.items if isinstance(m, Message)} == refs


@integration
def test_since_bounds_the_first_sync(mailbox: Dovecot) -> None:
    """A message received before ``since`` is left out of the first sync."""
    _fill(mailbox)
    found = _by_ref(_sync(mailbox, since="1000d"))
    assert _ref("old-1@client.example") in found
    found = _by_ref(_sync(mailbox, since="10d"))
    assert _ref("old-1@client.example") not in found
    assert _ref("reply-1@client.example") in found


@integration
def test_configured_folders_are_read_and_others_are_not(mailbox: Dovecot) -> None:
    """``folders`` replaces INBOX and Sent; the state keeps only the folders read."""
    _fill(mailbox)
    changes = _sync(mailbox, folders=["Sent"])
    assert set(_by_ref(changes)) == {_ref("sent-1@example.org"), _ref("two-1@example.org")}
    assert changes.state is not None
    assert set(changes.state) == {"folder:Sent"}


@integration
def test_no_body_is_ever_fetched(mailbox: Dovecot, caplog: pytest.LogCaptureFixture) -> None:
    """A message with a 3 MB body costs its header only: every FETCH asks for header fields."""
    huge = REPLY.replace("reply-1@", "huge-1@") + ("x" * 998 + "\n") * 3000
    mailbox.append("INBOX", huge, arrived=_at(1))
    caplog.set_level(logging.DEBUG, logger="imapclient")
    found = _by_ref(_sync(mailbox))
    assert _ref("huge-1@client.example") in found
    sent = [r.getMessage() for r in caplog.records if r.getMessage().startswith(">")]
    fetches = [line for line in sent if " FETCH " in line.upper()]
    assert fetches
    for line in fetches:
        assert "BODY.PEEK[HEADER.FIELDS (" in line
        assert "RFC822" not in line.upper()
        assert "BODY[" not in line.upper()
    literals = [r.getMessage() for r in caplog.records if "literal size" in r.getMessage()]
    read = sum(int(line.rsplit(" ", 1)[1]) for line in literals)
    assert 0 < read < 2000


# -- refusals, in one line and without the password ---------------------------------


@integration
def test_a_wrong_password_is_one_line_without_the_password(
    mailbox: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused login names the server and the user, never the password."""
    monkeypatch.setenv(PASSWORD_ENV, "wrong-password-3Kd")
    with pytest.raises(CadenceError) as raised:
        _sync(mailbox)
    text = str(raised.value)
    assert text.startswith(
        f"imap: 127.0.0.1:{mailbox.port}: the server refused the login of {USER}"
    )
    assert "\n" not in text
    assert "wrong-password-3Kd" not in text
    assert PASSWORD not in text


@integration
def test_a_folder_that_does_not_exist_is_named(mailbox: Dovecot) -> None:
    """A configured folder the mailbox lacks: one line naming it."""
    with pytest.raises(CadenceError) as raised:
        _sync(mailbox, folders=["INBOX", "Clients"])
    assert str(raised.value) == (
        f"imap: 127.0.0.1:{mailbox.port}: the folder 'Clients' does not exist"
    )


@integration
def test_tls_to_a_plain_port_and_starttls_where_none_is_offered_fail_in_one_line(
    mailbox: Dovecot,
) -> None:
    """A server without TLS is never sent the password: each mode says why in one line."""
    with pytest.raises(CadenceError) as raised:
        _sync(mailbox, security="starttls")
    assert str(raised.value) == (
        f"imap: 127.0.0.1:{mailbox.port}: "
        "the server offers no STARTTLS: not sending the password in the clear"
    )
    with pytest.raises(CadenceError) as raised:
        _sync(mailbox, security="tls", timeout=5)
    assert str(raised.value) == (
        f"imap: 127.0.0.1:{mailbox.port}: TLS failed: wrong version number "
        f"(does port {mailbox.port} speak TLS? try security = starttls)"
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@integration
def test_a_refused_connection_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listening: one line naming the server and the reason."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    port = _closed_port()
    source = imap(
        host="127.0.0.1", port=port, security="none", username=USER, password_env=PASSWORD_ENV
    )
    with pytest.raises(CadenceError) as raised:
        source.touch_changes({}, now=NOW)
    assert str(raised.value) == f"imap: 127.0.0.1:{port}: cannot connect: connection refused"


@integration
@pytest.mark.parametrize("security", ["none", "tls"])
def test_a_server_that_never_answers_times_out_in_one_line(
    security: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that takes the connection and says nothing: one line after ``timeout`` seconds."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        source = imap(
            host="127.0.0.1",
            port=port,
            security=security,
            username=USER,
            password_env=PASSWORD_ENV,
            timeout=0.3,
        )
        with pytest.raises(CadenceError) as raised:
            source.touch_changes({}, now=NOW)
    assert str(raised.value) == (
        f"imap: 127.0.0.1:{port}: the server did not answer within 0.3 seconds"
    )


def test_no_password_in_the_clear_over_a_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """``security = "none"`` is refused to any host but this machine."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    login = {"username": USER, "password_env": PASSWORD_ENV}
    for host in ("localhost", "127.0.0.1", "::1"):
        imap(host=host, security="none", **login).close()
    for host in ("192.0.2.7", "imap.example.org"):
        with pytest.raises(ConfigError, match="allowed only to this machine"):
            imap(host=host, security="none", **login)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"security": "ssl"}, "security must be tls, starttls or none"),
        ({"port": 0}, "port must be a number from 1 to 65535"),
        ({"port": "993"}, "port must be a number from 1 to 65535"),
        ({"folders": "INBOX"}, "folders must be a list of folder names"),
        ({"folders": []}, "folders must be a list of folder names"),
        ({"folders": ["INBOX", "inbox"]}, "folders names a folder twice"),
        ({"since": "soon"}, ""),
        ({"timeout": 0}, "timeout must be a number of seconds above zero"),
        ({"ca_file": "/nonexistent/ca.pem"}, "is not a file"),
        ({"password_env": "CADENCE_TEST_IMAP_UNSET"}, "which is not set or empty"),
        ({"host": " imap.example.org"}, "host must have no surrounding spaces"),
    ],
)
def test_bad_settings_are_config_errors_without_secrets(
    settings: dict[str, object], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each bad setting is refused by name; the password never shows."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    monkeypatch.delenv("CADENCE_TEST_IMAP_UNSET", raising=False)
    options: dict[str, object] = {
        "host": "imap.example.org",
        "username": USER,
        "password_env": PASSWORD_ENV,
        **settings,
    }
    with pytest.raises(CadenceError) as raised:
        imap(**options)  # type: ignore[arg-type]
    assert message in str(raised.value)
    assert PASSWORD not in str(raised.value)


def test_imap_is_a_built_in_source_with_checked_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """cadence's own plugins register imap; a misspelt setting is refused by name."""
    plugins = load_plugins(entry_points=False)
    assert "imap" in plugins.source_names()
    assert plugins.registered("source")["imap"].thing.resolve() is imap
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    settings = {"host": "imap.example.org", "username": USER, "password_env": PASSWORD_ENV}
    built = plugins.build_source(SourceConfig("imap", name="mail", settings=settings))
    assert isinstance(built, ImapSource)
    assert built.port == 993
    table = SourceConfig("imap", name="mail", settings={**settings, "foldres": ["INBOX"]})
    with pytest.raises(ConfigError, match=r"^source 'mail': unknown imap setting 'foldres'"):
        plugins.build_source(table)


# -- TLS ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dovecot_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    """Dovecot with implicit TLS and STARTTLS, its certificate signed by a throwaway authority."""
    authority = trustme.CA()
    folder: Path = tmp_path_factory.mktemp("dovecot-tls")
    chain, key, ca_file = folder / "chain.pem", folder / "key.pem", folder / "ca.pem"
    issued = authority.issue_cert("127.0.0.1", "localhost")
    issued.cert_chain_pems[0].write_to_path(str(chain))
    issued.private_key_pem.write_to_path(str(key))
    authority.cert_pem.write_to_path(str(ca_file))
    server = start_dovecot(tls=(chain, key), ca_file=ca_file)
    try:
        yield server
    finally:
        stop_dovecot(server)


@integration
@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_verifies_the_certificate_and_trusts_ca_file(
    dovecot_tls: Dovecot, security: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over TLS the certificate is checked: refused without the private CA, read with ca_file."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    port = dovecot_tls.tls_port if security == "tls" else dovecot_tls.port
    assert port is not None
    login = {"username": USER, "password_env": PASSWORD_ENV, "security": security}
    with pytest.raises(CadenceError) as raised:
        imap(host="127.0.0.1", port=port, **login).touch_changes({}, now=NOW)
    assert str(raised.value).startswith(
        f"imap: 127.0.0.1:{port}: TLS failed: certificate not trusted"
    )
    assert dovecot_tls.ca_file is not None
    dovecot_tls.append("INBOX", REPLY.replace("reply-1@", f"tls-{security}@"), arrived=_at(1))
    trusted = imap(host="127.0.0.1", port=port, ca_file=dovecot_tls.ca_file, **login)
    found = _by_ref(trusted.touch_changes({}, now=NOW))
    assert _ref(f"tls-{security}@client.example") in found
    trusted.close()
