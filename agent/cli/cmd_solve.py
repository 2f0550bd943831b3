"""`makegreen solve`: turn the failing tests green."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from ..models.localmodel import DEFAULT, packaged
from ..run.config import DIALECTS, Settings, load_settings
from ..run.events import Finished, Written
from ..run.session import resolve_targets, run_solve
from ..run.status import Status
from ..run.summary import RunSummary
from ..run.wiring import wants_local
from ..ui import PlainRenderer, TerminalRenderer
from ..workspace.snapshot import find_root
from .assembly import assemble_with_bar
from .boundary import EXIT_INTERRUPTED, STATUS_EXIT, after_write, describe, exit_code_for, note_written, written_files


def solve_command(  # typer passes every option by its name
    *,
    paths: Optional[List[str]] = typer.Argument(None, help="Test files, folders or node ids; default: every test."),
    model: Optional[str] = typer.Option(None, "--model", help="Model name (env MAKEGREEN_MODEL; default gpt-5, or "
                                        "the local default model when there is no API key and no base URL)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint (env OPENAI_BASE_URL)."),
    api_key: Optional[str] = typer.Option(None, "--api-key", help="API key (env OPENAI_API_KEY)."),
    message: Optional[str] = typer.Option(None, "-m", "--message", help="Extra instructions for the model."),
    max_iterations: Optional[int] = typer.Option(None, "--max-iterations", help="Model rounds at most (default 8)."),
    test_timeout: Optional[float] = typer.Option(None, "--test-timeout", help="Seconds per test run (default 120)."),
    no_apply: bool = typer.Option(False, "--no-apply", help="Show the diff; leave your files untouched."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON summary object on stdout."),
    sandbox: Optional[str] = typer.Option(None, "--sandbox", help="docker (default) or local (no isolation)."),
    edit_format: Optional[str] = typer.Option(None, "--edit-format", help="auto, whole or search-replace."),
    dialect: Optional[str] = typer.Option(None, "--dialect", help=f"{', '.join(DIALECTS[:-1])} or {DIALECTS[-1]} "
                                          "(auto, the default: told by the server, else by the model's name)."),
    api: Optional[str] = typer.Option(None, "--api", help="auto (default), chat or responses (OpenAI's Responses API)."),
    effort: Optional[str] = typer.Option(None, "--effort", help="Reasoning effort: minimal, low, medium, high."),
    think_budget: Optional[int] = typer.Option(None, "--think-budget", help="Thinking tokens per answer at most."),
    thinking: Optional[str] = typer.Option(None, "--thinking", help="on or off: Qwen3's thinking switch."),
    show_thinking: bool = typer.Option(False, "--show-thinking", help="Show the model's thinking as it streams."),
    budget_usd: Optional[float] = typer.Option(None, "--budget-usd", help="Stop before spending more dollars."),
    budget_tokens: Optional[int] = typer.Option(None, "--budget-tokens", help="Stop before using more tokens."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Stop after this many seconds (wall time)."),
    apply_partial: bool = typer.Option(False, "--apply-partial", help="Apply the best result even if not green."),
    holdout: Optional[float] = typer.Option(None, "--holdout", help="Hide this share of the test functions from the "
                                            "model; run them once the rest is green. Default: one case of each "
                                            "test parametrized over 4+ cases; 0: none."),
    holdout_seed: Optional[int] = typer.Option(None, "--holdout-seed", help="Seed for choosing the held-out tests."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Draw sampled answers repeatably where the server takes "
                                       "a seed: the same request gets the same answer in another run."),
    commit: bool = typer.Option(False, "--commit", help="Commit the applied fix (the repository's hooks run)."),
    branch: Optional[str] = typer.Option(None, "--branch", help="Commit the fix on this new branch."),
    hide_tests: bool = typer.Option(False, "--hide-tests", help="Show the model the message and the failures, not "
                                    "the test code (the code-editing benchmarks' setting)."),
    candidates: Optional[int] = typer.Option(None, "--candidates", help="Draft this many candidates in parallel, "
                                             "each in its own sandbox; the tests pick the best (default 1)."),
    beam: Optional[int] = typer.Option(None, "--beam", help="With --candidates: debug on from this many of the "
                                       "best (default 1)."),
    second_draft: Optional[str] = typer.Option(None, "--second-draft", help="After a failed first answer, ask the "
                                               "first request again in other words before fixing: auto (a server "
                                               "with no reasoning effort, as a local model's; default), on, off."),
    serve: Optional[str] = typer.Option(None, "--serve", help="Start a local engine for this model around the run."),
    engine: Optional[str] = typer.Option(None, "--engine", help="The engine for --serve: vllm (default), sglang, "
                                         "llama.cpp or ollama."),
    untrusted: bool = typer.Option(False, "--untrusted", help="The checkout is not yours (a pull request, someone "
                                   "else's branch): its pyproject.toml may not choose the backend, sandbox, limits, "
                                   "budgets or protected paths (env MAKEGREEN_TRUST=untrusted)."),
) -> None:
    """Make the failing tests pass: draft, test in a sandbox, iterate, then apply the change."""
    flags = dict(model=model, base_url=base_url, api_key=api_key, message=message, max_iterations=max_iterations,
                 test_timeout=test_timeout, sandbox=sandbox, edit_format=edit_format,
                 apply=False if no_apply else None, json=json_output or None, dialect=dialect, api=api, effort=effort,
                 think_budget=think_budget, thinking=thinking, show_thinking=show_thinking or None,
                 budget_usd=budget_usd, budget_tokens=budget_tokens, serve=serve, engine=engine,
                 timeout=timeout, apply_partial=apply_partial or None, holdout=holdout, holdout_seed=holdout_seed,
                 seed=seed, candidates=candidates, beam=beam, second_draft=second_draft, commit=commit or None,
                 branch=branch, hide_tests=hide_tests or None, trust="untrusted" if untrusted else None)
    raise typer.Exit(solve(paths or [], flags, json_output, show_thinking))


def _renderer(json_output: bool, show_thinking: bool):
    """The terminal's live view, plain lines where stdout is not a terminal, or (--json) lines on stderr."""
    console = Console(file=sys.stdout)
    if json_output:
        return PlainRenderer(sys.stderr, show_result=False)
    if console.is_terminal:
        return TerminalRenderer(console, show_thinking=show_thinking)
    return PlainRenderer(sys.stdout)


