"""Runs side by side on one engine, and interrupts at named moments of a run: every run ends as it would alone,
with its exit status and a message, no traceback, and nothing left behind (containers, temporary copies, stray
files in the tree)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from agent import LAUNCH
from agent.run.trajectory import SNAPSHOT
from tests.conftest import ANSWERS, containers_of, make_repo, tree_bytes
from tests.scripted_server import Reply, ScriptedServer

pytestmark = pytest.mark.xdist_group("engine")  # prunes the engine: one worker runs these, one at a time

ROMAN = (ANSWERS / "roman.md").read_text()


def environ(server: ScriptedServer, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OPENAI_", "MAKEGREEN_"))}
    env.update(OPENAI_API_KEY="test-key", MAKEGREEN_MODEL="scripted-model", OPENAI_BASE_URL=server.url,
               MAKEGREEN_BASE_IMAGE=os.environ.get("MAKEGREEN_BASE_IMAGE", "python:3.12-slim"), **extra)
    return env


def makegreen(repo: Path, server: ScriptedServer, *args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", LAUNCH, *args], cwd=repo, env=environ(server), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def leftovers(docker_client, pid: int) -> list[str]:
    """What a finished run of process pid left: containers, temporary copies of the tree."""
    containers = [(c.attrs.get("Names") or [""])[0] for c in containers_of(docker_client, pid)]
    copies = [p.name for p in Path(tempfile.gettempdir()).glob("makegreen-*") if f"-{pid}-" in p.name]
    return containers + copies


def test_runs_side_by_side_on_one_engine_with_a_prune_in_the_middle_all_end_as_alone(tmp_path, docker_client,
                                                                                      base_image):
    repos = [make_repo(tmp_path / f"roman{n}", example="roman") for n in range(4)]
    with ScriptedServer([Reply(ROMAN, delay=2)]) as server:
        runs = [makegreen(repo, server, "solve", "--json") for repo in repos]
        pruned = []

        def prune() -> None:  # once the runs are under way: their containers and images are live
            while len(server.chat_requests()) < 2:
                time.sleep(0.1)
            pruned.append(subprocess.run([sys.executable, "-c", LAUNCH, "sandbox", "prune"], cwd=tmp_path,
                                         env=environ(server), capture_output=True, text=True, timeout=120))

        pruning = threading.Thread(target=prune, daemon=True)
        pruning.start()
        results = [(run, *run.communicate(timeout=600)) for run in runs]
        pruning.join(120)
    assert pruned and pruned[0].returncode == 0, pruned and pruned[0].stderr
    for run, out, err in results:
        assert run.returncode == 0 and "Traceback" not in err, err
        assert json.loads(out)["status"] == "green"
        assert leftovers(docker_client, run.pid) == []
    assert all((repo / "roman.py").is_file() for repo in repos)


SLOW_TEST = "import time\n\n\ndef test_slow():\n    time.sleep(60)\n"


@pytest.mark.parametrize("moment", ["creating the container", "the baseline test run", "the model request"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_at_a_named_moment_ends_at_once_with_130_and_leaves_nothing(tmp_path, docker_client, base_image,
                                                                               moment, sig):
    files = {"tests/test_slow.py": SLOW_TEST} if moment == "the baseline test run" else None
    repo = make_repo(tmp_path / "roman", files=files, example="roman")
    before = tree_bytes(repo)
    with ScriptedServer([Reply(ROMAN, delay=30)]) as server:
        run = makegreen(repo, server, "solve")
        deadline = time.monotonic() + 120
        if moment == "creating the container":  # the snapshot is taken (and kept in the record, for replay):
            # the image and the container come next
            while not list(repo.glob(f".makegreen/runs/*/{SNAPSHOT}")) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert time.monotonic() < deadline, "the run never took its snapshot"
        elif moment == "the baseline test run":
            while not containers_of(docker_client, run.pid, everywhere=False) \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.5)  # the container is up: pytest is in test_slow's sleep
        else:
            while not server.chat_requests() and time.monotonic() < deadline:
                time.sleep(0.05)
        held = [c.id for c in containers_of(docker_client, run.pid)]
        run.send_signal(sig)
        _out, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    assert tree_bytes(repo) == before
    assert leftovers(docker_client, run.pid) == []
    # removed, not parked for the next run: an interrupted run keeps nothing
    assert [c for c in docker_client.containers.list(all=True, sparse=True) if c.id in held] == []


def test_an_interrupt_in_the_first_half_second_says_so_and_exits_130(tmp_path):
    """Python starting, the CLI's imports, typer building the commands, the command's first lines."""
    repo = make_repo(tmp_path / "roman", example="roman")
    before = tree_bytes(repo)
    with ScriptedServer([Reply(ROMAN, delay=30)]) as server:
        for delay in (0.08, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5):
            for sig in (signal.SIGINT, signal.SIGTERM):
                run = makegreen(repo, server, "solve", "--sandbox", "local")
                time.sleep(delay)
                run.send_signal(sig)
                _out, err = run.communicate(timeout=60)
                assert run.returncode == 130 and "Traceback" not in err and "interrupted" in err, (delay, sig, err)
    assert tree_bytes(repo) == before


def test_an_interrupt_just_after_the_write_is_reported_as_written(tmp_path, docker_client, base_image):
    """A pre-commit hook that interrupts makegreen: the signal comes after the fix is in the tree, during the
    commit. The report must say the fix is there, not that the files are as they were."""
    repo = make_repo(tmp_path / "roman", example="roman")
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nkill -INT $(ps -o ppid= -p $PPID)\nsleep 5\n")
    hook.chmod(0o755)
    with ScriptedServer([Reply(ROMAN)]) as server:
        run = makegreen(repo, server, "solve", "--commit", "--json")
        out, err = run.communicate(timeout=300)
    assert run.returncode == 130, err
    summary = json.loads(out)
    assert summary["applied"] is True and summary["status"] == "interrupted"
    assert summary["message"] == "interrupted after the fix was written: it is in your files (roman.py)"
    assert (repo / "roman.py").is_file() and "Traceback" not in err
    assert leftovers(docker_client, run.pid) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_at_the_write_or_any_moment_after_it_ends_with_130_and_says_the_fix_is_there(tmp_path, sig):
    """From the rename of the fix into place to the process's last line (the summary, the clean-up, Python's own
    shutdown): the run ends with 130 and the line that says the fix is in the files, or — once it is all over —
    as it would have without the signal; never by the signal itself, and the file is whole."""
    expected = ROMAN.split("```python\n", 1)[1].rsplit("```", 1)[0]
    endings = []
    with ScriptedServer([Reply(ROMAN)] * 40) as server:
        for delay in (0.0, 0.005, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5):
            repo = make_repo(tmp_path / f"roman-{delay}", example="roman")
            target = repo / "roman.py"
            run = makegreen(repo, server, "solve", "--sandbox", "local")
            deadline = time.monotonic() + 120
            while not target.exists() and run.poll() is None and time.monotonic() < deadline:
                time.sleep(0.001)
            time.sleep(delay)
            run.send_signal(sig)
            _out, err = run.communicate(timeout=60)
            endings.append(run.returncode)
            assert run.returncode in (0, 130), (delay, run.returncode, err)
            if run.returncode == 130:
                assert "interrupted after the fix was written: it is in your files (roman.py)" in err, (delay, err)
            assert "Traceback" not in err and target.read_text() == expected
    assert 130 in endings  # the signals did land while it was still running
def test_uncommitted_work_the_fix_replaces_is_named_and_undo_brings_it_back(tmp_path, base_image):
    repo = make_repo(tmp_path / "roman", files={"roman.py": "def to_roman(n):\n    raise NotImplementedError\n"},
                     example="roman")
    mine = "# my notes, not committed\ndef to_roman(n):\n    raise NotImplementedError\n"
    (repo / "roman.py").write_text(mine)
    with ScriptedServer([Reply(ROMAN)]) as server:
        run = makegreen(repo, server, "solve", "--json")
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        summary = json.loads(out)
        assert summary["overwrote_uncommitted"] == ["roman.py"]
        assert "roman.py held uncommitted changes of yours" in err
        undo = subprocess.run([sys.executable, "-c", LAUNCH, "undo", summary["run_id"]], cwd=repo,
                              env=environ(server), capture_output=True, text=True)
    assert undo.returncode == 0, undo.stderr
    assert (repo / "roman.py").read_text() == mine


def test_the_next_run_finishes_a_write_that_a_killed_run_left_half_done_and_says_so(tmp_path):
    from sandbox.owner import Owner

    repo = make_repo(tmp_path / "roman", example="roman")
    gone = subprocess.Popen(["true"])
    gone.wait()
    staging = repo / ".makegreen" / f".staging-{Owner(Owner.me().host, gone.pid, '1').tag()}-k1"
    staging.mkdir(parents=True)
    (staging / ".notes.txt.1.makegreen").write_text("written by the killed run\n")
    (repo / ".makegreen" / f"apply-{staging.name}.json").write_text(json.dumps(
        {"files": [{"path": "notes.txt", "temp": str(staging / ".notes.txt.1.makegreen")}]}))
    with ScriptedServer([Reply(ROMAN)]) as server:
        run = makegreen(repo, server, "solve", "--sandbox", "local")
        out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert "finished the apply an interrupted run left half done: notes.txt" in out
    assert (repo / "notes.txt").read_text() == "written by the killed run\n" and not staging.exists()
