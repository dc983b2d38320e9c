"""The vcard importer: vCard 2.1, 3.0 and 4.0 files into contacts, birthdays and anniversaries."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import vobject
from hypothesis import example, given
from hypothesis import strategies as st

from cadence import Anniversary, Birthday, Contact, ImportBatch, ImportFailed, Occasion
from cadence._plugins import Plugins
from cadence.sources._common import clean_name
from cadence.sources.batch import Origin
from cadence.sources.vcard import CardFields, card_fields, read_vcard

DATA = Path(__file__).parent / "data"
FIXTURES = Path(__file__).parent / "fixtures" / "vcard"


def fixture_text(name: str) -> str:
    """A fixture's text, its opening "#" lines (where its shape comes from) made blank.

    Blank lines are skipped by the reader, so line numbers stay the file's.
    """
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return re.sub(r"(?m)^#[^\r\n]*", "", text)


def read_fixture(name: str) -> ImportBatch:
    """Read one of the fixtures in the shape of a tool's export."""
    return read_vcard(fixture_text(name), source=name)


def fields_by_name(name: str) -> dict[str, CardFields]:
    """The fields of each card of a fixture, by the contact's name."""
    return {fields.name: fields for fields in card_fields(fixture_text(name), source=name)}


def read_data(name: str) -> ImportBatch:
    """Read one of the sample files."""
    return read_vcard((DATA / name).read_text(encoding="utf-8"), source=name)


def card(*lines: str) -> str:
    """One vCard 3.0 with ``lines`` between its VERSION and END:VCARD."""
    return "\r\n".join(["BEGIN:VCARD", "VERSION:3.0", *lines, "END:VCARD"]) + "\r\n"


def only(batch: ImportBatch) -> Contact:
    """The single contact of ``batch``."""
    (contact,) = batch.contacts
    return contact


def by_id(batch: ImportBatch) -> dict[str, Contact]:
    """The contacts of ``batch`` by id."""
    return {contact.id: contact for contact in batch.contacts}


def failure(text: str, source: str = "people.vcf") -> ImportFailed:
    """The ImportFailed that reading ``text`` raises."""
    with pytest.raises(ImportFailed) as caught:
        read_vcard(text, source=source)
    return caught.value


# -- the plugin ----------------------------------------------------------------------


def test_registered_as_a_builtin_plugin(plugins: Plugins) -> None:
    """The vcard plugin registers the importer for .vcf and .vcard files, by name and by suffix."""
    for filename in ("people.vcf", "PEOPLE.VCF", "people.vcard"):
        entry = plugins.importer_for(filename)
        assert entry.thing.resolve() is read_vcard
        assert entry.plugin == "vcard"
    assert plugins.importer_for("export.txt", "vcard").thing.resolve() is read_vcard


# -- sample exports ------------------------------------------------------------------


def test_apple_contacts_export() -> None:
    """An Apple export gives the preferred email, a yearless birthday (1604) and an anniversary."""
    batch = read_data("apple.vcf")
    ada = by_id(batch)["ada-lovelace"]
    assert ada.name == "Ada Lovelace"
    assert ada.email == "ada@engines.example"
    assert ada.channel is None
    assert [c.id for c in batch.contacts] == ["ada-lovelace", "bjorn-akesson", "grace-hopper"]
    assert by_id(batch)["bjorn-akesson"].name == "Björn Åkesson"
    assert set(batch.occasions) == {
        Birthday("ada-lovelace", 12, 10),
        Anniversary("ada-lovelace", date(2019, 6, 1), label="anniversary"),
        Birthday("bjorn-akesson", 2, 28, year=1979),
    }
    assert batch.rules == ()


def test_google_contacts_export() -> None:
    """A Google export gives tags from CATEGORIES, but not Google's groups, and --MMDD birthdays."""
    batch = read_data("google.vcf")
    people = by_id(batch)
    assert people["katherine-johnson"].tags == {"Clients"}
    assert people["alan-turing"].tags == {"Clients", "card-list"}
    assert set(batch.occasions) == {
        Birthday("katherine-johnson", 8, 26),
        Birthday("alan-turing", 6, 23, year=1912),
    }


