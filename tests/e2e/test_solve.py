"""`makegreen solve` end to end: the real CLI in a subprocess, on a throwaway git repository, against the scripted
OpenAI-compatible server on loopback, with the Docker sandbox (and the local one where it is asked for too)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ANSWERS, ROOT, containers_of, make_repo, tree_bytes
from tests.scripted_server import Reply, ScriptedServer

ROMAN = (ANSWERS / "roman.md").read_text()
ROMAN_WRONG = (ANSWERS / "roman_wrong.md").read_text()
FENCE = "`" * 3


def solve(repo: Path, server: ScriptedServer | None, *args: str, env: dict | None = None, **popen):
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("OPENAI_", "MAKEGREEN_"))}
    environ.update(OPENAI_API_KEY="test-key", MAKEGREEN_MODEL="scripted-model", PYTHONPATH=str(ROOT))
    if server is not None:
        environ["OPENAI_BASE_URL"] = server.url
    if os.environ.get("MAKEGREEN_BASE_IMAGE"):
        environ["MAKEGREEN_BASE_IMAGE"] = os.environ["MAKEGREEN_BASE_IMAGE"]
    environ.update(env or {})
    argv = [sys.executable, "-m", "agent", "solve", *args]
    if popen:
        return subprocess.Popen(argv, cwd=repo, env=environ, text=True, **popen)
    return subprocess.run(argv, cwd=repo, env=environ, capture_output=True, text=True, timeout=300)


def summary_of(result) -> dict:
    return json.loads(result.stdout)


@pytest.fixture(params=["docker", "local"])
def sandbox(request):
    if request.param == "docker":
        request.getfixturevalue("base_image")
    return request.param


@pytest.fixture
def docker_sandbox(base_image):
    return "docker"


@pytest.fixture
def roman(tmp_path):
    return make_repo(tmp_path / "roman", example="roman")


def test_a_solved_in_one_iteration(roman, sandbox):
    with ScriptedServer([Reply(ROMAN, reasoning="The tests want standard form.")]) as server:
        result = solve(roman, server, "--json", "--sandbox", sandbox)
    assert result.returncode == 0, result.stderr
    summary = summary_of(result)
    assert summary["status"] == "green" and summary["iterations"] == 1 and summary["applied"]
    assert summary["tests"]["passed"] == 18 and summary["changed_files"] == ["roman.py"]
    assert (roman / "roman.py").read_text().startswith('"""Roman numerals in standard form')
    [request] = server.chat_requests()
    assert request["stream"] is True and request["model"] == "scripted-model"
    assert "tests/test_roman.py" in request["messages"][-1]["content"]
    assert "`roman` → roman.py" in request["messages"][-1]["content"]
    run_dir = roman / summary["run_dir"]
    records = [json.loads(line) for line in (run_dir / "trajectory.jsonl").read_text().splitlines()]
    kinds = [record["type"] for record in records]
    assert kinds[0] == "Header" and "ModelRequest" in kinds and "ModelAnswered" in kinds and kinds[-1] == "Finished"
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "green"


def test_b_failures_reach_the_second_request_then_solved(roman, sandbox):
    replies = [Reply(ROMAN_WRONG, reasoning="Tallies will do.", reasoning_field="reasoning"),
               Reply(ROMAN, reasoning="Subtractive pairs are needed.", reasoning_field="think")]
    with ScriptedServer(replies) as server:
        result = solve(roman, server, "--json", "--sandbox", sandbox, "--second-draft", "off")
    assert result.returncode == 0, result.stderr
    assert summary_of(result)["iterations"] == 2
    first, second = server.chat_requests()
    feedback = second["messages"][-1]["content"]
    # one user message: the code as the first answer left it, its failures; never the answer sent back
    assert [m["role"] for m in second["messages"]] == ["system", "user"]
    assert ROMAN_WRONG.split("```python\n")[1].split("```")[0].rstrip() in feedback
    assert "to_roman(number) returned 'IIII', but the test expects 'IV'." in feedback
    assert "tests/test_roman.py::test_round_trip[4-IV] FAILED" in feedback
    code = (roman / "roman.py").read_text()
    assert "<think>" not in code and "Subtractive" not in code


def test_c_never_solved_leaves_the_tree_byte_identical(roman, docker_sandbox):
    before = tree_bytes(roman)
    with ScriptedServer([Reply(ROMAN_WRONG)]) as server:
        result = solve(roman, server, "--json", "--max-iterations", "2")
    assert result.returncode == 1, result.stderr
    summary = summary_of(result)
    assert summary["status"] == "not_solved" and summary["iterations"] == 2 and not summary["applied"]
    assert len(server.chat_requests()) == 3  # the second answer repeats the first: asked once more, to work it through
    assert tree_bytes(roman) == before
    assert "best-attempt.patch" in summary["message"]


