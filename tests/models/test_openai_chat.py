"""The chat model against the scripted server playing each dialect, through the real openai client."""
from __future__ import annotations

import time

import openai
import pytest

from agent.core.errors import BackendError, ContextOverflow
from agent.models.openai_chat import OpenAIChatModel
from agent.models.dialects import DIALECTS, ModelSettings, detect, request_params
from tests.scripted_server import Reply, ScriptedServer

ANSWER = "roman.py\n```python\ndef to_roman(n):\n    return 'I' * n\n```\n"
THOUGHT = "SECRET-THOUGHT: the tests want subtractive pairs. "
MESSAGES = [{"role": "system", "content": "rules"}, {"role": "user", "content": "make it green"}]


def model_for(server: ScriptedServer, dialect: str, name: str = "scripted-model", retries: int = 0,
              timeout: float = 30, **settings) -> OpenAIChatModel:
    client = openai.OpenAI(api_key="k", base_url=server.url, max_retries=retries, timeout=timeout)
    return OpenAIChatModel(client, ModelSettings(name, **settings), DIALECTS[dialect])


def ask(model, cap=None):
    progress = []
    return model.complete(MESSAGES, progress.append, output_cap=cap), progress


@pytest.mark.parametrize("server_dialect, dialect, field", [
    ("vllm", "vllm", None), ("sglang", "sglang", None), ("llama.cpp", "llama.cpp", None), ("ollama", "ollama", None),
    ("raw", "think-tags", None), ("raw", "think-tags", "open-think"), ("plain", "chat", None),
    ("openai", "openai-reasoning", None),
])
def test_each_dialect_keeps_thinking_out_of_the_answer(server_dialect, dialect, field):
    name = "o4-mini" if dialect == "openai-reasoning" else "scripted-model"
    with ScriptedServer([Reply(ANSWER, reasoning=THOUGHT * 20, reasoning_field=field)], model=name,
                        dialect=server_dialect) as server:
        completion, progress = ask(model_for(server, dialect, name))
    assert completion.text == ANSWER
    assert "SECRET-THOUGHT" not in completion.text
    if dialect != "openai-reasoning":  # OpenAI's chat API counts reasoning but never shows it
        assert completion.thinking.startswith("SECRET-THOUGHT")
    if dialect != "think-tags":  # thinking inside the content is counted as plain output by such servers
        assert completion.usage["reasoning_tokens"] > 0
    assert not completion.forced
    assert progress[-1].phase == "writing" and progress[-1].tail.endswith("```\n")


def test_openai_reasoning_requests_carry_only_what_the_api_accepts():
    with ScriptedServer([Reply(ANSWER)], model="o4-mini", dialect="openai") as server:
        completion, _ = ask(model_for(server, "openai-reasoning", "o4-mini", think_budget=6000, temperature=0.2))
        [body] = server.chat_requests()
    assert completion.text == ANSWER
    assert body["messages"][0]["role"] == "developer"
    assert body["reasoning_effort"] == "low" and body["max_completion_tokens"] == 6000 + 16000
    assert "temperature" not in body and "max_tokens" not in body


def test_the_scripted_openai_server_rejects_what_openai_rejects():
    with ScriptedServer([Reply(ANSWER)], model="o4-mini", dialect="openai") as server:
        with pytest.raises(BackendError, match="does not support 'system'"):
            ask(model_for(server, "chat", "o4-mini"))


def test_vllm_gets_its_budget_field_and_qwen3s_switch():
    with ScriptedServer([Reply(ANSWER)], dialect="vllm") as server:
        ask(model_for(server, "vllm", think_budget=900, thinking="off", temperature=0.6, max_output_tokens=4000))
        [body] = server.chat_requests()
    assert body["thinking_token_budget"] == 900
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["temperature"] == 0.6 and body["max_tokens"] == 4000


def test_thinking_past_its_budget_is_cut_and_the_answer_asked_for_outright():
    endless = Reply("", reasoning="thinking in circles " * 2000)  # ~10k tokens of thought, never an answer
    with ScriptedServer([endless, Reply(ANSWER)], dialect="vllm") as server:
        completion, progress = ask(model_for(server, "vllm", think_budget=500))
        first, wrap = server.chat_requests()
    assert completion.forced and completion.text == ANSWER
    assert "wrapping-up" in [p.phase for p in progress]
    assert first["thinking_token_budget"] == 500
    assert wrap["thinking_token_budget"] == 0 and wrap["chat_template_kwargs"] == {"enable_thinking": False}
    assert wrap["messages"][-1]["content"].startswith("Time is up: give the final answer now")
    assert "thinking in circles" in wrap["messages"][-1]["content"]


