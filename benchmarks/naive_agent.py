"""The floor makegreen's overhead is measured against (benchmarks/overhead.py): the simplest agent that does the
same job. It reads every file of the repository into one prompt, asks the model once, writes the files the answer
names, and runs the tests in a fresh `docker run --rm` each time — no sandbox hardening, no UI, no record.

    python3 benchmarks/naive_agent.py REPO IMAGE MAX_ROUNDS

Exit status 0 when the tests pass. The model is the one OPENAI_BASE_URL names, through the openai client.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BLOCK = re.compile(r"^(\S+\.py)\n```(?:python)?\n(.*?)```", re.S | re.M)


def run_tests(repo: Path, image: str) -> tuple[bool, str]:
    done = subprocess.run(["docker", "run", "--rm", "--network", "none", "-v", f"{repo}:/w", "-w", "/w", image,
                           "python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          capture_output=True, text=True)
    return done.returncode == 0, done.stdout[-4000:]


def main(repo: Path, image: str, rounds: int) -> int:
    passed, output = run_tests(repo, image)
    if passed:
        return 0
    import openai

    client = openai.OpenAI()
    files = "\n\n".join(f"{path.relative_to(repo)}\n```python\n{path.read_text()}```"
                        for path in sorted(repo.rglob("*.py")) if ".git" not in path.parts)
    messages = [{"role": "user", "content": f"Make these tests pass.\n\n{files}\n\nFailures:\n{output}"}]
    for _ in range(rounds):
        answer = client.chat.completions.create(model="naive", messages=messages).choices[0].message.content or ""
        for path, code in BLOCK.findall(answer):
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_text(code)
        passed, output = run_tests(repo, image)
        if passed:
            return 0
        messages += [{"role": "assistant", "content": answer}, {"role": "user", "content": f"Failures:\n{output}"}]
    return 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve(), sys.argv[2], int(sys.argv[3])))
