"""A stand-in for an inference engine (vllm, sglang, llama-server, ollama), for testing `makegreen serve`.

It records the command line it was started with, waits a little as a real engine loads its weights, then serves
the OpenAI protocol on the port it was given, as the scripted server in that engine's dialect.

Environment: FAKE_ENGINE_LOG (a JSON-lines file to append the argv to), FAKE_ENGINE_DELAY (seconds before
serving), FAKE_ENGINE_FAIL (exit at once with an error), FAKE_ENGINE_ANSWER (a file with the reply),
FAKE_ENGINE_CRASH (die of SIGSEGV when asked for an answer, as llama.cpp built for the wrong CPU does).
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

from tests.scripted_server import Reply, ScriptedServer

DIALECT = {"vllm": "vllm", "sglang": "sglang", "llama-server": "llama.cpp", "ollama": "ollama"}


def _option(argv: list[str], *names: str) -> str | None:
    for name in names:
        if name in argv:
            return argv[argv.index(name) + 1]
    return None


def main(engine: str, argv: list[str]) -> None:
    if os.environ.get("FAKE_ENGINE_LOG"):
        with open(os.environ["FAKE_ENGINE_LOG"], "a") as log:
            log.write(json.dumps({"engine": engine, "argv": argv, "pid": os.getpid(),
                                  "ollama_host": os.environ.get("OLLAMA_HOST")}) + "\n")
    if os.environ.get("FAKE_ENGINE_FAIL"):
        print("CUDA out of memory: tried to allocate 80.00 GiB", file=sys.stderr)
        sys.exit(1)
    time.sleep(float(os.environ.get("FAKE_ENGINE_DELAY", "0.5")))
    if engine == "ollama":
        port = int(os.environ["OLLAMA_HOST"].rsplit(":", 1)[1])
        model = os.environ.get("FAKE_ENGINE_MODEL", "scripted-model")
    else:
        port = int(_option(argv, "--port"))
        model = _option(argv, "--served-model-name", "--alias") or "scripted-model"
    answer = Path(os.environ["FAKE_ENGINE_ANSWER"]).read_text() if os.environ.get("FAKE_ENGINE_ANSWER") else "ok"
    crash = (lambda body: os.kill(os.getpid(), signal.SIGSEGV)) if os.environ.get("FAKE_ENGINE_CRASH") else None
    server = ScriptedServer([Reply(answer, reasoning="Loading the tests into mind.")], model=model,
                            dialect=DIALECT[engine], port=port, route=crash).start()
    print(f"serving {model} on {port}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main(sys.argv[1], sys.argv[2:])
