"""Spending thinking time where it helps: noticing when a run stops making progress, and escalating.

The same failing state twice in a row, or a swing back to the state before last, is stagnation. The first time,
the model is asked to think harder (a higher reasoning effort); the second, it starts afresh from the original
code with a summary of the approaches that failed; the third, the run stops early rather than spend more.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sandbox import TestReport

EFFORTS = ("minimal", "low", "medium", "high")
LADDER = ("more-effort", "fresh-start", "stop")


def state_of(report: TestReport) -> frozenset[str]:
    """What a run's result is, for comparison: the tests failing and the modules that did not load."""
    return frozenset(case.nodeid for case in report.failing) | frozenset(e.nodeid for e in report.collect_errors)


def raised(effort: str | None) -> str:
    """One step more reasoning effort (from the server's default: high)."""
    if effort is None or effort not in EFFORTS:
        return "high"
    return EFFORTS[min(EFFORTS.index(effort) + 1, len(EFFORTS) - 1)]


@dataclass
class Stagnation:
    states: list[frozenset[str]] = field(default_factory=list)
    level: int = 0

    def observe(self, report: TestReport) -> str | None:
        """Record a run's result; say why the run stagnates, or None while it moves."""
        state = state_of(report)
        self.states.append(state)
        if len(self.states) >= 2 and self.states[-2] == state:
            return f"the same {len(state)} test(s) failing twice in a row"
        if len(self.states) >= 3 and self.states[-3] == state:
            return "swinging back to the failures of two attempts ago"
        return None

    def escalate(self) -> str:
        """The next step up: more-effort, fresh-start, then stop."""
        action = LADDER[min(self.level, len(LADDER) - 1)]
        self.level += 1
        self.states.clear()  # judge the escalated attempts on their own
        return action
