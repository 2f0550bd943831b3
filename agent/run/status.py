"""How a run ended: one name for each outcome, read by the CLI (exit codes), the summaries, the hook, the Action
and the bench. A str enum: it is its value wherever a string is expected (JSON, records, comparisons)."""
from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    GREEN = "green"  # the tests pass, and the fix is (or, with --no-apply, could be) applied
    ALREADY_GREEN = "already_green"  # nothing to do
    NOT_SOLVED = "not_solved"  # the iterations ran out, or the run stopped early
    OUT_OF_BUDGET = "out_of_budget"  # a token, dollar or time budget was reached
    CONTRADICTION = "contradiction"  # the tests cannot all pass as written, on evidence
    CONFLICT = "conflict"  # solved, but the user's files changed meanwhile: nothing applied
    NOT_COMMITTED = "not_committed"  # solved and applied, but --commit/--branch did not commit
    INTERRUPTED = "interrupted"
    ERROR = "error"
    INCOMPLETE = "incomplete"  # a record without its end: the run was killed outright (SIGKILL, power)

    __str__ = str.__str__
    __format__ = str.__format__

    @property
    def solved(self) -> bool:
        return self in (Status.GREEN, Status.ALREADY_GREEN)

    @property
    def unsolved(self) -> bool:
        """Not green, with a best attempt to offer."""
        return self in (Status.NOT_SOLVED, Status.OUT_OF_BUDGET)
