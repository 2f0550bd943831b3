"""What the pre-commit hook costs on a green commit: `makegreen hook run --check` on examples/roman with the fix
staged, against the suite's own time in the sandbox.

    python3 benchmarks/hook_check.py [--repeat 5] [--sandbox docker|local]

Prints the median wall time of the hook, the median time pytest itself took (as the hook reports it), and the
difference: the hook's own cost (target: under 2 s, with the sandbox image cached). The Docker sandbox needs the
base image (MAKEGREEN_BASE_IMAGE, e.g. makegreen-base:offline).
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import ANSWERS, git, make_repo  # noqa: E402


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sandbox", default="docker", choices=("docker", "local"))
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GIT_"))}
    env.update(PYTHONPATH=str(ROOT), MAKEGREEN_SANDBOX=args.sandbox)
    walls, suites = [], []
    with tempfile.TemporaryDirectory() as folder:
        repo = make_repo(Path(folder) / "roman", example="roman")
        code = (ANSWERS / "roman.md").read_text().split("```python\n", 1)[1].rsplit("```", 1)[0]
        (repo / "roman.py").write_text(code)
        git(repo, "add", "roman.py")
        for _ in range(args.repeat + 1):  # the first builds or finds the image: not counted
            started = time.monotonic()
            done = subprocess.run([sys.executable, "-m", "agent", "hook", "run", "--check"], cwd=repo, env=env,
                                  capture_output=True, text=True)
            walls.append(time.monotonic() - started)
            found = re.search(r"; ([\d.]+) s\)", done.stdout)
            if done.returncode != 0 or not found:
                raise SystemExit(f"the hook did not pass: {done.stdout}{done.stderr}")
            suites.append(float(found[1]))
    wall, suite = statistics.median(walls[1:]), statistics.median(suites[1:])
    print(f"hook run --check, green, 18 tests, sandbox {args.sandbox}: median {wall:.2f} s wall over "
          f"{args.repeat} runs; pytest itself {suite:.2f} s; the hook's own cost {wall - suite:.2f} s "
          "(target < 2 s)")
    return {"wall": wall, "suite": suite, "overhead": wall - suite}


if __name__ == "__main__":
    main()
