"""Contradictions in the tests: found by makegreen itself (the same call expected to give two results), claimed
by the model (its CONTRADICTION line, read here), and a claim judged on evidence.

A claim stops a run only when it is shown: makegreen's own check finds the same call expected to give two
results, or the model, once challenged with the tests it named, names them again — at least two test functions
that exist, each with an expectation, exercising a call in common, shown to the user side by side. A bare
sentinel, a claim naming no test, or tests that do not exist is fed back as not confirmed and the run goes on:
small models echo the instruction that mentions the word, so the feedback does not repeat it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from ..core.prompting import render


def _function_name(node) -> str:
    while node is not None and node.type != "function_definition":
        node = node.parent
    return node.child_by_field_name("name").text.decode() if node is not None else "<module>"


def _imported_names(source: bytes) -> set[str]:
    """The names a module's imports bind (modules, and what is taken from them)."""
    names = set()
    for line in source.decode("utf-8", "replace").splitlines():
        found = re.match(r"\s*(?:from\s+\S+\s+)?import\s+(.+)", line)
        if found:
            for part in found.group(1).strip("()").split(","):
                words = part.split()
                if words:
                    names.add(words[-1] if "as" in words else words[0].split(".")[0])
    return names


def contradictions(tests: Mapping[str, bytes]) -> list[str]:
    """The same call expected to give two different literal results: `assert f(2) == 4` here, `== 5` there."""
    from ..core.python_analysis import PythonAnalyzer

    parser = PythonAnalyzer.shared()
    expected: dict[str, dict[str, list[str]]] = {}
    imported: dict[str, set[str]] = {}
    literal_types = {"string", "integer", "float", "true", "false", "none"}
    for path, source in tests.items():
        stack = [parser.parse(source).root_node]
        while stack:
            node = stack.pop()
            stack.extend(node.children)
            if node.type != "assert_statement" or not node.named_children:
                continue
            comparison = node.named_children[0]
            if comparison.type != "comparison_operator" or len(comparison.named_children) != 2:
                continue
            if [child.type for child in comparison.children if not child.is_named] != ["=="]:
                continue
            left, right = comparison.named_children
            if right.type == "call" and left.type in literal_types:
                left, right = right, left
            if left.type != "call" or right.type not in literal_types:
                continue
            arguments = left.child_by_field_name("arguments")
            if arguments is None or not arguments.named_children or \
                    any(arg.type == "identifier" for arg in arguments.named_children):
                continue  # no argument (state: next_id()), or a variable (a parameter): not comparable across tests
            function = left.child_by_field_name("function")
            if function.type == "attribute" and (function.child_by_field_name("object").text.decode()
                                                 not in imported.setdefault(path, _imported_names(source))):
                continue  # a method of some object (stack.pop(1)): its result depends on the object's state
            call = " ".join(left.text.decode().split())
            where = f"{path}::{_function_name(node)}"
            expected.setdefault(call, {}).setdefault(right.text.decode(), []).append(where)
    found = []
    for call, results in sorted(expected.items()):
        if len(results) > 1:
            found.append(f"{call} is expected to be " + " and ".join(
                f"{value} ({', '.join(sorted(set(places)))})" for value, places in sorted(results.items())))
    return found


SENTINEL = "CONTRADICTION"  # the word that begins a model's claim that the tests contradict each other
_CLAIM = re.compile(rf"^[#*\s]*{SENTINEL}\b[*:\s]*", re.MULTILINE)


def claimed_contradiction(answer: str) -> str | None:
    """The model's account of a contradiction in the tests (the text after its CONTRADICTION line), or None."""
    found = _CLAIM.search(answer)
    if found is None:
        return None
    return answer[found.end():].strip() or "(the model gave no details)"


_NAMED = re.compile(r"\b(test_\w+)")
_NOT_CALLS = {"pytest.raises", "pytest.approx", "pytest.warns", "len", "str", "int", "float", "list", "dict", "set",
              "tuple", "sorted", "isinstance", "type", "repr", "range", "print"}
SHOWN_LINES = 25


@dataclass(frozen=True)
class TestFunction:
    __test__ = False

    nodeid: str  # path::name (path::Class::name for a method)
    source: str
    calls: frozenset[str]
    expects: bool  # holds an assert or pytest.raises


@dataclass(frozen=True)
class Verdict:
    confirmed: bool
    evidence: list[str] = field(default_factory=list)  # what the user is shown: conflicts found, tests side by side
    feedback: str = ""  # what the model is told when the claim is not confirmed


def test_functions(tests: Mapping[str, bytes]) -> dict[str, list[TestFunction]]:
    """Each test function in the test files, by name."""
    from ..core.python_analysis import PythonAnalyzer

    parser = PythonAnalyzer.shared()
    found: dict[str, list[TestFunction]] = {}
    for path, source in tests.items():
        if not path.endswith(".py"):
            continue
        stack = [parser.parse(source).root_node]
        while stack:
            node = stack.pop()
            stack.extend(node.children)
            if node.type != "function_definition":
                continue
            name = node.child_by_field_name("name").text.decode()
            if not name.startswith("test"):
                continue
            owner = node.parent.parent if node.parent is not None else None
            prefix = f"{path}::"
            if owner is not None and owner.type == "class_definition":
                prefix += owner.child_by_field_name("name").text.decode() + "::"
            calls, expects, inner = set(), False, [node]
            while inner:
                current = inner.pop()
                inner.extend(current.children)
                if current.type == "assert_statement":
                    expects = True
                elif current.type == "call":
                    target = " ".join(current.child_by_field_name("function").text.decode().split())
                    expects = expects or target == "pytest.raises"
                    if target not in _NOT_CALLS and not target.startswith(("self.", "pytest.")):
                        calls.add(target)
            source_lines = node.text.decode("utf-8", "replace").splitlines()
            shown = "\n".join(source_lines[:SHOWN_LINES] + (["    ..."] if len(source_lines) > SHOWN_LINES else []))
            found.setdefault(name, []).append(TestFunction(prefix + name, shown, frozenset(calls), expects))
    return found


def named_tests(claim: str, tests: Mapping[str, bytes]) -> list[TestFunction]:
    """The test functions the claim names that exist, in the order named, each once."""
    known = test_functions(tests)
    named: list[TestFunction] = []
    for name in dict.fromkeys(_NAMED.findall(claim)):
        named += [function for function in known.get(name, []) if function not in named]
    return named


def side_by_side(functions: list[TestFunction]) -> str:
    return "\n\n".join(f"{function.nodeid}:\n{function.source}" for function in functions)


def judge(claim: str, tests: Mapping[str, bytes], challenged: bool) -> Verdict:
    """Whether a claim of contradiction stops the run. challenged: the model was told of an earlier claim of
    its that was not confirmed, with the tests it named."""
    found = contradictions(tests)
    if found:
        return Verdict(True, found)
    named = named_tests(claim, tests)
    with_expectations = [function for function in named if function.expects]
    shared = set.intersection(*(set(f.calls) for f in with_expectations)) if len(with_expectations) >= 2 else set()
    if challenged and shared:
        return Verdict(True, [side_by_side(with_expectations)])
    why = "none" if not named else "fewer" if len(with_expectations) < 2 else "apart" if not shared else "agree"
    return Verdict(False, feedback=render("claim_unconfirmed.md", why=why, named=named).rstrip("\n"))

