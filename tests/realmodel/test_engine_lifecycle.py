"""The local engine's life with the real one (llama-cpp-python's server): kept warm and shared by runs, and never
left computing for a run that is gone — killed by SIGKILL, SIGTERM or Ctrl-C while its answer is being computed."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.models.localmodel import DEFAULT
from agent.models.shared_engine import running
from tests.conftest import gone, make_repo

pytestmark = pytest.mark.realmodel


def asked(repo: Path) -> bool:
    return any('"ModelRequest"' in path.read_text() for path in (repo / ".makegreen" / "runs").glob("*/trajectory.jsonl"))


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_a_run_killed_while_the_engine_answers_leaves_no_engine_computing(tmp_path, engine_env, sig):
    repo = make_repo(tmp_path / "collatz", example="collatz")
    run = subprocess.Popen([sys.executable, "-m", "agent", "solve", "--max-iterations", "2"], cwd=repo,
                           env=engine_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while not asked(repo) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert run.poll() is None, run.stderr.read()[-2000:]
    time.sleep(0.5)  # the engine is reading the prompt (it notices no client leaving while it does)
    (engine,) = running(engine_env)
    run.send_signal(sig)
    run.wait(30)
    assert gone(engine.engine, 5.0), "the engine went on computing after its run was gone"
    assert gone(engine.supervisor, 5.0) and running(engine_env) == []


def test_consecutive_and_concurrent_runs_share_one_warm_engine(tmp_path, engine_env):
    def solve(name: str) -> subprocess.Popen:
        repo = make_repo(tmp_path / name, example="collatz")
        return subprocess.Popen([sys.executable, "-m", "agent", "solve", "--json", "--max-iterations", "4"],
                                cwd=repo, env=engine_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    first = solve("first")
    out, err = first.communicate(timeout=1800)
    assert json.loads(out)["status"] == "green", err[-3000:]
    (engine,) = running(engine_env)
    both = [solve("second"), solve("third")]  # at once, on the engine the first left warm
    for run in both:
        out, err = run.communicate(timeout=1800)
        assert json.loads(out)["status"] == "green", err[-3000:]
        assert f"using the warm llama.cpp engine for {DEFAULT.name}" in err
    assert running(engine_env) == [engine]
