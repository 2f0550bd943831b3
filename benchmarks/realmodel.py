"""makegreen against the model alone and a naive retry loop, with a real local model, in one run, the way a user
meets it: by default from the tests alone (no instructions message), half the tasks written in unittest style.

    python3 benchmarks/realmodel.py --out DIR [--iterations 4] [--only 02_leap 15_acronym] [--base-url URL]
                                    [--sandbox docker|local] [--task-timeout 900] [--instructions]
                                    [--agents alone naive makegreen makegreen:search-replace makegreen@3]
                                    [--makegreen-args '...'] [--agent-root CHECKOUT]

Agents, all talking to the same server with the same model, on each task of benchmarks/realmodel_tasks (a stub and
its tests; tasks 01–14 in pytest style with a README, 15–28 in unittest style):

- alone: one request with a plain prompt (the stub and the tests); the first code block becomes the module.
- naive: the same, then up to --iterations rounds of "the tests failed: <pytest's output>; fix it".
- makegreen: `makegreen solve --max-iterations N` in a fresh git copy of the task (makegreen:FORMAT for an edit
  format, makegreen@N for --candidates N); --agent-root runs another checkout's makegreen (today's, to compare).

With --against, `--makegreen-args '--seed N'` (where both checkouts take --seed) draws every sampled request from a
seed of its own content: where the two ask the same thing they get the same answer, so the arms differ by what the
code changed, not by sampling luck (the engine's prompt cache may still change the numbers slightly).

--instructions adds each task's README as the message (and to the plain prompt). Resumable: each finished
(agent, task) is one line of DIR/results.jsonl, written as it finishes; a second start with the same --out skips
what is there, so a run may span sessions. Where the benchmark serves the model, tokens are counted exactly with
its own vocabulary and chat template: every request's whole prompt, and every answer's text (the engine's log
leaves out requests whose stream was closed early, so its totals undercount makegreen); the share of the prompt
its cache held, and its writing speed, come from its log (DIR/engine.log). Else the server's usage. Printed: solved,
what the first answer alone was worth (first answers green; tests passing after them, of the tests run), answers,
tokens per solved task, median time to the first answer, wall time, as Markdown tables; each result keeps its raw
answers (results.jsonl) and makegreen's records go to DIR/runs/: the real answers the parser tests read.
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
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from agent.models.tokens import GgufTokens  # noqa: E402

TASKS = ROOT / "benchmarks" / "realmodel_tasks"
FENCE = "`" * 3
AGAINST = "~against"  # the label's end for an agent run from --against's checkout
_BLOCK = re.compile(rf"{FENCE}[^\n]*\n(.*?){FENCE}", re.DOTALL)
# in llama.cpp's log: a request's prompt prefix found in its cache, and its writing timings
_PREFIX_HIT = re.compile(r"(\d+) prefix-match hit")
_EVAL = re.compile(r"(?<!prompt )eval time =\s*([\d.]+) ms /\s*(\d+) runs")


@dataclass
class Result:
    agent: str
    task: str
    solved: bool = False
    iterations: int = 0
    answers: int = 0
    well_formed: int = 0
    prompt_tokens: int = 0  # every request's whole prompt, cached or not
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0  # of prompt_tokens, those the engine's prefix cache held (its log says)
    counted_by: str = "server"  # tokenizer: the served model's own; server: the usage it sent; estimated
    seconds: float = 0.0
    first_answer_seconds: float | None = None  # from the start to the first answer's end
    first_passed: int | None = None  # the tests passing after the first answer (makegreen: the first one tested),
    first_total: int | None = None  # of how many: what the first answer alone is worth, whatever the loop does next
    output_tokens_per_second: float | None = None  # the engine's writing speed during the task
    exit_code: int | None = None
    texts: list[str] = field(default_factory=list)
    requests: list[list[dict]] = field(default_factory=list)  # each request's messages, for counting; not kept


def task_files(task: Path) -> tuple[str, str, str]:
    """(instructions, module file name, test file name); the instructions are "" where the task has none."""
    tests = next(p.name for p in task.glob("test_*.py"))
    module = next(p.name for p in task.glob("*.py") if not p.name.startswith("test_"))
    readme = task / "README.md"
    return (readme.read_text() if readme.exists() else ""), module, tests


def run_pytest(folder: Path) -> tuple[bool, str]:
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"], cwd=folder,
                              capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return False, "the tests timed out after 60 s"
    return done.returncode == 0, (done.stdout + done.stderr)[-3000:]


def tally(folder: Path) -> tuple[int, int]:
    """(tests passing, tests run) in folder: every test, not stopping at the first failure."""
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=folder,
                              capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return 0, 0
    found = {word: int(count) for count, word in re.findall(r"(\d+) (passed|failed|error)", done.stdout)}
    return found.get("passed", 0), sum(found.values())


def module_of(text: str) -> str | None:
    """An answer's module as the model alone's is taken: its first code block (None where it has none)."""
    block = _BLOCK.search(text)
    return block.group(1) if block else None


def plain_prompt(task: Path, instructions: bool = False) -> str:
    readme, module, tests = task_files(task)
    said = f"{readme}\n" if instructions and readme else ""
    return (f"{said}Complete {module} so that the tests in {tests} pass.\n\n{module}\n{FENCE}python\n"
            f"{(task / module).read_text()}{FENCE}\n\n{tests}\n{FENCE}python\n{(task / tests).read_text()}{FENCE}\n\n"
            f"Answer with the complete new {module} in one {FENCE}python block.")


class EngineLog:
    """What llama.cpp says in its log about the requests made since a mark: the prompt tokens its cache held (a
    "prefix-match hit" line, written only when it is above zero) and its writing speed. Its per-request totals are
    not used for counting: a request whose stream the client closed (makegreen stops reading once the answer is
    complete) gets no timings line at all, so summing them leaves those requests out."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def mark(self) -> int:
        return self.path.stat().st_size if self.path is not None and self.path.exists() else 0

    def since(self, mark: int) -> tuple[int, float | None] | None:
        """(prompt tokens served from the cache, tokens written per second where timed), or None with no log."""
        if self.path is None or not self.path.exists():
            return None
        with open(self.path, "rb") as handle:
            handle.seek(mark)
            text = handle.read().decode("utf-8", "replace")
        cached = sum(int(tokens) for tokens in _PREFIX_HIT.findall(text))
        writes = [(float(ms), int(runs)) for ms, runs in _EVAL.findall(text)]
        written, ms = sum(runs for _, runs in writes), sum(ms for ms, _ in writes)
        return cached, (written / ms * 1000 if ms else None)


