"""The apply cannot lose a byte: the lock, the check again just before the renames, the staging inside
.makegreen/, the journal that the next run finishes, interrupts deferred and reported, and undo."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from agent.core.errors import ApplyConflict, ConfigError
from agent.workspace.state import STATE_DIR
from agent.workspace.apply import recover, write_all
from agent.workspace.undo import save_undo, undo
from sandbox.owner import Owner
from tests.conftest import ROOT, tree_bytes

ORIGINAL = {"a.py": b"A = 1\n", "b.py": b"B = 1\n"}
CHANGES = {"a.py": b"A = 2\n", "b.py": b"B = 2\n", "pkg/new.py": b"N = 1\n"}


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for path, content in ORIGINAL.items():
        (root / path).write_bytes(content)
    return root


def user_files(root: Path) -> dict[str, bytes]:
    return {path: content for path, content in tree_bytes(root).items() if not path.startswith(STATE_DIR + "/")}


def test_an_edit_landing_between_check_and_write_is_never_overwritten(tree, tmp_path):
    def race() -> None:  # an editor's autosave, after the first check, before the renames
        (tree / "b.py").write_bytes(b"B = 'mine'\n")

    with pytest.raises(ApplyConflict, match="b.py changed while makegreen ran; nothing was written"):
        write_all(tree, ORIGINAL, CHANGES, patch_path=tmp_path / "fix.patch", diff="the diff", before_write=race)
    assert user_files(tree) == {"a.py": b"A = 1\n", "b.py": b"B = 'mine'\n"}
    assert (tmp_path / "fix.patch").read_text() == "the diff"
    assert list((tree / STATE_DIR).glob(".staging-*")) == [] and list((tree / STATE_DIR).glob("apply-*")) == []


def test_two_applies_at_once_take_turns_and_the_second_sees_the_first(tree, tmp_path):
    results: dict[int, str] = {}
    inside = threading.Event()

    def apply(n: int, content: bytes, wait: bool) -> None:
        def hold() -> None:
            if wait:
                inside.set()
                threading.Event().wait(0.5)  # the other apply starts now, and must wait for the lock
        try:
            write_all(tree, ORIGINAL, {"a.py": content}, patch_path=tmp_path / f"{n}.patch", diff="", before_write=hold)
            results[n] = "applied"
        except ApplyConflict:
            results[n] = "conflict"

    first = threading.Thread(target=apply, args=(1, b"A = 'first'\n", True))
    first.start()
    inside.wait(10)
    second = threading.Thread(target=apply, args=(2, b"A = 'second'\n", False))
    second.start()
    first.join(10)
    second.join(10)
    assert results == {1: "applied", 2: "conflict"}
    assert (tree / "a.py").read_bytes() == b"A = 'first'\n"


def test_ctrl_c_during_the_write_waits_for_it_and_is_raised_after(tree, tmp_path):
    written = []
    with pytest.raises(KeyboardInterrupt):
        write_all(tree, ORIGINAL, CHANGES, patch_path=tmp_path / "fix.patch", diff="",
                  before_write=lambda: os.kill(os.getpid(), signal.SIGINT), on_written=lambda: written.append(1))
    assert written == [1]
    assert user_files(tree) == CHANGES


def test_a_folder_in_the_way_stops_the_apply_before_any_file_is_replaced(tree, tmp_path):
    (tree / "pkg").write_text("a file where the change wants a folder\n")
    before = tree_bytes(tree)
    with pytest.raises(ConfigError, match="nothing was applied"):
        write_all(tree, ORIGINAL, CHANGES, patch_path=tmp_path / "fix.patch", diff="")
    assert {k: v for k, v in tree_bytes(tree).items() if not k.startswith(STATE_DIR)} == \
        {k: v for k, v in before.items() if not k.startswith(STATE_DIR)}


def dead_owner() -> Owner:
    done = subprocess.Popen(["true"])
    done.wait()
    return Owner(Owner.me().host, done.pid, "1")


def test_a_run_killed_in_the_middle_of_its_renames_is_finished_by_the_next(tree):
    """As a SIGKILL after the journal and the first rename leaves it: a.py new, b.py and pkg/new.py staged."""
    state = tree / STATE_DIR
    staging = state / f".staging-{dead_owner().tag()}-x1"
    staging.mkdir(parents=True)
    (tree / "a.py").write_bytes(CHANGES["a.py"])
    (staging / ".b.py.1.makegreen").write_bytes(CHANGES["b.py"])
    (tree / "pkg").mkdir()
    (staging / ".new.py.2.makegreen").write_bytes(CHANGES["pkg/new.py"])
    journal = {"files": [{"path": "a.py", "temp": str(staging / ".a.py.0.makegreen")},
                         {"path": "b.py", "temp": str(staging / ".b.py.1.makegreen")},
                         {"path": "pkg/new.py", "temp": str(staging / ".new.py.2.makegreen")}]}
    (state / f"apply-{staging.name}.json").write_text(json.dumps(journal))
    assert sorted(recover(tree)) == ["a.py", "b.py", "pkg/new.py"]
    assert user_files(tree) == CHANGES
    assert sorted(p.name for p in state.iterdir()) == ["apply.lock"]  # no journal, no staging left


def test_a_live_runs_journal_is_left_alone(tree):
    state = tree / STATE_DIR
    staging = state / f".staging-{Owner.me().tag()}-x2"
    staging.mkdir(parents=True)
    (state / f"apply-{staging.name}.json").write_text(json.dumps({"files": []}))
    assert recover(tree) == [] and staging.exists()


def test_sigkill_before_the_journal_leaves_the_tree_untouched_and_nothing_stray(tree, tmp_path):
    """Killed with everything staged, before the journal: the tree holds nothing of it (no temp file beside the
    user's files), and the next apply removes the staging."""
    script = textwrap.dedent(f"""
        import os, signal, sys
        from pathlib import Path
        sys.path.insert(0, {str(ROOT)!r})
        from agent.workspace.apply import write_all
        write_all(Path({str(tree)!r}), {ORIGINAL!r}, {CHANGES!r}, patch_path=Path({str(tmp_path / 'p.patch')!r}), diff="",
                  before_write=lambda: os.kill(os.getpid(), signal.SIGKILL))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert user_files(tree) == ORIGINAL  # no `.a.py.xyz.makegreen` beside the files, no pkg/new.py
    assert list((tree / STATE_DIR).glob(".staging-*"))  # what the killed run staged, inside .makegreen/
    write_all(tree, ORIGINAL, {"a.py": b"A = 3\n"}, patch_path=tmp_path / "q.patch", diff="")
    assert list((tree / STATE_DIR).glob(".staging-*")) == []
    assert (tree / "a.py").read_bytes() == b"A = 3\n"


def test_undo_puts_back_exactly_what_the_apply_replaced_and_refuses_once_it_moved_on(tree, tmp_path):
    run = tmp_path / "run"
    save_undo(run, ORIGINAL, CHANGES)
    write_all(tree, ORIGINAL, CHANGES, patch_path=run / "changes.patch", diff="")
    assert sorted(undo(tree, run)) == ["a.py", "b.py", "pkg/new.py"]
    assert user_files(tree) == ORIGINAL
    write_all(tree, ORIGINAL, CHANGES, patch_path=run / "changes.patch", diff="")
    (tree / "b.py").write_bytes(b"B = 'edited after the fix'\n")
    with pytest.raises(ApplyConflict, match="b.py changed since the run applied its fix"):
        undo(tree, run)
    assert (tree / "a.py").read_bytes() == CHANGES["a.py"]  # all or none
    with pytest.raises(ConfigError, match="nothing to undo"):
        undo(tree, tmp_path / "another-run")


def test_a_write_failing_midway_says_so_and_keeps_what_is_needed_to_finish_it(tree, tmp_path):
    """A folder removed between the staging and the renames: the rename into it fails after the journal."""
    import shutil

    with pytest.raises(ConfigError, match="failed midway .* `makegreen recover` \\(or the next run\\) finishes it"):
        write_all(tree, ORIGINAL, CHANGES, patch_path=tmp_path / "fix.patch", diff="",
                  before_write=lambda: shutil.rmtree(tree / "pkg"))
    [journal] = (tree / STATE_DIR).glob("apply-*.json")
    left = [item["temp"] for item in json.loads(journal.read_text())["files"] if item["path"] == "pkg/new.py"]
    assert left and Path(left[0]).read_bytes() == CHANGES["pkg/new.py"]
