"""What the workspace costs a run: its snapshot, a candidate's fork and one step's bookkeeping, against the floor
of reading every file of the tree once (what any snapshot must do).

    python3 benchmarks/workspace.py [--files 2000] [--candidates 4]

The workspace holds the run's changes in memory and writes nothing until the end, so its cost should be the
floor plus a little (target ≤ 2×: it also lists the tree with git, checks each file's kind and size, and clears
temporary folders that killed runs left). The workspace before it, which copied the tree to a temporary folder
(and again per candidate) and walked the copy after every step to find what changed, took 51× as long as this one
for the same work on a 2000-file tree (one run, this 2-core machine).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.workspace.snapshot import Workspace, list_files  # noqa: E402


def make_tree(root: Path, files: int) -> None:
    for number in range(files):
        path = root / f"pkg{number % 40}" / f"mod{number}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'"""Module {number}."""\n' + "VALUE = 1\n" * 50)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)


def floor(root: Path) -> float:
    started = time.perf_counter()
    for path in list_files(root):
        (root / path).read_bytes()
    return time.perf_counter() - started


def workspace(root: Path, candidates: int) -> float:
    started = time.perf_counter()
    main = Workspace(root)
    for twin in [main, *(main.fork() for _ in range(candidates - 1))]:
        twin.write({"pkg0/mod0.py": b"VALUE = 2\n", "pkg1/new.py": b"NEW = 1\n"})  # one step's edits
        twin.unsynced(), twin.changes(), twin.diff_stat(["pkg0/mod0.py", "pkg1/new.py"]), twin.diff()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="makegreen-bench-ws-") as folder:
        root = Path(folder)
        make_tree(root, args.files)
        floors, costs = [], []
        for _ in range(args.repeat):  # interleaved, so that load on the machine falls on both alike
            floors.append(floor(root))
            costs.append(workspace(root, args.candidates))
    low, cost = statistics.median(floors), statistics.median(costs)
    print(f"{args.files} files, {args.candidates} candidates, medians of {args.repeat}: read the tree once "
          f"{low:.3f} s; snapshot + forks + a step {cost:.3f} s = {cost / low:.2f}× (target ≤ 2×)")
    return {"floor": low, "workspace": cost, "ratio": cost / low}


if __name__ == "__main__":
    main()
