"""Fixtures of the Action's tests: the runner's Python, the fake GitHub, and a checkout with its origin."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git, make_repo
from tests.github_runner import FakeGitHub


@pytest.fixture
def github():
    fake = FakeGitHub()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def runner_python(tmp_path_factory) -> Path:
    """The runner's Python, as actions/setup-python leaves it: a fresh environment (seeing this machine's
    packages, so that the install step needs no network) into which the action's own step installs makegreen."""
    folder = tmp_path_factory.mktemp("runner") / "python"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(folder)], check=True)
    return folder / "bin"


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
