"""Typed failures raised below the CLI. The CLI alone turns them into messages and exit codes."""
from __future__ import annotations


class MakegreenError(Exception):
    """A known failure; the message says what happened and what to do."""


class ConfigError(MakegreenError):
    """Bad settings, flags or paths: the user's to fix."""


class TestSuiteError(MakegreenError):
    """The tests themselves cannot run (a SyntaxError in a test file, a broken conftest): the user's to fix."""

    __test__ = False

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class BackendError(MakegreenError):
    """The model backend is unreachable, refuses the credentials, or does not know the model."""


class ApplyConflict(MakegreenError):
    """The user's files changed during the run, so the result was not applied; the patch was saved."""

    def __init__(self, message: str, paths: list[str], patch_path: str) -> None:
        super().__init__(message)
        self.paths = paths
        self.patch_path = patch_path


class ContextOverflow(BackendError):
    """The prompt does not fit the model's context window; the loop shrinks it and asks again."""


class BudgetExhausted(MakegreenError):
    """The next request would spend past --budget-tokens or --budget-usd."""


class Cancelled(Exception):
    """Another candidate settled the run (green, a contradiction, an error): this one stops where it is."""


class RemoteError(MakegreenError):
    """A remote service makegreen reports to (GitHub's API, a git remote) refused or could not be reached."""