def test_thinking_cut_off_by_the_length_limit_is_forced_to_an_answer_too():
    cut = Reply("", reasoning="still thinking " * 100, reasoning_field="open-think", finish_reason="length")
    with ScriptedServer([cut, Reply(ANSWER)], dialect="raw") as server:
        completion, _ = ask(model_for(server, "think-tags"))
    assert completion.forced and completion.text == ANSWER and "still thinking" in completion.thinking


def test_a_stream_dropped_half_way_is_asked_for_again_whole():
    with ScriptedServer([Reply(ANSWER, reasoning=THOUGHT * 10, drop_after=4), Reply(ANSWER)]) as server:
        completion, _ = ask(model_for(server, "chat"))
    assert completion.text == ANSWER and completion.retries == 1 and len(server.chat_requests()) == 2


def test_a_stream_that_keeps_dropping_is_a_backend_error():
    with ScriptedServer([Reply(ANSWER, drop_after=2)]) as server:
        with pytest.raises(BackendError, match="broke off 3 times"):
            ask(model_for(server, "chat"))


def test_server_errors_and_rate_limits_are_retried_by_the_client():
    replies = [Reply("overloaded", status=503), Reply("slow down", status=429, headers={"retry-after": "0"}),
               Reply(ANSWER)]
    with ScriptedServer(replies) as server:
        completion, _ = ask(model_for(server, "chat", retries=3))
    assert completion.text == ANSWER and len(server.chat_requests()) == 3


def test_a_server_too_slow_to_answer_is_a_backend_error():
    with ScriptedServer([Reply(ANSWER, delay=3)]) as server:
        with pytest.raises(BackendError, match="did not answer in time"):
            ask(model_for(server, "chat", timeout=0.5))


def test_context_overflow_is_told_apart():
    reply = Reply("This model's maximum context length is 8192 tokens", status=400, code="context_length_exceeded")
    with ScriptedServer([reply]) as server:
        with pytest.raises(ContextOverflow):
            ask(model_for(server, "chat"))


def test_sglang_gets_the_budget_through_the_chat_template():
    params = request_params(DIALECTS["sglang"], ModelSettings("Qwen/Qwen3-8B", think_budget=700, thinking="on"))
    assert params["extra_body"] == {"chat_template_kwargs": {"thinking_budget": 700, "enable_thinking": True}}


def test_an_output_cap_lowers_the_output_limit():
    params = request_params(DIALECTS["openai-reasoning"], ModelSettings("o3", max_output_tokens=9000), output_cap=3000)
    assert params["max_completion_tokens"] == 3000


@pytest.mark.parametrize("model, base_url, owner, dialect", [
    ("gpt-5", None, None, "openai-reasoning"),
    ("o3-mini", "http://proxy:4000/v1", None, "openai-reasoning"),
    ("Qwen/Qwen3-32B", "http://gpu:8000/v1", "vllm", "vllm"),
    ("deepseek-r1", "http://gpu:30000/v1", "sglang", "sglang"),
    ("qwq", "http://gpu:8080/v1", "llamacpp", "llama.cpp"),
    ("qwen3:8b", "http://localhost:11434/v1", None, "ollama"),
    ("my-model", "http://gpu:9000/v1", None, "chat"),
])
def test_dialect_detection(model, base_url, owner, dialect):
    assert detect(model, base_url, owner) == dialect


def test_the_responses_api_streams_the_summary_and_carries_reasoning_items():
    from agent.models.openai_responses import OpenAIResponsesModel, responses_only

    assert responses_only("o3-pro") and responses_only("gpt-5-codex") and not responses_only("gpt-5")
    replies = [Reply(ANSWER, reasoning="**Weighing** subtractive pairs."), Reply(ANSWER, reasoning="Fixing IV.")]
    with ScriptedServer(replies, model="o3-pro", dialect="openai", responses_only=True) as server:
        client = openai.OpenAI(api_key="k", base_url=server.url, max_retries=0)
        model = OpenAIResponsesModel(client, ModelSettings("o3-pro", effort="high", think_budget=4000),
                                     DIALECTS["openai-reasoning"])
        first, progress = ask(model)
        history = [*MESSAGES, {"role": "assistant", "content": first.text}, {"role": "user", "content": "still red"}]
        second = model.complete(history, lambda p: None)
        one, two = server.responses_requests()
    assert first.text == ANSWER and first.thinking == "**Weighing** subtractive pairs."
    assert first.usage["reasoning_tokens"] > 0 and second.text == ANSWER
    assert progress[-1].phase == "writing"
    assert one["instructions"] == "rules" and one["input"] == [{"role": "user", "content": "make it green"}]
    assert one["reasoning"] == {"summary": "auto", "effort": "high"} and one["store"] is False
    assert one["max_output_tokens"] == 4000 + 16000 and "reasoning.encrypted_content" in one["include"]
    carried = [item for item in two["input"] if item.get("type") == "reasoning"]
    assert [item["encrypted_content"] for item in carried] == ["enc-1"]  # the first answer's reasoning
    assert two["input"].index(carried[0]) == 1  # just before the answer it led to


