"""What the loop reports as it goes. Renderers, the trajectory writer and the JSON summary consume these."""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .summary import RunSummary

if TYPE_CHECKING:
    from ..workspace.edits import Miss, Refusal


@dataclass(frozen=True)
class Event:
    pass


class Renderer(Protocol):
    """A consumer of events: the terminal, plain lines, the record (agent/ui/, trajectory.py)."""

    def __call__(self, event: Event) -> None:
        ...


@dataclass(frozen=True)
class RunStarted(Event):
    run_id: str
    root: str
    model: str
    sandbox: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class RunSettings(Event):
    """The settings the run used (the API key left out): what a replay needs to run it again."""

    settings: dict[str, Any]
    replay_of: str | None = None


@dataclass(frozen=True)
class Status(Event):
    """A step outside the loop proper: building the image, starting the container."""

    text: str


@dataclass(frozen=True)
class TestsRan(Event):
    iteration: int  # 0 is the baseline
    summary: dict[str, int]
    green: bool
    timed_out: bool
    seconds: float
    failing: tuple[str, ...]
    output: str = ""
    tampered: tuple[str, ...] = ()  # files the code under test changed at run time (discarded)
    candidate: int = 0  # which of --candidates N (1…N); 0 when there is one
    broken: tuple[str, ...] = ()  # test files that did not load (collection errors)
    hung: tuple[str, ...] = ()  # tests that were running when the timeout stopped the run

    __test__ = False


@dataclass(frozen=True)
class IterationStarted(Event):
    iteration: int
    max_iterations: int


@dataclass(frozen=True)
class ModelRequest(Event):
    iteration: int
    messages: tuple[dict[str, str], ...]
    candidate: int = 0  # which of --candidates N (1…N); 0 when there is one
    effort: str | None = None  # asked for, where it differs from the configured one
    temperature: float | None = None
    templates: tuple[str, ...] = ()  # which template made each message (prompts/<name>, or the user's own file)
    told: str = ""  # the part of the last message that says where the work stands (prompts/state.md), for `show`


@dataclass(frozen=True)
class ModelProgress(Event):
    """Sent while the answer streams; renderers throttle it themselves."""

    iteration: int
    phase: str  # waiting, thinking, writing, wrapping-up
    thinking_tokens: int
    answer_chars: int
    seconds: float
    tail: str = ""
    candidate: int = 0  # which of --candidates N (1…N); 0 when there is one


@dataclass(frozen=True)
class ModelAnswered(Event):
    iteration: int
    text: str
    thinking: str
    finish_reason: str | None
    usage: dict[str, int]
    seconds: float
    forced: bool = False  # thinking ran out of budget; the answer was asked for outright
    retries: int = 0
    cost_usd: float | None = None
    candidate: int = 0  # which of --candidates N (1…N); 0 when there is one
    stopped: bool = False  # reading stopped once the answer was complete (the expected file's block closed)


@dataclass(frozen=True)
class EditsApplied(Event):
    iteration: int
    changed: tuple[str, ...]
    refused: tuple[Refusal, ...] = ()
    misses: tuple[Miss, ...] = ()
    found: int = 0
    candidate: int = 0  # which of --candidates N (1…N); 0 when there is one
    diff: str = ""  # what this step's edits changed


@dataclass(frozen=True)
class Escalated(Event):
    """The run stopped making progress and changed course."""

    iteration: int
    action: str  # more-effort (or work-through, where the server has no effort; hotter in older records),
    # fresh-start, stop
    reason: str
    effort: str | None = None
    candidate: int = 0  # which of --candidates N (1…N); 0 when there is one
    temperature: float | None = None  # after hotter


@dataclass(frozen=True)
class Ranked:
    """One candidate's place in a round: its test counts, whether its result is honest, and its state."""

    candidate: int
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    honest: bool = True
    state: str = "open"  # open, green, stopped, contradiction


@dataclass(frozen=True)
class CandidatesScored(Event):
    """A round of candidates, scored by the tests: best first, and which ones debugging goes on from."""

    iteration: int
    ranking: tuple[Ranked, ...]
    kept: tuple[int, ...]


@dataclass(frozen=True)
class ModelUnlisted(Status):
    """The server does not list the model asked for, but answers for it (a server that answers under any name
    may not be serving the model the user believes they used): said once, at the start, and kept in the summary."""

    model: str = ""
    offered: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecondDraft(Status):
    """The first answer failed: the next request is the first one again in other words (prompts/draft.md). Kept
    in the record, so that a replay asks as the run did whatever the replaying model says of itself."""


@dataclass(frozen=True)
class Written(Event):
    """The change is in the user's files (every one in place): from here on, an interrupt must say so."""

    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finished(Event):
    summary: RunSummary = field(default_factory=RunSummary)


def from_record(record: dict[str, Any]) -> Event | None:
    """The event a record line holds (trajectory.jsonl), typed again, payloads included; None for a type this
    makegreen does not know (a record of a newer one) or a line missing what the event cannot do without.
    Fields it lacks take their defaults; unknown ones go."""
    from ..workspace.edits import Miss, Refusal

    kind = EVENTS.get(record.get("type", ""))
    if kind is None:
        return None
    hints = typing.get_type_hints(kind, {**globals(), "Miss": Miss, "Refusal": Refusal})
    payloads = {"refused": Refusal, "misses": Miss} if kind is EditsApplied else \
        {"ranking": Ranked} if kind is CandidatesScored else {}
    try:
        return kind(**_values(record, kind, hints, payloads))
    except (TypeError, AttributeError):  # a field the event needs is missing, or a payload is not one
        return None


def typed(records: list[dict[str, Any]]) -> list[Event]:
    """A record's lines as the events they were (lines this makegreen cannot read left out)."""
    return [event for record in records if (event := from_record(record)) is not None]


def _values(record: dict[str, Any], kind: type, hints: dict[str, Any], payloads: dict[str, type]) -> dict[str, Any]:
    values = {}
    for item in dataclasses.fields(kind):
        if item.name not in record:
            continue
        value, hint = record[item.name], hints[item.name]
        if kind is Finished:
            value = RunSummary.from_json(value)
        elif item.name in payloads:
            value = tuple(_payload(payloads[item.name], entry) for entry in value or ())
        elif typing.get_origin(hint) is tuple and isinstance(value, list):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        values[item.name] = value
    return values


def _payload(kind, entry: dict[str, Any]):
    names = {item.name for item in dataclasses.fields(kind)}
    return kind(**{key: value for key, value in entry.items() if key in names})


def _kinds(base: type) -> list[type]:
    return [found for kind in base.__subclasses__() for found in (kind, *_kinds(kind))]


EVENTS = {kind.__name__: kind for kind in _kinds(Event)}