def test_vcard_4() -> None:
    """A vCard 4.0 file gives UIDs as ids, --MM-DD birthdays, anniversaries, tags and zones."""
    batch = read_data("v4.vcf")
    zoe_id, taro_id = "zoe-alund", "山田-太郎"
    people = by_id(batch)
    assert set(people) == {zoe_id, taro_id, "olusegun-obi"}
    assert batch.origin(zoe_id).uid == "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"
    zoe = people[zoe_id]
    assert (zoe.name, zoe.email, zoe.timezone) == ("Zoë Ålund", "zoe@home.example", "Europe/Paris")
    assert zoe.tags == {"retainer", "card-list"}
    assert people[taro_id].name == "山田 太郎"
    assert people[taro_id].timezone == "Etc/GMT+5"
    assert set(batch.occasions) == {
        Birthday(zoe_id, 4, 15),
        Anniversary(zoe_id, date(2009, 8, 8), label="anniversary"),
        Birthday(taro_id, 4, 12, year=1985),
        Occasion("anniversary", month=11, day=3, contact=taro_id),
    }


def test_vcard_4_leaves_out_groups_text_birthdays_and_uri_zones() -> None:
    """A KIND:group card is no contact; a text birthday and a TZ URI are left out."""
    people = by_id(read_data("v4.vcf"))
    assert "book-club" not in people
    olusegun = people["olusegun-obi"]
    assert olusegun.timezone == "UTC"


def test_vcard_2_1_quoted_printable() -> None:
    """An Android vCard 2.1 export with a quoted-printable UTF-8 name reads the right letters."""
    batch = read_data("android.vcf")
    assert [(c.id, c.name) for c in batch.contacts] == [
        ("zoe-alund", "Zoë Ålund"),
        ("olusegun-obi", "Olusegun Obi"),
    ]
    assert batch.occasions == (Birthday("zoe-alund", 4, 15, year=1990),)


def test_byte_order_mark_and_line_endings() -> None:
    """A leading byte order mark is skipped and LF, CRLF and CR line endings all read the same."""
    text = card("FN:Ada Lovelace", "UID:ada", "BDAY:--1210")
    expected = read_vcard(text, source="a.vcf")
    for variant in ("\ufeff" + text, text.replace("\r\n", "\n"), text.replace("\r\n", "\r")):
        assert read_vcard(variant, source="a.vcf") == expected


def test_folded_lines() -> None:
    """A property folded over several lines reads as one value."""
    text = card("FN:Ada Aug", " usta King", "UID:ada", "CATEGORIES:retai", "\tner")
    contact = only(read_vcard(text, source="a.vcf"))
    assert contact.name == "Ada Augusta King"
    assert contact.tags == {"retainer"}


def test_quoted_printable_soft_breaks_over_many_lines() -> None:
    """A quoted-printable value continued by "=" over many lines reads as one value.

    bench/import_scaling.py holds the time this takes to the file's size.
    """
    lines = ["BEGIN:VCARD", "VERSION:2.1", "UID:ada", "FN;ENCODING=QUOTED-PRINTABLE:Zo="]
    lines += ["="] * 2000 + ["=C3=AB", "END:VCARD", ""]
    assert only(read_vcard("\r\n".join(lines), source="a.vcf")).name == "Zoë"


@pytest.mark.parametrize(
    ("first", "second"),
    [("FN;ENCODING=QUOTED-PRI", " NTABLE:Zo="), ("FN;ENCODING=QUOTED-PRINTABLE:Z", " o=")],
)
def test_quoted_printable_marker_or_soft_break_across_a_fold(first: str, second: str) -> None:
    """The encoding may be named across a fold, and a folded line may end the soft break."""
    text = "\r\n".join(
        ["BEGIN:VCARD", "VERSION:2.1", "UID:ada", first, second, "=C3=AB", "END:VCARD"]
    )
    assert only(read_vcard(text, source="a.vcf")).name == "Zoë"


# -- exports in the shape each tool writes (tests/fixtures/vcard) ---------------------

CHLOE_UID = "6B29A774-1C2E-4F9A-9E31-2C4D7E5A8B01"
CHLOE, BJORN, NGOZI = "chloe-martin", "bjorn-akesson", "ngozi-okafor"


