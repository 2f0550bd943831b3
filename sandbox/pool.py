"""Warm containers: a run's container, once the run is over, is parked for the next run of the same project
image and limits, so that the hook's everyday green run is one exec, not a container start.

A parked container is named `makegreen-idle-<key>-<expiry>-<random>`: key is the image and the limits it was made
with, expiry the time after which any run removes it. A run takes one by renaming it to its own name (the name
says who owns it, as a new container's does) and then by making `/.makegreen-claim` in it, which only one can do;
then, as root, everything of the last run goes: its processes, the workspace, the temporary folders and every file
the test user owns anywhere. The containment is the container's own: network off, capabilities dropped, limits,
a read-only workspace — the same for a new and a parked one. Off with `MAKEGREEN_WARM=0` (or `warm = false` in
the user's config); `makegreen sandbox prune` removes the parked ones.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

IDLE = "makegreen-idle-"
CLAIM = "/.makegreen-claim"
TTL = 600  # seconds a parked container waits for the next run before any run may remove it
SIZE = 2  # parked containers at most per key: a third run's container is removed instead

# As root, once claimed: end whatever the test user left running, then empty the workspace, the temporary folders
# and every file the test user owns (it can write nowhere else), so nothing of the last run reaches this one.
KILL = ('for p in /proc/[0-9]*; do [ "$(stat -c %u "$p" 2>/dev/null)" = {uid} ] && kill -9 "${{p#/proc/}}" '
        '2>/dev/null; done; ')
WIPE = (KILL +
        "rm -rf /workspace /tmp/* /tmp/.[!.]* /var/tmp/* /var/tmp/.[!.]* /dev/shm/* /dev/shm/.[!.]* 2>/dev/null; "
        "find / -xdev \\( -path /proc -o -path /sys \\) -prune -o -user {uid} -print0 2>/dev/null "
        "| xargs -0 -r rm -rf 2>/dev/null; mkdir -p /workspace; true")


def key(image_id: str, limits: Any) -> str:
    """What a parked container must match to be taken: the image and every limit it was created with."""
    made = (image_id, limits.memory, limits.cpus, limits.pids, limits.tmp_size, limits.user)
    return hashlib.sha256(repr(made).encode()).hexdigest()[:12]


def idle_name(pool_key: str, now: float | None = None) -> str:
    return f"{IDLE}{pool_key}-{int((now or time.time()) + TTL)}-{secrets.token_hex(4)}"


def expired(name: str, now: float | None = None) -> bool:
    """A parked container past its time (or one whose name makes no sense): any run may remove it."""
    try:
        return int(name[len(IDLE):].split("-")[1]) < (now or time.time())
    except (IndexError, ValueError):
        return True


def parked(client, pool_key: str) -> list[str]:
    """Names of the running containers parked under this key, newest first."""
    found = client.containers.list(sparse=True, filters={"name": f"{IDLE}{pool_key}-", "status": "running"})
    names = [(c.attrs.get("Names") or [""])[0].lstrip("/") for c in found]
    return sorted((n for n in names if n.startswith(f"{IDLE}{pool_key}-") and not expired(n)), reverse=True)


def take(client, pool_key: str, name: str, uid: str):
    """A parked container renamed to name, claimed and wiped; None where none could be had."""
    import docker.errors

    for idle in parked(client, pool_key):
        try:
            client.api.rename(idle, name)  # by its parked name: a second taker finds it gone
            container = client.containers.get(name)
            claimed = container.exec_run(["mkdir", CLAIM], user="0")
            if claimed.exit_code != 0:  # another run took it in the same instant, and holds the claim
                continue
            if container.name != name:  # renamed under us by the loser of that race: the name is ours again
                client.api.rename(container.id, name)
            wiped = container.exec_run(["sh", "-c", WIPE.format(uid=uid.split(":")[0])], user="0")
            if wiped.exit_code != 0:
                container.remove(force=True)
                continue
            return container
        except docker.errors.APIError:  # gone, taken, or being removed: try the next
            continue
    return None


def park(client, container, pool_key: str, uid: str) -> bool:
    """Park the container for the next run (its test user's processes ended, its claim given up); False where
    the pool is full or the container cannot be parked, and the caller removes it."""
    import docker.errors

    try:
        if len(parked(client, pool_key)) >= SIZE:
            return False
        done = container.exec_run(["sh", "-c", KILL.format(uid=uid.split(":")[0]) + f"rm -rf {CLAIM}"], user="0")
        if done.exit_code != 0:
            return False
        client.api.rename(container.id, idle_name(pool_key))
        return True
    except docker.errors.APIError:
        return False


def remove_parked(client, name: str) -> bool:
    """Remove a parked container by its parked name; False where a run took it meanwhile (or it is gone)."""
    import docker.errors

    try:
        client.api.remove_container(name, force=True)
        return True
    except docker.errors.APIError:  # renamed by a taker, gone, or being removed
        return False
