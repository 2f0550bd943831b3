"""The files a model may not create or change besides the tests: what runs in CI, at install or in a git hook. A
prompt-injected model that writes `.github/workflows/x.yml` would otherwise get it pushed with the fix.

Patterns are gitignore-like globs: one without a "/" matches a name at any depth (`Makefile`, `action.yml`), one
with a "/" is anchored at the project root (`.github/**`); `*` stays within a folder, `**` crosses folders.

Always protected besides these, by the test guard in agent/workspace/edits.py and whatever the configuration
says: the tests, what configures pytest (pyproject.toml, with its [build-system] and makegreen's own table,
setup.cfg, tox.ini, pytest.ini, conftest.py), and version control's and makegreen's folders.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import PurePosixPath

from ..core.errors import ConfigError

# Why each default is here: the file runs with the CI's secrets, at `pip install`, or on a developer's machine.
DEFAULT_PROTECTED: dict[str, str] = {
    ".github/**": "GitHub's workflows, actions and settings",
    ".gitlab-ci.yml": "CI configuration",
    ".gitlab/**": "CI configuration",
    ".circleci/**": "CI configuration",
    ".travis.yml": "CI configuration",
    ".drone.yml": "CI configuration",
    ".buildkite/**": "CI configuration",
    "azure-pipelines.yml": "CI configuration",
    "bitbucket-pipelines.yml": "CI configuration",
    "Jenkinsfile": "CI configuration",
    ".ci/**": "CI scripts",
    "action.yml": "a GitHub Action's definition",
    "action.yaml": "a GitHub Action's definition",
    ".pre-commit-config.yaml": "git hooks",
    ".pre-commit-hooks.yaml": "git hooks",
    ".githooks/**": "git hooks",
    ".husky/**": "git hooks",
    "Makefile": "a task runner's script",
    "makefile": "a task runner's script",
    "GNUmakefile": "a task runner's script",
    "noxfile.py": "a task runner's script",
    "justfile": "a task runner's script",
    "Taskfile.yml": "a task runner's script",
    "setup.py": "code that runs at install",
    ".devcontainer/**": "a development container's setup",
    ".envrc": "a shell's environment, loaded on entering the folder",
    "Dockerfile": "an image CI builds",
    "*.sh": "a shell script (CI and automation run them)",
    "*.bash": "a shell script (CI and automation run them)",
    "*.ps1": "a shell script (CI and automation run them)",
    "*.bat": "a shell script (CI and automation run them)",
    "*.cmd": "a shell script (CI and automation run them)",
}


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    anchored = "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    out = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    # a folder matched by the pattern protects what is inside it
    return re.compile(prefix + "".join(out) + "(?:/.*)?")


def matches(pattern: str, path: str) -> bool:
    return _regex(pattern).fullmatch(PurePosixPath(path).as_posix()) is not None


def check_patterns(protect: tuple[str, ...], unprotect: tuple[str, ...]) -> None:
    """unprotect names defaults only, so that a typo cannot silently leave a file open or closed."""
    unknown = [pattern for pattern in unprotect if pattern not in DEFAULT_PROTECTED]
    if unknown:
        raise ConfigError(f"unprotect names {unknown[0]!r}, which is not a default protected pattern; the defaults: "
                          + ", ".join(DEFAULT_PROTECTED))
    bad = [p for p in protect if p.startswith("/") or ".." in PurePosixPath(p).parts]
    if bad:
        raise ConfigError(f"protect pattern {bad[0]!r} must be relative to the project, without '..'")


class ProtectedPaths:
    """Says why a path is protected, or None. The defaults less `unprotect`, plus `protect`."""

    def __init__(self, protect: tuple[str, ...] = (), unprotect: tuple[str, ...] = ()) -> None:
        check_patterns(protect, unprotect)
        self.patterns = {p: why for p, why in DEFAULT_PROTECTED.items() if p not in unprotect}
        self.patterns.update({p: "the maintainer protects it" for p in protect if p not in self.patterns})

    def __call__(self, path: str) -> str | None:
        for pattern, why in self.patterns.items():
            if matches(pattern, path):
                return (f"{path} is protected ({why}: {pattern}); the model may not create or change it. Make "
                        "the tests pass by changing the code they test")
        return None
