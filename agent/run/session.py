"""One `makegreen solve` run, wired: settings → workspace, sandbox and model → the loop → the user's tree."""
from __future__ import annotations

import dataclasses
import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable, Sequence

from ..core import prompting
from ..core.errors import ConfigError
from ..core.interrupts import interrupts_deferred
from ..honesty.integrity import special_cases
from ..honesty.protected import ProtectedPaths
from ..honesty.watch import judged as watched
from ..workspace.apply import recover
from ..workspace.git import check_can_commit
from ..workspace.snapshot import Workspace
from ..workspace.state import state_dir
from . import events as ev
from .config import Settings
from .delivery import Delivery, deliver
from .loop import Outcome, Slot, Task, solve
from .status import Status
from .summary import RunSummary
from .trajectory import TrajectoryWriter, save_snapshot
from .wiring import (Deferred, check_key, context_limits, make_budget, make_model, make_sandboxes, new_run_id,
                     start_all, start_engine, wants_local, with_local_default, with_profile)

Emit = Callable[[ev.Event], None]


def resolve_targets(root: Path, cwd: Path, paths: Sequence[str]) -> tuple[str, ...]:
    """PATHS as the user typed them (relative to where they stand), as pytest arguments relative to the root."""
    targets = []
    for given in paths:
        file_part, sep, rest = given.partition("::")
        full = (cwd / file_part).resolve()
        if not full.exists():
            raise ConfigError(f"{file_part}: no such file or directory")
        try:
            relative = full.relative_to(root).as_posix()
        except ValueError:
            raise ConfigError(f"{file_part} is outside the project at {root}") from None
        targets.append((relative if relative != "." else "") + (sep + rest if sep else "") or ".")
    return tuple(targets)


def make_slots(settings: Settings, root: Path, workspace: Workspace, *, run_id: str, stack: ExitStack,
               emit: Emit) -> list[Slot]:
    """One slot a candidate, started: its own sandbox and, with more than one, its own workspace. Each is
    closed when stack closes."""
    sandboxes = make_sandboxes(settings, root, files=workspace.files(), run_id=run_id, emit=emit, count=settings.candidates)
    for sandbox in sandboxes:
        # a run that ends as it should parks a warm container for the next; an interrupted or failed one removes it
        stack.callback(lambda box=sandbox: box.close(park=sys.exc_info()[0] is None))
    copies = [workspace] if settings.candidates == 1 else [workspace.fork() for _ in sandboxes]
    if settings.candidates > 1:
        emit(ev.Status(f"{settings.candidates} candidates, each in its own sandbox; debugging goes on from the "
                       f"best {settings.beam}"))
    start_all(sandboxes, workspace.files())
    return [Slot(copy, sandbox) for copy, sandbox in zip(copies, sandboxes)]


def run_solve(settings: Settings, root: Path, targets: tuple[str, ...], emit: Emit, *,
              clock: Callable[[], float] = time.monotonic, record_root: Path | None = None,
              replay_model=None, replay_of: str | None = None) -> RunSummary:
    """Solve, apply when green (unless told not to), and return the run's summary, whose status is green,
    already_green, not_solved or conflict. Errors propagate typed, after the trajectory has recorded them.
    record_root: where .makegreen/ keeps the record and caches, when root is a copy (the hook's snapshot);
    replay_model answers instead of the backend (makegreen replay of run replay_of)."""
    started = clock()
    run = RunRecord(settings, record_root or root, emit)
    try:
        with CleanUp() as stack:
            _solve_and_deliver(settings, root, targets, record_root=record_root or root, run=run, stack=stack,
                               replay_model=replay_model, replay_of=replay_of)
    except KeyboardInterrupt:
        run.summary.update(**{**run.delivery.fields(), "status": Status.INTERRUPTED})  # what was written, it says
        raise
    except Exception as exc:
        run.summary.update(**{**run.delivery.fields(), "status": Status.ERROR, "message": str(exc)})
        raise
    finally:
        run.finish(round(clock() - started, 3))
    return run.summary


class RunRecord:
    """One run's id, record and summary. Every event goes through tell(): into the record, to the caller, and
    the protected paths the model tried to write into the summary."""

    def __init__(self, settings: Settings, record_root: Path, emit: Emit) -> None:
        self.id = new_run_id()
        self.dir = state_dir(record_root) / "runs" / self.id
        self._trajectory = TrajectoryWriter(self.dir)
        self._emit = emit
        self._refused: dict[str, str] = {}
        self.delivery = Delivery(self.id)
        self.summary = RunSummary(self.id, os.path.relpath(self.dir), settings.model, settings.sandbox,
                                  trust=settings.trust, ignored_settings=list(settings.ignored))

    def tell(self, event: ev.Event) -> None:
        if isinstance(event, ev.EditsApplied):
            self._refused.update((r.path, r.reason) for r in event.refused if r.protected)
            self.summary.refused = [{"path": path, "reason": reason} for path, reason in sorted(self._refused.items())]
        elif isinstance(event, ev.ModelUnlisted):
            self.summary.model_warning = event.text
        self._trajectory(event)
        self._emit(event)

    def finish(self, seconds: float) -> None:
        with interrupts_deferred():  # the record's last line is written whole, whatever arrives
            self.summary.seconds = seconds
            self.tell(ev.Finished(dataclasses.replace(self.summary)))
            self._trajectory.close()


