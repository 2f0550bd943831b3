"""Spending thinking time where it helps: candidates in parallel, the best result kept, and escalation when a run
stops making progress.

Candidates: each round, every slot (its own workspace, its own sandbox) takes one step from one of the best
lines so far (the beam), with its own sampling and effort; the tests score the results; the best K go on. The first
green result, or a contradiction, settles the run: the others are cancelled where they are.

The same failing state twice in a row, or a swing back to the state before last, is stagnation. The first time,
the model is asked to think harder (a higher reasoning effort; where the server has none, to work the failing case
through by hand before the code); the second, it starts afresh from the original code with a summary of the
approaches that failed; the third, the run stops early rather than spend more.
"""
from __future__ import annotations

import dataclasses
import queue
import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Callable, NamedTuple, Sequence

from sandbox import RunResult, TestReport

from ..core.errors import BudgetExhausted, Cancelled
from .config import EFFORTS

if TYPE_CHECKING:  # a line carries its conversation; search never looks inside it
    from ..context.conversation import Prompt
    from ..context.history import Attempt


class LineState(str, Enum):
    """Where a line of work stands. A str enum: its value wherever text is expected (events, records)."""

    OPEN = "open"  # working
    GREEN = "green"  # its code passes every test it was shown (and the held-out ones)
    STOPPED = "stopped"  # stagnated past every escalation
    CONTRADICTION = "contradiction"  # the model showed, on evidence, that the tests cannot all pass

    __str__ = str.__str__
    __format__ = str.__format__

    @property
    def settles(self) -> bool:
        """Whether a line in this state ends the whole run."""
        return self in (LineState.GREEN, LineState.CONTRADICTION)


class Action(str, Enum):
    """A stuck line's next step up the ladder."""

    MORE_EFFORT = "more-effort"  # a higher reasoning effort
    WORK_THROUGH = "work-through"  # where the server has no effort: the failing case worked through by hand
    FRESH_START = "fresh-start"  # from the original code, told what did not work
    STOP = "stop"

    __str__ = str.__str__
    __format__ = str.__format__


LADDER = (Action.MORE_EFFORT, Action.FRESH_START, Action.STOP)
HOT = 0.8  # a stuck line's sampling, where the server samples: greedy, a small model answers the same code again


def state_of(report: TestReport) -> frozenset[str]:
    """What a run's result is, for comparison: the tests failing and the modules that did not load."""
    return frozenset(case.nodeid for case in report.failing) | frozenset(e.nodeid for e in report.collect_errors)


def raised(effort: str | None) -> str:
    """One step more reasoning effort (from the server's default: high)."""
    if effort is None or effort not in EFFORTS:
        return "high"
    return EFFORTS[min(EFFORTS.index(effort) + 1, len(EFFORTS) - 1)]


def lowered(effort: str | None) -> str:
    """One step less reasoning effort (from the server's default: low)."""
    if effort is None or effort not in EFFORTS:
        return "low"
    return EFFORTS[max(EFFORTS.index(effort) - 1, 1)]  # never "minimal": too little to debug with


TEMPERATURES = (0.8, 1.0, 0.6, 1.2)


def variation(slot: int, effort: str | None) -> tuple[str | None, float | None]:
    """How the request of candidate slot (0-based) differs from the configured one: the first asks as configured;
    the others sample hotter and alternate a raised and a lowered effort, so that N drafts are N different tries
    whatever the server accepts (reasoning models take no temperature, most local servers no effort)."""
    if slot == 0:
        return effort, None
    return (raised(effort) if slot % 2 else lowered(effort)), TEMPERATURES[(slot - 1) % len(TEMPERATURES)]


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

    def escalate(self, effort_honoured: bool = True) -> Action:
        """The next step up: more-effort, fresh-start, then stop. On a server that ignores effort, asking it to
        think harder would change nothing: the first step changes the question (work-through: the failing case
        worked through by hand before the code), sampled more widely where the server samples — measured on the
        real model, the changed question alone, answered greedily, got the same code back word for word."""
        action = LADDER[min(self.level, len(LADDER) - 1)]
        if action is Action.MORE_EFFORT and not effort_honoured:
            action = Action.WORK_THROUGH
        self.level += 1
        self.states.clear()  # judge the escalated attempts on their own
        return action


class Score(NamedTuple):
    """Compared in this order: honest before gaming, then most tests passing, then fewest test files that do not
    load (code that makes the tests import is progress, however many then fail), then fewest failing."""

    honest: int
    passed: int
    loading: int  # less the number of test files that do not load
    failing: int  # less the number failing


def score(result: RunResult, honest: bool) -> Score:
    """Better results score higher (Score's order)."""
    summary = result.report.summary()
    return Score(int(honest), summary["passed"], -len(result.report.collect_errors),
                 -(summary["failed"] + summary["errors"]))


