"""Edits in a model's answer: whole-file blocks, SEARCH/REPLACE blocks and unified diffs, parsed and applied to
the workspace's files: files in, changed contents out (the workspace is the one that writes them).

Models drift between formats whatever they were asked for, and small local models drift furthest: the path in
bold, in backticks, in a heading, after `File:`, in the fence's info string or as a comment on the block's first
line; a block with no path at all when only one file is to be written; a diff instead of either format; a SEARCH
part with its whitespace changed; an answer cut off inside its last block. Each is read for what it means; a block
that was cut off is never applied. Paths are checked before anything is written: nothing outside the workspace,
nothing the tests depend on.
"""
from __future__ import annotations

import ast
import difflib
import itertools
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Callable, Iterator, Protocol, Union

from ..honesty.integrity import content_problem
from ..honesty.protected import ProtectedPaths

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([^`]*)$")
_SEARCH = re.compile(r"^\s*<{5,9}\s*SEARCH\s*$")
_DIVIDER = re.compile(r"^\s*={5,9}\s*$")
_REPLACE = re.compile(r"^\s*>{5,9}\s*REPLACE\s*$")
_PATH = re.compile(r"^[\w.\-/]+$")
_QUOTED_PATH = re.compile(r"`([\w.\-/]+\.\w+)`")
_PATH_PREFIX = re.compile(r"^(?:#+\s*|(?:(?:new|updated|modified|complete)\s+)?(?:file(?:name)?|path|module)"
                          r"\s*:?\s+|(?:file(?:name)?|path)\s*:\s*)+", re.IGNORECASE)
# a path as a comment on a block's first line: "# roman.py", "# File: pkg/mod.py", "// pkg/mod.py"
_COMMENT_PATH = re.compile(r"^\s*(?:#|//)\s*(?:(?:file(?:name)?|path)\s*:?\s*)?([\w.\-/]+\.\w+)\s*$", re.IGNORECASE)
_DIFF_OLD = re.compile(r"^--- (?:a/)?(\S+)")
_DIFF_NEW = re.compile(r"^\+\+\+ (?:b/)?(\S+)")
_HUNK = re.compile(r"^@@ .*@@")


@dataclass(frozen=True)
class WholeFile:
    path: str
    content: str


@dataclass(frozen=True)
class SearchReplace:
    path: str
    search: str
    replace: str
    number: int  # 1-based position among the answer's SEARCH/REPLACE blocks (or diff hunks), for feedback
    kind: str = "SEARCH/REPLACE block"  # or "diff hunk": how feedback names it


@dataclass(frozen=True)
class CutOff:
    """A block the answer ended inside of (the output limit, or a model that stopped mid-block): never applied."""

    path: str
    what: str  # "the block", "SEARCH/REPLACE block 2"
    reason: str  # "the answer ended inside it"


Edit = Union[WholeFile, SearchReplace, CutOff]


@dataclass(frozen=True)
class Refusal:
    path: str
    reason: str
    protected: bool = False  # refused for where it is (tests, CI, hooks), not for what it holds


@dataclass(frozen=True)
class Miss:
    number: int
    path: str
    reason: str
    closest: str
    line: int
    kind: str = "SEARCH/REPLACE block"


@dataclass
class EditOutcome:
    found: int = 0
    changed: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    misses: list[Miss] = field(default_factory=list)
    written: dict[str, bytes] = field(default_factory=dict)  # the changed files' new contents, for the workspace


class Tree(Protocol):
    """The files edits are made against (agent/workspace/snapshot.py's Workspace): read, never written here."""

    def read(self, path: str) -> bytes | None: ...

    def resolve(self, path: str) -> str | None: ...  # where path leads through symbolic links; None: outside

    def is_folder(self, path: str) -> bool: ...


def _clean_path(line: str) -> str | None:
    """The path on a line such as `pkg/mod.py`, **pkg/mod.py**, ### pkg/mod.py or File: pkg/mod.py."""
    text = line.strip().strip("*`'\"").strip()
    text = _PATH_PREFIX.sub("", text).strip().strip("*`'\"").rstrip(":").strip()
    text = text.replace("\\", "/")
    if text and _PATH.match(text) and ("." in text or "/" in text) and not set(text) <= {".", "/"}:
        return text
    quoted = _QUOTED_PATH.findall(line)  # prose naming one file: "Create `pkg/mod.py` with:"
    return quoted[0] if len(quoted) == 1 else None


def _prose_path(line: str, info: str) -> str | None:
    """A Python file named at the end of a short line of prose before a Python block: "Here is the updated
    roman.py:", "The path alone: roman.py". Weaker evidence than a path line, so only for Python code: "Run it
    with python main.py" before a shell block names no file to write."""
    words = line.strip().rstrip(":").split()
    last = words[-1].strip("*`'\"") if words and len(line) <= 100 else ""
    python = (info.split()[0].lower() if info.split() else "python") in ("python", "py", "python3")
    return last if python and _PATH.match(last) and last.endswith(".py") else None


def _info_path(info: str) -> str | None:
    """A path written in the fence's info string: ```python pkg/mod.py, or ```pkg/mod.py."""
    for word in reversed(info.split()):
        word = re.split(r"[=:]", word)[-1]  # path=pkg/mod.py, title=..., python:pkg/mod.py
        if "." in word or "/" in word:
            return _clean_path(word)
    return None


def _search_blocks(lines: list[str], path: str | None, numbering: Iterator[int], closed: bool = True) -> list[Edit]:
    """SEARCH/REPLACE sections in lines; a path line between sections switches the file. A section the lines end
    inside of, when they were not closed (the answer stopped there), is cut off."""
    edits: list[Edit] = []
    i = 0
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
        ended = i < len(lines)
        i += 1
        number = next(numbering)
        if part == "search" or (not ended and not closed):
            edits.append(CutOff(path or "", f"SEARCH/REPLACE block {number}",
                                "it has no ======= line" if part == "search" and closed else
                                "the answer ended inside it"))
            continue
        edits.append(SearchReplace(path or "", _join(search), _join(replace), number))
    return edits


def _opens_code(line: str) -> bool:
    """A fence with a language: it can only open a block (a closing fence has no info string)."""
    fence = _FENCE.match(line)
    return fence is not None and fence.group(2).strip().split()[:1] in (["python"], ["py"], ["python3"], ["diff"])


def _is_diff(body: list[str]) -> bool:
    return any(_DIFF_OLD.match(a) and _DIFF_NEW.match(b) for a, b in zip(body, body[1:]))


def _diff_hunks(body: list[str], numbering: Iterator[int]) -> list[Edit]:
    """A unified diff as SEARCH/REPLACE edits, one per hunk (context and removed lines → context and added lines),
    so that a diff's line numbers, usually wrong in a model's diff, do not matter and whitespace drift is forgiven."""
    edits: list[Edit] = []
    path, new_file, hunk = None, False, None

    def close() -> None:
        if hunk is not None and path is not None and (hunk[0] or hunk[1]):
            search = "" if new_file else _join(hunk[0])
            edits.append(SearchReplace(path, search, _join(hunk[1]), next(numbering), "diff hunk"))

    i = 0
    while i < len(body):
        line = body[i]
        old = _DIFF_OLD.match(line)
        if old and i + 1 < len(body) and _DIFF_NEW.match(body[i + 1]):
            close()
            target = _DIFF_NEW.match(body[i + 1]).group(1)
            new_file = old.group(1) == "/dev/null"
            path = None if target == "/dev/null" else target
            hunk = ([], [])  # a diff without @@ lines is one hunk
            i += 2
            continue
        if _HUNK.match(line):
            close()
            hunk = ([], [])
        elif hunk is not None and not line.startswith("\\"):
            sign, rest = (line[0], line[1:]) if line[:1] in (" ", "-", "+") else (" ", line)
            if sign in (" ", "-"):
                hunk[0].append(rest)
            if sign in (" ", "+"):
                hunk[1].append(rest)
        i += 1
    close()
    return edits


def _join(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _looks_like_code(body: list[str], info: str) -> bool:
    """A block that may be the implementation: Python (or unlabelled), defining something other than tests."""
    text = "\n".join(body)
    return (info.split()[0].lower() if info.split() else "python") in ("python", "py", "python3") and \
        bool(re.search(r"^(def (?!test_)\w+|class (?!Test)\w+)", text, re.MULTILINE))


def _parses(path: str, content: str) -> bool:
    if not path.endswith(".py"):
        return True
    try:
        ast.parse(content)
        return True
    except (SyntaxError, ValueError):
        return False


def parse_edits(text: str, default_path: str | None = None, complete: bool = True) -> list[Edit]:
    """Every edit in an answer, in order. Code blocks with no path (examples, explanations) are ignored, except
    where default_path is the one file the task expects and no block names a path: then the longest block that
    looks like its code is it. complete: the answer ended by itself (not at the output limit), so a block left
    open at the very end holds all the model meant, if it parses."""
    lines = text.splitlines()
    edits: list[Edit] = []
    pathless: list[list[str]] = []
    numbering = itertools.count(1)  # SEARCH/REPLACE blocks and diff hunks, numbered across the answer
    last_line = ""
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is None:
            if _SEARCH.match(lines[i]):  # SEARCH/REPLACE written outside a fence
                end = i
                while end < len(lines) and not _REPLACE.match(lines[end]):
                    end += 1
                edits += _search_blocks(lines[i:end + 1], _clean_path(last_line), numbering, end < len(lines))
                i = end + 1
                continue
            if lines[i].strip():
                last_line = lines[i]
            i += 1
            continue
        marker, info = fence.group(1), fence.group(2).strip()
        path = _info_path(info) or _clean_path(last_line) or _prose_path(last_line, info)
        start, body, i = i, [], i + 1
        stray = False
        while i < len(lines):
            closing = lines[i].strip()
            if closing and closing[0] == marker[0] and set(closing) == {marker[0]} and len(closing) >= len(marker):
                break
            if not info and _opens_code(lines[i]):
                stray = True  # the bare fence closed a block that was never opened: what followed was prose
                break
            body.append(lines[i])
            i += 1
        if stray:
            for line in lines[start + 1:i]:
                last_line = line if line.strip() else last_line
            continue
        closed = i < len(lines)
        i += 1
        last_line = ""
        edits += _block_edits(body, path=path, info=info, closed=closed, complete=complete, numbering=numbering,
                              pathless=pathless)
    if default_path and pathless and not any(edit.path for edit in edits):
        edits.append(WholeFile(default_path, _join(max(pathless, key=len))))
    return edits


def answered(path: str) -> Callable[[str], bool]:
    """Whether an answer so far is complete, where the task expects one file written whole: it holds a closed
    block for that file (named, or the one block of code with no path). What a model writes after it (prose, the
    prompt's own sections continued, more blocks) is never generated: reading stops there."""
    def complete(text: str) -> bool:
        return any(isinstance(edit, WholeFile) and edit.path == path for edit in parse_edits(text, path, False))
    return complete


def _block_edits(body: list[str], *, path: str | None, info: str, closed: bool, complete: bool,
                 numbering: Iterator[int], pathless: list[list[str]]) -> list[Edit]:
    """What one fenced block means: SEARCH/REPLACE blocks, a diff, a whole file (its path before the block, in the
    info string or as a comment on its first line), or code with no path (kept in pathless)."""
    if body and (commented := _COMMENT_PATH.match(body[0])) and (path is None or path == commented.group(1)):
        path = commented.group(1)
        body = body[1:]
    if any(_SEARCH.match(line) for line in body):
        return _search_blocks(body, path, numbering, closed)
    if _is_diff(body) or (info.split()[:1] in (["diff"], ["patch"]) and any(_HUNK.match(b) for b in body)):
        if not closed:
            return [CutOff(path or "", "the diff", "the answer ended inside it")]
        return _diff_hunks(body, numbering)
    if path is not None:
        content = _join(body)
        if closed or (complete and _parses(path, content)):
            return [WholeFile(path, content)]
        return [CutOff(path, "the block", "the answer ended inside it")]
    if _looks_like_code(body, info) and (closed or complete):
        pathless.append(body)
    return []


def check_path(tree: Tree, path: str, protected: Callable[[str], str | None]) -> str | None:
    """Why an edit to path may not be made, or None when it may."""
    if not path:
        return "no file path was given before the block"
    pure = PurePosixPath(path)
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", path):
        return "absolute paths are not allowed; use a path relative to the project root"
    if ".." in pure.parts:
        return "paths may not leave the project ('..')"
    resolved = tree.resolve(pure.as_posix())
    if resolved is None:
        return "the path leads outside the project through a symbolic link"
    # a link inside the project may lead into a protected place (ci -> .github/workflows): both names are judged
    return protected(pure.as_posix()) or (protected(resolved) if resolved != pure.as_posix() else None)


def apply_edits(tree: Tree, edits: list[Edit], guard: TestGuard) -> EditOutcome:
    """The edits judged and made against tree's files, in order (a later edit sees an earlier one's result): what
    changed, with the new contents in outcome.written; nothing is written anywhere."""
    outcome = EditOutcome(found=len(edits))
    for edit in edits:
        path = PurePosixPath(edit.path).as_posix() if edit.path else ""
        if isinstance(edit, CutOff):
            outcome.refused.append(Refusal(path or "(none)", f"{edit.what} was not applied: {edit.reason}, so it is "
                                           "incomplete; send it again, whole"))
            continue
        reason = check_path(tree, path, guard)
        if reason:
            if all(r.path != path for r in outcome.refused):
                outcome.refused.append(Refusal(path or "(none)", reason, protected=bool(path)))
            continue
        real = tree.resolve(path) or path
        edited = _edited(tree, outcome.written, path=real, edit=edit, guard=guard, outcome=outcome)
        if edited.refused:
            outcome.refused.append(Refusal(path, edited.refused))
            continue
        if edited.content is None:
            continue
        outcome.written[real] = edited.content.encode("utf-8")
        if real not in outcome.changed:
            outcome.changed.append(real)
    return outcome


@dataclass(frozen=True)
class Edited:
    """What one edit makes of its file: the new content, or why it may not be written; neither where it changes
    nothing (or missed: the miss is recorded in the outcome)."""

    content: str | None = None
    refused: str | None = None


def _edited(tree: Tree, written: dict[str, bytes], *, path: str, edit: Edit, guard: TestGuard,
            outcome: EditOutcome) -> Edited:
    """A file's new content after one edit, or why it may not be written."""
    if tree.is_folder(path):
        return Edited(refused="it cannot be written: it is a folder")
    parents = [str(parent) for parent in PurePosixPath(path).parents if str(parent) != "."]
    if any(parent in written or tree.read(parent) is not None for parent in parents):
        return Edited(refused="it cannot be written: a file stands where its folder would be")
    content = written[path] if path in written else tree.read(path)
    try:
        current = content.decode("utf-8") if content is not None else None
    except UnicodeDecodeError:
        return Edited(refused="it is not a UTF-8 text file")
    if isinstance(edit, WholeFile):
        new = edit.content
    else:
        new, miss = _replace(current, edit)
        if miss is not None:
            outcome.misses.append(miss)
            return Edited()
    if new == current:
        return Edited()
    reason = None
    if path.endswith(".py") and isinstance(edit, WholeFile):
        new, reason = guard.without_copied_tests(new)
        if new == current:
            return Edited()
    reason = reason or content_problem(path, new)
    return Edited(refused=reason) if reason else Edited(new)


def _replace(current: str | None, edit: SearchReplace) -> tuple[str, Miss | None]:
    if not edit.search.strip():
        if not current:
            return edit.replace, None
        return "", Miss(edit.number, edit.path, "its SEARCH part is empty but the file is not", _excerpt(current, 0, 8),
                        1, edit.kind)
    if current is None:
        return "", Miss(edit.number, edit.path, "the file does not exist (leave SEARCH empty to create it)", "", 0,
                        edit.kind)
    count = current.count(edit.search)
    if count == 1:
        return current.replace(edit.search, edit.replace), None
    if count > 1:
        start = current[: current.index(edit.search)].count("\n")
        return "", Miss(edit.number, edit.path, f"its SEARCH part matches {count} places; include more lines",
                        _excerpt(current, start, edit.search.count("\n")), start + 1, edit.kind)
    replaced = _replace_loosely(current, edit)
    if replaced is not None:
        return replaced, None
    start, size = _closest(current, edit.search)
    return "", Miss(edit.number, edit.path, "its SEARCH part does not match the file",
                    _excerpt(current, start, size), start + 1, edit.kind)


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
    return _replace_ignoring_blank_lines(lines, search, replace)


def _replace_ignoring_blank_lines(lines: list[str], search: list[str], replace: list[str]) -> str | None:
    """Match the SEARCH part's non-blank lines, stripped, against the file's non-blank lines (a model that dropped
    or added blank lines, or changed indentation); unique matches only."""
    kept = [(index, line.strip()) for index, line in enumerate(lines) if line.strip()]
    wanted = [line.strip() for line in search if line.strip()]
    if not wanted:
        return None
    hits = [k for k in range(len(kept) - len(wanted) + 1) if [text for _, text in kept[k:k + len(wanted)]] == wanted]
    if len(hits) != 1:
        return None
    first, last = kept[hits[0]][0], kept[hits[0] + len(wanted) - 1][0]
    anchor = next(line for line in search if line.strip())
    shift = _indent(lines[first]) - _indent(anchor)
    new = [(" " * shift + line if shift > 0 else line[min(-shift, _indent(line)):]) if line.strip() else line
           for line in replace]
    return "".join(lines[:first]) + _join(new) + "".join(lines[last + 1:])


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

    def __init__(self, test_files: set[str], test_functions: set[str] = frozenset(),
                 automation: Callable[[str], str | None] | None = None) -> None:
        self.test_files = test_files
        self.test_functions = set(test_functions)  # the names of the tests' test functions
        self.automation = automation or ProtectedPaths()  # CI, hooks, install-time code (agent/honesty/protected.py)

    def without_copied_tests(self, text: str) -> tuple[str, str | None]:
        """Implementation code less the tests' own test functions that a model copied into it (small models
        append the tests "for completeness"); and why it is refused when nothing but those copies is left."""
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            return text, None
        copies = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.name in self.test_functions]
        if not copies:
            return text, None
        lines = text.splitlines(keepends=True)
        for node in reversed(copies):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            del lines[first - 1:node.end_lineno]
        rest = "".join(lines)
        kept = [node for node in ast.parse(rest).body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                            ast.ClassDef, ast.Assign))]
        if not kept:
            names = ", ".join(node.name for node in copies[:3])
            return text, (f"it only repeats the tests' own test functions ({names}); the tests stay where they are: "
                          "write the implementation code they import")
        return re.sub(r"\n{4,}", "\n\n\n", rest).rstrip("\n") + "\n", None

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
        return self.automation(path)