def test_icloud_export_dates() -> None:
    """The year 1604, with or without X-APPLE-OMIT-YEAR, means no year; a real year is kept.

    Covers 29 February with and without a year, and X-ABDATE anniversaries
    labelled in the same item group; the dates labelled otherwise are no occasion.
    """
    assert set(read_fixture("icloud.vcf").occasions) == {
        Birthday(CHLOE, 12, 1),
        Anniversary(CHLOE, date(2015, 6, 20), label="anniversary"),
        Birthday(BJORN, 2, 29),
        Occasion("anniversary", month=9, day=12, contact=BJORN),
        Birthday(NGOZI, 2, 29, year=1992),
    }


def test_icloud_export_contacts() -> None:
    """Grouped item EMAILs are read, the preferred first; phones and ORG too; PHOTO is skipped."""
    batch = read_fixture("icloud.vcf")
    assert [(c.id, c.name, c.email) for c in batch.contacts] == [
        (CHLOE, "Chloé Martin", "chloe@atelier-martin.example"),
        (BJORN, "Björn Åkesson", "bjorn@example.se"),
        (NGOZI, "Ngozi Okafor", "ngozi@example.ng"),
        ("analytical-engines-ltd", "Analytical Engines Ltd", None),
    ]
    assert batch.proposed_ids
    assert batch.origin(CHLOE) == Origin(line=6, uid=CHLOE_UID)
    assert batch.origin("analytical-engines-ltd").uid == "C1D2E3F4-A5B6-4C7D-8E9F-0A1B2C3D4E5F"
    chloe = fields_by_name("icloud.vcf")["Chloé Martin"]
    assert chloe.uid == CHLOE_UID
    assert chloe.emails == ("chloe@atelier-martin.example", "Chloe.Martin@home.example")
    assert chloe.phones == ("+33 6 12 34 56 78", "+33 1 23 45 67 89")
    assert chloe.organization == "Atelier Martin"
    company = fields_by_name("icloud.vcf")["Analytical Engines Ltd"]
    assert (company.organization, company.phones) == (
        "Analytical Engines Ltd",
        ("+44 20 7946 0000",),
    )


@pytest.mark.parametrize("name", ["icloud.vcf", "google.vcf", "outlook.vcf", "v4.vcf"])
def test_every_address_phone_and_organization_reaches_the_contact(name: str) -> None:
    """What a card holds is what its Contact holds: every email and phone, and the ORG."""
    fields = {f.name: f for f in card_fields(fixture_text(name), source=name)}
    contacts = read_fixture(name).contacts
    assert contacts
    for contact in contacts:
        card = fields[contact.name]
        assert contact.emails == card.emails
        assert contact.phones == card.phones
        assert contact.organization == card.organization
    chloe = [c for c in contacts if c.name == "Chloé Martin"]
    if name == "icloud.vcf":
        assert chloe[0].has_email("CHLOE.MARTIN@HOME.EXAMPLE")


def test_google_export_cards_without_a_name() -> None:
    """Cards with only an email (FN and N empty, or absent) or only ORG import, named from it."""
    batch = read_fixture("google.vcf")
    assert [(c.id, c.name, c.email) for c in batch.contacts] == [
        ("ana-lopez", "Ana López", "ana.lopez@example.es"),
        ("sam-reyes-example-org", "Sam.Reyes@example.org", "Sam.Reyes@example.org"),
        ("billing-vendor-example", "billing@vendor.example", "billing@vendor.example"),
        ("bayview-plumbing", "Bayview Plumbing", None),
        ("kwame-mensah", "Kwame Mensah", "kwame@example.gh"),
    ]
    plumbing = fields_by_name("google.vcf")["Bayview Plumbing"]
    assert (plumbing.organization, plumbing.phones) == ("Bayview Plumbing", ("+1 415-555-0134",))


def test_google_export_tags_leave_out_google_groups() -> None:
    """CATEGORIES become tags without Google's own groups; a label the user named is kept."""
    people = by_id(read_fixture("google.vcf"))
    assert people["ana-lopez"].tags == {"Clients"}
    assert people["sam-reyes-example-org"].tags == set()
    assert people["bayview-plumbing"].tags == {"Suppliers"}
    # "family", "friends" and "chatBuddies" are Google's; "Family" is the user's label.
    assert people["kwame-mensah"].tags == {"Family"}


def test_google_export_fields_and_birthdays() -> None:
    """Every EMAIL of a Google card, grouped or not, is read; birthdays with and without a year."""
    ana = fields_by_name("google.vcf")["Ana López"]
    assert ana.emails == ("ana.lopez@example.es", "ana@lopez-design.example")
    assert (ana.phones, ana.organization) == (("+34 612 34 56 78",), "López Design")
    assert set(read_fixture("google.vcf").occasions) == {
        Birthday("ana-lopez", 12, 1, year=1986),
        Birthday("kwame-mensah", 2, 29),
    }


