"""Hostile code under test, run through the real Docker sandbox; each case asserts what the host sees afterwards.

After every case: the run ended within its timeout plus a bound, the engine and the host still answer, the
sandbox is still usable, and once closed no container or process of the run is left. Every case runs twice: in a
new container, and in one taken from the warm pool (sandbox/pool.py) after another run used it.
"""
from __future__ import annotations

import re
import secrets
import subprocess

import pytest

from sandbox.container import DockerSandbox, Limits
from sandbox.image import Dependencies, ensure_image

BOUND = 15  # seconds a run may take past its timeout: the kill, the engine's bookkeeping, a loaded machine
OK = b"def test_ok():\n    pass\n"


class Case:
    def __init__(self, engine, client, image, reused: bool = False, **limits):
        self.client = client
        self.run_id = "containment-" + secrets.token_hex(4)
        if reused:  # a pool of this case's own (a /tmp size no other run asks for), holding a used container
            limits.setdefault("tmp_size", f"{400 + secrets.randbelow(200)}m")
            before = DockerSandbox(engine, image, Limits(labels={"makegreen.run": self.run_id}, **limits), warm=True)
            before.start({"tests/test_ok.py": OK})
            assert before.run_tests(["tests/test_ok.py"], 60).report.green
            before.close()
        self.box = DockerSandbox(engine, image, Limits(labels={"makegreen.run": self.run_id}, **limits), warm=reused)
        self.box.start({"tests/test_ok.py": OK})
        assert self.box.reused == reused

    def run(self, source: bytes, timeout: float = 30, name: str = "tests/test_hostile.py", targets=None):
        self.box.sync({name: source})
        result = self.box.run_tests(targets if targets is not None else [name], timeout)
        assert result.seconds <= timeout + BOUND
        return result

    def processes(self) -> list[str]:
        return [" ".join(p) for p in self.client.api.top(self.box.container_id, ps_args="-eo pid,user,args")["Processes"]]

    def finish(self, marker: str | None = None):
        assert self.client.ping()
        assert subprocess.run(["true"], timeout=30).returncode == 0  # the host still starts processes
        self.box.sync({"tests/test_hostile.py": None})
        assert self.box.run_tests(["tests/test_ok.py"], 60).report.green  # the sandbox is still usable
        leftover = [p for p in self.processes() if "sleep infinity" not in p and "docker-init" not in p]
        assert leftover == []
        self.box.close(park=False)
        assert self.client.containers.list(all=True, filters={"label": f"makegreen.run={self.run_id}"}) == []
        if marker:
            host = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
            assert marker not in host


@pytest.fixture(scope="module")
def image(engine, base_image):
    return ensure_image(engine, base_image, Dependencies((), {}))


# the reused variants run in .ci/run (`full`); the newcomer's suite has the warm pool's own checks (test_pool.py)
# a reused case parks a container and claims it back: beside the tests that prune every parked container
# (tests/sandbox/test_pool.py, test_lifecycle.py) it would lose it, so it runs on their worker, one at a time
@pytest.fixture(params=["new", pytest.param("reused", marks=[pytest.mark.full, pytest.mark.xdist_group("engine")])])
def case(request, engine, docker_client, image):
    made = []

    def make(**limits):
        made.append(Case(engine, docker_client, image, request.param == "reused", **limits))
        return made[-1]

    yield make
    for leftover in made:
        leftover.box.close(park=False)


def test_fork_bomb_is_held_by_the_pids_limit(case):
    c = case(pids=128)
    result = c.run(b"import os\n"
                   b"def test_bomb():\n"
                   b"    while True:\n"
                   b"        try:\n"
                   b"            os.fork()\n"
                   b"        except OSError:\n"
                   b"            pass\n", timeout=8)
    assert result.timed_out
    c.finish()


def test_busy_infinite_loop_is_killed_at_the_timeout(case):
    c = case()
    result = c.run(b"def test_spin():\n    while True:\n        pass\n", timeout=3)
    assert result.timed_out and result.report.tests["tests/test_hostile.py::test_spin"].outcome == "error"
    c.finish()


