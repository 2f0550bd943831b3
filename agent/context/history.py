"""Earlier attempts, summarised: what each changed and what then failed, so a long run's prompt stays flat."""
from __future__ import annotations

from dataclasses import dataclass

from sandbox import RunResult

from ..workspace.edits import EditOutcome
from .failures import counts, distill


@dataclass(frozen=True)
class Attempt:
    """One step, as prompts/state.md summarises it in later prompts."""

    number: int
    changed: tuple[str, ...]
    diff_stat: str
    counts: str  # the tests after it
    first: str = ""  # the first failing test after it, and its first error line
    error: str = ""


def attempt_summary(number: int, edits: EditOutcome, result: RunResult, diff_stat: str) -> Attempt:
    failing = result.report.failing
    first, error = (failing[0].nodeid, distill(failing[0]).errors[0][:160]) if failing else ("", "")
    return Attempt(number, tuple(edits.changed), diff_stat if edits.changed else "", counts(result.report), first,
                   error)
