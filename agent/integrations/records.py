"""Past runs, read back from their records (.makegreen/runs/<id>/): listed, found by id, and told step by step."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError
from ..run import events as ev
from ..run.status import Status
from ..run.summary import RunSummary
from ..run.trajectory import read_records
from ..workspace.state import STATE_DIR


def runs_folder(root: Path) -> Path:
    return root / STATE_DIR / "runs"


def summary_of(folder: Path, records: list[dict] | None = None) -> RunSummary:
    """The run's summary; for a run that never finished (killed), what its records say."""
    path = folder / "summary.json"
    if path.is_file():
        return RunSummary.from_json(json.loads(path.read_text(encoding="utf-8")))
    records = records if records is not None else read_records(folder)
    started = next((r for r in records if r["type"] == "RunStarted"), {})
    answers = [r for r in records if r["type"] == "ModelAnswered"]
    usage: dict[str, int] = {}
    for answer in answers:
        for key, value in answer.get("usage", {}).items():
            usage[key] = usage.get(key, 0) + value
    return RunSummary(folder.name, model=started.get("model", ""), status=Status.INCOMPLETE, usage=usage,
                      iterations=max((r.get("iteration", 0) for r in records if r["type"] == "IterationStarted"),
                                     default=0))


def list_runs(root: Path) -> list[dict[str, Any]]:
    """One row a run, oldest first: id, when, model, result, iterations, tokens, cost, seconds."""
    rows = []
    folder = runs_folder(root)
    for run in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not (run / "trajectory.jsonl").is_file():
            continue
        try:
            records = read_records(run)
        except (ConfigError, json.JSONDecodeError):
            rows.append({"id": run.name, "status": "unreadable"})
            continue
        summary = summary_of(run, records)
        started = next((r for r in records if r["type"] == "RunStarted"), {})
        settings = next((r["settings"] for r in records if r["type"] == "RunSettings"), {})
        replay = next((r.get("replay_of") for r in records if r["type"] == "RunSettings"), None)
        usage = summary.usage
        rows.append({
            "id": run.name, "when": started.get("time"), "model": summary.model or settings.get("model", ""),
            "status": summary.status.value, "iterations": summary.iterations,
            "tokens": usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0),
            "cost_usd": summary.cost_usd, "seconds": summary.seconds, "replay_of": replay,
        })
    return rows


def find_run(root: Path, ref: str) -> Path:
    """RUN as the user gives it: a run's folder (a bug report's attachment), its id, a unique prefix, or last."""
    given = Path(ref)
    if (given / "trajectory.jsonl").is_file():
        return given
    folder = runs_folder(root)
    runs = sorted(p for p in folder.iterdir() if (p / "trajectory.jsonl").is_file()) if folder.is_dir() else []
    if ref == "last":
        if not runs:
            raise ConfigError(f"no runs recorded in {folder}")
        return runs[-1]
    matches = [run for run in runs if run.name == ref] or [run for run in runs if run.name.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ConfigError(f"no run {ref!r} in {folder} (makegreen runs lists them; a run's folder works too)")
    raise ConfigError(f"{ref!r} matches {len(matches)} runs: {', '.join(m.name for m in matches[:5])}; give more "
                      "of the id")


@dataclass
class Step:
    """One candidate's step in one iteration, gathered from the records."""

    iteration: int
    candidate: int
    answer: ev.ModelAnswered | None = None
    edits: ev.EditsApplied | None = None
    tests: ev.TestsRan | None = None
    escalations: list[ev.Escalated] = field(default_factory=list)
    feedback: str = ""  # what the model was told next: the distilled failures and the edit results
    template: str = ""  # the template that made it (prompts/<name>, or the user's own file)


@dataclass(frozen=True)
class Told:
    """A message makegreen wrote to the model, and the template it came from ("" in a record that predates
    templates being recorded)."""

    text: str = ""
    template: str = ""


def steps(records: list[dict]) -> tuple[ev.TestsRan | None, Told, list[Step]]:
    """(the baseline test run, the first prompt's task, the steps in order), as the events they were."""
    baseline: ev.TestsRan | None = None
    task = Told()
    found: dict[tuple[int, int], Step] = {}
    last_of: dict[int, Step] = {}  # candidate → its latest step, whose feedback the next request carries

    def step(record: dict) -> Step:
        key = (record.get("iteration", 0), record.get("candidate", 0))
        if key not in found:
            found[key] = Step(*key)
        return found[key]

    for record in records:
        kind = record["type"]
        if kind == "TestsRan" and record["iteration"] == 0:
            baseline = ev.from_record(record)
            continue
        if kind == "ModelRequest" and (request := ev.from_record(record)) is not None:
            previous = last_of.get(request.candidate)
            last = request.messages[-1] if request.messages else {}
            template = request.templates[-1] if len(request.templates) == len(request.messages) else ""
            if previous is not None and request.told:  # the state after the task: what this step was told
                told = Told(request.told, template.rpartition(" + ")[2])
            else:  # the whole task; or a record from before the state was recorded apart
                told = Told(last.get("content", "") if last.get("role") == "user" else "", template)
            if previous is not None:
                previous.feedback, previous.template = told.text, told.template
            elif not task.text:
                task = told
        elif kind == "ModelAnswered":
            step(record).answer = ev.from_record(record)
        elif kind == "EditsApplied":
            step(record).edits = ev.from_record(record)
        elif kind == "TestsRan":
            step(record).tests = ev.from_record(record)
        elif kind == "Escalated" and (escalated := ev.from_record(record)) is not None:
            step(record).escalations.append(escalated)
        if kind in ("ModelAnswered", "EditsApplied", "TestsRan"):
            last_of[record.get("candidate", 0)] = step(record)
    return baseline, task, [found[key] for key in sorted(found)]


def when(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp)) if timestamp else "-"
