"""The GitHub Action, run as GitHub would run its steps: a simulated runner (GITHUB_* variables, an event file,
a local bare repository as origin) and a loopback server standing in for GitHub's REST API."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from agent.integrations.github import SUMMARY_LIMIT, job_summary
from agent.run.summary import RunSummary
from tests.conftest import ANSWERS, ROOT, git
from tests.github_runner import comment_event, open_pull, run_action
from tests.scripted_server import Reply, ScriptedServer

# they build and install this checkout (pip, pre-commit): two at once would write its build folders together
pytestmark = pytest.mark.xdist_group("install")

ROMAN = (ANSWERS / "roman.md").read_text()


def test_dispatch_in_pull_request_mode_pushes_a_branch_and_opens_a_pull_request(project, tmp_path, github,
                                                                                 runner_python):
    repo, origin = project
    with ScriptedServer([Reply(ROMAN)]) as model:
        status, outputs, summary, log = run_action(
            repo, tmp_path, runner_python, "workflow_dispatch", {"inputs": {}},
            {"mode": "pull-request", "base-url": model.url, "model": "scripted-model"},
            {"GITHUB_API_URL": github.url, "GITHUB_REF_NAME": "main", "GITHUB_ACTOR": "maintainer"})
    assert status == 0, log
    assert outputs["solved"] == "true" and outputs["iterations"] == "1" and (repo / outputs["patch"]).is_file()
    branch = "makegreen/run-4242-1"
    assert git(origin, "log", "-1", "--format=%s", branch).startswith("makegreen: make 18 tests pass")
    [(method, path, body)] = github.calls
    assert (method, path) == ("POST", "/repos/acme/app/pulls") and body["head"] == branch and body["base"] == "main"
    assert "```diff" in body["body"] and "+def from_roman" in body["body"]
    assert "No change to propose" not in body["body"]
    assert "| tests before | 1 error |" in summary and "| tests after | 18 passed |" in summary
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
    assert github.posted() == [] and "pushed" in summary


def test_a_command_comment_from_a_writer_gets_the_patch_as_a_comment(project, tmp_path, github, runner_python):
    repo, _origin = project
    marker = tmp_path / "pwned"
    body = f"/makegreen keep it short $(touch {marker}) `touch {marker}`\nand no new dependencies"
    head = open_pull(github, repo, 7, pushed="2026-11-30T10:00:00Z")
    event = comment_event(7, body, "2026-11-30T10:05:00Z")
    with ScriptedServer([Reply(ROMAN)]) as model:
        status, outputs, summary, log = run_action(
            repo, tmp_path, runner_python, "issue_comment", event,
            {"mode": "comment", "base-url": model.url, "model": "scripted-model"},
            {"GITHUB_API_URL": github.url, "GITHUB_ACTOR": "maintainer"})
        asked = "\n".join(m["content"] for m in model.chat_requests()[0]["messages"])
    assert status == 0 and outputs["solved"] == "true", log
    assert [(m, p.split("?")[0]) for m, p, _ in github.calls] == [
        ("GET", "/repos/acme/app/collaborators/maintainer/permission"), ("GET", "/repos/acme/app/pulls/7"),
        ("GET", "/repos/acme/app/activity"), ("POST", "/repos/acme/app/issues/7/comments")]
    [comment] = [body["body"] for body in github.posted()]
    assert comment.startswith("**makegreen**: GREEN") and "```diff" in comment and "+def to_roman" in comment
    assert f"on {head[:12]}" in comment  # the commit the patch was made for
    assert ".makegreen/runs" not in summary  # no path on the runner passed off as where the patch is
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
    assert status == 2 and "lives in a fork" in log, log


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
            # run in the checkout, `python -m X` imports the checkout's X/ first: its code, the job's secrets
            assert not re.search(r"python3?\s+(?!-I\b)(\S+\s+)*-m\b", script), f"{path}: python -m without -I"


def _steps(document: dict) -> list[dict]:
    if "runs" in document:
        return document["runs"]["steps"]
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def test_the_job_summary_stays_under_githubs_limit_with_a_huge_diff():
    diff = "".join(f"+line {n} " + "x" * 80 + "\n" for n in range(30_000))
    text = job_summary(RunSummary.from_json({"status": "green", "diff": diff, "tests": {"passed": 3}}), "comment", "")
    assert len(text.encode()) < SUMMARY_LIMIT and "cut: the whole patch" in text and text.endswith("</details>\n")
