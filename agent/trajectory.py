"""The run's record: one JSON line per event, written as it happens, and the final summary beside it."""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Callable

from . import events as ev

FORMAT_VERSION = 1


class TrajectoryWriter:
    """An event consumer. Streaming progress is left out: it says nothing that the answer does not."""

    def __init__(self, folder: Path, clock: Callable[[], float] = time.time) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._file = open(folder / "trajectory.jsonl", "a", encoding="utf-8")
        self._clock = clock
        self._write({"type": "Header", "version": FORMAT_VERSION})

    def _write(self, record: dict) -> None:
        self._file.write(json.dumps(record, default=str) + "\n")
        self._file.flush()

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.ModelProgress):
            return
        self._write({"type": type(event).__name__, "time": self._clock(), **dataclasses.asdict(event)})
        if isinstance(event, ev.Finished):
            (self.folder / "summary.json").write_text(json.dumps(event.summary, indent=2, default=str) + "\n",
                                                      encoding="utf-8")

    def close(self) -> None:
        self._file.close()
