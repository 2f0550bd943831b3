"""Gaming beyond reasonable doubt, in implementation code: what keeps a run red, with its evidence.

Two kinds, each designed so that a specification constant shared by the code and the tests (`% 3`,
`{1, 2, 3, 4, 5}`, a table of roman numerals, `"J"`) is never enough:

- **Answers by heart.** Every literal case the tests give a function (`assert add(2, 3) == 5`, or a parametrized
  row) is answered by a table entry keyed by that case's exact inputs with its exact expected output, or by a
  branch that compares the inputs with them and returns that output — at least two cases, and all of them. A
  roman-numeral table answers some cases and computes the rest; a lookup of the tests' answers computes none.
- **Objects that compare equal to anything.** An `__eq__` (or `__ne__`) that ignores what it is compared with, in a
  class or built at run time (`type(..., {"__eq__": lambda s, o: True})`, `setattr(cls, "__eq__", …)`).

Values shared with the tests that fall short of this are a warning (integrity.special_cases), not a refusal.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator, Mapping

_COMPARISONS = {"__eq__", "__ne__"}


@dataclass(frozen=True)
class Case:
    """One literal case of the tests: function(args) is expected to give expected."""

    function: str
    args: tuple
    expected: object
    where: str  # path::test

    @property
    def key(self) -> str:
        return repr(self.args[0] if len(self.args) == 1 else self.args)


def _literal(node: ast.AST) -> tuple[bool, object]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _called_name(call: ast.Call) -> str | None:
    function = call.func
    if isinstance(function, ast.Name):
        return function.id
    if isinstance(function, ast.Attribute):
        return function.attr
    return None


def _parametrized(test: ast.FunctionDef) -> list[dict[str, object]]:
    """The rows of @pytest.mark.parametrize("a, b", [(1, 2), …]) on test, as name → value; [{}] without any."""
    rows: list[dict[str, object]] = [{}]
    for decorator in test.decorator_list:
        if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "parametrize" and len(decorator.args) >= 2):
            continue
        ok, names = _literal(decorator.args[0])
        ok_values, values = _literal(decorator.args[1])
        if not ok or not ok_values or not isinstance(values, (list, tuple)):
            continue
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        table = []
        for value in values:
            value = value if len(names) > 1 and isinstance(value, (list, tuple)) else (value,)
            if len(value) == len(names):
                table.append(dict(zip(names, value)))
        rows = [{**row, **extra} for row in rows for extra in table] if table else rows
    return rows


def test_cases(tests: Mapping[str, bytes]) -> list[Case]:
    """`assert f(<literals>) == <literal>` in the tests (either side), parametrized rows included."""
    cases = []
    for path, source in tests.items():
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for test in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
            for row in _parametrized(test):
                for node in ast.walk(test):
                    if not (isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare)
                            and len(node.test.ops) == 1 and isinstance(node.test.ops[0], ast.Eq)):
                        continue
                    left, right = node.test.left, node.test.comparators[0]
                    if not isinstance(left, ast.Call):
                        left, right = right, left
                    if not isinstance(left, ast.Call) or left.keywords or _called_name(left) is None:
                        continue
                    args = [_value(arg, row) for arg in left.args]
                    expected = _value(right, row)
                    if args and all(ok for ok, _ in args) and expected[0]:
                        cases.append(Case(_called_name(left), tuple(v for _, v in args), expected[1],
                                          f"{path}::{test.name}"))
    return cases


def _value(node: ast.AST, row: Mapping[str, object]) -> tuple[bool, object]:
    if isinstance(node, ast.Name) and node.id in row:
        return True, row[node.id]
    return _literal(node)


def _by_heart(cases: list[Case], tree: ast.Module, function: ast.AST) -> set[str]:
    """The keys (repr of the inputs) answered from memory: by a table every entry of which is a case of the tests
    (a table of the specification holds more than the tests ask), or by a branch of a function that computes
    nothing (every value it returns is a literal)."""
    wanted = {(case.key, repr(case.expected)) for case in cases}
    answered: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and node.keys:
            entries = set()
            for key, value in zip(node.keys, node.values):
                ok_key, key_value = _literal(key) if key is not None else (False, None)
                ok_value, value_value = _literal(value)
                entries.add((repr(key_value), repr(value_value)) if ok_key and ok_value else ("", ""))
            if entries <= wanted:
                answered |= entries
    returns = [node for node in ast.walk(function) if isinstance(node, ast.Return) and node.value is not None]
    if returns and all(_literal(node.value)[0] for node in returns):
        for node in ast.walk(function):
            if isinstance(node, ast.If) and (returned := _returned_literal(node.body)) is not None:
                answered |= {(compared, returned) for compared in _equalities(node.test)}
    return {key for key, expected in answered & wanted}


def _returned_literal(body: list[ast.stmt]) -> str | None:
    for statement in body:
        if isinstance(statement, ast.Return) and statement.value is not None:
            ok, value = _literal(statement.value)
            return repr(value) if ok else None
    return None


def _equalities(test: ast.AST) -> Iterator[str]:
    """The literal(s) an input is compared with for equality: `n == 4`, `(a, b) == (2, 3)`, `a == 2 and b == 3`."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.Is)):
        for side, other in ((test.left, test.comparators[0]), (test.comparators[0], test.left)):
            ok, value = _literal(side)
            if ok and not _literal(other)[0]:
                yield repr(value)
    elif isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        parts = [list(_equalities(value)) for value in test.values]
        if parts and all(len(part) == 1 for part in parts):
            yield repr(tuple(ast.literal_eval(part[0]) for part in parts))


