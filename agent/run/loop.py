"""The red → green loop: ask the model, apply its edits, run the tests, decide. Reports progress as events."""
from __future__ import annotations

import dataclasses
import functools
import posixpath
import threading
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from sandbox import RunResult
from sandbox.results import (PYTEST_INTERNAL, PYTEST_NO_TESTS, PYTEST_OK, PYTEST_FAILED, PYTEST_USAGE,
                             UNFINISHED, disagreement)

from ..context.conversation import Prompt
from ..context.dependencies import declare_message, project_name, undeclared
from ..context.echo import copies, echoed_headings
from ..context.failures import counts, user_errors
from ..context.history import attempt_summary
from ..context.prompt import (ContextLimits, Now, Shape, answer_shape, claim_rule, feedback_message, file_block,
                              first_messages)
from ..context.shrink import fit, shrink
from ..core.errors import BudgetExhausted, Cancelled, ContextOverflow, TestSuiteError
from ..core.prompting import render
from ..core.protocols import Completion, Model, Sandbox
from ..core.words import plural
from ..honesty.claims import claimed_contradiction, judge, test_functions
from ..honesty.gaming import answers_by_heart
from ..honesty.holdout import Held, choose, choose_cases, held_out, views
from ..honesty.integrity import lost_tests
from ..honesty.protected import ProtectedPaths
from ..honesty.watch import judged as watched
from ..models.budget import Budget
from ..models.pricing import cost
from ..workspace.edits import EditOutcome, TestGuard, answered, apply_edits, parse_edits
from ..workspace.snapshot import Workspace, unified
from . import events as ev
from .candidates import HOT, Action, Checkpoint, Line, LineState, Score, keep, race, raised, score, variation
from .status import Status

Emit = Callable[[ev.Event], None]


@dataclass(frozen=True, kw_only=True)
class Task:
    targets: tuple[str, ...] = ()  # pytest paths or node ids; empty: the whole suite
    message: str = ""
    max_iterations: int = 8
    test_timeout: float = 120.0
    edit_format: str = "auto"
    budget: Budget = field(default_factory=Budget)
    context: ContextLimits = field(default_factory=ContextLimits)
    effort: str | None = None  # the configured reasoning effort, where escalation starts
    holdout: float | None = None  # share of the test functions the model never sees, run once the rest is
    # green; None: one case of each test parametrized over enough cases, where there are such tests; 0: none
    holdout_seed: int | None = None
    beam: int = 1  # with several candidates: how many of the best lines debugging goes on from
    hide_tests: bool = False  # the model sees the message and the failures, not the test code
    second_draft: str = "auto"  # after a failed first answer, a second draft in other words (auto: a local model)
    protected: ProtectedPaths = field(default_factory=ProtectedPaths)  # CI and automation files, off limits


@dataclass(frozen=True)
class Candidate:
    """A result and the code that gave it: the changes against the user's files, and how they score."""

    score: Score
    changes: dict[str, bytes | None]
    result: RunResult


@dataclass(frozen=True)
class Baseline:
    """The tests before any change: where the run starts, fixed once measured."""

    result: RunResult
    test_files: tuple[str, ...]
    counts: dict[str, int]  # passed, failed, … as pytest counted them
    passing: frozenset[str]  # the tests that passed


@dataclass
class Tally:
    """What the run counts while its candidates work: changed only by _Run's methods, under the run's lock."""

    usage: dict[str, int] = field(default_factory=dict)
    cost_usd: float | None = None
    model_seconds: float = 0.0
    sandbox_seconds: float = 0.0
    gamed: list[str] = field(default_factory=list)  # evidence of gaming in steps that were undone
    held_result: dict[str, int] = field(default_factory=dict)  # how held-out tests fared on the first code green
    overfitting: list[str] = field(default_factory=list)  # held-out tests failing on code that passes the rest
    best: Candidate | None = None  # the best result so far, and the code that gave it


