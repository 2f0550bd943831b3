"""The builders of a run's parts, from the settings: its id, its sandboxes and their image, its model (built in the
background), its budget, a served engine. Used by solve (agent/run/session.py), the hook, replay and `sandbox build`;
light to import, as the hook's everyday path needs only the sandbox."""
from __future__ import annotations

import dataclasses
import os
import secrets
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from ..core.errors import BackendError
from . import events as ev
from .config import Settings

if TYPE_CHECKING:
    from ..models.budget import Budget
    from ..context.prompt import ContextLimits
    from ..models.dialects import ModelSettings

Emit = Callable[[ev.Event], None]


def new_run_id(clock: Callable[[], float] = time.time) -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(clock())) + "-" + secrets.token_hex(2)


def model_settings(settings: Settings) -> ModelSettings:
    from ..models.dialects import ModelSettings

    return ModelSettings(settings.model, settings.dialect, settings.effort, settings.think_budget, settings.thinking,
                         settings.temperature, settings.max_output_tokens, settings.seed)


class Deferred:
    """A model built in the background while the sandbox starts and the baseline runs (importing the OpenAI
    client takes most of a second of CPU, asking a local server who it is a round trip): the run waits for it only
    when it first asks. It is waited for when the run ends (close), so that no import is left half done in a
    thread at exit; by then it is done. Its events are held and told, in order, when it is first used."""

    def __init__(self, build: Callable[[Emit], Any], emit: Emit) -> None:
        self._build, self._emit = build, emit
        self._held: list[ev.Event] = []
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._model: Any = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Begin building."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="makegreen-model", daemon=True)
            self._thread.start()

    def close(self, wait: float = 30.0) -> None:
        """Wait for the building to end (a few tenths of a second at most, by the end of a run)."""
        if self._thread is not None:
            self._thread.join(wait)

    def _run(self) -> None:
        try:
            self._model = self._build(self._held.append)
        except BaseException as exc:  # raised where the model is first used
            self._error = exc
        finally:
            self._done.set()

    def _resolved(self):
        self.start()
        self._done.wait()
        if self._error is not None:
            raise self._error
        with self._lock:  # candidates ask from several threads: the held events are told once
            held, self._held[:] = list(self._held), []
        for event in held:
            self._emit(event)
        return self._model

    def complete(self, *args, **kwargs):
        return self._resolved().complete(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._resolved(), name)


def check_key(settings: Settings) -> None:
    """The one mistake found without the network, before anything starts."""
    if not settings.api_key and not settings.base_url:
        raise BackendError("no API key: set OPENAI_API_KEY (or --api-key), or point OPENAI_BASE_URL / "
                           "--base-url at a local OpenAI-compatible server")


def make_model(settings: Settings, emit: Emit):
    import openai

    from ..models.openai_chat import OpenAIChatModel
    from ..models.dialects import DIALECTS, detect
    from ..models.openai_responses import OpenAIResponsesModel, responses_only

    check_key(settings)
    api_key = settings.api_key or "unused"  # local servers ignore it, but the client requires one
    client = openai.OpenAI(api_key=api_key, base_url=settings.base_url, max_retries=4,
                           timeout=settings.request_timeout)
    listed = _listed(client) if settings.base_url else {}
    unlisted = unlisted_warning(settings.model, settings.base_url, listed)
    if unlisted:
        emit(ev.ModelUnlisted(unlisted, settings.model, tuple(sorted(listed))))
    dialect = settings.dialect
    if dialect == "auto":
        dialect = detect(settings.model, settings.base_url, listed.get(settings.model))
        emit(ev.Status(f"dialect {dialect} (detected; --dialect overrides)"))
    api = settings.api
    if api == "auto":
        api = "responses" if dialect == "openai-reasoning" and responses_only(settings.model) else "chat"
    if api == "responses":
        emit(ev.Status("using the Responses API"))
        return OpenAIResponsesModel(client, model_settings(settings), DIALECTS[dialect])
    from ..models.tokens import GgufTokens

    return OpenAIChatModel(client, model_settings(settings), DIALECTS[dialect],
                           tokens=GgufTokens.available(served_vocabulary(settings)))


