"""Print the suite's line and branch coverage apart, from ``coverage json``'s report.

``coverage report`` gives one figure for lines and branches together; this
says what each is. Run by tox's ``tests`` environment after the report.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def main(report: str) -> None:
    """Print one line: lines, branches, and both together, as covered of total."""
    totals = json.loads(Path(report).read_text(encoding="utf-8"))["totals"]
    lines, statements = totals["covered_lines"], totals["num_statements"]
    branches, all_branches = totals["covered_branches"], totals["num_branches"]
    print(
        "coverage, subprocesses included: "
        f"lines {_percent(lines, statements)} ({lines} of {statements}), "
        f"branches {_percent(branches, all_branches)} ({branches} of {all_branches}), "
        f"together {_percent(lines + branches, statements + all_branches)}"
    )


if __name__ == "__main__":
    main(sys.argv[1])