def test_outlook_2_1_export() -> None:
    """Quoted-printable names in windows-1252 and UTF-8, bare PREF/INTERNET, X-MS-ANNIVERSARY."""
    batch = read_fixture("outlook.vcf")
    assert [(c.id, c.name) for c in batch.contacts] == [
        ("renee-francois", "Renée François"),
        ("jurgen-muller", "Jürgen Müller"),
    ]
    renee = fields_by_name("outlook.vcf")["Renée François"]
    # The third EMAIL is the first again in other letter case.
    assert renee.emails == ("renee.francois@contoso.example", "renee@francois.example")
    assert renee.phones == ("(425) 555-0101", "+33 6 98 76 54 32")
    assert renee.organization == "Contoso Ltd"
    assert set(batch.occasions) == {
        Birthday("renee-francois", 2, 28, year=1979),
        Anniversary("renee-francois", date(2015, 6, 20), label="anniversary"),
    }


def test_vcard_4_export() -> None:
    """urn:uuid UIDs, --MMDD birthdays, basic-form anniversaries, PREF=1 and tel: URIs."""
    mei_id, northwind_id = "mei-chen", "northwind-traders"
    batch = read_fixture("v4.vcf")
    assert batch.origin(mei_id).uid == "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"
    assert [(c.id, c.name, c.email) for c in batch.contacts] == [
        (mei_id, "Mei Chen", "mei.chen@work.example"),
        (northwind_id, "Northwind Traders", "hello@northwind.example"),
    ]
    mei = fields_by_name("v4.vcf")["Mei Chen"]
    assert mei.emails == ("mei.chen@work.example", "mei@home.example")
    assert mei.phones == ("+1-555-555-0199",)
    assert set(batch.occasions) == {
        Birthday(mei_id, 12, 1),
        Anniversary(mei_id, date(2015, 6, 20), label="anniversary"),
        Occasion("anniversary", month=3, day=1, contact=northwind_id),
    }


@pytest.mark.parametrize("name", ["icloud.vcf", "google.vcf", "outlook.vcf", "v4.vcf"])
def test_an_export_cut_short_fails_at_its_last_card(name: str) -> None:
    """An export whose last END:VCARD is lost fails naming the file and its last card's line."""
    text = fixture_text(name).rstrip()
    cut = text.removesuffix("END:VCARD")
    assert cut != text
    last_card = cut[: cut.rindex("BEGIN:VCARD")].count("\n") + 1
    error = failure(cut, source=name)
    assert (error.path, error.line) == (name, last_card)
    assert "never closed" in str(error)


@pytest.mark.parametrize(
    "lines",
    [
        ["FN:", "N:;;;;", "EMAIL;TYPE=INTERNET:Sam@Example.org"],
        ["EMAIL;TYPE=INTERNET:Sam@Example.org"],
        ["N:;;;;", "item1.EMAIL;type=INTERNET:Sam@Example.org", "item1.X-ABLabel:_$!<Work>!$_"],
    ],
)
def test_a_card_with_only_an_email_is_named_by_it(lines: list[str]) -> None:
    """Whatever the tool, a card whose only identity is its address is named by that address."""
    contact = only(read_vcard(card(*lines), source="a.vcf"))
    assert (contact.id, contact.name, contact.email) == (
        "sam-example-org",
        "Sam@Example.org",
        "Sam@Example.org",
    )


@pytest.mark.parametrize(
    ("lines", "name"),
    [
        (["FN:", "NICKNAME:Bo,Bobby", "ORG:Acme"], "Bo"),
        (["FN:", "N:;;;;", "ORG:;Research"], "Research"),
        (["TEL;TYPE=CELL:+1 202 555 0143"], "+1 202 555 0143"),
    ],
)
def test_other_names_for_a_card_without_one(lines: list[str], name: str) -> None:
    """Without FN or N, a nickname, then the organization, then the phone number name the card."""
    assert only(read_vcard(card(*lines), source="a.vcf")).name == name


