"""The GitHub Action, run as GitHub would run its steps: a simulated runner (GITHUB_* variables, an event file,
a local bare repository as origin) and a loopback server standing in for GitHub's REST API."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from agent.github import SUMMARY_LIMIT, job_summary
from tests.conftest import ANSWERS, ROOT, git, make_repo
from tests.scripted_server import Reply, ScriptedServer

ROMAN = (ANSWERS / "roman.md").read_text()
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


class FakeGitHub:
    """The REST calls the action makes, answered as GitHub answers them, and recorded."""

    PERMISSIONS = {"maintainer": "write", "stranger": "read"}

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _record(self) -> dict:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.calls.append((self.command, self.path, json.loads(body or b"{}")))
                assert self.headers["Authorization"] == "Bearer job-token"
                return fake.calls[-1][2]

            def do_GET(self) -> None:
                self._record()
                found = re.fullmatch(r"/repos/acme/app/collaborators/([^/]+)/permission", self.path)
                if not found:
                    return self._answer(404, {"message": "Not Found"})
                self._answer(200, {"permission": FakeGitHub.PERMISSIONS.get(found[1], "none")})

            def do_POST(self) -> None:
                body = self._record()
                if self.path == "/repos/acme/app/pulls":
                    return self._answer(201, {"number": 12, "html_url": "https://github.test/acme/app/pull/12",
                                              "head": {"ref": body["head"]}})
                if re.fullmatch(r"/repos/acme/app/issues/\d+/comments", self.path):
                    return self._answer(201, {"html_url": "https://github.test/acme/app/pull/7#issuecomment-1"})
                self._answer(404, {"message": "Not Found"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()


@pytest.fixture
def github():
    fake = FakeGitHub()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def runner_python(tmp_path_factory) -> Path:
    """The runner's Python, as actions/setup-python leaves it: a fresh environment (seeing this machine's
    packages, so that the install step needs no network) into which the action's own step installs makegreen."""
    folder = tmp_path_factory.mktemp("runner") / "python"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(folder)], check=True)
    return folder / "bin"


def expand(text: str, inputs: dict, steps: dict) -> str:
    """${{ inputs.x }}, ${{ github.token }} and ${{ steps.id.outputs.x }}: what the action's own text uses."""
    def value(match) -> str:
        expression = match[1].strip()
        if expression.startswith("inputs."):
            return inputs[expression[len("inputs."):]]
        if expression == "github.token":
            return "job-token"
        step, _, name = expression[len("steps."):].partition(".outputs.")
        return steps.get(step, {}).get(name, "")
    return re.sub(r"\$\{\{(.*?)\}\}", value, str(text))


