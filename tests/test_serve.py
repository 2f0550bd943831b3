"""`makegreen serve` and `solve --serve` against stand-in engines on PATH (no GPU or weights here)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from agent.models.serve import Plan, command, visible_gpus
from tests.conftest import ANSWERS, ROOT, make_repo

STAND_INS = {"vllm": "vllm", "llama-server": "llama-server", "ollama": "ollama"}


@pytest.fixture
def engines(tmp_path):
    """A PATH where vllm, llama-server and ollama are the stand-in, and a PYTHONPATH where sglang is."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in STAND_INS:
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tests.fake_engine {name} "$@"\n')
        script.chmod(0o755)
    (bin_dir / "python3").symlink_to(sys.executable)
    package = tmp_path / "fakes" / "sglang"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "launch_server.py").write_text(
        "import signal, sys\nfrom tests.fake_engine import main\n"
        "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})\n"
        "main('sglang', sys.argv[1:])\n")
    log = tmp_path / "engine.jsonl"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MAKEGREEN_"))},
           "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": f"{ROOT}:{tmp_path / 'fakes'}",
           "FAKE_ENGINE_LOG": str(log), "CUDA_VISIBLE_DEVICES": "0,1"}
    return env, log


def started(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("engine, model, flags", [
    ("vllm", "Qwen/Qwen3-32B", ["--tensor-parallel-size", "2", "--reasoning-parser", "qwen3",
                                "--enable-auto-tool-choice", "--tool-call-parser", "hermes"]),
    ("vllm", "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", ["--reasoning-parser", "deepseek_r1"]),
    ("vllm", "Qwen/QwQ-32B", ["--reasoning-parser", "deepseek_r1", "--tool-call-parser", "hermes"]),
    ("vllm", "openai/gpt-oss-20b", ["--reasoning-parser", "openai_gptoss", "--tool-call-parser", "openai"]),
    ("sglang", "Qwen/Qwen3-8B", ["--tp", "2", "--reasoning-parser", "qwen3", "--tool-call-parser", "qwen25"]),
    ("llama.cpp", "models/qwq-32b-q4_k_m.gguf", ["-m", "models/qwq-32b-q4_k_m.gguf", "--jinja",
                                                 "--reasoning-format", "deepseek"]),
    ("ollama", "qwen3:8b", ["serve"]),
])
def test_serve_starts_the_engine_with_its_flags_waits_until_ready_and_stops_on_ctrl_c(
        tmp_path, engines, engine, model, flags):
    env, log = engines
    env = {**env, "FAKE_ENGINE_DELAY": "1.5", "FAKE_ENGINE_MODEL": model}
    if model.endswith(".gguf"):  # a GGUF file must exist; the stand-in does not read it
        (tmp_path / model).parent.mkdir(parents=True)
        (tmp_path / model).write_bytes(b"GGUF")
    proc = subprocess.Popen([sys.executable, "-m", "agent", "serve", model, "--engine", engine], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1"), proc.stderr.read()
        # printed only once the engine answers: the very first request succeeds
        with urllib.request.urlopen(url + "/models", timeout=10) as response:
            listed = [m["id"] for m in json.load(response)["data"]]
        assert listed == [model]
        [record] = started(log)
        argv = record["argv"]
        for flag in flags:
            assert flag in argv
        if engine != "ollama":
            assert url.endswith(f":{argv[argv.index('--port') + 1]}/v1")
        else:
            assert url == f"http://{record['ollama_host']}/v1"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert not alive(record["pid"])


def test_an_engine_that_dies_while_loading_is_an_environment_error(tmp_path, engines):
    env, _ = engines
    result = subprocess.run([sys.executable, "-m", "agent", "serve", "Qwen/Qwen3-8B"], cwd=tmp_path,
                            env={**env, "FAKE_ENGINE_FAIL": "1"}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 3
    assert "vllm exited with status 1 before it was ready" in result.stderr
    assert "CUDA out of memory" in result.stderr


def test_a_missing_engine_says_how_to_install_it(tmp_path):
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    result = subprocess.run([sys.executable, "-m", "agent", "serve", "Qwen/Qwen3-8B", "--engine", "vllm"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3 and "pip install vllm" in result.stderr


def test_solve_serve_starts_the_engine_keeps_it_warm_for_the_next_run_or_stops_it_with_idle_zero(tmp_path, engines):
    import time

    from agent.models.shared_engine import running

    env, log = engines
    env = {**env, "FAKE_ENGINE_ANSWER": str(ANSWERS / "roman.md"), "OPENAI_API_KEY": "",
           "MAKEGREEN_CACHE": str(tmp_path / "cache")}

    def solve(name: str, **extra: str) -> subprocess.CompletedProcess:
        repo = make_repo(tmp_path / name, example="roman")
        result = subprocess.run([sys.executable, "-m", "agent", "solve", "--serve", "Qwen/Qwen3-8B", "--sandbox",
                                 "local", "--json"], cwd=repo, env={**env, **extra}, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        assert summary["status"] == "green" and summary["model"] == "Qwen/Qwen3-8B"
        return result

    solve("first")
    again = solve("second")
    [record] = started(log)  # one engine for both runs: the second found it warm
    assert "using the warm vllm engine for Qwen/Qwen3-8B" in again.stderr
    [warm] = running(env)
    assert warm.engine == record["pid"] and alive(record["pid"])
    os.kill(warm.supervisor, signal.SIGTERM)  # as its idle time ending does
    deadline = time.monotonic() + 10
    while alive(record["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(record["pid"]) and running(env) == []
    solve("own", MAKEGREEN_ENGINE_IDLE="0")  # one engine for the run, stopped with it
    own = started(log)[-1]
    deadline = time.monotonic() + 10
    while alive(own["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert own["pid"] != record["pid"] and not alive(own["pid"])


def test_pipeline_parallel_spans_machines_through_ray_and_gpus_are_counted():
    argv, _ = command(Plan("vllm", "deepseek-ai/DeepSeek-R1", 8000, tensor_parallel=8, pipeline_parallel=2))
    assert argv[argv.index("--pipeline-parallel-size") + 1] == "2"
    assert argv[argv.index("--distributed-executor-backend") + 1] == "ray"
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "0,1,2,3"}) == 4
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "", "PATH": ""}) == 1


def test_an_engine_does_not_outlive_a_killed_makegreen(tmp_path, engines):
    """SIGKILL leaves no chance to clean up: the engine is told by the kernel (Linux) that its parent died."""
    import time

    env, log = engines
    proc = subprocess.Popen([sys.executable, "-m", "agent", "serve", "Qwen/Qwen3-8B"], cwd=tmp_path,
                            env={**env, "FAKE_ENGINE_DELAY": "0.5"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().startswith("http://127.0.0.1:")
    [record] = started(log)
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while alive(record["pid"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(record["pid"])


def test_an_engine_that_dies_under_the_run_is_said_to_have_died(tmp_path, engines):
    """Not "cannot reach the backend": the engine makegreen started crashed, and the error says how, with the end of
    its log (llama.cpp built for instructions the machine does not grant dies of SIGSEGV on its first token)."""
    env, _ = engines
    env = {**env, "FAKE_ENGINE_CRASH": "1", "OPENAI_API_KEY": "", "MAKEGREEN_CACHE": str(tmp_path / "cache")}
    repo = make_repo(tmp_path / "crash", example="roman")
    result = subprocess.run([sys.executable, "-m", "agent", "solve", "--serve", "Qwen/Qwen3-8B", "--sandbox", "local",
                             "--json"], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    summary = json.loads(result.stdout)
    assert result.returncode == 3 and summary["status"] == "error", result.stderr
    assert "vllm stopped while this run was using it" in summary["message"]
    assert "the engine ended by itself: killed by SIGSEGV" in summary["message"]
