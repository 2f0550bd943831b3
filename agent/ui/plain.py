"""Plain lines, for pipes, CI logs and --json runs (where they go to stderr)."""
from __future__ import annotations

import re
from typing import TextIO

from ..core.words import named_failures, count_tests
from ..run import events as ev
from .closing import QUIET, summary_lines


def who(event) -> str:
    """"candidate K: " for events of one of several candidates."""
    return f"candidate {event.candidate}: " if getattr(event, "candidate", 0) else ""


def ranking_line(event: ev.CandidatesScored) -> str:
    scored = "; ".join(f"#{row.candidate} {row.passed} passed, {row.failed + row.errors} failing"
                       + ("" if row.honest else " (games the tests)")
                       + (" (stopped)" if row.state == "stopped" else "") for row in event.ranking)
    kept = ", ".join(f"#{candidate}" for candidate in event.kept) or "none"
    return f"iteration {event.iteration} scored: {scored}; going on from {kept}"


_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])|[\x00-\x08\x0b-\x1f\x7f]")


def plain_text(text: str) -> str:
    """Text for a log file or a pipe: terminal escapes (pip's colours, progress bars' cursor moves) removed."""
    return _ESCAPES.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _tests_line(event: ev.TestsRan) -> str:
    label = "baseline" if event.iteration == 0 else f"{who(event)}iteration {event.iteration}"
    counts = count_tests(event.summary)
    state = "GREEN" if event.green else "timed out" if event.timed_out else "red"
    names = "" if event.green else named_failures(event.failing, event.broken, event.hung)
    return f"[makegreen] {label}: tests {state} ({counts}{names}) in {event.seconds:.1f} s"


class PlainRenderer:
    def __init__(self, out: TextIO, show_result: bool = True) -> None:
        self._out = out
        self._show_result = show_result

    def _say(self, text: str) -> None:
        print(plain_text(text), file=self._out, flush=True)

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self._say(f"[makegreen] run {event.run_id}: model {event.model}, sandbox {event.sandbox}")
            if event.sandbox == "local":
                self._say("[makegreen] WARNING: --sandbox local runs model-written code on this machine, "
                          "unisolated")
        elif isinstance(event, ev.ModelUnlisted):
            self._say(f"[makegreen] WARNING: {event.text}")
        elif isinstance(event, ev.Status):
            self._say(f"[makegreen] {event.text}")
        elif isinstance(event, ev.TestsRan):
            self._say(_tests_line(event))
            if event.tampered:
                self._say(f"[makegreen] WARNING: the code under test changed {', '.join(event.tampered)} "
                          "while the tests ran; discarded")
        elif isinstance(event, ev.IterationStarted):
            self._say(f"[makegreen] iteration {event.iteration}/{event.max_iterations}: asking the model")
        elif isinstance(event, ev.ModelAnswered):
            tokens = event.usage.get("completion_tokens")
            self._say(f"[makegreen] {who(event)}model answered in {event.seconds:.1f} s"
                      + (f", {tokens} output tokens" if tokens else "")
                      + (f", {event.usage['reasoning_tokens']} of them thinking" if event.usage.get("reasoning_tokens")
                         else "")
                      + (f", ${event.cost_usd:.4f}" if event.cost_usd is not None else "")
                      + ("; thinking ran out of budget, the answer was asked for outright" if event.forced else ""))
        elif isinstance(event, ev.EditsApplied):
            self._say(f"[makegreen] {who(event)}edits: {len(event.changed)} file(s) changed"
                      + "".join(f"; refused {r.path}: {r.reason}" for r in event.refused)
                      + "".join(f"; SEARCH block {m.number} for {m.path} missed" for m in event.misses))
        elif isinstance(event, ev.Escalated):
            step = {"more-effort": f"thinking harder (effort {event.effort})",
                    "hotter": f"sampling more widely (temperature {event.temperature})",  # (records of earlier runs)
                    "work-through": "asking for the failing case worked through by hand", "fresh-start": "starting afresh",
                    "stop": "stopping early"}[event.action]
            self._say(f"[makegreen] {who(event)}no progress ({event.reason}): {step}")
        elif isinstance(event, ev.CandidatesScored):
            self._say(f"[makegreen] {ranking_line(event)}")
        elif isinstance(event, ev.Finished) and self._show_result and event.summary.status not in QUIET:
            for line in summary_lines(event.summary):
                self._say(line)
            if event.summary.diff:
                self._say(event.summary.diff.rstrip("\n"))
