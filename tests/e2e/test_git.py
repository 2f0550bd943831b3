"""--commit and --branch in real repositories: the fix committed through the hooks, or a clear refusal."""
from __future__ import annotations

import stat

import pytest

from tests.conftest import ANSWERS, git, make_repo
from tests.e2e.test_solve import solve, summary_of
from tests.scripted_server import Reply, ScriptedServer

ROMAN = (ANSWERS / "roman.md").read_text()


def solved(repo, *args):
    with ScriptedServer([Reply(ROMAN)]) as server:
        return solve(repo, server, "--json", "--sandbox", "local", *args)


def test_commit_names_the_tests_and_leaves_the_users_staged_work_alone(tmp_path):
    repo = make_repo(tmp_path / "roman", example="roman")
    (repo / "notes.txt").write_text("my work in progress\n")
    git(repo, "add", "notes.txt")
    result = solved(repo, "--commit")
    summary = summary_of(result)
    assert result.returncode == 0 and summary["status"] == "green", result.stderr
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("makegreen: make 18 tests pass in tests/test_roman.py")
    assert "- tests/test_roman.py::test_round_trip" in message or "tests/test_roman.py::" in message
    assert git(repo, "log", "-1", "--format=%(trailers:key=Generated-by,valueonly)").strip() == \
        "makegreen (scripted-model)"
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["roman.py"]
    assert summary["commit"] == git(repo, "rev-parse", "HEAD").strip() and summary["branch"] in ("master", "main")
    assert git(repo, "diff", "--cached", "--name-only").split() == ["notes.txt"]  # still staged, not committed


def test_branch_puts_the_fix_on_a_new_branch(tmp_path):
    repo = make_repo(tmp_path / "roman", example="roman")
    start = git(repo, "rev-parse", "HEAD").strip()
    first = git(repo, "branch", "--show-current").strip()
    result = solved(repo, "--branch", "makegreen/roman")
    assert result.returncode == 0, result.stderr
    assert git(repo, "branch", "--show-current").strip() == "makegreen/roman"
    assert git(repo, "rev-parse", "HEAD~1").strip() == start
    assert git(repo, "rev-parse", first).strip() == start  # the branch it came from is as it was


def test_the_hooks_run_and_a_refusing_hook_leaves_the_fix_applied_and_uncommitted(tmp_path):
    repo = make_repo(tmp_path / "roman", example="roman")
    hook = repo / ".git" / "hooks" / "commit-msg"
    hook.write_text("#!/bin/sh\necho 'commit-msg hook: ticket number missing' >&2\nexit 1\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    start = git(repo, "rev-parse", "HEAD").strip()
    result = solved(repo, "--commit")
    summary = summary_of(result)
    assert result.returncode == 6 and summary["status"] == "not_committed", result.stderr
    assert "ticket number missing" in summary["message"]
    assert (repo / "roman.py").read_text() in ROMAN and git(repo, "rev-parse", "HEAD").strip() == start


def test_a_fix_mixed_with_uncommitted_work_is_not_committed(tmp_path):
    repo = make_repo(tmp_path / "roman", example="roman")
    (repo / "roman.py").write_text("# my draft, not committed\n")
    result = solved(repo, "--commit")
    summary = summary_of(result)
    assert result.returncode == 6 and "held uncommitted changes" in summary["message"], result.stderr
    assert git(repo, "log", "--format=%s").count("\n") == 1  # only the first commit


def test_commit_works_in_a_linked_worktree(tmp_path):
    repo = make_repo(tmp_path / "roman", example="roman")
    git(repo, "worktree", "add", "-q", "-b", "feature", str(tmp_path / "wt"))
    worktree = tmp_path / "wt"
    assert (worktree / ".git").is_file()
    result = solved(worktree, "--commit")
    assert result.returncode == 0, result.stderr
    assert git(repo, "log", "-1", "--format=%s", "feature").startswith("makegreen: make 18 tests pass")
    assert not (repo / "roman.py").exists()


def _detached(repo):
    git(repo, "checkout", "-q", "--detach")


def _merging(repo):
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "README.txt").write_text("other\n")
    git(repo, "add", "README.txt")
    git(repo, "commit", "-qm", "other")
    git(repo, "checkout", "-q", "-")
    (repo / "README.txt").write_text("mine\n")
    git(repo, "add", "README.txt")
    git(repo, "commit", "-qm", "mine")
    git(repo, "merge", "other", check=False)


def _existing_branch(repo):
    git(repo, "branch", "taken")


@pytest.mark.parametrize("arrange, args, words", [
    (_detached, ["--commit"], "HEAD is detached"),
    (_merging, ["--commit"], "merge is in progress"),
    (_merging, ["--branch", "fix"], "merge is in progress"),
    (_existing_branch, ["--branch", "taken"], "exists already"),
    (None, ["--branch", "bad..name"], "not a valid branch name"),
    (None, ["--commit", "--no-apply"], "cannot go with --no-apply"),
])
def test_states_a_commit_cannot_come_from_are_refused_before_anything_is_spent(tmp_path, arrange, args, words):
    repo = make_repo(tmp_path / "roman", example="roman")
    if arrange:
        arrange(repo)
    with ScriptedServer([Reply(ROMAN)]) as server:
        result = solve(repo, server, "--sandbox", "local", *args)
        assert server.chat_requests() == []
    assert result.returncode == 2 and words in result.stderr, result.stderr
    assert not (repo / "roman.py").exists()
