"""The hook reference (docs/hooks.md), generated from the hookspec docstrings.

The docstrings in ``cadence.hookspecs`` are the only copy of the reference;
this module turns them into Markdown. Regenerate the file after editing a
hookspec with ``python -m cadence._hookdocs docs/hooks.md``; ``--check``
exits non-zero when the file is stale, and the test suite does the same.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs

from cadence import hookspecs

__all__ = ["HookDoc", "describe", "main", "render", "signature"]

#: Where each name in a hook's signature comes from, for the reference's table of types.
PUBLIC_NAMES: dict[str, str] = {
    "Delivery": "cadence.Delivery",
    "Register": "cadence.typing.Register",
    "Reminder": "cadence.Reminder",
    "Route": "cadence.Route",
    "datetime": "datetime.datetime",
}

_BUILTIN_NAMES = frozenset({"None", "bool", "int", "str", "float", "object"})
_SECTIONS = ("Arguments", "Returns", "Called")
_SECTION = re.compile(r"^(\w+):$")
_ITEM = re.compile(r"^(\w+): (.*)$")
_SINCE = re.compile(r"^New in (\d+\.\d+(?:\.\d+)?)\.$")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@attrs.frozen
class HookDoc:
    """What a hookspec's docstring says, section by section."""

    name: str
    signature: str
    summary: str
    arguments: dict[str, str]
    returns: str
    called: str
    since: str


def signature(function: Callable[..., object]) -> str:
    """``def name(argument: Type, ...) -> Return``, as written in the hookspec."""
    spec = inspect.signature(function)
    parameters = ", ".join(f"{p.name}: {p.annotation}" for p in spec.parameters.values())
    return f"def {function.__name__}({parameters}) -> {spec.return_annotation}"


def _join(lines: Sequence[str]) -> str:
    return " ".join(line.strip() for line in lines if line.strip())


def _paragraphs(lines: Sequence[str]) -> list[str]:
    found: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            found[-1].append(line)
        elif found[-1]:
            found.append([])
    return [_join(block) for block in found if block]


def _items(lines: Sequence[str], hook: str) -> dict[str, str]:
    items: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        match = _ITEM.match(line[4:]) if line.startswith("    ") and line[4] != " " else None
        if match:
            current = items.setdefault(match.group(1), [])
            current.append(match.group(2))
        elif line.strip():
            if current is None:
                raise ValueError(f"{hook}: Arguments must list 'name: text' items")
            current.append(line)
    return {name: _join(text) for name, text in items.items()}


def describe(function: Callable[..., object]) -> HookDoc:
    """Read a hookspec's docstring; a docstring missing a section raises ValueError."""
    name = function.__name__
    lines = inspect.cleandoc(function.__doc__ or "").splitlines()
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for line in lines:
        match = _SECTION.match(line)
        if match and match.group(1) in _SECTIONS:
            current = match.group(1)
            sections[current] = []
        elif line.strip() and not line.startswith(" "):
            current = ""
            sections[""].append(line)
        else:
            sections[current].append(line)
    missing = [section for section in _SECTIONS if section not in sections]
    if missing:
        raise ValueError(f"{name}: the docstring has no {', '.join(missing)} section")
    loose = _paragraphs(sections[""])
    since = _SINCE.match(loose[-1]) if loose else None
    if since is None:
        raise ValueError(f"{name}: the docstring must end with 'New in X.Y.'")
    return HookDoc(
        name=name,
        signature=signature(function),
        summary=" ".join(loose[:-1]),
        arguments=_items(sections["Arguments"], name),
        returns=_join(sections["Returns"]),
        called=_join(sections["Called"]),
        since=since.group(1),
    )


def _hooks() -> list[Callable[..., object]]:
    """The hookspecs in the order the module defines them: registration first."""
    found: list[Callable[..., object]] = [getattr(hookspecs, n) for n in hookspecs.hook_names()]
    return sorted(found, key=lambda function: inspect.getsourcelines(function)[1])


def _type_names(functions: Sequence[Callable[..., object]]) -> list[str]:
    names: set[str] = set()
    for function in functions:
        spec = inspect.signature(function)
        annotations = [p.annotation for p in spec.parameters.values()]
        annotations.append(spec.return_annotation)
        for annotation in annotations:
            names.update(_NAME.findall(str(annotation)))
    types = sorted(names - _BUILTIN_NAMES)
    unknown = [name for name in types if name not in PUBLIC_NAMES]
    if unknown:
        raise ValueError(f"say where {', '.join(unknown)} comes from in PUBLIC_NAMES")
    return types


def _intro() -> str:
    """The paragraph of the hookspecs module's docstring that speaks to plugin authors."""
    text = inspect.cleandoc(hookspecs.__doc__ or "")
    return _paragraphs(text.splitlines()[1:])[0]


def _section(doc: HookDoc) -> list[str]:
    out = [
        f"## {doc.name}",
        "",
        "```python",
        "@cadence.hookimpl",
        f"{doc.signature}: ...",
        "```",
        "",
        doc.summary,
        "",
        "**Arguments**",
        "",
    ]
    out += [f"- `{argument}`: {text}" for argument, text in doc.arguments.items()]
    out += [
        "",
        f"**Returns**: {doc.returns}",
        "",
        f"**Called**: {doc.called}",
        "",
        f"*New in {doc.since}.*",
        "",
    ]
    return out


def render() -> str:
    """The whole of docs/hooks.md."""
    functions = _hooks()
    docs = [describe(function) for function in functions]
    out = [
        "# Hook reference",
        "",
        "<!-- Generated from the docstrings in src/cadence/hookspecs.py by",
        "     `python -m cadence._hookdocs docs/hooks.md`. Edit those, not this file. -->",
        "",
    ]
    out += [_intro(), ""]
    out += ["Where the names in the signatures come from:", "", "| name | import |", "|---|---|"]
    out += [f"| `{name}` | `{PUBLIC_NAMES[name]}` |" for name in _type_names(functions)]
    out += ["", "The hooks:", ""]
    out += [f"- [{doc.name}](#{doc.name}): {doc.summary}" for doc in docs]
    out.append("")
    for doc in docs:
        out += _section(doc)
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write the hook reference to a file, or with ``--check`` say whether it is up to date."""
    parser = argparse.ArgumentParser(prog="python -m cadence._hookdocs", description=__doc__)
    parser.add_argument("path", nargs="?", default="docs/hooks.md", type=Path)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    options = parser.parse_args(argv)
    text = render()
    path: Path = options.path
    if options.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is stale; run python -m cadence._hookdocs {path}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