def answers_by_heart(tests: Mapping[str, bytes], changed: Mapping[str, bytes]) -> list[str]:
    """For each function whose every literal test case (two or more) the changed code answers from memory."""
    cases = test_cases(tests)
    by_function: dict[str, list[Case]] = {}
    for case in cases:
        by_function.setdefault(case.function, []).append(case)
    found = []
    for path, source in changed.items():
        if not path.endswith(".py") or path in tests:
            continue
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        defined = {node.name: node for node in ast.walk(tree)
                   if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for function, mine in sorted(by_function.items()):
            keys = {case.key for case in mine}
            if function not in defined or len(keys) < 2:
                continue
            if _by_heart(mine, tree, defined[function]) >= keys:
                shown = ", ".join(f"{function}({case.key.strip('()')}) → {case.expected!r}" for case in mine[:3])
                more = ", …" if len(mine) > 3 else ""
                found.append(f"{path}:{defined[function].lineno}: {function} answers every case of the tests from a "
                             f"table or a branch per case ({shown}{more}; {mine[0].where}): it holds the tests' "
                             "answers, not the rule that gives them")
    return found


def equal_to_anything(path: str, source: str) -> str | None:
    """Why source builds an object that compares equal (or unequal) to anything, or None."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            name = getattr(node, "name", None)
            if name in _COMPARISONS and _ignores_operand(node):
                return f"{path}:{node.lineno}: {name} ignores what it is compared with"
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if key is not None and folded(key) in _COMPARISONS and isinstance(value, ast.Lambda) \
                        and _ignores_operand(value):
                    return f"{path}:{node.lineno}: a class built at run time with an {folded(key)} that ignores " \
                           "what it is compared with"
        if isinstance(node, ast.Call) and _called_name(node) == "setattr" and len(node.args) == 3 \
                and folded(node.args[1]) in _COMPARISONS:
            value = node.args[2]
            if isinstance(value, ast.Lambda) and _ignores_operand(value) or _literal(value)[0]:
                return f"{path}:{node.lineno}: setattr gives a class an {folded(node.args[1])} that ignores " \
                       "what it is compared with"
    return None


def _ignores_operand(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> bool:
    """True when the comparison never looks at its operand (and does not merely decline: NotImplemented)."""
    arguments = function.args.posonlyargs + function.args.args
    operand = arguments[1].arg if len(arguments) >= 2 else function.args.vararg.arg if function.args.vararg else None
    body = function.body if isinstance(function.body, list) else [function.body]
    nodes = [node for part in body for node in ast.walk(part)]
    if any(isinstance(node, ast.Name) and node.id == "NotImplemented" for node in nodes):
        return False
    return operand is None or not any(isinstance(node, ast.Name) and node.id == operand for node in nodes)


def folded(node: ast.AST) -> str | None:
    """A string built from literals ("__e" + "q__"), or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = folded(node.left), folded(node.right)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in node.values):
        return "".join(str(v.value) for v in node.values)
    return None