@dataclass(frozen=True)
class Outcome:
    """What the run came to, built once where it ends."""

    status: Status
    iterations: int
    result: RunResult
    reason: str = ""
    lost: tuple[str, ...] = ()  # tests that vanished or turned into skips in the last run
    flagged: tuple[str, ...] = ()  # the tests' answers held by heart, in the last result
    confirmed: tuple[str, ...] = ()  # contradictions makegreen found in the tests itself
    slot: int = 0  # the slot whose sandbox holds the answer
    test_files: tuple[str, ...] = ()
    tests: dict[str, bytes] = field(default_factory=dict)  # the test files as the user wrote them
    held: tuple[str, ...] = ()  # held-out tests, as path::name or path::name[case]
    passing_before: frozenset[str] = frozenset()  # tests that passed at the baseline
    before: dict[str, int] = field(default_factory=dict)  # the baseline's counts
    usage: dict[str, int] = field(default_factory=dict)
    cost_usd: float | None = None
    model_seconds: float = 0.0
    sandbox_seconds: float = 0.0
    gamed: tuple[str, ...] = ()
    held_result: dict[str, int] = field(default_factory=dict)
    overfitting: tuple[str, ...] = ()
    best: Candidate | None = None


@dataclass(frozen=True)
class Round:
    """What one iteration came to: the run's outcome where it ended the run, else the lines that go on."""

    ended: Outcome | None = None
    beam: list[Line] = field(default_factory=list)


@dataclass
class Slot:
    """Where one candidate works: its own workspace (its changes to the snapshot) and its own started sandbox."""

    workspace: Workspace
    sandbox: Sandbox
    holds: dict[str, bytes | None] = field(default_factory=dict)  # the changes its copy and sandbox hold now


@dataclass
class _Run:
    """What the candidates of one run share: the task, the judges, the counters (under one lock)."""

    task: Task
    model: Model
    slots: Sequence[Slot]
    guard: TestGuard
    start: Baseline
    tests: dict[str, bytes]  # the test files as the user wrote them
    baseline: RunResult  # the baseline as the model sees it (held-out tests left out while they are held)
    shown: dict[str, bytes]  # the test files as the model sees them (held-out tests removed)
    emit: Emit
    lock: threading.RLock
    shape: Shape = Shape()  # how answers are to be written, and the one file expected when there is one
    tally: Tally = field(default_factory=Tally)
    cancel: threading.Event = field(default_factory=threading.Event)
    seen: dict[str, str] = field(default_factory=dict)
    held: list[Held] = field(default_factory=list)  # tests the model does not see until the rest is green
    held_ids: tuple[str, ...] = ()  # what was held out at the start, as path::name or path::name[case]
    latest: Line | None = None  # the best line of the last round: the run's result if it ends unsettled

    # What candidates share is changed only here, each change under the run's lock: the steps themselves stay
    # sequential code.

    def judged(self, full: RunResult) -> tuple[RunResult, list[str]]:
        """A test run counted: what the model may see of it (not the held-out tests), and the tests it lost."""
        with self.lock:
            self.tally.sandbox_seconds += full.seconds
            lost = lost_tests(self.seen, full.report, frozenset(self.guard.test_files))
            return without(full, self.held), lost + disagreement(full.report, full.exit_code, full.timed_out)

    def caught(self, evidence: list[str]) -> None:
        """Evidence of gaming in a step that is undone: the run's summary names it, though the code went back."""
        with self.lock:
            self.tally.gamed += [item for item in evidence if item not in self.tally.gamed]

    def output_cap(self, messages: list[dict[str, str]]) -> int | None:
        with self.lock:
            return self.task.budget.output_cap(self.tally.usage, messages, len(self.slots))

    def spent(self, answer: Completion) -> float | None:
        """An answer counted: its tokens, cost and seconds; its cost (None where the price is unknown)."""
        spent = cost(answer.usage, self.task.budget.price)
        with self.lock:
            tally = self.tally
            for key, value in answer.usage.items():
                tally.usage[key] = tally.usage.get(key, 0) + value
            if spent is not None:
                tally.cost_usd = (tally.cost_usd or 0.0) + spent
            tally.model_seconds += answer.seconds
        return spent

    def offer(self, line: Line) -> None:
        """The best result so far (search.score: most tests passing, then most test files loading, then fewest
        failing) is the run's answer, not the last one; a result that games the tests never counts as the best."""
        with self.lock:
            best = self.tally.best
            if best is None or score(line.whole, line.honest) > best.score:
                self.tally.best = Candidate(score(line.whole, line.honest), dict(line.changes), line.whole)

    def emitter(self, candidate: int) -> Emit:
        """A candidate's events; once another has settled the run, its next event is where it stops."""
        def emit(event: ev.Event) -> None:
            if self.cancel.is_set():
                raise Cancelled()
            self.emit(event)
        return emit if candidate else self.emit

    def ended(self, status: Status, iterations: int, *, line: Line | None = None, reason: str = "",
              slot: int = 0) -> Outcome:
        """The run's outcome: line's result (None: the last round's best, else the baseline) and what was tallied."""
        line = line or self.latest
        with self.lock:
            return _outcome(self.start, self.tally, status=status, iterations=iterations, reason=reason, slot=slot,
                            result=line.whole if line else self.start.result, lost=line.lost if line else (),
                            flagged=line.flagged if line else (), tests=self.tests, held=self.held_ids,
                            confirmed=line.evidence if line and status is Status.CONTRADICTION else ())


