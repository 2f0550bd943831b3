"""The boundaries of the loop: the model and the sandbox (a renderer of events: agent/run/events.py).
Implementations need not inherit from these; they only need the shape."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Protocol, Sequence

from sandbox import RunResult


@dataclass(frozen=True)
class Progress:
    phase: str  # waiting, thinking, writing, wrapping-up
    thinking_tokens: int  # counted by the server where it says, else estimated
    answer_chars: int
    seconds: float
    tail: str = ""  # the last few hundred characters of what is being written (thinking or answer)


@dataclass(frozen=True)
class Completion:
    text: str  # the answer, thinking removed
    thinking: str = ""
    finish_reason: str | None = None
    usage: Mapping[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    forced: bool = False  # thinking ran out of budget and the answer was asked for outright
    retries: int = 0  # requests repeated whole after a stream dropped half-way
    stopped: bool = False  # reading stopped once the answer was complete: nothing after it was generated


class Model(Protocol):
    name: str

    @property
    def honours_effort(self) -> bool:
        """Whether asking for more reasoning effort changes anything on this server (an API's reasoning model):
        where it does not, a stuck line is asked another question instead, and the answer's stream is read to
        its end (its cost comes only there)."""
        ...

    @property
    def honours_sampling(self) -> bool:
        """Whether a temperature reaches this server: where it does, a stuck line is sampled more widely."""
        ...

    def complete(self, messages: Sequence[Mapping[str, str]], on_progress: Callable[[Progress], None], *,
                 output_cap: int | None = None, effort: str | None = None,
                 temperature: float | None = None, until: Callable[[str], bool] | None = None) -> Completion:
        """The answer to messages; output_cap bounds its output tokens (a spending budget's remainder), effort
        overrides the configured reasoning effort (an escalation, a candidate's variation), temperature the
        configured sampling (a candidate's variation; ignored where the server refuses sampling); until, where
        given, says of the answer so far that it is complete: reading stops there, and so does the server."""
        ...


class Sandbox(Protocol):
    kind: str

    def start(self, files: Mapping[str, bytes]) -> None:
        ...

    def sync(self, changes: Mapping[str, bytes | None]) -> None:
        ...

    def run_tests(self, targets: Sequence[str], timeout: float) -> RunResult:
        ...

    def interrupt(self) -> None:
        """End a test run in progress (from another thread) now; the sandbox stays usable."""
        ...

    def close(self, park: bool = True) -> None:
        """End the sandbox: removed, or, where it keeps a warm pool and park holds (the run ended as it should),
        kept for the next run."""
        ...
