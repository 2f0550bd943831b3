"""Held-out tests: tests the model never sees, run once the rest is green, as a check that the code generalises
beyond the tests it was shown. Two kinds: whole test functions (`--holdout FRACTION`), and, by default where the
tests allow it, one case of each test parametrized over four or more literal cases."""
from __future__ import annotations

import ast
import random
import zlib
from dataclasses import dataclass
from typing import Iterable, Mapping

from ..core.python_analysis import PythonAnalyzer

MIN_CASES = 4  # a parametrized test with fewer cases keeps them all: three shown cases are the least left


@dataclass(frozen=True)
class Held:
    nodeid: str  # path::function, or path::function[id] for one case
    line: int  # where it is written in the test file, 1-based
    case: int | None = None  # the case's index in its parametrize list; None: the whole function

    @property
    def path(self) -> str:
        return self.nodeid.split("::", 1)[0]

    @property
    def function(self) -> str:
        return self.nodeid.split("::", 1)[1].split("[", 1)[0]


def _definitions(source: bytes) -> Iterable[tuple[object, object]]:
    """(the statement, its function definition) for each top-level function, decorated or not."""
    for node in PythonAnalyzer.shared().parse(source).root_node.named_children:
        definition = node.child_by_field_name("definition") if node.type == "decorated_definition" else node
        if definition is not None and definition.type == "function_definition":
            yield node, definition


def choose(tests: Mapping[str, bytes], fraction: float, seed: int | None) -> list[Held]:
    """The test functions to hold out (at least one kept visible in every file)."""
    rng = random.Random(seed)
    held = []
    for path, source in sorted(tests.items()):
        lines = {definition.child_by_field_name("name").text.decode(): definition.start_point[0] + 1
                 for _, definition in _definitions(source) if _is_test(definition)}
        # pytest deselects by prefix: a function whose name begins another's cannot be left out alone
        lines = {name: line for name, line in lines.items()
                 if not any(other != name and other.startswith(name) for other in lines)}
        count = min(round(len(lines) * fraction), len(lines) - 1)
        held += [Held(f"{path}::{name}", lines[name]) for name in sorted(rng.sample(sorted(lines), count))] \
            if count > 0 else []
    return held


def _is_test(definition) -> bool:
    return definition.child_by_field_name("name").text.decode().startswith("test")


def _parametrize(statement):
    """The call of a function's one parametrize decorator, or None where it has none or several."""
    if statement.type != "decorated_definition":
        return None
    calls = []
    for decorator in statement.named_children:
        call = decorator.named_children[0] if decorator.type == "decorator" and decorator.named_children else None
        if call is not None and call.type == "call" and \
                call.child_by_field_name("function").text.decode().rsplit(".", 1)[-1] == "parametrize":
            calls.append(call)
    return calls[0] if len(calls) == 1 else None


def _arguments(call) -> tuple[object, object] | None:
    """(argnames, argvalues) of a parametrize call written plainly: no ids, no indirect parametrization."""
    arguments = [a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"]
    keywords = {a.child_by_field_name("name").text.decode(): a.child_by_field_name("value")
                for a in arguments if a.type == "keyword_argument"}
    positional = [a for a in arguments if a.type != "keyword_argument"]
    if set(keywords) - {"argnames", "argvalues"} or any(a.type.endswith("splat") for a in positional):
        return None
    names = keywords.get("argnames", positional[0] if positional else None)
    values = keywords.get("argvalues", positional[1] if len(positional) > 1 else None)
    return None if names is None or values is None else (names, values)


def _cases(statement) -> list | None:
    """The cases of a function's one parametrize decorator, where they are a list or tuple written out."""
    call = _parametrize(statement)
    arguments = _arguments(call) if call is not None else None
    if arguments is None or arguments[1].type not in ("list", "tuple"):
        return None
    cases = [e for e in arguments[1].named_children if e.type != "comment"]
    return None if any(e.type in ("list_splat", "dictionary_splat") for e in cases) else cases


def _literal(node) -> object:
    try:
        return ast.literal_eval(node.text.decode())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, UnicodeDecodeError):
        return _NOT_LITERAL


_NOT_LITERAL = object()