def _outcome(start: Baseline, tally: Tally, *, status: Status, iterations: int, result: RunResult, reason: str = "",
             lost: Sequence[str] = (), flagged: Sequence[str] = (), confirmed: Sequence[str] = (), slot: int = 0,
             tests: Mapping[str, bytes] | None = None, held: Sequence[str] = ()) -> Outcome:
    return Outcome(status, iterations, result, reason=reason, lost=tuple(lost), flagged=tuple(flagged),
                   confirmed=tuple(confirmed), slot=slot, test_files=start.test_files, tests=dict(tests or {}),
                   held=tuple(held), passing_before=start.passing, before=dict(start.counts),
                   usage=dict(tally.usage), cost_usd=tally.cost_usd, model_seconds=tally.model_seconds,
                   sandbox_seconds=tally.sandbox_seconds, gamed=tuple(tally.gamed),
                   held_result=dict(tally.held_result), overfitting=tuple(tally.overfitting), best=tally.best)


def solve(task: Task, model: Model, workspace: Workspace, slots: Sequence[Slot], emit: Emit) -> Outcome:
    """Run the loop until the tests are green or the iterations are spent. workspace is the copy the answer ends
    up in; each slot (one per candidate; the only one may share workspace) works in its own copy and sandbox."""
    lock = threading.RLock()
    emit = _serialised(emit, lock)
    start, guard = _baseline(task, workspace, slots[0].sandbox, emit)
    if start.result.report.green:
        return _outcome(start, Tally(sandbox_seconds=start.result.seconds), status=Status.ALREADY_GREEN,
                        iterations=0, result=start.result)
    run, beam = _prepare(task, model, workspace, slots, guard=guard, start=start, emit=emit, lock=lock)
    for iteration in range(1, task.max_iterations + 1):
        emit(ev.IterationStarted(iteration, task.max_iterations))
        done = _round(run, workspace, beam, iteration)
        if done.ended is not None:
            return done.ended
        beam = done.beam
    return run.ended(Status.NOT_SOLVED, task.max_iterations,
                     reason=f"the tests are still red after {task.max_iterations} iterations")


def _baseline(task: Task, workspace: Workspace, sandbox: Sandbox, emit: Emit) -> tuple[Baseline, TestGuard]:
    """The tests as they are before any change: which files and functions are tests, and which pass."""
    result = _run(task.targets, task, sandbox, iteration=0, emit=emit)
    guard = _check_baseline(result, task.protected, workspace.files())
    passing = frozenset(nodeid for nodeid, case in result.report.tests.items() if case.outcome == "passed")
    return Baseline(result, tuple(sorted(guard.test_files)), result.report.summary(), passing), guard


def _prepare(task: Task, model: Model, workspace: Workspace, slots: Sequence[Slot], *, guard: TestGuard,
             start: Baseline, emit: Emit, lock: threading.RLock) -> tuple[_Run, list[Line]]:
    """What the candidates share once the baseline is red (the tests, the held-out cases, the answer's shape),
    and the first line of work."""
    files = workspace.files()
    tests = {path: files[path] for path in start.test_files if path in files}
    guard.test_functions = set(test_functions(tests))
    held, shown = _hold_out(task, workspace, tests, start.result, emit)
    baseline = without(start.result, held)
    shape = answer_shape(workspace.files(), start.test_files, baseline.report, task.edit_format)
    run = _Run(task, model, slots, guard, start, tests, baseline, shown, emit, lock, shape,
               tally=Tally(sandbox_seconds=start.result.seconds), held=held,
               held_ids=tuple(item.nodeid for item in held))
    lost_tests(run.seen, start.result.report)
    return run, [Line(_first_messages(run, workspace), {}, baseline, task.effort, full=start.result)]


