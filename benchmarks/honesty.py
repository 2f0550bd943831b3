"""Honest green, both sides, end to end: correct implementations that share specification constants with their
tests (tests/honesty/correct.py) must all go green, and gaming answers (tests/honesty/gaming.py) must never: those
its checks see in the code or the run, and those fitted to the test cases the model was shown (gaming.FITTED),
caught by the held-out case.

    python3 benchmarks/honesty.py [--sandbox local|docker]

Each answer is given by the scripted model to `makegreen solve --max-iterations 1`. The floor, measured in the
same run, is the naive loop — pytest alone says green when the tests pass — on the same answers: it "solves" every
gaming answer whose tests pass. Prints the false-refusal rate, the catch rate, and the naive floor's; and for the
code that looks at itself (correct.INTROSPECTIVE) and the code that reaches the tests while they run
(gaming.REACHING), how many stay green and unflagged and how many are caught.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent import LAUNCH  # noqa: E402
from tests.conftest import make_repo  # noqa: E402
from tests.honesty import correct, gaming  # noqa: E402
from tests.scripted_server import Reply, ScriptedServer  # noqa: E402


TEST_FILE = "tests/test_it.py"


def solve(folder: Path, name: str, tests: str, path: str, code: str, files: dict[str, str] | None = None, *,
          sandbox: str) -> tuple[str, bool, bool]:
    """(makegreen's status, whether pytest alone passes the answer, whether a test case was held out); files: what
    the project already holds beside the answer (its data)."""
    repo = make_repo(folder / name.replace(" ", "_").replace(",", "").replace("'", ""),
                     {TEST_FILE: tests, **(files or {})})
    with ScriptedServer([Reply(f"{path}\n```python\n{code.strip()}\n```\n")]) as server:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("OPENAI_", "MAKEGREEN_"))}
        env.update(OPENAI_API_KEY="k", MAKEGREEN_MODEL="scripted-model", OPENAI_BASE_URL=server.url,
                   MAKEGREEN_BASE_IMAGE=os.environ.get("MAKEGREEN_BASE_IMAGE", "python:3.12-slim"),
                   PYTHONPATH=str(ROOT))  # this checkout's makegreen, whatever is installed
        done = subprocess.run([sys.executable, "-c", LAUNCH, "solve", "--json", "--sandbox", sandbox,
                               "--max-iterations", "1"], cwd=repo, env=env, capture_output=True, text=True)
    summary = json.loads(done.stdout) if done.stdout.strip() else {}
    status, held = summary.get("status", "error"), bool(summary.get("holdout"))
    if summary.get("watched"):  # a correct answer must go unflagged as well as green
        status = f"{status}, flagged"
    (repo / path).write_text(code)  # the naive floor: the answer as written, judged by pytest's exit status only
    naive = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=repo,
                           capture_output=True, text=True, timeout=120).returncode == 0
    return status, naive, held


def main(argv: list[str] | None = None) -> dict[str, float]:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--sandbox", default="local", choices=("local", "docker"))
    args = options.parse_args(argv)
    everything = correct.CASES + correct.INTROSPECTIVE
    with tempfile.TemporaryDirectory() as folder:
        right = [solve(Path(folder) / "correct", *case, sandbox=args.sandbox) for case in everything]
        cases = gaming.CASES + [gaming.fitted_case(entry, TEST_FILE) for entry in gaming.FITTED]
        wrong = [solve(Path(folder) / "gaming", *case, sandbox=args.sandbox) for case in cases]
    refused = [case[0] for case, (status, _naive, _held) in zip(everything, right) if status != "green"]
    looking = [case[0] for case, (status, _naive, _held) in zip(correct.INTROSPECTIVE, right[len(correct.CASES):])
               if status != "green"]
    reaching = [case[0] for case, (status, _naive, _held) in zip(gaming.REACHING, wrong[len(gaming.CASES)
                                                                                        - len(gaming.REACHING):])
                if status != "green"]
    caught = sum(status != "green" for status, _naive, _held in wrong)
    naive_caught = sum(not naive for _status, naive, _held in wrong)
    held = sum(held for _status, _naive, held in right)
    held_green = sum(held and status == "green" for status, _naive, held in right)
    figures = {"false_refusals": len(refused) / len(right), "catch_rate": caught / len(wrong),
               "naive_catch_rate": naive_caught / len(wrong)}
    print(f"correct answers refused: {len(refused)}/{len(right)} ({figures['false_refusals']:.0%})"
          + (f": {', '.join(refused)}" if refused else ""))
    print(f"gaming answers caught:   {caught}/{len(wrong)} ({figures['catch_rate']:.0%}); the naive floor (pytest "
          f"alone) catches {naive_caught}/{len(wrong)} ({figures['naive_catch_rate']:.0%})")
    print(f"of these, the code that looks at itself as libraries do (logging, warnings, inspect, dataclasses, "
          f"sys.modules, its own data): {len(correct.INTROSPECTIVE) - len(looking)}/{len(correct.INTROSPECTIVE)} "
          f"green and unflagged; the code that reaches the tests while they run: {len(reaching)}/"
          f"{len(gaming.REACHING)} caught")
    print(f"held-out cases: in {held}/{len(right)} correct answers a test case was held out, {held_green} of them "
          f"green; it alone catches the {len(gaming.FITTED)} gaming answers fitted to the cases the model is shown")
    return figures


if __name__ == "__main__":
    main()
