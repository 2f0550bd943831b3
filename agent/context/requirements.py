"""What the tests require of the code under test, as a short list the prompt puts before the code.

From each test file's facts: the project names it imports, how it calls them (arity, keyword names), which
methods and attributes it uses on them (directly, on variables bound to them, or on a variable named after a
class), the exceptions it expects (with their match= messages) and the fixtures it takes from conftest.py.
"""
from __future__ import annotations

import builtins
import posixpath
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

from ..core.facts import Facts
from ..core.prompting import render

MAX_LINES = 40
_ON_NEW = re.compile(r"^(\w+)\(.*\)\.(\w+)$", re.S)


@dataclass(frozen=True)
class Arity:
    """How a name is called across a test file: the fewest and most positional arguments, the keywords."""

    low: int
    high: int
    keywords: tuple[str, ...] = ()

    @property
    def shape(self) -> str:
        return f"{self.low}" if self.low == self.high else f"{self.low}–{self.high}"


def _arity(counts: set[tuple[int, tuple[str, ...]]]) -> Arity:
    positional = sorted({n for n, _ in counts})
    return Arity(positional[0], positional[-1], tuple(sorted({k for _, names in counts for k in names})))


@dataclass(frozen=True)
class Requirement:
    """One line of prompts/requirements.md: a project name the tests use (kind "target"), an exception they
    expect that they do not import ("raises"), or a fixture from a conftest.py ("fixture")."""

    kind: str
    name: str
    calls: Arity | None = None
    methods: tuple[str, ...] = ()  # as name(shape)
    attributes: tuple[str, ...] = ()
    raised: bool = False  # expected to be raised
    matches: tuple[str, ...] = ()  # the match= of each expectation that has one
    origin: str = ""  # where: the test file (and line), or the conftest.py defining the fixture
    source: str = ""  # the test file using the fixture


def requirements(tests: Mapping[str, Facts], fixtures: Mapping[str, str],
                 is_project: Callable[[str], bool]) -> list[Requirement]:
    """What the tests require, each once; fixtures maps a conftest fixture's name to the file defining it."""
    lines: list[Requirement] = []
    for path, facts in tests.items():
        imported: dict[str, str] = {}  # local name → dotted target
        for found in facts.imports:
            if found.level == 0 and not is_project(found.module):
                continue
            if found.names:
                imported.update({name: f"{found.module}.{name}" for name in found.names if name != "*"})
            else:
                imported[found.module.split(".")[0]] = found.module.split(".")[0]
        calls: dict[str, set] = defaultdict(set)
        members: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
        variables = {var: callee for var, callee in facts.bindings if callee in imported}
        for name in imported:  # `store` for `Store`: the usual way tests name an instance
            if name[:1].isupper():
                variables.setdefault(name.lower(), name)
        for call in facts.calls:
            head, _, rest = call.target.partition(".")
            chained = _ON_NEW.match(call.target)  # Cart().checkout(): a method on a fresh instance
            if chained and chained.group(1) in imported:
                members[imported[chained.group(1)]][chained.group(2)].add((call.positional, call.keywords))
            elif call.target in imported:
                calls[imported[call.target]].add((call.positional, call.keywords))
            elif head in imported and rest and "." not in rest:
                calls[f"{imported[head]}.{rest}"].add((call.positional, call.keywords))
            elif head in variables and rest and "." not in rest:
                members[imported[variables[head]]][rest].add((call.positional, call.keywords))
        for obj, attr in facts.attributes:
            if obj in variables and attr not in members[imported[variables[obj]]]:
                members[imported[variables[obj]]][attr] = set()
        for target in sorted(set(imported.values()) | set(calls)):
            used = members.get(target, {})
            expected = [r for r in facts.raises if imported.get(r.exception) == target]
            found = Requirement(
                "target", target, _arity(calls[target]) if target in calls else None,
                tuple(f"{name}({_arity(shapes).shape})" for name, shapes in sorted(used.items()) if shapes),
                tuple(name for name, shapes in sorted(used.items()) if not shapes), bool(expected),
                tuple(r.match for r in expected if r.match))
            if found.calls or found.methods or found.attributes or found.raised:
                lines.append(found)
        lines += [Requirement("raises", raised.exception, matches=(raised.match,) if raised.match else (),
                              origin=f"{path}:{raised.line}") for raised in facts.raises
                  if raised.exception not in imported]
        lines += [Requirement("fixture", fixture, origin=fixtures[fixture], source=path)
                  for fixture in facts.fixtures_used if fixture in fixtures]
    return list(dict.fromkeys(lines))


def unmet(found: list[Requirement], sources: Mapping[str, Facts], paths: Iterable[str]) -> list[Requirement]:
    """What the code does not provide yet: a name no source file defines (nor any file is named for), a method
    its class lacks, an exception not built in. What the code already has, the test files and the code shown say
    once; a stub that defines every name leaves nothing to list."""
    top = {d.name for facts in sources.values() for d in facts.definitions if not d.parent}
    methods = {(d.parent, d.name) for facts in sources.values() for d in facts.definitions if d.parent}
    modules = {posixpath.splitext(path)[0].replace("/", ".") for path in paths}
    modules |= {module.removesuffix(".__init__") for module in modules}
    modules |= {module[4:] for module in modules if module.startswith("src.")}

    def has(item: Requirement) -> bool:
        if item.kind == "raises":
            return item.name in _BUILTIN
        if item.kind != "target":
            return False
        name = item.name.rsplit(".", 1)[-1]
        if item.name in modules:
            return True
        return name in top and all((name, method.split("(")[0]) in methods for method in item.methods)

    return [item for item in found if not has(item)]


_BUILTIN = frozenset(name for name in dir(builtins) if name[:1].isupper())


def render_requirements(found: list[Requirement]) -> str:
    return render("requirements.md", requirements=found[:MAX_LINES], more=max(0, len(found) - MAX_LINES)).rstrip("\n")
