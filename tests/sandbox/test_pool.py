"""The warm pool (sandbox/pool.py) on a real engine: a run's container is parked and the next run of the same
image and limits takes it; nothing of one run reaches the next; only one taker wins; parked containers expire,
are not orphans, and `sandbox prune` removes them."""
from __future__ import annotations

import secrets
import threading
import time

import pytest

from sandbox import pool
from sandbox.container import DockerSandbox, Limits, remove_orphans
from sandbox.image import Dependencies, ensure_image

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("engine")]  # prunes and pool counts: one worker
OK = b"def test_ok():\n    pass\n"


@pytest.fixture(scope="module")
def image(engine, docker_client, base_image):
    return ensure_image(engine, base_image, Dependencies((), {}))


@pytest.fixture
def limits():
    # a pids limit of its own: this test's pool key, so that other runs on the engine neither take its
    # containers nor give it theirs
    return Limits(pids=400 + secrets.randbelow(100), labels={"makegreen.run": "pool-" + secrets.token_hex(4)})


def remove_if_there(docker_client, name: str) -> None:
    """A test's own clean-up: a parked container may be gone already (another run on the engine removed it as
    stopped or expired, or the engine is slow to list a removal)."""
    import docker.errors

    try:
        docker_client.api.remove_container(name, force=True)
    except docker.errors.APIError as exc:  # 404: gone; 409: its removal under way
        if exc.status_code not in (404, 409):
            raise


def parked_names(engine, limits, image) -> list[str]:
    return pool.parked(engine, pool.key(engine.image_id(image), limits))


def test_a_closed_container_is_parked_and_the_next_run_takes_it(engine, docker_client, image, limits):
    first = DockerSandbox(engine, image, limits, warm=True)
    first.start({"tests/test_ok.py": OK})
    assert not first.reused and first.run_tests(["tests/test_ok.py"], 60).report.green
    container_id = first.container_id
    first.close()
    assert len(parked_names(engine, limits, image)) == 1
    second = DockerSandbox(engine, image, limits, warm=True)
    second.start({"tests/test_other.py": b"def test_other():\n    pass\n"})
    try:
        assert second.reused and second.container_id == container_id
        assert parked_names(engine, limits, image) == []
        result = second.run_tests([], 60)
        assert set(result.report.tests) == {"tests/test_other.py::test_other"}  # the last run's files are gone
    finally:
        second.close()
        remove_orphans(engine)
    for name in parked_names(engine, limits, image):
        remove_if_there(docker_client, name)


PLANT = b'''import os, subprocess, sys

def test_plant():
    for where in ("/tmp", "/var/tmp", "/dev/shm"):
        open(f"{where}/planted", "w").write("secret of the last run")
        os.makedirs(f"{where}/locked/inner")  # folders their owner closed: emptied all the same
        open(f"{where}/locked/inner/planted", "w").write("secret of the last run")
        os.chmod(f"{where}/locked/inner", 0)
        os.chmod(f"{where}/locked", 0o500)
    for where in ("/run/lock", "/var/lock", "/", "/usr/lib", "/workspace"):  # the rest is read-only to it
        try:
            open(f"{where}/planted", "w").write("secret of the last run")
        except OSError:
            continue
        raise AssertionError(f"wrote in {where}")
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "daemon-of-the-last-run"],
                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
'''

LOOK = b'''import os, subprocess

def test_nothing_of_the_last_run():
    for where in ("/tmp/planted", "/var/tmp/planted", "/dev/shm/planted", "/tmp/locked", "/var/tmp/locked",
                  "/dev/shm/locked", "/workspace/tests/test_plant.py", "/workspace/secret.py"):
        assert not os.path.exists(where), where
    processes = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "daemon-of-the-last-run" not in processes
'''


def test_nothing_of_one_run_reaches_the_next_through_a_parked_container(engine, docker_client, image, limits):
    first = DockerSandbox(engine, image, limits, warm=True)
    first.start({"tests/test_plant.py": PLANT, "secret.py": b"KEY = 'the last project'\n"})
    assert first.run_tests(["tests/test_plant.py"], 60).report.green
    first.close()
    second = DockerSandbox(engine, image, limits, warm=True)
    second.start({"tests/test_look.py": LOOK})
    try:
        assert second.reused
        result = second.run_tests(["tests/test_look.py"], 60)
        assert result.report.green, result.output
    finally:
        second._warm = False
        second.close()


