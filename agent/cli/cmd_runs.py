"""`makegreen runs`, `makegreen show RUN`, `makegreen replay RUN`: past runs, listed, told, and run again."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..core.words import plural, count_tests
from ..integrations.records import find_run, list_runs, steps, summary_of, when
from ..run.config import load_settings
from ..run.status import Status
from ..run.summary import RunSummary
from ..run.trajectory import read_records
from ..ui.closing import headline, summary_rows
from ..workspace.snapshot import find_root
from .boundary import EXIT_CONFLICT, STATUS_EXIT, run_guarded

SHOWN_LINES = 14  # of thinking and feedback, unless --full


def runs_command(json_output: bool = typer.Option(False, "--json", help="One JSON array on stdout.")) -> None:
    """List the recorded runs of this repository, oldest first."""

    def body() -> int:
        rows = list_runs(find_root(Path.cwd()))
        if json_output:
            print(json.dumps(rows, indent=2))
            return 0
        console = _console()
        if not rows:
            console.print("no runs recorded here yet (.makegreen/runs/)")
            return 0
        table = Table("run", "when", "model", "result", "iter.", "tokens", "cost", "time")
        for row in rows:
            cost = row.get("cost_usd")
            seconds = row.get("seconds")
            table.add_row(row["id"] + (f" (replay of {row['replay_of']})" if row.get("replay_of") else ""),
                          when(row.get("when")), row.get("model", ""), row.get("status", ""),
                          str(row.get("iterations", "")), str(row.get("tokens", "")),
                          "-" if cost is None else f"${cost:.4f}", "-" if seconds is None else f"{seconds:.1f} s")
        console.print(table)
        return 0

    raise typer.Exit(run_guarded(body))


def _console() -> Console:
    return Console() if sys.stdout.isatty() else Console(width=140)


def _clip(text: str, full: bool) -> str:
    lines = text.strip().splitlines()
    if full or len(lines) <= SHOWN_LINES:
        return "\n".join(lines)
    return "\n".join(lines[:SHOWN_LINES]) + f"\n… ({len(lines) - SHOWN_LINES} more lines: --full shows them)"


def _counts(summary: dict) -> str:
    return count_tests(summary)


def show_command(
    run: str = typer.Argument("last", help="A run's id (or a unique start of it), last (the default), or a "
                                           "run's folder."),
    json_output: bool = typer.Option(False, "--json", help="Print the raw record: the summary and every event."),
    full: bool = typer.Option(False, "--full", help="Show thinking and feedback whole."),
) -> None:
    """Tell one run step by step: tests, the model's answers, the edits, what the model was told, the cost."""

    def body() -> int:
        folder = find_run(find_root(Path.cwd()), run)
        records = read_records(folder)
        summary = summary_of(folder, records)
        if json_output:
            print(json.dumps({"summary": summary.to_json(), "records": records}, indent=2))
            return 0
        console = _console()
        started = next((r for r in records if r["type"] == "RunStarted"), {})
        console.print(Text(f"run {folder.name} · {when(started.get('time'))} · {summary.model} · "
                           f"{headline(summary)}", style="bold"))
        baseline, task, found = steps(records)
        if baseline:
            console.print(f"baseline: {_counts(baseline.summary)}")
        if task.text:
            made = f" (from {task.template})" if task.template else ""
            console.print(Panel(Text(_clip(task.text, full), style="dim"),
                                title=f"the task, as the model was given it{made}", title_align="left"))
        for step in found:
            title = f"iteration {step.iteration}" + (f" · candidate {step.candidate}" if step.candidate else "")
            console.print(Panel(Group(*_step_parts(step, full)), title=title, title_align="left"))
        table = Table(show_header=False, title="summary", title_justify="left")
        for key, value in summary_rows(summary):
            table.add_row(key, value)
        console.print(table)
        return 0

    raise typer.Exit(run_guarded(body))


