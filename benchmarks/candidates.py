"""What parallel candidates cost in wall time: the same two rounds of work with one candidate and with four.

    python3 benchmarks/candidates.py [--repeat 3] [--think 3.0] [--sandbox docker|local]

Solves examples/roman against the scripted model, which thinks --think seconds per answer (streamed, as a
reasoning model does): every first-round answer is wrong, the second round's first is right. One candidate takes
two iterations; four take two rounds of four requests and four sandbox runs each. Prints the median wall time of
each and their ratio (target: wall(N=4) / wall(N=1) <= 2.0 on a 2-core machine). The Docker sandbox needs the base
image (MAKEGREEN_BASE_IMAGE, e.g. makegreen-base:offline).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import ANSWERS, make_repo  # noqa: E402
from tests.scripted_server import Reply, ScriptedServer  # noqa: E402

RIGHT = (ANSWERS / "roman.md").read_text()
WRONG = (ANSWERS / "roman_wrong.md").read_text()


def thinking(answer: str, seconds: float) -> Reply:
    """An answer streamed, thinking first, over about seconds."""
    reasoning = "step " * 80
    chunks = -(-len(reasoning) // 20) + -(-len(answer) // 20)
    return Reply(answer, reasoning=reasoning, chunk_size=20, chunk_delay=seconds / chunks)


def one_run(n: int, think: float, sandbox: str, folder: Path) -> dict:
    repo = make_repo(folder / f"roman-{n}-{time.monotonic_ns()}", example="roman")
    replies = [thinking(WRONG, think) for _ in range(n)] + [thinking(RIGHT, think)]
    replies += [thinking(WRONG, think) for _ in range(n - 1)] + [thinking(RIGHT, think)]
    with ScriptedServer(replies) as server:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MAKEGREEN_"))},
               "OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "k", "MAKEGREEN_MODEL": "scripted-model",
               "PYTHONPATH": str(ROOT)}
        if os.environ.get("MAKEGREEN_BASE_IMAGE"):
            env["MAKEGREEN_BASE_IMAGE"] = os.environ["MAKEGREEN_BASE_IMAGE"]
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "agent", "solve", "--json", "--sandbox", sandbox,
                                 "--candidates", str(n), "--no-apply"], cwd=repo, env=env, capture_output=True,
                                text=True)
        wall = time.monotonic() - started
    summary = json.loads(result.stdout or "{}")
    if summary.get("status") != "green":
        raise SystemExit(f"N={n}: the run did not end green ({summary.get('status')}): {result.stderr[-2000:]}")
    return {"wall": wall, "iterations": summary["iterations"], "requests": len(server.chat_requests())}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--think", type=float, default=3.0, help="seconds of thinking per answer")
    parser.add_argument("--sandbox", default="docker", choices=("docker", "local"))
    args = parser.parse_args(argv)
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        for n in (1, 4):
            runs = [one_run(n, args.think, args.sandbox, Path(folder)) for _ in range(args.repeat)]
            figures[n] = {"wall": statistics.median(run["wall"] for run in runs),
                          "iterations": runs[0]["iterations"], "requests": runs[0]["requests"]}
            print(f"N={n}: median wall {figures[n]['wall']:.2f} s over {args.repeat} runs; "
                  f"{figures[n]['iterations']} iterations, {figures[n]['requests']} model requests "
                  f"({args.think:.1f} s of thinking each), sandbox {args.sandbox}")
    ratio = figures[4]["wall"] / figures[1]["wall"]
    print(f"wall(N=4) / wall(N=1): {ratio:.2f} (target <= 2.0) on {os.cpu_count()} cores")
    figures["ratio"] = ratio
    return figures


if __name__ == "__main__":
    main()