def test_d_an_edit_to_the_test_file_is_refused(roman, docker_sandbox):
    cheat = "\n".join(["tests/test_roman.py", f"{FENCE}python", "def test_nothing():", "    pass", FENCE, "",
                       ROMAN_WRONG])
    test_file = (roman / "tests" / "test_roman.py").read_bytes()
    with ScriptedServer([Reply(cheat), Reply(ROMAN)]) as server:
        result = solve(roman, server, "--json")
    assert result.returncode == 0, result.stderr
    assert (roman / "tests" / "test_roman.py").read_bytes() == test_file
    feedback = server.chat_requests()[1]["messages"][-1]["content"]
    assert "The edit to tests/test_roman.py was refused" in feedback
    assert summary_of(result)["changed_files"] == ["roman.py"]


@pytest.mark.parametrize("example, answer, created", [
    ("roman", "roman.md", ["roman.py"]),
    ("wordfreq", "wordfreq.md", ["wordfreq.py"]),
    ("collatz", "collatz.md", ["collatz.py"]),
    ("inventory", "inventory.md", ["src/inventory/models.py", "src/inventory/store.py"]),
])
def test_every_example_ends_green_in_docker(tmp_path, docker_sandbox, example, answer, created):
    repo = make_repo(tmp_path / example, example=example)
    with ScriptedServer([Reply((ANSWERS / answer).read_text(), reasoning="Reading the tests.")]) as server:
        result = solve(repo, server, "--json")
    assert result.returncode == 0, result.stderr
    assert summary_of(result)["changed_files"] == created
    assert all((repo / path).is_file() for path in created)
    check = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=repo,
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": "src"})
    assert check.returncode == 0, check.stdout


def test_no_apply_shows_the_diff_and_leaves_the_tree(roman):
    before = tree_bytes(roman)
    with ScriptedServer([Reply(ROMAN)]) as server:
        result = solve(roman, server, "--no-apply", "--sandbox", "local")
    assert result.returncode == 0, result.stderr
    assert "+++ b/roman.py" in result.stdout and "GREEN" in result.stdout
    assert tree_bytes(roman) == before
    assert list((roman / ".makegreen" / "runs").glob("*/changes.patch"))


def test_already_green_asks_no_model(tmp_path):
    repo = make_repo(tmp_path / "g", {"m.py": "X = 1\n", "tests/test_m.py": "from m import X\n\ndef test():\n"
                                                                           "    assert X == 1\n"})
    with ScriptedServer([Reply("unused")]) as server:
        result = solve(repo, server, "--json", "--sandbox", "local")
    assert result.returncode == 0 and summary_of(result)["status"] == "already_green"
    assert server.chat_requests() == []


def test_a_syntax_error_in_the_tests_is_the_users_to_fix(tmp_path):
    repo = make_repo(tmp_path / "s", {"tests/test_x.py": "from x import f\n\ndef test_f(:\n    assert f()\n"})
    with ScriptedServer([Reply("unused")]) as server:
        result = solve(repo, server, "--sandbox", "local")
    assert result.returncode == 2
    assert "the tests themselves do not load" in result.stderr and "tests/test_x.py" in result.stderr
    assert "SyntaxError" in result.stderr
    assert server.chat_requests() == []


def test_a_rate_limit_is_retried(roman):
    replies = [Reply("slow down", status=429, headers={"retry-after": "0"}), Reply(ROMAN)]
    with ScriptedServer(replies) as server:
        result = solve(roman, server, "--json", "--sandbox", "local")
    assert result.returncode == 0, result.stderr
    assert len(server.chat_requests()) == 2


