"""makegreen as a git pre-commit hook: installing it beside any hook already there, and running it on the staged
snapshot (never the unstaged working tree, never a stash).

--check runs the tests on what is staged and says which fail. --fix runs the agent there, within the budget in
[tool.makegreen.hook], and writes the fix into the working tree unstaged, for the user to review and `git add`.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sandbox.owner import owned_tempdir

from sandbox.results import PYTEST_NO_TESTS as NO_TESTS

from .. import LAUNCH
from ..core.errors import ApplyConflict, ConfigError
from ..core.words import plural, count_tests
from ..run.status import Status
from ..workspace.git import git_path, open_repo, toplevel
from ..workspace.snapshot import TEMP_PREFIXES
from ..workspace.state import STATE_DIR

HOOK = "pre-commit"
MARKER = "# makegreen pre-commit hook"
CHAINED = "pre-commit.before-makegreen"  # a hook that was there first: kept, and run before makegreen's
MODES = ("check", "fix")
SHOWN_FAILURES = 8

Say = Callable[[str], None]


def _hooks_dir(root: Path) -> Path:
    repo = open_repo(root)
    if repo is None:
        raise ConfigError(f"{root} is not in a git repository: there is nowhere to install a hook")
    return git_path(repo, "hooks")


def hook_script(mode: str, python: str) -> str:
    """The hook: the chained one first, then makegreen by the interpreter it was installed with (or from PATH)."""
    command = f"-c {shlex.quote(LAUNCH)} hook run --{mode}"
    return (f"#!/bin/sh\n{MARKER} (--{mode}); `makegreen hook uninstall` removes it and restores a hook it chained\n"
            f'chained="$(dirname "$0")/{CHAINED}"\n'
            f'if [ -x "$chained" ]; then "$chained" "$@" || exit $?; fi\n'
            f"python={shlex.quote(python)}\n"
            f'if [ -x "$python" ]; then exec "$python" {command}; fi\n'
            f"exec makegreen hook run --{mode}\n")


def install(root: Path, mode: str = "check", python: str = sys.executable) -> str:
    """Write the hook; a foreign hook is kept and chained. Says what it did; installing twice changes nothing."""
    hooks = _hooks_dir(root)
    hooks.mkdir(parents=True, exist_ok=True)
    target, chained = hooks / HOOK, hooks / CHAINED
    script = hook_script(mode, python)
    if target.is_file() and MARKER in target.read_text(errors="replace"):
        if target.read_text() == script:
            return f"already installed at {target} (--{mode}): nothing changed"
        _write_executable(target, script)
        return f"updated {target} (--{mode})"
    if target.exists() or target.is_symlink():
        if chained.exists() or chained.is_symlink():
            raise ConfigError(f"{target} is not makegreen's and {chained} exists already: move one of them first")
        os.replace(target, chained)
        _write_executable(target, script)
        return f"installed {target} (--{mode}); your hook is kept as {chained} and still runs first"
    _write_executable(target, script)
    return f"installed {target} (--{mode})"


def uninstall(root: Path) -> str:
    hooks = _hooks_dir(root)
    target, chained = hooks / HOOK, hooks / CHAINED
    if not target.is_file() or MARKER not in target.read_text(errors="replace"):
        return f"no makegreen hook at {target}: nothing changed"
    target.unlink()
    if chained.exists() or chained.is_symlink():
        os.replace(chained, target)
        return f"removed makegreen's hook; your earlier hook is back at {target}"
    return f"removed {target}"


def _write_executable(path: Path, text: str) -> None:
    temp = path.with_name(path.name + ".makegreen-tmp")
    temp.write_text(text, encoding="utf-8")
    temp.chmod(0o755)
    os.replace(temp, path)


@dataclass
class Staged:
    """The staged snapshot, exported from the index the hook inherits (GIT_INDEX_FILE included)."""

    root: Path  # the repository's working tree
    folder: Path  # the export

    def files(self) -> dict[str, bytes]:
        found = {}
        for folder, dirs, names in os.walk(self.folder):
            if Path(folder) == self.folder:  # makegreen's own folder (the apply's lock) is not the project's
                dirs[:] = [d for d in dirs if d != STATE_DIR]
            for name in names:
                full = Path(folder, name)
                if full.is_file() and not full.is_symlink():
                    found[full.relative_to(self.folder).as_posix()] = full.read_bytes()
        return found

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def export_staged(root: Path) -> Staged:
    top = toplevel(root)
    if top is None:
        raise ConfigError(f"{root} is not in a git working tree: the hook tests what is staged")
    folder = owned_tempdir(TEMP_PREFIXES[1])
    try:
        # checkout-index writes the index's content (not the working tree's); --prefix keeps it out of the tree
        subprocess.run(["git", "checkout-index", "--all", f"--prefix={folder}/"], cwd=top, check=True,
                       capture_output=True)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ConfigError(f"cannot export the staged files: {exc.stderr.decode(errors='replace').strip()}") from exc
    return Staged(top, folder)


def run(mode: str, untrusted: bool, say: Say) -> int:
    """`makegreen hook run`: the staged snapshot tested (check) or fixed (fix); its exit code. Kept free of the
    CLI's imports: `hook run --check` is on every commit's path (agent/launch.py calls it directly)."""
    from ..run.config import load_settings

    staged = export_staged(Path.cwd())
    try:
        # the settings of what is being committed: a pyproject.toml edited but not staged does not count
        settings = load_settings(staged.folder, os.environ, {"trust": "untrusted" if untrusted else None}, hook=True)
        if mode == "check":
            return check(staged, settings, say)
        from ..ui import PlainRenderer

        return fix(staged, settings, say, PlainRenderer(sys.stderr, show_result=False))
    finally:
        staged.close()


def failure_lines(failing: list[str], limit: int = SHOWN_FAILURES) -> list[str]:
    lines = [f"  {nodeid}" for nodeid in failing[:limit]]
    if len(failing) > limit:
        lines.append(f"  … and {len(failing) - limit} more")
    return lines


def write_fix(root: Path, staged: dict[str, bytes], fixed: dict[str, bytes], patch: Path, diff: str) -> list[str]:
    """Write the fix into the working tree, unstaged: all of it, or (a file whose working copy is not what is
    staged: partly staged, or changed since) none of it, the patch saved instead."""
    from ..workspace.apply import write_all

    changes = {path: fixed.get(path) for path in sorted(staged.keys() | fixed.keys())
               if staged.get(path) != fixed.get(path)}
    return write_all(root, staged, changes, patch_path=patch, diff=diff,
                     why="is partly staged or changed since you staged it")


def check(staged: Staged, settings, say: Say) -> int:
    """Run the tests on the staged snapshot: 0 when they pass, 1 with the failing tests when not."""
    from ..run.wiring import make_sandboxes, new_run_id

    files = staged.files()
    sandbox = make_sandboxes(settings, staged.folder, files=files, run_id=new_run_id(), emit=lambda event: None)[0]
    try:
        sandbox.start(files)
        result = sandbox.run_tests((), settings.test_timeout)
    except BaseException:  # interrupted or failed: nothing is kept for the next run
        sandbox.close(park=False)
        raise
    sandbox.close()
    report = result.report
    counts = count_tests(report.summary(), "")
    if report.green or (report.exitstatus == NO_TESTS and not report.collect_errors):
        say(f"makegreen: the staged tests pass ({counts or 'no tests collected'}; {result.seconds:.1f} s)")
        return 0
    failing = [f"{case.nodeid}{': ' + case.message.splitlines()[0][:120] if case.message else ''}"
               for case in report.failing]
    failing += [f"{error.nodeid}: {error.exc_type}: {error.message.splitlines()[0][:120] if error.message else ''}"
                for error in report.collect_errors]
    say(f"makegreen: the staged tests are red ({counts or f'pytest exited with {result.exit_code}'}):")
    for line in failure_lines(failing) or [result.output.strip()[-2000:]]:
        say(line)
    say("makegreen: fix them, or let makegreen: `makegreen hook run --fix` (or `makegreen solve`)")
    return 1


def fix(staged: Staged, settings, say: Say, emit) -> int:
    """Run the agent on the staged snapshot; write a fix into the working tree, unstaged. 0 only when the staged
    tests already pass: a fix, like a failure, stops the commit for the user to review."""
    import dataclasses

    from ..run.session import run_solve

    before = staged.files()
    settings = dataclasses.replace(settings, apply=True, apply_partial=False, commit=False, branch=None)
    summary = run_solve(settings, staged.folder, (), emit, record_root=staged.root)
    status = summary.status
    if status == Status.ALREADY_GREEN:
        say("makegreen: the staged tests pass")
        return 0
    record = Path(os.path.abspath(summary.run_dir))  # relative to where makegreen runs
    if status != Status.GREEN:
        say(f"makegreen: the staged tests are red and makegreen did not make them pass ({status}"
            + (f": {summary.reason}" if summary.reason else "") + "):")
        for line in failure_lines(summary.failing):
            say(line)
        if summary.message:
            say(f"makegreen: {summary.message}")
        return 1
    patch = record / "changes.patch"
    try:
        written = write_fix(staged.root, before, staged.files(), patch, summary.diff)
    except ApplyConflict as exc:
        say(f"makegreen: a fix makes the staged tests pass, but {exc}")
        return 1
    iterations = plural(summary.iterations, "iteration")
    say(f"makegreen: the staged tests were red; a fix that makes them pass ({iterations}) "
        "is in your working tree, unstaged:")
    for path in written:
        say(f"  {path}")
    changed = [path for path in written if path in before]
    new = [path for path in written if path not in before]
    accept = " and ".join(f"`git add {flag}{' '.join(paths)}`" for flag, paths in (("-p ", changed), ("", new))
                          if paths)
    say(f"makegreen: review it (git diff), accept it with {accept}, and commit again. "
        f"The patch is also in {os.path.relpath(patch)}")
    return 1

