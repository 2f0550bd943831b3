"""Which project files the tests import, and which modules they import that do not exist yet."""
from __future__ import annotations

import posixpath
import sys
from dataclasses import dataclass
from typing import Iterable, Mapping

from ..core.languages import analyzer_for

_STDLIB = set(sys.stdlib_module_names) | {"pytest", "_pytest", "unittest", "hypothesis"}


@dataclass(frozen=True)
class Needs:
    sources: tuple[str, ...]  # project files the tests import, in the order first met
    missing: tuple[tuple[str, str], ...]  # (module, file to create)


def _imported(path: str, source: bytes) -> list[tuple[str, bool]]:
    """(module, maybe) for each import in one file; maybe marks `from pkg import name`, where pkg.name may be a
    submodule or just a name. Relative imports are resolved against the file's package."""
    analyzer = analyzer_for(path)
    if analyzer is None:
        return []
    module_path = path[4:] if path.startswith("src/") else path  # a src/ layout's packages start below src/
    package = posixpath.dirname(module_path).replace("/", ".")
    names: list[tuple[str, bool]] = []
    for found in analyzer.analyze(source).imports:
        base = found.module
        if found.level:
            parts = package.split(".") if package else []
            parts = parts[: len(parts) - (found.level - 1)] if found.level > 1 else parts
            base = ".".join([*parts, base] if base else parts)
        if not base:
            continue
        names.append((base, False))
        names += [(f"{base}.{name}", True) for name in found.names if name != "*"]
    return names


def _roots(files: Mapping[str, bytes], importer: str) -> list[str]:
    """Where an import from this file may be found: the project root, src/, and the importer's own folder."""
    roots = ["", "src"] if any(p.startswith("src/") for p in files) else [""]
    folder = posixpath.dirname(importer)
    return roots + ([folder] if folder not in roots else [])


def _resolve(module: str, roots: list[str], files: Mapping[str, bytes]) -> str | None:
    stem = module.replace(".", "/")
    for root in roots:
        for candidate in (f"{stem}.py", f"{stem}/__init__.py"):
            path = posixpath.join(root, candidate) if root else candidate
            if path in files:
                return path
    return None


def _new_file(module: str, roots: list[str], files: Mapping[str, bytes]) -> str:
    """Where a missing module belongs: beside its existing package, else at the root of the project's layout."""
    parts = module.split(".")
    for depth in range(len(parts) - 1, 0, -1):
        package = _resolve(".".join(parts[:depth]), roots, files)
        if package and package.endswith("__init__.py"):
            return posixpath.join(posixpath.dirname(package), *parts[depth:]) + ".py"
    base = "src" if "src" in roots and any(p.startswith("src/") and p.endswith(".py") for p in files) else ""
    return posixpath.join(base, *parts) + ".py" if base else posixpath.join(*parts) + ".py"


def needed_files(tests: Iterable[str], files: Mapping[str, bytes], known_missing: set[str]) -> Needs:
    """Project files imported by the tests (and by those files, one level on), and modules still to be written.

    A module counts as missing when the test run said so (known_missing) or when its top-level package is part
    of the project; anything else not found is taken for an installed library.
    """
    sources: list[str] = []
    missing: dict[str, str] = {}
    frontier = [(path, 0) for path in tests if path in files]
    seen = {path for path, _ in frontier}
    while frontier:
        importer, depth = frontier.pop(0)
        roots = _roots(files, importer)
        for module, maybe in _imported(importer, files[importer]):
            top = module.split(".")[0]
            if top in _STDLIB:
                continue
            parts = module.split(".")
            for level in range(1, len(parts)):  # importing pkg.mod runs pkg/__init__.py first
                package = _resolve(".".join(parts[:level]), roots, files)
                if package and package.endswith("__init__.py") and package not in seen:
                    seen.add(package)
                    sources.append(package)
            found = _resolve(module, roots, files)
            if found is None:
                if not maybe and (top in known_missing or module in known_missing or _resolve(top, roots, files)):
                    missing.setdefault(module, _new_file(module, roots, files))
                continue
            if found not in seen:
                seen.add(found)
                sources.append(found)
                if depth < 1:
                    frontier.append((found, depth + 1))
    return Needs(tuple(sources), tuple(missing.items()))
