"""Install every first-party plugin under plugins/ into the running interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
projects = sorted(p.parent for p in here.glob("*/pyproject.toml"))
if projects:
    subprocess.check_call(  # noqa: S603  # our own interpreter installing our own folders
        [sys.executable, "-m", "pip", "install", "--quiet", *map(str, projects)]
    )
print("installed:", ", ".join(p.name for p in projects) or "nothing")
