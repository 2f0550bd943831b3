"""What every sandbox shares: its result type, its errors, and the pytest command it runs."""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Mapping, Sequence

from .results import TestReport

REPORT_PLUGIN = "makegreen_report"


class SandboxError(Exception):
    """The sandbox could not be set up or used; the message says what to do."""


class SandboxUnavailable(SandboxError):
    """The engine behind the sandbox is missing or unreachable."""


class ImageBuildError(SandboxError):
    def __init__(self, message: str, log: str) -> None:
        super().__init__(message)
        self.log = log


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    timed_out: bool
    output: str  # pytest's terminal output, capped
    report: TestReport
    seconds: float
    tampered: tuple[str, ...] = ()  # workspace files the code under test changed (changes discarded before next run)


def parse_size(text: str) -> int:
    """Bytes in a size such as 512m or 2g (Docker's notation)."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    text = text.strip().lower().rstrip("b")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def plugin_source() -> bytes:
    return resources.files(__package__).joinpath("pytest_plugin", f"{REPORT_PLUGIN}.py").read_bytes()


def pytest_argv(python: str, report_path: str, targets: Sequence[str]) -> list[str]:
    return [
        python, "-m", "pytest",
        "-p", REPORT_PLUGIN, f"--makegreen-report={report_path}",
        "-p", "no:cacheprovider",
        "--continue-on-collection-errors",
        "--tb=short", "--color=no", "-q",
        *targets,
    ]


def python_path(files: Mapping[str, bytes], root: str, plugin_dir: str) -> str:
    """The plugin first, then a src/ layout's source folder where the project has one."""
    paths = [plugin_dir]
    if any(path.startswith("src/") and path.endswith(".py") for path in files):
        paths.append(f"{root}/src")
    return ":".join(paths)
