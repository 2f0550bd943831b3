"""Images and containers over time: building once, CA bundles, failed builds, orphans and `sandbox prune`."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from sandbox.container import DockerSandbox, Limits
from sandbox.image import LABEL, Dependencies, ensure_image
from tests.conftest import ROOT, containers_of, make_repo
from tests.scripted_server import Reply, ScriptedServer

pytestmark = pytest.mark.xdist_group("engine")  # prunes the engine: one worker runs these, one at a time

CA = "/etc/ssl/certs/ca-certificates.crt"


def makegreen(repo, *args, env=None, **kwargs):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MAKEGREEN_"))}
    environ.update(PYTHONPATH=str(ROOT), MAKEGREEN_BASE_IMAGE=os.environ.get("MAKEGREEN_BASE_IMAGE", ""),
                   OPENAI_API_KEY="k", MAKEGREEN_MODEL="scripted-model")
    environ = {k: v for k, v in environ.items() if v}
    environ.update(env or {})
    argv = [sys.executable, "-m", "agent", *args]
    if kwargs:
        return subprocess.Popen(argv, cwd=repo, env=environ, text=True, **kwargs)
    return subprocess.run(argv, cwd=repo, env=environ, capture_output=True, text=True, timeout=600)


def stale_container(client, image, pid: int):
    return client.containers.run(image, ["sleep", "infinity"], detach=True, network_mode="none",
                                 labels={LABEL: "1", f"{LABEL}.host": os.uname().nodename, f"{LABEL}.pid": str(pid)})


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture(scope="module")
def image(engine, docker_client, base_image):
    return ensure_image(engine, base_image, Dependencies((), {}))


def test_a_dependency_is_installed_through_the_hosts_ca_bundle_and_the_image_reused(tmp_path, docker_client,
                                                                                      base_image):
    if not os.path.isfile(CA):
        pytest.fail(f"{CA} is missing: the package index cannot be trusted from a container")
    repo = make_repo(tmp_path / "dep", {
        "pyproject.toml": '[project]\nname = "dep"\nversion = "0"\ndependencies = ["tomli-w"]\n',
        "tests/test_dep.py": "import tomli_w\n\ndef test_dump():\n    assert tomli_w.dumps({'a': 1}) == 'a = 1\\n'\n",
    })
    env = {"SSL_CERT_FILE": CA}
    earlier = makegreen(repo, "sandbox", "build", env=env)  # this machine may hold the image from an earlier run
    assert earlier.returncode == 0, earlier.stderr
    tag = re.search(r"image (makegreen-project:\w+)", earlier.stdout).group(1)
    docker_client.images.remove(tag, force=True)
    first = makegreen(repo, "sandbox", "build", env=env)
    assert first.returncode == 0, first.stderr
    assert f"{tag} (built" in first.stdout and "tomli_w" in first.stdout.replace("-", "_")
    second = makegreen(repo, "sandbox", "build", env=env)
    assert second.returncode == 0 and "reused" in second.stdout
    with ScriptedServer([Reply("unused")]) as server:
        solved = makegreen(repo, "solve", "--json", env={**env, "OPENAI_BASE_URL": server.url})
    assert solved.returncode == 0, solved.stderr  # the test that imports the dependency passes in the sandbox


def test_a_failed_build_shows_the_pip_error_and_exits_3(tmp_path, base_image):
    repo = make_repo(tmp_path / "bad", {
        "requirements.txt": "makegreen-no-such-package-zz==0.0.1\n",
        "tests/test_x.py": "def test_x():\n    pass\n",
    })
    result = makegreen(repo, "sandbox", "build", env={"SSL_CERT_FILE": CA})
    assert result.returncode == 3
    assert "building the sandbox image failed" in result.stderr
    assert "ERROR" in result.stderr and "makegreen-no-such-package-zz" in result.stderr


def test_a_new_sandbox_removes_containers_of_dead_runs_only(engine, docker_client, image):
    stale = stale_container(docker_client, image, dead_pid())
    alive = stale_container(docker_client, image, os.getpid())
    box = DockerSandbox(engine, image, Limits())
    box.start({"tests/test_a.py": b"def test_a():\n    pass\n"})
    try:
        ids = [c.id for c in docker_client.containers.list(all=True)]
        assert stale.id not in ids and alive.id in ids
    finally:
        box.close()
        alive.remove(force=True)


def test_prune_removes_leftovers(tmp_path, docker_client, image):
    stale = stale_container(docker_client, image, dead_pid())
    result = makegreen(tmp_path, "sandbox", "prune", "--keep-images")
    assert result.returncode == 0, result.stderr
    assert "container(s)" in result.stderr
    # gone: prune removed it, or (in a parallel suite) another run's start got there first
    assert stale.id not in [c.id for c in docker_client.containers.list(all=True)]


def test_a_killed_runs_container_is_removed_by_the_next_run(tmp_path, docker_client, base_image):
    repo = make_repo(tmp_path / "roman", example="roman")
    answer = (ROOT / "tests" / "answers" / "roman.md").read_text()
    with ScriptedServer([Reply(answer, delay=30), Reply(answer)]) as server:
        proc = makegreen(repo, "solve", env={"OPENAI_BASE_URL": server.url}, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not server.chat_requests() and time.monotonic() < deadline:
            time.sleep(0.1)
        mine = containers_of(docker_client, proc.pid, everywhere=False)
        assert len(mine) == 1
        proc.send_signal(signal.SIGKILL)  # no cleanup at all
        proc.wait()
        assert containers_of(docker_client, proc.pid)
        second = makegreen(repo, "solve", "--json", env={"OPENAI_BASE_URL": server.url})
    assert second.returncode == 0, second.stderr
    assert containers_of(docker_client, proc.pid) == []


def test_clean_up_survives_containers_vanishing_under_it():
    """Other runs remove their own containers while this one lists and removes: a container gone between the
    listing and the removal ("no such container"), or being removed already (409), is no error."""
    from sandbox.container import remove_orphans
    from sandbox.engine import EngineError
    from sandbox.owner import Owner

    class Engine:
        def containers(self, filters: dict, all: bool = False) -> list[dict]:
            dead = {f"{LABEL}.owner": Owner(Owner.me().host, dead_pid(), "1").tag()}
            return [{"Id": status * 16, "Labels": dead, "State": "running", "Names": [f"/makegreen-{status}"]}
                    for status in ("404", "409")]

        def remove(self, container: str) -> None:
            raise EngineError(int(container[:3]), "no such container" if container[:3] == "404" else "in progress")

    assert remove_orphans(Engine()) == []


def test_a_live_owner_with_a_reused_pid_is_told_apart():
    from sandbox.owner import Owner

    me = Owner.me()
    assert me.alive() is True
    assert Owner(me.host, me.pid, "1").alive() is False  # the same pid, started at another time: not the owner
    assert Owner("00000000", 1, "1").alive() is None  # another host: cannot be told from here


def test_a_container_removed_from_outside_is_said_to_be_gone(engine, docker_client, image):
    """`docker rm -f` (or a `prune --all`) elsewhere, before a test run or during one: a SandboxError that says
    so (exit 3 at the CLI), never a raw engine error."""
    import threading

    from sandbox import SandboxError
    from sandbox.container import DockerSandbox

    for during in (False, True):
        box = DockerSandbox(engine, image)
        box.start({"tests/test_slow.py": b"import time\n\ndef test_slow():\n    time.sleep(30)\n"})
        remove = lambda: docker_client.api.remove_container(box.container_id, force=True)  # noqa: E731
        if during:
            threading.Timer(2.0, remove).start()
        else:
            remove()
        with pytest.raises(SandboxError, match="gone or stopped"):
            box.run_tests([], 60)
        box.close()
