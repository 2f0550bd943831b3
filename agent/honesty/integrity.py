"""What keeps a green bar honest: code that games the test run is refused, tests that vanish or turn into skips
count as failed, and conditionals on values copied from the tests are flagged."""
from __future__ import annotations

import ast
import posixpath
import re
from typing import Iterator, Mapping

from sandbox import TestReport

from .gaming import equal_to_anything, folded

HOOK_FILES = {"conftest.py", "sitecustomize.py", "usercustomize.py"}
_SKIPS = {"pytest.skip", "pytest.exit", "pytest.xfail", "pytest.importorskip", "unittest.skip", "os._exit",
          "_exit", "unittest.SkipTest", "SkipTest"}
_PATCH = re.compile(r"^\s*(?:(?:pytest|_pytest|unittest)(?:\.\w+)+\s*=(?!=)|setattr\(\s*(?:pytest|_pytest|unittest)\b)",
                    re.MULTILINE)
_TRIVIAL = {"0", "1", "-1", "2", "''", '""', "None", "True", "False"}


def content_problem(path: str, text: str) -> str | None:
    """Why implementation code may not be written as it stands, or None."""
    name = posixpath.basename(path)
    if name in HOOK_FILES or name.endswith(".pth"):
        return f"{name} changes how Python or pytest starts up; implementation code may not add it"
    if not path.endswith(".py"):
        return None
    from ..core.python_analysis import PythonAnalyzer

    facts = PythonAnalyzer.shared().analyze(text.encode())
    if any(found.module.split(".")[0] == "_pytest" for found in facts.imports):
        return "implementation code may not import pytest's internals (_pytest)"
    for call in facts.calls:
        if call.target in _SKIPS:
            return f"implementation code may not skip tests or end the test run ({call.target}, line {call.line})"
    if _PATCH.search(text):
        return "implementation code may not patch pytest or unittest"
    if _module_level_exit(text):
        return "implementation code may not exit when it is imported (sys.exit at module level)"
    hidden = _hidden_escape(text)
    if hidden:
        return hidden
    anything = equal_to_anything(path, text)
    if anything:
        return (f"an object that compares equal to anything passes any assertion without being right ({anything}); "
                "return the real values")
    return None


_ESCAPES = {"_exit", "exit", "skip", "xfail", "importorskip", "SkipTest"}


def _hidden_escape(text: str) -> str | None:
    """An exit, skip or patch reached by name at run time: getattr(os, "_ex" + "it"), __import__("py" + "test"),
    importlib.import_module("_pytest…")."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in ("getattr", "setattr", "delattr") and len(node.args) >= 2 and folded(node.args[1]) in _ESCAPES:
            return (f"implementation code may not reach {folded(node.args[1])} by name ({name}, line "
                    f"{node.lineno}): it would end or skip the test run")
        if name in ("__import__", "import_module") and (folded(node.args[0]) or "").split(".")[0] in (
                "_pytest", "pytest", "unittest"):
            return f"implementation code may not import {folded(node.args[0])} at run time (line {node.lineno})"
    return None


def _module_level_exit(text: str) -> bool:
    """sys.exit outside any function and outside `if __name__ == "__main__"`: it would end the test run."""
    for line in text.splitlines():
        if line.startswith(("sys.exit(", "exit(", "quit(", "raise SystemExit")):
            return True
    return False


def _ids(report: TestReport) -> set[str]:
    return set(report.collected) | set(report.tests)


def lost_tests(seen: dict[str, str], report: TestReport, test_files: frozenset[str] = frozenset()) -> list[str]:
    """Tests that ran before and no longer run as they did: missing, or now skipped or xfailed; and test files
    from which no test ran at all (a module skipped whole at import).

    seen maps each test id ever collected to its first outcome; it grows with every run (a module that did not
    import at the baseline adds its tests once it does)."""
    problems = []
    if not report.collect_errors and report.exitstatus is not None:
        ids = _ids(report)
        for nodeid, first in sorted(seen.items()):
            now = report.tests.get(nodeid)
            if nodeid not in ids:
                problems.append(f"{nodeid} ran before and was not collected now")
            elif now is not None and now.outcome in ("skipped", "xfailed") and first not in ("skipped", "xfailed"):
                problems.append(f"{nodeid} is {now.outcome} now; it was {first} before")
        ran = {nodeid.split("::")[0] for nodeid, case in report.tests.items() if case.outcome not in ("skipped",)}
        problems += [f"no test from {path} ran" for path in sorted(test_files - ran)
                     if not any(nodeid.startswith(path + "::") for nodeid in seen)]
    for nodeid, case in report.tests.items():
        seen.setdefault(nodeid, case.outcome)
    return problems


def _literals(node) -> Iterator[str]:
    """Each literal under node, as the value's repr: 'abc' and "abc" are one value."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in ("string", "integer", "float"):
            text = current.text.decode("utf-8", "replace")
            try:
                yield repr(ast.literal_eval(text))
            except (ValueError, SyntaxError):  # an f-string, or something tree-sitter reads more loosely
                yield text
        else:
            stack.extend(current.children)


_VALUES = ("string", "integer", "float", "tuple", "list", "set", "unary_operator", "concatenated_string")
_INPUTS = ("identifier", "attribute", "subscript")


def _equality_literals(condition) -> set[str]:
    """Literals that a condition compares an input with, for equality or membership: `n == 1994`,
    `word in ("a", "b")`. A literal inside a computation is a rule of the specification, not a test's input:
    `number % 3 == 0`, `set(dice) == {1, 2, 3, 4, 5}` compare what the code computed."""
    found: set[str] = set()
    stack = [condition]
    while stack:
        node = stack.pop()
        if node.type == "comparison_operator":
            operators = {child.type for child in node.children if not child.is_named}
            operands = node.named_children
            if operators & {"==", "!=", "in", "is", "not in", "is not"} and len(operands) == 2:
                kinds = {operand.type for operand in operands}
                value = next((o for o in operands if o.type in _VALUES), None)
                if value is not None and kinds & set(_INPUTS):
                    found |= set(_literals(value))
                continue
        stack.extend(node.children)
    return found


def special_cases(tests: Mapping[str, bytes], changed: Mapping[str, bytes]) -> list[str]:
    """Conditions in changed implementation files that test for equality with literal values taken from the tests:
    `if n == 1994: return "MCMXCIV"` is special-casing; `if n > 3999` (a bound from the specification) is not."""
    from ..core.python_analysis import PythonAnalyzer

    parser = PythonAnalyzer.shared()
    from_tests = set()
    for source in tests.values():
        from_tests |= set(_literals(parser.parse(source).root_node))
    from_tests -= _TRIVIAL
    found = []
    for path, source in changed.items():
        if not path.endswith(".py") or path in tests:
            continue
        stack = [parser.parse(source).root_node]
        while stack:
            node = stack.pop()
            if node.type in ("if_statement", "elif_clause", "conditional_expression", "while_statement"):
                condition = node.child_by_field_name("condition") or node
                hits = sorted(_equality_literals(condition) & from_tests)
            elif node.type == "case_clause":
                hits = sorted(set(_literals(node.named_children[0])) & from_tests) if node.named_children else []
            else:
                hits = []
            if hits:
                found.append(f"{path}:{node.start_point[0] + 1} tests for {', '.join(hits[:3])}, a value taken "
                             "from the tests")
            stack.extend(node.children)
    return sorted(set(found))
