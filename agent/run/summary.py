"""What a run came to, as one typed value: the terminal, the record, `--json`, the hook, the Action and `bench` all
read a RunSummary. to_json() is `--json`'s object and the record's summary.json; from_json() reads one back
(a record of an older makegreen included: a key it lacks takes its default, a key this one does not know is
dropped)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from .status import Status

# set only where they apply: absent from the JSON otherwise
WHERE_THEY_APPLY = ("candidate", "message", "conflicts", "overwrote_uncommitted", "commit", "branch",
                    "model_warning")


@dataclass
class RunSummary:
    run_id: str = ""
    run_dir: str = ""  # the record's folder, relative to where makegreen ran
    model: str = ""
    sandbox: str = ""
    status: Status = Status.ERROR
    applied: bool = False  # the change is in the user's tree
    trust: str = "trusted"
    ignored_settings: list[str] = field(default_factory=list)  # a checkout's settings --untrusted did not obey
    refused: list[dict[str, str]] = field(default_factory=list)  # protected paths the model tried to write
    # what the loop came to (the best attempt's, where a run that is not green kept one)
    iterations: int = 0
    tests_before: dict[str, int] = field(default_factory=dict)
    tests: dict[str, int] = field(default_factory=dict)
    failing: list[str] = field(default_factory=list)
    turned_green: list[str] = field(default_factory=list)
    lost_tests: list[str] = field(default_factory=list)
    gaming: list[str] = field(default_factory=list)  # evidence of gaming: it kept the result red, or a step undone
    special_cases: list[str] = field(default_factory=list)  # values shared with the tests: a warning
    watched: list[str] = field(default_factory=list)  # what the code reached while the tests ran: a warning
    changed_files: list[str] = field(default_factory=list)
    diff: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    cost_usd: float | None = None
    reason: str = ""  # why a run that is not green stopped
    contradictions_confirmed: list[Any] = field(default_factory=list)
    holdout: dict[str, Any] | None = None
    overfitting: list[str] = field(default_factory=list)  # held-out tests that failed on code green on the rest
    model_seconds: float = 0.0
    sandbox_seconds: float = 0.0
    candidates: int = 1
    beam: int = 1
    seconds: float | None = None  # the whole run's wall time (none for a run killed before its end)
    candidate: int | None = None  # which candidate's answer it is, with several
    message: str | None = None
    conflicts: list[str] | None = None  # files changed while the run went: nothing applied
    overwrote_uncommitted: list[str] | None = None  # files whose uncommitted work the fix replaced (undo keeps it)
    commit: str | None = None
    branch: str | None = None
    model_warning: str | None = None  # the server does not list the model asked for, though it answered

    def to_json(self) -> dict[str, Any]:
        found = dataclasses.asdict(self)
        found["status"] = self.status.value
        return {key: value for key, value in found.items() if value is not None or key not in WHERE_THEY_APPLY}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> "RunSummary":
        known = {item.name for item in dataclasses.fields(cls)}
        data = data if isinstance(data, Mapping) else {}
        values = {key: value for key, value in data.items() if key in known}
        try:
            values["status"] = Status(values.get("status", Status.ERROR))
        except ValueError:  # a status this makegreen does not know
            values["status"] = Status.ERROR
        return cls(**values)

    def update(self, **values: Any) -> None:
        for key, value in values.items():
            if not hasattr(self, key):
                raise AttributeError(f"a run summary has no {key!r}")
            setattr(self, key, value)
