"""What makegreen's first request is worth on its own, and which of its parts cost the model: the first request of
each task, asked again in several shapes, the tests run on every answer.

    python3 benchmarks/first_request.py --base-url http://127.0.0.1:PORT/v1 --out FILE.jsonl [--runs DIR/runs]
                                        [--model NAME] [--temperature 0] [--draws 1] [--only 15_acronym ...]
                                        [--shapes sent plain ...]

The first request is this checkout's, built from the tests alone with a scripted model (no real answer needed),
or with --runs the one a `benchmarks/realmodel.py` run's records hold. Shapes: `sent` (the request as makegreen
sends it), `no-system` (its user message alone), `no-failures` (without the test results section, where it has
one), four that change one part of its shape each — `ask-first` (the ask before everything), `code-first` (the
implementation files before the test files), `no-headings` (no Markdown headings), `short-format` (the answer
format said in the model alone's one sentence) —, then `examples` (what the tests check said once more, call by
call, as `call → expected` lines, before the answer format), `plain` (the model alone's prompt: "Complete M so
that the tests in T pass", the stub, the tests) and `plain-examples` (that with the same lines before its format).
A server: `makegreen serve --local` prints one. Resumable: each answer is one line of FILE.jsonl, written as it
comes; a second start skips what is there. Printed: per shape, first answers green and tests passing, of the tests
run, and the output tokens.
"""
from __future__ import annotations

import argparse
import ast
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from benchmarks.realmodel import FENCE, TASKS, module_of, plain_prompt, task_files, tally  # noqa: E402

SHAPES = ("sent", "no-system", "no-failures", "ask-first", "code-first", "no-headings", "short-format", "examples",
          "plain", "plain-examples")
ASK = "Write the implementation so that these tests pass."


def sections(content: str) -> list[tuple[str | None, str]]:
    """A request's user message as (heading, body) pairs, split at its Markdown headings outside code blocks (the
    text before the first heading under None)."""
    found: list[tuple[str | None, str]] = []
    heading, lines, fenced = None, [], False
    for line in content.splitlines():
        if line.startswith(FENCE):
            fenced = not fenced
        if not fenced and line.startswith("# "):
            found.append((heading, "\n".join(lines).strip("\n")))
            heading, lines = line[2:], []
        else:
            lines.append(line)
    found.append((heading, "\n".join(lines).strip("\n")))
    return [(heading, body) for heading, body in found if heading is not None or body]


def recast(content: str, module: str, *, ask_first: bool = False, code_first: bool = False,
           headings: bool = True, short_format: bool = False) -> str | None:
    """The first request's user message with one part of its shape changed (None where it lacks the parts: the
    ask, a test files and an implementation files section): the ask before everything, the implementation before
    the tests, no Markdown headings, or the answer format said in the model alone's one sentence."""
    parts = sections(content)
    if ASK not in content or not any(h and h.startswith("Test files") for h, _ in parts) \
            or not any(h == "Implementation files" for h, _ in parts):
        return None
    parts = [(h, body.replace(ASK, "").strip("\n")) for h, body in parts]
    answer = [(h, body) for h, body in parts if h == "How to answer"]
    rest = [(h, body) for h, body in parts if h != "How to answer"]
    if code_first:
        rest.sort(key=lambda part: part[0] != "Implementation files")
    if short_format:
        answer = [(None, f"Answer with the complete new {module} in one {FENCE}python block.")]
    ordered = [(None, ASK), *rest, *answer] if ask_first else [*rest, (None, ASK), *answer]
    return "\n\n".join(f"# {h}\n\n{body}" if h and headings else body for h, body in ordered if body) + "\n"


_COMPARED = {"assertEqual": None, "assertIs": None, "assertCountEqual": None, "assertListEqual": None,
             "assertDictEqual": None, "assertAlmostEqual": None, "assertTrue": "True", "assertFalse": "False",
             "assertIsNone": "None"}


