"""A local engine shared by runs: one per model and settings for the user, started by the first run that needs it,
reused by the runs after it (solve, the hook, bench, consecutive or at once), stopped when idle — and never left
computing for a run that is gone, however that run ended.

Files, in the user's cache (engines/ beside agent/models/localmodel.py's models/), per engine key (a hash of the
engine's command line without its port, so other settings are another engine):
- KEY.lock: held (exclusively) while a run looks for the engine or starts it, and by the supervisor while it stops
  it, so that a run never takes an engine that is being stopped;
- KEY.use: every run using the engine holds a shared lock on it for as long as it runs. The kernel drops the lock
  when the process ends, whatever ends it (SIGKILL included): that is how the supervisor knows who is left;
- KEY.json: the running engine (state), written by its supervisor once started, removed before it stops;
- KEY.log: the engine's output.

The supervisor is a small process of its own (its own session: a Ctrl-C in the terminal is not for it), parent
of the engine (which dies with it). Twice a second it checks: nobody holds KEY.use and the engine is computing
(its CPU time grows) → it is answering a run that is gone, and is killed at once (an engine asked to stop
politely waits for the answer in flight: measured, more than a minute); nobody for the idle time → stopped.
With idle 0 every run gets an engine of its own (a key of its own), stopped as soon as its run lets go.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, Mapping

from ..core.errors import BackendError
from .localmodel import cache_dir
from .serve import INSTALL, Plan, command, die_with_parent, free_port

VERSION = 1
POLL = 0.5  # seconds between the supervisor's checks
ENDED = "[makegreen] the engine ended by itself"  # the supervisor's last line in the log of an engine that crashed
ORPHAN_GRACE = 1.0  # seconds an engine may compute with no run left before it is killed
STOP_GRACE = 3.0  # an idle engine is asked to stop, then killed after this long
BUSY_SHARE = 0.25  # CPU seconds per second above which the engine counts as computing
MARK = "makegreen-shared-engine"  # in the supervisor's command line: how a state's pid is known to be ours
_SUPERVISE = ("import sys; sys.path[:] = [p for p in sys.path if p != '']; "
              "from agent.models.shared_engine import supervise; supervise(sys.argv[1])")


@dataclass(frozen=True)
class EngineState:
    """A running engine, as its supervisor recorded it."""

    key: str
    supervisor: int
    engine: int
    port: int
    model: str
    argv: tuple[str, ...]
    started: float  # wall-clock time
    idle: float
    log: str
    version: int = VERSION

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


@dataclass
class Lease:
    """A run's hold on an engine: while open, the engine is in use. Closing it (or the run's end, however it ends)
    lets the engine go idle."""

    state: EngineState
    started: bool  # this run started the engine (else it found it warm)
    _fd: int | None = None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def engines_dir(environ: Mapping[str, str]) -> Path:
    """Beside the models folder: $MAKEGREEN_CACHE/engines, else ~/.cache/makegreen/engines."""
    return cache_dir(environ).parent / "engines"


Launch = Callable[[Plan], "tuple[list[str], dict[str, str]]"]


def _command(plan: Plan) -> tuple[list[str], dict[str, str]]:
    return command(plan, sys.executable)


def key_of(plan: Plan, idle: float, launch: Launch = _command) -> str:
    """The engine's identity: its command line and environment without the port (another model, file, context or
    thread count is another engine); with idle 0, one of its own for this run."""
    argv, extra = launch(replace(plan, port=0))
    blob = json.dumps([VERSION, argv, sorted(extra.items()), plan.model])
    if idle <= 0:
        blob += f"/{os.getpid()}/{time.time_ns()}"
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def acquire(plan: Plan, *, idle: float, environ: Mapping[str, str], ready_timeout: float,
            said: Callable[[str], None] = lambda _: None, launch: Launch = _command) -> Lease:
    """An engine for plan, warm if one runs with the same settings, else started; held until the lease is
    released. A state file that does not describe a live engine of ours is replaced, never trusted."""
    folder = engines_dir(environ)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)  # the user's own: nobody else may plant a record that points a run elsewhere
    key = key_of(plan, idle, launch)
    paths = _Paths(folder, key)
    with _locked(paths.lock):
        found = read_state(paths.state)
        if found is not None and not alive(found, key):
            said(f"a shared engine's record ({paths.state.name}) no longer describes a running engine of ours: "
                 "starting another")
            found = None
            paths.state.unlink(missing_ok=True)
        fd = _hold(paths.use)
        try:
            if found is not None:
                return Lease(found, False, fd)
            return Lease(_start(plan, idle=idle, paths=paths, environ=environ, ready_timeout=ready_timeout,
                                 said=said, launch=launch), True, fd)
        except BaseException:
            os.close(fd)
            raise


def running(environ: Mapping[str, str]) -> list[EngineState]:
    """The shared engines running for this user now (for doctor)."""
    folder = engines_dir(environ)
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        state = read_state(path)
        if state is not None and alive(state, path.stem):
            found.append(state)
    return found


def read_state(path: Path) -> EngineState | None:
    try:
        data = json.loads(path.read_text())
        data["argv"] = tuple(data["argv"])
        state = EngineState(**data)
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return state if state.version == VERSION else None


def alive(state: EngineState, key: str) -> bool:
    """Whether a state describes a live engine of ours: the key matches, the supervisor is ours and alive, the
    engine alive, and (on Linux) the port is the engine's own listening socket — not something that took the port
    after it."""
    if state.key != key or not (_exists(state.supervisor) and _exists(state.engine)):
        return False
    if not sys.platform.startswith("linux"):
        return _answers(state)
    return MARK in _cmdline(state.supervisor) and _listens(state.engine, state.port)


@dataclass(frozen=True)
class _Paths:
    folder: Path
    key: str

    @property
    def lock(self) -> Path:
        return self.folder / f"{self.key}.lock"

    @property
    def use(self) -> Path:
        return self.folder / f"{self.key}.use"

    @property
    def state(self) -> Path:
        return self.folder / f"{self.key}.json"

    @property
    def log(self) -> Path:
        return self.folder / f"{self.key}.log"

    @property
    def spec(self) -> Path:
        return self.folder / f"{self.key}.spec.json"


@contextlib.contextmanager
def _locked(path: Path, blocking: bool = True) -> Iterator[bool]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _hold(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def _in_use(path: Path) -> bool:
    """Whether any run holds the engine (a shared lock on KEY.use)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _start(plan: Plan, *, idle: float, paths: _Paths, environ: Mapping[str, str], ready_timeout: float,
           said: Callable[[str], None], launch: Launch) -> EngineState:
    plan = replace(plan, port=free_port())
    argv, extra = launch(plan)
    import shutil

    if not shutil.which(argv[0], path=environ.get("PATH")):
        raise BackendError(f"{plan.engine} is not installed ({argv[0]} is not on PATH): {INSTALL[plan.engine]}")
    spec = {"key": paths.key, "argv": argv, "env": extra, "port": plan.port, "model": plan.model,
            "idle": idle, "folder": str(paths.folder)}
    _write(paths.spec, spec)
    said(f"starting {plan.engine} for {plan.model}{f', kept warm {idle:.0f} s for the next run' if idle > 0 else ''}"
         f": {' '.join(argv)}")
    supervisor = subprocess.Popen([sys.executable, "-c", _SUPERVISE, str(paths.spec), MARK], cwd=paths.folder,
                                  env=dict(environ), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if supervisor.poll() is not None:
            raise BackendError(f"{plan.engine} exited before it was ready. Its last output:\n{_tail(paths.log)}")
        state = read_state(paths.state)
        if state is not None and state.supervisor == supervisor.pid and _answers(state):
            return state
        time.sleep(0.5)
    _signal_group(supervisor.pid, signal.SIGTERM)
    raise BackendError(f"{plan.engine} was not ready after {ready_timeout:.0f} s (see {paths.log}). Its last "
                       f"output:\n{_tail(paths.log)}")


def supervise(spec_path: str) -> None:
    """The supervisor's life: start the engine, record it, watch who uses it, stop it when nobody does."""
    spec = json.loads(Path(spec_path).read_text())
    Path(spec_path).unlink(missing_ok=True)
    paths = _Paths(Path(spec["folder"]), spec["key"])
    with open(paths.log, "wb") as log:
        engine = subprocess.Popen(spec["argv"], env={**os.environ, **spec["env"]}, stdin=subprocess.DEVNULL,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                  preexec_fn=functools.partial(die_with_parent, signal.SIGKILL))
    state = EngineState(spec["key"], os.getpid(), engine.pid, spec["port"], spec["model"], tuple(spec["argv"]),
                        time.time(), float(spec["idle"]), str(paths.log))
    _write(paths.state, asdict(state))

    def stop(*_) -> None:
        _forget(paths, state)
        _end(engine, STOP_GRACE)
        os._exit(0)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    last_used, orphaned_since, cpu = time.monotonic(), None, _cpu_seconds(engine.pid)
    while engine.poll() is None:
        time.sleep(POLL)
        now, before, cpu = time.monotonic(), cpu, _cpu_seconds(engine.pid)
        computing = cpu is not None and before is not None and cpu - before > BUSY_SHARE * POLL
        # removed or replaced by a run that judged it stale: no new run finds it; the runs using it finish first
        replaced = read_state(paths.state) != state
        if _in_use(paths.use):
            last_used, orphaned_since = now, None
            continue
        orphaned_since = (orphaned_since or now) if computing else None
        orphaned = orphaned_since is not None and now - orphaned_since >= ORPHAN_GRACE
        if replaced or orphaned or now - last_used >= state.idle:
            with _locked(paths.lock, blocking=False) as mine:
                if not mine or _in_use(paths.use):  # a run is taking it right now: it stays
                    continue
                _forget(paths, state)
            _end(engine, 0.0 if orphaned else STOP_GRACE)  # computing for nobody: no polite wait
            break
    else:  # it ended by itself: a crash, said in its log for the run that was using it
        with open(paths.log, "ab") as log:
            log.write(f"\n{ENDED}: {ending(engine.returncode)}\n".encode())
    _forget(paths, state)


def ending(returncode: int) -> str:
    """How a process ended, in words: its exit code, or the signal that killed it."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


def died(state: EngineState) -> str | None:
    """Where a run's engine is gone (a crash while the run used it): what its log last said; None while it lives."""
    if _exists(state.engine) and not _zombie(state.engine):
        return None
    deadline = time.monotonic() + 3 * POLL  # the supervisor notices within a poll, and writes how it ended
    while ENDED not in _tail(Path(state.log), 2) and time.monotonic() < deadline:
        time.sleep(POLL / 5)
    return _tail(Path(state.log), 12) or "(its log is empty)"


def _zombie(pid: int) -> bool:
    """Ended, not yet reaped by its supervisor (Linux; elsewhere a live pid counts as alive)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _forget(paths: _Paths, state: EngineState) -> None:
    if read_state(paths.state) == state:
        paths.state.unlink(missing_ok=True)


def _end(engine: subprocess.Popen, grace: float) -> None:
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if grace <= 0 and sig == signal.SIGTERM:
            continue
        _signal_group(engine.pid, sig)
        try:
            engine.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _write(path: Path, data: dict) -> None:
    """Whole or not at all, readable by this user only."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    os.replace(temporary, path)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: not ours
        return False
    return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _cpu_seconds(pid: int) -> float | None:
    """The process's CPU time so far (all its threads), or None where /proc cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _listens(pid: int, port: int) -> bool:
    """Whether pid owns the socket listening on 127.0.0.1:port (its inode among the process's open files)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            parts = row.split()
            if len(parts) > 9 and parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    if not inodes:
        return False
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in {f"socket:[{inode}]" for inode in inodes}:
                    return True
    except OSError:
        return False
    return False


def _answers(state: EngineState) -> bool:
    try:
        with urllib.request.urlopen(state.base_url + "/models", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
