"""Exit non-zero when a dependency's declared floor is not the version installed.

Run in the ``lowest`` tox environment after installing with uv's
``--resolution lowest-direct``: a floor that cannot be installed as written
(no wheel for this Python, a yanked release) would otherwise be replaced
silently by a later version, and the floor would go untested.
"""

from __future__ import annotations

import importlib.metadata as metadata
import sys

from packaging.requirements import Requirement
from packaging.version import Version

EXTRAS = ("test", "postgres")


def off_floor() -> list[str]:
    """One line for each ``>=`` floor that differs from what is installed."""
    lines = []
    for text in metadata.requires("cadence") or []:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is not None and not any(marker.evaluate({"extra": e}) for e in EXTRAS):
            continue
        installed = Version(metadata.version(requirement.name))
        for spec in requirement.specifier:
            if spec.operator == ">=" and Version(spec.version) != installed:
                lines.append(f"{requirement.name}: floor {spec.version}, installed {installed}")
    return lines


if __name__ == "__main__":
    found = off_floor()
    print(*found, sep="\n")
    sys.exit(1 if found else 0)
