"""The boundaries of the loop. Implementations need not inherit from these; they only need the shape."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Protocol, Sequence

from sandbox import RunResult

from .events import Event


@dataclass(frozen=True)
class Progress:
    phase: str  # waiting, thinking, writing
    thinking_chars: int
    answer_chars: int
    seconds: float


@dataclass(frozen=True)
class Completion:
    text: str  # the answer, thinking removed
    thinking: str = ""
    finish_reason: str | None = None
    usage: Mapping[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class Model(Protocol):
    name: str

    def complete(self, messages: Sequence[Mapping[str, str]], on_progress: Callable[[Progress], None]) -> Completion:
        ...


class Sandbox(Protocol):
    kind: str

    def start(self, files: Mapping[str, bytes]) -> None:
        ...

    def sync(self, changes: Mapping[str, bytes | None]) -> None:
        ...

    def run_tests(self, targets: Sequence[str], timeout: float) -> RunResult:
        ...

    def close(self) -> None:
        ...


class Renderer(Protocol):
    def __call__(self, event: Event) -> None:
        ...