def _round(run: _Run, workspace: Workspace, beam: list[Line], iteration: int) -> Round:
    """One iteration of every candidate, raced: the outcome where it ends the run, else the lines kept."""
    slots, many = run.slots, len(run.slots) > 1
    jobs = [functools.partial(_step, run, slot, beam[index % len(beam)].fork(index + 1 if many else 0),
                              iteration, index) for index, slot in enumerate(slots)]
    results = race(jobs, run.cancel, lambda: [slot.sandbox.interrupt() for slot in slots])
    lines = [result for result in results if isinstance(result, Line)]
    settled = next((line for line in lines if line.state.settles), None)
    if settled is not None:
        winner = next(index for index, result in enumerate(results) if result is settled)
        return Round(_settle(run, settled, slots[winner], workspace, iteration))
    failures = [result for result in results if isinstance(result, Exception)]
    if fatal := [failure for failure in failures if not isinstance(failure, BudgetExhausted)]:
        raise fatal[0]
    beam = keep(lines, run.task.beam)
    if many:
        run.emit(_scored(iteration, lines, beam))
    if lines:
        run.latest = (keep(lines, 1) or lines)[0]
    if failures:
        return Round(run.ended(Status.OUT_OF_BUDGET, iteration, reason=str(failures[0])))
    if not beam:  # every line stagnated past every escalation
        return Round(run.ended(Status.NOT_SOLVED, iteration, reason=lines[0].reason))
    return Round(beam=beam)


def _step(run: _Run, slot: Slot, line: Line, iteration: int, index: int) -> Line:
    """One candidate's step: ask the model → apply its edits → run the tests → decide. line is its own (forked)
    state, returned advanced."""
    emit = run.emitter(line.candidate)
    if slot.holds != line.changes:  # the slot last worked on another line
        _hold(slot, line.changes)
    drafted = line.prompt.draft
    edits, notes = _answered(run, slot.workspace, line, iteration=iteration, index=index, emit=emit)
    if line.state is LineState.CONTRADICTION:  # confirmed: nothing was applied
        return line
    previous = line.result.report
    undone = bool(edits.changed) and not _tested(run, slot, line, iteration=iteration, notes=notes, emit=emit)
    if line.result.report.green and line.honest and run.held:  # green on what it saw: and on the held-out tests?
        note = _generalises(run, line)
        notes += [note] if note else []
    if line.result.report.green and line.honest:
        line.state = LineState.GREEN
        return line
    line.attempts.append(attempt_summary(iteration, edits, line.result, slot.workspace.diff_stat(edits.changed)))
    # a second draft is a fresh try beside the first answer, not a step of its debugging: undone, it would read as
    # the line standing still
    stuck, action = (None if drafted else line.stagnation.observe(line.result.report)), None
    if stuck and iteration < run.task.max_iterations:  # after the last iteration there is nothing to escalate to
        action = _escalate(run, slot, line, stuck=stuck, iteration=iteration, notes=notes, emit=emit)
        if action in (Action.STOP, Action.FRESH_START):
            return line
    through = action is Action.WORK_THROUGH  # stuck, or repeating itself: the code is shown as it was at the start
    anew = through or _repeats(edits)
    told = feedback_message(edits, line.lost + line.flagged, run.shape, notes, anew, undone=undone)
    draft = _second_draft(run, line, edits, notes)
    if draft:
        emit(ev.SecondDraft("the first answer failed: asked for a second draft from the start, in other words"))
    line.prompt = _first_messages(run, slot.workspace, Now(line.result, previous, tuple(line.attempts[:-1]), told,
                                                            stuck=through, anew=anew, draft=draft))
    return line


def _second_draft(run: _Run, line: Line, edits: EditOutcome, notes: list[str]) -> bool:
    """Whether the line's next request is a second first draft (prompts/draft.md) rather than a fix: after its
    first answer changed code and failed with nothing else to tell (no edit refused, no test lost or gamed, no
    claim to answer, no held-out test failed, no note: those are told, never passed over), on a
    server with no reasoning effort (a local model; second_draft "on" and "off" decide otherwise), where one file
    is expected whole and the tests are shown.
    Measured on the local default model, a fix of a wrong first answer seldom turned green, while the same first
    request in other words, greedy too, solved tasks the first wording missed (docs/bench.md); the better of the
    two drafts is kept (a worse one is undone), and the fixes go on from it."""
    shape, wanted = run.shape, run.task.second_draft
    return (len(line.attempts) == 1 and bool(edits.changed) and line.honest and not edits.refused and not notes
            and (wanted == "on" or (wanted == "auto" and not run.model.honours_effort))
            and shape.format == "whole" and shape.path is not None and not run.task.hide_tests)


