"""Build hook: compile cadence's gettext catalogs (.po) into the wheel as .mo files.

The repository holds only the .po catalogs that translators edit; each wheel
carries them compiled, so that reading a language at run time is loading a
.mo file rather than parsing a .po. An editable install reads the .po files
of the working tree instead (``cadence.l10n`` compiles them in memory).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LOCALES = Path("src") / "cadence" / "l10n" / "locales"


class CatalogsHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compiles ``src/cadence/l10n/locales/<lang>/LC_MESSAGES/*.po`` into the wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Write each catalog's .mo to a scratch folder and add it beside its .po."""
        if self.target_name != "wheel" or version == "editable":
            return
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        self._scratch = Path(tempfile.mkdtemp(prefix="cadence-catalogs-"))
        root = Path(self.root)
        for po in sorted((root / LOCALES).glob("*/LC_MESSAGES/*.po")):
            with po.open("rb") as fp:
                catalog = read_po(fp, domain=po.stem)
            relative = po.relative_to(root / "src").with_suffix(".mo")
            mo = self._scratch / relative
            mo.parent.mkdir(parents=True, exist_ok=True)
            with mo.open("wb") as fp:
                # Fuzzy entries are not translations yet: they stay out, as msgfmt leaves them.
                write_mo(fp, catalog, use_fuzzy=False)
            build_data["force_include"][str(mo)] = relative.as_posix()

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the scratch folder once the wheel is written."""
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
