"""The pre-commit hook with real git: installed where git looks, chained with a hook already there, testing the
staged snapshot; and a test-first commit stopped, fixed, and committed after `git add`."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ANSWERS, ROOT, git, make_repo, tree_bytes
from tests.scripted_server import Reply, ScriptedServer

# they build and install this checkout (pip, pre-commit): two at once would write its build folders together
pytestmark = pytest.mark.xdist_group("install")

ROMAN = (ANSWERS / "roman.md").read_text()
ROMAN_CODE = ROMAN.split("```python\n", 1)[1].rsplit("```", 1)[0]
WRONG_CODE = "def to_roman(n):\n    return 'I' * n\n\n\ndef from_roman(s):\n    return len(s)\n"


def environ(server: ScriptedServer | None = None, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MAKEGREEN_", "GIT_"))}
    env.update(PYTHONPATH=str(ROOT), OPENAI_API_KEY="test-key", MAKEGREEN_MODEL="scripted-model",
               MAKEGREEN_SANDBOX="local", **extra)
    if server is not None:
        env["OPENAI_BASE_URL"] = server.url
    return env


def makegreen(repo, *args, env=None):
    return subprocess.run([sys.executable, "-m", "agent", *args], cwd=repo, env=env or environ(),
                          capture_output=True, text=True, timeout=300)


def commit(repo, message, env):
    """git commit; its hooks' output comes on stderr (git sends it there), joined to stdout here."""
    return subprocess.run(["git", "commit", "-m", message], cwd=repo, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)


def test_install_is_idempotent_keeps_a_foreign_hook_running_and_uninstall_restores_it(tmp_path):
    repo = make_repo(tmp_path / "r", {"tests/test_ok.py": "def test_ok():\n    assert True\n"})
    hooks = repo / ".git" / "hooks"
    foreign = "#!/bin/sh\necho foreign-ran >> \"$(git rev-parse --show-toplevel)/foreign.log\"\n"
    (hooks / "pre-commit").write_text(foreign)
    (hooks / "pre-commit").chmod(0o755)
    first = makegreen(repo, "hook", "install")
    assert first.returncode == 0 and "your hook is kept" in first.stdout, first.stderr
    installed = (hooks / "pre-commit").read_bytes()
    again = makegreen(repo, "hook", "install")
    assert "nothing changed" in again.stdout and (hooks / "pre-commit").read_bytes() == installed
    (repo / "new.txt").write_text("x\n")
    git(repo, "add", "new.txt")
    done = commit(repo, "with both hooks", environ())
    assert done.returncode == 0, done.stdout
    assert (repo / "foreign.log").read_text() == "foreign-ran\n" and "the staged tests pass" in done.stdout
    gone = makegreen(repo, "hook", "uninstall")
    assert "your earlier hook is back" in gone.stdout and (hooks / "pre-commit").read_text() == foreign
    assert not (hooks / "pre-commit.before-makegreen").exists()
    assert "nothing changed" in makegreen(repo, "hook", "uninstall").stdout


def test_install_follows_core_hooks_path_and_linked_worktrees(tmp_path):
    repo = make_repo(tmp_path / "r", {"tests/test_ok.py": "def test_ok():\n    assert True\n"})
    git(repo, "config", "core.hooksPath", ".githooks")
    assert makegreen(repo, "hook", "install").returncode == 0
    assert (repo / ".githooks" / "pre-commit").is_file() and not (repo / ".git" / "hooks" / "pre-commit").exists()
    other = make_repo(tmp_path / "o", {"tests/test_ok.py": "def test_ok():\n    assert True\n"})
    git(other, "worktree", "add", "-q", "-b", "side", str(tmp_path / "wt"))
    assert makegreen(tmp_path / "wt", "hook", "install", "--fix").returncode == 0
    assert "hook run --fix" in (other / ".git" / "hooks" / "pre-commit").read_text()  # shared by the worktrees


def test_the_hook_tests_what_is_staged_not_the_working_tree_and_stashes_nothing(tmp_path):
    repo = make_repo(tmp_path / "roman", example="roman")
    (repo / "roman.py").write_text(WRONG_CODE)
    git(repo, "add", "roman.py")
    (repo / "roman.py").write_text(ROMAN_CODE)  # right, but not staged
    red = makegreen(repo, "hook", "run", "--check")
    assert red.returncode == 1 and "the staged tests are red (1 passed, 17 failed)" in red.stdout, red.stderr
    assert "tests/test_roman.py::test_round_trip[4-IV]" in red.stdout
    assert (repo / "roman.py").read_text() == ROMAN_CODE and git(repo, "stash", "list") == ""
    git(repo, "add", "roman.py")
    (repo / "roman.py").write_text("raise SystemExit('broken, unstaged')\n")
    green = makegreen(repo, "hook", "run", "--check")
    assert green.returncode == 0 and "the staged tests pass (18 passed" in green.stdout, green.stderr