def _step_parts(step, full: bool) -> list:
    """One step of a run, told: the answer's cost, the thinking, the edits, the tests, escalations, feedback."""
    parts: list = []
    answer = step.answer
    if answer:
        usage = answer.usage or {}
        parts.append(Text(f"model: {answer.seconds:.1f} s, {usage.get('prompt_tokens', 0)} prompt "
                          f"+ {usage.get('completion_tokens', 0)} output tokens"
                          + (f", {usage['reasoning_tokens']} thinking" if usage.get("reasoning_tokens") else "")
                          + (" (estimated: the server sent no counts)" if usage.get("estimated") else "")
                          + (f", ${answer.cost_usd:.4f}" if answer.cost_usd is not None else "")
                          + (" (thinking cut short: answer forced)" if answer.forced else "")
                          + (" (read up to the expected block's end: nothing after it was generated)"
                             if answer.stopped else "")))
        if answer.thinking:
            parts.append(Text("thinking:\n" + _clip(answer.thinking, full), style="dim"))
    edits = step.edits
    if edits:
        parts.append(Text(f"edits: {', '.join(edits.changed) or 'nothing changed'}"))
        for refusal in edits.refused:
            parts.append(Text(f"refused {refusal.path}: {refusal.reason}", style="yellow"))
        for miss in edits.misses:
            parts.append(Text(f"SEARCH block {miss.number} for {miss.path} did not match", style="yellow"))
        if edits.diff:
            from rich.syntax import Syntax  # pygments: loaded only where a diff is shown

            parts.append(Syntax(edits.diff, "diff", theme="ansi_dark", word_wrap=True))
    if step.tests:
        parts.append(Text(f"tests: {_counts(step.tests.summary)} ({step.tests.seconds:.1f} s)",
                          style="green" if step.tests.green else "red"))
    for escalation in step.escalations:
        parts.append(Text(f"no progress ({escalation.reason}): {escalation.action}", style="yellow"))
    if step.feedback:
        made = f" (from {step.template})" if step.template else ""
        parts.append(Text(f"told the model{made}:\n" + _clip(step.feedback, full), style="dim"))
    return parts


def replay_command(
    run: str = typer.Argument("last", help="A run's id (or a unique start of it), last (the default), or a "
                                           "run's folder."),
    sandbox: Optional[str] = typer.Option(None, "--sandbox", help="docker or local (default: the run's)."),
    json_output: bool = typer.Option(False, "--json", help="Print the replay's summary as JSON on stdout."),
) -> None:
    """Run a recorded run again with its recorded answers (no request is sent, nothing is spent), in a real
    sandbox, and say where it departs from the record. Exit 0: reproduced; 1: it diverged."""
    from ..integrations.replay import replay
    from ..ui import PlainRenderer

    def body() -> int:
        root = find_root(Path.cwd())
        folder = find_run(root, run)
        settings = load_settings(root, os.environ, {})
        summary = replay(folder, root, settings, sandbox, PlainRenderer(sys.stderr, show_result=False))
        if json_output:
            print(json.dumps(summary, indent=2, default=str))
        else:
            ended = summary["reason"] if summary["status"] == Status.OUT_OF_BUDGET else \
                headline(RunSummary.from_json(summary))
            print(f"replay of {summary['replay_of']}: {ended}, after {plural(summary['iterations'], 'iteration')}; "
                  f"record {summary['run_dir']}")
            if summary["reproduced"]:
                print("reproduced: every test run and the result match the record")
            for line in summary["divergences"]:
                print(f"diverged: {line}")
        return 0 if summary["reproduced"] else STATUS_EXIT[Status.NOT_SOLVED]

    raise typer.Exit(run_guarded(body))


def undo_command(
    run: str = typer.Argument("last", help="A run's id (or a unique start of it), last (the default), or a "
                                           "run's folder."),
) -> None:
    """Put back what a run's apply replaced in your files, exactly; refused (exit 5, nothing written) for any file
    that changed since."""
    from ..core.errors import ApplyConflict
    from ..workspace.undo import undo

    def body() -> int:
        root = find_root(Path.cwd())
        folder = find_run(root, run)
        try:
            restored = undo(root, folder)
        except ApplyConflict as exc:
            print(f"makegreen: {exc}", file=sys.stderr)
            return EXIT_CONFLICT
        print(f"makegreen: put back {', '.join(restored)} as they were before run {folder.name}")
        return 0

    raise typer.Exit(run_guarded(body))


def recover_command() -> None:
    """Finish an apply that a killed makegreen left half done (the next run does this too, first)."""
    from ..workspace.apply import recover

    def body() -> int:
        written = recover(find_root(Path.cwd()))
        print(f"makegreen: finished an interrupted apply: {', '.join(written)}" if written
              else "makegreen: nothing to recover")
        return 0

    raise typer.Exit(run_guarded(body))
