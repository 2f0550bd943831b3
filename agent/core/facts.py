"""What an analyzer reads out of one source file, and the interface every language's analyzer has.

An Analyzer turns one file's bytes into Facts: what it imports, defines and refers to, and — for a test file — what
it requires of the code under test. Python's uses tree-sitter with the tree-sitter-python grammar (no downloads).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Import:
    module: str  # as written, without the leading dots of a relative import
    names: tuple[str, ...] = ()  # `from module import names`; empty for `import module`
    level: int = 0  # leading dots


@dataclass(frozen=True)
class Definition:
    name: str
    kind: str  # class, function, method, variable
    signature: str  # one line, as a repo map shows it
    line: int
    parent: str = ""  # the class a method belongs to


@dataclass(frozen=True)
class Call:
    target: str  # the callee as written: to_roman, Store, store.add
    positional: int
    keywords: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Raises:
    exception: str
    match: str | None
    line: int


@dataclass(frozen=True)
class Facts:
    imports: tuple[Import, ...] = ()
    definitions: tuple[Definition, ...] = ()
    references: frozenset[str] = frozenset()  # every identifier used
    calls: tuple[Call, ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()  # (object, attribute) as written: (store, total_value)
    raises: tuple[Raises, ...] = ()
    fixtures_used: tuple[str, ...] = ()  # parameters of test functions
    fixtures_defined: tuple[str, ...] = ()  # functions decorated as pytest fixtures
    tests: tuple[str, ...] = ()
    bindings: tuple[tuple[str, str], ...] = ()  # (variable, callee) for `variable = callee(...)`


class Analyzer(Protocol):
    language: str
    suffixes: tuple[str, ...]

    def analyze(self, source: bytes) -> Facts:
        ...