def counted(result: Result, log: EngineLog, mark: int, tokens: GgufTokens | None) -> None:
    """The result's tokens, counted exactly where the benchmark serves the model: every request's whole prompt
    (its cached share from the engine's log beside it) and every answer's text, with the model's vocabulary."""
    if tokens is not None:
        result.prompt_tokens = sum(tokens.prompt(messages) for messages in result.requests)
        result.completion_tokens = sum(tokens.text(text) for text in result.texts)
        result.counted_by = "tokenizer"
    found = log.since(mark)
    if found is not None:
        result.cached_prompt_tokens, speed = found
        result.output_tokens_per_second = round(speed, 2) if speed else None


def ask(client, model: str, messages: list[dict], result: Result, max_tokens: int) -> str:
    response = client.chat.completions.create(model=model, messages=messages, temperature=0.0, max_tokens=max_tokens)
    text = response.choices[0].message.content or ""
    result.requests.append(list(messages))
    result.answers += 1
    result.texts.append(text)
    if response.usage:
        result.prompt_tokens += response.usage.prompt_tokens or 0
        result.completion_tokens += response.usage.completion_tokens or 0
    return text


def retry_agent(client, model: str, task: Path, iterations: int, agent: str, max_tokens: int,
                instructions: bool = False) -> Result:
    """alone (iterations=1) and naive: the first code block of each answer is the module."""
    result = Result(agent, task.name)
    started = time.monotonic()
    _, module, _ = task_files(task)
    messages = [{"role": "user", "content": plain_prompt(task, instructions)}]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        shutil.copytree(task, work, dirs_exist_ok=True)
        for iteration in range(1, iterations + 1):
            result.iterations = iteration
            text = ask(client, model, messages, result, max_tokens)
            if result.first_answer_seconds is None:
                result.first_answer_seconds = round(time.monotonic() - started, 1)
            code = module_of(text)
            if code is not None:
                result.well_formed += 1
                (work / module).write_text(code)
            if result.first_passed is None:
                result.first_passed, result.first_total = tally(work)
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


