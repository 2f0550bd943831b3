"""What makegreen costs beyond the job itself, against floors measured in the same run, interleaved:

- solve: `makegreen solve` on an exercise (one answer from a zero-latency scripted model, so two test runs) against
  the naive agent (benchmarks/naive_agent.py: a fresh `docker run --rm` per test run, the whole repository in the
  prompt, no UI);
- green: the same exercise already solved, against a bare `docker run --rm IMAGE python3 -m pytest -q` on the same
  files: `makegreen hook run --check` (the hook's everyday path: the staged tests, no model), and `makegreen solve`
  (which also starts building the model, in case the tests are red).

    python3 benchmarks/overhead.py [--exercises N] [--image IMAGE]

Exercises are the correct corpus of tests/honesty/correct.py (tests and a reference answer each). Prints the
medians and their ratios. Targets: solve ≤ 1.0× the naive floor, the hook's green path ≤ 1.3× bare.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent import LAUNCH  # noqa: E402
from tests.conftest import make_repo  # noqa: E402
from tests.honesty import correct  # noqa: E402
from tests.scripted_server import Reply, ScriptedServer  # noqa: E402

TEST_FILE = "tests/test_it.py"


def environment(server_url: str, image: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OPENAI_", "MAKEGREEN_"))}
    env.update(OPENAI_API_KEY="k", MAKEGREEN_MODEL="scripted-model", OPENAI_BASE_URL=server_url,
               MAKEGREEN_BASE_IMAGE=image, PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a user's machine: modules compiled once, not at every start
    return env


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started, done.returncode


def exercise(folder: Path, index: int, case: tuple, image: str) -> dict[str, float]:
    """One exercise, each path timed once, makegreen and its floor one after the other."""
    name, tests, path, code = case
    answer = f"{path}\n```python\n{code.strip()}\n```\n"
    figures = {}
    makegreen = [sys.executable, "-c", LAUNCH, "solve", "--max-iterations", "1", "--json"]
    for who in ("naive", "makegreen") if index % 2 else ("makegreen", "naive"):  # interleaved, order alternating
        repo = make_repo(folder / f"{who}{index}", {TEST_FILE: tests})
        with ScriptedServer([Reply(answer)] * 3) as server:
            env = environment(server.url, image)
            argv = makegreen if who == "makegreen" else [sys.executable, str(ROOT / "benchmarks" / "naive_agent.py"),
                                                         str(repo), image, "1"]
            figures[f"solve_{who}"], status = timed(argv, repo, env)
            if status != 0:
                raise SystemExit(f"{who} did not solve {name} (exit {status})")
        # the same exercise, solved (and staged, for the hook): the green path
        (repo / path).write_text(code)
        subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
        bare = ["docker", "run", "--rm", "--network", "none", "-v", f"{repo}:/w", "-w", "/w", image,
                "python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        hook = [sys.executable, "-c", LAUNCH, "hook", "run", "--check"]
        paths = {"green": hook, "solved": makegreen} if who == "makegreen" else {"green": bare}
        for label, argv in paths.items():
            figures[f"{label}_{who}"], status = timed(argv, repo, env)
            if status != 0:
                raise SystemExit(f"the {label} path of {who} failed on {name} (exit {status})")
        shutil.rmtree(repo, ignore_errors=True)
    return figures


def main(argv: list[str] | None = None) -> dict[str, float]:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--exercises", type=int, default=20)
    options.add_argument("--image", default=os.environ.get("MAKEGREEN_BASE_IMAGE", "makegreen-base:offline"))
    args = options.parse_args(argv)
    cases = correct.CASES[:args.exercises]
    with tempfile.TemporaryDirectory() as folder:
        exercise(Path(folder), -1, cases[0], args.image)  # warm-up: images, caches, the engine's first start
        runs = [exercise(Path(folder), index, case, args.image) for index, case in enumerate(cases)]
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    ratios = {"solve": median["solve_makegreen"] / median["solve_naive"],
              "green": median["green_makegreen"] / median["green_naive"],
              "solved": median["solved_makegreen"] / median["green_naive"]}
    print(f"{len(runs)} exercises, medians, interleaved in one run:")
    print("| path | makegreen | floor | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| solve (1 answer, 2 test runs) | {median['solve_makegreen']:.2f} s | {median['solve_naive']:.2f} s "
          f"(naive agent) | {ratios['solve']:.2f}× | ≤ 1.0× |")
    print(f"| already green: `hook run --check` | {median['green_makegreen']:.2f} s | {median['green_naive']:.2f} s "
          f"(bare docker run pytest) | {ratios['green']:.2f}× | ≤ 1.3× |")
    print(f"| already green: `solve` | {median['solved_makegreen']:.2f} s | {median['green_naive']:.2f} s (bare docker "
          f"run pytest) | {ratios['solved']:.2f}× | — |")
    return {**median, **{f"ratio_{key}": value for key, value in ratios.items()}}


if __name__ == "__main__":
    main()
