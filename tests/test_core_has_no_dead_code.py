"""Every public function and method of the core has a caller: code nobody uses is not kept."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "src" / "cadence" / "core"
# Where a caller may be: the package, its tests and benchmarks, the plugins, the docs.
PYTHON = ("src", "tests", "bench", "plugins")
PROSE = ("docs", "README.md")


def _defined() -> Iterator[tuple[str, str, bool]]:
    """(where, name, is a method) for each public function and method of the core."""
    for module in sorted(CORE.glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                yield module.name, node.name, False
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and not item.name.startswith("_"):
                        yield f"{module.name} {node.name}", item.name, True


def _python_files() -> Iterator[Path]:
    for folder in PYTHON:
        for path in (ROOT / folder).rglob("*.py"):
            if not {".tox", ".venv", "build"} & set(path.relative_to(ROOT).parts):
                yield path


def _called() -> tuple[set[str], set[str]]:
    """Names used as plain names or imported, and names used as attributes."""
    names: set[str] = set()
    attributes: set[str] = set()
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.alias):
                names.add(node.name.rpartition(".")[2])
            elif isinstance(node, ast.Attribute):
                attributes.add(node.attr)
    for place in PROSE:
        found = ROOT / place
        for path in [found] if found.is_file() else sorted(found.rglob("*.md")):
            for word in re.findall(r"\b\w+(?=\()|(?<=\.)\w+", path.read_text(encoding="utf-8")):
                names.add(word)
                attributes.add(word)
    return names, attributes


def test_every_public_function_and_method_of_the_core_is_used() -> None:
    """A public function is imported or called somewhere, a method is reached as an attribute.

    Being listed in a module's ``__all__`` is not a use: a name no code, test
    or page reaches is dead weight that reviews and mutation tests pay for.
    """
    names, attributes = _called()
    unused = [
        f"{where}: {name}"
        for where, name, method in _defined()
        if name not in (attributes if method else names | attributes)
    ]
    assert unused == []


def test_the_check_sees_the_core() -> None:
    """The walk finds the core's functions and methods, so an empty result above means something."""
    defined = {name for _, name, _ in _defined()}
    assert {"plan", "parse_duration", "local_moment", "snoozed_until"} <= defined
