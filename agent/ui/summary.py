"""The closing summary in words, shared by both renderers."""
from __future__ import annotations

from typing import Any

from ..status import Status
from ..words import count_tests, plural

QUIET = (Status.ERROR, Status.INTERRUPTED)  # the CLI's error boundary says these in its own words

HEADLINES = {
    Status.GREEN: "GREEN: the tests pass",
    Status.ALREADY_GREEN: "Already green: nothing to do",
    Status.NOT_SOLVED: "Not solved within the iterations",
    Status.OUT_OF_BUDGET: "Stopped before overspending: not solved within the budget",
    Status.CONTRADICTION: "Stopped: the tests cannot all pass as written",
    Status.CONFLICT: "Solved, but not applied: your files changed meanwhile",
    Status.NOT_COMMITTED: "Solved and applied, but not committed",
}


TOKEN_NAMES = {"prompt_tokens": "prompt", "cached_tokens": "cached", "reasoning_tokens": "reasoning",
               "completion_tokens": "output (reasoning included)",
               "estimated": "answer(s) whose counts are estimates (the server sent none)"}


def headline(summary: dict[str, Any]) -> str:
    return HEADLINES.get(summary.get("status", ""), summary.get("status", ""))


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    tests = summary.get("tests") or {}
    rows = [
        ("result", headline(summary)),
        ("tests", count_tests(tests, "-")),
        ("iterations", str(summary.get("iterations", 0))),
        ("changed", ", ".join(summary.get("changed_files", [])) or "-"),
        ("applied", "yes" if summary.get("applied") else "no"),
        *([("commit", f"{summary['commit'][:12]} on {summary.get('branch')}")] if summary.get("commit") else []),
        ("time", f"{summary.get('seconds', 0):.1f} s (model {summary.get('model_seconds', 0):.1f} s, "
                 f"sandbox {summary.get('sandbox_seconds', 0):.1f} s"
                 + (", summed over the candidates)" if summary.get("candidates", 1) > 1 else ")")),
        ("tokens", ", ".join(f"{v} {TOKEN_NAMES.get(k, k)}" for k, v in summary.get("usage", {}).items()) or "-"),
        ("cost", "-" if summary.get("cost_usd") is None else f"${summary['cost_usd']:.4f}"),
        ("record", summary.get("run_dir", "-")),
    ]
    if summary.get("candidates", 1) > 1:
        rows.insert(3, ("candidates", f"{summary['candidates']}, beam {summary.get('beam', 1)}"
                        + (f"; the answer is candidate {summary['candidate']}'s" if summary.get("candidate") else "")))
    held = summary.get("holdout")
    if held and "passed" in held:
        kinds = [plural(held[key], word) for key, word in (("functions", "test function"), ("cases", "case"))
                 if held.get(key)]
        rows.append(("held out", f"{held['passed']} of {held['tests']} held-out tests pass on the first code "
                                 f"green on the rest ({' and '.join(kinds)} the model did not see until then)"))
    if summary.get("overfitting"):  # a warning where the final code is green: it saw those tests after
        rows.append(("overfitting", "; ".join(summary["overfitting"][:3])
                     + (" (the final code passes them, after they were shown)" if summary.get("status") == Status.GREEN
                        else "")))
    if summary.get("gaming"):
        rows.append(("gaming", "; ".join(summary["gaming"][:3])))
    if summary.get("lost_tests"):
        rows.append(("lost tests", "; ".join(summary["lost_tests"][:5])))
    if summary.get("special_cases"):  # a warning: values shared with the tests are not proof of gaming
        rows.append(("warning", "; ".join(summary["special_cases"][:5])
                     + " (compare with the tests' own values: review them; not enough to refuse the fix)"))
    if summary.get("overwrote_uncommitted") and summary.get("applied"):
        rows.append(("replaced", ", ".join(summary["overwrote_uncommitted"]) + " held uncommitted changes; "
                     f"`makegreen undo {summary.get('run_id', 'RUN')}` puts them back"))
    if summary.get("refused"):
        rows.append(("refused", "; ".join(item["path"] for item in summary["refused"][:8])
                     + " (protected: the model may not write them)"))
    if summary.get("ignored_settings"):
        rows.append(("not obeyed", "; ".join(summary["ignored_settings"]) + " (untrusted checkout)"))
    if summary.get("status") == Status.CONTRADICTION:
        rows.append(("the model says", summary.get("reason", "")))
        confirmed = summary.get("contradictions_confirmed") or []
        rows.append(("evidence", "\n\n".join(confirmed) if confirmed else "(none recorded)"))
    if summary.get("reason") and summary.get("status") in (Status.NOT_SOLVED, Status.OUT_OF_BUDGET):
        rows.append(("stopped", summary["reason"]))
    if summary.get("message"):
        rows.append(("note", summary["message"]))
    return rows


def summary_lines(summary: dict[str, Any]) -> list[str]:
    return [f"[makegreen] {key}: {value}" for key, value in summary_rows(summary)]
