"""Test results, cut down to what the model needs to see, and the collection errors that are the user's."""
from __future__ import annotations

from typing import Callable

from sandbox import RunResult, TestReport

from ..prompting import render

MAX_FAILURES = 12
MAX_LINES = 60


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


def describe(result: RunResult) -> str:
    """The failures of one test run, rendered for the model."""
    report = result.report
    blocks = [render("failure.md", title=f"collecting {error.nodeid} failed", detail=_cut(error.longrepr))
              for error in report.collect_errors]
    failing = report.failing
    blocks += [render("failure.md", title=f"{case.nodeid} {case.outcome.upper()}", detail=_cut(case.longrepr))
               for case in failing[:MAX_FAILURES]]
    if len(failing) > MAX_FAILURES:
        blocks.append(f"... and {len(failing) - MAX_FAILURES} more failing tests: "
                      + ", ".join(case.nodeid for case in failing[MAX_FAILURES:]))
    if result.tampered:
        blocks.append("The code under test changed these files while the tests ran; the changes were discarded "
                      "and the next run uses the originals: " + ", ".join(result.tampered))
    if result.timed_out:
        blocks.append(f"The test run was stopped after {result.seconds:.0f} s (time limit). Look for an infinite "
                      f"loop or a blocking call. The last output was:\n```\n{_cut(result.output, 30)}\n```")
    elif report.exitstatus is None or (not blocks and not report.green):
        blocks.append(f"pytest ended abnormally (exit code {result.exit_code}). Its output:\n"
                      f"```\n{_cut(result.output)}\n```")
    return "\n".join(blocks) if blocks else "All tests pass."


def counts(report: TestReport) -> str:
    summary = report.summary()
    return ", ".join(f"{value} {key}" for key, value in summary.items() if value) or "no tests ran"
