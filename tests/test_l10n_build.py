"""The wheel carries cadence's catalogs compiled: a .mo beside each .po, built by hatch_build.py."""

from __future__ import annotations

import gettext
import io
import zipfile
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from cadence.l10n import CATALOGS, DOMAIN, LOCALE_DIR, translations

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of the project, built in this process by hatchling with the project's hook."""
    from hatchling.builders.wheel import WheelBuilder

    out = tmp_path_factory.mktemp("wheel")
    (built,) = WheelBuilder(str(ROOT)).build(directory=str(out), versions=["standard"])
    return Path(built)


def test_the_wheel_holds_every_catalog_compiled_as_its_po_says(wheel: Path) -> None:
    """Each language's .mo translates every message of its .po, plurals by its own rule."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for lang in CATALOGS:
            folder = f"cadence/l10n/locales/{lang}/LC_MESSAGES"
            assert f"{folder}/{DOMAIN}.po" in names
            compiled = gettext.GNUTranslations(io.BytesIO(archive.read(f"{folder}/{DOMAIN}.mo")))
            with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as fp:
                catalog = read_po(fp, locale=lang)
            checked = 0
            for message in catalog:
                if not message.id:
                    continue
                if isinstance(message.id, str):
                    assert compiled.gettext(message.id) == message.string, (lang, message.id)
                else:
                    one, many = message.id
                    form = gettext.c2py(catalog.plural_expr)
                    for n in range(30):
                        expected = message.string[form(n)]
                        assert compiled.ngettext(one, many, n) == expected, (lang, one, n)
                checked += 1
            assert checked > 50, lang
    # Nothing was written into the source tree: the .mo files exist only in the wheel
    # (and in an installed copy of it, which is where LOCALE_DIR is when the suite
    # runs against a wheel).
    assert not list((ROOT / "src" / "cadence" / "l10n" / "locales").glob("*/LC_MESSAGES/*.mo"))


def test_a_catalog_compiled_alone_is_read_without_its_po(wheel: Path, tmp_path: Path) -> None:
    """Unpacked without the .po files, the wheel's .mo files still translate."""
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith("cadence/l10n/locales/") and name.endswith(".mo"):
                archive.extract(name, tmp_path)
    folder = tmp_path / "cadence" / "l10n" / "locales"
    spanish = translations("es", DOMAIN, folder)
    assert spanish.gettext("Check in with {name}") == "Ponte en contacto con {name}"
    assert translations("de_AT", DOMAIN, folder).gettext("today") == "heute"
