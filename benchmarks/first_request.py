"""What makegreen's first request is worth on its own, and which of its parts cost the model: the first request of
each task, taken from a `benchmarks/realmodel.py` run's records, asked again in several shapes, the tests run on
every answer.

    python3 benchmarks/first_request.py --runs DIR/runs --base-url http://127.0.0.1:PORT/v1 --out FILE.jsonl
                                        [--model NAME] [--temperature 0] [--draws 1] [--only 15_acronym ...]

Shapes: `sent` (the request as makegreen sent it), `no-system` (its user message alone), `no-failures` (without
the test results section, where it has one), `plain` (the model alone's prompt: "Complete M so that the tests in T
pass", the stub, the tests). A server: `makegreen serve --local` prints one. Resumable: each answer is one line of
FILE.jsonl, written as it comes; a second start skips what is there. Printed: per shape, first answers green and
tests passing, of the tests run, and the output tokens.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.realmodel import TASKS, module_of, plain_prompt, task_files, tally  # noqa: E402

SHAPES = ("sent", "no-system", "no-failures", "plain")


def shapes(task: Path, sent: list[dict]) -> dict[str, list[dict]]:
    """The first request in each shape (no-failures only where the request has a test results section)."""
    user = sent[-1]
    found = {"sent": sent, "no-system": [user], "plain": [{"role": "user", "content": plain_prompt(task)}]}
    content = user["content"]
    start, ask = content.find("# Test results"), content.find("Write the implementation")
    if 0 <= start < ask:
        found["no-failures"] = [*sent[:-1], {"role": "user", "content": content[:start] + content[ask:]}]
    return found


def tested(task: Path, module: str, code: str | None) -> tuple[int, int]:
    """(tests passing, tests run) with the module as the answer wrote it (as the stub left it where none)."""
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(task, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("README.md", "__pycache__"))
        if code is not None:
            (Path(folder) / module).write_text(code)
        return tally(Path(folder))


def first_request(runs: Path, task: Path) -> list[dict] | None:
    """The first request makegreen sent for task in a realmodel run (its first makegreen agent's records)."""
    for trajectory in sorted(runs.glob(f"{task.name}-makegreen*/**/trajectory.jsonl")):
        for line in trajectory.read_text().splitlines():
            event = json.loads(line)
            if event.get("type") == "ModelRequest":
                return event["messages"]
    return None


def summary(records: list[dict]) -> str:
    lines = ["| first request | first answers green | tests passing | output tokens |", "|---|---|---|---|"]
    for shape in SHAPES:
        mine = [r for r in records if r["shape"] == shape]
        if mine:
            lines.append(f"| {shape} | {sum(r['passed'] == r['total'] > 0 for r in mine)} / {len(mine)} | "
                         f"{sum(r['passed'] for r in mine)} / {sum(r['total'] for r in mine)} | "
                         f"{sum(r['output_tokens'] for r in mine):,} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, required=True, help="a realmodel run's runs/ folder")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--draws", type=int, default=1)
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--tasks", type=Path, default=TASKS)
    args = parser.parse_args(argv)

    import openai

    client = openai.OpenAI(base_url=args.base_url, api_key="unused", timeout=900, max_retries=0)
    records = [json.loads(line) for line in args.out.read_text().splitlines()] if args.out.exists() else []
    done = {(r["task"], r["shape"], r["draw"]) for r in records}
    for task in sorted(p for p in args.tasks.iterdir() if p.is_dir() and (not args.only or p.name in args.only)):
        sent = first_request(args.runs, task)
        if sent is None:
            continue
        _, module, _ = task_files(task)
        for shape, messages in shapes(task, sent).items():
            for draw in range(args.draws):
                if (task.name, shape, draw) in done:
                    continue
                answer = client.chat.completions.create(model=args.model, messages=messages, max_tokens=1024,
                                                        temperature=args.temperature)
                text = answer.choices[0].message.content or ""
                passed, total = tested(task, module, module_of(text))  # as the model alone's
                record = {"task": task.name, "shape": shape, "draw": draw, "passed": passed, "total": total,
                          "output_tokens": answer.usage.completion_tokens if answer.usage else 0, "text": text}
                records.append(record)
                with open(args.out, "a") as handle:
                    handle.write(json.dumps(record) + "\n")
                print(f"{task.name:26} {shape:12} {passed}/{total}", flush=True)
    print(summary(records))
    return records


if __name__ == "__main__":
    main()