def examples(source: str) -> list[str]:
    """What a test file checks, call by call: `call → expected` for each equality a test asserts (`assert a == b`,
    `assert a is b`, the unittest comparisons), `call raises E` for pytest.raises and assertRaises blocks; a check
    whose call uses the test's own parameters (a parametrized case) says nothing on its own and is left out."""
    found: list[str] = []

    def add(line: str) -> None:
        if line not in found:
            found.append(line)

    for test in ast.walk(ast.parse(source)):
        if not isinstance(test, ast.FunctionDef) or not test.name.startswith("test"):
            continue
        own = {arg.arg for arg in test.args.args} - {"self"}
        for node in ast.walk(test):
            if {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} & own:
                continue
            if isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare) and len(node.test.ops) == 1 \
                    and isinstance(node.test.ops[0], (ast.Eq, ast.Is)):
                add(f"{ast.unparse(node.test.left)} → {ast.unparse(node.test.comparators[0])}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args \
                    and node.func.attr in _COMPARED:
                expected = _COMPARED[node.func.attr]
                if expected is None and len(node.args) < 2:
                    continue
                add(f"{ast.unparse(node.args[0])} → {expected or ast.unparse(node.args[1])}")
            elif isinstance(node, ast.With):
                for item in node.items:
                    call = item.context_expr
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.args \
                            and call.func.attr in ("raises", "assertRaises", "assertRaisesRegex"):
                        for statement in node.body:
                            if isinstance(statement, ast.Expr):
                                add(f"{ast.unparse(statement.value)} raises {ast.unparse(call.args[0])}")
    return found


def shapes(task: Path, sent: list[dict]) -> dict[str, list[dict]]:
    """The first request in each shape (no-failures only where the request has a test results section; the four
    shape changes only where it has the parts they move)."""
    _, module, _ = task_files(task)
    user = sent[-1]
    content = user["content"]
    found = {"sent": sent, "no-system": [user]}
    start, ask = content.find("# Test results"), content.find(ASK)
    if 0 <= start < ask:
        found["no-failures"] = [*sent[:-1], {"role": "user", "content": content[:start] + content[ask:]}]
    for shape, change in (("ask-first", {"ask_first": True}), ("code-first", {"code_first": True}),
                          ("no-headings", {"headings": False}), ("short-format", {"short_format": True})):
        recast_content = recast(content, module, **change)
        if recast_content is not None:
            found[shape] = [*sent[:-1], {"role": "user", "content": recast_content}]
    said = examples((task / task_files(task)[2]).read_text())
    at = content.find("# How to answer")
    if said and at > 0:
        table = "# What the tests check, call by call\n\n" + "\n".join(said) + "\n\n"
        found["examples"] = [*sent[:-1], {"role": "user", "content": content[:at] + table + content[at:]}]
    found["plain"] = [{"role": "user", "content": plain_prompt(task)}]
    if said:
        plain = plain_prompt(task)
        at = plain.rindex("\n\nAnswer with")
        lines = "\n\nWhat the tests check, call by call:\n\n" + "\n".join(said)
        found["plain-examples"] = [{"role": "user", "content": plain[:at] + lines + plain[at:]}]
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


def built_request(task: Path) -> list[dict]:
    """The first request this checkout's makegreen sends for task from the tests alone (the stub and its tests in a
    fresh repository, no message), taken from a scripted model: no real model's answer is needed to build it."""
    from benchmarks.prompt_size import scripted_solve

    _, requests = scripted_solve(task, ROOT, 1)
    if not requests:
        raise SystemExit(f"makegreen sent no request for {task.name}")
    return [{"role": m["role"], "content": m["content"]} for m in requests[0]["messages"]]


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
    parser.add_argument("--runs", type=Path, help="a realmodel run's runs/ folder (default: build each first "
                                                  "request with this checkout's makegreen)")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--draws", type=int, default=1)
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--shapes", nargs="*", choices=SHAPES, help="the shapes to ask (default: all)")
    parser.add_argument("--tasks", type=Path, default=TASKS)
    args = parser.parse_args(argv)

    import openai

    client = openai.OpenAI(base_url=args.base_url, api_key="unused", timeout=900, max_retries=0)
    records = [json.loads(line) for line in args.out.read_text().splitlines()] if args.out.exists() else []
    done = {(r["task"], r["shape"], r["draw"]) for r in records}
    for task in sorted(p for p in args.tasks.iterdir() if p.is_dir() and (not args.only or p.name in args.only)):
        sent = first_request(args.runs, task) if args.runs is not None else built_request(task)
        if sent is None:
            continue
        _, module, _ = task_files(task)
        for shape, messages in shapes(task, sent).items():
            if args.shapes and shape not in args.shapes:
                continue
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
