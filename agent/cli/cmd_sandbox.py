"""`makegreen sandbox build|prune`: the project's sandbox image, and what earlier runs left behind."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from ..run.config import load_settings
from ..workspace.snapshot import Workspace, find_root
from .boundary import run_guarded

app = typer.Typer(help="Build the project's sandbox image, or remove what earlier runs left.", no_args_is_help=True)


@app.command("build")
def build_command() -> None:
    """Build the project's sandbox image (or reuse it when its inputs are unchanged) and show what it holds."""

    def body() -> int:
        from sandbox.container import connect
        from sandbox.image import installed

        from ..run.wiring import project_image

        root = find_root(Path.cwd())
        settings = load_settings(root, os.environ, {})
        client = connect()
        workspace = Workspace(root)
        log: list[str] = []

        def show(line: str) -> None:
            log.append(line)
            print(line, flush=True)

        tag = project_image(client, settings, workspace.files(), show)
        print(f"image {tag} ({'built' if log else 'reused'}, from {settings.base_image}) holds:")
        print(installed(client, tag).rstrip())
        return 0

    raise typer.Exit(run_guarded(body))


@app.command("prune")
def prune_command(
    everything: bool = typer.Option(False, "--all", help="Also remove containers of runs still going."),
    keep_images: bool = typer.Option(False, "--keep-images", help="Leave the project images."),
) -> None:
    """Remove makegreen's leftover containers (runs that were killed), the warm containers parked for the next run,
    and its project images."""

    def body() -> int:
        from sandbox.container import connect, remove_images, remove_orphans

        client = connect()
        containers = remove_orphans(client, everything, parked=True)
        images = [] if keep_images else remove_images(client)
        for name in containers:
            print(f"removed container {name}")
        for name in images:
            print(f"removed image {name}")
        print(f"{len(containers)} container(s), {len(images)} image(s) removed", file=sys.stderr)
        return 0

    raise typer.Exit(run_guarded(body))
