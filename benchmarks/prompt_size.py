"""What the model reads, per request, with no model at all: a scripted model that stays stuck, on real tasks.

    python3 benchmarks/prompt_size.py [--tasks DIR] [--only NAME ...] [--iterations 3] [--against CHECKOUT]
                                      [--gguf FILE] [--json]

Each task (a folder holding a stub and its test file: benchmarks/realmodel_tasks by default, or the practice
exercises of an Exercism track checkout, where each folder's `<name>.py` and `<name>_test.py` are taken) goes into
a fresh git repository, as a user's; `makegreen solve --max-iterations N --sandbox local`, with no message, talks
to a scripted model that answers the same wrong file every time (the stub with each `pass` made `return None`), so
every run takes the same path: the first request, feedback on a wrong answer, then the stuck path (an answer that
repeats the code). Printed per task: the characters of message content in each request, the first three together,
and whether request 1 shows every test function of the test file; then the medians. --against runs another
checkout's makegreen on the same tasks in the same run (today's, to compare) and prints the ratios. --gguf counts
tokens exactly with that model's own vocabulary and chat template (needs makegreen[local]); else characters only.

A change to the prompts shows its cost here at once; the real model's benchmark (benchmarks/realmodel.py) says
whether it still solves as much.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.realmodel import TASKS  # noqa: E402
from tests.scripted_server import Reply, ScriptedServer  # noqa: E402

FENCE = "`" * 3
# The Exercism practice exercises this benchmark is checked on: chosen before any prompt change, none of them in
# benchmarks/realmodel_tasks, half of them class- or exception-shaped, kept fixed.
EXERCISM = ("allergies", "high-scores", "kindergarten-garden", "nth-prime", "phone-number", "pig-latin",
            "protein-translation", "queen-attack", "roman-numerals", "rotational-cipher", "series", "space-age")


@dataclass
class Sizes:
    task: str
    agent: str
    chars: list[int] = field(default_factory=list)  # per request: the characters of all its messages' content
    tokens: list[int] = field(default_factory=list)  # per request, exact (with --gguf)
    every_test_shown: bool = False  # request 1 holds the name of every test function of the test file
    status: str = ""


def task_sources(task: Path) -> tuple[Path, Path]:
    """(stub, test file) of a task folder: a realmodel task's test_*.py, or an Exercism exercise's *_test.py."""
    tests = sorted(task.glob("test_*.py")) + sorted(task.glob("*_test.py"))
    if not tests:
        raise SystemExit(f"{task}: no test file (test_*.py or *_test.py)")
    stubs = [p for p in sorted(task.glob("*.py")) if p != tests[0] and not p.name.startswith("test_")
             and not p.name.endswith("_test.py")]
    if not stubs:
        raise SystemExit(f"{task}: no stub beside {tests[0].name}")
    return stubs[0], tests[0]


def stuck_answer(stub: Path) -> str:
    """The same wrong file every time: the stub, each `pass` a `return None`."""
    code = re.sub(r"^([ \t]*)pass[ \t]*$", r"\1return None", stub.read_text(), flags=re.MULTILINE)
    return f"{stub.name}\n{FENCE}python\n{code}{FENCE}\n"


def test_functions(test_file: Path) -> list[str]:
    tree = ast.parse(test_file.read_text())
    return [node.name for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test")]


def repository(task: Path, folder: Path) -> Path:
    stub, tests = task_sources(task)
    work = folder / task.name
    work.mkdir()
    for source in (stub, tests):
        shutil.copy(source, work / source.name)
    for argv in (["init", "-q"], ["add", "-A"], ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid",
                                                "commit", "-qm", "tests first"]):
        subprocess.run(["git", *argv], cwd=work, check=True)
    return work


def scripted_solve(task: Path, checkout: Path, iterations: int) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """checkout's makegreen on task from the tests alone (the stub and its tests in a fresh repository, no message),
    against a scripted model that answers with the stub again: what it ran, and the requests it sent."""
    stub, _ = task_sources(task)
    with tempfile.TemporaryDirectory() as folder, ScriptedServer([Reply(stuck_answer(stub))]) as server:
        work = repository(task, Path(folder))
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MAKEGREEN_"))},
               "OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "k", "MAKEGREEN_MODEL": "scripted-model",
               "PYTHONPATH": str(checkout)}
        done = subprocess.run([sys.executable, "-m", "agent", "solve", "--json", "--max-iterations", str(iterations),
                               "--sandbox", "local"], cwd=work, env=env, capture_output=True, text=True, timeout=600)
        return done, server.chat_requests()


def measure(task: Path, agent: str, checkout: Path, iterations: int, tokens) -> Sizes:
    _, tests = task_sources(task)
    sizes = Sizes(task.name, agent)
    done, requests = scripted_solve(task, checkout, iterations)
    try:
        sizes.status = json.loads(done.stdout).get("status", "?")
    except ValueError:
        raise SystemExit(f"{agent} on {task.name} did not finish (exit {done.returncode}):\n"
                         f"{done.stderr[-2000:]}") from None
    for request in requests:
        messages = [m for m in request["messages"] if isinstance(m.get("content"), str)]
        sizes.chars.append(sum(len(m["content"]) for m in messages))
        if tokens is not None:
            sizes.tokens.append(tokens.prompt(messages))
    first = requests[0]["messages"] if requests else []
    shown = "\n".join(m.get("content") or "" for m in first)
    sizes.every_test_shown = all(re.search(rf"\b{name}\b", shown) for name in test_functions(tests))
    return sizes


def medians(rows: list[Sizes]) -> dict[str, float]:
    def median(values: list[int]) -> float:
        return statistics.median(values) if values else 0.0

    figures = {"request 1": median([r.chars[0] for r in rows if r.chars]),
               "requests 1-3": median([sum(r.chars[:3]) for r in rows if r.chars])}
    if any(r.tokens for r in rows):
        figures["request 1 tokens"] = median([r.tokens[0] for r in rows if r.tokens])
        figures["requests 1-3 tokens"] = median([sum(r.tokens[:3]) for r in rows if r.tokens])
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=Path, default=TASKS, help="a folder of task folders (default: the "
                                                                   "real-model benchmark's), or an Exercism track's "
                                                                   "exercises/practice")
    parser.add_argument("--only", nargs="*", help="task folder names (with an Exercism folder: default the "
                                                  "fixed set in this file)")
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout of makegreen, measured in the same run")
    parser.add_argument("--gguf", type=Path, help="count tokens exactly with this model's vocabulary")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    only = args.only or (EXERCISM if (args.tasks / EXERCISM[0]).is_dir() else None)
    tasks = sorted(p for p in args.tasks.iterdir() if p.is_dir() and (not only or p.name in only))
    if not tasks:
        raise SystemExit(f"no tasks in {args.tasks}")
    tokens = None
    if args.gguf is not None:
        from agent.models.tokens import GgufTokens
        tokens = GgufTokens(args.gguf)
    agents = {"this": ROOT}
    if args.against is not None:
        agents["against"] = args.against.resolve()
    rows: dict[str, list[Sizes]] = {agent: [] for agent in agents}
    for task in tasks:
        for agent, checkout in agents.items():
            sizes = measure(task, agent, checkout, args.iterations, tokens)
            rows[agent].append(sizes)
            if not args.json:
                print(f"{task.name:26} {agent:8} {sizes.status:10} requests {sizes.chars} chars"
                      + (f", {sizes.tokens} tokens" if sizes.tokens else "")
                      + ("" if sizes.every_test_shown else "  (request 1 misses a test function)"), flush=True)
    figures = {agent: medians(found) for agent, found in rows.items()}
    report = {"tasks": len(tasks), "iterations": args.iterations, "medians": figures,
              "every_test_shown": {agent: all(r.every_test_shown for r in found) for agent, found in rows.items()},
              "rows": {agent: [asdict(r) for r in found] for agent, found in rows.items()}}
    if "against" in figures:
        report["ratios"] = {name: round(value / figures["against"][name], 2) if figures["against"].get(name) else None
                            for name, value in figures["this"].items()}
    if args.json:
        print(json.dumps(report, indent=2))
        return report
    print(f"\n{len(tasks)} tasks, --max-iterations {args.iterations}, a scripted model that stays stuck")
    print("| agent | median request 1 | median requests 1-3 |" + (" tokens: request 1 | 1-3 |" if tokens else ""))
    print("|---|---|---|" + ("---|---|" if tokens else ""))
    for agent, found in figures.items():
        row = f"| {agent} | {found['request 1']:,.0f} chars | {found['requests 1-3']:,.0f} chars |"
        if tokens:
            row += f" {found.get('request 1 tokens', 0):,.0f} | {found.get('requests 1-3 tokens', 0):,.0f} |"
        print(row)
    if "ratios" in report:
        print("ratios this / against: " + ", ".join(f"{name} {ratio}" for name, ratio in report["ratios"].items()))
    print("request 1 shows every test function: " + ", ".join(f"{agent} {'yes' if shown else 'NO'}" for agent, shown
                                                               in report["every_test_shown"].items()))
    return report


if __name__ == "__main__":
    main()
