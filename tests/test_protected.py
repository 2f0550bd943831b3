"""What the model may not write besides the tests: CI, hooks, task runners, install-time code."""
import pytest

from agent.workspace.edits import TestGuard, WholeFile, apply_edits, check_path
from agent.workspace.snapshot import Workspace
from agent.core.errors import ConfigError
from agent.honesty.protected import DEFAULT_PROTECTED, ProtectedPaths, matches


@pytest.mark.parametrize("path", [
    ".github/workflows/ci.yml", ".github/actions/setup/action.yml", "action.yml", "tools/action.yaml",
    ".gitlab-ci.yml", ".ci/run", ".pre-commit-config.yaml", ".githooks/pre-push", "Makefile", "docs/Makefile",
    "noxfile.py", "setup.py", "pkg/setup.py", "scripts/release.sh", "Jenkinsfile", ".circleci/config.yml",
])
def test_ci_and_automation_files_are_protected_by_default(path):
    reason = ProtectedPaths()(path)
    assert reason and path in reason and "may not create or change it" in reason


@pytest.mark.parametrize("path", ["roman.py", "src/pkg/ci.py", "github/workflows.py", ".githubx/a.py",
                                  "docs/Makefile.md", "setup_helpers.py", "src/ci/run.py"])
def test_ordinary_code_is_not(path):
    assert ProtectedPaths()(path) is None


def test_patterns_without_a_slash_match_a_name_anywhere_and_with_one_from_the_root():
    assert matches("Makefile", "a/b/Makefile") and not matches("Makefile", "a/Makefile.in")
    assert matches(".ci/**", ".ci/x/y") and not matches(".ci/**", "pkg/.ci/x")
    assert matches("docs/*.md", "docs/a.md") and not matches("docs/*.md", "docs/x/a.md")
    assert matches("**/secret.py", "secret.py") and matches("**/secret.py", "a/b/secret.py")


def test_a_maintainer_widens_and_narrows_the_list():
    paths = ProtectedPaths(protect=("deploy/**", "*.cfg"), unprotect=("Makefile", "*.sh"))
    assert paths("deploy/prod.py") and paths("setup.cfg")
    assert paths("Makefile") is None and paths("scripts/x.sh") is None
    assert paths(".github/workflows/ci.yml")  # the rest of the defaults hold
    with pytest.raises(ConfigError, match="not a default protected pattern"):
        ProtectedPaths(unprotect=("Makefiles",))
    assert "Makefile" in DEFAULT_PROTECTED


def test_refused_edits_are_marked_protected_and_nothing_is_written(tmp_path):
    (tmp_path / ".github/workflows").mkdir(parents=True)
    (tmp_path / "ci").symlink_to(".github/workflows")
    guard = TestGuard({"tests/test_x.py"})
    workspace = Workspace(tmp_path)
    outcome = apply_edits(workspace, [WholeFile("x.py", "x = 1\n"), WholeFile(".github/workflows/a.yml", "on: push"),
                                      WholeFile("ci/b.yml", "on: push"), WholeFile("tests/test_x.py", "")], guard)
    assert outcome.changed == ["x.py"] and list(outcome.written) == ["x.py"]
    assert [(r.path, r.protected) for r in outcome.refused] == [
        (".github/workflows/a.yml", True), ("ci/b.yml", True), ("tests/test_x.py", True)]
    assert "workflows" in outcome.refused[1].reason  # judged by where the link leads
    assert sorted(p.name for p in (tmp_path / ".github/workflows").iterdir()) == []
    assert check_path(workspace, "ci/b.yml", lambda path: None) is None  # without protection, links inside are fine
