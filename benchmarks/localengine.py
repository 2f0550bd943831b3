"""The local engine as runs meet it: kept warm between runs, gone with a run that is killed, fair to a machine
that does other work. Each figure is a `makegreen solve` with no key and no base URL (the local default model,
served by makegreen itself), in a fresh git copy of one task of benchmarks/realmodel_tasks.

    python3 benchmarks/localengine.py [--warm-task 25_etl] [--task 15_acronym] [--threads 1 2] [--sandbox docker]

(a) warm: the same task (--warm-task, one whose first answer is short, so that the engine's start and the
    prompt's reading show) solved twice in a row: the second run's time to its first answer against the first's
    (which starts the engine and fills its prompt cache);
(b) shared machine: for each thread setting, with the engine warm, one run alone and the same run beside a
    CPU-bound process (--task, one whose first answer is long: the writing is what threads change): time to the
    first answer, the slowdown beside it against alone, and each against the fastest alone (the floor);
(c) killed: a run killed with SIGKILL while its first answer is being computed: seconds until no engine process
    is left computing.

The engines run under a cache folder of the benchmark's own (the models folder linked in), so a user's warm engine
is neither used nor stopped; every engine the benchmark started is stopped at its end.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.realmodel import TASKS, MakegreenAgent, makegreen_agent, task_repo  # noqa: E402


def environment(cache: Path, **settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "MAKEGREEN_MODEL")}
    return {**env, "MAKEGREEN_CACHE": str(cache), "PYTHONPATH": str(ROOT), **settings}


def solve(task: Path, env: dict[str, str], sandbox: str) -> tuple[float, float]:
    """(seconds to the first answer, seconds in all) of one run with one iteration."""
    result = makegreen_agent(task, 1, env, sandbox, None, MakegreenAgent("makegreen"), timeout=1800)
    if result.first_answer_seconds is None:
        raise SystemExit(f"the run gave no answer (exit {result.exit_code})")
    return result.first_answer_seconds, result.seconds


def stop_all(env: dict[str, str]) -> None:
    from agent.models.shared_engine import running

    for state in running(env):
        os.kill(state.supervisor, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while running(env) and time.monotonic() < deadline:
        time.sleep(0.2)


def warm(task: Path, cache: Path, sandbox: str) -> tuple[float, float]:
    env = environment(cache, MAKEGREEN_ENGINE_IDLE="300")
    try:
        return solve(task, env, sandbox)[0], solve(task, env, sandbox)[0]
    finally:
        stop_all(env)


def shared(task: Path, cache: Path, sandbox: str, threads: int) -> tuple[float, float]:
    """(first answer alone, first answer beside a CPU-bound process), the engine warm for both."""
    env = environment(cache, MAKEGREEN_ENGINE_IDLE="300", MAKEGREEN_ENGINE_THREADS=str(threads))
    try:
        solve(task, env, sandbox)  # starts the engine and fills its cache: both measured runs find it so
        alone = solve(task, env, sandbox)[0]
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            beside = solve(task, env, sandbox)[0]
        finally:
            busy.kill()
            busy.wait()
        return alone, beside
    finally:
        stop_all(env)


def killed(task: Path, cache: Path, sandbox: str) -> float:
    """Seconds from SIGKILL of a run in the middle of its first answer until no engine process is left."""
    from agent.models.shared_engine import running

    env = environment(cache, MAKEGREEN_ENGINE_IDLE="300")
    with tempfile.TemporaryDirectory() as folder:
        work = task_repo(task, Path(folder))
        run = subprocess.Popen([sys.executable, "-m", "agent", "solve", "--max-iterations", "1", "--sandbox",
                                sandbox], cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and not _asked(work):
            time.sleep(0.2)
        time.sleep(2.0)  # the engine is reading the prompt or writing the answer now
        engines = [state.engine for state in running(env)]
        run.send_signal(signal.SIGKILL)
        run.wait()
        killed_at = time.monotonic()
        while any(_alive(pid) for pid in engines) and time.monotonic() - killed_at < 120:
            time.sleep(0.1)
        seconds = time.monotonic() - killed_at
        stop_all(env)
        return seconds


def _asked(work: Path) -> bool:
    return any('"ModelRequest"' in path.read_text()
               for path in (work / ".makegreen" / "runs").glob("*/trajectory.jsonl"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warm-task", default="25_etl")
    parser.add_argument("--task", default="15_acronym")
    parser.add_argument("--threads", type=int, nargs="*", default=[1, os.cpu_count() or 1])
    parser.add_argument("--sandbox", default="docker", choices=("docker", "local"))
    args = parser.parse_args(argv)
    from agent.models.localmodel import DEFAULT, assemble

    task = TASKS / args.task
    models = assemble(DEFAULT, os.environ).parent
    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="makegreen-localengine-") as folder:
        cache = Path(folder)
        (cache / "models").symlink_to(models, target_is_directory=True)
        cold, again = warm(TASKS / args.warm_task, cache, args.sandbox)
        figures["warm"] = {"first": cold, "second": again, "ratio": again / cold}
        print(f"(a) warm: first answer {cold:.1f} s in the first run, {again:.1f} s in the second: "
              f"{again / cold:.2f}x", flush=True)
        for threads in dict.fromkeys(args.threads):
            alone, beside = shared(task, cache, args.sandbox, threads)
            figures[f"threads={threads}"] = {"alone": alone, "beside": beside, "slowdown": beside / alone}
            print(f"(b) {threads} thread(s): first answer {alone:.1f} s alone, {beside:.1f} s beside a CPU-bound "
                  f"process: {beside / alone:.2f}x", flush=True)
        floor = min(figures[f"threads={t}"]["alone"] for t in args.threads)
        for threads in dict.fromkeys(args.threads):
            row = figures[f"threads={threads}"]
            print(f"    {threads} thread(s) against the fastest alone: {row['alone'] / floor:.2f}x alone, "
                  f"{row['beside'] / floor:.2f}x beside", flush=True)
        gone = killed(task, cache, args.sandbox)
        figures["killed"] = gone
        print(f"(c) killed with SIGKILL mid-answer: no engine left {gone:.1f} s later", flush=True)
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
