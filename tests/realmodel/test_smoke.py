"""The real thing end to end: the local default model (makegreen[local]), served by makegreen itself because no
API key and no base URL are set, in the Docker sandbox. Minutes per test on 2 cores: marked realmodel, run by
.ci/run, where MAKEGREEN_REQUIRE_LOCAL=1 turns a missing engine or model into a failure rather than a skip."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from agent.models.localmodel import DEFAULT
from tests.conftest import make_repo, tree_bytes

pytestmark = pytest.mark.realmodel
EXAMPLE = "collatz"


def test_the_readme_example_is_solved_by_the_local_default_model_out_of_the_box(tmp_path, engine_env):
    from agent.models.shared_engine import running

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
    # its token counts are exact, not estimated: each request's prompt as the engine itself counts it (asked once
    # more without streaming, where it sends its usage; the last request's prompt is in its cache, so this is quick)
    import openai

    assert "estimated" not in summary["usage"], summary["usage"]
    (trajectory,) = (repo / ".makegreen" / "runs").glob("*/trajectory.jsonl")
    records = [json.loads(line) for line in trajectory.read_text().splitlines()]
    asked = [r for r in records if r["type"] == "ModelRequest"]
    answered = [r for r in records if r["type"] == "ModelAnswered"]
    assert answered and all(r["usage"]["prompt_tokens"] > 0 and "estimated" not in r["usage"] for r in answered)
    client = openai.OpenAI(base_url=engine.base_url, api_key="unused", timeout=600, max_retries=0)
    again = client.chat.completions.create(model=engine.model, messages=asked[-1]["messages"], max_tokens=1)
    assert answered[-1]["usage"]["prompt_tokens"] == again.usage.prompt_tokens
