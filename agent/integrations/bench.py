"""`makegreen bench SUITE`: every task of a suite solved by `makegreen solve`, each in its own copy and sandbox,
and the figures the field compares: solved, iterations to green, pass rate after the first and the last
iteration, well-formed edits, tokens, cost, seconds.

Layouts: Exercism's track (exercises/practice/<slug>/, .meta/config.json naming the solution, test and example
files, instructions in .docs/) and a plain one (a folder a task: tests, a stub, README.md as instructions).
Modes: test-first (the model sees the tests, as makegreen works) and hidden-tests (it sees the instructions and
the failures, not the test code, as the field's code-editing benchmarks do).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from .. import LAUNCH
from ..core.errors import ConfigError
from ..run import events as ev
from ..run.status import Status
from ..run.summary import RunSummary

MODES = ("test-first", "hidden-tests")
INSTRUCTION_FILES = ("README.md", "INSTRUCTIONS.md", "instructions.md")
RESULTS = "results.jsonl"


@dataclass(frozen=True)
class BenchTask:
    name: str
    files: dict[str, bytes]  # what the task's copy holds: stubs, tests, anything else; never a reference solution
    tests: tuple[str, ...]
    instructions: str


def _is_test(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def _read_tree(folder: Path, skip: Callable[[str], bool]) -> dict[str, bytes]:
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and not skip(relative) and "__pycache__" not in relative.split("/") \
                and not relative.startswith(".makegreen/"):
            files[relative] = path.read_bytes()
    return files


def exercism_task(folder: Path) -> BenchTask:
    config_path = folder / ".meta" / "config.json"
    try:
        named = json.loads(config_path.read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{config_path}: {exc}") from exc
    tests = tuple(named.get("test") or ())
    if not tests:
        raise ConfigError(f"{config_path} names no test files")
    docs = folder / ".docs"
    instructions = "\n\n".join(
        (docs / name).read_text(encoding="utf-8").strip()
        for name in ("introduction.md", "instructions.md", "instructions.append.md") if (docs / name).is_file())
    # .meta holds the reference solution (files.example): it never reaches the task's copy
    files = _read_tree(folder, lambda path: path.startswith((".meta/", ".docs/", ".exercism/")))
    for path in named.get("solution") or ():
        files.setdefault(path, b"")
    return BenchTask(folder.name, files, tests, instructions)


def plain_task(folder: Path) -> BenchTask:
    instructions = next(((folder / name).read_text(encoding="utf-8").strip() for name in INSTRUCTION_FILES
                         if (folder / name).is_file()), "")
    files = _read_tree(folder, lambda path: path in INSTRUCTION_FILES)
    tests = tuple(path for path in files if _is_test(path))
    return BenchTask(folder.name, files, tests, instructions)


def discover(suite: Path) -> tuple[str, list[BenchTask]]:
    """(layout, tasks by name) of a suite folder: an Exercism track (or its exercises/practice) or a plain one."""
    if not suite.is_dir():
        raise ConfigError(f"{suite}: no such folder")
    practice = suite / "exercises" / "practice"
    if practice.is_dir():
        suite = practice
    folders = sorted(p for p in suite.iterdir() if p.is_dir() and not p.name.startswith("."))
    if any((p / ".meta" / "config.json").is_file() for p in folders):
        return "exercism", [exercism_task(p) for p in folders if (p / ".meta" / "config.json").is_file()]
    tasks = [task for task in map(plain_task, folders) if task.tests]
    if not tasks:
        raise ConfigError(f"{suite} holds no tasks: neither an Exercism track (exercises/practice/<slug>/ with "
                          ".meta/config.json) nor folders with test files")
    return "plain", tasks


def task_metrics(summary: RunSummary, records: list[dict]) -> dict[str, Any]:
    """One task's figures from its run's summary and record."""
    runs: dict[int, list[dict]] = {}
    events = ev.typed(records)
    for event in events:
        if isinstance(event, ev.TestsRan):
            runs.setdefault(event.iteration, []).append(event.summary)
    edits = [event for event in events if isinstance(event, ev.EditsApplied)]
    well_formed = sum(1 for e in edits if e.found > 0 and not e.misses and not e.refused)

    def rate(summary_: dict[str, int] | None) -> float:
        if not summary_:
            return 0.0
        total = sum(summary_.get(key, 0) for key in ("passed", "failed", "errors"))
        return summary_.get("passed", 0) / total if total else 0.0

    def after(iteration: int) -> float:
        known = [i for i in runs if 0 <= i <= iteration]
        return max(rate(s) for s in runs[max(known)]) if known else 0.0

    usage = summary.usage
    return {
        "status": summary.status.value, "solved": summary.status.solved,
        "iterations": summary.iterations,
        "pass_first": round(after(1), 4), "pass_last": round(rate(summary.tests), 4),
        "answers": len(edits), "well_formed": well_formed,
        "tokens": usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0),
        "cost_usd": summary.cost_usd, "seconds": summary.seconds,
        "run_dir": summary.run_dir, "reason": summary.reason,
    }


def run_task(task: BenchTask, mode: str, work: Path, solve_args: Sequence[str], env: dict[str, str]) -> dict:
    """Solve one task in a fresh copy (a subprocess: a crash is the task's, not the bench's)."""
    from ..run.trajectory import read_records

    shutil.rmtree(work, ignore_errors=True)
    for path, content in task.files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_bytes(content)
    # a repository of its own, as a project is: the copy may lie inside another (the default results folder is
    # in the user's project), and makegreen works on the repository that holds it
    subprocess.run(["git", "init", "-q", str(work)], check=True, capture_output=True)
    argv = [sys.executable, "-c", LAUNCH, "solve", "--json", *task.tests, *solve_args]
    if task.instructions:
        argv += ["-m", task.instructions]
    if mode == "hidden-tests":
        argv.append("--hide-tests")
    started = time.monotonic()
    done = subprocess.run(argv, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        summary = RunSummary.from_json(json.loads(done.stdout))
        if not summary.run_dir:  # it ended before a run began
            raise ValueError("no record")
        records = read_records(work / summary.run_dir)
    except (ValueError, ConfigError):
        return {"task": task.name, "status": "crashed", "solved": False, "exit": done.returncode,
                "seconds": round(time.monotonic() - started, 3), "error": done.stderr.strip()[-2000:]}
    return {"task": task.name, "exit": done.returncode, **task_metrics(summary, records),
            "error": summary.message or "" if summary.status == Status.ERROR else ""}


def overall(results: Sequence[dict]) -> dict[str, Any]:
    done = [r for r in results if r.get("status") != "crashed"]
    solved = [r for r in results if r.get("solved")]
    answers = sum(r.get("answers", 0) for r in done)
    costs = [r["cost_usd"] for r in done if r.get("cost_usd") is not None]
    return {
        "tasks": len(results), "solved": len(solved), "crashed": len(results) - len(done),
        "solve_rate": round(len(solved) / len(results), 4) if results else 0.0,
        "mean_iterations_to_green": round(sum(r["iterations"] for r in solved) / len(solved), 2) if solved else None,
        "pass_first": round(sum(r.get("pass_first", 0) for r in results) / len(results), 4) if results else 0.0,
        "pass_last": round(sum(r.get("pass_last", 0) for r in results) / len(results), 4) if results else 0.0,
        "well_formed_rate": round(sum(r.get("well_formed", 0) for r in done) / answers, 4) if answers else None,
        "tokens": sum(r.get("tokens", 0) for r in done), "cost_usd": round(sum(costs), 6) if costs else None,
        "seconds": round(sum(r.get("seconds") or 0 for r in results), 3),
    }


def load_results(out: Path) -> list[dict]:
    path = out / RESULTS
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_bench(suite: Path, *, mode: str, out: Path, workers: int, resume: bool, solve_args: Sequence[str],
              env: dict[str, str], on_result: Callable[[dict], None]) -> dict[str, Any]:
    """Every task (those already done skipped with resume; a crashed one is run again), `workers` at a time."""
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, not {workers}")
    layout, tasks = discover(suite)
    out.mkdir(parents=True, exist_ok=True)
    kept = [r for r in load_results(out) if r.get("status") != "crashed"] if resume else []
    (out / RESULTS).write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
    finished = {r["task"] for r in kept}
    todo = [task for task in tasks if task.name not in finished]
    lock = threading.Lock()
    started = time.monotonic()

    def one(task: BenchTask) -> dict:
        try:
            result = run_task(task, mode, out / "work" / task.name, solve_args, env)
        except Exception as exc:  # the bench goes on; the task is recorded as crashed
            result = {"task": task.name, "status": "crashed", "solved": False, "error": f"{type(exc).__name__}: {exc}"}
        with lock:
            with open(out / RESULTS, "a", encoding="utf-8") as file:
                file.write(json.dumps(result) + "\n")
            on_result(result)
        return result

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, todo))
    by_name = {r["task"]: r for r in load_results(out)}
    results = [by_name[task.name] for task in tasks if task.name in by_name]
    report = {"suite": str(suite), "layout": layout, "mode": mode, "solve_args": list(solve_args),
              "model": env.get("MAKEGREEN_MODEL", ""), "skipped_as_done": sorted(finished),
              "wall_seconds": round(time.monotonic() - started, 3), "tasks": results, "overall": overall(results)}
    (out / "results.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out / "results.md").write_text(markdown(report), encoding="utf-8")
    report["chart"] = chart(report, out / "chart.png")
    return report


COLUMNS = ("task", "solved", "iterations", "pass after 1st", "pass after last", "well-formed edits", "tokens",
           "cost", "seconds")


def rows(report: dict[str, Any]) -> list[list[str]]:
    """The table's rows, each task then the overall line, as text."""
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value * 100:.0f}%"

    def money(value: float | None) -> str:
        return "-" if value is None else f"${value:.4f}"

    table = []
    for r in report["tasks"]:
        if r.get("status") == "crashed":
            table.append([r["task"], "crashed", "-", "-", "-", "-", "-", "-", f"{r.get('seconds') or 0:.1f}"])
            continue
        table.append([r["task"], "yes" if r["solved"] else "no", str(r["iterations"]), pct(r["pass_first"]),
                      pct(r["pass_last"]), f"{r['well_formed']}/{r['answers']}", str(r["tokens"]),
                      money(r.get("cost_usd")), f"{r.get('seconds') or 0:.1f}"])
    o = report["overall"]
    table.append(["overall", f"{o['solved']}/{o['tasks']} ({pct(o['solve_rate'])})",
                  "-" if o["mean_iterations_to_green"] is None else f"{o['mean_iterations_to_green']} (mean)",
                  pct(o["pass_first"]), pct(o["pass_last"]), pct(o["well_formed_rate"]), str(o["tokens"]),
                  money(o["cost_usd"]), f"{o['seconds']:.1f}"])
    return table


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# makegreen bench: {report['suite']} ({report['layout']} layout, {report['mode']})", "",
             "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in rows(report)]
    return "\n".join(lines) + "\n"


