"""`makegreen solve` against each server dialect, with thinking budgets, spending budgets and backend faults."""
from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from agent.run import events as ev
from agent.ui import TerminalRenderer
from tests.conftest import ANSWERS, make_repo
from tests.e2e.test_solve import solve, summary_of
from tests.scripted_server import Reply, ScriptedServer

ROMAN = (ANSWERS / "roman.md").read_text()
ROMAN_WRONG = (ANSWERS / "roman_wrong.md").read_text()
THOUGHT = "SECRET-THOUGHT weighing subtractive pairs. "


@pytest.fixture
def roman(tmp_path):
    return make_repo(tmp_path / "roman", example="roman")


def trajectory(repo, summary) -> list[dict]:
    path = repo / summary["run_dir"] / "trajectory.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("server_dialect, model, field, detected", [
    ("openai", "o4-mini", None, "openai-reasoning"),
    ("vllm", "scripted-model", None, "vllm"),
    ("sglang", "scripted-model", None, "sglang"),
    ("llama.cpp", "scripted-model", None, "llama.cpp"),
    ("ollama", "scripted-model", None, "ollama"),
    ("raw", "scripted-model", "open-think", "chat"),
    ("plain", "scripted-model", None, "chat"),
])
def test_every_dialect_ends_green_with_no_thinking_in_the_edits(roman, server_dialect, model, field, detected):
    with ScriptedServer([Reply(ROMAN, reasoning=THOUGHT * 30, reasoning_field=field)], model=model,
                        dialect=server_dialect) as server:
        result = solve(roman, server, "--json", "--sandbox", "local", env={"MAKEGREEN_MODEL": model})
    assert result.returncode == 0, result.stderr
    summary = summary_of(result)
    assert "SECRET-THOUGHT" not in (roman / "roman.py").read_text() and "SECRET-THOUGHT" not in summary["diff"]
    assert any(r["type"] == "Status" and r["text"].startswith(f"dialect {detected} ") for r in trajectory(roman, summary))


def test_a_token_budget_stops_the_run_cleanly_before_it_is_spent(roman):
    with ScriptedServer([Reply(ROMAN_WRONG, reasoning=THOUGHT * 200)]) as server:
        result = solve(roman, server, "--json", "--sandbox", "local", "--budget-tokens", "3000")
    assert result.returncode == 1, result.stderr
    summary = summary_of(result)
    assert summary["status"] == "out_of_budget" and "token budget" in summary["reason"]
    used = summary["usage"]["prompt_tokens"] + summary["usage"]["completion_tokens"]
    assert 0 < used <= 3000
    requests = server.chat_requests()
    assert len(requests) >= 1 and all("max_tokens" in body for body in requests)  # each capped to what is left


def test_openai_models_are_priced_and_a_dollar_budget_holds(roman):
    with ScriptedServer([Reply(ROMAN_WRONG, reasoning=THOUGHT * 100)], model="o4-mini", dialect="openai") as server:
        result = solve(roman, server, "--json", "--sandbox", "local", "--budget-usd", "0.02",
                       "--max-iterations", "50", env={"MAKEGREEN_MODEL": "o4-mini"})
    summary = summary_of(result)
    assert result.returncode == 1 and summary["status"] == "out_of_budget", result.stderr
    assert 0 < summary["cost_usd"] <= 0.02
    usage = summary["usage"]
    expected = ((usage["prompt_tokens"] - usage.get("cached_tokens", 0)) * 1.10 + usage["completion_tokens"] * 4.40) / 1e6
    assert summary["cost_usd"] == pytest.approx(expected, rel=1e-3)
    assert usage["reasoning_tokens"] > 0