def test_a_process_that_ignores_sigterm_is_killed(case):
    marker = "ignores-term-" + secrets.token_hex(4)
    c = case()
    result = c.run(f"import signal, subprocess, sys, time\n"
                   f"def test_stubborn():\n"
                   f"    subprocess.Popen([sys.executable, '-c', 'import signal, time; "
                   f"signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)', '{marker}'])\n"
                   f"    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                   f"    time.sleep(600)\n".encode(), timeout=3)
    assert result.timed_out
    c.finish(marker)


def test_memory_balloon_is_held_by_the_memory_limit(case):
    c = case(memory="256m")
    result = c.run(b"def test_balloon():\n"
                   b"    hoard = []\n"
                   b"    for _ in range(64):\n"
                   b"        hoard.append(bytearray(64 * 1024 * 1024))\n", timeout=60)
    assert not result.report.green
    c.finish()


def test_a_gigabyte_of_output_is_capped_while_it_streams(case):
    c = case(output_bytes=64 * 1024)
    result = c.run(b"import os\n"
                   b"def test_flood(capsys):\n"
                   b"    block = b'x' * (1 << 20)\n"
                   b"    with capsys.disabled():\n"
                   b"        for _ in range(1024):\n"
                   b"            os.write(1, block)\n", timeout=120)
    assert len(result.output) < 64 * 1024 + 200
    cut = int(re.search(r"\[\.\.\. (\d+) bytes of output cut", result.output).group(1))
    assert cut >= (1 << 30) - 64 * 1024
    c.finish()


def test_a_double_forked_daemon_does_not_outlive_the_run(case):
    marker = "daemon-" + secrets.token_hex(4)
    c = case()
    c.run(f"import os, sys\n"
          f"def test_spawn():\n"
          f"    if os.fork() == 0:\n"
          f"        os.setsid()\n"
          f"        if os.fork() == 0:\n"
          f"            os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(600)', '{marker}'])\n"
          f"        os._exit(0)\n".encode())
    assert not [p for p in c.processes() if marker in p]
    c.finish(marker)


NETWORK = b'''
import os, socket

def test_only_loopback():
    assert sorted(os.listdir("/sys/class/net")) == ["lo"]

def test_no_outside_connection():
    for address in (("1.1.1.1", 80), ("8.8.8.8", 53), ("172.17.0.1", 2375)):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect(address)
            connected = True
        except OSError:
            connected = False
        finally:
            s.close()
        assert not connected, address

def test_no_name_resolution():
    try:
        socket.getaddrinfo("example.com", 443)
        resolved = True
    except OSError:
        resolved = False
    assert not resolved
'''


def test_only_the_loopback_interface_exists(case):
    c = case()
    result = c.run(NETWORK)
    assert result.report.green, result.output
    c.finish()


PRIVILEGE = b'''
import os

def test_not_root():
    assert os.getuid() != 0 and os.geteuid() != 0 and os.getgid() != 0

def test_no_effective_capabilities_and_no_new_privileges():
    status = open("/proc/self/status").read()
    assert "CapEff:\\t0000000000000000" in status
    assert "CapPrm:\\t0000000000000000" in status
    assert "NoNewPrivs:\\t1" in status
'''


def test_tests_run_unprivileged(case):
    c = case()
    result = c.run(PRIVILEGE)
    assert result.report.green, result.output
    c.finish()


def test_the_host_environment_stays_outside(case, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret")
    monkeypatch.setenv("MAKEGREEN_CANARY", "host-only")
    c = case()
    result = c.run(b"import os\n"
                   b"def test_env():\n"
                   b"    leaked = {k: v for k, v in os.environ.items() if 'sk-host' in v or v == 'host-only'}\n"
                   b"    assert leaked == {}\n"
                   b"    assert 'OPENAI_API_KEY' not in os.environ\n")
    assert result.report.green, result.output
    c.finish()


def test_writes_outside_tmp_fail_and_the_users_repository_is_untouched(case, tmp_path):
    repo = tmp_path / "users-repo"
    repo.mkdir()
    (repo / "mod.py").write_text("A = 1\n")
    c = case()
    targets = [str(repo / "mod.py"), str(repo / "new.py"), "/workspace/mod.py", "/workspace/tests/test_ok.py",
               "/opt/makegreen/makegreen_report.py", "/etc/passwd", "/usr/lib/python3/dist-packages/evil.pth", "/x"]
    result = c.run(f"import pytest\n"
                   f"@pytest.mark.parametrize('path', {targets!r})\n"
                   f"def test_write(path):\n"
                   f"    with pytest.raises(OSError):\n"
                   f"        open(path, 'a').write('owned')\n".encode())
    assert result.report.green, result.output
    assert result.tampered == ()
    assert [p.name for p in repo.iterdir()] == ["mod.py"] and (repo / "mod.py").read_text() == "A = 1\n"
    c.finish()


def test_nothing_a_run_leaves_in_tmp_reaches_the_next(case):
    c = case()
    c.run(b"import os, site, sys\n"
          b"def test_plant():\n"
          b"    open('/tmp/planted', 'w').write('x')\n"
          b"    target = os.path.join('/tmp', '.local', 'lib', 'python%d.%d' % sys.version_info[:2], 'site-packages')\n"
          b"    os.makedirs(target, exist_ok=True)\n"
          b"    open(os.path.join(target, 'usercustomize.py'), 'w').write('print(\"POISONED\")')\n"
          b"    open(os.path.join(target, 'evil.pth'), 'w').write('import sys; print(\"POISONED\")')\n")
    result = c.run(b"import os\n"
                   b"def test_clean():\n"
                   b"    assert not os.path.exists('/tmp/planted')\n"
                   b"    assert not os.path.exists('/tmp/.local')\n", name="tests/test_after.py")
    assert result.report.green and "POISONED" not in result.output, result.output
    c.finish()


def test_test_files_cannot_be_changed_and_the_next_run_uses_the_originals(case):
    c = case()
    result = c.run(b"import glob\n"
                   b"def test_rewrite():\n"
                   b"    for path in glob.glob('tests/*.py'):\n"
                   b"        try:\n"
                   b"            open(path, 'w').write('def test_fake():\\n    pass\\n')\n"
                   b"        except OSError:\n"
                   b"            pass\n")
    assert result.tampered == ()
    again = c.box.run_tests(["tests/test_ok.py", "tests/test_hostile.py"], 60)
    assert set(again.report.tests) == {"tests/test_ok.py::test_ok", "tests/test_hostile.py::test_rewrite"}
    c.finish()


def test_no_bind_mounts_so_a_remote_engine_works_the_same(case):
    c = case()
    attrs = c.client.api.inspect_container(c.box.container_id)
    assert attrs["HostConfig"]["Binds"] in (None, [])
    assert [m["Type"] for m in attrs["Mounts"]] in ([], ["tmpfs"])
    c.finish()
