"""The red → green loop: ask the model, apply its edits, run the tests, decide. Reports progress as events."""
from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Callable

from sandbox import RunResult
from sandbox.results import PYTEST_INTERNAL, PYTEST_NO_TESTS, PYTEST_USAGE

from . import events as ev
from .budget import Budget, estimate_tokens
from .context.failures import user_errors
from .context.history import attempt_summary, summarised, with_history
from .context.prompt import ContextLimits, feedback_message, first_messages
from .context.shrink import shrink
from .edits import TestGuard, apply_edits, parse_edits
from .holdout import choose, deselect, held_out, views
from .integrity import claimed_contradiction, contradictions, lost_tests, special_cases
from .errors import BudgetExhausted, ContextOverflow, TestSuiteError
from .models.pricing import cost
from .protocols import Completion, Model, Sandbox
from .search import Stagnation, raised
from .workspace import Workspace

Emit = Callable[[ev.Event], None]


@dataclass(frozen=True)
class Task:
    targets: tuple[str, ...] = ()  # pytest paths or node ids; empty: the whole suite
    message: str = ""
    max_iterations: int = 8
    test_timeout: float = 120.0
    edit_format: str = "auto"
    budget: Budget = field(default_factory=Budget)
    context: ContextLimits = field(default_factory=ContextLimits)
    effort: str | None = None  # the configured reasoning effort, where escalation starts
    holdout: float = 0.0  # share of the test functions the model never sees, run at the end
    holdout_seed: int | None = None


@dataclass
class Outcome:
    status: str  # green, already_green, not_solved, out_of_budget, contradiction
    iterations: int
    result: RunResult
    usage: dict[str, int] = field(default_factory=dict)
    cost_usd: float | None = None
    model_seconds: float = 0.0
    sandbox_seconds: float = 0.0
    reason: str = ""
    lost: list[str] = field(default_factory=list)  # tests that vanished or turned into skips in the last run
    test_files: tuple[str, ...] = ()
    flagged: list[str] = field(default_factory=list)  # special-casing of values from the tests, in the last result
    confirmed: list[str] = field(default_factory=list)  # contradictions makegreen found in the tests itself
    held: list[str] = field(default_factory=list)  # held-out test functions, as path::name
    held_result: dict[str, int] = field(default_factory=dict)
    best: tuple[tuple[int, ...], dict[str, bytes | None], RunResult] | None = None  # (score, changes, result)


def solve(task: Task, model: Model, sandbox: Sandbox, workspace: Workspace, emit: Emit) -> Outcome:
    """Run the loop until the tests are green or the iterations are spent. The sandbox must be started."""
    held, shown = _hold_out(task, workspace)
    targets = task.targets + deselect(held)
    outcome = Outcome("not_solved", 0, _run(targets, task, sandbox, 0, emit), held=held)
    outcome.sandbox_seconds += outcome.result.seconds
    guard = _check_baseline(outcome.result)
    outcome.test_files = tuple(sorted(guard.test_files))
    if outcome.result.report.green:
        outcome.status = "already_green"
        return outcome
    messages = first_messages(workspace, outcome.result, sorted(guard.test_files), task.message, task.edit_format,
                              task.context, shown)
    baseline = outcome.result
    stagnation, effort = Stagnation(), task.effort
    seen: dict[str, str] = {}
    lost_tests(seen, outcome.result.report)
    tests = {path: workspace.original[path] for path in outcome.test_files if path in workspace.original}
    attempts: list[str] = []
    for iteration in range(1, task.max_iterations + 1):
        outcome.iterations = iteration
        emit(ev.IterationStarted(iteration, task.max_iterations))
        try:
            answer = _ask(model, messages, task, effort, outcome, iteration, emit)
        except BudgetExhausted as stop:
            outcome.status, outcome.reason = "out_of_budget", str(stop)
            return outcome
        claim = claimed_contradiction(answer.text)
        if claim is not None:  # stop and show it, rather than game the tests
            outcome.status, outcome.reason = "contradiction", claim
            outcome.confirmed = contradictions(tests)
            return outcome
        edits = apply_edits(workspace.dir, parse_edits(answer.text), guard)
        emit(ev.EditsApplied(iteration, tuple(edits.changed), tuple(vars(r) for r in edits.refused),
                             tuple(vars(m) for m in edits.misses), edits.found))
        previous = outcome.result.report
        if edits.changed:
            sandbox.sync(workspace.unsynced())
            outcome.result = _run(targets, task, sandbox, iteration, emit)
            outcome.sandbox_seconds += outcome.result.seconds
            outcome.lost = lost_tests(seen, outcome.result.report, frozenset(guard.test_files))
            outcome.flagged = special_cases(tests, {p: c for p, c in workspace.changes().items() if c})
            _keep_best(outcome, workspace)
        if outcome.result.report.green and not outcome.lost and not outcome.flagged:
            outcome.status = "green"
            return outcome
        attempts.append(attempt_summary(iteration, edits, outcome.result, workspace.diff_stat(edits.changed)))
        stuck = stagnation.observe(outcome.result.report)
        if stuck:
            action = stagnation.escalate()
            effort = raised(effort) if action == "more-effort" else effort
            emit(ev.Escalated(iteration, action, stuck, effort))
            if action == "stop":
                outcome.reason = f"stopped early: {stuck}, after more effort and a fresh start"
                return outcome
            if action == "fresh-start":  # from the original code, told what did not work
                workspace.restore({})
                sandbox.sync(workspace.unsynced())
                outcome.result = baseline
                messages = summarised(first_messages(workspace, baseline, list(outcome.test_files), task.message,
                                                     task.edit_format, task.context, shown), attempts)
                continue
        messages += [{"role": "assistant", "content": answer.text},
                     {"role": "user", "content": feedback_message(edits, outcome.result, previous,
                                                                    outcome.lost + outcome.flagged)}]
        messages = with_history(messages, attempts)
    outcome.reason = f"the tests are still red after {task.max_iterations} iterations"
    return outcome


