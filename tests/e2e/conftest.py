"""The Action's tests' checkout (the runner's Python and the fake GitHub are in tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import git, make_repo


@pytest.fixture
def project(tmp_path, base_image) -> tuple[Path, Path]:
    """A checkout of acme/app with a red test suite, its origin a bare repository. The Action runs the tests in
    Docker only (base_image: the engine and the image are there)."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    repo = make_repo(tmp_path / "app", example="roman")
    git(repo, "branch", "-M", "main")
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    return repo, origin
