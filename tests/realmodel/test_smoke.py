"""The real thing end to end: the local default model (makegreen[local]), served by makegreen itself because no
API key and no base URL are set, in the Docker sandbox. Minutes per test on 2 cores: marked realmodel, run by
.ci/run, where MAKEGREEN_REQUIRE_LOCAL=1 turns a missing engine or model into a failure rather than a skip."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from agent.localmodel import DEFAULT
from tests.conftest import ROOT, make_repo, tree_bytes

pytestmark = pytest.mark.realmodel
EXAMPLE = "collatz"


def engines_running() -> list[str]:
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if "llama_cpp.server" in line and DEFAULT.name in line]


def test_the_readme_example_is_solved_by_the_local_default_model_out_of_the_box(tmp_path, local_model, base_image):
    repo = make_repo(tmp_path / EXAMPLE, example=EXAMPLE)
    env = {key: value for key, value in os.environ.items()
           if key not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "MAKEGREEN_MODEL", "MAKEGREEN_SANDBOX")}
    env.update(PYTHONPATH=str(ROOT), MAKEGREEN_BASE_IMAGE=base_image)
    before = engines_running()
    done = subprocess.run([sys.executable, "-m", "agent", "solve", "--json", "--max-iterations", "4"], cwd=repo,
                          env=env, capture_output=True, text=True, timeout=1800)
    summary = json.loads(done.stdout)
    assert done.returncode == 0 and summary["status"] == "green", done.stderr[-3000:]
    assert summary["model"] == DEFAULT.name and summary["sandbox"] == "docker"
    assert "using the local default model" in done.stderr
    assert summary["applied"] and "collatz.py" in tree_bytes(repo)
    assert engines_running() == before  # the engine it started is stopped with the run