def test_a_test_first_commit_is_stopped_fixed_unstaged_and_then_committed(tmp_path):
    repo = make_repo(tmp_path / "app", {"README.md": "an app\n"})
    assert makegreen(repo, "hook", "install", "--fix").returncode == 0
    for name in ("tests/test_roman.py",):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes((ROOT / "examples" / "roman" / name).read_bytes())
    git(repo, "add", "tests")
    with ScriptedServer([Reply(ROMAN)]) as server:
        stopped = commit(repo, "tests for roman numerals", environ(server))
    assert stopped.returncode != 0, stopped.stdout
    assert "is in your working tree, unstaged" in stopped.stdout and "accept it with `git add roman.py`" in stopped.stdout
    assert git(repo, "log", "--format=%s") == "tests first\n"  # nothing committed
    assert git(repo, "status", "--porcelain", "roman.py") == "?? roman.py\n"  # written, not staged
    git(repo, "add", "roman.py")
    done = commit(repo, "roman numerals", environ())
    assert done.returncode == 0, done.stdout
    assert "the staged tests pass" in done.stdout
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["roman.py", "tests/test_roman.py"]


def test_a_partly_staged_file_is_never_overwritten_the_fix_is_saved_as_a_patch(tmp_path):
    repo = make_repo(tmp_path / "roman", example="roman")
    (repo / "roman.py").write_text(WRONG_CODE)
    git(repo, "add", "roman.py")
    (repo / "roman.py").write_text(WRONG_CODE + "\n# still thinking about this\n")
    before = tree_bytes(repo)
    with ScriptedServer([Reply(ROMAN)]) as server:
        result = makegreen(repo, "hook", "run", "--fix", env=environ(server))
    assert result.returncode == 1, result.stderr
    assert "roman.py is partly staged" in result.stdout and "nothing was written" in result.stdout
    assert tree_bytes(repo) == before
    patch = result.stdout.split("The change is saved in ")[1].split(":")[0]
    assert "+def from_roman" in (repo / patch).read_text()


def test_hook_settings_come_from_their_own_table(tmp_path):
    from agent.run.config import load_settings

    (tmp_path / "pyproject.toml").write_text("[tool.makegreen]\nmax-iterations = 10\nmodel = 'm'\n"
                                             "[tool.makegreen.hook]\nbudget-usd = 0.5\n")
    hook = load_settings(tmp_path, {}, {}, hook=True)
    plain = load_settings(tmp_path, {}, {})
    assert (hook.max_iterations, hook.timeout, hook.model) == (4, 600.0, "m")
    assert (plain.max_iterations, plain.timeout) == (10, None)
    assert hook.budget_usd == 0.5 and plain.budget_usd is None


def test_the_pre_commit_framework_runs_both_hooks_from_this_repository(tmp_path, base_image):
    """pre-commit try-repo installs makegreen from this checkout into its own environment, as users' pre-commit
    does from the published repository, and runs the hooks there."""
    repo = make_repo(tmp_path / "roman", example="roman")
    env = environ(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), MAKEGREEN_BASE_IMAGE=base_image)
    del env["MAKEGREEN_SANDBOX"], env["PYTHONPATH"]  # the hook's own environment, and the Docker sandbox

    def try_repo(hook_id, *extra, env=env):
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook_id, "--all-files",
                               *extra], cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=900)

    checked = try_repo("makegreen-check")
    assert checked.returncode == 1 and "makegreen check" in checked.stdout, checked.stdout
    assert "tests/test_roman.py: ModuleNotFoundError: No module named 'roman'" in checked.stdout
    with ScriptedServer([Reply(ROMAN)]) as server:
        fixed = try_repo("makegreen-fix", "--hook-stage", "manual", env={**env, "OPENAI_BASE_URL": server.url})
    assert fixed.returncode == 1 and "is in your working tree, unstaged" in fixed.stdout, fixed.stdout
    assert (repo / "roman.py").read_text() == ROMAN_CODE
    git(repo, "add", "roman.py")
    assert try_repo("makegreen-check").returncode == 0


def test_the_hook_reads_the_staged_configuration_not_the_working_trees(tmp_path):
    repo = make_repo(tmp_path / "roman", example="roman")
    (repo / "pyproject.toml").write_text("[tool.makegreen\n")  # broken, and not staged: not what is committed
    result = makegreen(repo, "hook", "run", "--check")
    assert result.returncode == 1 and "not valid TOML" not in result.stderr, result.stderr
    git(repo, "add", "pyproject.toml")
    result = makegreen(repo, "hook", "run", "--check")
    assert result.returncode == 2 and "not valid TOML" in result.stderr


def test_the_hook_never_imports_an_agent_folder_of_the_repository(tmp_path):
    """A branch someone else wrote may carry agent/__main__.py: `python -m agent` in the repository would run it,
    with the committer's environment. The hook starts makegreen from its installed package instead."""
    marker = tmp_path / "ran"
    repo = make_repo(tmp_path / "r", {"tests/test_ok.py": "def test_ok():\n    assert True\n",
                                      "agent/__init__.py": "", "agent/cli/__init__.py": "",
                                      "agent/__main__.py": f"open({str(marker)!r}, 'w').write('x')\n",
                                      "agent/launch.py": f"open({str(marker)!r}, 'w').write('x')\n"})
    from agent import LAUNCH  # (`-m agent` here, as the other tests run makegreen, would import the repo's own)

    installed = subprocess.run([sys.executable, "-c", LAUNCH, "hook", "install"], cwd=repo, env=environ(),
                               capture_output=True, text=True)
    assert installed.returncode == 0 and not marker.exists(), installed.stderr
    (repo / "notes.txt").write_text("a change\n")
    git(repo, "add", "notes.txt")
    done = commit(repo, "a change", environ())
    assert done.returncode == 0 and "the staged tests pass" in done.stdout, done.stdout
    assert not marker.exists()
