"""A map of the repository for the model: definitions ranked by how much they matter to the failing tests.

Files are nodes; a file that refers to a name another file defines, or imports it, points at it. A personalized
PageRank seeded on the tests and the files they import ranks the rest, and the best-ranked files' signatures are
rendered within a token budget. Parsed facts are cached by content hash, so a second run re-parses nothing that
did not change.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Mapping

from ..core.facts import Call, Definition, Facts, Import, Raises
from ..core.languages import analyzer_for

CACHE_VERSION = 1
DAMPING = 0.85
ITERATIONS = 40


class FactsCache:
    """Facts per file, keyed by the hash of its content, kept in one JSON file between runs."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.parsed = 0  # files analysed in this run (not found in the cache)
        self._entries: dict[str, dict] = {}
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if data.get("version") == CACHE_VERSION:
                    self._entries = data["entries"]
            except (ValueError, KeyError, OSError):
                self._entries = {}  # a damaged cache is rebuilt, not trusted
        self._used: dict[str, dict] = {}

    def facts(self, path: str, content: bytes) -> Facts | None:
        analyzer = analyzer_for(path)
        if analyzer is None:
            return None
        key = f"{analyzer.language}:{hashlib.sha256(content).hexdigest()}"
        entry = self._entries.get(key)
        if entry is None:
            entry = dataclasses.asdict(analyzer.analyze(content))
            entry["references"] = sorted(entry["references"])
            self.parsed += 1
        self._used[key] = entry
        return _facts(entry)

    def save(self) -> None:
        """Keep the entries of the files seen this run (so the cache does not grow with old versions)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_suffix(".tmp")
        temp.write_text(json.dumps({"version": CACHE_VERSION, "entries": self._used}), encoding="utf-8")
        os.replace(temp, self.path)


def _facts(entry: dict) -> Facts:
    return Facts(
        imports=tuple(Import(i["module"], tuple(i["names"]), i["level"]) for i in entry["imports"]),
        definitions=tuple(Definition(**d) for d in entry["definitions"]),
        references=frozenset(entry["references"]),
        calls=tuple(Call(c["target"], c["positional"], tuple(c["keywords"]), c["line"]) for c in entry["calls"]),
        attributes=tuple(tuple(a) for a in entry["attributes"]),
        raises=tuple(Raises(**r) for r in entry["raises"]),
        fixtures_used=tuple(entry["fixtures_used"]),
        fixtures_defined=tuple(entry["fixtures_defined"]),
        tests=tuple(entry["tests"]),
        bindings=tuple(tuple(b) for b in entry["bindings"]),
    )


def rank(facts: Mapping[str, Facts], seeds: Mapping[str, float]) -> list[tuple[str, float]]:
    """Files by personalized PageRank over the reference graph, the seeds' weights as the personalization."""
    nodes = sorted(facts)
    if not nodes:
        return []
    definers: dict[str, set[str]] = defaultdict(set)
    modules: dict[str, str] = {}
    for path, found in facts.items():
        for definition in found.definitions:
            if definition.kind in ("class", "function", "variable"):
                definers[definition.name].add(path)
        module = (path[4:] if path.startswith("src/") else path).removesuffix(".py").removesuffix("/__init__")
        modules[module.replace("/", ".")] = path
    edges: dict[str, dict[str, float]] = {node: defaultdict(float) for node in nodes}
    for path, found in facts.items():
        for name in found.references:
            for target in definers.get(name, ()):
                if target != path:
                    edges[path][target] += 1.0 / len(definers[name])
        for imported in found.imports:
            target = modules.get(imported.module)
            if target and target != path:
                edges[path][target] += 2.0
    total = sum(seeds.get(node, 0.0) for node in nodes)
    personal = {node: (seeds.get(node, 0.0) / total if total else 1.0 / len(nodes)) for node in nodes}
    score = dict(personal)
    for _ in range(ITERATIONS):
        incoming = defaultdict(float)
        dangling = 0.0
        for node in nodes:
            weight = sum(edges[node].values())
            if not weight:
                dangling += score[node]
                continue
            for target, w in edges[node].items():
                incoming[target] += score[node] * w / weight
        score = {node: (1 - DAMPING) * personal[node] + DAMPING * (incoming[node] + dangling * personal[node])
                 for node in nodes}
    return sorted(score.items(), key=lambda item: (-item[1], item[0]))


def render(ranked: list[tuple[str, float]], facts: Mapping[str, Facts], exclude: set[str], budget_tokens: int) -> str:
    """Signatures of the best-ranked files not shown in full, until the budget (about four characters a token)."""
    lines: list[str] = []
    used = 0
    for path, score in ranked:
        if path in exclude or score <= 0:  # unreachable from the tests: nothing to do with them
            continue
        found = facts[path]
        block = [f"{path}:"]
        for definition in found.definitions:
            if definition.kind == "variable" and not definition.name.isupper():
                continue
            indent = "    " if definition.parent else "  "
            block.append(indent + definition.signature)
        if len(block) == 1:
            continue
        cost = sum(len(line) + 1 for line in block) // 4
        if used + cost > budget_tokens:
            break
        lines += block
        used += cost
    return "\n".join(lines)