def served_vocabulary(settings: Settings, environ: Mapping[str, str] = os.environ) -> Path | None:
    """The GGUF file of the model makegreen serves with llama.cpp for this run (the local default, a packaged
    model, a .gguf path), whose vocabulary counts its tokens exactly; None for any other server."""
    if not settings.serve or settings.engine != "llama.cpp":
        return None
    from ..models.localmodel import model_path, packaged

    local = packaged(settings.serve)
    if local is not None:
        return model_path(local, environ)
    return Path(settings.serve) if settings.serve.endswith(".gguf") else None


def _listed(client) -> dict[str, str | None]:
    """The models the server lists, each with who serves it (vLLM, SGLang, llama.cpp and Ollama say); empty for
    a server without /models, which is still usable (the dialect falls back to plain chat)."""
    try:
        return {entry.id: getattr(entry, "owned_by", None)
                for entry in client.with_options(max_retries=0, timeout=10).models.list()}
    except Exception:
        return {}


def unlisted_warning(model: str, where: str | None, listed: Mapping[str, str | None]) -> str | None:
    """What to say when the server lists models but not this one (as doctor says it); None when it lists it, or
    lists nothing. A server that refuses the name fails the first request instead (exit 3)."""
    if not listed or model in listed:
        return None
    offered = ", ".join(sorted(listed)[:12]) + (" …" if len(listed) > 12 else "")
    return (f"{where} does not list the model {model} (it lists only: {offered}), though it may answer for it: "
            f"a server that serves one model under any name is not running {model}; check --model / "
            "MAKEGREEN_MODEL")


def make_sandboxes(settings: Settings, root: Path, *, files: Mapping[str, bytes], run_id: str, emit: Emit,
                   count: int = 1) -> list:
    """count sandboxes of the same kind and image (one per candidate), not started yet."""
    if settings.sandbox == "local":
        from sandbox.local import LocalSandbox, find_python

        python = find_python(root, os.environ)
        local = [LocalSandbox(python, memory=settings.memory, pids=settings.pids) for _ in range(count)]
        emit(ev.Status(local[0].describe()))
        return local
    from sandbox.container import DockerSandbox, Limits, connect
    engine = connect(timeout=settings.test_timeout + 60)

    def build() -> str:
        return project_image(engine, settings, files, lambda line: emit(ev.Status(line)))

    # each setting named as a limit is that limit (a new one: its field in Limits and its setting in config.py)
    settable = {item.name for item in dataclasses.fields(settings)}
    limits = Limits(**{item.name: getattr(settings, item.name) for item in dataclasses.fields(Limits)
                       if item.name in settable}, labels={"makegreen.run": run_id})
    image = build()
    return [DockerSandbox(engine, image, limits, rebuild=build, warm=settings.warm) for _ in range(count)]


def start_all(sandboxes: Sequence, files: Mapping[str, bytes]) -> None:
    """Start the sandboxes together (a container takes a few tenths of a second to start)."""
    if len(sandboxes) == 1:
        sandboxes[0].start(files)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(sandboxes)) as pool:
        for started in [pool.submit(sandbox.start, files) for sandbox in sandboxes]:
            started.result()


def project_image(engine, settings: Settings, files: Mapping[str, bytes], on_log: Callable[[str], None]) -> str:
    from sandbox.image import ensure_image, find_ca_bundle, find_dependencies

    return ensure_image(engine, settings.base_image, find_dependencies(files), on_log, find_ca_bundle(os.environ))


