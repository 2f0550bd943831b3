"""`makegreen hook install|uninstall|run`: makegreen as a git pre-commit hook."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from .boundary import EXIT_USAGE, run_guarded

app = typer.Typer(help="Run makegreen as a git pre-commit hook: install it, remove it, or run it by hand.",
                  no_args_is_help=True)


def _mode(check: bool, fix: bool) -> str | None:
    if check and fix:
        print("makegreen: error: --check or --fix, not both", file=sys.stderr)
        return None
    return "fix" if fix else "check"


def _top() -> Path:
    from ..core.errors import ConfigError
    from ..workspace.git import open_repo

    repo = open_repo(Path.cwd())
    if repo is None or repo.working_tree_dir is None:
        raise ConfigError(f"{Path.cwd()} is not in a git working tree")
    return Path(repo.working_tree_dir)


@app.command("install")
def install_command(
    check: bool = typer.Option(False, "--check", help="Stop commits whose staged tests fail (the default)."),
    fix: bool = typer.Option(False, "--fix", help="Also let the agent write a fix, unstaged, for review."),
) -> None:
    """Install the pre-commit hook (where git looks: core.hooksPath, worktrees); a hook already there is kept
    and runs first."""
    from ..integrations.hook import install

    mode = _mode(check, fix)
    if mode is None:
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(run_guarded(lambda: print(f"makegreen: {install(_top(), mode)}") or 0))


@app.command("uninstall")
def uninstall_command() -> None:
    """Remove makegreen's hook and put back the hook it chained, if any."""
    from ..integrations.hook import uninstall

    raise typer.Exit(run_guarded(lambda: print(f"makegreen: {uninstall(_top())}") or 0))


@app.command("run")
def run_command(
    check: bool = typer.Option(False, "--check", help="Run the tests on what is staged (the default)."),
    fix: bool = typer.Option(False, "--fix", help="When red, write a fix into the working tree, unstaged."),
    untrusted: bool = typer.Option(False, "--untrusted", help="The branch is someone else's: its pyproject.toml may "
                                   "not choose the backend, sandbox, limits or budgets (env MAKEGREEN_TRUST)."),
) -> None:
    """Test the staged snapshot: 0 when green; 1 when red (with --fix: after writing a fix, for review)."""
    from ..integrations.hook import run

    mode = _mode(check, fix)
    if mode is None:
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(run_guarded(lambda: run(mode, untrusted, lambda line: print(line, flush=True))))