def test_prices_take_snapshots_but_never_guess():
    from agent.models.pricing import cost, price_for

    assert price_for("gpt-5-2025-08-07") == price_for("gpt-5")
    assert price_for("o3-pro") is None and price_for("qwen3:8b") is None
    assert price_for("qwen3:8b", {"qwen3:8b": {"input": 1.0, "output": 2.0}}) == {"input": 1.0, "output": 2.0}
    usage = {"prompt_tokens": 1_000_000, "cached_tokens": 400_000, "completion_tokens": 100_000}
    assert cost(usage, price_for("gpt-5")) == pytest.approx(0.6 * 1.25 + 0.4 * 0.125 + 0.1 * 10.0)


def test_llama_cpp_gets_its_budget_and_zero_on_wrap_up():
    params = request_params(DIALECTS["llama.cpp"], ModelSettings("qwq", think_budget=1200))
    assert params["extra_body"] == {"reasoning_budget_tokens": 1200, "thinking_budget_tokens": 1200}
    wrap = request_params(DIALECTS["llama.cpp"], ModelSettings("qwq", think_budget=1200), wrap_up=True)
    assert wrap["extra_body"]["reasoning_budget_tokens"] == 0


def test_a_connection_that_breaks_inside_a_chunk_is_retried_and_a_dead_server_is_not_retried_by_us():
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    served = []

    def serve():  # a chunked event stream that stops in the middle of a chunk, every time
        for _ in range(3):
            conn, _ = listener.accept()
            conn.recv(65536)
            served.append(1)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"40\r\ndata: {\"id\":\"x\",\"object\":\"chat.completion.chunk\"")
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    client = openai.OpenAI(api_key="k", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0, timeout=10)
    model = OpenAIChatModel(client, ModelSettings("m"), DIALECTS["chat"])
    with pytest.raises(BackendError, match="broke off"):
        ask(model)
    assert len(served) == 3  # asked whole three times
    listener.close()
    dead = OpenAIChatModel(openai.OpenAI(api_key="k", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0),
                           ModelSettings("m"), DIALECTS["chat"])
    with pytest.raises(BackendError, match="cannot reach"):
        ask(dead)


def test_reading_stops_once_the_expected_block_has_closed_and_the_server_stops_writing():
    """A small model that goes on after its code (the prompt's own sections, made-up failures) is read only up to
    the end of the block the task expects: nothing after it reaches the answer, and the stream is closed, which
    is what ends the generation on a server."""
    from agent.workspace.edits import answered

    echo = "\n# Test results now\n\n## test_roman.py::test_one FAILED\n'I' != 'I'\n" * 40
    with ScriptedServer([Reply(ANSWER + echo, chunk_size=8, chunk_delay=0.002)]) as server:
        model = model_for(server, "chat")
        completion = model.complete(MESSAGES, lambda progress: None, until=answered("roman.py"))
        deadline = time.monotonic() + 5
        while server.abandoned == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # the server notices the closed stream at its next write
    assert completion.stopped and completion.finish_reason == "stop"
    assert completion.text.rstrip("`\n") == ANSWER.rstrip("`\n") and "Test results" not in completion.text
    assert server.abandoned == 1


def test_an_answer_for_another_file_or_still_open_does_not_stop_the_reading():
    from agent.workspace.edits import answered

    complete = answered("roman.py")
    assert not complete("test_roman.py\n```python\ndef test_x():\n    pass\n```\n")  # an echo of the tests
    assert not complete("roman.py\n```python\ndef to_roman(n):\n")  # still being written
    assert complete("Here it is:\n```python\ndef to_roman(n):\n    return ''\n```")  # the one block, no path
    with ScriptedServer([Reply(ANSWER)]) as server:
        completion = model_for(server, "chat").complete(MESSAGES, lambda progress: None,
                                                        until=answered("other.py"))
    assert not completion.stopped and completion.text == ANSWER


