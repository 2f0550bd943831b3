"""End-to-end tests: whole makegreen processes against the scripted model. Most are `full` (run by .ci/run);
the newcomer's suite keeps one per way makegreen is used (NEWCOMER). Also the Action's tests' checkout (the
runner's Python and the fake GitHub are in tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import git, make_repo

# The end-to-end tests in the README's fast suite: a solve in Docker, the hook, the Action, honest green, the
# generalisation check, a record shown, an interrupt, a commit. Every other one runs in .ci/run (`-m full`).
NEWCOMER = {
    "test_solve.py::test_every_example_ends_green_in_docker[roman-roman.md-created0]",
    "test_solve.py::test_b_failures_reach_the_second_request_then_solved[docker]",
    "test_hook.py::test_a_test_first_commit_is_stopped_fixed_unstaged_and_then_committed",
    "test_action.py::test_pull_request_in_commit_mode_pushes_the_fix_to_its_branch",
    "test_integrity.py::test_a_cheat_is_never_green_and_the_reason_is_named[sys.exit(0) at import]",
    "test_integrity.py::test_one_case_of_a_parametrized_test_is_held_out_by_default",
    "test_records.py::test_runs_lists_and_show_tells_a_run_step_by_step",
    "test_reliability.py::test_an_interrupt_at_a_named_moment_ends_at_once_with_130_and_leaves_nothing"
    "[2-the baseline test run]",
    "test_git.py::test_commit_works_in_a_linked_worktree",
}


def pytest_collection_modifyitems(config, items):
    missing = NEWCOMER - {item.nodeid.split("/e2e/", 1)[1] for item in items if "/e2e/" in item.nodeid}
    if missing and not config.args or missing and all(arg.rstrip("/").endswith("tests") for arg in config.args):
        raise pytest.UsageError(f"NEWCOMER names end-to-end tests that do not exist: {sorted(missing)}")
    for item in items:
        if "/e2e/" in item.nodeid and item.nodeid.split("/e2e/", 1)[1] not in NEWCOMER:
            item.add_marker(pytest.mark.full)


@pytest.fixture
def project(tmp_path, base_image) -> tuple[Path, Path]:
    """A checkout of acme/app with a red test suite, its origin a bare repository. The Action runs the tests in
    Docker only (base_image: the engine and the image are there)."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    repo = make_repo(tmp_path / "app", example="roman")
    git(repo, "branch", "-M", "main")
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    return repo, origin
