"""`makegreen doctor` through the real CLI: what it says for each broken precondition, and its exit code."""
import shutil
import sys
from pathlib import Path

import pytest

from sandbox.container import explain_unreachable
from tests.conftest import make_repo
from tests.sandbox.test_lifecycle import makegreen
from tests.scripted_server import Reply, ScriptedServer


@pytest.fixture
def repo(tmp_path):
    return make_repo(tmp_path / "r", example="roman")


def rows(output: str) -> dict[str, str]:
    """check name → the whole row's text, from the table doctor prints (wrapped cells joined)."""
    found, current = {}, None
    for line in output.splitlines():
        if not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.rstrip()[1:-1].split("│")]
        if cells[0]:
            current = cells[0]
            found[current] = ""
        if current:
            found[current] += " " + " ".join(cells[1:])
    return found


def test_all_good_exits_0(repo, base_image):
    with ScriptedServer([Reply("unused")]) as server:
        result = makegreen(repo, "doctor", env={"OPENAI_BASE_URL": server.url})
    assert result.returncode == 0, result.stdout + result.stderr
    table = rows(result.stdout)
    assert table["docker engine"].startswith(" ok") and "Docker" in table["docker engine"]
    assert table["model backend"].startswith(" ok") and table["tests"].startswith(" ok")
    assert "1 file(s) that do not import yet" in table["tests"]


def test_no_key_and_no_base_url(repo, base_image):
    result = makegreen(repo, "doctor", env={"OPENAI_API_KEY": "", "MAKEGREEN_LOCAL": "0"})
    assert result.returncode == 3
    assert "no API key" in rows(result.stdout)["model backend"] and "OPENAI_API_KEY" in result.stdout


def test_no_key_and_no_base_url_reports_the_local_default_model(repo, base_image, tmp_path):
    from agent.models.localmodel import DEFAULT, engine_installed, missing_packages

    result = makegreen(repo, "doctor", env={"OPENAI_API_KEY": "", "MAKEGREEN_MODEL": "",
                                            "MAKEGREEN_CACHE": str(tmp_path / "cache")})
    row = rows(result.stdout)["model backend"]
    if missing_packages(DEFAULT) or not engine_installed():  # a checkout installed without [local]
        assert result.returncode == 3 and row.startswith(" FAIL") and "pip install 'makegreen[local]'" in row
    else:
        assert result.returncode == 0, result.stdout
        assert row.startswith(" ok") and "no API key and no base URL: the local" in row  # (cells wrap)
        said = " ".join(row.split())
        assert "assembled on first use" in said and "kept warm 300 s after a run for the next" in said


def test_unreachable_base_url(repo, base_image):
    result = makegreen(repo, "doctor", env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert result.returncode == 3
    assert "cannot reach" in rows(result.stdout)["model backend"]


def test_a_model_the_server_refuses_blocks_and_solve_agrees(repo, base_image):
    with ScriptedServer([Reply("no such model", status=404)]) as server:
        result = makegreen(repo, "doctor", "--model", "gpt-9", env={"OPENAI_BASE_URL": server.url})
        solved = makegreen(repo, "solve", "--model", "gpt-9", env={"OPENAI_BASE_URL": server.url})
    assert result.returncode == 3
    assert "gpt-9 is not served" in rows(result.stdout)["model"] and "scripted-model" in result.stdout
    assert "[tool.makegreen]" in result.stdout  # the fix's text, not eaten as markup
    assert solved.returncode == 3, solved.stderr


def test_a_model_not_listed_but_answered_is_a_warning_and_solve_agrees(repo, base_image):
    """llama.cpp serves whatever it loaded under any name: doctor says so, and does not block."""
    with ScriptedServer([Reply("unused")]) as server:
        result = makegreen(repo, "doctor", "--model", "gpt-9", env={"OPENAI_BASE_URL": server.url})
    assert result.returncode == 0, result.stdout
    row = rows(result.stdout)["model backend"]
    assert row.startswith(" warn") and "answers for gpt-9" in row


def test_a_key_refused_for_a_real_request_blocks(repo, base_image):
    """The server lists its models to anyone, but refuses the key when asked: as a run would find out."""
    with ScriptedServer([Reply("bad key", status=401)]) as server:
        result = makegreen(repo, "doctor", env={"OPENAI_BASE_URL": server.url})
    assert result.returncode == 3
    row = rows(result.stdout)["model backend"]
    assert row.startswith(" FAIL") and "refused the" in row and "API key for a request" in row


def test_a_missing_base_image_that_cannot_be_pulled_blocks(repo, base_image):
    with ScriptedServer([Reply("unused")]) as server:
        result = makegreen(repo, "doctor", env={"OPENAI_BASE_URL": server.url,
                                                "MAKEGREEN_BASE_IMAGE": "makegreen-test/nowhere:none"})
    assert result.returncode == 3, result.stdout
    row = rows(result.stdout)["base image"]
    assert row.startswith(" FAIL") and "cannot be pulled" in row and "build-offline-base.sh" in row


def test_docker_not_running(repo):
    with ScriptedServer([Reply("unused")]) as server:
        result = makegreen(repo, "doctor", env={"OPENAI_BASE_URL": server.url,
                                                "DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert result.returncode == 3
    assert "not running" in rows(result.stdout)["docker engine"] and "systemctl start docker" in result.stdout


def test_docker_not_installed(repo, tmp_path):
    bin_dir = tmp_path / "bin"  # a PATH with git and Python but no Docker
    bin_dir.mkdir()
    for tool in (shutil.which("git"), sys.executable):
        (bin_dir / Path(tool).name).symlink_to(tool)
    with ScriptedServer([Reply("unused")]) as server:
        result = makegreen(repo, "doctor", env={"OPENAI_BASE_URL": server.url, "PATH": str(bin_dir),
                                                "DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert result.returncode == 3
    assert "not installed" in rows(result.stdout)["docker engine"] and "apt-get install docker.io" in result.stdout


def test_no_permission_on_the_socket_names_the_docker_group():
    try:
        try:
            raise PermissionError(13, "Permission denied")
        except PermissionError as inner:
            raise ConnectionError("Connection aborted.") from inner
    except ConnectionError as outer:
        message = explain_unreachable(outer, {"DOCKER_HOST": "unix:///var/run/docker.sock"})
    assert "permission denied" in message and "usermod -aG docker" in message


def test_no_tests_blocks(tmp_path, base_image):
    repo = make_repo(tmp_path / "empty", {"mod.py": "X = 1\n"})
    with ScriptedServer([Reply("unused")]) as server:
        result = makegreen(repo, "doctor", env={"OPENAI_BASE_URL": server.url})
    assert result.returncode == 3
    assert "no tests" in rows(result.stdout)["tests"]


def test_local_sandbox_is_said_to_be_weaker(repo):
    with ScriptedServer([Reply("unused")]) as server:
        result = makegreen(repo, "doctor", "--sandbox", "local", env={"OPENAI_BASE_URL": server.url})
    assert result.returncode == 0, result.stdout
    assert "no isolation from your files" in rows(result.stdout)["sandbox"]
