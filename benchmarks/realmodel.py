"""makegreen against the model alone and a naive retry loop, with a real local model, in one run.

    python3 benchmarks/realmodel.py [--iterations 4] [--only 02_leap 04_raindrops] [--base-url URL]
                                    [--sandbox docker|local] [--out DIR]
                                    [--agents alone naive makegreen makegreen:search-replace]
                                    [--makegreen-args '--candidates 3']

Three agents on each task of benchmarks/realmodel_tasks (Exercism-style, easy to medium; the folder's README is the
instructions), all talking to the same server with the same model:

- alone: one request with a plain prompt (instructions, stub, tests); the first code block of the answer becomes
  the module.
- naive: the same, then up to --iterations rounds of "the tests failed: <pytest's output>; fix it", each answer's
  first code block applied whole.
- makegreen: `makegreen solve --max-iterations N -m <instructions>` in a fresh git copy of the task.

Without --base-url the local default model is served for the run (`makegreen[local]`). Printed: solved counts,
mean iterations to green, well-formed answers (an edit that could be applied), tokens, and wall time, as a
Markdown table; the per-task results and every raw answer go to --out (results.json, answers/), the raw answers
being the real-model fixtures the parser tests read.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TASKS = ROOT / "benchmarks" / "realmodel_tasks"
FENCE = "`" * 3
_BLOCK = re.compile(rf"{FENCE}[^\n]*\n(.*?){FENCE}", re.DOTALL)


@dataclass
class Result:
    agent: str
    task: str
    solved: bool = False
    iterations: int = 0
    answers: int = 0
    well_formed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    exit_code: int | None = None
    texts: list[str] = field(default_factory=list)


def task_files(task: Path) -> tuple[str, str, str]:
    """(instructions, module file name, test file name)."""
    tests = next(p.name for p in task.glob("test_*.py"))
    module = next(p.name for p in task.glob("*.py") if not p.name.startswith("test_"))
    return (task / "README.md").read_text(), module, tests


def run_pytest(folder: Path) -> tuple[bool, str]:
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"], cwd=folder,
                              capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return False, "the tests timed out after 60 s"
    return done.returncode == 0, (done.stdout + done.stderr)[-3000:]


def plain_prompt(task: Path) -> str:
    instructions, module, tests = task_files(task)
    return (f"{instructions}\nComplete {module} so that the tests in {tests} pass.\n\n{module}\n{FENCE}python\n"
            f"{(task / module).read_text()}{FENCE}\n\n{tests}\n{FENCE}python\n{(task / tests).read_text()}{FENCE}\n\n"
            f"Answer with the complete new {module} in one {FENCE}python block.")


def ask(client, model: str, messages: list[dict], result: Result, max_tokens: int) -> str:
    response = client.chat.completions.create(model=model, messages=messages, temperature=0.0, max_tokens=max_tokens)
    text = response.choices[0].message.content or ""
    result.answers += 1
    result.texts.append(text)
    if response.usage:
        result.prompt_tokens += response.usage.prompt_tokens or 0
        result.completion_tokens += response.usage.completion_tokens or 0
    return text


def retry_agent(client, model: str, task: Path, iterations: int, agent: str, max_tokens: int) -> Result:
    """alone (iterations=1) and naive: the first code block of each answer is the module."""
    result = Result(agent, task.name)
    started = time.monotonic()
    _, module, _ = task_files(task)
    messages = [{"role": "user", "content": plain_prompt(task)}]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        shutil.copytree(task, work, dirs_exist_ok=True)
        for iteration in range(1, iterations + 1):
            result.iterations = iteration
            text = ask(client, model, messages, result, max_tokens)
            block = _BLOCK.search(text)
            if block:
                result.well_formed += 1
                (work / module).write_text(block.group(1))
            green, output = run_pytest(work)
            if green:
                result.solved = True
                break
            messages += [{"role": "assistant", "content": text},
                         {"role": "user", "content": f"The tests failed:\n{FENCE}\n{output}\n{FENCE}\nFix {module}. "
                                                     f"Answer with the complete new {module} in one {FENCE}python "
                                                     "block."}]
    result.seconds = time.monotonic() - started
    return result


def makegreen_agent(task: Path, iterations: int, env: dict, sandbox: str, keep: Path | None,
                    edit_format: str = "auto", extra: tuple[str, ...] = ()) -> Result:
    label = " ".join(([] if edit_format == "auto" else [edit_format]) + list(extra))
    result = Result(f"makegreen {label}".strip(), task.name)
    instructions, _, _ = task_files(task)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder) / task.name
        shutil.copytree(task, work, ignore=shutil.ignore_patterns("README.md"))
        for argv in (["init", "-q"], ["add", "-A"], ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid",
                                                    "commit", "-qm", "tests first"]):
            subprocess.run(["git", *argv], cwd=work, check=True)
        done = subprocess.run([sys.executable, "-m", "agent", "solve", "--json", "--max-iterations", str(iterations),
                               "--sandbox", sandbox, "--edit-format", edit_format, *extra,
                               "-m", instructions.strip()],
                              cwd=work, env=env,
                              capture_output=True, text=True, timeout=3600)
        result.exit_code = done.returncode
        try:
            summary = json.loads(done.stdout)
        except ValueError:
            summary = {"status": "crashed", "message": done.stderr[-2000:]}
        result.solved = summary.get("status") == "green"
        result.iterations = summary.get("iterations", 0)
        usage = summary.get("usage") or {}
        result.prompt_tokens, result.completion_tokens = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
        runs = list((work / ".makegreen" / "runs").glob("*/trajectory.jsonl"))
        for line in runs[0].read_text().splitlines() if runs else []:
            event = json.loads(line)
            if event["type"] == "ModelAnswered":
                result.answers += 1
                result.texts.append(event["text"])
            elif event["type"] == "EditsApplied" and event.get("found"):
                result.well_formed += 1
        if keep is not None and runs:
            shutil.copytree(runs[0].parent, keep / "runs" / f"{task.name}-{result.agent.replace(' ', '_')}",
                            dirs_exist_ok=True)
    result.seconds = time.monotonic() - started
    return result


def table(results: list[Result], tasks: int) -> str:
    lines = ["| agent | solved | mean iterations to green | well-formed answers | prompt / output tokens | wall |",
             "|---|---|---|---|---|---|"]
    for agent in dict.fromkeys(r.agent for r in results):
        mine = [r for r in results if r.agent == agent]
        solved = [r for r in mine if r.solved]
        answers = sum(r.answers for r in mine)
        mean = f"{sum(r.iterations for r in solved) / len(solved):.1f}" if solved else "-"
        lines.append(f"| {agent} | {len(solved)} / {tasks} | {mean} | "
                     f"{sum(r.well_formed for r in mine)} / {answers} | {sum(r.prompt_tokens for r in mine)} / "
                     f"{sum(r.completion_tokens for r in mine)} | {sum(r.seconds for r in mine) / 60:.1f} min |")
    return "\n".join(lines)


def main(argv=None) -> list[Result]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--only", nargs="*", help="task folder names")
    parser.add_argument("--agents", nargs="*", default=["alone", "naive", "makegreen"],
                        help="alone, naive, makegreen, makegreen:whole, makegreen:search-replace")
    parser.add_argument("--base-url", help="a server already serving --model (default: serve the local default)")
    parser.add_argument("--model", default=None)
    parser.add_argument("--sandbox", default="docker", choices=("docker", "local"))
    parser.add_argument("--tasks", type=Path, default=TASKS)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--max-tokens", type=int, default=2048)
    parser.add_argument("--makegreen-args", default="", help="more options for makegreen solve, e.g. '--candidates 3'")
    args = parser.parse_args(argv)

    import openai

    from agent.localmodel import DEFAULT, assemble
    from agent.serve import EngineServer, plan_for

    model = args.model or DEFAULT.name
    tasks = sorted(p for p in args.tasks.iterdir() if p.is_dir() and (not args.only or p.name in args.only))
    out = args.out or Path(tempfile.mkdtemp(prefix="makegreen-realmodel-"))
    out.mkdir(parents=True, exist_ok=True)
    server = None
    base_url = args.base_url
    if base_url is None:
        assemble(DEFAULT, os.environ)
        plan = plan_for("llama.cpp", model, None, None, 1, (), os.environ)
        server = EngineServer(plan, out / "engine.log").start()
        server.wait_ready(600)
        base_url = plan.base_url
    try:
        client = openai.OpenAI(base_url=base_url, api_key="unused", timeout=900, max_retries=0)
        env = {**os.environ, "OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "unused", "MAKEGREEN_MODEL": model,
               "PYTHONPATH": str(ROOT)}
        results: list[Result] = []
        for task in tasks:
            for agent in args.agents:
                if agent.startswith("makegreen"):  # makegreen, or makegreen:FORMAT (whole, search-replace)
                    _, _, edit_format = agent.partition(":")
                    result = makegreen_agent(task, args.iterations, env, args.sandbox, out, edit_format or "auto",
                                             tuple(args.makegreen_args.split()))
                else:
                    result = retry_agent(client, model, task, 1 if agent == "alone" else args.iterations, agent,
                                         args.max_tokens)
                results.append(result)
                print(f"{task.name:22} {agent:10} {'solved' if result.solved else 'not solved':10} "
                      f"{result.iterations} iteration(s), {result.well_formed}/{result.answers} well-formed, "
                      f"{result.seconds:.0f} s", flush=True)
                (out / "results.json").write_text(json.dumps([asdict(r) for r in results], indent=1))
    finally:
        if server is not None:
            server.stop()
    print(f"\n{model}, {len(tasks)} tasks, up to {args.iterations} iterations, {os.cpu_count()} cores\n")
    print(table(results, len(tasks)))
    print(f"\nresults and raw answers: {out}")
    return results


if __name__ == "__main__":
    main()