def chart(report: dict[str, Any], path: Path) -> str | None:
    """With the plotting extra (matplotlib): share solved within k iterations, and against cumulative cost (tokens
    where no price is known). None without it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    tasks = [r for r in report["tasks"] if r.get("status") != "crashed"]
    total = max(len(report["tasks"]), 1)
    most = max([r["iterations"] for r in tasks] + [1])
    within = [sum(1 for r in tasks if r["solved"] and r["iterations"] <= k) / total * 100 for k in range(most + 1)]
    priced = all(r.get("cost_usd") is not None for r in tasks) and tasks
    spend = sorted(tasks, key=lambda r: (r.get("cost_usd") or 0) if priced else r.get("tokens", 0))
    xs, ys, running, solved = [0.0], [0.0], 0.0, 0
    for r in spend:
        running += (r.get("cost_usd") or 0) if priced else r.get("tokens", 0)
        solved += bool(r["solved"])
        xs.append(running)
        ys.append(solved / total * 100)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.step(range(most + 1), within, where="post")
    left.set(xlabel="iterations", ylabel="% of tasks solved", title="solved within k iterations", ylim=(0, 100))
    right.plot(xs, ys, marker=".")
    right.set(xlabel="cumulative cost ($)" if priced else "cumulative tokens", ylabel="% of tasks solved",
              title="solved against spending", ylim=(0, 100))
    figure.suptitle(f"makegreen bench: {Path(report['suite']).name}, {report['mode']}")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return str(path)

