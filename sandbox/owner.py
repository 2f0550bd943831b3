"""Who owns a container or a temporary folder: the host, the process and the process's start time, so that
clean-up removes what belongs to a dead run and never what a live one (another terminal, a hook, a bench worker,
a CI job on the same engine) is using. A process id alone is not enough: ids are reused.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path


def process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), or "" where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # the command name (field 2) may hold spaces and parentheses: count fields after its closing ")"
    return stat[stat.rindex(")") + 2:].split()[19]


def host_id() -> str:
    """This host, short and safe in a file name."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    started: str

    @classmethod
    def me(cls) -> "Owner":
        return cls(host_id(), os.getpid(), process_start(os.getpid()))

    def alive(self) -> bool | None:
        """Whether the owning process still runs; None when it ran on another host (it cannot be told here)."""
        if self.host != host_id():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # another user's process, running
            pass
        # the same id, started at another time: the owner died and its id went to a new process
        return not (self.started and process_start(self.pid) not in ("", self.started))

    def tag(self) -> str:
        return f"{self.host}-{self.pid}-{self.started or 0}"

    @classmethod
    def from_tag(cls, tag: str) -> "Owner | None":
        found = re.fullmatch(r"([0-9a-f]{8})-(\d+)-(\d+)", tag)
        if not found:
            return None
        return cls(found[1], int(found[2]), "" if found[3] == "0" else found[3])


def owned_tempdir(prefix: str, folder: Path | None = None) -> Path:
    """A new temporary folder (in folder, or the system's) whose name says who owns it:
    `<prefix><owner tag>-<random>`."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{Owner.me().tag()}-", dir=folder))


def remove_dead_tempdirs(prefix: str, folder: str | None = None) -> list[Path]:
    """Remove the temporary folders named by owned_tempdir whose owner is dead (a run killed with SIGKILL cannot
    clean up after itself; the next run does)."""
    removed = []
    base = Path(folder or tempfile.gettempdir())
    try:
        entries = list(base.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix) or not entry.is_dir():
            continue
        owner = Owner.from_tag(entry.name[len(prefix):].rsplit("-", 1)[0])
        if owner is not None and owner.alive() is False:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
