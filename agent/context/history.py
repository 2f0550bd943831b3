"""Earlier attempts, summarised: what each changed and what then failed, so a long run's prompt stays flat."""
from __future__ import annotations

from sandbox import RunResult

from ..edits import EditOutcome
from ..prompting import render
from .failures import counts, distill

MARKER = "\n\n# Earlier attempts"


def attempt_summary(number: int, edits: EditOutcome, result: RunResult, diff_stat: str) -> str:
    failing = result.report.failing
    first = ""
    if failing:
        item = distill(failing[0])
        first = f" (first: {failing[0].nodeid}: {item.errors[0][:160]})"
    changed = (", ".join(edits.changed) + (f" ({diff_stat})" if diff_stat else "")) if edits.changed else "nothing"
    return render("attempt.md", number=number, changed=changed, counts=counts(result.report),
                  first_failure=first).rstrip("\n")


def summarised(messages: list[dict[str, str]], attempts: list[str]) -> list[dict[str, str]]:
    """System and the task, with these attempts summarised at the task's end."""
    task = messages[1]["content"].split(MARKER, 1)[0]
    summary = render("history.md", attempts="\n".join(attempts)).rstrip("\n") if attempts else ""
    return [messages[0], {**messages[1], "content": task + summary}]


def with_history(messages: list[dict[str, str]], attempts: list[str]) -> list[dict[str, str]]:
    """System, the task with every attempt but the latest summarised at its end, then the latest attempt whole."""
    if len(messages) <= 4:
        return messages
    return [*summarised(messages, attempts[:-1]), *messages[-2:]]