def test_of_two_runs_taking_at_once_only_one_gets_the_parked_container(engine, docker_client, image, limits):
    first = DockerSandbox(engine, image, limits, warm=True)
    first.start({"tests/test_ok.py": OK})
    first.close()
    boxes = [DockerSandbox(engine, image, limits, warm=True) for _ in range(3)]
    barrier = threading.Barrier(len(boxes))

    def start(box):
        barrier.wait()
        box.start({"tests/test_ok.py": OK})

    threads = [threading.Thread(target=start, args=(box,)) for box in boxes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    try:
        assert sum(box.reused for box in boxes) == 1
        assert len({box.container_id for box in boxes}) == 3
        assert all(box.run_tests(["tests/test_ok.py"], 60).report.green for box in boxes)
    finally:
        for box in boxes:
            box._warm = False
            box.close()


def test_the_pool_keeps_at_most_its_size_and_other_limits_never_share(engine, docker_client, image, limits):
    boxes = [DockerSandbox(engine, image, limits, warm=True) for _ in range(pool.SIZE + 1)]
    for box in boxes:
        box.start({"tests/test_ok.py": OK})
    for box in boxes:
        box.close()
    names = parked_names(engine, limits, image)
    try:
        assert len(names) == pool.SIZE
        other = Limits(pids=limits.pids + 1, labels=limits.labels)
        stranger = DockerSandbox(engine, image, other, warm=True)
        stranger.start({"tests/test_ok.py": OK})
        assert not stranger.reused
        stranger._warm = False
        stranger.close()
    finally:
        for name in names:
            remove_if_there(docker_client, name)


def test_parked_containers_are_not_orphans_until_they_expire_and_prune_removes_them(engine, docker_client, image, limits):
    box = DockerSandbox(engine, image, limits, warm=True)
    box.start({"tests/test_ok.py": OK})
    box.close()
    [name] = parked_names(engine, limits, image)
    remove_orphans(engine)
    assert parked_names(engine, limits, image) == [name]  # a live pool is no orphan
    stale = name.replace(name.split("-")[3], "1000")  # parked long ago
    docker_client.api.rename(name, stale)
    remove_orphans(engine)
    # gone, or going: another test's run on this engine (a solve prunes as it starts) may be removing it at once,
    # and then this prune leaves it to that one (a 409), which the engine may not have finished yet
    deadline = time.monotonic() + 30
    while docker_client.containers.list(all=True, filters={"name": stale}) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [c for c in docker_client.containers.list(all=True, filters={"name": stale})] == []
    box = DockerSandbox(engine, image, limits, warm=True)
    box.start({"tests/test_ok.py": OK})
    box.close()
    assert parked_names(engine, limits, image)
    remove_orphans(engine, parked=True)  # what `sandbox prune` does (with --all, live runs' too)
    assert parked_names(engine, limits, image) == []


def test_a_command_that_leaves_its_input_unread_ends_the_exchange(engine, image, limits):
    """A claim lost to another run (or a failed unpack) ends without reading the archive: the exchange ends with
    the command, and no sender is left blocked on what the engine will not take."""
    import threading

    from sandbox.engine import run

    box = DockerSandbox(engine, image, limits)
    box.start({"tests/test_ok.py": OK})
    try:
        assert run(engine, box.container_id, ["sh", "-c", "exit 3"], "0", b"x" * (32 << 20)) == 3
        assert run(engine, box.container_id, ["sh", "-c", "head -c 10 >/dev/null; exit 5"], "0", b"x" * (32 << 20)) == 5
        assert not [t for t in threading.enumerate() if t.name == "makegreen-stdin" and t.is_alive()]
        assert box.run_tests(["tests/test_ok.py"], 60).report.green  # the container is still usable
    finally:
        box.close(park=False)