@pytest.mark.parametrize(
    "date_line",
    [
        "BDAY;VALUE=date:1604-12-01",
        "BDAY:1604-12-01",
        "BDAY:16041201",
        "BDAY;X-APPLE-OMIT-YEAR=1604:1604-12-01",
        "BDAY:--1201",
        "BDAY:--12-01",
    ],
)
def test_birthdays_without_a_year_in_every_form(date_line: str) -> None:
    """Every way the tools write a birthday without its year gives a Birthday without a year."""
    batch = read_vcard(card("FN:Ada", "UID:ada", date_line), source="a.vcf")
    assert batch.occasions == (Birthday("ada", 12, 1),)


@pytest.mark.parametrize(
    "line",
    ["X-MS-ANNIVERSARY:20150620", "X-EVOLUTION-ANNIVERSARY:2015-06-20", "ANNIVERSARY:20150620"],
)
def test_anniversaries_of_other_tools(line: str) -> None:
    """Outlook's and Evolution's anniversary properties read as the standard one."""
    assert read_vcard(card("FN:Ada", "UID:ada", line), source="a.vcf").occasions == (
        Anniversary("ada", date(2015, 6, 20), label="anniversary"),
    )


def test_google_system_groups_are_never_tags() -> None:
    """Each of Google's own groups is left out of the tags, in any place of the list."""
    groups = "myContacts,starred,friends,family,coworkers,chatBuddies,all,blocked"
    text = card("FN:Ada", "UID:ada", f"CATEGORIES:{groups},vip", "CATEGORIES:starred")
    assert only(read_vcard(text, source="a.vcf")).tags == {"vip"}


# -- fields --------------------------------------------------------------------------


def test_unescaped_commas_stay_in_the_name() -> None:
    """A comma left unescaped in FN, as some programs write it, stays in the name."""
    text = card("FN:Lovelace, Ada", "UID:ada", "NOTE:a\\, b")
    assert only(read_vcard(text, source="a.vcf")).name == "Lovelace, Ada"


def test_properties_not_read_are_not_parsed() -> None:
    """A property cadence does not read cannot fail the import, whatever its value."""
    text = card("FN:Ada", "UID:ada", "NOTE;CHARSET=nope;ENCODING=QUOTED-PRINTABLE:=C3", "PHOTO:!")
    assert only(read_vcard(text, source="a.vcf")).name == "Ada"


def test_name_falls_back_to_n_then_org() -> None:
    """Without FN the name comes from N, and without N from ORG."""
    from_n = only(read_vcard(card("N:Lovelace;Ada;;;", "UID:a"), source="a.vcf"))
    from_org = only(read_vcard(card("ORG:Analytical Engines;Research", "UID:a"), source="a.vcf"))
    assert from_n.name == "Ada Lovelace"
    assert from_org.name == "Analytical Engines Research"


@pytest.mark.parametrize(
    ("lines", "email"),
    [
        (["EMAIL:first@example.org", "EMAIL:second@example.org"], "first@example.org"),
        (
            ["EMAIL:first@example.org", "EMAIL;TYPE=INTERNET,pref:pref@example.org"],
            "pref@example.org",
        ),
        (["EMAIL;PREF=50:fifty@example.org", "EMAIL;PREF=2:two@example.org"], "two@example.org"),
        (["TEL:+44 20 7946 0000"], None),
    ],
)
def test_preferred_email(lines: list[str], email: str | None) -> None:
    """The address marked preferred wins (the lowest PREF), else the first one."""
    assert only(read_vcard(card("FN:Ada", "UID:ada", *lines), source="a.vcf")).email == email


def test_categories_become_tags() -> None:
    """Every CATEGORIES value, on one line or several, is a trimmed tag; empty ones are dropped."""
    text = card("FN:Ada", "UID:ada", "CATEGORIES:retainer, card list ,,x\\,y", "CATEGORIES:vip")
    assert only(read_vcard(text, source="a.vcf")).tags == {"retainer", "card list", "x,y", "vip"}


