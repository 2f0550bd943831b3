"""Test results, cut down to what the model needs to see, and the collection errors that are the user's."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from sandbox import RunResult, TestCase, TestReport

from ..prompting import render
from ..words import count_tests

MAX_FAILURES = 12
MAX_LINES = 60
MAX_ERROR_LINES = 30
_FRAME = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+): in (?P<function>\S+)\s*$")


def _cut(text: str, limit: int = MAX_LINES) -> str:
    lines = text.rstrip().splitlines()
    if len(lines) <= limit:
        return "\n".join(lines)
    head = limit * 2 // 3
    return "\n".join(lines[:head] + [f"[... {len(lines) - limit} lines cut ...]"] + lines[-(limit - head):])


def user_errors(report: TestReport, is_test_file: Callable[[str], bool]) -> list[str]:
    """Collection errors that come from the tests themselves; a missing module or name is ordinary red."""
    found = []
    for error in report.collect_errors:
        if "ImportError" in error.exc_bases or "AttributeError" in error.exc_bases:  # not written yet
            continue
        if is_test_file(error.origin) or error.exc_type in ("SyntaxError", "IndentationError", "TabError") \
                and is_test_file(error.nodeid):
            found.append(f"{error.nodeid}: {error.exc_type}: {error.message}\n{_cut(error.longrepr, 30)}")
    return found


@dataclass(frozen=True)
class Distilled:
    """One failure, cut down: the frames in the user's code, the error lines (assertion values), the exception."""

    case: TestCase
    frames: tuple[str, ...]
    errors: tuple[str, ...]
    exception: str

    @property
    def cause(self) -> tuple[str, str]:
        """Failures with the same exception raised at the same line of the user's code share a cause."""
        return self.exception, self.frames[-1] if self.frames else self.case.nodeid


def _user_file(path: str) -> bool:
    return not path.startswith(("/", "<", "..")) and "site-packages" not in path and "_pytest" not in path


def distill(case: TestCase) -> Distilled:
    """Read pytest's short traceback: `path:line: in function` frames and `E` lines, across chained exceptions."""
    frames, errors = [], []
    for line in case.longrepr.splitlines():
        frame = _FRAME.match(line)
        if frame and _user_file(frame["path"]):
            frames.append(f"{frame['path']}:{frame['line']} in {frame['function']}")
        elif line.startswith("E  ") or line == "E":
            errors.append(line[1:].strip() if not line[1:].strip() == "" else "")
    errors = [line for line in errors if line] or [case.message or case.outcome]
    if len(errors) > MAX_ERROR_LINES:
        half = MAX_ERROR_LINES // 2
        errors = errors[:half] + [f"[... {len(errors) - 2 * half} lines cut ...]"] + errors[-half:]
    return Distilled(case, tuple(dict.fromkeys(frames)), tuple(errors), _exception_name(case.message or errors[0]))


def _exception_name(message: str) -> str:
    named = re.match(r"^([A-Za-z_][\w.]*)(?=:)", message)
    if named:
        return named.group(1)
    return "AssertionError" if message.startswith("assert") else message.split(None, 1)[0] if message else "error"


def _changes(report: TestReport, previous: TestReport | None) -> str:
    if previous is None:
        return ""
    before = {case.nodeid for case in previous.failing}
    now = {case.nodeid for case in report.failing}
    fixed = sorted(nodeid for nodeid in before - now if nodeid in report.tests)
    broken = sorted(now - before)
    parts = []
    if fixed:
        parts.append(f"Now passing ({len(fixed)}): " + ", ".join(fixed[:10]) + (" …" if len(fixed) > 10 else ""))
    if broken:
        parts.append(f"Newly failing ({len(broken)}): " + ", ".join(broken[:10]) + (" …" if len(broken) > 10 else ""))
    return "\n".join(parts)


def describe(result: RunResult, previous: TestReport | None = None) -> str:
    """The failures of one test run, rendered for the model: grouped by cause, cut to what explains them."""
    report = result.report
    blocks = [render("failure.md", title=f"collecting {error.nodeid} failed", detail=_cut(error.longrepr, 30))
              for error in report.collect_errors]
    groups: dict[tuple[str, str], list[Distilled]] = {}
    for case in report.failing:
        item = distill(case)
        groups.setdefault(item.cause, []).append(item)
    for shown, group in enumerate(groups.values()):
        if shown == MAX_FAILURES:
            rest = [item.case.nodeid for g in list(groups.values())[MAX_FAILURES:] for item in g]
            blocks.append(f"... and {len(rest)} more failing tests: " + ", ".join(rest[:20]))
            break
        first = group[0]
        title = f"{first.case.nodeid} {first.case.outcome.upper()}"
        if len(group) > 1:
            others = [item.case.nodeid.split("::")[-1] for item in group[1:]]
            title += f" (and {len(others)} more the same way: {', '.join(others[:8])}{' …' if len(others) > 8 else ''})"
        detail = "\n".join([*(f"at {frame}" for frame in first.frames), *first.errors])
        blocks.append(render("failure.md", title=title, detail=detail))
    changes = _changes(report, previous)
    if changes:
        blocks.insert(0, changes + "\n")
    if result.tampered:
        blocks.append(render("tampered.md", paths=", ".join(result.tampered)).rstrip("\n"))
    if result.timed_out:
        blocks.append(render("timed_out.md", seconds=f"{result.seconds:.0f}", output=_cut(result.output, 30)))
    elif report.exitstatus is None or (not blocks and not report.green):
        blocks.append(render("abnormal.md", exit_code=result.exit_code, output=_cut(result.output)))
    return "\n".join(blocks) if blocks else "All tests pass."


def counts(report: TestReport) -> str:
    return count_tests(report.summary())