class Vocabulary:
    """A stand-in for a GGUF file's vocabulary (agent/models/tokens.py): one token a word, the roles included, so
    that a count says which text it was taken of. The real vocabulary is checked against the engine's own counts in
    tests/realmodel/test_smoke.py."""

    def prompt(self, messages):
        return sum(len(m["role"].split()) + len(m["content"].split()) for m in messages)

    def text(self, text):
        return len(text.split())


def test_a_served_models_counts_are_exact_where_the_server_streams_none():
    """llama-cpp-python's server sends no usage when it streams: where makegreen serves the model from a GGUF file,
    each request is counted with that model's own vocabulary (the whole prompt, the answer with its thinking), not
    estimated; where it does not, the estimate says that it is one."""
    with ScriptedServer([Reply(ANSWER, reasoning=THOUGHT)], dialect="llama.cpp", stream_usage=False) as server:
        client = openai.OpenAI(api_key="k", base_url=server.url, max_retries=0, timeout=30)
        counted = OpenAIChatModel(client, ModelSettings("m"), DIALECTS["llama.cpp"], tokens=Vocabulary())
        answer = counted.complete(MESSAGES, lambda progress: None)
        estimated = OpenAIChatModel(client, ModelSettings("m"), DIALECTS["llama.cpp"]).complete(
            MESSAGES, lambda progress: None)
    assert answer.usage == {"prompt_tokens": 2 + 4, "completion_tokens": len((THOUGHT + ANSWER).split())}
    assert estimated.usage["estimated"] == 1 and estimated.usage["prompt_tokens"] > 0


def test_the_vocabulary_is_the_served_gguf_file(tmp_path):
    from agent.run.config import Settings
    from agent.models.localmodel import DEFAULT, model_path
    from agent.run.wiring import served_vocabulary

    environ = {"MAKEGREEN_CACHE": str(tmp_path)}
    local = Settings(serve=DEFAULT.name, engine="llama.cpp", model=DEFAULT.name)
    assert served_vocabulary(local, environ) == model_path(DEFAULT, environ)
    own = Settings(serve="/models/mine.gguf", engine="llama.cpp")
    assert served_vocabulary(own, environ).as_posix() == "/models/mine.gguf"
    assert served_vocabulary(Settings(serve="Qwen/Qwen2.5-7B", engine="vllm"), environ) is None
    assert served_vocabulary(Settings(base_url="http://127.0.0.1:8080/v1"), environ) is None


def test_a_vocabulary_that_cannot_be_read_falls_back_to_estimates_said_so():
    class Broken(Vocabulary):
        def prompt(self, messages):
            raise ValueError("failed to load model")

    with ScriptedServer([Reply(ANSWER)], dialect="llama.cpp", stream_usage=False) as server:
        client = openai.OpenAI(api_key="k", base_url=server.url, max_retries=0, timeout=30)
        answer = OpenAIChatModel(client, ModelSettings("m"), DIALECTS["llama.cpp"], tokens=Broken()).complete(
            MESSAGES, lambda progress: None)
    assert answer.usage["estimated"] == 1 and answer.text == ANSWER


def test_a_seed_makes_each_request_repeatable_across_runs_and_new_within_one():
    other = [MESSAGES[0], {"role": "user", "content": "make it green, another way"}]
    with ScriptedServer([Reply(ANSWER)] * 8, dialect="llama.cpp") as server:
        run, rerun = (model_for(server, "llama.cpp", seed=7) for _ in range(2))
        for model in (run, rerun):
            model.complete(MESSAGES, lambda _: None, temperature=0.8)
            model.complete(MESSAGES, lambda _: None, temperature=0.8)  # the same request again in the run
            model.complete(other, lambda _: None, temperature=0.8)
        model_for(server, "llama.cpp", seed=8).complete(MESSAGES, lambda _: None, temperature=0.8)
        model_for(server, "llama.cpp").complete(MESSAGES, lambda _: None, temperature=0.8)
        seeds = [body.get("seed") for body in server.chat_requests()]
    first, again, another = seeds[:3]
    assert seeds[3:6] == [first, again, another]  # another run asking the same things draws the same answers
    assert len({first, again, another, seeds[6]}) == 4  # asked again, something else, another run's seed: new
    assert all(isinstance(seed, int) and 0 <= seed < 2 ** 31 for seed in seeds[:7])
    assert seeds[7] is None  # unset: the server samples as it likes


def test_no_seed_goes_where_the_api_takes_no_sampling():
    with ScriptedServer([Reply(ANSWER)], model="o4-mini", dialect="openai") as server:
        ask(model_for(server, "openai-reasoning", "o4-mini", seed=7))
        [body] = server.chat_requests()
    assert "seed" not in body
