"""The core plans from values alone: it imports nothing from the shell and never reads the clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE_DIR = Path(__file__).resolve().parents[1] / "src" / "cadence" / "core"

#: The pure core, as DESIGN.md draws it: every module under ``cadence/core/``.
MODULES = sorted(path.stem for path in CORE_DIR.glob("*.py"))


def test_the_core_folder_holds_the_pure_modules() -> None:
    """The planning modules live under core/, so the rule below covers them."""
    assert {"cadences", "model", "occasions", "planning", "reminders", "roster", "time"} <= set(
        MODULES
    )


#: What the core may import from outside cadence.
ALLOWED = frozenset(
    {
        "__future__",
        "array",
        "attrs",
        "bisect",
        "calendar",
        "collections",
        "dateutil",
        "datetime",
        "fnmatch",
        "functools",
        "hashlib",
        "json",
        "math",
        "re",
        "threading",
        "typing",
        "zoneinfo",
    }
)

#: Methods that read the clock on datetime/date, and functions of the time module.
CLOCK_METHODS = frozenset({"now", "today", "utcnow"})
TIME_FUNCTIONS = frozenset({"time", "time_ns", "monotonic", "perf_counter", "localtime", "gmtime"})


def _imports(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("module", MODULES)
def test_a_core_module_imports_only_the_core_and_pure_libraries(module: str) -> None:
    """No store, adapter, network, file or clock module reaches the core."""
    tree = ast.parse((CORE_DIR / f"{module}.py").read_text(encoding="utf-8"))
    for name in _imports(tree):
        if name.startswith("cadence"):
            assert name.startswith("cadence.core."), f"{module} imports {name}"
        else:
            assert name.split(".")[0] in ALLOWED, f"{module} imports {name}"


@pytest.mark.parametrize("module", MODULES)
def test_a_core_module_never_reads_the_clock(module: str) -> None:
    """``now`` is always a parameter: no datetime.now(), date.today() or time.time()."""
    tree = ast.parse((CORE_DIR / f"{module}.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            reads = node.func.attr in CLOCK_METHODS or (
                isinstance(owner, ast.Name)
                and owner.id == "time"
                and node.func.attr in TIME_FUNCTIONS
            )
            assert not reads, f"{module} line {node.lineno} calls .{node.func.attr}()"
