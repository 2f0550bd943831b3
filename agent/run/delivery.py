"""What becomes of a finished run's change: green, its patch saved, written into the user's tree (unless
--no-apply) and committed if asked; not green, the best attempt saved as a patch, and written with
--apply-partial. The result is a Delivery, which the session merges into the run's summary."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..core.errors import ApplyConflict
from ..workspace.git import CommitRefused, commit_fix, commit_message
from ..workspace.snapshot import Workspace
from ..workspace.state import save_text
from ..workspace.undo import UNDO, save_undo
from . import events as ev
from .config import Settings
from .loop import Outcome
from .status import Status
from .summary import RunSummary

Emit = Callable[[ev.Event], None]


@dataclass
class Delivery:
    """Filled in as it happens, so that a run interrupted half way still tells what was written."""

    run_id: str
    best: dict[str, Any] | None = None  # not green: the summary of the best attempt, which replaces the last one's
    applied: bool = False
    status: Status | None = None  # where the delivery decides the run's status: a conflict, a refused commit
    message: str = ""
    conflicts: list[str] = field(default_factory=list)
    overwrote_uncommitted: list[str] | None = None
    commit: str | None = None
    branch: str | None = None

    def fields(self) -> dict[str, Any]:
        """The summary's keys this delivery sets."""
        found: dict[str, Any] = dict(self.best or {})
        found["applied"] = self.applied
        for key in ("status", "message", "commit", "branch"):
            if getattr(self, key):
                found[key] = getattr(self, key)
        if self.overwrote_uncommitted is not None:
            found["overwrote_uncommitted"] = self.overwrote_uncommitted
        if self.conflicts:
            found["conflicts"] = self.conflicts
        return found


def deliver(settings: Settings, root: Path, workspace: Workspace, outcome: Outcome, *, run_dir: Path,
            summary: RunSummary, delivery: Delivery, emit: Emit,
            best_summary: Callable[[], dict[str, Any]]) -> None:
    """Green: the patch saved, applied (unless --no-apply) and committed if asked. Not green: the best attempt (not
    the last one) saved as a patch, and applied with --apply-partial. summary: the run's, as the loop left it."""
    if outcome.status == Status.GREEN:
        patch = run_dir / "changes.patch"
        save_text(patch, summary.diff)
        if not settings.apply:
            delivery.message = f"not applied (--no-apply); the patch is in {os.path.relpath(patch)}"
            return
        _apply(root, workspace, run_dir=run_dir, patch=patch, delivery=delivery, emit=emit)
        if delivery.applied and (settings.commit or settings.branch):
            _commit(settings, root, workspace, turned_green=summary.turned_green, changed=summary.changed_files,
                    delivery=delivery, emit=emit)
    elif outcome.status.unsolved and outcome.best is not None:
        workspace.restore(outcome.best.changes)
        delivery.best = best_summary()
        patch = run_dir / "best-attempt.patch"
        save_text(patch, workspace.diff())
        delivery.message = f"your files are untouched; the best attempt is in {os.path.relpath(patch)}"
        if settings.apply_partial and settings.apply:
            _apply(root, workspace, run_dir=run_dir, patch=patch, delivery=delivery, emit=emit)
            if delivery.applied:
                delivery.message = (f"the best attempt (not green) was applied (--apply-partial); its patch is "
                                    f"{os.path.relpath(patch)}")


def _apply(root: Path, workspace: Workspace, *, run_dir: Path, patch: Path, delivery: Delivery, emit: Emit) -> None:
    """Write the patch into the user's tree (the way back kept first); a conflict writes nothing."""
    from ..workspace.git import uncommitted

    changes, original = workspace.changes(), workspace.files()
    save_undo(run_dir, original, changes)
    dirty = uncommitted(root, original, [path for path in changes if path in original])
    delivery.overwrote_uncommitted = dirty
    if dirty:
        emit(ev.Status(f"{', '.join(dirty)} held uncommitted changes of yours, which the fix replaces; "
                       f"`makegreen undo {delivery.run_id}` puts them back"))

    def written() -> None:
        delivery.applied = True
        emit(ev.Written(tuple(changes)))

    try:
        workspace.apply(patch, on_written=written)
    except ApplyConflict as exc:
        (run_dir / UNDO).unlink(missing_ok=True)  # nothing was written: nothing to undo
        delivery.status, delivery.message, delivery.conflicts = Status.CONFLICT, str(exc), exc.paths


def _commit(settings: Settings, root: Path, workspace: Workspace, *, turned_green: list[str], changed: list[str],
            delivery: Delivery, emit: Emit) -> None:
    """--commit / --branch: the applied fix becomes a commit, through the repository's hooks."""
    message = commit_message(turned_green, settings.model)
    try:
        delivery.commit = commit_fix(root, workspace.files(), paths=changed, message=message,
                                     branch=settings.branch, hooks=settings.trust == "trusted")
    except CommitRefused as exc:
        delivery.status, delivery.message = Status.NOT_COMMITTED, str(exc)
        return
    delivery.branch = settings.branch or _branch_name(root)
    emit(ev.Status(f"committed {delivery.commit[:12]} on {delivery.branch}"))


def _branch_name(root: Path) -> str:
    from ..workspace.git import open_repo

    repo = open_repo(root)
    return repo.active_branch.name if repo is not None and not repo.head.is_detached else "(detached)"
