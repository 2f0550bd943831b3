"""Runs the tests on the host, in a private copy of the workspace: for machines without Docker.

What it can do without a container: a process group killed on timeout, resource limits (address space,
process count, file size, no core dumps), a scrubbed environment, no network where `unshare` can make a network
namespace, and every file restored before each run. It is not a security boundary (the code runs as you, and
can read what you can), and makegreen says so wherever it is used.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Mapping, Sequence

from .base import REPORT_PLUGIN, RunResult, parse_size, pytest_argv, plugin_source, python_path
from .capture import CappedOutput
from .results import parse_report

# Only what a test run needs from the host's environment: API keys and other secrets stay out.
_PASSED_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT")


FILE_SIZE_LIMIT = 1 << 30


def network_isolation() -> list[str]:
    """The command prefix that runs a program without network, or [] where this machine cannot."""
    unshare = shutil.which("unshare")
    if unshare is None or sys.platform != "linux":
        return []
    for prefix in ([unshare, "--net"], [unshare, "--net", "--map-current-user"], [unshare, "--net", "-r"]):
        try:
            if subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0:
                return prefix
        except (OSError, subprocess.TimeoutExpired):
            continue
    return []


def _user_processes() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                pass
    return count


class LocalSandbox:
    kind = "local"

    def __init__(self, python: str = sys.executable, output_limit: int = 256 * 1024, memory: str = "2g",
                 pids: int = 512, isolate_network: bool = True) -> None:
        self._python = python
        self._output_limit = output_limit
        self._memory = parse_size(memory)
        self._pids = pids
        self._prefix = network_isolation() if isolate_network else []
        self._dir: Path | None = None
        self._files: dict[str, bytes] = {}
        self._processes_before = 0
        self._running: subprocess.Popen | None = None

    def describe(self) -> str:
        network = "network off (unshare)" if self._prefix else "NETWORK ON (unshare is not available)"
        return (f"local: no isolation from your files; process group killed on timeout; memory "
                f"{self._memory >> 20} MiB, {self._pids} more processes; {network}")

    def _limit(self) -> None:
        """Runs in the child before exec: resource limits that the test run cannot raise again."""
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (self._memory, self._memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
        if os.getuid() != 0:  # counted per user, so it allows the processes the user already has
            allowed = self._processes_before + self._pids
            resource.setrlimit(resource.RLIMIT_NPROC, (allowed, allowed))

    def start(self, files: Mapping[str, bytes]) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="makegreen-local-"))
        for sub in ("work", "plugin", "home"):
            (self._dir / sub).mkdir()
        (self._dir / "plugin" / f"{REPORT_PLUGIN}.py").write_bytes(plugin_source())
        self.sync(files)

    def sync(self, changes: Mapping[str, bytes | None]) -> None:
        for path, content in changes.items():
            if content is None:
                self._files.pop(path, None)
                (self._work / path).unlink(missing_ok=True)
            else:
                self._files[path] = content
                self._write(path, content)

    @property
    def _work(self) -> Path:
        assert self._dir is not None, "start() first"
        return self._dir / "work"

    def _write(self, path: str, content: bytes) -> None:
        target = self._work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)

    def _restore(self) -> None:
        # Code under test may have rewritten files here (tests included): every run starts from the expected files.
        for path in self._tampered():
            self._write(path, self._files[path])

    def run_tests(self, targets: Sequence[str], timeout: float) -> RunResult:
        self._restore()
        assert self._dir is not None
        report = self._dir / "report.jsonl"
        report.unlink(missing_ok=True)
        env = {key: os.environ[key] for key in _PASSED_ENV if key in os.environ}
        env.update(
            HOME=str(self._dir / "home"), TMPDIR=str(self._dir / "home"), PYTHONDONTWRITEBYTECODE="1",
            PYTHONPATH=python_path(self._files, str(self._work), str(self._dir / "plugin")),
        )
        output = CappedOutput(self._output_limit)
        started = time.monotonic()
        self._processes_before = _user_processes() if os.getuid() != 0 else 0
        key = secrets.token_hex(16)  # the plugin signs its records with it (read from stdin before any test code)
        proc = subprocess.Popen(
            [*self._prefix, *pytest_argv(self._python, str(report), targets)], cwd=self._work, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=self._limit,
        )
        try:
            proc.stdin.write(key.encode())
            proc.stdin.close()
        except OSError:  # pytest ended before reading it: its report, if any, reads as unsigned
            pass
        self._running = proc
        reader = threading.Thread(target=_pump, args=(proc.stdout, output), daemon=True)
        reader.start()
        timed_out = False
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(proc.pid)
            proc.wait()
            reader.join(5)
            self._running = None
        seconds = time.monotonic() - started
        text = report.read_text(encoding="utf-8", errors="replace") if report.exists() else ""
        # the temporary folder's name changes every run: paths read relative to it, so that the same failure
        # reads the same every time (stable prompts: cached by the provider, comparable in a replay)
        here = f"{self._work}/"
        return RunResult(proc.returncode, timed_out, output.text().replace(here, ""),
                         parse_report(text, key=key.encode(), strip=here), seconds, self._tampered())

    def _tampered(self) -> tuple[str, ...]:
        """Files whose content is no longer what was synced."""
        changed = []
        for path, content in self._files.items():
            try:
                if (self._work / path).read_bytes() == content:
                    continue
            except OSError:
                pass
            changed.append(path)
        return tuple(sorted(changed))

    def interrupt(self) -> None:
        running = self._running
        if running is not None:
            _kill_group(running.pid)

    def close(self, park: bool = True) -> None:  # nothing is kept warm: park changes nothing
        self.interrupt()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def find_python(root: Path, environ: Mapping[str, str]) -> str:
    """The project's own interpreter, so that its dependencies are there: its virtualenv, the active one, or the
    first python3 on PATH, whichever has pytest; makegreen's own interpreter when none has."""
    candidates = [root / ".venv" / "bin" / "python", root / "venv" / "bin" / "python"]
    if environ.get("VIRTUAL_ENV"):
        candidates.append(Path(environ["VIRTUAL_ENV"]) / "bin" / "python")
    on_path = shutil.which("python3", path=environ.get("PATH"))
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            probe = subprocess.run([str(candidate), "-c", "import pytest"], capture_output=True, timeout=30)
            if probe.returncode == 0:
                return str(candidate)
    return sys.executable


def _pump(stream, output: CappedOutput) -> None:
    for chunk in iter(lambda: stream.read1(65536), b""):
        output.feed(chunk)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