def run_action(repo: Path, tmp_path: Path, runner_python: Path, event_name: str, event: dict, given: dict,
               extra_env: dict) -> tuple[int, dict, str, str]:
    """Run action.yml's steps in order, as the runner would; returns (status, outputs, summary, log)."""
    inputs = {name: expand(spec.get("default", ""), {}, {}) for name, spec in ACTION["inputs"].items()}
    inputs.update(given)
    (tmp_path / "event.json").write_text(json.dumps(event))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MAKEGREEN_", "GITHUB_", "INPUT_"))}
    base.pop("PYTHONPATH", None)
    base.update(PATH=f"{runner_python}{os.pathsep}{os.environ['PATH']}", GITHUB_ACTIONS="true",
                GITHUB_EVENT_NAME=event_name, GITHUB_EVENT_PATH=str(tmp_path / "event.json"),
                GITHUB_REPOSITORY="acme/app", GITHUB_RUN_ID="4242", GITHUB_RUN_ATTEMPT="1",
                GITHUB_ACTION_PATH=str(ROOT), GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
                MAKEGREEN_SANDBOX="local", **extra_env)
    steps: dict[str, dict] = {}
    log = ""
    for step in ACTION["runs"]["steps"]:
        if "uses" in step:  # actions/setup-python: runner_python stands in for it
            continue
        output = tmp_path / f"output-{len(steps)}"
        output.write_text("")
        env = {**base, "GITHUB_OUTPUT": str(output),
               **{key: expand(value, inputs, steps) for key, value in step.get("env", {}).items()}}
        cwd = repo / expand(step.get("working-directory", "."), inputs, steps)
        done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=600)
        log += done.stdout + done.stderr
        steps[step.get("id", f"step{len(steps)}")] = dict(
            line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
        if done.returncode != 0:
            break
    outputs = {name: expand(spec["value"], inputs, steps) for name, spec in ACTION["outputs"].items()}
    summary = (tmp_path / "summary.md").read_text() if (tmp_path / "summary.md").exists() else ""
    return done.returncode, outputs, summary, log


@pytest.fixture
def project(tmp_path) -> tuple[Path, Path]:
    """A checkout of acme/app with a red test suite, its origin a bare repository."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    repo = make_repo(tmp_path / "app", example="roman")
    git(repo, "branch", "-M", "main")
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    return repo, origin


def test_dispatch_in_pull_request_mode_pushes_a_branch_and_opens_a_pull_request(project, tmp_path, github,
                                                                                 runner_python):
    repo, origin = project
    with ScriptedServer([Reply(ROMAN)]) as model:
        status, outputs, summary, log = run_action(
            repo, tmp_path, runner_python, "workflow_dispatch", {"inputs": {}},
            {"mode": "pull-request", "base-url": model.url, "api-key": "sk-test", "model": "scripted-model"},
            {"GITHUB_API_URL": github.url, "GITHUB_REF_NAME": "main", "GITHUB_ACTOR": "maintainer"})
    assert status == 0, log
    assert outputs["solved"] == "true" and outputs["iterations"] == "1" and (repo / outputs["patch"]).is_file()
    branch = "makegreen/run-4242-1"
    assert git(origin, "log", "-1", "--format=%s", branch).startswith("makegreen: make 18 tests pass")
    [(method, path, body)] = github.calls
    assert (method, path) == ("POST", "/repos/acme/app/pulls") and body["head"] == branch and body["base"] == "main"
    assert "```diff" in body["body"] and "+def from_roman" in body["body"]
    assert "| tests before | 1 errors |" in summary and "| tests after | 18 passed |" in summary
    assert "<details>" in summary and "opened https://github.test/acme/app/pull/12" in summary


def test_pull_request_in_commit_mode_pushes_the_fix_to_its_branch(project, tmp_path, github, runner_python):
    repo, origin = project
    git(repo, "checkout", "-q", "-b", "feature")
    git(repo, "push", "-q", "origin", "feature")
    event = {"pull_request": {"number": 7, "head": {"ref": "feature", "repo": {"full_name": "acme/app"}}}}
    with ScriptedServer([Reply(ROMAN)]) as model:
        status, outputs, summary, log = run_action(
            repo, tmp_path, runner_python, "pull_request", event,
            {"mode": "commit", "base-url": model.url, "model": "scripted-model"},
            {"GITHUB_API_URL": github.url, "GITHUB_HEAD_REF": "feature", "GITHUB_ACTOR": "maintainer"})
    assert status == 0 and outputs["solved"] == "true", log
    assert git(origin, "rev-parse", "feature") == git(repo, "rev-parse", "HEAD")
    assert "Generated-by: makegreen (scripted-model)" in git(origin, "log", "-1", "--format=%B", "feature")
    assert github.calls == [] and "pushed" in summary


def test_a_command_comment_from_a_writer_gets_the_patch_as_a_comment(project, tmp_path, github, runner_python):
    repo, _origin = project
    marker = tmp_path / "pwned"
    body = f"/makegreen keep it short $(touch {marker}) `touch {marker}`\nand no new dependencies"
    event = {"issue": {"number": 7, "pull_request": {"url": "x"}}, "comment": {"body": body}}
    with ScriptedServer([Reply(ROMAN)]) as model:
        status, outputs, summary, log = run_action(
            repo, tmp_path, runner_python, "issue_comment", event,
            {"mode": "comment", "base-url": model.url, "model": "scripted-model"},
            {"GITHUB_API_URL": github.url, "GITHUB_ACTOR": "maintainer"})
        asked = "\n".join(m["content"] for m in model.chat_requests()[0]["messages"])
    assert status == 0 and outputs["solved"] == "true", log
    assert [(m, p) for m, p, _ in github.calls] == [("GET", "/repos/acme/app/collaborators/maintainer/permission"),
                                                   ("POST", "/repos/acme/app/issues/7/comments")]
    comment = github.calls[1][2]["body"]
    assert comment.startswith("**makegreen**: GREEN") and "```diff" in comment and "+def to_roman" in comment
    assert "keep it short" in asked and "and no new dependencies" in asked
    assert not marker.exists()  # the comment's text was never run by a shell
    assert not (repo / "roman.py").exists()  # comment mode leaves the checkout as it was


def test_a_command_comment_from_someone_without_write_access_does_nothing(project, tmp_path, github,
                                                                          runner_python):
    repo, _origin = project
    event = {"issue": {"number": 7, "pull_request": {"url": "x"}}, "comment": {"body": "/makegreen"}}
    with ScriptedServer([Reply(ROMAN)]) as model:
        status, outputs, _summary, log = run_action(
            repo, tmp_path, runner_python, "issue_comment", event, {"base-url": model.url},
            {"GITHUB_API_URL": github.url, "GITHUB_ACTOR": "stranger"})
        assert model.chat_requests() == []
    assert status == 0 and outputs["solved"] == "false" and "may not run /makegreen" in log
    assert [m for m, _p, _b in github.calls] == ["GET"]


def test_commit_mode_refuses_a_pull_request_from_a_fork(project, tmp_path, github, runner_python):
    repo, _origin = project
    event = {"pull_request": {"number": 9, "head": {"ref": "patch-1", "repo": {"full_name": "mallory/app"}}}}
    status, _outputs, _summary, log = run_action(
        repo, tmp_path, runner_python, "pull_request", event, {"mode": "commit", "base-url": "http://127.0.0.1:9"},
        {"GITHUB_API_URL": github.url, "GITHUB_ACTOR": "mallory"})
    assert status == 2 and "lives in a fork" in log


def test_a_refused_push_still_leaves_the_summary_and_outputs(project, tmp_path, github, runner_python):
    repo, origin = project
    git(repo, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    with ScriptedServer([Reply(ROMAN)]) as model:
        status, outputs, summary, log = run_action(
            repo, tmp_path, runner_python, "workflow_dispatch", {"inputs": {}},
            {"mode": "pull-request", "base-url": model.url, "model": "scripted-model"},
            {"GITHUB_API_URL": github.url, "GITHUB_REF_NAME": "main", "GITHUB_ACTOR": "maintainer"})
    assert status == 3 and "git push" in log, log
    assert outputs["solved"] == "true" and (repo / outputs["patch"]).is_file()
    assert "failed: git push" in summary and github.calls == []


def test_a_command_comment_is_answered_in_comment_mode_only(project, tmp_path, github, runner_python):
    repo, _origin = project
    event = {"issue": {"number": 7, "pull_request": {"url": "x"}}, "comment": {"body": "/makegreen"}}
    status, _outputs, _summary, log = run_action(
        repo, tmp_path, runner_python, "issue_comment", event, {"mode": "commit", "base-url": "http://127.0.0.1:9"},
        {"GITHUB_API_URL": github.url, "GITHUB_ACTOR": "maintainer"})
    assert status == 2 and "answered with a comment" in log and github.calls == []


@pytest.mark.parametrize("path, schema", [
    ("action.yml", "vendor.github-actions"),
    ("examples/github/makegreen-dispatch.yml", "vendor.github-workflows"),
    ("examples/github/makegreen-pull-request.yml", "vendor.github-workflows"),
    ("examples/github/makegreen-comment.yml", "vendor.github-workflows"),
])
def test_the_action_and_the_example_workflows_validate_against_githubs_schemas(path, schema):
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(ROOT / path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_untrusted_text_never_reaches_a_shell_script_through_an_expression():
    for path in ["action.yml", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples/github").glob("*.yml"))]:
        text = yaml.safe_load((ROOT / path).read_text())
        scripts = [step["run"] for step in _steps(text) if "run" in step]
        for script in scripts:
            assert "${{" not in script, f"{path}: an expression inside run:"


def _steps(document: dict) -> list[dict]:
    if "runs" in document:
        return document["runs"]["steps"]
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def test_the_job_summary_stays_under_githubs_limit_with_a_huge_diff():
    diff = "".join(f"+line {n} " + "x" * 80 + "\n" for n in range(30_000))
    text = job_summary({"status": "green", "diff": diff, "tests": {"passed": 3}}, "comment", "")
    assert len(text.encode()) < SUMMARY_LIMIT and "cut: the whole patch" in text and text.endswith("</details>\n")