@pytest.mark.parametrize(
    ("tz", "zone"),
    [
        ("TZ:Europe/Paris", "Europe/Paris"),
        ("TZ;VALUE=text:America/New_York", "America/New_York"),
        ("TZ:-05:00", "Etc/GMT+5"),
        ("TZ;VALUE=utc-offset:+0100", "Etc/GMT-1"),
        ("TZ:+14", "Etc/GMT-14"),
        ("TZ:+00:00", "UTC"),
        ("TZ:Z", "UTC"),
        ("TZ;VALUE=text:-05:00; EST; Raleigh/North America", "Etc/GMT+5"),
        ("TZ:+05:30", "UTC"),
        ("TZ;VALUE=uri:https://example.com/tz/paris", "UTC"),
    ],
)
def test_time_zones(tz: str, zone: str) -> None:
    """An IANA name is kept, a whole-hour offset is its Etc zone, other offsets are left out."""
    assert only(read_vcard(card("FN:Ada", "UID:ada", tz), source="a.vcf")).timezone == zone


@pytest.mark.parametrize(
    ("bday", "expected"),
    [
        ("BDAY:1985-04-12", Birthday("ada", 4, 12, year=1985)),
        ("BDAY:19850412", Birthday("ada", 4, 12, year=1985)),
        ("BDAY:1985-04-12T10:30:00Z", Birthday("ada", 4, 12, year=1985)),
        ("BDAY:--04-12", Birthday("ada", 4, 12)),
        ("BDAY:--0412", Birthday("ada", 4, 12)),
        ("BDAY:--0229", Birthday("ada", 2, 29)),
        ("BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-12", Birthday("ada", 4, 12)),
        ("BDAY;X-APPLE-OMIT-YEAR=1604:1604-02-29", Birthday("ada", 2, 29)),
        ("BDAY:1604-04-12", Birthday("ada", 4, 12)),
        ("BDAY;VALUE=date:1604-12-01", Birthday("ada", 12, 1)),
        ("BDAY:16040229", Birthday("ada", 2, 29)),
        ("BDAY:1988-02-29", Birthday("ada", 2, 29, year=1988)),
        ("BDAY;VALUE=text:circa 1800", None),
        ("BDAY:1985", None),
        ("BDAY:1985-04", None),
        ("BDAY:---12", None),
    ],
)
def test_birthday_forms(bday: str, expected: Birthday | None) -> None:
    """Birthdays read with and without a year; those that name no day are left out."""
    batch = read_vcard(card("FN:Ada", "UID:ada", bday), source="a.vcf")
    assert batch.occasions == (() if expected is None else (expected,))


@pytest.mark.parametrize(
    "line",
    ["ANNIVERSARY:2009-08-08", "X-ANNIVERSARY:20090808", "item1.X-ABDATE:2009-08-08"],
)
def test_anniversary_properties(line: str) -> None:
    """ANNIVERSARY, X-ANNIVERSARY and Apple's labelled X-ABDATE all become an Anniversary."""
    text = card("FN:Ada", "UID:ada", line, "item1.X-ABLabel:_$!<Anniversary>!$_")
    assert read_vcard(text, source="a.vcf").occasions == (
        Anniversary("ada", date(2009, 8, 8), label="anniversary"),
    )


def test_the_uid_is_kept_to_find_the_contact_again() -> None:
    """The UID, trimmed, is the record's uid; the id is proposed from the name."""
    batch = read_vcard(card("FN:Ada", "UID: 1234-abcd "), source="a.vcf")
    assert batch.proposed_ids
    assert only(batch).id == "ada"
    assert batch.origin("ada") == Origin(line=1, uid="1234-abcd")


@pytest.mark.parametrize(
    ("lines", "ident"),
    [
        (["FN:Ada Lovelace", "EMAIL:Ada@Example.org"], "ada-lovelace"),
        (["FN:Zoë Ålund"], "zoe-alund"),
        (["FN:山田 太郎"], "山田-太郎"),
        (["FN:O'Brien, Séan"], "o-brien-sean"),
        (["FN:???"], "contact"),
        (["EMAIL:Ada@Example.org"], "ada-example-org"),
    ],
)
def test_proposed_ids_are_readable(lines: list[str], ident: str) -> None:
    """The proposed id is a slug of the name (accents dropped), or "contact" when it has no word."""
    assert only(read_vcard(card(*lines), source="a.vcf")).id == ident


# Letters, marks that combine with them, the spaces and characters that decompose
# into a space and a mark ("\u00a8", "\u00b4"), and others.
slug_text = st.text(
    st.sampled_from(
        "aeoZÅøßİ\u0131\u0301\u0308\u0327 \t\n\u00a0\u2007\u3000\u1680\x1c\u00a8\u00b4"
        "\ufe49-_.山\u0414\u01c5\ufb01\u2163\u2460"
    )
    | st.characters(),
    max_size=12,
)


