"""How long `makegreen bench examples/bench` takes with the scripted model answering every task right first time:
the bench's own cost (copies, sandboxes, runs), one worker against two.

    python3 benchmarks/bench_suite.py [--sandbox docker|local] [--workers 1 2]

Prints each run's wall time, the solved count, and the speed-up of the most workers over one. The Docker sandbox
needs the base image (MAKEGREEN_BASE_IMAGE, e.g. makegreen-base:offline).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.test_bench import SUITE, reference_route, run  # noqa: E402
from tests.scripted_server import ScriptedServer  # noqa: E402


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", default="docker", choices=("docker", "local"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    folders = sorted(p for p in SUITE.iterdir() if p.is_dir())
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        for workers in args.workers:
            out = Path(folder) / f"out-{workers}"
            with ScriptedServer([], route=reference_route(folders)) as server:
                started = time.monotonic()
                done = run([str(SUITE), "--workers", str(workers), "--sandbox", args.sandbox, "--json",
                            "--out", str(out)], server, Path(folder))
                wall = time.monotonic() - started
            if done.returncode != 0:
                raise SystemExit(f"bench failed: {done.stderr[-2000:]}")
            overall = json.loads(done.stdout)["overall"]
            figures[workers] = {"wall": wall, "solved": overall["solved"], "tasks": overall["tasks"],
                                "task_seconds": overall["seconds"]}
            print(f"workers {workers}: {wall:.1f} s wall for {overall['tasks']} tasks ({overall['solved']} solved; "
                  f"{overall['seconds']:.1f} s of task time), sandbox {args.sandbox}")
    most, one = max(figures), min(figures)
    if most != one:
        print(f"speed-up with {most} workers: {figures[one]['wall'] / figures[most]['wall']:.2f}x")
    return figures


if __name__ == "__main__":
    main()
