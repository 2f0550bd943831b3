import os
import subprocess

import pytest

from agent.core.errors import ApplyConflict, ConfigError
from agent.workspace.snapshot import Workspace, list_files
from agent.workspace.state import state_dir
from tests.conftest import make_repo, tree_bytes


@pytest.fixture
def repo(tmp_path):
    root = make_repo(tmp_path / "repo", {"mod.py": "A = 1\n", "tests/test_mod.py": "def test(): pass\n",
                                         ".gitignore": "ignored.txt\n"})
    (root / "ignored.txt").write_text("secret")
    (root / "untracked.py").write_text("U = 1\n")
    return root


def test_snapshot_holds_tracked_and_untracked_but_not_ignored_files(repo):
    state_dir(repo)
    assert list_files(repo) == [".gitignore", "mod.py", "tests/test_mod.py", "untracked.py"]


def test_state_dir_keeps_itself_out_of_git(repo):
    (state_dir(repo) / "runs").mkdir()
    (repo / ".makegreen" / "runs" / "x.json").write_text("{}")
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout
    assert ".makegreen" not in status


def test_changes_stay_in_the_copy_until_applied(repo):
    before = tree_bytes(repo)
    ws = Workspace(repo)
    ws.write({"mod.py": b"A = 2\n", "pkg/new.py": b"N = 1\n"})
    assert tree_bytes(repo) == before
    assert ws.changes() == {"mod.py": b"A = 2\n", "pkg/new.py": b"N = 1\n"}
    assert "-A = 1\n+A = 2\n" in ws.diff() and "+++ b/pkg/new.py" in ws.diff()
    os.chmod(repo / "mod.py", 0o755)
    ws.apply(repo / ".makegreen" / "p.patch")
    assert (repo / "mod.py").read_text() == "A = 2\n" and (repo / "pkg" / "new.py").read_text() == "N = 1\n"
    assert os.stat(repo / "mod.py").st_mode & 0o777 == 0o755
    ws.write({"mod.py": b"A = 1\n"})  # back as the snapshot had it: no longer a change
    assert ws.changes() == {"pkg/new.py": b"N = 1\n"}


def test_unsynced_reports_each_change_once(repo):
    ws = Workspace(repo)
    ws.write({"mod.py": b"A = 2\n"})
    assert ws.unsynced() == {"mod.py": b"A = 2\n"}
    assert ws.unsynced() == {}
    ws.write({"mod.py": None, "new.py": b"N = 1\n"})
    assert ws.unsynced() == {"mod.py": None, "new.py": b"N = 1\n"}
    ws.restore({})  # back to the snapshot: the sandbox gets the original back and loses the new file
    assert ws.unsynced() == {"mod.py": b"A = 1\n", "new.py": None}


def test_a_file_changed_meanwhile_blocks_the_whole_apply_and_saves_the_patch(repo):
    ws = Workspace(repo)
    ws.write({"mod.py": b"A = 2\n", "new.py": b"N = 1\n"})
    (repo / "mod.py").write_text("A = 'the user was here'\n")
    before = tree_bytes(repo)
    patch = repo / ".makegreen" / "changes.patch"
    with pytest.raises(ApplyConflict, match="mod.py changed while makegreen ran") as caught:
        ws.apply(patch)
    assert caught.value.paths == ["mod.py"]
    assert tree_bytes(repo) == before
    assert "+A = 2" in patch.read_text()


def test_works_outside_git_too(tmp_path):
    (tmp_path / "m.py").write_text("x = 1\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "lib.py").write_text("")
    assert list_files(tmp_path) == ["m.py"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can run makegreen as one user in another's tree")
def test_written_files_carry_the_users_ownership_even_when_root_applies(repo):
    os.chown(repo, 4321, 4321)
    os.chown(repo / "mod.py", 4321, 4321)
    os.chmod(repo / "mod.py", 0o640)
    ws = Workspace(repo)
    ws.write({"mod.py": b"A = 2\n", "pkg/sub/new.py": b"N = 1\n"})
    ws.apply(repo / ".makegreen" / "p.patch")
    for path in ("mod.py", "pkg", "pkg/sub", "pkg/sub/new.py"):
        info = (repo / path).stat()
        assert (info.st_uid, info.st_gid) == (4321, 4321), path
    assert (repo / "mod.py").stat().st_mode & 0o777 == 0o640


def test_a_folder_that_refuses_writes_stops_the_apply_before_any_file_is_replaced(repo, tmp_path):
    ws = Workspace(repo)
    ws.write({"mod.py": b"A = 2\n", "locked/new.py": b"N = 1\n"})
    (repo / "locked").write_text("a file where the change wants a folder\n")
    before = tree_bytes(repo)
    with pytest.raises(ConfigError, match="nothing was applied"):
        ws.apply(tmp_path / "saved.patch")
    assert tree_bytes(repo) == before and "+A = 2" in (tmp_path / "saved.patch").read_text()