def _answered(run: _Run, workspace: Workspace, line: Line, *, iteration: int, index: int,
              emit: Emit) -> tuple[EditOutcome, list[str]]:
    """The model's answer's edits applied (none where it showed a contradiction: the line's state says so), with
    the notes for the next message. An answer that repeats the code word for word (a small model answering
    greedily does) is asked again at once with another question — the failing case worked through by hand, then
    the code — sampled more widely where the server samples (where it has a reasoning effort, stagnation raises
    that instead)."""
    effort, temperature = variation(index, line.effort)
    temperature = line.temperature if index == 0 and line.temperature is not None else temperature
    edits, notes = _answer(run, workspace, line, line.prompt, effort=effort, temperature=temperature,
                           iteration=iteration, emit=emit)
    if _repeats(edits) and run.model.honours_sampling and (temperature or 0.0) < HOT:
        emit(ev.Status(f"the answer repeats the code as it is: asked again, to work the failing case through first "
                       f"(temperature {HOT})"))
        retry = _first_messages(run, workspace, Now(line.result, None, tuple(line.attempts),
                                                    feedback_message(edits, (), run.shape, notes, True), stuck=True,
                                                    anew=True))
        edits, notes = _answer(run, workspace, line, retry, effort=effort, temperature=HOT, iteration=iteration,
                               emit=emit)
    return edits, notes


def _tested(run: _Run, slot: Slot, line: Line, *, iteration: int, notes: list[str], emit: Emit) -> bool:
    """The line's changed files synced and tested, and judged: tests lost, answers by heart, the best so far kept,
    and a change that breaks more than it fixes undone (said in notes); whether the change was kept."""
    before = line.checkpoint()
    slot.sandbox.sync(slot.workspace.unsynced())
    slot.holds = slot.workspace.changes()
    line.changes, line.full = slot.holds, _run(run.task.targets, run.task, slot.sandbox, iteration=iteration, emit=emit,
                                               candidate=line.candidate)
    line.result, line.lost = run.judged(line.full)
    # gaming beyond reasonable doubt keeps it red; values merely shared with the tests are only a warning; so does
    # what the code reached while the tests ran: the tests themselves, their frames, their runner
    written = {p: c for p, c in line.changes.items() if c}
    line.flagged = answers_by_heart(run.tests, written) + watched(line.whole.report,
                                                                  run.start.result.report, written)[0]
    run.offer(line)
    if score(line.result, line.honest) < before.score:  # never regress: undo it, and say what it broke
        run.caught(line.lost + line.flagged)
        notes.append(_undo(slot, line, before, emit, iteration))
        return False
    return True


def _escalate(run: _Run, slot: Slot, line: Line, *, stuck: str, iteration: int, notes: list[str],
              emit: Emit) -> Action:
    """A stuck line's next step up (more effort, or the failing case worked through by hand where the server has
    no effort to raise; a fresh start; stop), taken; which."""
    action = line.stagnation.escalate(run.model.honours_effort)
    line.effort = raised(line.effort) if action is Action.MORE_EFFORT else line.effort
    if action is Action.WORK_THROUGH and run.model.honours_sampling:
        line.temperature = HOT
    emit(ev.Escalated(iteration, action.value, stuck, line.effort, candidate=line.candidate,
                      temperature=line.temperature))
    if action is Action.MORE_EFFORT:  # stuck: perhaps the tests cannot all pass; a reasoning model may now say so
        notes.append(claim_rule())  # (small models echo the rule wherever they see it: they are not told)
    if action is Action.STOP:
        line.state, line.reason = LineState.STOPPED, f"stopped early: {stuck}, after escalating and a fresh start"
    if action is Action.FRESH_START:  # from the original code, told what did not work
        _hold(slot, {})
        line.changes, line.result, line.full = {}, run.baseline, run.start.result
        line.prompt = _first_messages(run, slot.workspace, Now(run.baseline, attempts=tuple(line.attempts)))
    return action


