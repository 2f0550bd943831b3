"""`makegreen serve`: start a local inference engine for a reasoning model, with the flags its family needs.

The engine's command line is built here (reasoning parser and tool-call flags per model family, tensor parallel
size from the visible GPUs, pipeline parallel and Ray for models larger than one machine); the engine is started
in its own process group, awaited until /v1/models answers, and stopped on exit.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from ..core.errors import BackendError, ConfigError
from .localmodel import INSTALL_HINT

ENGINES = ("vllm", "sglang", "llama.cpp", "ollama")  # the local engines `serve` can start

INSTALL = {
    "vllm": "pip install vllm (Linux with a CUDA or ROCm GPU)",
    "sglang": 'pip install "sglang[all]"',
    "llama.cpp": f"{INSTALL_HINT} (llama-cpp-python's server), or put llama.cpp's llama-server on PATH",
    "ollama": "install Ollama so that `ollama` is on PATH",
}


@dataclass(frozen=True)
class Family:
    name: str
    vllm_reasoning: str | None = None
    vllm_tools: str | None = None
    sglang_reasoning: str | None = None
    sglang_tools: str | None = None


FAMILIES = [
    (re.compile(r"deepseek.?r1|r1.?distill", re.I), Family("deepseek-r1", "deepseek_r1", None, "deepseek-r1", None)),
    (re.compile(r"qwq", re.I), Family("qwq", "deepseek_r1", "hermes", "deepseek-r1", "qwen25")),
    (re.compile(r"qwen3", re.I), Family("qwen3", "qwen3", "hermes", "qwen3", "qwen25")),
    (re.compile(r"gpt-oss", re.I), Family("gpt-oss", "openai_gptoss", "openai", "gpt-oss", "gpt-oss")),
]
GENERIC = Family("generic")


def family_of(model: str) -> Family:
    for pattern, family in FAMILIES:
        if pattern.search(model):
            return family
    return GENERIC


def visible_gpus(environ: Mapping[str, str]) -> int:
    """GPUs this process may use: CUDA_VISIBLE_DEVICES when set, else what nvidia-smi lists, else 1."""
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return max(len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"]), 1)
    if shutil.which("nvidia-smi", path=environ.get("PATH")):
        try:
            listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout
            return max(sum(1 for line in listing.splitlines() if line.startswith("GPU ")), 1)
        except (OSError, subprocess.TimeoutExpired):
            pass
    return 1


@dataclass(frozen=True)
class Plan:
    engine: str
    model: str
    port: int
    tensor_parallel: int = 1
    pipeline_parallel: int = 1  # >1 spans machines: with vLLM over a Ray cluster started beforehand
    extra: tuple[str, ...] = ()
    file: str | None = None  # the GGUF file of a packaged model (llama.cpp), served under the name model
    context: int | None = None  # the context window to serve with (llama.cpp)
    threads: int | None = None  # CPU threads for a CPU engine (llama.cpp); None: default_threads()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def served_name(self) -> str:
        """The name the model has on the server (llama.cpp and Ollama serve under the name given)."""
        return self.model


def default_threads() -> int:
    """A CPU engine's threads where the user set none: every core but one, which is left to the tests and the
    user's other work. Measured (benchmarks/localengine.py, 2 cores): a first answer of ~600 tokens took 34.5 s
    with 1 thread and 34.8 s with 2 alone, 34.7 s and 39.6 s beside a CPU-bound process — writing is bound by
    memory, not by cores, so the second thread buys nothing and costs the machine's other work."""
    return max((os.cpu_count() or 1) - 1, 1)