def test_a_dollar_budget_for_an_unpriced_model_is_a_usage_error(roman):
    result = solve(roman, None, "--sandbox", "local", "--budget-usd", "1", env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert result.returncode == 2 and "[tool.makegreen.prices]" in result.stderr


def test_prices_from_the_config_are_used(tmp_path):
    repo = make_repo(tmp_path / "priced", example="roman", files={
        "pyproject.toml": '[tool.makegreen.prices]\n"scripted-model" = {input = 1000, output = 1000}\n'})
    with ScriptedServer([Reply(ROMAN)]) as server:
        result = solve(repo, server, "--json", "--sandbox", "local")
    summary = summary_of(result)
    usage = summary["usage"]
    assert summary["cost_usd"] == pytest.approx((usage["prompt_tokens"] + usage["completion_tokens"]) / 1000, rel=1e-3)


def test_a_thinking_budget_forces_an_answer_and_the_record_says_so(roman):
    replies = [Reply("", reasoning="round and round " * 3000), Reply(ROMAN)]
    with ScriptedServer(replies, dialect="vllm") as server:
        result = solve(roman, server, "--json", "--sandbox", "local", "--think-budget", "800")
    assert result.returncode == 0, result.stderr
    answered = [r for r in trajectory(roman, summary_of(result)) if r["type"] == "ModelAnswered"]
    assert answered[0]["forced"] is True
    assert server.chat_requests()[0]["thinking_token_budget"] == 800


def test_seed_on_the_command_line_reaches_every_request_and_repeats_across_runs(tmp_path):
    seeds = []
    for name in ("first", "again"):
        repo = make_repo(tmp_path / name, example="roman")
        with ScriptedServer([Reply(ROMAN_WRONG), Reply(ROMAN)], dialect="llama.cpp") as server:
            result = solve(repo, server, "--json", "--sandbox", "local", "--seed", "3")
            assert result.returncode == 0, result.stderr
            seeds.append([body.get("seed") for body in server.chat_requests()])
    assert len(seeds[0]) == 2 and all(isinstance(seed, int) for seed in seeds[0])
    assert seeds[0][0] != seeds[0][1] and seeds[0] == seeds[1]


def test_context_overflow_shrinks_the_prompt_and_asks_again(roman):
    overflow = Reply("This model's maximum context length is 4096 tokens.", status=400,
                     code="context_length_exceeded")
    with ScriptedServer([Reply(ROMAN_WRONG), overflow, Reply(ROMAN)]) as server:  # a fix's prompt overflows
        result = solve(roman, server, "--json", "--sandbox", "local", "--second-draft", "off")
    assert result.returncode == 0, result.stderr
    second, retried = server.chat_requests()[1:3]
    assert len(json.dumps(retried["messages"])) < len(json.dumps(second["messages"]))
    statuses = [r["text"] for r in trajectory(roman, summary_of(result)) if r["type"] == "Status"]
    assert any("overflowed" in text for text in statuses)


def test_show_thinking_shows_the_thought_and_the_answer_as_written():
    out = io.StringIO()
    view = TerminalRenderer(Console(file=out, force_terminal=True, width=120), show_thinking=True)
    view(ev.IterationStarted(1, 8))
    view(ev.ModelProgress(1, "thinking", 120, 0, 3.0, "the tests want subtractive pairs"))
    view(ev.ModelProgress(1, "writing", 120, 40, 4.0, "def to_roman(n):"))
    view.close()
    text = out.getvalue()
    assert "thinking 120 tok" in text and "subtractive pairs" in text and "def to_roman" in text
    hidden = io.StringIO()
    view = TerminalRenderer(Console(file=hidden, force_terminal=True, width=120))
    view(ev.ModelProgress(1, "thinking", 120, 0, 3.0, "the tests want subtractive pairs"))
    view.close()
    assert "subtractive" not in hidden.getvalue() and "thinking 120 tok" in hidden.getvalue()


def test_a_responses_only_model_is_solved_through_the_responses_api(roman):
    with ScriptedServer([Reply(ROMAN_WRONG, reasoning="Tallies."), Reply(ROMAN, reasoning="Pairs.")],
                        model="o3-pro", dialect="openai", responses_only=True) as server:
        result = solve(roman, server, "--json", "--sandbox", "local", env={"MAKEGREEN_MODEL": "o3-pro"})
    assert result.returncode == 0, result.stderr
    summary = summary_of(result)
    assert summary["iterations"] == 2 and summary["usage"]["reasoning_tokens"] > 0
    assert summary["cost_usd"] is None  # o3-pro is not in the price table: no guess
    assert server.chat_requests() == [] and len(server.responses_requests()) == 2
    assert "returned 'IIII', but the test expects 'IV'." in server.responses_requests()[1]["input"][-1]["content"]


def test_a_server_that_streams_no_usage_gets_estimated_counts_marked_so(roman):
    """llama-cpp-python's server sends no usage in a streamed answer: the summary estimates, and says so."""
    with ScriptedServer([Reply(ROMAN_WRONG), Reply(ROMAN)], stream_usage=False) as server:
        result = solve(roman, server, "--json", "--sandbox", "local")
    usage = summary_of(result)["usage"]
    assert result.returncode == 0 and usage["estimated"] == 2
    assert usage["prompt_tokens"] > 500 and usage["completion_tokens"] > 100
