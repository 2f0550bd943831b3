"""Held-out tests: a random share of the test functions that the model never sees, run at the end as an honest
check that the code generalises beyond the tests it was shown."""
from __future__ import annotations

import random
from typing import Mapping

from .context.python_analysis import PythonAnalyzer


def choose(tests: Mapping[str, bytes], fraction: float, seed: int | None) -> list[str]:
    """`path::function` ids of the test functions to hold out (at least one kept visible in every file)."""
    rng = random.Random(seed)
    held = []
    for path, source in sorted(tests.items()):
        functions = [name for name in PythonAnalyzer.shared().analyze(source).tests]
        count = min(round(len(functions) * fraction), len(functions) - 1)
        held += [f"{path}::{name}" for name in sorted(rng.sample(functions, count))] if count > 0 else []
    return held


def strip(source: bytes, functions: set[str]) -> bytes:
    """The source without the named top-level test functions (their decorators included)."""
    root = PythonAnalyzer.shared()._parser.parse(source).root_node
    cuts = []
    for node in root.named_children:
        definition = node.child_by_field_name("definition") if node.type == "decorated_definition" else node
        if definition is not None and definition.type == "function_definition":
            name = definition.child_by_field_name("name").text.decode()
            if name in functions:
                cuts.append((node.start_byte, node.end_byte))
    for start, end in reversed(cuts):
        source = source[:start] + source[end:]
    return source


def views(tests: Mapping[str, bytes], held: list[str]) -> dict[str, bytes]:
    """The test files as the model sees them: the held-out functions removed."""
    by_file: dict[str, set[str]] = {}
    for nodeid in held:
        path, name = nodeid.split("::", 1)
        by_file.setdefault(path, set()).add(name)
    return {path: strip(tests[path], names) for path, names in by_file.items()}


def deselect(held: list[str]) -> tuple[str, ...]:
    """pytest arguments that leave the held-out tests out of a run."""
    return tuple(arg for nodeid in held for arg in ("--deselect", nodeid))


def held_out(nodeid: str, held: list[str]) -> bool:
    return any(nodeid == h or nodeid.startswith(h + "[") for h in held)
