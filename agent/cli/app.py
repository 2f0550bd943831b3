"""The `makegreen` command: every subcommand, one file each, on one typer app."""
from __future__ import annotations

import typer

from . import cmd_hook as hook_cli
from . import cmd_sandbox as sandbox_cli
from .cmd_bench import bench_command
from .cmd_config import config_command
from .cmd_doctor import doctor_command
from .cmd_github import github_command
from .cmd_runs import recover_command, replay_command, runs_command, show_command, undo_command
from .cmd_serve import serve_command
from .cmd_solve import solve_command

app = typer.Typer(
    name="makegreen",
    help="A test-driven coding agent: write failing pytest tests, get an implementation that makes them pass.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("solve")(solve_command)
app.command("doctor")(doctor_command)
app.command("config")(config_command)
app.command("serve")(serve_command)
app.command("runs")(runs_command)
app.command("show")(show_command)
app.command("replay")(replay_command)
app.command("undo")(undo_command)
app.command("recover")(recover_command)
app.command("bench")(bench_command)
app.command("github", hidden=True)(github_command)
app.add_typer(sandbox_cli.app, name="sandbox")
app.add_typer(hook_cli.app, name="hook")


@app.callback()
def _root() -> None:
    """makegreen: failing tests in, a green implementation out."""