def _ask(model: Model, messages: list[dict[str, str]], task: Task, effort: str | None, outcome: Outcome,
         iteration: int, emit: Emit) -> Completion:
    """One answer, within the budget; a prompt over the context budget, or one the server says overflows its
    window, is shrunk (in place) first."""
    budget = task.budget
    while estimate_tokens(messages) > task.context.prompt_tokens and (smaller := shrink(messages)) is not None:
        messages[:] = smaller
    while True:
        cap = budget.output_cap(outcome.usage, messages)
        emit(ev.ModelRequest(iteration, tuple(messages)))
        try:
            answer = model.complete(messages, lambda p: emit(ev.ModelProgress(iteration, **vars(p))), cap, effort)
            break
        except ContextOverflow:
            smaller = shrink(messages)
            if smaller is None:
                raise
            messages[:] = smaller
            emit(ev.Status("the prompt overflowed the model's context window: shrunk, and asked again"))
    spent = cost(answer.usage, budget.price)
    for key, value in answer.usage.items():
        outcome.usage[key] = outcome.usage.get(key, 0) + value
    if spent is not None:
        outcome.cost_usd = (outcome.cost_usd or 0.0) + spent
    outcome.model_seconds += answer.seconds
    emit(ev.ModelAnswered(iteration, answer.text, answer.thinking, answer.finish_reason, dict(answer.usage),
                          answer.seconds, answer.forced, answer.retries, spent))
    return answer


def _keep_best(outcome: Outcome, workspace: Workspace) -> None:
    """The best result so far (most tests passing, then fewest failing) is the run's answer, not the last one."""
    report = outcome.result.report
    summary = report.summary()
    honest = not outcome.lost and not outcome.flagged  # a result that games the tests never counts as the best
    score = (int(honest), summary["passed"], -(summary["failed"] + summary["errors"]))
    if outcome.best is None or score > outcome.best[0]:
        outcome.best = (score, workspace.changes(), outcome.result)


def _hold_out(task: Task, workspace: Workspace) -> tuple[list[str], dict[str, bytes]]:
    """The held-out test functions, and the test files as the model sees them without them."""
    if not task.holdout:
        return [], {}
    files = workspace.files()
    guard = TestGuard(set())
    tests = {path: content for path, content in files.items() if path.endswith(".py") and guard.is_test_file(path)
             and posixpath.basename(path) != "conftest.py"}
    held = choose(tests, task.holdout, task.holdout_seed)
    return held, views(tests, held)


def check_held_out(task: Task, sandbox: Sandbox, outcome: Outcome, emit: Emit) -> None:
    """Run everything, the held-out tests included, on the result; count how many of those pass."""
    result = _run(task.targets, task, sandbox, outcome.iterations + 1, emit)
    cases = [case for nodeid, case in result.report.tests.items() if held_out(nodeid, outcome.held)]
    outcome.held_result = {"functions": len(outcome.held), "tests": len(cases),
                           "passed": sum(case.outcome == "passed" for case in cases)}


def _run(targets: tuple[str, ...], task: Task, sandbox: Sandbox, iteration: int, emit: Emit) -> RunResult:
    result = sandbox.run_tests(targets, task.test_timeout)
    report = result.report
    emit(ev.TestsRan(iteration, report.summary(), report.green, result.timed_out, result.seconds,
                     tuple(case.nodeid for case in report.failing), result.output, result.tampered))
    return result


def _check_baseline(result: RunResult) -> TestGuard:
    """The baseline must be a test suite that runs; its test files become read-only to the model."""
    report = result.report
    test_files = {nodeid.split("::")[0] for nodeid in (*report.collected, *report.tests)}
    test_files |= {error.nodeid.split("::")[0] for error in report.collect_errors if error.nodeid.endswith(".py")}
    guard = TestGuard(test_files)
    problems = user_errors(report, guard.is_test_file)
    if problems:
        raise TestSuiteError("the tests themselves do not load; fix them first", "\n\n".join(problems))
    ran = bool(report.collected or report.tests or report.collect_errors)
    if report.exitstatus == PYTEST_NO_TESTS or (report.exitstatus is not None and not ran):
        raise TestSuiteError("no tests were collected: check the paths given and pytest's configuration",
                             result.output[-4000:])
    if not ran or report.exitstatus in (PYTEST_INTERNAL, PYTEST_USAGE):
        # pytest stopped before any test (a broken conftest.py, bad options): nothing the model can be shown
        raise TestSuiteError(f"the tests cannot be run: pytest exited with status {result.exit_code}",
                             result.output[-4000:])
    return guard
