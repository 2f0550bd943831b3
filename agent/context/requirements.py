"""What the tests require of the code under test, as a short list the prompt puts before the code.

From each test file's facts: the project names it imports, how it calls them (arity, keyword names), which
methods and attributes it uses on them (directly, on variables bound to them, or on a variable named after a
class), the exceptions it expects (with their match= messages) and the fixtures it takes from conftest.py.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Callable, Mapping

from .languages import Facts

MAX_LINES = 40
_ON_NEW = re.compile(r"^(\w+)\(.*\)\.(\w+)$", re.S)


def _arity(counts: set[tuple[int, tuple[str, ...]]]) -> str:
    positional = sorted({n for n, _ in counts})
    keywords = sorted({k for _, names in counts for k in names})
    shape = f"{positional[0]}" if len(positional) == 1 else f"{positional[0]}–{positional[-1]}"
    text = f"{shape} positional argument{'s' if positional[-1] != 1 else ''}"
    return text + (f", keywords {', '.join(keywords)}" if keywords else "")


def requirements(tests: Mapping[str, Facts], fixtures: Mapping[str, str],
                 is_project: Callable[[str], bool]) -> list[str]:
    """Bullet lines; fixtures maps a conftest fixture's name to the file defining it."""
    lines: list[str] = []
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
            parts = []
            if target in calls:
                parts.append(f"called with {_arity(calls[target])}")
            used = members.get(target, {})
            methods = [f"{name}({_arity(shapes).split(' positional')[0]})" for name, shapes in sorted(used.items())
                       if shapes]
            attributes = [name for name, shapes in sorted(used.items()) if not shapes]
            if methods:
                parts.append("methods used: " + ", ".join(methods))
            if attributes:
                parts.append("attributes used: " + ", ".join(attributes))
            expected = [r for r in facts.raises if imported.get(r.exception) == target]
            if expected:
                parts.append("expected to be raised" + "".join(f" (match={r.match})" for r in expected if r.match))
            if parts:
                lines.append(f"- `{target}`: " + "; ".join(parts))
        for raised in facts.raises:
            if raised.exception not in imported:
                match = f", match={raised.match}" if raised.match else ""
                lines.append(f"- raises `{raised.exception}`{match} ({path}:{raised.line})")
        for fixture in facts.fixtures_used:
            if fixture in fixtures:
                lines.append(f"- fixture `{fixture}` comes from {fixtures[fixture]} ({path})")
    unique = list(dict.fromkeys(lines))
    return unique[:MAX_LINES] + ([f"- … {len(unique) - MAX_LINES} more"] if len(unique) > MAX_LINES else [])
