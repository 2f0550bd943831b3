"""`makegreen bench SUITE`: solve every task of a suite and report the figures."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from ..core.words import plural
from ..workspace.snapshot import find_root
from ..workspace.state import state_dir
from .boundary import run_guarded


def bench_command(  # typer passes every option by its name
    *,
    suite: Path = typer.Argument(..., help="An Exercism track (or its exercises/practice), or a folder of tasks."),
    mode: str = typer.Option("test-first", "--mode", help="test-first (the model sees the tests) or hidden-tests "
                             "(instructions and failures only)."),
    workers: int = typer.Option(1, "--workers", help="Tasks solved at once, each in its own sandbox."),
    resume: bool = typer.Option(False, "--resume", help="Skip the tasks an earlier run of this bench finished."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where results go (default .makegreen/bench/SUITE-MODE)."),
    model: Optional[str] = typer.Option(None, "--model", help="Model name (env MAKEGREEN_MODEL)."),
    max_iterations: Optional[int] = typer.Option(None, "--max-iterations", help="Model rounds per task at most."),
    sandbox: Optional[str] = typer.Option(None, "--sandbox", help="docker (default) or local."),
    candidates: Optional[int] = typer.Option(None, "--candidates", help="Candidates per task, in parallel."),
    effort: Optional[str] = typer.Option(None, "--effort", help="Reasoning effort."),
    budget_usd: Optional[float] = typer.Option(None, "--budget-usd", help="Dollars per task at most."),
    task_timeout: Optional[float] = typer.Option(None, "--task-timeout", help="Wall seconds per task at most."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Run every task of SUITE with makegreen solve; report solved, iterations, pass rates, edits, tokens, cost."""
    from ..integrations.bench import COLUMNS, run_bench, rows

    solve_args: list[str] = []
    for flag, value in (("--model", model), ("--max-iterations", max_iterations), ("--sandbox", sandbox),
                        ("--candidates", candidates), ("--effort", effort), ("--budget-usd", budget_usd),
                        ("--timeout", task_timeout)):
        if value is not None:
            solve_args += [flag, str(value)]
    console = Console(stderr=json_output, width=None if sys.stdout.isatty() else 140)

    def said(result: dict) -> None:
        state = "crashed" if result.get("status") == "crashed" else "solved" if result.get("solved") else "not solved"
        console.print(f"{result['task']}: {state}" + (f" in {plural(result['iterations'], 'iteration')}"
                                                      if result.get("solved") else "")
                      + (f" — {result['error'].splitlines()[-1]}" if result.get("error") else ""))

    def body() -> int:
        # under the project's .makegreen/, which keeps itself out of git
        where = out or state_dir(find_root(Path.cwd())) / "bench" / f"{suite.resolve().name}-{mode}"
        report = run_bench(suite, mode=mode, out=where, workers=workers, resume=resume, solve_args=solve_args,
                           env=dict(os.environ), on_result=said)
        if json_output:
            print(json.dumps(report, indent=2))
            return 0
        table = Table(*COLUMNS, title=f"{suite} · {report['layout']} layout · {mode}", title_justify="left")
        for row in rows(report):
            table.add_row(*row)
        console.print(table)
        console.print(f"results: {where / 'results.json'}, {where / 'results.md'}"
                      + (f", {report['chart']}" if report.get("chart") else
                         " (install makegreen[plot] for a chart of solved against iterations and cost)"))
        return 0

    raise typer.Exit(run_guarded(body))


