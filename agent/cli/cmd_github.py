"""`makegreen github`: the GitHub Action's step (action.yml runs it; it reads the GITHUB_* and INPUT_* variables)."""
from __future__ import annotations

import os
from pathlib import Path

import typer

from .boundary import run_guarded


def github_command() -> None:
    """Run as the GitHub Action: solve, write the job summary and outputs, then commit, open a PR or comment."""
    from ..integrations.github import run

    raise typer.Exit(run_guarded(lambda: run(os.environ, Path.cwd(), lambda line: print(line, flush=True))))