def _case_ids(statement) -> list[str | None] | None:
    """pytest's id of each case, as it makes them from literal values (None where makegreen cannot be sure of
    it, and for pytest.param cases, left visible), or None for a test whose cases it does not hold out from."""
    call = _parametrize(statement)
    arguments = _arguments(call) if call is not None else None
    cases = _cases(statement)
    if arguments is None or cases is None:
        return None
    names = _literal(arguments[0])
    if isinstance(names, str):
        names = [name.strip() for name in names.split(",") if name.strip()]
    if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, str) for n in names):
        return None
    ids: list[str | None] = []
    for index, case in enumerate(cases):
        value = _NOT_LITERAL if _marked(case) else _literal(case)
        values = value if len(names) > 1 else (value,)
        if value is _NOT_LITERAL or not isinstance(values, (tuple, list)) or len(values) != len(names):
            ids.append(None)
            continue
        parts = [_id_part(v, name, index) for v, name in zip(values, names)]
        ids.append(None if None in parts else "-".join(parts))
    known = [i for i in ids if i is not None]
    return None if len(set(known)) != len(known) else ids  # duplicates: pytest renames them


def _id_part(value: object, name: str, index: int) -> str | None:
    """pytest's id for one value: plain printable ASCII strings and numbers as they print, containers by the
    argument's name and the case's index; anything else (escaped text, objects) is not held out."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value if value and value.isascii() and value.isprintable() else None
    if isinstance(value, (tuple, list, dict, set, frozenset)):
        return f"{name}{index}"
    return None


def choose_cases(tests: Mapping[str, bytes], collected: Iterable[str], seed: int | None) -> list[Held]:
    """One case of each top-level test parametrized over MIN_CASES or more literal cases, chosen by seed and
    the test's name. Where the baseline collected the test, the case's id must be one it collected."""
    collected = set(collected)
    held = []
    for path, source in sorted(tests.items()):
        for statement, definition in _definitions(source):
            name = definition.child_by_field_name("name").text.decode()
            ids = _case_ids(statement) if _is_test(definition) else None
            if ids is None or len(ids) < MIN_CASES:
                continue
            prefix = f"{path}::{name}["
            seen = {nodeid for nodeid in collected if nodeid.startswith(prefix)}
            candidates = [index for index, case_id in enumerate(ids) if case_id is not None
                          and (not seen or f"{prefix}{case_id}]" in seen)]
            if candidates:
                index = random.Random(zlib.crc32(f"{seed}:{prefix}".encode())).choice(candidates)
                held.append(Held(f"{prefix}{ids[index]}]", _cases(statement)[index].start_point[0] + 1, index))
    return held


def _marked(case) -> bool:
    """A pytest.param(...) case: it may carry marks or an id of its own; left visible."""
    function = case.child_by_field_name("function") if case.type == "call" else None
    return function is not None and function.text.decode().rsplit(".", 1)[-1] == "param"


def strip(source: bytes, functions: set[str], cases: Mapping[str, set[int]] | None = None) -> bytes:
    """The source without the named top-level test functions (their decorators included), and without the
    given cases (by index) of the named functions' parametrize lists."""
    cuts = []
    for statement, definition in _definitions(source):
        name = definition.child_by_field_name("name").text.decode()
        if name in functions:
            cuts.append((statement.start_byte, statement.end_byte))
        elif cases and name in cases:
            elements = _cases(statement) or []
            for index in sorted(cases[name]):
                if index < len(elements):
                    cuts.append(_element_span(source, elements[index]))
    for start, end in sorted(cuts, reverse=True):
        source = source[:start] + source[end:]
    return source


def _element_span(source: bytes, element) -> tuple[int, int]:
    """An element of a list, with the comma after it and the blank up to the next element or line."""
    end = element.end_byte
    while end < len(source) and source[end:end + 1] in b" \t":
        end += 1
    if source[end:end + 1] == b",":
        end += 1
    while end < len(source) and source[end:end + 1] in b" \t":
        end += 1
    start = element.start_byte
    line_start = source.rfind(b"\n", 0, start) + 1
    line_end = source.find(b"\n", end)
    line_end = len(source) if line_end < 0 else line_end
    rest = source[end:line_end].strip()
    if not source[line_start:start].strip() and (not rest or rest.startswith(b"#")):
        start, end = line_start, min(line_end + 1, len(source))  # the case had its own line: it goes, comment too
    return start, end


def views(tests: Mapping[str, bytes], held: Iterable[Held]) -> dict[str, bytes]:
    """The test files as the model sees them: the held-out functions and cases removed."""
    functions: dict[str, set[str]] = {}
    cases: dict[str, dict[str, set[int]]] = {}
    for item in held:
        if item.case is None:
            functions.setdefault(item.path, set()).add(item.function)
        else:
            cases.setdefault(item.path, {}).setdefault(item.function, set()).add(item.case)
    return {path: strip(tests[path], functions.get(path, set()), cases.get(path))
            for path in sorted(set(functions) | set(cases))}


def held_out(nodeid: str, held: Iterable[Held]) -> bool:
    return any(nodeid == h.nodeid or (h.case is None and nodeid.startswith(h.nodeid + "[")) for h in held)
