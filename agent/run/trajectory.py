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
        fields = dataclasses.asdict(event)
        if isinstance(event, ev.Finished):  # the summary as --json has it, here and in summary.json
            fields["summary"] = event.summary.to_json()
        self._write({"type": type(event).__name__, "time": self._clock(), **fields})
        if isinstance(event, ev.Finished):
            (self.folder / "summary.json").write_text(json.dumps(fields["summary"], indent=2, default=str) + "\n",
                                                      encoding="utf-8")

    def close(self) -> None:
        self._file.close()


SNAPSHOT = "snapshot.tar.gz"
SNAPSHOT_LIMIT = 50 * 1024 * 1024  # bytes of files; a larger tree is not kept (the record says so)


def save_snapshot(folder: Path, files: dict[str, bytes]) -> bool:
    """The files the run started from, beside the record, so that `makegreen replay` can run it again anywhere
    (a bug report can attach the folder). False when the tree is too large to keep."""
    import io
    import tarfile

    if sum(len(content) for content in files.values()) > SNAPSHOT_LIMIT:
        return False
    with tarfile.open(folder / SNAPSHOT, "w:gz") as archive:
        for path, content in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(content), 0o644, 0
            archive.addfile(info, io.BytesIO(content))
    return True


def load_snapshot(folder: Path, into: Path) -> None:
    import tarfile

    with tarfile.open(folder / SNAPSHOT, "r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile() or member.name.startswith(("/", "..")) or "/../" in member.name:
                continue  # only plain files inside the folder, whatever the archive says
            target = into / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.extractfile(member).read())


def read_records(folder: Path) -> list[dict]:
    """A run's records, oldest first; a record of a newer format is refused rather than misread."""
    import json

    from ..core.errors import ConfigError

    path = folder / "trajectory.jsonl"
    if not path.is_file():
        raise ConfigError(f"{folder} holds no trajectory.jsonl: not a makegreen run")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    version = next((r.get("version") for r in records if r.get("type") == "Header"), None)
    if version is not None and version > FORMAT_VERSION:
        raise ConfigError(f"{folder} was written by a newer makegreen (record format {version}; this one reads "
                          f"{FORMAT_VERSION}): upgrade makegreen to read it")
    return records
