"""The Docker sandbox: one warm container per run, tests run in it through exec; with warm=True the container is
taken from, and given back to, a small pool of parked ones (sandbox/pool.py).

The container's root filesystem is read-only: the test user can write only to the temporary folders (tmpfs, emptied
before each test run), never anywhere a later run would find. Files travel as tar archives on an exec's stdin,
unpacked by root into the workspace (a tmpfs too), owned by root and read-only to the unprivileged user that runs
the tests; no bind mounts. The network is off, capabilities dropped, privileges fixed, and memory, CPU and process
counts limited. The in-container timeout kills the run's whole process tree.
"""
from __future__ import annotations

import functools
import io
import os
import posixpath
import secrets
import shutil
import socket
import tarfile
import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from typing import Callable, Mapping, Sequence

from .base import RunResult, SandboxError, SandboxUnavailable, parse_size, pytest_argv, python_path
from .capture import CappedOutput
from .engine import EngineError, Spec, open_engine, remove_quietly, run
from .image import LABEL, PLUGIN_DIR
from .owner import Owner
from . import pool
from .results import parse_report

WORKDIR = "/workspace"
REPORT = "/tmp/.makegreen-report.jsonl"
STARTED = "/tmp/.makegreen-started"
CHANGED = "/tmp/.makegreen-changed"
SKEW = 3600  # files go in dated this far back, so a client clock ahead of the engine's raises no false alarm
KILL_GRACE = 5.0  # seconds after the timeout before the host gives up on the exec's stream
TEMPORARY = ("/tmp", "/var/tmp", "/dev/shm")  # where the test user can write: tmpfs, emptied before each run


@functools.cache
def run_script() -> str:
    """The shell script of one test run in the container (sandbox/run_tests.sh): empty the temporary folders, run
    the tests under a timeout with a fresh key on stdin, end what they left, list what they changed, and frame the
    results on stderr."""
    return resources.files("sandbox").joinpath("run_tests.sh").read_text(encoding="utf-8")


def unpack(size: int) -> str:
    """The shell command that unpacks an archive of size bytes from stdin into /, as root: by tar where the image
    has it, else by Python. It reads exactly size bytes: the stream need not be half-closed to end it, which a TLS
    or ssh connection to a remote engine cannot be."""
    return (f"head -c {size} | if command -v tar >/dev/null; then tar -xf - -C /; else python3 -c 'import sys, "
            "tarfile; tarfile.open(fileobj=sys.stdin.buffer, mode=\"r|\").extractall(\"/\")'; fi")


@dataclass(frozen=True)
class Limits:
    memory: str = "2g"
    cpus: float = 2.0
    pids: int = 512
    tmp_size: str = "512m"
    user: str = "65534:65534"  # nobody: a uid that owns nothing in the image
    output_bytes: int = 256 * 1024
    labels: Mapping[str, str] = field(default_factory=dict)


def connect(timeout: float = 120, environ: Mapping[str, str] | None = None):
    """The engine (sandbox/engine.py), once it has answered a ping, or SandboxUnavailable saying what is wrong and
    how to fix it."""
    environ = os.environ if environ is None else environ
    try:
        engine = open_engine(timeout, environ)
        engine.ping()
        return engine
    except Exception as exc:  # the SDK raises several unrelated types for "no engine"
        raise SandboxUnavailable(explain_unreachable(exc, environ)) from exc


def explain_unreachable(exc: BaseException, environ: Mapping[str, str]) -> str:
    """What a failed connection to the engine means, from the innermost cause, with the fix."""
    root = exc
    while root.__cause__ is not None or root.__context__ is not None:
        root = root.__cause__ or root.__context__
    host = environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    local = " Or run with --sandbox local (no isolation)."
    if isinstance(root, PermissionError):
        return (f"Docker is installed but this user may not use it ({host}: permission denied). Add yourself to "
                f"the docker group (sudo usermod -aG docker $USER, then log in again), or use rootless Docker.{local}")
    if isinstance(root, (FileNotFoundError, ConnectionRefusedError)):
        installed = any(shutil.which(name, path=environ.get("PATH")) for name in ("dockerd", "docker"))
        if not installed:
            return ("Docker is not installed. Install Docker Engine (Debian and Ubuntu: apt-get install docker.io) "
                    f"or Docker Desktop.{local}")
        return (f"Docker is not reachable: it is not running ({host}). Start it (sudo systemctl start docker, "
                f"or start Docker Desktop), or point DOCKER_HOST at a running engine.{local}")
    return f"Docker is not reachable ({host}: {exc.__class__.__name__}: {exc}).{local}"


