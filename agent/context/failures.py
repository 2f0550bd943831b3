"""Test results, cut down to what the model needs to see, and the collection errors that are the user's."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable

from sandbox import RunResult, TestCase, TestReport

from ..prompting import render
from ..words import count_tests

MAX_FAILURES = 12
MAX_LINES = 60
MAX_ERROR_LINES = 30
KEEP_LINES = 25  # a prompt over its budget: each block of output cut to this many lines
KEEP_FAILURES = 3  # and then only this many failures shown
_FRAME = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+): in (?P<function>\S+)\s*$")


def _cut(text: str, limit: int = MAX_LINES) -> str:
    lines = text.rstrip().splitlines()
    if len(lines) <= limit:
        return "\n".join(lines)
    head = limit * 2 // 3
    marker = render("cut.md", count=len(lines) - limit).rstrip("\n")
    return "\n".join(lines[:head] + [marker] + lines[-(limit - head):])


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
        errors = errors[:half] + [render("cut.md", count=len(errors) - 2 * half).rstrip("\n")] + errors[-half:]
    return Distilled(case, tuple(dict.fromkeys(frames)), tuple(errors), _exception_name(case.message or errors[0]))


def _exception_name(message: str) -> str:
    named = re.match(r"^([A-Za-z_][\w.]*)(?=:)", message)
    if named:
        return named.group(1)
    return "AssertionError" if message.startswith("assert") else message.split(None, 1)[0] if message else "error"


@dataclass(frozen=True)
class Failures:
    """A test run's failures as the model is shown them, kept as data until the prompt is rendered: grouped by
    cause, each block of output cut to `lines`, at most `most` groups of failures (every collection error is shown).
    smaller() is how a prompt over its budget cuts them."""

    result: RunResult
    previous: TestReport | None = None  # the run before: what its change fixed and broke is said first
    lines: int = MAX_LINES
    most: int = MAX_FAILURES

    def smaller(self, stage: str) -> "Failures | None":
        if stage == "lines" and self.lines > KEEP_LINES:
            return replace(self, lines=KEEP_LINES)
        if stage == "failures" and self.most > KEEP_FAILURES and len(self.result.report.failing) > KEEP_FAILURES:
            return replace(self, most=KEEP_FAILURES)
        return None

    def _blocks(self) -> list[dict]:
        report, limit = self.result.report, min(self.lines, MAX_ERROR_LINES)
        blocks = [{"error": True, "nodeid": error.nodeid, "detail": _cut(error.longrepr, limit),
                   "frames": (), "group": [error.nodeid]}
                  for error in report.collect_errors]
        groups: dict[tuple[str, str], list[Distilled]] = {}
        for case in report.failing:
            item = distill(case)
            groups.setdefault(item.cause, []).append(item)
        for first, *rest in groups.values():
            blocks.append({"error": False, "nodeid": first.case.nodeid, "outcome": first.case.outcome.upper(),
                           "frames": first.frames, "detail": _cut("\n".join(first.errors), self.lines),
                           "others": [item.case.nodeid.split("::")[-1] for item in rest],
                           "group": [first.case.nodeid, *(item.case.nodeid for item in rest)]})
        return blocks

    def render(self) -> str:
        result, report = self.result, self.result.report
        blocks = self._blocks()
        shown = len(report.collect_errors) + self.most  # collection errors are always shown
        fixed, broken = _changes(report, self.previous)
        timed_out = result.timed_out
        abnormal = not timed_out and (report.exitstatus is None
                                      or not (blocks or fixed or broken or report.green))
        return render("failures.md", fixed=fixed, broken=broken, blocks=blocks[:shown],
                      more=[nodeid for block in blocks[shown:] for nodeid in block["group"]],
                      tampered=list(result.tampered), timed_out=timed_out, abnormal=abnormal,
                      seconds=f"{result.seconds:.0f}", exit_code=result.exit_code,
                      output=_cut(result.output, min(self.lines, 30) if timed_out else self.lines)).rstrip("\n")


def _changes(report: TestReport, previous: TestReport | None) -> tuple[list[str], list[str]]:
    """The tests the last change fixed, and those it broke."""
    if previous is None:
        return [], []
    before = {case.nodeid for case in previous.failing}
    now = {case.nodeid for case in report.failing}
    return sorted(nodeid for nodeid in before - now if nodeid in report.tests), sorted(now - before)


def describe(result: RunResult, previous: TestReport | None = None) -> str:
    """The failures of one test run, rendered for the model: grouped by cause, cut to what explains them."""
    return Failures(result, previous).render()


def counts(report: TestReport) -> str:
    return count_tests(report.summary())