def command(plan: Plan, python: str = "python3") -> tuple[list[str], dict[str, str]]:
    """The engine's command line and the environment it needs on top of ours."""
    family = family_of(plan.model)
    port = str(plan.port)
    if plan.engine == "vllm":
        argv = ["vllm", "serve", plan.model, "--host", "127.0.0.1", "--port", port,
                "--served-model-name", plan.model, "--tensor-parallel-size", str(plan.tensor_parallel)]
        if plan.pipeline_parallel > 1:
            argv += ["--pipeline-parallel-size", str(plan.pipeline_parallel), "--distributed-executor-backend", "ray"]
        if family.vllm_reasoning:
            argv += ["--reasoning-parser", family.vllm_reasoning]
        if family.vllm_tools:
            argv += ["--enable-auto-tool-choice", "--tool-call-parser", family.vllm_tools]
        return argv + list(plan.extra), {}
    if plan.engine == "sglang":
        argv = [python, "-m", "sglang.launch_server", "--model-path", plan.model, "--host", "127.0.0.1",
                "--port", port, "--served-model-name", plan.model, "--tp", str(plan.tensor_parallel)]
        if plan.pipeline_parallel > 1:
            argv += ["--pp-size", str(plan.pipeline_parallel)]
        if family.sglang_reasoning:
            argv += ["--reasoning-parser", family.sglang_reasoning]
        if family.sglang_tools:
            argv += ["--tool-call-parser", family.sglang_tools]
        return argv + list(plan.extra), {}
    if plan.engine == "llama.cpp":
        gguf = plan.file or plan.model
        if shutil.which("llama-server") or not _has_llama_cpp_python(python):
            source = ["-m", gguf] if gguf.endswith(".gguf") else ["-hf", gguf]
            argv = ["llama-server", *source, "--host", "127.0.0.1", "--port", port, "--alias", plan.model,
                    "--jinja", "--reasoning-format", "deepseek", "-ngl", "999"]
            argv += ["--ctx-size", str(plan.context)] if plan.context else []
            argv += ["--threads", str(plan.threads or default_threads())]
            return argv + list(plan.extra), {}
        # llama-cpp-python's server; its OpenMP threads spin while idle unless told to wait passively, which
        # starves the tests running beside it on a small machine (generation fell from ~17 to ~2 tokens/s)
        # --interrupt_requests False: by default a new request cuts off the one being answered (its stream ends
        # without a finish reason), so two runs, or two candidates, sharing the engine would break each other's
        # answers; queued, each waits its turn
        argv = [python, "-m", "llama_cpp.server", "--model", gguf, "--model_alias", plan.model, "--host",
                "127.0.0.1", "--port", port, "--n_ctx", str(plan.context or 16_384),
                "--n_threads", str(plan.threads or default_threads()), "--n_gpu_layers", "-1",
                "--interrupt_requests", "False"]
        return argv + list(plan.extra), {"OMP_WAIT_POLICY": "PASSIVE"}
    if plan.engine == "ollama":
        return ["ollama", "serve", *plan.extra], {"OLLAMA_HOST": f"127.0.0.1:{port}"}
    raise ConfigError(f"unknown engine {plan.engine!r}: one of {', '.join(ENGINES)}")


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """In the engine's process, before it runs: on Linux, be sent sig when its parent dies, however it dies (a
    SIGKILLed parent must not leave a model server holding the CPU or the GPU)."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig)


def _has_llama_cpp_python(python: str) -> bool:
    import importlib.util

    if python in ("python3", sys.executable):
        return importlib.util.find_spec("llama_cpp") is not None
    return subprocess.run([python, "-c", "import llama_cpp.server"], capture_output=True).returncode == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class EngineServer:
    """A running engine: started, awaited, stopped (its whole process group) on exit or Ctrl-C."""

    def __init__(self, plan: Plan, log_path: Path, environ: Mapping[str, str] | None = None) -> None:
        self.plan = plan
        self.log_path = log_path
        self._environ = dict(os.environ if environ is None else environ)
        self._proc: subprocess.Popen | None = None

    def start(self) -> "EngineServer":
        argv, extra_env = command(self.plan, sys.executable)
        if not shutil.which(argv[0], path=self._environ.get("PATH")):
            raise BackendError(f"{self.plan.engine} is not installed ({argv[0]} is not on PATH): "
                               f"{INSTALL[self.plan.engine]}")
        if self.plan.engine == "sglang" and subprocess.run(
                [argv[0], "-c", "import sglang"], capture_output=True, env=self._environ).returncode != 0:
            raise BackendError(f"sglang is not installed for {argv[0]}: {INSTALL['sglang']}")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.argv = argv
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(argv, env={**self._environ, **extra_env}, stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                          preexec_fn=die_with_parent)
        return self

    def wait_ready(self, timeout: float, poll: float = 0.5) -> None:
        """Until /v1/models answers; an engine that exits first, or takes too long, is an error with its log."""
        deadline = time.monotonic() + timeout
        url = self.plan.base_url + "/models"
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise BackendError(f"{self.plan.engine} exited with status {self._proc.returncode} before it "
                                   f"was ready. Its last output:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(poll)
        self.stop()
        raise BackendError(f"{self.plan.engine} was not ready after {timeout:.0f} s (see {self.log_path}). "
                           f"Its last output:\n{self.log_tail()}")

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 15.0) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self._proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self._proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self) -> "EngineServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def plan_for(engine: str, model: str, *, port: int | None, tensor_parallel: int | None, pipeline_parallel: int,
             extra: Sequence[str], environ: Mapping[str, str]) -> Plan:
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
    from .localmodel import model_path, packaged

    local = packaged(model)
    if local is not None and engine != "llama.cpp":
        raise ConfigError(f"{model} is a packaged GGUF model: serve it with --engine llama.cpp")
    if engine == "llama.cpp" and local is None and model.endswith(".gguf") and not Path(model).is_file():
        raise ConfigError(f"{model}: no such GGUF file")
    return Plan(engine, model, port or free_port(), tensor_parallel or visible_gpus(environ), pipeline_parallel,
                tuple(extra), str(model_path(local, environ)) if local else None,
                local.context if local else None)