@pytest.mark.parametrize("reply, words", [
    (Reply("Incorrect API key provided", status=401), "refused the API key"),
    (Reply("The model does not exist", status=404), "models offered there: scripted-model"),
])
def test_backend_refusals_exit_3_with_what_to_fix(roman, reply, words):
    with ScriptedServer([reply]) as server:
        result = solve(roman, server, "--sandbox", "local")
    assert result.returncode == 3, result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_backend_exits_3(roman):
    result = solve(roman, None, "--sandbox", "local", "--json", env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert result.returncode == 3
    assert "cannot reach the backend" in summary_of(result)["message"]


def test_no_docker_engine_exits_3_and_points_to_local(roman):
    with ScriptedServer([Reply(ROMAN)]) as server:
        result = solve(roman, server, env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert result.returncode == 3
    assert "Docker is not reachable" in result.stderr and "--sandbox local" in result.stderr


@pytest.mark.parametrize("args, words", [
    (["tests/nope.py"], "no such file"),
    (["--sandbox", "vm"], "must be one of docker, local"),
    (["--max-iterations", "0"], "must be above 0"),
])
def test_usage_errors_exit_2(roman, args, words):
    result = solve(roman, None, *args)
    assert result.returncode == 2
    assert words in result.stderr


def test_ctrl_c_leaves_the_tree_as_it_was_and_no_container(roman, docker_client, docker_sandbox):
    before = tree_bytes(roman)
    with ScriptedServer([Reply(ROMAN, delay=30)]) as server:
        proc = solve(roman, server, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while not server.chat_requests() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert server.chat_requests(), proc.communicate()[1]
        held = [c.id for c in containers_of(docker_client, proc.pid)]
        assert held, "the run's container should be up while the model thinks"
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert tree_bytes(roman) == before
    # removed, not parked for the next run: an interrupted run keeps nothing
    assert [c for c in docker_client.containers.list(all=True, sparse=True) if c.id in held] == []


def test_a_file_changed_during_the_run_blocks_the_apply_and_saves_the_patch(roman):
    with ScriptedServer([Reply(ROMAN, delay=3)]) as server:
        proc = solve(roman, server, "--json", "--sandbox", "local", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not server.chat_requests() and time.monotonic() < deadline:
            time.sleep(0.05)
        (roman / "roman.py").write_text("# started by hand meanwhile\n")
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 5, err
    summary = json.loads(out)
    assert summary["status"] == "conflict" and "roman.py changed while makegreen ran" in summary["message"]
    assert (roman / "roman.py").read_text() == "# started by hand meanwhile\n"
    [patch] = (roman / ".makegreen" / "runs").glob("*/changes.patch")
    assert "+def to_roman" in patch.read_text()


@pytest.mark.parametrize("files, words", [
    ({"tests/conftest.py": "import no_such_plugin_module\n", "tests/test_a.py": "def test_a():\n    pass\n"},
     "the tests cannot be run"),
    ({"tests/test_a.py": "X = 1\n"}, "no tests were collected"),
])
def test_a_suite_that_cannot_run_exits_2_before_asking_the_model(tmp_path, files, words):
    repo = make_repo(tmp_path / "r", files)
    with ScriptedServer([Reply("unused")]) as server:
        result = solve(repo, server, "--sandbox", "local")
    assert result.returncode == 2, result.stderr
    assert words in result.stderr and server.chat_requests() == []


def test_an_endless_loop_at_baseline_is_red_not_an_error(tmp_path):
    repo = make_repo(tmp_path / "loop", {
        "spin.py": "def spin():\n    while True:\n        pass\n",
        "tests/test_spin.py": "from spin import spin\n\ndef test_spin():\n    assert spin() is None\n",
    })
    fixed = "\n".join(["spin.py", f"{FENCE}python", "def spin():", "    return None", FENCE])
    with ScriptedServer([Reply(fixed)]) as server:
        result = solve(repo, server, "--json", "--sandbox", "local", "--test-timeout", "3")
    assert result.returncode == 0, result.stderr
    assert "stopped after" in server.chat_requests()[0]["messages"][-1]["content"]


def test_an_undeclared_third_party_package_is_the_users_to_declare_not_the_models_to_write(tmp_path):
    repo = make_repo(tmp_path / "r", {"tests/test_stats.py": "import pandas\n\nfrom stats import mean\n\n\n"
                                                             "def test_mean():\n    assert mean([1, 3]) == 2\n"})
    with ScriptedServer([Reply(ROMAN)]) as server:
        result = solve(repo, server, "--sandbox", "local")
        assert server.chat_requests() == []
    assert result.returncode == 2, result.stderr
    assert "the tests import pandas, not installed in the sandbox" in result.stderr
    assert "Add pandas to requirements.txt" in result.stderr
    assert not (repo / "pandas.py").exists()


def test_the_baseline_and_a_timeout_name_the_tests(tmp_path):
    repo = make_repo(tmp_path / "r", {"tests/test_slow.py": "import time\n\n\ndef test_quick():\n    assert False\n\n\n"
                                                            "def test_slow():\n    time.sleep(60)\n"})
    with ScriptedServer([Reply(ROMAN)]) as server:
        result = solve(repo, server, "--sandbox", "local", "--test-timeout", "3", "--max-iterations", "1")
    line = next(line for line in result.stdout.splitlines() if "baseline:" in line)
    assert "timed out" in line and "hung: tests/test_slow.py::test_slow" in line
    assert "tests/test_slow.py::test_quick" in line and "1 error" in line and "1 errors" not in line


def test_a_model_the_server_does_not_list_is_warned_of_once_and_kept_in_the_record(roman):
    """A server that answers under any name (llama.cpp) and a typo in the model's name: the run says so at the
    start, in the summary and the record; the model it lists gets no warning."""
    with ScriptedServer([Reply(ROMAN)]) as server:
        result = solve(roman, server, "--json", "--sandbox", "local", env={"MAKEGREEN_MODEL": "gpt-99-ultra"})
    assert result.returncode == 0, result.stderr
    summary = summary_of(result)
    warning = f"{server.url} does not list the model gpt-99-ultra (it lists only: scripted-model)"
    assert summary["model_warning"].startswith(warning)
    assert result.stderr.count("WARNING: " + warning) == 1
    records = (roman / summary["run_dir"] / "trajectory.jsonl").read_text()
    assert '"type": "ModelUnlisted"' in records and "gpt-99-ultra" in records
    show = subprocess.run([sys.executable, "-m", "agent", "show", summary["run_id"]], cwd=roman, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "does not list the model gpt-99-ultra" in show.stdout, show.stderr
    with ScriptedServer([Reply(ROMAN)]) as server:
        listed = solve(make_repo(roman.parent / "again", example="roman"), server, "--json", "--sandbox", "local")
    assert "model_warning" not in summary_of(listed) and "does not list" not in listed.stderr