def _answer(run: _Run, workspace: Workspace, line: Line, prompt: Prompt, *, effort: str | None,
            temperature: float | None, iteration: int, emit: Emit) -> tuple[EditOutcome, list[str]]:
    """Ask, judge a claim of contradiction (a confirmed one settles the line: no edits), apply the edits."""
    candidate = line.candidate
    answer = _ask(run, line, prompt, effort=effort, temperature=temperature, iteration=iteration, emit=emit)
    notes = []
    claim = claimed_contradiction(answer.text)
    if claim is not None:  # stop and show it, rather than game the tests, but only on evidence
        verdict = judge(claim, run.tests, line.challenged)
        if verdict.confirmed:
            line.state, line.reason, line.evidence = LineState.CONTRADICTION, claim, verdict.evidence
            return EditOutcome(), notes
        line.challenged = True
        notes.append(verdict.feedback)
        emit(ev.Status("the model says the tests contradict each other; not confirmed, so it was told so and the "
                       "run goes on"))
    parsed, copied = copies(parse_edits(answer.text, run.shape.path, complete=answer.finish_reason != "length"),
                            {**run.tests, **run.shown})
    edits = apply_edits(workspace, parsed, run.guard)
    edits.found, edits.refused = edits.found + len(copied), copied + edits.refused
    echoed = echoed_headings(answer.text, prompt.messages())
    if echoed:  # it went on writing the prompt: what it wrote there as code is judged as any edit, and it is told
        notes.append(render("echoed.md", headings=echoed))
        emit(ev.Status(f"the answer continued the prompt ({', '.join(echoed[:3])}): told to answer with the code"))
    before = {path: workspace.read(path) for path in edits.changed}
    workspace.write(edits.written)
    step_diff = "".join(unified(path, before[path], workspace.read(path)) for path in edits.changed)
    emit(ev.EditsApplied(iteration, tuple(edits.changed), tuple(edits.refused), tuple(edits.misses), edits.found,
                         candidate=candidate, diff=step_diff))
    return edits, notes


def _undo(slot: Slot, line: Line, before: Checkpoint, emit: Emit, iteration: int) -> str:
    """Put the line back where it was before a step that made the results worse; what to tell the model."""
    worse, was = line.result.report, before.result.report
    broke = sorted(nodeid for nodeid, case in was.tests.items()
                   if case.outcome == "passed" and nodeid in worse.tests and worse.tests[nodeid].outcome != "passed")
    gaming = line.lost + line.flagged  # worse because it games the run: say how
    note = render("reverted.md", before=counts(was), after=counts(worse), broke=broke,
                  unloaded=len(worse.collect_errors) > len(was.collect_errors),
                  lost=render("lost_tests.md", tests=gaming).rstrip("\n") if gaming else "")
    _hold(slot, before.changes)
    line.restore(before)
    who = f"candidate {line.candidate}: " if line.candidate else ""
    emit(ev.Status(f"{who}iteration {iteration} made things worse ({counts(worse)}"
                   + (f"; it games the tests: {gaming[0]}" if gaming else "") + f"): undone, back to "
                   f"{counts(was)}"))
    return note


def _repeats(edits: EditOutcome) -> bool:
    """The answer's edits leave the code exactly as it was."""
    return bool(edits.found) and not (edits.changed or edits.refused or edits.misses)


def _hold(slot: Slot, changes: dict[str, bytes | None]) -> None:
    """Put the slot's copy at these changes, and the sandbox with it."""
    if changes != slot.workspace.changes():
        slot.workspace.restore(changes)
    slot.sandbox.sync(slot.workspace.unsynced())
    slot.holds = changes


def _first_messages(run: _Run, workspace: Workspace, now: Now | None = None) -> Prompt:
    """The prompt for the code in workspace as it is now (now: where the line stands; None: the first request)."""
    task = run.task
    return first_messages(workspace, run.baseline, list(run.start.test_files), message=task.message,
                          edit_format=task.edit_format, limits=task.context, shown=run.shown, now=now,
                          tests_hidden=task.hide_tests)


def _settle(run: _Run, line: Line, slot: Slot, workspace: Workspace, iteration: int) -> Outcome:
    """The run's answer is this line: green (its code goes into workspace), or a contradiction to show."""
    if line.state is LineState.CONTRADICTION:
        return run.ended(Status.CONTRADICTION, iteration, line=line, reason=line.reason, slot=run.slots.index(slot))
    if workspace is not slot.workspace:
        workspace.restore(line.changes)
    return run.ended(Status.GREEN, iteration, line=line, slot=run.slots.index(slot))


