"""What the Docker sandbox promises beyond running tests: no network, no root, no capabilities, no leftovers."""
import pytest

from sandbox.container import DockerSandbox
from sandbox.image import Dependencies, ensure_image

PROBE = b'''
import os, socket

def test_not_root():
    assert os.getuid() != 0

def test_no_effective_capabilities():
    status = open("/proc/self/status").read()
    assert "CapEff:\\t0000000000000000" in status
    assert "NoNewPrivs:\\t1" in status

def test_only_loopback():
    assert sorted(os.listdir("/sys/class/net")) == ["lo"]
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("1.1.1.1", 80))
        connected = True
    except OSError:
        connected = False
    assert not connected

def test_workspace_is_read_only():
    try:
        open("written.txt", "w")
        wrote = True
    except OSError:
        wrote = False
    assert not wrote
'''


@pytest.fixture
def box(docker_client, base_image):
    image = ensure_image(docker_client, base_image, Dependencies((), {}))
    sandbox = DockerSandbox(docker_client, image)
    sandbox.start({"tests/test_probe.py": PROBE})
    yield sandbox
    sandbox.close()


def test_tests_run_unprivileged_offline_and_read_only(box):
    result = box.run_tests([], timeout=60)
    assert result.report.summary()["passed"] == 4, result.output


def test_a_double_forked_daemon_does_not_outlive_the_run(box, docker_client):
    box.sync({"tests/test_daemon.py": b"import os, time\n"
                                      b"def test_spawn():\n"
                                      b"    if os.fork() == 0:\n"
                                      b"        os.setsid()\n"
                                      b"        if os.fork() == 0:\n"
                                      b"            time.sleep(600)\n"
                                      b"        os._exit(0)\n"})
    box.run_tests(["tests/test_daemon.py"], timeout=60)
    container = box._container
    processes = container.top()["Processes"]
    assert not [p for p in processes if "sleep 600" in " ".join(p) or "python" in " ".join(p)]


def test_closing_removes_the_container(docker_client, base_image):
    image = ensure_image(docker_client, base_image, Dependencies((), {}))
    sandbox = DockerSandbox(docker_client, image)
    sandbox.start({"tests/test_a.py": b"def test_a():\n    pass\n"})
    container_id = sandbox._container.id
    sandbox.close()
    assert container_id not in [c.id for c in docker_client.containers.list(all=True)]


def test_the_image_is_reused_when_nothing_changed(docker_client, base_image):
    first = ensure_image(docker_client, base_image, Dependencies((), {}))
    assert ensure_image(docker_client, base_image, Dependencies((), {}), lambda line: pytest.fail(line)) == first