@dataclass(frozen=True)
class MakegreenAgent:
    """makegreen, makegreen:FORMAT, makegreen@N (--candidates N), from this checkout or another."""

    label: str
    edit_format: str = "auto"
    candidates: int = 1

    @classmethod
    def parse(cls, label: str) -> "MakegreenAgent":
        head, _, count = label.removesuffix(AGAINST).partition("@")
        _, _, edit_format = head.partition(":")
        return cls(label, edit_format or "auto", int(count) if count else 1)


def task_repo(task: Path, folder: Path) -> Path:
    """A fresh git repository in folder holding the task's stub and tests (its README left out), as a user's."""
    work = folder / task.name
    shutil.copytree(task, work, ignore=shutil.ignore_patterns("README.md", "__pycache__"))
    for argv in (["init", "-q"], ["add", "-A"], ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid",
                                                "commit", "-qm", "tests first"]):
        subprocess.run(["git", *argv], cwd=work, check=True)
    return work


def makegreen_agent(task: Path, iterations: int, env: dict, sandbox: str, keep: Path | None,
                    agent: MakegreenAgent = MakegreenAgent("makegreen"), extra: tuple[str, ...] = (),
                    instructions: bool = False, timeout: float = 900) -> Result:
    result = Result(agent.label, task.name)
    readme, _, _ = task_files(task)
    started, wall = time.monotonic(), time.time()
    with tempfile.TemporaryDirectory() as folder:
        work = task_repo(task, Path(folder))
        argv = [sys.executable, "-m", "agent", "solve", "--json", "--max-iterations", str(iterations),
                "--sandbox", sandbox, "--edit-format", agent.edit_format, *extra]
        if agent.candidates > 1:
            argv += ["--candidates", str(agent.candidates)]
        if instructions and readme.strip():
            argv += ["-m", readme.strip()]
        try:
            done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
            result.exit_code = done.returncode
            summary = json.loads(done.stdout)
        except subprocess.TimeoutExpired:  # the user's patience: a run past it is not solved
            summary = {"status": "timed out"}
        except ValueError:
            summary = {"status": "crashed", "message": done.stderr[-2000:]}
        result.solved = summary.get("status") == "green"
        result.iterations = summary.get("iterations", 0)
        usage = summary.get("usage") or {}
        result.prompt_tokens, result.completion_tokens = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
        result.counted_by = "estimated" if usage.get("estimated") else "server"
        runs = list((work / ".makegreen" / "runs").glob("*/trajectory.jsonl"))
        for line in runs[0].read_text().splitlines() if runs else []:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("type") == "ModelRequest":
                result.requests.append(_messages(event.get("messages")))
            elif event.get("type") == "ModelAnswered":
                result.answers += 1
                result.texts.append(event["text"])
                if result.first_answer_seconds is None and isinstance(event.get("time"), (int, float)):
                    result.first_answer_seconds = round(event["time"] - wall, 1)
            elif event.get("type") == "TestsRan" and event.get("iteration") and result.first_passed is None:
                summary_of = event.get("summary") or {}
                result.first_passed = summary_of.get("passed", 0)
                result.first_total = sum(summary_of.get(key, 0) for key in ("passed", "failed", "errors"))
            elif event.get("type") == "EditsApplied" and event.get("found"):
                result.well_formed += 1
        if keep is not None and runs:
            shutil.copytree(runs[0].parent, keep / "runs" / f"{task.name}-{agent.label.replace(' ', '_')}",
                            dirs_exist_ok=True)
    result.seconds = time.monotonic() - started
    return result


