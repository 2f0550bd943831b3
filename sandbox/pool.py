"""Warm containers: a run's container, once the run is over, is parked for the next run of the same project
image and limits, so that the hook's everyday green run is one exec, not a container start.

A parked container is named `makegreen-idle-<key>-<expiry>-<random>`: key is the image and the limits it was
made with, expiry the time after which any run removes it. Parking is a rename: each test run ends every process
of the test user as it ends, and the test user can write only to the temporary folders, which each test run empties
before anything of its own runs (sandbox/container.py). A run takes a parked container by making a claim folder in
it, which only one run can do, emptying the workspace and unpacking its own files, all in one exec as root, then
renames it to its own name (the name says who holds it, as a new container's does). An interrupted or failed run
removes its container instead of parking it. The containment is the container's own — network off, capabilities
dropped, limits, a read-only root and workspace — the same for a new and a parked one. Off with
`MAKEGREEN_WARM=0` (or `warm = false` in the user's config); `makegreen sandbox prune` removes the parked ones.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from .engine import EngineError, remove_quietly, run

IDLE = "makegreen-idle-"
STATE = "/run/makegreen"  # root's own tmpfs in the container: the test user cannot write there
CLAIM = f"{STATE}/claim-"  # + the parked name it was taken under: one claim per parking
VERSION = 2  # of the container's making: containers parked by another version are never taken (they expire)
TTL = 600  # seconds a parked container waits for the next run before any run may remove it
MARGIN = 30  # seconds before its expiry when a parked container is no longer taken (another run may remove it)
SIZE = 2  # parked containers at most per key: a third run's container is removed instead


def key(image_id: str, limits: Any) -> str:
    """What a parked container must match to be taken: the image and every limit it was created with."""
    made = (VERSION, image_id, limits.memory, limits.cpus, limits.pids, limits.tmp_size, limits.user)
    return hashlib.sha256(repr(made).encode()).hexdigest()[:12]


def idle_name(pool_key: str, now: float | None = None) -> str:
    return f"{IDLE}{pool_key}-{int((now or time.time()) + TTL)}-{secrets.token_hex(4)}"


def expired(name: str, now: float | None = None) -> bool:
    """A parked container past its time (or one whose name makes no sense): any run may remove it."""
    try:
        return int(name[len(IDLE):].split("-")[1]) < (now or time.time())
    except (IndexError, ValueError):
        return True


def _parked(engine, pool_key: str) -> list[tuple[str, str]]:
    """(name, id) of the running containers parked under this key, not about to expire, newest first."""
    found = engine.containers({"name": [f"{IDLE}{pool_key}-"], "status": ["running"]})
    named = [((entry.get("Names") or [""])[0].lstrip("/"), entry["Id"]) for entry in found]
    soon = time.time() + MARGIN
    return sorted(((n, c) for n, c in named if n.startswith(f"{IDLE}{pool_key}-") and not expired(n, soon)),
                  key=lambda pair: pair[0], reverse=True)


def parked(engine, pool_key: str) -> list[str]:
    """Names of the containers parked under this key that a run may take."""
    return [name for name, _ in _parked(engine, pool_key)]


def claim_script(idle: str, workspace: str, unpack: str) -> list[str]:
    """The taker's exec, as root: the claim (exit 3: another run has it), the last run's workspace emptied, then
    the run's files from stdin, unpacked by the command unpack."""
    return ["sh", "-c", f"mkdir {CLAIM}{idle} || exit 3; rm -rf $(ls -d {CLAIM}* | grep -vx {CLAIM}{idle}) "
                        f"{workspace}/* {workspace}/.[!.]*; {unpack}"]


def take(engine, pool_key: str, name: str, archive: bytes, workspace: str, unpack: str) -> str | None:
    """The id of a parked container claimed, its workspace's files replaced by archive's (unpacked by the shell
    command unpack), and renamed to name; None where none could be had. The claim is made inside the container
    (a folder only one taker can make), not by renaming it: the engine renames a container twice over when two
    runs ask at once."""
    for idle, container in _parked(engine, pool_key):
        try:
            status = run(engine, container, claim_script(idle, workspace, unpack), "0", archive)
            if status == 3:  # another run took it first
                continue
            if status != 0:  # the files would not go in: nobody gets it
                remove_quietly(engine, container)
                continue
            engine.rename(container, name)  # from now on its name says who holds it
            return container
        except EngineError:  # gone, or being removed: try the next
            continue
    return None


def park(engine, container: str, pool_key: str) -> bool:
    """Park the container for the next run; False where the pool is full or the container cannot be parked, and
    the caller removes it."""
    try:
        if len(parked(engine, pool_key)) >= SIZE:
            return False
        engine.rename(container, idle_name(pool_key))
        return True
    except EngineError:
        return False


def remove_parked(engine, name: str) -> bool:
    """Remove a parked container by its parked name; False where a run took it meanwhile (or it is gone)."""
    try:
        return remove_quietly(engine, name)
    except EngineError:  # renamed by a taker, gone, or being removed
        return False