def _solve_and_deliver(settings: Settings, root: Path, targets: tuple[str, ...], *, record_root: Path,
                       run: RunRecord, stack: ExitStack, replay_model, replay_of: str | None) -> None:
    """The run itself: set up, the model built in the background, the workspace and sandboxes, the loop, then
    the delivery of its change; each part closed by stack."""
    tell, summary = run.tell, run.summary
    settings = _set_up(settings, root, record_root=record_root, stack=stack, emit=tell,
                       replay=replay_model is not None)
    summary.model = settings.model
    tell(ev.RunStarted(run.id, str(root), settings.model, settings.sandbox, targets))
    if settings.commit or settings.branch:  # before anything is spent
        check_can_commit(root, settings.branch)
    tell(ev.RunSettings({key: value for key, value in dataclasses.asdict(settings).items() if key != "api_key"},
                        replay_of))
    model = replay_model or Deferred(lambda told: make_model(settings, told), tell)
    if isinstance(model, Deferred):
        model.start()
        stack.callback(model.close)
    workspace = Workspace(root)
    if not save_snapshot(run.dir, workspace.files()):
        tell(ev.Status("the tree is too large to keep a snapshot of: this run cannot be replayed"))
    slots = make_slots(settings, root, workspace, run_id=run.id, stack=stack, emit=tell)
    outcome = solve(make_task(settings, targets, record_root, tell), model, workspace, slots, tell)
    summary.update(**_outcome_summary(outcome, workspace), candidates=settings.candidates, beam=settings.beam)
    if settings.candidates > 1 and outcome.status == Status.GREEN:
        summary.candidate = outcome.slot + 1
    deliver(settings, root, workspace, outcome, run_dir=run.dir, summary=summary, delivery=run.delivery, emit=tell,
            best_summary=lambda: _outcome_summary(outcome, workspace, best=True))
    summary.update(**run.delivery.fields())


def _set_up(settings: Settings, root: Path, *, record_root: Path | None, stack: ExitStack, emit: Emit,
            replay: bool) -> Settings:
    """Before the run: a write a killed run left half done finished (and said), the model to use settled (the local
    default, an engine started around the run, the model's profile), the key checked."""
    finished = recover(record_root or root)
    if finished:
        emit(ev.Status(f"finished the apply an interrupted run left half done: {', '.join(finished)}"))
    if wants_local(settings) and not replay:
        settings = with_local_default(settings, emit)
    if settings.serve:
        settings = start_engine(settings, stack, emit)
    settings = with_profile(settings)
    if not replay:
        check_key(settings)
    prompting.use_folder(root / settings.prompts_dir if settings.prompts_dir else None)  # relative: to the root
    stack.callback(prompting.use_folder, None)
    return settings


def make_task(settings: Settings, targets: tuple[str, ...], root: Path, emit: Emit) -> Task:
    """What the loop is asked to do, and within what."""
    return Task(targets=targets, message=settings.message, max_iterations=settings.max_iterations,
                test_timeout=settings.test_timeout, edit_format=settings.edit_format,
                budget=make_budget(settings, emit), context=context_limits(settings, root), effort=settings.effort,
                holdout=settings.holdout, holdout_seed=settings.holdout_seed, beam=settings.beam,
                hide_tests=settings.hide_tests, second_draft=settings.second_draft,
                protected=ProtectedPaths(settings.protect, settings.unprotect))


class CleanUp(ExitStack):
    """The run's clean-up (the engine, the sandboxes, the copies) runs whole: an interrupt during it waits."""

    def __exit__(self, *exc) -> bool:
        with interrupts_deferred():
            return super().__exit__(*exc)


def _outcome_summary(outcome: Outcome, workspace: Workspace, best: bool = False) -> dict[str, Any]:
    result = outcome.best.result if best and outcome.best else outcome.result
    changed = list(workspace.changes()) if outcome.status == Status.GREEN or best else []
    written = {path: content for path, content in workspace.changes().items() if content is not None}
    return {
        "status": outcome.status,
        "iterations": outcome.iterations,
        "tests_before": outcome.before,
        "tests": result.report.summary(),
        "failing": [case.nodeid for case in result.report.failing],
        "turned_green": sorted(nodeid for nodeid, case in result.report.tests.items()
                               if case.outcome == "passed" and nodeid not in outcome.passing_before),
        "lost_tests": list(outcome.lost),
        # evidence that kept the result red (the tests' answers held by heart, the tests reached while they ran),
        # and of the steps undone for it
        "gaming": [*outcome.flagged, *(item for item in outcome.gamed if item not in outcome.flagged)],
        "special_cases": special_cases(outcome.tests, written),
        "watched": watched(result.report, None, written)[1],  # what keeps it red is in gaming already
        "changed_files": changed,
        "diff": workspace.diff() if changed else "",
        "usage": outcome.usage,
        "cost_usd": None if outcome.cost_usd is None else round(outcome.cost_usd, 6),
        "reason": outcome.reason,
        "contradictions_confirmed": list(outcome.confirmed),
        "holdout": {"held_out": list(outcome.held), **outcome.held_result} if outcome.held else None,
        "overfitting": list(outcome.overfitting),  # held-out tests that failed on code green on the rest (a warning
        # where the final code passes them too: it was shown them after)
        "model_seconds": round(outcome.model_seconds, 3),
        "sandbox_seconds": round(outcome.sandbox_seconds, 3),
    }