def _messages(recorded) -> list[dict]:
    """A request's messages as the record keeps them (a list, or its repr in older records)."""
    if isinstance(recorded, str):
        import ast

        recorded = ast.literal_eval(recorded)
    return [message for message in recorded or [] if isinstance(message, dict)]


def per_solved(total: int, solved: int) -> str:
    return f"{total / solved:,.0f}" if solved else "-"


def table(results: list[Result], tasks: int) -> str:
    lines = ["| agent | solved | first answer green | tests passing after the first answer | answers | well-formed "
             "| prompt / output tokens | per solved task: prompt / output | median first answer | wall |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for agent in dict.fromkeys(r.agent for r in results):
        mine = [r for r in results if r.agent == agent]
        solved = sum(r.solved for r in mine)
        answers = sum(r.answers for r in mine)
        prompt, output = sum(r.prompt_tokens for r in mine), sum(r.completion_tokens for r in mine)
        firsts = sorted(r.first_answer_seconds for r in mine if r.first_answer_seconds is not None)
        first = f"{firsts[len(firsts) // 2]:.0f} s" if firsts else "-"
        how = {r.counted_by for r in mine}
        note = "" if how <= {"tokenizer", "server"} else " (estimated)"
        cached = sum(r.cached_prompt_tokens for r in mine)
        note += f" ({cached / prompt:.0%} of the prompt cached)" if cached and prompt else ""
        tried = [r for r in mine if r.first_total]
        first_green = sum(r.first_passed == r.first_total for r in tried)
        passing = f"{sum(r.first_passed for r in tried)} / {sum(r.first_total for r in tried)}" if tried else "-"
        lines.append(f"| {agent} | {solved} / {len(mine)} | {first_green} / {len(mine)} | {passing} "
                     f"| {answers} | {sum(r.well_formed for r in mine)} / "
                     f"{answers} | {prompt:,} / {output:,}{note} | {per_solved(prompt, solved)} / "
                     f"{per_solved(output, solved)} | {first} | {sum(r.seconds for r in mine) / 60:.1f} min |")
    return "\n".join(lines)


def by_task(results: list[Result]) -> str:
    agents = list(dict.fromkeys(r.agent for r in results))
    lines = ["| task | " + " | ".join(agents) + " |", "|---|" + "---|" * len(agents)]
    for task in dict.fromkeys(r.task for r in results):
        cells = []
        for agent in agents:
            found = next((r for r in results if r.agent == agent and r.task == task), None)
            first = f", 1st {found.first_passed}/{found.first_total}" if found and found.first_total else ""
            cells.append("" if found is None else f"{'✓' if found.solved else '✗'} ({found.answers}, "
                                                  f"{found.completion_tokens} out{first})")
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def load(path: Path) -> list[Result]:
    """The results a previous start wrote (a torn last line, from a kill, is skipped)."""
    names = {f.name for f in fields(Result)}
    found = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        found.append(Result(**{key: value for key, value in record.items() if key in names}))
    return found


def main(argv=None) -> list[Result]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--only", nargs="*", help="task folder names")
    parser.add_argument("--agents", nargs="*", default=["alone", "naive", "makegreen"],
                        help="alone, naive, makegreen, makegreen:FORMAT (whole, search-replace), makegreen@N "
                             "(--candidates N)")
    parser.add_argument("--base-url", help="a server already serving --model (default: serve the local default)")
    parser.add_argument("--model", default=None)
    parser.add_argument("--sandbox", default="docker", choices=("docker", "local"))
    parser.add_argument("--tasks", type=Path, default=TASKS)
    parser.add_argument("--out", type=Path, default=None, help="results and raw answers; a folder that holds "
                                                                "results already is resumed")
    parser.add_argument("--max-tokens", type=int, default=2048)
    parser.add_argument("--task-timeout", type=float, default=900, help="seconds one makegreen run may take")
    parser.add_argument("--instructions", action="store_true", help="give each task's README as the message")
    parser.add_argument("--agent-root", type=Path, default=ROOT, help="the checkout whose makegreen runs")
    parser.add_argument("--against", type=Path, help="another checkout (today's): each makegreen agent runs from it "
                                                     "too, as AGENT~against, on the same task next to this one's, the "
                                                     "order alternating from task to task")
    parser.add_argument("--makegreen-args", default="", help="more options for makegreen solve ('--seed N': each "
                                                             "sampled request drawn from the same seed in both "
                                                             "checkouts of --against)")
    args = parser.parse_args(argv)

    import openai

    from agent.models.localmodel import DEFAULT, assemble, model_path
    from agent.models.serve import EngineServer, plan_for

    model = args.model or DEFAULT.name
    tasks = sorted(p for p in args.tasks.iterdir() if p.is_dir() and (not args.only or p.name in args.only))
    out = args.out or Path(tempfile.mkdtemp(prefix="makegreen-realmodel-"))
    out.mkdir(parents=True, exist_ok=True)
    results = load(out / "results.jsonl")
    done = {(r.agent, r.task) for r in results}
    if done:
        print(f"resuming {out}: {len(done)} result(s) there already", flush=True)
    server, log, tokens = None, EngineLog(None), None
    base_url = args.base_url
    if base_url is None:
        assemble(DEFAULT, os.environ)
        plan = plan_for("llama.cpp", model, port=None, tensor_parallel=None, pipeline_parallel=1, extra=(),
                        environ=os.environ)
        log = EngineLog(out / "engine.log")
        tokens = GgufTokens(model_path(DEFAULT, os.environ))
        server = EngineServer(plan, log.path).start()
        server.wait_ready(600)
        base_url = plan.base_url
    try:
        client = openai.OpenAI(base_url=base_url, api_key="unused", timeout=900, max_retries=0)
        env = {**os.environ, "OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "unused", "MAKEGREEN_MODEL": model,
               "PYTHONPATH": str(args.agent_root.resolve())}
        agents = list(args.agents)
        if args.against is not None:
            agents += [f"{agent}{AGAINST}" for agent in args.agents if agent.startswith("makegreen")]
        for number, task in enumerate(tasks):
            # with --against, which checkout goes first alternates: the engine's cache favours neither
            for agent in (agents if number % 2 == 0 else sorted(agents, key=lambda a: not a.endswith(AGAINST))):
                if (agent, task.name) in done:
                    continue
                mark = log.mark()
                if agent.startswith("makegreen"):
                    root = args.against if agent.endswith(AGAINST) else args.agent_root
                    result = makegreen_agent(task, args.iterations, {**env, "PYTHONPATH": str(root.resolve())},
                                             args.sandbox, out, MakegreenAgent.parse(agent),
                                             tuple(args.makegreen_args.split()),
                                             args.instructions, args.task_timeout)
                else:
                    result = retry_agent(client, model, task, 1 if agent == "alone" else args.iterations, agent,
                                         args.max_tokens, args.instructions)
                counted(result, log, mark, tokens)
                results.append(result)
                record = asdict(result)
                del record["requests"]
                with open(out / "results.jsonl", "a") as handle:
                    handle.write(json.dumps(record) + "\n")
                print(f"{task.name:26} {agent:12} {'solved' if result.solved else 'not solved':10} "
                      f"{result.answers} answer(s), {result.prompt_tokens} + {result.completion_tokens} tokens, "
                      f"{result.seconds:.0f} s", flush=True)
    finally:
        if server is not None:
            server.stop()
    shown = [r for r in results if r.task in {t.name for t in tasks} and r.agent in agents]
    print(f"\n{model}, {len(tasks)} tasks, up to {args.iterations} iterations, "
          f"{'with' if args.instructions else 'without'} instructions, {os.cpu_count()} cores\n")
    print(table(shown, len(tasks)))
    print()
    print(by_task(shown))
    print(f"\nresults and raw answers: {out}")
    return shown


if __name__ == "__main__":
    main()
