"""`makegreen replay RUN`: the recorded run again — its starting files, its settings, the same loop and a real
sandbox — with the recorded answers in place of the model (no request is sent), and where it departs from the
record."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..core.errors import BudgetExhausted, ConfigError
from ..core.protocols import Completion, Progress
from ..core.words import count_tests
from ..run import events as ev
from ..run.config import SANDBOXES, Settings
from ..run.trajectory import SNAPSHOT, load_snapshot, read_records

# settings that describe this machine or this invocation, not the run: a replay takes them from here
LOCAL = {"apply", "json", "commit", "branch", "serve", "base_url", "api_key", "show_thinking", "base_image",
         "timeout", "request_timeout", "trust", "sources", "ignored"}


class ReplayExhausted(BudgetExhausted):
    """The replay asked for more answers than the record holds: the run ends there, cleanly, like a spent budget."""


def _key(messages: Sequence[Mapping[str, str]], effort: str | None, temperature: float | None) -> str:
    """A request as the record knows it: the prompt and how it was asked (candidates differ in the latter)."""
    asked = [[dict(m) for m in messages], effort, temperature]
    return hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()


class ReplayModel:
    """Answers each request with the recorded answer to the same prompt; a prompt the record does not hold gets
    the next unused answer, and the difference is noted."""

    def __init__(self, records: list[dict], name: str) -> None:
        self.name = name
        # (prompt key, prompt, answer), in record order
        self.pairs: list[tuple[str, Sequence[Mapping[str, str]], ev.ModelAnswered]] = []
        pending: dict[tuple[int, int], ev.ModelRequest] = {}
        for event in ev.typed(records):
            if isinstance(event, ev.ModelRequest):
                pending[(event.iteration, event.candidate)] = event
            elif isinstance(event, ev.ModelAnswered) and (event.iteration, event.candidate) in pending:
                asked = pending.pop((event.iteration, event.candidate))
                self.pairs.append((_key(asked.messages, asked.effort, asked.temperature), asked.messages, event))
        self.used: set[int] = set()
        self.divergences: list[str] = []
        self._lock = threading.Lock()
        self._asked = 0

    # what the loop assumed of a model that did not say (before the protocol declared it), kept so that a replay
    # asks as the recorded run asked
    honours_effort = True
    honours_sampling = False

    def complete(self, messages: Sequence[Mapping[str, str]], on_progress: Callable[[Progress], None], *,
                 output_cap: int | None = None, effort: str | None = None,
                 temperature: float | None = None, until: Callable[[str], bool] | None = None) -> Completion:
        # until: the recorded answer is already what was read of it
        key = _key(messages, effort, temperature)
        with self._lock:
            self._asked += 1
            free = [index for index in range(len(self.pairs)) if index not in self.used]
            same = [index for index in free if self.pairs[index][0] == key]
            if not free:
                self.divergences.append(f"request {self._asked}: the record holds no more answers")
                raise ReplayExhausted(f"the record holds no more answers (the replay asked for answer "
                                      f"{self._asked}; it holds {len(self.pairs)})")
            chosen = same[0] if same else free[0]
            if not same:
                self.divergences.append(f"request {self._asked}: the prompt differs from the recorded one "
                                        f"({_first_difference(self.pairs[chosen][1], messages)}); "
                                        "answered with the next recorded answer")
            self.used.add(chosen)
        answer = self.pairs[chosen][2]
        on_progress(Progress("writing", 0, len(answer.text), 0.0))
        return Completion(text=answer.text, thinking=answer.thinking, finish_reason=answer.finish_reason,
                          usage=dict(answer.usage or {}), seconds=0.0, forced=answer.forced, retries=0,
                          stopped=answer.stopped)


def _first_difference(recorded: Sequence[Mapping[str, str]], now: Sequence[Mapping[str, str]]) -> str:
    if len(recorded) != len(now):
        return f"{len(recorded)} messages recorded, {len(now)} now"
    for index, (old, new) in enumerate(zip(recorded, now)):
        if old.get("content") != new.get("content"):
            a, b = old.get("content", ""), new.get("content", "")
            at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            line = a[:at].count("\n") + 1
            return f"message {index + 1} ({new.get('role')}), line {line}: {a[at:at + 40]!r} became {b[at:at + 40]!r}"
    return "roles differ"


def replay_settings(records: list[dict], current: Settings, sandbox: str | None) -> Settings:
    """The recorded run's settings, with what belongs to this machine and this invocation taken from here."""
    recorded = next((r["settings"] for r in records if r["type"] == "RunSettings"), None)
    if recorded is None:
        raise ConfigError("this record has no settings (written by an older makegreen): it cannot be replayed")
    if sandbox is not None and sandbox not in SANDBOXES:
        raise ConfigError(f"--sandbox must be one of {', '.join(SANDBOXES)}, not {sandbox!r}")
    names = {f.name for f in dataclasses.fields(Settings)}
    values = {key: value for key, value in recorded.items() if key in names and key not in LOCAL}
    values.update({key: tuple(values[key]) for key in ("protect", "unprotect") if key in values})
    values.update(apply=False, sandbox=sandbox or recorded.get("sandbox", current.sandbox),
                  base_image=current.base_image, request_timeout=current.request_timeout, trust=current.trust)
    if values.get("second_draft", "auto") == "auto":  # decided by what the recorded model said of itself: as it went
        values["second_draft"] = "on" if any(r["type"] == "SecondDraft" for r in records) else "off"
    return dataclasses.replace(Settings(), **values)


