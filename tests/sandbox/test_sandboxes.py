"""Both sandboxes, run for real: the local one on this machine, the Docker one in a container."""
import pytest

from sandbox.local import LocalSandbox
from tests.conftest import new_sandbox

FILES = {
    "tests/test_sq.py": b"from sq import sq\n\ndef test_two():\n    assert sq(2) == 4\n\ndef test_three():\n"
                        b"    assert sq(3) == 9\n",
    "tests/test_other.py": b"def test_ok():\n    assert True\n",
}
RIGHT = b"def sq(x):\n    return x * x\n"


# docker: the engine on its local socket, by the standard library; docker-sdk: the same calls through the Docker
# SDK, as any other DOCKER_HOST (tcp, TLS, ssh) is reached
@pytest.fixture(params=["local", "docker", "docker-sdk"])
def box(request):
    sandbox = new_sandbox(request, request.param)
    sandbox.start(FILES)
    yield sandbox
    sandbox.close()


def test_red_then_green_then_a_removed_file(box):
    red = box.run_tests([], timeout=60)
    [error] = red.report.collect_errors
    assert error.exc_type == "ModuleNotFoundError" and error.import_name == "sq"
    assert error.origin == "tests/test_sq.py"
    assert red.report.tests["tests/test_other.py::test_ok"].outcome == "passed"
    box.sync({"sq.py": RIGHT})
    green = box.run_tests([], timeout=60)
    assert green.report.green and green.report.summary()["passed"] == 3
    box.sync({"sq.py": None})
    assert not box.run_tests([], timeout=60).report.green


def test_targets_select_tests(box):
    box.sync({"sq.py": RIGHT})
    result = box.run_tests(["tests/test_sq.py::test_two"], timeout=60)
    assert list(result.report.tests) == ["tests/test_sq.py::test_two"]


def test_a_syntax_error_in_a_test_file_is_reported_with_its_origin(box):
    box.sync({"tests/test_bad.py": b"def test_x(:\n    pass\n"})
    [error] = [e for e in box.run_tests([], timeout=60).report.collect_errors if e.nodeid == "tests/test_bad.py"]
    assert error.exc_type == "SyntaxError" and error.origin == "tests/test_bad.py" and error.line == 1


def test_an_endless_test_is_killed_at_the_timeout_with_its_results_so_far(box):
    box.sync({"sq.py": b"def sq(x):\n    if x == 3:\n        while True:\n            pass\n    return x * x\n"})
    result = box.run_tests([], timeout=3)
    assert result.timed_out
    assert result.seconds < 3 + 10
    assert result.report.exitstatus is None
    assert result.report.tests["tests/test_sq.py::test_two"].outcome == "passed"
    assert result.report.tests["tests/test_sq.py::test_three"].outcome == "error"
    box.sync({"sq.py": RIGHT})
    assert box.run_tests([], timeout=60).report.green  # the sandbox is usable after a kill


def test_code_under_test_cannot_change_the_tests_for_the_next_run(box):
    box.sync({"sq.py": b"import pathlib\n"
                       b"for p in pathlib.Path('tests').glob('test_*.py'):\n"
                       b"    try:\n        p.write_text('def test_fake():\\n    pass\\n')\n"
                       b"    except OSError:\n        pass\n"
                       b"def sq(x):\n    return 0\n"})
    box.run_tests([], timeout=60)
    box.sync({"sq.py": b"def sq(x):\n    return 0\n"})
    again = box.run_tests([], timeout=60)
    assert "tests/test_sq.py::test_two" in again.report.tests
    assert again.report.tests["tests/test_sq.py::test_two"].outcome == "failed"


def test_the_host_environment_does_not_reach_the_tests(box, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-from-host")
    box.sync({"tests/test_env.py": b"import os\ndef test_env():\n    assert 'OPENAI_API_KEY' not in os.environ\n"})
    result = box.run_tests(["tests/test_env.py"], timeout=60)
    assert result.report.green, result.output


def test_the_local_sandbox_prefers_the_projects_virtualenv(tmp_path):
    import os
    import sys

    from sandbox.local import find_python

    venv_python = tmp_path / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    os.symlink(sys.executable, venv_python)
    assert find_python(tmp_path, {"PATH": ""}) == str(venv_python)
    assert find_python(tmp_path / "elsewhere", {"PATH": ""}) == sys.executable


def test_the_local_sandbox_limits_memory_network_and_reports_tampering(tmp_path):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    box = LocalSandbox(memory="512m")
    box.start({"tests/test_hostile.py": (
        "import socket\n"
        "def test_balloon():\n"
        "    hoard = [bytearray(64 << 20) for _ in range(32)]\n"
        "def test_network():\n"
        "    s = socket.socket()\n"
        "    s.settimeout(2)\n"
        f"    s.connect(('127.0.0.1', {port}))\n"
        "def test_rewrite():\n"
        "    open('tests/test_hostile.py', 'a').write('# changed')\n").encode()})
    try:
        result = box.run_tests([], timeout=60)
        outcomes = {nodeid.split("::")[1]: case.outcome for nodeid, case in result.report.tests.items()}
        assert outcomes["test_balloon"] == "failed" and "MemoryError" in result.output
        if "network off" in box.describe():
            assert outcomes["test_network"] == "failed"
        assert result.tampered == ("tests/test_hostile.py",)
        again = box.run_tests(["tests/test_hostile.py::test_rewrite"], timeout=60)
        assert again.tampered == ("tests/test_hostile.py",)
        # the second run started from the original file: one append, not two
        assert (box._work / "tests" / "test_hostile.py").read_text().count("\n# changed") == 1
    finally:
        box.close()
        listener.close()