def solve(paths: List[str], flags: dict, json_output: bool, show_thinking: bool) -> int:
    """Run `solve` with these flags; its exit code. The error boundary: every known failure becomes a message and
    an exit code (what it does not know is re-raised: a bug shows its traceback)."""
    cwd = Path.cwd()
    root = find_root(cwd)
    render = _renderer(json_output, show_thinking)
    finished: list[RunSummary] = []  # the run's summary as the Finished event carries it, kept for errors too

    def consume(event) -> None:
        if isinstance(event, Finished):
            finished.append(event.summary)
        elif isinstance(event, Written):
            note_written(list(event.files))
        render(event)

    try:
        settings: Settings = load_settings(root, os.environ, flags)
        targets = resolve_targets(root, cwd, paths)
        if wants_local(settings):
            assemble_with_bar(packaged(settings.model) or DEFAULT)
        summary = run_solve(settings, root, targets, consume).to_json()
        code = STATUS_EXIT[Status(summary["status"])]
    except BaseException as error:
        if isinstance(error, (SystemExit, typer.Exit)):
            raise
        code = exit_code_for(error)
        if isinstance(render, TerminalRenderer):
            render.close()
        summary = _failed(error, code, finished[-1] if finished else None, json_output)
    if json_output:
        summary["exit_code"] = code
        print(json.dumps(summary, default=str))
    return code


def _failed(error: BaseException, code: int, finished: RunSummary | None, json_output: bool) -> dict:
    """The summary of a run that ended in an error, which is told on stderr (or, with --json, in the summary);
    before a run began (bad flags, no engine), only its status and message."""
    text, detail = describe(error)
    # it came after the write (the summary says so, or, before the summary was made, the write's own event)
    written = finished.changed_files if finished is not None and finished.applied else written_files()
    if code == EXIT_INTERRUPTED and written:
        text = after_write(written)
    summary = {**(finished.to_json() if finished else {"status": Status.ERROR.value}), "message": text}
    if not json_output:
        print(f"makegreen: error: {text}" if code != EXIT_INTERRUPTED else f"makegreen: {text}", file=sys.stderr)
        if detail:
            print(detail, file=sys.stderr)
    elif detail:
        summary["detail"] = detail
    return summary