def tests_ran(records: list[dict]) -> dict[tuple[int, int], tuple[dict, bool]]:
    return {(event.iteration, event.candidate): (event.summary, event.green) for event in ev.typed(records)
            if isinstance(event, ev.TestsRan)}


def compare(recorded: list[dict], replayed: list[dict]) -> list[str]:
    """Where the replay's test runs and result depart from the record's."""
    found = []
    old, new = tests_ran(recorded), tests_ran(replayed)
    # with candidates, which of them finished a test run before the first green cancelled the rest is a matter
    # of timing: in the last iteration, a run on one side only is not a difference
    last = max((key[0] for key in old.keys() | new.keys() if key[1]), default=None)
    for key in sorted(old.keys() | new.keys()):
        where = f"iteration {key[0]}" + (f", candidate {key[1]}" if key[1] else "")
        if key[1] and key[0] == last and (key in old) != (key in new):
            continue
        if key not in new:
            found.append(f"{where}: the record ran the tests ({_counts(old[key][0])}), the replay did not")
        elif key not in old:
            found.append(f"{where}: the replay ran the tests ({_counts(new[key][0])}), the record did not")
        elif old[key] != new[key]:
            found.append(f"{where}: the record says {_counts(old[key][0])}, the replay {_counts(new[key][0])}")
    end = [next((event.summary for event in reversed(ev.typed(records)) if isinstance(event, ev.Finished)), None)
           for records in (recorded, replayed)]
    for key in ("status", "iterations"):
        was, now = (getattr(summary, key, None) for summary in end)
        if was != now:
            found.append(f"{key}: the record ended {_plain(was)!r}, the replay {_plain(now)!r}")
    return found


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)  # a Status as the word the record holds


def _counts(summary: dict[str, int]) -> str:
    return count_tests(summary, "no tests")


def replay(run: Path, root: Path, current: Settings, sandbox: str | None, emit) -> dict[str, Any]:
    """Run the record again; the replay's summary, with `replay_of`, `divergences` and `reproduced`."""
    from ..run.session import run_solve

    records = read_records(run)
    if not (run / SNAPSHOT).is_file():
        raise ConfigError(f"{run} holds no {SNAPSHOT} (the tree was too large, or an older makegreen wrote it): "
                          "it cannot be replayed")
    settings = replay_settings(records, current, sandbox)
    started = next(r for r in records if r["type"] == "RunStarted")
    model = ReplayModel(records, settings.model)
    with tempfile.TemporaryDirectory(prefix="makegreen-replay-") as folder:
        load_snapshot(run, Path(folder))
        summary = run_solve(settings, Path(folder), tuple(started.get("targets") or ()), emit, record_root=root,
                            replay_model=model, replay_of=started.get("run_id", run.name))
    replayed = read_records(Path(os.path.abspath(summary.run_dir)))  # relative to where makegreen runs
    divergences = model.divergences + compare(records, replayed)
    return {**summary.to_json(), "replay_of": started.get("run_id", run.name), "divergences": divergences,
            "reproduced": not divergences}
