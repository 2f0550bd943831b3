"""What makegreen's fix request is worth where a run came closest: for each task of a realmodel.py run, the fix
request its makegreen agent sent showing the best code of the run (the most tests passing), asked again in two
shapes, greedily and then in samples, the tests run on every answer.

    python3 benchmarks/fix_request.py --runs DIR/runs --base-url http://127.0.0.1:PORT/v1 --out FILE.jsonl
                                      [--draws 4] [--temperature 0.8] [--only 19_luhn ...] [--shapes sent focus]

Shapes: `sent` (the request as makegreen sent it: the tests, the code, the earlier attempts, the failures, the
format) and `focus` (the system message, then the code and its failures alone, asked in the model alone's one
sentence: no test files, no history, no headings). Draw 0 is greedy, the others at --temperature. Resumable: each
answer is one line of FILE.jsonl, written as it comes. Printed per shape: answers, those passing more tests than
the code shown, those green, those that wrote the code shown again, and the output tokens.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from benchmarks.first_request import sections, tested  # noqa: E402
from benchmarks.realmodel import FENCE, TASKS, module_of, task_files  # noqa: E402

SHAPES = ("sent", "focus")
_FAILED = re.compile(r"^## (\S+) FAILED$", re.MULTILINE)


def shown_code(content: str, module: str) -> str | None:
    """The module as a fix request's implementation section shows it (None where it shows none)."""
    for heading, body in sections(content):
        if heading == "Implementation files":
            found = re.search(rf"^{re.escape(module)}\n(`{{3,}})[^\n]*\n(.*?)^\1$", body, re.MULTILINE | re.DOTALL)
            return found.group(2) if found else None
    return None


def failures(content: str) -> str | None:
    """The failures a fix request shows, each test's heading made a plain line (None where it shows none)."""
    for heading, body in sections(content):
        if heading and heading.startswith("Test results now"):
            start = body.find("## ")
            return _FAILED.sub(r"\1 failed:", body[start:]).strip() if start >= 0 else None
    return None


def best_request(runs: Path, task: Path) -> tuple[list[dict], str, int, int] | None:
    """(messages, code shown, tests it passes, tests run) for the fix request of task's makegreen records that shows
    the code passing the most tests (the first such), or None where they hold no fix request."""
    _, module, _ = task_files(task)
    best, scores = None, {}
    for trajectory in sorted(runs.glob(f"{task.name}-makegreen*/**/trajectory.jsonl")):
        for line in trajectory.read_text().splitlines():
            event = json.loads(line)
            if event.get("type") != "ModelRequest":
                continue
            content = event["messages"][-1]["content"]
            code = shown_code(content, module)
            if code is None or failures(content) is None:
                continue
            if code not in scores:
                scores[code] = tested(task, module, code)
            passed, total = scores[code]
            if best is None or passed > best[2]:
                best = (event["messages"], code, passed, total)
    return best


def shapes(task: Path, messages: list[dict], code: str) -> dict[str, list[dict]]:
    _, module, _ = task_files(task)
    said = failures(messages[-1]["content"])
    focus = (f"{module}\n{FENCE}python\n{code}{FENCE}\n\n{said}\n\nThe other tests pass. Change {module} so that the "
             f"failing tests pass too. Answer with the complete new {module} in one {FENCE}python block.\n")
    return {"sent": messages, "focus": [*messages[:-1], {"role": "user", "content": focus}]}


def summary(records: list[dict]) -> str:
    lines = ["| fix request | answers | passing more tests than the code shown | green | the code shown again | "
             "output tokens |", "|---|---|---|---|---|---|"]
    for shape in SHAPES:
        mine = [r for r in records if r["shape"] == shape]
        if mine:
            better = [r for r in mine if r["passed"] > r["base"]]
            lines.append(f"| {shape} | {len(mine)} | {len(better)} ({len({r['task'] for r in better})} tasks) | "
                         f"{sum(r['passed'] == r['total'] > 0 for r in mine)} | {sum(r['same'] for r in mine)} | "
                         f"{sum(r['output_tokens'] for r in mine):,} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, required=True, help="a realmodel run's runs/ folder")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--draws", type=int, default=4)
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--shapes", nargs="*", choices=SHAPES, help="the shapes to ask (default: both)")
    parser.add_argument("--tasks", type=Path, default=TASKS)
    args = parser.parse_args(argv)

    import openai

    client = openai.OpenAI(base_url=args.base_url, api_key="unused", timeout=900, max_retries=0)
    records = [json.loads(line) for line in args.out.read_text().splitlines()] if args.out.exists() else []
    done = {(r["task"], r["shape"], r["draw"]) for r in records}
    for task in sorted(p for p in args.tasks.iterdir() if p.is_dir() and (not args.only or p.name in args.only)):
        found = best_request(args.runs, task)
        if found is None:
            continue
        messages, code, base, total = found
        if base == total:
            continue  # the code shown was green: nothing to fix
        _, module, _ = task_files(task)
        for shape, asked in shapes(task, messages, code).items():
            if args.shapes and shape not in args.shapes:
                continue
            for draw in range(args.draws):
                if (task.name, shape, draw) in done:
                    continue
                answer = client.chat.completions.create(model=args.model, messages=asked, max_tokens=1024,
                                                        temperature=0.0 if draw == 0 else args.temperature)
                text = answer.choices[0].message.content or ""
                written = module_of(text)
                passed, ran = tested(task, module, written)
                record = {"task": task.name, "shape": shape, "draw": draw, "base": base, "passed": passed,
                          "total": ran, "same": written is not None and written.strip() == code.strip(),
                          "output_tokens": answer.usage.completion_tokens if answer.usage else 0, "text": text}
                records.append(record)
                with open(args.out, "a") as handle:
                    handle.write(json.dumps(record) + "\n")
                print(f"{task.name:26} {shape:6} {draw} {base} -> {passed}/{ran}", flush=True)
    print(summary(records))
    return records


if __name__ == "__main__":
    main()
