"""`makegreen config`: every effective setting, its value and where it came from; what an untrusted checkout
asked for and did not get; the paths the model may not touch."""
from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..honesty.protected import ProtectedPaths
from ..run.config import Settings, load_settings, source_of, user_config_path
from ..workspace.snapshot import find_root
from .boundary import run_guarded

HIDDEN = ("sources", "ignored", "json", "show_thinking")


def config_command(
    untrusted: bool = typer.Option(False, "--untrusted", help="Show what a run with --untrusted would use."),
    hook: bool = typer.Option(False, "--hook", help="The pre-commit hook's settings."),
    json_output: bool = typer.Option(False, "--json", help="One JSON object on stdout."),
) -> None:
    """Show the effective settings and the source of each: default, your config file, pyproject.toml, the
    environment or the command line."""

    def body() -> int:
        root = find_root(Path.cwd())
        settings = load_settings(root, os.environ, {"trust": "untrusted" if untrusted else None}, hook=hook)
        rows = _rows(settings)
        protected = list(ProtectedPaths(settings.protect, settings.unprotect).patterns)
        if json_output:
            print(json.dumps({"settings": {name: {"value": value, "source": source} for name, value, source in rows},
                              "ignored": list(settings.ignored), "protected": protected,
                              "user_config": str(user_config_path(os.environ) or "")}, default=str))
            return 0
        table = Table(title=f"makegreen config ({settings.trust} checkout)", title_justify="left")
        for column in ("setting", "value", "from"):
            table.add_column(column, overflow="fold")
        for name, value, source in rows:
            table.add_row(name.replace("_", "-"), escape("" if value is None else str(value)), escape(source),
                          style=None if source == "default" else "bold")
        console = Console(file=sys.stdout, width=max(Console().width, 100))
        console.print(table)
        for line in settings.ignored:
            console.print(f"ignored (untrusted checkout): {line}", style="yellow", markup=False, highlight=False)
        console.print("protected from the model, besides the tests and their configuration: " + ", ".join(protected),
                      markup=False, highlight=False)
        return 0

    raise typer.Exit(run_guarded(body))


def _rows(settings: Settings) -> list[tuple[str, object, str]]:
    rows = []
    for field in dataclasses.fields(Settings):
        if field.name in HIDDEN:
            continue
        value = getattr(settings, field.name)
        if field.name == "api_key":
            value = "(set)" if value else None  # a secret is never printed
        rows.append((field.name, value, source_of(settings, field.name)))
    return rows
