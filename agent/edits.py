"""Edits in a model's answer: whole-file blocks and SEARCH/REPLACE blocks, parsed and applied to the workspace.

Models drift between the two formats whatever they were asked for, so both are always accepted. Paths are
checked before anything is written: nothing outside the workspace, nothing the tests depend on.
"""
from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Union

from .integrity import content_problem

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([^`]*)$")
_SEARCH = re.compile(r"^\s*<{5,9}\s*SEARCH\s*$")
_DIVIDER = re.compile(r"^\s*={5,9}\s*$")
_REPLACE = re.compile(r"^\s*>{5,9}\s*REPLACE\s*$")
_PATH = re.compile(r"^[\w.\-/]+$")
_QUOTED_PATH = re.compile(r"`([\w.\-/]+\.\w+)`")
_PATH_PREFIX = re.compile(r"^(?:#+\s*|(?:file(?:name)?|path)\s*:\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class WholeFile:
    path: str
    content: str


@dataclass(frozen=True)
class SearchReplace:
    path: str
    search: str
    replace: str
    number: int  # 1-based position among the answer's SEARCH/REPLACE blocks, for feedback


Edit = Union[WholeFile, SearchReplace]


@dataclass(frozen=True)
class Refusal:
    path: str
    reason: str


@dataclass(frozen=True)
class Miss:
    number: int
    path: str
    reason: str
    closest: str
    line: int


@dataclass
class EditOutcome:
    found: int = 0
    changed: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    misses: list[Miss] = field(default_factory=list)


def _clean_path(line: str) -> str | None:
    """The path on a line such as `pkg/mod.py`, **pkg/mod.py**, ### pkg/mod.py or File: pkg/mod.py."""
    text = line.strip().strip("*`'\"").strip()
    text = _PATH_PREFIX.sub("", text).strip().strip("*`'\"").rstrip(":").strip()
    text = text.replace("\\", "/")
    if text and _PATH.match(text) and ("." in text or "/" in text) and not set(text) <= {".", "/"}:
        return text
    quoted = _QUOTED_PATH.findall(line)  # prose naming one file: "Create `pkg/mod.py` with:"
    return quoted[0] if len(quoted) == 1 else None


def _info_path(info: str) -> str | None:
    """A path written in the fence's info string: ```python pkg/mod.py, or ```pkg/mod.py."""
    for word in reversed(info.split()):
        word = word.split("=", 1)[-1]  # path=pkg/mod.py, title=...
        if "." in word or "/" in word:
            return _clean_path(word)
    return None


def _search_blocks(lines: list[str], path: str | None, numbering: list[int]) -> list[SearchReplace]:
    """SEARCH/REPLACE sections in lines; a path line between sections switches the file."""
    edits, i = [], 0
    while i < len(lines):
        if not _SEARCH.match(lines[i]):
            path = _clean_path(lines[i]) or path
            i += 1
            continue
        search, replace, part, i = [], [], "search", i + 1
        while i < len(lines) and not (part == "replace" and _REPLACE.match(lines[i])):
            if part == "search" and _DIVIDER.match(lines[i]):
                part = "replace"
            else:
                (search if part == "search" else replace).append(lines[i])
            i += 1
        i += 1
        numbering[0] += 1
        edits.append(SearchReplace(path or "", _join(search), _join(replace), numbering[0]))
    return edits


def _join(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def parse_edits(text: str) -> list[Edit]:
    """Every edit in an answer, in order. Code blocks with no path (examples, explanations) are ignored."""
    lines = text.splitlines()
    edits: list[Edit] = []
    numbering = [0]
    last_line = ""
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is None:
            if _SEARCH.match(lines[i]):  # SEARCH/REPLACE written outside a fence
                end = i
                while end < len(lines) and not _REPLACE.match(lines[end]):
                    end += 1
                edits += _search_blocks(lines[i:end + 1], _clean_path(last_line), numbering)
                i = end + 1
                continue
            if lines[i].strip():
                last_line = lines[i]
            i += 1
            continue
        marker = fence.group(1)
        path = _info_path(fence.group(2)) or _clean_path(last_line)
        body, i = [], i + 1
        while i < len(lines):
            closing = lines[i].strip()
            if closing and closing[0] == marker[0] and set(closing) == {marker[0]} and len(closing) >= len(marker):
                break
            body.append(lines[i])
            i += 1
        i += 1
        last_line = ""
        if any(_SEARCH.match(line) for line in body):
            edits += _search_blocks(body, path, numbering)
        elif path is not None:
            edits.append(WholeFile(path, _join(body)))
    return edits


def check_path(root: Path, path: str, protected: Callable[[str], str | None]) -> str | None:
    """Why an edit to path may not be made, or None when it may."""
    if not path:
        return "no file path was given before the block"
    pure = PurePosixPath(path)
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", path):
        return "absolute paths are not allowed; use a path relative to the project root"
    if ".." in pure.parts:
        return "paths may not leave the project ('..')"
    real_root = os.path.realpath(root)
    target = os.path.realpath(root / path)
    if os.path.commonpath([real_root, target]) != real_root:
        return "the path leads outside the project through a symbolic link"
    return protected(pure.as_posix())


def apply_edits(root: Path, edits: list[Edit], protected: Callable[[str], str | None]) -> EditOutcome:
    outcome = EditOutcome(found=len(edits))
    for edit in edits:
        path = PurePosixPath(edit.path).as_posix() if edit.path else ""
        reason = check_path(root, path, protected)
        if reason:
            if all(r.path != path for r in outcome.refused):
                outcome.refused.append(Refusal(path or "(none)", reason))
            continue
        target = root / path
        try:
            current = target.read_text(encoding="utf-8") if target.is_file() else None
            if isinstance(edit, WholeFile):
                new = edit.content
            else:
                new, miss = _replace(current, edit)
                if miss is not None:
                    outcome.misses.append(miss)
                    continue
            if new == current:
                continue
            reason = content_problem(path, new)
            if reason:
                outcome.refused.append(Refusal(path, reason))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(new, encoding="utf-8")
        except UnicodeDecodeError:
            outcome.refused.append(Refusal(path, "it is not a UTF-8 text file"))
            continue
        except OSError as exc:  # a folder where a file should go, or the reverse
            outcome.refused.append(Refusal(path, f"it cannot be written: {exc.strerror or exc}"))
            continue
        if path not in outcome.changed:
            outcome.changed.append(path)
    return outcome


def _replace(current: str | None, edit: SearchReplace) -> tuple[str, Miss | None]:
    if not edit.search.strip():
        if not current:
            return edit.replace, None
        return "", Miss(edit.number, edit.path, "its SEARCH part is empty but the file is not", _excerpt(current, 0, 8), 1)
    if current is None:
        return "", Miss(edit.number, edit.path, "the file does not exist (leave SEARCH empty to create it)", "", 0)
    count = current.count(edit.search)
    if count == 1:
        return current.replace(edit.search, edit.replace), None
    if count > 1:
        start = current[: current.index(edit.search)].count("\n")
        return "", Miss(edit.number, edit.path, f"its SEARCH part matches {count} places; include more lines",
                        _excerpt(current, start, edit.search.count("\n")), start + 1)
    replaced = _replace_loosely(current, edit)
    if replaced is not None:
        return replaced, None
    start, size = _closest(current, edit.search)
    return "", Miss(edit.number, edit.path, "its SEARCH part does not match the file",
                    _excerpt(current, start, size), start + 1)


def _replace_loosely(current: str, edit: SearchReplace) -> str | None:
    """Match ignoring trailing whitespace, then ignoring a uniform shift of indentation (re-indenting REPLACE)."""
    lines = current.splitlines(keepends=True)
    search = edit.search.splitlines()
    replace = edit.replace.splitlines()
    for strip in (str.rstrip, str.strip):
        wanted = [strip(line) for line in search]
        hits = [i for i in range(len(lines) - len(search) + 1)
                if [strip(line) for line in lines[i:i + len(search)]] == wanted]
        if len(hits) != 1:
            continue
        i = hits[0]
        shift = _indent(lines[i]) - _indent(search[0]) if strip is str.strip else 0
        new = [(" " * shift + line if shift > 0 else line[min(-shift, _indent(line)):]) if line.strip() else line
               for line in replace]
        return "".join(lines[:i]) + _join(new) + "".join(lines[i + len(search):])
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _closest(current: str, search: str) -> tuple[int, int]:
    lines, wanted = current.splitlines(), search.splitlines()
    size = max(len(wanted), 1)
    best, best_start = -1.0, 0
    for start in range(max(len(lines) - size + 1, 1)):
        matcher = difflib.SequenceMatcher(None, "\n".join(lines[start:start + size]), search, autojunk=False)
        if matcher.real_quick_ratio() <= best or matcher.quick_ratio() <= best:
            continue
        ratio = matcher.ratio()
        if ratio > best:
            best, best_start = ratio, start
    return best_start, size


def _excerpt(text: str, start: int, size: int) -> str:
    lines = text.splitlines()
    return "\n".join(lines[start:start + max(size, 1)])


_PYTEST_CONFIG = {"pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml", "conftest.py"}
_STATE = {".git", ".makegreen", ".hg", ".svn"}


class TestGuard:
    """Decides which files the model may not edit: the tests, what configures them, and version control."""

    __test__ = False

    def __init__(self, test_files: set[str]) -> None:
        self.test_files = test_files

    def is_test_file(self, path: str) -> bool:
        pure = PurePosixPath(path)
        return (
            path in self.test_files
            or pure.name.startswith("test_") and pure.suffix == ".py"
            or pure.name.endswith("_test.py")
            or any(part in ("tests", "test") for part in pure.parts[:-1])
        )

    def __call__(self, path: str) -> str | None:
        pure = PurePosixPath(path)
        if _STATE & set(pure.parts):
            return "version control and makegreen's own files are off limits"
        if pure.name in _PYTEST_CONFIG:
            return f"{pure.name} configures how the tests run; it is the developer's to change"
        if self.is_test_file(path):
            return "test files are the specification and are read-only; change the implementation instead"
        return None
