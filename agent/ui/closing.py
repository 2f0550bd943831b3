"""The closing summary in words, shared by both renderers."""
from __future__ import annotations

from ..core.words import count_tests, plural
from ..run.status import Status
from ..run.summary import RunSummary

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


def headline(summary: RunSummary) -> str:
    return HEADLINES.get(summary.status, summary.status.value)


def summary_rows(summary: RunSummary) -> list[tuple[str, str]]:
    rows = [
        ("result", headline(summary)),
        ("tests", count_tests(summary.tests, "-")),
        ("iterations", str(summary.iterations)),
        ("changed", ", ".join(summary.changed_files) or "-"),
        ("applied", "yes" if summary.applied else "no"),
        *([("commit", f"{summary.commit[:12]} on {summary.branch}")] if summary.commit else []),
        ("time", f"{summary.seconds or 0:.1f} s (model {summary.model_seconds:.1f} s, "
                 f"sandbox {summary.sandbox_seconds:.1f} s"
                 + (", summed over the candidates)" if summary.candidates > 1 else ")")),
        ("tokens", ", ".join(f"{v} {TOKEN_NAMES.get(k, k)}" for k, v in summary.usage.items()) or "-"),
        ("cost", "-" if summary.cost_usd is None else f"${summary.cost_usd:.4f}"),
        ("record", summary.run_dir or "-"),
    ]
    if summary.candidates > 1:
        rows.insert(3, ("candidates", f"{summary.candidates}, beam {summary.beam}"
                        + (f"; the answer is candidate {summary.candidate}'s" if summary.candidate else "")))
    return rows + _warnings(summary) + _endings(summary)


def _warnings(summary: RunSummary) -> list[tuple[str, str]]:
    rows = []
    held = summary.holdout
    if held and "passed" in held:
        kinds = [plural(held[key], word) for key, word in (("functions", "test function"), ("cases", "case"))
                 if held.get(key)]
        rows.append(("held out", f"{held['passed']} of {held['tests']} held-out tests pass on the first code "
                                 f"green on the rest ({' and '.join(kinds)} the model did not see until then)"))
    if summary.model_warning:
        rows.append(("model", summary.model_warning))
    if summary.overfitting:  # a warning where the final code is green: it saw those tests after
        rows.append(("overfitting", "; ".join(summary.overfitting[:3])
                     + (" (the final code passes them, after they were shown)" if summary.status == Status.GREEN
                        else "")))
    if summary.gaming:
        rows.append(("gaming", "; ".join(summary.gaming[:3])))
    if summary.lost_tests:
        rows.append(("lost tests", "; ".join(summary.lost_tests[:5])))
    if summary.special_cases:  # a warning: values shared with the tests are not proof of gaming
        rows.append(("warning", "; ".join(summary.special_cases[:5])
                     + " (compare with the tests' own values: review them; not enough to refuse the fix)"))
    if summary.watched:  # a warning: nothing of the tests was reached, but what was could have been
        rows.append(("watched", "; ".join(summary.watched[:3])))
    if summary.overwrote_uncommitted and summary.applied:
        rows.append(("replaced", ", ".join(summary.overwrote_uncommitted) + " held uncommitted changes; "
                     f"`makegreen undo {summary.run_id or 'RUN'}` puts them back"))
    if summary.refused:
        rows.append(("refused", "; ".join(item["path"] for item in summary.refused[:8])
                     + " (protected: the model may not write them)"))
    if summary.ignored_settings:
        rows.append(("not obeyed", "; ".join(summary.ignored_settings) + " (untrusted checkout)"))
    return rows


def _endings(summary: RunSummary) -> list[tuple[str, str]]:
    rows = []
    if summary.status == Status.CONTRADICTION:
        rows.append(("the model says", summary.reason))
        confirmed = summary.contradictions_confirmed
        rows.append(("evidence", "\n\n".join(confirmed) if confirmed else "(none recorded)"))
    if summary.reason and summary.status in (Status.NOT_SOLVED, Status.OUT_OF_BUDGET):
        rows.append(("stopped", summary.reason))
    if summary.message:
        rows.append(("note", summary.message))
    return rows


def summary_lines(summary: RunSummary) -> list[str]:
    return [f"[makegreen] {key}: {value}" for key, value in summary_rows(summary)]