def context_limits(settings: Settings, root: Path) -> ContextLimits:
    from ..context.prompt import ContextLimits
    from ..models.dialects import context_window, reserved_output
    from ..workspace.state import state_dir

    window = settings.context_window or context_window(settings.model)
    prompt = max(window - reserved_output(model_settings(settings)), window // 4)
    return ContextLimits(prompt_tokens=prompt, cache_path=state_dir(root) / "cache" / "facts.json")


def wants_local(settings: Settings, environ: Mapping[str, str] = os.environ) -> bool:
    """No API key, no base URL, no engine named, and no other model asked for: the local default it is (unless
    MAKEGREEN_LOCAL=0 turns it off)."""
    from .config import DEFAULT_MODEL
    from ..models.localmodel import packaged

    return environ.get("MAKEGREEN_LOCAL", "1") != "0" and not settings.api_key and not settings.base_url and \
        not settings.serve and (settings.model == DEFAULT_MODEL or packaged(settings.model) is not None)


def with_local_default(settings: Settings, emit: Emit) -> Settings:
    """The settings that serve the packaged local model around the run, told to the user; an error with the way
    out when it is not installed."""
    from ..models.localmodel import DEFAULT, INSTALL_HINT, engine_installed, missing_packages, packaged

    model = packaged(settings.model) or DEFAULT
    if missing_packages(model) or not engine_installed():
        raise BackendError("no API key and no base URL: set OPENAI_API_KEY (or --api-key), point OPENAI_BASE_URL / "
                           f"--base-url at an OpenAI-compatible server, or {INSTALL_HINT} for a local model")
    emit(ev.Status(f"no API key and no base URL: using the local default model {model.name} (llama.cpp on this "
                   "machine; set OPENAI_API_KEY or --base-url to use another)"))
    return dataclasses.replace(settings, serve=model.name, engine="llama.cpp", model=model.name)


def with_profile(settings: Settings) -> Settings:
    """A packaged model's own settings (its served context, an output cap, greedy sampling, the edit format it
    does best with) where the user set none, whether makegreen serves it or `makegreen serve --local` does."""
    from ..models.localmodel import packaged

    model = packaged(settings.model)
    if model is None:
        return settings
    return dataclasses.replace(
        settings, context_window=settings.context_window or model.context,
        max_output_tokens=settings.max_output_tokens or model.max_output,
        temperature=model.temperature if settings.temperature is None else settings.temperature,
        edit_format=model.edit_format if settings.edit_format == "auto" else settings.edit_format)


def start_engine(settings: Settings, stack: ExitStack, emit: Emit) -> Settings:
    """`solve --serve MODEL` (and the local default): the run holds an engine for its length — one kept warm by
    an earlier run where the settings match, else one it starts (agent/models/shared_engine.py); the run talks to it."""
    from ..models.localmodel import assemble, packaged
    from ..models.serve import plan_for
    from ..models.shared_engine import acquire

    local = packaged(settings.serve)
    if local is not None:
        assemble(local, os.environ, _assembly_progress(local.name, emit))
    plan = dataclasses.replace(plan_for(settings.engine, settings.serve, port=None, tensor_parallel=None,
                                                 pipeline_parallel=1, extra=(), environ=os.environ),
                               threads=settings.engine_threads)
    lease = acquire(plan, idle=settings.engine_idle, environ=os.environ, ready_timeout=SERVE_READY_TIMEOUT,
                    said=lambda said: emit(ev.Status(said)))
    stack.callback(lease.release)
    state = lease.state

    def crashed(kind, error, trace) -> bool:
        """A backend error because the engine died under the run (not a server that went away) says so."""
        from ..models.shared_engine import died

        said = died(state) if isinstance(error, BackendError) else None
        if said is not None:
            raise BackendError(f"{settings.engine} stopped while this run was using it. Its log ({state.log}) ends:"
                               f"\n{said}") from error
        return False

    stack.push(crashed)
    if lease.started:
        emit(ev.Status(f"{settings.engine} is ready at {state.base_url}"))
    else:
        emit(ev.Status(f"using the warm {settings.engine} engine for {settings.serve} at {state.base_url} (pid "
                       f"{state.engine}, started {time.strftime('%H:%M:%S', time.localtime(state.started))})"))
    return dataclasses.replace(settings, base_url=state.base_url, model=plan.served_name)


SERVE_READY_TIMEOUT = 1800.0


def _assembly_progress(name: str, emit: Emit) -> Callable[[int, int], None]:
    """Status lines at each tenth of a model being assembled (the CLI shows a bar before the run instead)."""
    shown = [-1]

    def progress(done: int, total: int) -> None:
        tenth = done * 10 // total
        if tenth != shown[0]:
            shown[0] = tenth
            emit(ev.Status(f"assembling {name}: {tenth * 10}%"))
    return progress


def make_budget(settings: Settings, emit: Emit) -> Budget:
    """The run's budget. A dollar budget needs the model's price; with none known (a self-hosted model) a token
    budget given beside it is what holds, said so, rather than refusing the run."""
    from ..models.budget import Budget
    from ..models.pricing import price_for

    price = price_for(settings.model, settings.prices)
    usd = settings.budget_usd
    if usd is not None and price is None and settings.budget_tokens is not None:
        emit(ev.Status(f"no price is known for {settings.model}: the dollar budget cannot be counted; the token "
                       f"budget ({settings.budget_tokens:,} tokens) holds"))
        usd = None
    return Budget(settings.budget_tokens, usd, price, settings.timeout)