@dataclass
class Line:
    """One line of work: a conversation with the model and the code it has led to so far."""

    prompt: Prompt  # the conversation so far, as data (context/conversation.py)
    changes: dict[str, bytes | None]  # against the user's files
    result: RunResult
    effort: str | None = None
    stagnation: Stagnation = field(default_factory=Stagnation)
    attempts: list[Attempt] = field(default_factory=list)  # one summary per step, for history and fresh starts
    lost: list[str] = field(default_factory=list)  # tests that vanished or turned into skips in its last run
    flagged: list[str] = field(default_factory=list)  # the tests' answers held by heart (agent/honesty/gaming.py)
    state: LineState = LineState.OPEN
    reason: str = ""
    candidate: int = 0
    temperature: float | None = None  # raised from the configured one once the line was stuck (work-through)
    challenged: bool = False  # told that a claim of contradiction of its was not confirmed
    evidence: list[str] = field(default_factory=list)  # what confirms its contradiction
    full: RunResult | None = None  # result is what the model sees; full, where tests are held out, is all of it

    def __post_init__(self) -> None:
        self.state = LineState(self.state)  # given as its name ("green") where a line is made by hand

    @property
    def honest(self) -> bool:
        return not self.lost and not self.flagged

    @property
    def whole(self) -> RunResult:
        """The result with every test in it, held-out ones included."""
        return self.full or self.result

    def fork(self, candidate: int) -> "Line":
        """A copy to take the next step in, so that the beam's lines stay as they were: its own lists, a fresh
        state."""
        stagnation = Stagnation(list(self.stagnation.states), self.stagnation.level)
        return dataclasses.replace(
            self, changes=dict(self.changes), stagnation=stagnation, attempts=list(self.attempts), lost=list(self.lost),
            flagged=list(self.flagged), state=LineState.OPEN, reason="", candidate=candidate, evidence=[])

    def checkpoint(self) -> "Checkpoint":
        """Where the line stands now, to come back to if its next step makes things worse."""
        return Checkpoint(dict(self.changes), self.result, tuple(self.lost), tuple(self.flagged), self.full,
                          score(self.result, self.honest))

    def restore(self, checkpoint: "Checkpoint") -> None:
        self.changes, self.result, self.full = dict(checkpoint.changes), checkpoint.result, checkpoint.full
        self.lost, self.flagged = list(checkpoint.lost), list(checkpoint.flagged)


@dataclass(frozen=True)
class Checkpoint:
    """A line before a step: its code, the tests' result for it (what the model saw, and all of it), the tests it
    lost or gamed, and how that scored."""

    changes: dict[str, bytes | None]
    result: RunResult
    lost: tuple[str, ...]
    flagged: tuple[str, ...]
    full: RunResult | None
    score: Score


def keep(lines: Sequence[Line], beam: int) -> list[Line]:
    """The beam: the best open lines, at most beam of them, best first (ties go to the lower candidate)."""
    return sorted((line for line in lines if line.state is LineState.OPEN),
                  key=lambda line: score(line.result, line.honest), reverse=True)[:beam]


def settles(result: "Line | BaseException | None") -> bool:
    """Whether one candidate's step ends the whole run: green, a contradiction, or a failure of the backend."""
    if isinstance(result, Line):
        return result.state.settles
    return isinstance(result, Exception) and not isinstance(result, (BudgetExhausted, Cancelled))


def race(jobs: Sequence[Callable[[], Line]], cancel: threading.Event,
         on_cancel: Callable[[], None]) -> list["Line | Exception | None"]:
    """Run the jobs at once, a thread each (in this thread when there is one); each result, or the exception it
    raised. As soon as one settles the run, cancel is set and on_cancel stops what still runs; the round returns
    without waiting, the rest noticing cancel at their next step (None in their place)."""
    results: list[Line | Exception | None] = [None] * len(jobs)
    if len(jobs) == 1:
        try:
            results[0] = jobs[0]()
        except Exception as exc:
            results[0] = exc
        return results
    done: queue.Queue = queue.Queue()

    def work(index: int) -> None:
        try:
            done.put((index, jobs[index]()))
        except Exception as exc:  # handed to the caller, which decides what it means
            done.put((index, exc))

    for index in range(len(jobs)):
        threading.Thread(target=work, args=(index,), name=f"makegreen-candidate-{index + 1}", daemon=True).start()
    try:
        for _ in jobs:
            index, result = done.get()
            results[index] = result
            if settles(result):
                break
    finally:  # settled, or interrupted (Ctrl-C): nothing goes on working
        if any(result is None for result in results):
            cancel.set()
            on_cancel()
    return results
