"""Does the prompt grow with the repository? The same task, in a small repo and padded with 200 unrelated modules.

    python3 benchmarks/context_size.py [--padding 200]

Solves examples/inventory against the scripted model (local sandbox) in both repos and prints the size of the
first request in each, their ratio (target ≤ 1.3), and whether every file the reference solution touches was in
the prompt (target: always).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import make_repo  # noqa: E402
from tests.scripted_server import Reply, ScriptedServer  # noqa: E402

ANSWER = ROOT / "tests" / "answers" / "inventory.md"
TOUCHED = ("src/inventory/models.py", "src/inventory/store.py")  # what the reference solution writes


def unrelated_module(n: int) -> str:
    """A plausible module of its own: classes and functions that share nothing with the task."""
    return (f'"""Billing rule set {n}."""\nimport math\n\nRATE_{n} = {n / 100}\n\n\n'
            f"class Ledger{n}:\n    def __init__(self, opening):\n        self.balance = opening\n\n"
            f"    def post(self, amount, memo=''):\n        self.balance += amount * RATE_{n}\n        return self\n\n"
            f"    def audit(self):\n        return math.isclose(self.balance, round(self.balance, 2))\n\n\n"
            f"def reconcile_{n}(ledgers, tolerance=0.01):\n    return [l for l in ledgers if not l.audit()]\n")


def padded_files(count: int) -> dict[str, str]:
    files = {f"src/billing/rules_{n:03d}.py": unrelated_module(n) for n in range(count)}
    files["src/billing/__init__.py"] = ""
    files.update({f"tests/billing/test_rules_{n:03d}.py":
                  f"from billing.rules_{n:03d} import Ledger{n}\n\n\ndef test_post():\n"
                  f"    assert Ledger{n}(0).post(100).balance == {n}\n" for n in range(0, count, 20)})
    return files


def first_request(repo: Path) -> dict:
    with ScriptedServer([Reply(ANSWER.read_text())]) as server:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MAKEGREEN_"))},
               "OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "k", "MAKEGREEN_MODEL": "scripted-model",
               "PYTHONPATH": str(ROOT)}
        result = subprocess.run([sys.executable, "-m", "agent", "solve", "tests/test_models.py",
                                 "tests/test_store.py", "--json", "--sandbox", "local"],
                                cwd=repo, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"solve failed in {repo}: {result.stderr[-2000:]}")
        return server.chat_requests()[0]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--padding", type=int, default=200)
    args = parser.parse_args(argv)
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        small = make_repo(Path(folder) / "small", example="inventory")
        padded = make_repo(Path(folder) / "padded", padded_files(args.padding), example="inventory")
        for name, repo in (("small", small), ("padded", padded)):
            request = first_request(repo)
            text = "\n".join(m["content"] for m in request["messages"])
            figures[name] = {"chars": len(text), "tokens": len(text) // 4,
                             "touched_in_prompt": all(path in text for path in TOUCHED),
                             "unrelated_in_prompt": sum(f"rules_{n:03d}" in text for n in range(args.padding))}
    ratio = figures["padded"]["chars"] / figures["small"]["chars"]
    for name, row in figures.items():
        print(f"{name:<7} first request {row['chars']:>7} chars (~{row['tokens']} tokens); files the solution "
              f"touches all in the prompt: {row['touched_in_prompt']}; unrelated modules named: "
              f"{row['unrelated_in_prompt']}")
    print(f"ratio padded/small: {ratio:.2f} (target <= 1.3), {args.padding} unrelated modules")
    figures["ratio"] = ratio
    return figures


if __name__ == "__main__":
    main()
