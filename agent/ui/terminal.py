"""The live terminal view: one status line while the run goes, then a summary table and the diff."""
from __future__ import annotations

from rich.console import Console
from rich.live import Live
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ..core.words import named_failures, count_tests
from ..run import events as ev
from .closing import QUIET, headline, summary_rows
from .plain import who, ranking_line


class TerminalRenderer:
    def __init__(self, console: Console, show_thinking: bool = False) -> None:
        self._console = console
        self._show_thinking = show_thinking
        self._tail = ""
        self._live: Live | None = None
        self._iteration = "baseline"
        self._tests = Text("tests not run yet")
        self._model = ""

    def _refresh(self) -> None:
        line = Text.assemble((self._iteration, "bold"), "  ", self._tests, "  ", (self._model, "cyan"))
        if self._tail:
            line = Text.assemble(line, "\n", (self._tail, "dim"))
        if self._live is None:
            self._live = Live(line, console=self._console, refresh_per_second=8, transient=True)
            self._live.start()
        else:
            self._live.update(line, refresh=True)

    def _print(self, *renderables) -> None:
        if self._live is not None:
            self._live.console.print(*renderables)
        else:
            self._console.print(*renderables)

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self._print(Text(f"makegreen {event.run_id} · {event.model} · sandbox {event.sandbox}", style="dim"))
            if event.sandbox == "local":
                self._print(Text("WARNING: --sandbox local runs model-written code on this machine, unisolated.",
                                 style="bold red"))
        elif isinstance(event, ev.ModelUnlisted):
            self._print(Text(f"WARNING: {event.text}", style="bold yellow"))
        elif isinstance(event, ev.Status):
            self._print(Text(event.text, style="dim"))
        elif isinstance(event, ev.TestsRan):
            counts = count_tests(event.summary)
            style = "green" if event.green else "red"
            self._tests = Text(counts, style=style)
            label = "baseline" if event.iteration == 0 else f"{who(event)}iteration {event.iteration}"
            names = "" if event.green else named_failures(event.failing, event.broken, event.hung)
            timed_out = ", timed out" if event.timed_out else ""
            self._print(Text(f"{label}: {counts}{names} ({event.seconds:.1f} s{timed_out})", style=style))
            if event.tampered:
                self._print(Text(f"the code under test changed {', '.join(event.tampered)} while the tests ran; "
                                 "discarded", style="bold yellow"))
            self._refresh()
        elif isinstance(event, ev.IterationStarted):
            self._iteration = f"iteration {event.iteration}/{event.max_iterations}"
            self._model = "asking the model"
            self._refresh()
        elif isinstance(event, ev.ModelProgress):
            self._model = (f"{who(event)}{event.phase} {event.seconds:.0f} s · thinking {event.thinking_tokens} tok · "
                           f"answer {event.answer_chars // 4} tok")
            # the answer is always shown as it is written; the thinking only when asked for
            showing = event.phase == "writing" or self._show_thinking
            self._tail = " ".join(event.tail.split()[-40:]) if showing else ""
            self._refresh()
        elif isinstance(event, ev.ModelAnswered):
            self._tail = ""
            if event.forced:
                self._print(Text("thinking ran out of budget: the answer was asked for outright", style="yellow"))
        elif isinstance(event, ev.EditsApplied):
            for refusal in event.refused:
                self._print(Text(f"{who(event)}refused {refusal.path}: {refusal.reason}", style="yellow"))
            for miss in event.misses:
                self._print(Text(f"SEARCH block {miss.number} for {miss.path} did not match", style="yellow"))
            self._model = f"{who(event)}edited {', '.join(event.changed) or 'nothing'}"
            self._refresh()
        elif isinstance(event, ev.Escalated):
            self._print(Text(f"{who(event)}no progress ({event.reason}): {event.action}"
                             + (f", effort {event.effort}" if event.action == "more-effort" else "")
                             + (f", temperature {event.temperature}" if event.action == "hotter" else ""),
                             style="yellow"))
        elif isinstance(event, ev.CandidatesScored):
            self._print(Text(ranking_line(event), style="dim"))
        elif isinstance(event, ev.Finished):
            self.close()
            if event.summary.status in QUIET:
                return
            table = Table(title=headline(event.summary), show_header=False, title_justify="left")
            for key, value in summary_rows(event.summary):
                table.add_row(key, value)
            self._console.print(table)
            if event.summary.diff:
                self._console.print(Syntax(event.summary.diff, "diff", theme="ansi_dark", word_wrap=True))

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
