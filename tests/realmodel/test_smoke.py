"""The real thing end to end: the local default model (makegreen[local]), served by makegreen itself because no
API key and no base URL are set, in the Docker sandbox. Minutes per test on 2 cores: marked realmodel, run by
.ci/run, where MAKEGREEN_REQUIRE_LOCAL=1 turns a missing engine or model into a failure rather than a skip."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from agent.localmodel import DEFAULT
from tests.conftest import make_repo, tree_bytes

pytestmark = pytest.mark.realmodel
EXAMPLE = "collatz"


def test_the_readme_example_is_solved_by_the_local_default_model_out_of_the_box(tmp_path, engine_env):
    from agent.shared_engine import running

    repo = make_repo(tmp_path / EXAMPLE, example=EXAMPLE)
    done = subprocess.run([sys.executable, "-m", "agent", "solve", "--json", "--max-iterations", "4"], cwd=repo,
                          env=engine_env, capture_output=True, text=True, timeout=1800)
    summary = json.loads(done.stdout)
    assert done.returncode == 0 and summary["status"] == "green", done.stderr[-3000:]
    assert summary["model"] == DEFAULT.name and summary["sandbox"] == "docker"
    assert "using the local default model" in done.stderr
    assert summary["applied"] and "collatz.py" in tree_bytes(repo)
    # the engine it started stays warm for the next run, computing nothing
    (engine,) = running(engine_env)
    assert engine.model == DEFAULT.name and engine.idle == 300