def _tar(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    now = time.time() - SKEW
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        dirs = sorted({posixpath.dirname(path) for path in files} - {""})
        for directory in sorted({parent for d in dirs for parent in _parents(d)}):
            info = tarfile.TarInfo(f"workspace/{directory}")
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, now
            tar.addfile(info)
        for path, content in sorted(files.items()):
            info = tarfile.TarInfo(f"workspace/{path}")
            info.size, info.mode, info.mtime = len(content), 0o644, now
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _parents(directory: str) -> list[str]:
    parts = directory.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


class DockerSandbox:
    kind = "docker"

    def __init__(self, engine, image: str, limits: Limits = Limits(),
                 rebuild: Callable[[], str] | None = None, warm: bool = False) -> None:
        self._engine = engine
        self._warm = warm  # take a parked container where one fits, and park this one at the end
        self._pool_key = ""
        self.reused = False  # the container was a parked one
        self._image = image
        self._rebuild = rebuild  # the image again, should another run's prune remove it before the start
        self._limits = limits
        self.container_id = ""
        self._name = ""
        self._pythonpath = PLUGIN_DIR

    def start(self, files: Mapping[str, bytes]) -> None:
        remove_orphans(self._engine)
        # named before it exists: an interrupt between the engine creating it and the answer coming back still
        # leaves close() a name to remove it by
        self._name = f"makegreen-{Owner.me().tag()}-{secrets.token_hex(4)}"
        if self._warm and self._take(files):  # its files went in with the claim
            self._pythonpath = python_path(files, WORKDIR, PLUGIN_DIR)
            return
        try:
            self.container_id = self._create()
        except EngineError as exc:
            if exc.status != 404:
                raise SandboxError(f"the sandbox container could not start: {exc}") from exc
            # another run's `sandbox prune` removed the project image between its build and this start
            if self._rebuild is None:
                raise SandboxError(f"the sandbox image {self._image} is gone (removed while this run started: a "
                                   "`makegreen sandbox prune` elsewhere?); run again to rebuild it") from exc
            self._image = self._rebuild()
            try:
                self.container_id = self._create()
            except EngineError as again:
                raise SandboxError(f"the sandbox container could not start: {again}") from again
        self._pythonpath = python_path(files, WORKDIR, PLUGIN_DIR)
        self.sync(files)

    def _take(self, files: Mapping[str, bytes]) -> bool:
        """A parked container of the same image and limits, claimed, with files in it, where there is one."""
        image_id = self._engine.image_id(self._image)
        if image_id is None:  # the image is gone: start() builds or reports it
            return False
        self._pool_key = pool.key(image_id, self._limits)
        archive = _tar(files)
        self.container_id = pool.take(self._engine, self._pool_key, self._name, archive, WORKDIR,
                                      unpack(len(archive))) or ""
        self.reused = bool(self.container_id)
        return self.reused

    def _create(self) -> str:
        limits = self._limits
        tmpfs = {folder: f"rw,nosuid,nodev,size={limits.tmp_size},mode=1777" for folder in TEMPORARY[:2]}
        host = {"NetworkMode": "none", "CapDrop": ["ALL"], "SecurityOpt": ["no-new-privileges"], "Init": True,
                "Memory": parse_size(limits.memory), "MemorySwap": parse_size(limits.memory),
                "NanoCpus": int(min(limits.cpus, os.cpu_count() or 1) * 1e9), "PidsLimit": limits.pids,
                "ReadonlyRootfs": True,
                "Tmpfs": {**tmpfs, WORKDIR: "rw,nosuid,nodev,mode=755",
                          pool.STATE: "rw,nosuid,nodev,noexec,size=1m,mode=755"}}
        spec = Spec(self._image, ["sleep", "infinity"], {LABEL: "1", **owner_labels(), **limits.labels},
                    {"HOME": "/tmp", "USER": "makegreen", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
                     "PYTHONNOUSERSITE": "1"}, WORKDIR, host)
        container = self._engine.create(self._name, spec)
        self._engine.start(container)
        return container

    def sync(self, changes: Mapping[str, bytes | None]) -> None:
        written = {path: content for path, content in changes.items() if content is not None}
        removed = [f"{WORKDIR}/{path}" for path, content in changes.items() if content is None]
        try:
            if written:
                archive = _tar(written)
                if run(self._engine, self.container_id, ["sh", "-c", unpack(len(archive))], "0", archive) != 0:
                    raise SandboxError("copying files into the sandbox container failed")
            if removed:
                run(self._engine, self.container_id, ["rm", "-f", "--", *removed], "0")
        except EngineError as exc:
            raise _gone(exc) from exc

    def run_tests(self, targets: Sequence[str], timeout: float) -> RunResult:
        argv = pytest_argv("python3", REPORT, targets)
        try:
            started_exec = self._engine.exec(
                self.container_id, ["sh", "-c", run_script(), "sh", f"{max(timeout, 1):.0f}", WORKDIR, STARTED, CHANGED,
                                    REPORT, " ".join(TEMPORARY), *argv], self._limits.user, WORKDIR,
                {"PYTHONPATH": self._pythonpath})
        except EngineError as exc:  # stopped or removed from outside (docker rm -f, a prune --all)
            raise _gone(exc) from exc
        output = CappedOutput(self._limits.output_bytes)
        results = bytearray()
        started = time.monotonic()
        reader = threading.Thread(target=_pump, args=(started_exec.frames(), output, results), daemon=True)
        reader.start()
        reader.join(timeout + KILL_GRACE)
        if reader.is_alive():  # the in-container timeout failed to end it: end it from here, inside the container
            self.interrupt()
            reader.join(KILL_GRACE)
        seconds = time.monotonic() - started
        try:
            exit_code = started_exec.status()
        except EngineError as exc:  # removed from outside while it ran
            raise _gone(exc) from exc
        finally:
            if not reader.is_alive():
                started_exec.close()
        exit_code = 137 if exit_code is None else exit_code
        timed_out = exit_code in (124, 137) and seconds >= timeout
        if exit_code == 137 and not timed_out:  # killed: by its memory limit, or with its container from outside
            self._still_there()
        report, changed, key = _unframe(bytes(results))
        # paths read relative to the workspace, as in the local sandbox: the same failure reads the same anywhere
        here = f"{WORKDIR}/"
        return RunResult(exit_code, timed_out, output.text().replace(here, ""),
                         parse_report(report, key=key.encode(), strip=here), seconds, changed)

    def _still_there(self, wait: float = 2.0) -> None:
        """A SandboxError where the container is gone or going: a `docker rm -f` from outside kills its processes
        a moment before the container is seen to stop. One still running after wait had its run killed inside
        (by the memory limit): that run's result stands."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                state = self._engine.inspect(self.container_id).get("State") or {}
            except EngineError as exc:
                if exc.status == 404:
                    raise _gone(exc) from exc
                raise
            if not state.get("Running") or state.get("Status") in ("removing", "exited", "dead"):
                raise _gone(EngineError(409, f"the container is {state.get('Status', 'stopped')}"))
            time.sleep(0.1)

    def interrupt(self) -> None:
        """Kill every process of the test uid in the container: a run in progress ends at once."""
        if self.container_id:
            try:
                run(self._engine, self.container_id, ["sh", "-c", "kill -9 -1"], self._limits.user)
            except Exception:  # the container is gone already: nothing runs in it
                pass

    def close(self, park: bool = True) -> None:
        """Park the container for the next run (warm, and park: the run ended as it should), or remove it: by its
        id, or by its name when an interrupt came before the id did."""
        target = self.container_id or self._name
        parkable = park and self._warm and bool(self.container_id) and bool(self._pool_key)
        self.container_id, self._name = "", ""
        if not target:
            return
        if parkable and pool.park(self._engine, target, self._pool_key):
            return
        try:
            remove_quietly(self._engine, target)  # never created, gone already, or its removal under way
        except Exception:  # the engine went away: nothing left to do here
            pass


def _gone(exc: EngineError) -> SandboxError:
    return SandboxError(f"the sandbox container is gone or stopped ({exc}): something outside this run removed "
                        "it; run again")


RESULTS_LIMIT = 64 * 1024 * 1024


def _pump(frames, output: CappedOutput, results: bytearray) -> None:
    for stream, data in frames:
        if stream == 1:
            output.feed(data)
        elif stream == 2:
            results += data
            if len(results) > RESULTS_LIMIT:  # the framed results are at the end: keep the tail
                del results[: len(results) - RESULTS_LIMIT]


def _unframe(data: bytes) -> tuple[str, tuple[str, ...], str]:
    """(report, changed files, the plugin's key) from `<report><changed>\\n<len report> <len changed> <key>\\n` at the
    end of data."""
    body, _, trailer = data.rstrip(b"\n").rpartition(b"\n")
    parts = trailer.split()
    try:
        report_size, changed_size = int(parts[0]), int(parts[1])
    except (ValueError, IndexError):  # killed before the results were written
        return "", (), ""
    key = parts[2].decode("ascii", "replace") if len(parts) > 2 else ""
    if report_size + changed_size > len(body):
        return "", (), key
    block = body[len(body) - report_size - changed_size:]
    report, changed = block[:report_size], block[report_size:]
    prefix = WORKDIR + "/"
    paths = [line[len(prefix):] for line in changed.decode("utf-8", "replace").splitlines() if line.startswith(prefix)]
    return report.decode("utf-8", "replace"), tuple(sorted(paths)), key


def owner_labels() -> dict[str, str]:
    """Who started a container: enough to tell, later, that its run is over (sandbox/owner.py)."""
    return {f"{LABEL}.owner": Owner.me().tag(), f"{LABEL}.host": socket.gethostname(), f"{LABEL}.pid": str(os.getpid())}


def _owner_alive(labels: Mapping[str, str], name: str = "") -> bool | None:
    """Whether the process that holds the container still runs (its name says who, for a parked one taken by
    another run; else its labels who started it); None when it ran on another host."""
    owner = Owner.from_tag(name[len("makegreen-"):].rsplit("-", 1)[0]) if name.startswith("makegreen-") else None
    owner = owner or Owner.from_tag(labels.get(f"{LABEL}.owner", ""))
    if owner is not None:
        return owner.alive()
    if labels.get(f"{LABEL}.host") != socket.gethostname():  # labelled by an older makegreen
        return None
    try:
        os.kill(int(labels.get(f"{LABEL}.pid", "0")), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


def remove_orphans(engine, everything: bool = False, parked: bool = False) -> list[str]:
    """Remove makegreen's containers whose run is over: those whose process on this host is gone (a run killed
    before it could clean up), and stopped ones started from another host. A container of a live run is never
    touched, running or not: another run on this engine may have just created it. Parked containers (the warm
    pool) go once expired, or all of them with parked. With everything, remove every makegreen container.
    Containers that vanish meanwhile (their own run removed them) are no error."""
    removed = []
    # the listing's own data, no inspect per container (one removed meanwhile would fail the listing)
    for entry in engine.containers({"label": [LABEL]}, all=True):
        labels = entry.get("Labels") or {}
        name = (entry.get("Names") or [""])[0].lstrip("/")
        if name.startswith(pool.IDLE):  # parked for the next run: removed once expired (or stopped)
            if everything or parked or pool.expired(name) or entry.get("State") != "running":
                if pool.remove_parked(engine, name):  # by its parked name: one a run has just taken is left
                    removed.append(name)
            continue
        owner = _owner_alive(labels, name)
        stale = owner is False or (owner is None and entry.get("State") in ("exited", "dead"))
        # gone meanwhile (another run's clean-up got there first) or its removal under way: not ours to report
        if (everything or stale) and remove_quietly(engine, entry["Id"]):
            removed.append(name or entry["Id"][:12])
    return removed


def remove_images(engine) -> list[str]:
    """Remove makegreen's project images that no container uses."""
    import docker.errors

    client = engine.sdk()
    removed = []
    for image in client.images.list(filters={"label": LABEL}):
        try:
            client.images.remove(image.id)
            removed.append(", ".join(image.tags) or image.short_id)
        except docker.errors.APIError:  # in use, or already gone
            pass
    return removed