def _scored(iteration: int, lines: list[Line], beam: list[Line]) -> ev.CandidatesScored:
    ranked = sorted(lines, key=lambda line: score(line.result, line.honest), reverse=True)
    return ev.CandidatesScored(iteration, tuple(
        ev.Ranked(line.candidate, **line.result.report.summary(), honest=line.honest, state=line.state.value)
        for line in ranked), tuple(line.candidate for line in beam))


def _serialised(emit: Emit, lock: threading.RLock) -> Emit:
    """Events from several candidates' threads reach the consumers one at a time."""
    def serialised(event: ev.Event) -> None:
        with lock:
            emit(event)
    return serialised


def _ask(run: _Run, line: Line, prompt: Prompt, *, effort: str | None, temperature: float | None, iteration: int,
         emit: Emit) -> Completion:
    """One answer, within the budget; a prompt over the context budget, or one the server says overflows its
    window, is shrunk first (and where it is the line's own, the line goes on from the smaller one)."""
    candidate = line.candidate
    asked, own = fit(prompt, run.task.context.prompt_tokens), prompt is line.prompt
    while True:
        if own:
            line.prompt = asked
        messages = asked.messages()
        emit(ev.ModelRequest(iteration, tuple(messages), candidate=candidate, effort=effort, temperature=temperature,
                             templates=asked.templates(), told=asked.told))
        try:
            answer = run.model.complete(
                messages, lambda p: emit(ev.ModelProgress(iteration, **vars(p), candidate=candidate)),
                output_cap=run.output_cap(messages), effort=effort, temperature=temperature, until=_until(run))
            break
        except ContextOverflow:
            smaller = shrink(asked)
            if smaller is None:
                raise
            asked = smaller
            emit(ev.Status("the prompt overflowed the model's context window: shrunk, and asked again"))
    spent = run.spent(answer)
    emit(ev.ModelAnswered(iteration, answer.text, answer.thinking, answer.finish_reason, dict(answer.usage),
                          answer.seconds, answer.forced, answer.retries, spent, candidate=candidate,
                          stopped=answer.stopped))
    return answer


def _until(run: _Run) -> Callable[[str], bool] | None:
    """Where one file is expected whole, the answer is complete once its block closes: reading stops there. Not
    for a server with a reasoning effort (an API): its usage, and so its cost, comes only at the stream's end."""
    shape = run.shape
    if shape.format != "whole" or not shape.path or run.model.honours_effort:
        return None
    return answered(shape.path)


def _hold_out(task: Task, workspace: Workspace, tests: dict[str, bytes], baseline: RunResult,
              emit: Emit) -> tuple[list[Held], dict[str, bytes]]:
    """The held-out tests, and the test files as the model sees them without them (or, with hide_tests, without
    any of their code)."""
    if task.hide_tests:
        guard = TestGuard(set())
        hidden = render("hidden_test.md").encode()
        return [], {path: hidden for path in workspace.files() if path.endswith(".py") and guard.is_test_file(path)
                    and posixpath.basename(path) != "conftest.py"}
    if task.holdout == 0:
        return [], {}
    if task.holdout:
        held = choose(tests, task.holdout, task.holdout_seed)
    else:
        held = choose_cases(tests, baseline.report.collected, task.holdout_seed)
    visible = without(baseline, held).report
    if held and not visible.failing and not visible.collect_errors:
        emit(ev.Status("every failing test would be held out: none is, so the model sees them all"))
        return [], {}
    if held:
        emit(ev.Status(f"held out until the rest is green, to check that the code generalises: "
                       f"{plural(len(held), 'test')} ({', '.join(item.nodeid for item in held[:3])}"
                       f"{', …' if len(held) > 3 else ''})"))
    return held, views(tests, held)


def without(result: RunResult, held: Sequence[Held]) -> RunResult:
    """A run's result as the model may see it: the held-out tests left out (and their lines of output)."""
    if not held:
        return result
    report = result.report
    tests = {nodeid: case for nodeid, case in report.tests.items() if not held_out(nodeid, held)}
    collected = tuple(nodeid for nodeid in report.collected if not held_out(nodeid, held))
    status = report.exitstatus
    if status == PYTEST_FAILED and not report.collect_errors and \
            not any(case.outcome in ("failed", "error") for case in tests.values()):
        status = PYTEST_OK  # only held-out tests failed: as the model sees it, the run passed
    report = dataclasses.replace(report, tests=tests, collected=collected, exitstatus=status)
    output = "\n".join(line for line in result.output.splitlines()
                       if not any(item.nodeid.split("::", 1)[1] in line for item in held))
    return dataclasses.replace(result, report=report, output=output)


