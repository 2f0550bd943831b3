"""`makegreen doctor`: is everything a run needs in place? A table, with the fix for each problem."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..integrations.doctor import FAIL, OK, blocking, run_checks
from ..run.config import load_settings
from ..workspace.snapshot import find_root, list_files
from .boundary import EXIT_ENVIRONMENT, run_guarded

STYLES = {OK: "green", FAIL: "bold red"}


def doctor_command(
    model: str = typer.Option(None, "--model", help="Check this model instead of the configured one."),
    base_url: str = typer.Option(None, "--base-url", help="Check this endpoint instead of the configured one."),
    sandbox: str = typer.Option(None, "--sandbox", help="docker or local."),
) -> None:
    """Check Docker, the images, the model backend and the repository; exit 3 when something blocks a run."""

    def body() -> int:
        import openai

        root = find_root(Path.cwd())
        settings = load_settings(root, os.environ, {"model": model, "base_url": base_url, "sandbox": sandbox})
        files = {path: (root / path).read_bytes() for path in list_files(root)
                 if path == "pyproject.toml" or "requirements" in path and path.endswith(".txt")}

        def make_client():
            return openai.OpenAI(api_key=settings.api_key or "unused", base_url=settings.base_url, max_retries=0,
                                 timeout=15)

        checks = run_checks(settings, root, files, os.environ, make_client)
        table = Table(show_lines=False, title="makegreen doctor", title_justify="left")
        for column in ("check", "status", "detail", "fix"):
            table.add_column(column, overflow="fold")
        for check in checks:
            table.add_row(escape(check.name), f"[{STYLES.get(check.status, 'yellow')}]{check.status}[/]",
                          escape(check.detail), escape(check.fix))
        Console(file=sys.stdout, width=max(Console().width, 120)).print(table)
        if blocking(checks):
            print("makegreen: something above blocks a run: see its fix", file=sys.stderr)
            return EXIT_ENVIRONMENT
        return 0

    raise typer.Exit(run_guarded(body))
