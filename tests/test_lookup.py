"""Which contact a typed text names: the pure ranking in cadence.core.lookup."""

from __future__ import annotations

import pytest

from cadence import CadenceError, Contact
from cadence.core.lookup import (
    BY_EMAIL,
    BY_ID,
    BY_NAME,
    BY_PREFIX,
    like_prefix,
    match_contacts,
    match_kind,
    pick_contact,
)

PEOPLE = [
    Contact("ana-lopez", "Ana López", emails=["ana@example.org", "Ana.Home@Example.net"]),
    Contact("anabel", "Anabel Ruiz"),
    Contact("ana", "Ana Ortega"),
    Contact("bo", "ana"),
    Contact("e1", "Élodie", email="shared@team.example"),
    Contact("e2", "Bo Tran", email="SHARED@team.example"),
]


def ids(text: str) -> list[str]:
    return [c.id for c in match_contacts(text, PEOPLE)]


def test_the_exact_id_wins_over_every_other_kind() -> None:
    assert ids("ana") == ["ana"]
    assert match_kind("ana", PEOPLE[2]) == BY_ID
    # The id compares exactly: another case is only a name or prefix match.
    assert ids("ANA") == ["bo"]


def test_an_email_wins_over_names_and_prefixes_in_any_case() -> None:
    assert ids("ANA.HOME@example.NET") == ["ana-lopez"]
    assert match_kind("ana@EXAMPLE.org", PEOPLE[0]) == BY_EMAIL
    assert ids("shared@team.example") == ["e1", "e2"]


def test_the_whole_name_wins_over_prefixes() -> None:
    assert ids("ana lópez") == ["ana-lopez"]
    assert match_kind("ANA ORTEGA", PEOPLE[2]) == BY_NAME


def test_prefixes_of_ids_and_names_pool_by_id() -> None:
    assert ids("Ana L") == ["ana-lopez"]
    assert ids("an") == ["ana", "ana-lopez", "anabel", "bo"]
    assert ids("élo") == ["e1"]
    assert match_kind("ana-", PEOPLE[0]) == BY_PREFIX
    assert ids("  anab  ") == ["anabel"]


def test_nothing_and_blank_name_nobody() -> None:
    assert ids("zzz") == []
    assert ids("") == []
    assert ids("   ") == []


def test_like_prefix_takes_wildcards_literally() -> None:
    assert like_prefix("a%b_c") == "a\\%b\\_c%"
    assert like_prefix("a\\b") == "a\\\\b%"
    assert like_prefix("") == "%"


def test_pick_contact_returns_one_or_refuses_in_one_line() -> None:
    assert pick_contact("anab", match_contacts("anab", PEOPLE)).id == "anabel"
    with pytest.raises(CadenceError, match=r"^no contact has the id, email or name 'zzz'"):
        pick_contact("zzz", [])
    with pytest.raises(CadenceError) as caught:
        pick_contact("an", match_contacts("an", PEOPLE))
    assert str(caught.value) == (
        "'an' could be several contacts: ana (Ana Ortega), ana-lopez (Ana López), "
        "anabel (Anabel Ruiz), bo (ana); give more of it, or the id"
    )
    many = [Contact(f"s{i}", f"Sam {i}") for i in range(7)]
    with pytest.raises(CadenceError, match=r"s4 \(Sam 4\) and 4 more;"):
        pick_contact("s", many, more=2)
    # One match with more beyond it (a store reads only a few) is still ambiguous.
    with pytest.raises(CadenceError, match="and 3 more"):
        pick_contact("s", many[:1], more=3)