@given(slug_text)
def test_a_slug_made_word_by_word_is_the_slug_of_the_whole(text: str) -> None:
    """slug() reads a name word by word (the words are remembered): that is reading it whole."""
    from cadence.sources._common import _slug, slug

    assert slug(text) == _slug(text)


def test_proposed_ids_are_unique_in_a_file() -> None:
    """Two cards with names that make the same slug get -2; their UIDs tell them apart."""
    text = card("FN:Ada Lovelace", "UID:1") + card("FN:ada  lovelace", "UID:2") + card("FN:???")
    batch = read_vcard(text, source="a.vcf")
    assert [c.id for c in batch.contacts] == ["ada-lovelace", "ada-lovelace-2", "contact"]
    assert [batch.origin(c.id).uid for c in batch.contacts] == ["1", "2", None]


# -- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("hello\r\n", 1, "expected BEGIN:VCARD"),
        ("\r\n" + card("FN:Ada") + "stray\r\n", 6, "'stray'"),
        ("", None, "no vCard"),
        (" \r\n\r\n", None, "no vCard"),
        ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada\r\n", 1, "never closed"),
        (card("FN:Ada") + card("UID:x", "NOTE:only a note"), 5, "nothing to name"),
        (card("FN:Ada") + card("FN:", "N:;;;;", "EMAIL:"), 5, "nothing to name"),
        (card("FN:Ada", "BDAY:--1341"), 4, "'--1341'"),
        (card("FN:Ada", "BDAY:2001-02-29"), 4, "'2001-02-29'"),
        (card("FN:Ada", "BDAY:yesterday"), 4, "'yesterday'"),
        (card("FN:Ada", "NOTE:x", "ANNIVERSARY:20090230"), 5, "'20090230'"),
        (card("FN:Ada", "ANNIVERSARY:--0230"), 4, "'--0230'"),
        (card("FN:Ada", "TZ:Mars/Olympus_Mons"), 4, "'Mars/Olympus_Mons'"),
        (card("FN:Ada", "TZ:+25:00"), 4, "'+25:00'"),
        (card("FN:Ada", "UID:ada", "CATEGORIES:vip,a\x01b"), 1, "tag"),
        (card("FN:Ada", 'EMAIL;TYPE="x:ada@example.org'), 4, "cannot read the line"),
        (card("FN;CHARSET=nope;ENCODING=QUOTED-PRINTABLE:Zo=C3=AB"), 3, "nope"),
        (card("FN:Ada", "NOTE:x", "this is no property"), 5, "not a property"),
        (card("FN:Ada", "UID:1") + card("FN:Bo", "UID:2") + card("FN:Cy", "UID:1"), 11, "line 1"),
        (card("FN:Ada", "UID:1") + card("FN:Bo", "UID:1"), 6, "UID '1' appears twice"),
    ],
)
def test_errors_name_the_file_and_line(text: str, line: int | None, words: str) -> None:
    """A bad card raises ImportFailed naming the file, the line of the fault and what was wrong."""
    error = failure(text)
    assert (error.path, error.line) == ("people.vcf", line)
    assert str(error).startswith(f"people.vcf:{line}: " if line else "people.vcf: ")
    assert words in str(error)


def test_nothing_is_kept_from_a_file_with_one_bad_card() -> None:
    """A file whose last card is bad raises, so none of its good cards come back."""
    good = "".join(card(f"FN:Person {n}", f"UID:{n}") for n in range(50))
    error = failure(good + card("FN:Bad", "UID:bad", "BDAY:--0001"))
    assert error.line == 255


# -- properties ----------------------------------------------------------------------

names = st.lists(
    st.text(st.characters(categories=["L", "M", "N", "P", "S"]), min_size=1, max_size=12),
    min_size=1,
    max_size=4,
).map(" ".join)


@given(names=st.lists(names, min_size=1, max_size=5, unique_by=clean_name))
def test_names_round_trip_through_a_vcard_writer(names: list[str]) -> None:
    """Names in any script, written by vobject, read back unchanged, each card with its birthday."""
    text = ""
    for number, name in enumerate(names):
        written = vobject.vCard()
        written.add("fn").value = name
        written.add("uid").value = f"id-{number}"
        written.add("bday").value = "--0229"
        text += written.serialize()
    batch = read_vcard(text, source="a.vcf")
    assert [c.name for c in batch.contacts] == [clean_name(name) for name in names]
    ids = [c.id for c in batch.contacts]
    assert [batch.origin(i).uid for i in ids] == [f"id-{n}" for n in range(len(names))]
    assert batch.occasions == tuple(Birthday(i, 2, 29) for i in ids)


