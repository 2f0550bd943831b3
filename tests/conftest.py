"""Shared fixtures: a Docker engine (or a clear skip, which MAKEGREEN_REQUIRE_DOCKER=1 turns into a failure),
the base image to build sandbox images from, throwaway git repositories, and the Action's simulated runner."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
ANSWERS = Path(__file__).resolve().parent / "answers"


def _docker_problem() -> str | None:
    try:
        import docker

        docker.from_env(timeout=10).ping()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no engine here"
        return f"no Docker engine: {exc}"


@pytest.fixture(scope="session")
def docker_client():
    problem = _docker_problem()
    if problem:
        if os.environ.get("MAKEGREEN_REQUIRE_DOCKER") == "1":
            pytest.fail(f"MAKEGREEN_REQUIRE_DOCKER=1 but {problem}")
        pytest.skip(problem)
    import docker

    return docker.from_env(timeout=300)


@pytest.fixture(scope="session")
def engine(docker_client):
    """The engine as makegreen reaches it (sandbox/engine.py); docker_client is the SDK's, for tests to look with."""
    from sandbox.container import connect

    return connect(timeout=300)


@pytest.fixture(scope="session")
def base_image(docker_client) -> str:
    image = os.environ.get("MAKEGREEN_BASE_IMAGE", "python:3.12-slim")
    try:
        docker_client.images.get(image)
    except Exception:  # noqa: BLE001
        message = (f"base image {image} is missing: build one offline with `sudo sandbox/build-offline-base.sh "
                   "makegreen-base:offline`, then `export MAKEGREEN_BASE_IMAGE=makegreen-base:offline`")
        if os.environ.get("MAKEGREEN_REQUIRE_DOCKER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return image


def new_sandbox(request, kind: str):
    """A sandbox not yet started, of kind local, docker (the engine on its local socket, by the standard library)
    or docker-sdk (the same calls through the Docker SDK, as any other DOCKER_HOST is reached), for the project
    image of a project with no dependencies."""
    if kind == "local":
        from sandbox.local import LocalSandbox

        return LocalSandbox()
    from sandbox.container import DockerSandbox
    from sandbox.engine import SDKEngine
    from sandbox.image import Dependencies, ensure_image

    engine = request.getfixturevalue("engine")
    if kind == "docker-sdk":
        engine = SDKEngine(request.getfixturevalue("docker_client"))
    return DockerSandbox(engine, ensure_image(engine, request.getfixturevalue("base_image"), Dependencies((), {})))


def git(repo: Path, *args: str, check: bool = True) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo, check=check, capture_output=True, text=True,
    ).stdout


def make_repo(path: Path, files: dict[str, str] | None = None, example: str | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if example:
        shutil.copytree(EXAMPLES / example, path, dirs_exist_ok=True)
    for name, content in (files or {}).items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(content)
    git(path, "init", "-q")
    git(path, "config", "user.name", "Test Author")  # commits made by makegreen need an identity, as the user's do
    git(path, "config", "user.email", "author@example.invalid")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "tests first")
    return path


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under root except git's and makegreen's own folders: what the user would call their tree."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in (".git", ".makegreen") or not path.is_file():
            continue
        found[relative.as_posix()] = path.read_bytes()
    return found


@pytest.fixture
def github():
    """A fake of GitHub's REST API on loopback (tests/github_runner.py)."""
    from tests.github_runner import FakeGitHub

    fake = FakeGitHub()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def runner_python(tmp_path_factory) -> Path:
    """The runner's Python, as actions/setup-python leaves it: a fresh environment into which the action's own step
    installs makegreen. It sees the packages of the Python running these tests (so that the install step needs no
    network), wherever they were installed: a venv's --system-site-packages would show the base interpreter's,
    not a venv's, and the install would go looking for makegreen's dependencies on the network."""
    import site
    import sysconfig

    folder = tmp_path_factory.mktemp("runner") / "python"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(folder)], check=True)
    ours = [*site.getsitepackages(), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    if site.ENABLE_USER_SITE:
        ours.append(site.getusersitepackages())
    theirs = subprocess.run([str(folder / "bin" / "python"), "-c", "import sysconfig; "
                             "print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True)
    # an "import" line in a .pth file runs: addsitedir also reads the .pth files there (editable installs')
    (Path(theirs.stdout.strip()) / "_makegreen_test_python.pth").write_text("".join(
        f"import site; site.addsitedir({path!r})\n" for path in dict.fromkeys(ours) if Path(path).is_dir()))
    return folder / "bin"


def containers_of(client, pid: int, everywhere: bool = True) -> list:
    """The containers a makegreen process holds: named after it (a new one, or a parked one it took), or
    labelled with it while not parked (one it created and has not given back to the warm pool)."""
    found = client.containers.list(all=everywhere, sparse=True, filters={"label": "makegreen"})
    names = [(c, (c.attrs.get("Names") or [""])[0].lstrip("/")) for c in found]
    return [c for c, name in names if f"-{pid}-" in name or (
        not name.startswith("makegreen-idle-") and (c.attrs.get("Labels") or {}).get("makegreen.pid") == str(pid))]


def gone(pid: int, within: float) -> bool:
    """Whether process pid ends within that many seconds (reaped, where it is a child of this one)."""
    import time

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not ours to reap
            pass
        time.sleep(0.1)
    return False