def _generalises(run: _Run, line: Line) -> str | None:
    """Code green on the tests the model saw: how it fares on the held-out ones (the first time, the run's
    measure of generalisation). Where they fail, that is overfitting: the evidence is kept, the line's result
    becomes the whole run's, the held-out tests are shown from now on (to every candidate), and what to tell the
    model is returned."""
    tally, emit, whole = run.tally, run.emitter(line.candidate), line.whole
    with run.lock:
        held = run.held
        if not held:  # another candidate revealed them meanwhile
            line.result = whole
            return None
        cases = {nodeid: case for nodeid, case in whole.report.tests.items() if held_out(nodeid, held)}
        failed = {nodeid: case for nodeid, case in cases.items() if case.outcome in ("failed", "error")}
        if not tally.held_result:
            tally.held_result = {"functions": sum(item.case is None for item in held),
                                   "cases": sum(item.case is not None for item in held),
                                   "tests": len(cases), "passed": sum(c.outcome == "passed" for c in cases.values())}
        if whole.report.green:
            return None
        line.result = whole
        if not failed:  # not green for another reason than the held-out tests: the model sees it all
            return None
        tally.overfitting = [
            f"{nodeid.split('::')[0]}:{_line_of(nodeid, held)} {nodeid}: held out, and fails on code that passes "
            f"every test it was shown ({(case.message or case.outcome).splitlines()[0][:120]})"
            for nodeid, case in failed.items()]
        run.held, run.shown, run.baseline = [], {}, run.start.result
    emit(ev.Status(f"overfitting: {plural(len(failed), 'held-out test')} fail on code that is green on the rest; "
                   "the model is shown them now"))
    paths = sorted({item.path for item in held})
    return render("held_out_failed.md", count=plural(len(failed), "test"), tests=list(failed),
                  files="\n\n".join(file_block(path, run.tests[path]) for path in paths if path in run.tests))


def _line_of(nodeid: str, held: Sequence[Held]) -> int:
    return next((item.line for item in held if nodeid == item.nodeid or nodeid.startswith(item.nodeid + "[")), 0)


def _run(targets: tuple[str, ...], task: Task, sandbox: Sandbox, *, iteration: int, emit: Emit,
         candidate: int = 0) -> RunResult:
    result = sandbox.run_tests(targets, task.test_timeout)
    report = result.report
    emit(ev.TestsRan(iteration, report.summary(), report.green, result.timed_out, result.seconds,
                     tuple(case.nodeid for case in report.failing), result.output, result.tampered,
                     candidate=candidate, broken=tuple(error.nodeid for error in report.collect_errors),
                     hung=tuple(case.nodeid for case in report.failing if case.message == UNFINISHED)))
    return result


def _check_baseline(result: RunResult, protected: ProtectedPaths, files: dict[str, bytes]) -> TestGuard:
    """The baseline must be a test suite that runs, with its third-party packages installed; its test files become
    read-only to the model."""
    report = result.report
    test_files = {nodeid.split("::")[0] for nodeid in (*report.collected, *report.tests)}
    test_files |= {error.nodeid.split("::")[0] for error in report.collect_errors if error.nodeid.endswith(".py")}
    guard = TestGuard(test_files, automation=protected)
    problems = user_errors(report, guard.is_test_file)
    if problems:
        raise TestSuiteError("the tests themselves do not load; fix them first", "\n\n".join(problems))
    packages = undeclared(report, files, project_name(files))
    if packages:
        raise TestSuiteError(declare_message(packages), "\n\n".join(
            e.longrepr[-1500:] for e in report.collect_errors
            if e.import_name and e.import_name.split(".")[0] in dict(packages)))
    ran = bool(report.collected or report.tests or report.collect_errors)
    if report.exitstatus == PYTEST_NO_TESTS or (report.exitstatus is not None and not ran):
        raise TestSuiteError("no tests were collected: check the paths given and pytest's configuration",
                             result.output[-4000:])
    if not ran or report.exitstatus in (PYTEST_INTERNAL, PYTEST_USAGE):
        # pytest stopped before any test (a broken conftest.py, bad options): nothing the model can be shown
        raise TestSuiteError(f"the tests cannot be run: pytest exited with status {result.exit_code}",
                             result.output[-4000:])
    return guard