properties = st.sampled_from(
    ["FN", "N", "UID", "EMAIL", "BDAY", "ANNIVERSARY", "TZ", "CATEGORIES", "KIND", "ORG",
     "item1.X-ABDATE", "item1.X-ABLabel", "PHOTO", "BEGIN", "END"]
)  # fmt: skip
parameters = st.sampled_from(
    ["", ";VALUE=text", ";VALUE=uri", ";PREF=1", ";TYPE=pref", ";X-APPLE-OMIT-YEAR=1604",
     ";ENCODING=b", ";ENCODING=QUOTED-PRINTABLE", ';X="a']
)  # fmt: skip
values = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["--0229", "1604-02-29", "-05:00", "+05:30", "Europe/Paris", "VCARD", "group"]),
)
card_lines = st.lists(st.builds("{}{}:{}".format, properties, parameters, values), max_size=8)


def outcome(text: str) -> ImportBatch | ImportFailed:
    """What reading ``text`` gives: a batch, or the ImportFailed it raises."""
    try:
        return read_vcard(text, source="a.vcf")
    except ImportFailed as error:
        return error


@given(st.lists(card_lines.map(lambda lines: card(*lines)), min_size=1, max_size=3).map("".join))
def test_card_shaped_text_raises_only_import_failed(text: str) -> None:
    """Cards full of odd properties either read, with unique ids, or raise ImportFailed."""
    result = outcome(text)
    if isinstance(result, ImportFailed):
        assert result.path == "a.vcf"
    else:
        assert len({c.id for c in result.contacts}) == len(result.contacts)


@given(st.text())
def test_any_text_raises_only_import_failed(text: str) -> None:
    """Arbitrary text either reads or raises ImportFailed naming the file, nothing else."""
    result = outcome(text)
    assert isinstance(result, ImportBatch) or result.path == "a.vcf"


folds = st.sampled_from(["\r\n", "\n"]).flatmap(
    lambda end: st.lists(
        st.builds("{}{}:{}".format, properties, parameters, values).flatmap(
            # A long value folded the way writers fold it, at a space or a tab.
            lambda line: st.integers(0, len(line)).map(
                lambda cut: line if cut in (0, len(line)) else f"{line[:cut]}{end} {line[cut:]}"
            )
        ),
        max_size=8,
    ).map(lambda lines: end.join(["BEGIN:VCARD", "VERSION:3.0", *lines, "END:VCARD", ""]))
)


@given(folds)
@example("BEGIN:VCARD\r\nVERSION:3.0\r\nEND:\r\n VCARD\r\nFN:\r\nEND:VCARD\r\n")
@example("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:\r\nEND:VCARD\r\nFN:\r\nEND:VCARD\r\n")
def test_the_quick_reading_of_a_plain_card_is_the_line_by_line_one(text: str) -> None:
    """Where a card allows the quick reading, it gives what reading it line by line gives."""
    from cadence.sources.vcard import _is_plain, _plain_properties, _properties

    if not _is_plain(text):
        return
    quick = outcome_of(lambda: _plain_properties(text, 7, "a.vcf"))
    slow = outcome_of(lambda: _properties(text, 7, "a.vcf"))
    assert quick == slow


def test_the_fixtures_read_alike_both_ways() -> None:
    """Every card of the exports in tests/fixtures reads the same quickly and line by line."""
    from cadence.sources.vcard import _card_texts, _is_plain, _plain_properties, _properties

    plain = 0
    for path in sorted(FIXTURES.glob("*.vcf")):
        text = fixture_text(path.name).removeprefix("\ufeff")
        for line, raw in _card_texts(text, path.name):
            slow = _properties(raw, line, path.name)
            if _is_plain(raw):
                plain += 1
                assert _plain_properties(raw, line, path.name) == slow
    assert plain > 0


def outcome_of(read: Any) -> object:
    """What ``read()`` returns, or the message and line of the ImportFailed it raises."""
    try:
        return read()
    except ImportFailed as error:
        return (str(error), error.line)
