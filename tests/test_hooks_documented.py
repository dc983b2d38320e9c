"""Meta-tests: every hook is documented, its generated reference is current, and it is tested."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from cadence import _hookdocs, _plugins, hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS_MD = ROOT / "docs" / "hooks.md"
GUIDE = ROOT / "docs" / "plugins.md"
HOOK_NAMES = hookspecs.hook_names()


def test_hook_names_are_exactly_the_hookspecs_pluggy_sees() -> None:
    """hook_names() lists what the plugin manager knows as hooks, and all carry the prefix."""
    manager = _plugins.Plugins().pm
    specified = sorted(
        name for name, caller in vars(manager.hook).items() if getattr(caller, "spec", None)
    )
    assert specified == HOOK_NAMES
    assert all(name.startswith("cadence_") for name in HOOK_NAMES)
    assert len(HOOK_NAMES) >= 5


def test_the_hook_reference_is_generated_from_the_current_docstrings() -> None:
    """docs/hooks.md is what the hookspec docstrings render to now."""
    assert HOOKS_MD.read_text(encoding="utf-8") == _hookdocs.render(), (
        "docs/hooks.md is stale: run python -m cadence._hookdocs docs/hooks.md"
    )


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_every_hook_appears_in_the_reference_with_its_signature(name: str) -> None:
    """Each hook has a section in docs/hooks.md showing its full signature."""
    function = getattr(hookspecs, name)
    spec = inspect.signature(function)
    arguments = ", ".join(f"{p.name}: {p.annotation}" for p in spec.parameters.values())
    text = HOOKS_MD.read_text(encoding="utf-8")
    assert f"\n## {name}\n" in text
    assert f"def {name}({arguments}) -> {spec.return_annotation}" in text


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_every_hook_says_its_arguments_return_and_when_it_is_called(name: str) -> None:
    """Each docstring documents every argument, the return value, when it is called, since when."""
    doc = _hookdocs.describe(getattr(hookspecs, name))
    parameters = list(inspect.signature(getattr(hookspecs, name)).parameters)
    assert list(doc.arguments) == parameters
    assert all(len(text) > 20 for text in doc.arguments.values())
    assert doc.summary
    assert doc.returns
    assert doc.called
    assert doc.since


@pytest.mark.parametrize("name", sorted(_hookdocs.PUBLIC_NAMES))
def test_the_types_the_reference_names_can_be_imported_from_where_it_says(name: str) -> None:
    """Each name in the reference's table of types is importable from the module it gives."""
    module, _, attribute = _hookdocs.PUBLIC_NAMES[name].rpartition(".")
    assert attribute == name
    assert getattr(importlib.import_module(module), attribute) is not None


def test_a_docstring_without_a_section_is_refused() -> None:
    """The generator refuses a hookspec docstring that lacks Returns or Called."""

    def cadence_incomplete(reminder: object) -> None:
        """Do something.

        Arguments:
            reminder: the reminder.

        New in 0.1.0.
        """

    with pytest.raises(ValueError, match=r"cadence_incomplete: .*no Returns, Called section"):
        _hookdocs.describe(cadence_incomplete)


def test_check_mode_fails_on_a_stale_file(tmp_path: Path) -> None:
    """``python -m cadence._hookdocs --check`` exits 1 on a stale file and 0 once regenerated."""
    target = tmp_path / "hooks.md"
    target.write_text("# Hook reference\n\nold text\n", encoding="utf-8")
    assert _hookdocs.main(["--check", str(target)]) == 1
    assert _hookdocs.main([str(target)]) == 0
    assert _hookdocs.main(["--check", str(target)]) == 0


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_every_hook_is_in_the_guide(name: str) -> None:
    """The plugin author's guide names each hook and links to its reference."""
    assert f"(hooks.md#{name})" in GUIDE.read_text(encoding="utf-8")


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_every_hook_has_a_test(name: str) -> None:
    """tests/test_plugins.py has a test named test_hook_<hook name>... for each hook."""
    tests = _test_names(ROOT / "tests" / "test_plugins.py")
    assert any(test.startswith(f"test_hook_{name}") for test in tests), (
        f"write test_hook_{name}_... in tests/test_plugins.py"
    )
