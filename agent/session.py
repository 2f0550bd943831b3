"""One `makegreen solve` run, wired: settings → workspace, sandbox and model → the loop → the user's tree."""
from __future__ import annotations

import dataclasses
import os
import secrets
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from . import events as ev
from .budget import Budget
from .config import Settings
from .errors import ApplyConflict, BackendError, ConfigError
from .git import CommitRefused, check_can_commit, commit_fix, commit_message
from .integrity import special_cases
from . import prompting
from .loop import Outcome, Slot, Task, solve
from .status import Status
from .protected import ProtectedPaths
from .context.prompt import ContextLimits
from .models.dialects import ModelSettings, context_window, reserved_output
from .models.pricing import price_for
from .trajectory import TrajectoryWriter, save_snapshot
from .workspace import UNDO, Workspace, interrupts_deferred, recover, save_text, save_undo, state_dir

Emit = Callable[[ev.Event], None]


def new_run_id(clock: Callable[[], float] = time.time) -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(clock())) + "-" + secrets.token_hex(2)


def resolve_targets(root: Path, cwd: Path, paths: Sequence[str]) -> tuple[str, ...]:
    """PATHS as the user typed them (relative to where they stand), as pytest arguments relative to the root."""
    targets = []
    for given in paths:
        file_part, sep, rest = given.partition("::")
        full = (cwd / file_part).resolve()
        if not full.exists():
            raise ConfigError(f"{file_part}: no such file or directory")
        try:
            relative = full.relative_to(root).as_posix()
        except ValueError:
            raise ConfigError(f"{file_part} is outside the project at {root}") from None
        targets.append((relative if relative != "." else "") + (sep + rest if sep else "") or ".")
    return tuple(targets)


def model_settings(settings: Settings) -> ModelSettings:
    return ModelSettings(settings.model, settings.dialect, settings.effort, settings.think_budget, settings.thinking,
                         settings.temperature, settings.max_output_tokens)


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

    from .models import OpenAIChatModel
    from .models.dialects import DIALECTS, detect
    from .models.openai_responses import OpenAIResponsesModel, responses_only

    check_key(settings)
    api_key = settings.api_key or "unused"  # local servers ignore it, but the client requires one
    client = openai.OpenAI(api_key=api_key, base_url=settings.base_url, max_retries=4,
                           timeout=settings.request_timeout)
    dialect = settings.dialect
    if dialect == "auto":
        dialect = detect(settings.model, settings.base_url, _owner(client, settings) if settings.base_url else None)
        emit(ev.Status(f"dialect {dialect} (detected; --dialect overrides)"))
    api = settings.api
    if api == "auto":
        api = "responses" if dialect == "openai-reasoning" and responses_only(settings.model) else "chat"
    kind = OpenAIResponsesModel if api == "responses" else OpenAIChatModel
    if api == "responses":
        emit(ev.Status("using the Responses API"))
    return kind(client, model_settings(settings), DIALECTS[dialect])


def _owner(client, settings: Settings) -> str | None:
    """Who serves the model, as the server's model list says (vLLM, SGLang, llama.cpp and Ollama say)."""
    try:
        for entry in client.with_options(max_retries=0, timeout=10).models.list():
            if entry.id == settings.model:
                return getattr(entry, "owned_by", None)
    except Exception:  # a server without /models is still usable: the dialect falls back to plain chat
        return None
    return None


def make_sandboxes(settings: Settings, root: Path, files: Mapping[str, bytes], run_id: str, emit: Emit,
                   count: int = 1) -> list:
    """count sandboxes of the same kind and image (one per candidate), not started yet."""
    if settings.sandbox == "local":
        from sandbox.local import LocalSandbox, find_python

        python = find_python(root, os.environ)
        local = [LocalSandbox(python, memory=settings.memory, pids=settings.pids) for _ in range(count)]
        emit(ev.Status(local[0].describe()))
        return local
    from sandbox.container import DockerSandbox, Limits, connect
    client = connect(timeout=settings.test_timeout + 60)
    def build() -> str:
        return project_image(client, settings, files, lambda line: emit(ev.Status(line)))

    limits = Limits(memory=settings.memory, cpus=settings.cpus, pids=settings.pids,
                    labels={"makegreen.run": run_id})
    image = build()
    return [DockerSandbox(client, image, limits, rebuild=build, warm=settings.warm) for _ in range(count)]


def make_slots(settings: Settings, root: Path, workspace: Workspace, run_id: str, stack: ExitStack,
               emit: Emit) -> list[Slot]:
    """One slot a candidate, started: its own sandbox and, with more than one, its own copy of the tree. Each is
    closed when stack closes."""
    sandboxes = make_sandboxes(settings, root, workspace.files(), run_id, emit, settings.candidates)
    for sandbox in sandboxes:
        # a run that ends as it should parks a warm container for the next; an interrupted or failed one removes it
        stack.callback(lambda box=sandbox: box.close(park=sys.exc_info()[0] is None))
    copies = [workspace] if settings.candidates == 1 else [workspace.fork() for _ in sandboxes]
    for copy in copies:
        if copy is not workspace:
            stack.callback(copy.close)
    if settings.candidates > 1:
        emit(ev.Status(f"{settings.candidates} candidates, each in its own sandbox; debugging goes on from the "
                       f"best {settings.beam}"))
    start_all(sandboxes, workspace.files())
    return [Slot(copy, sandbox) for copy, sandbox in zip(copies, sandboxes)]


def start_all(sandboxes: Sequence, files: Mapping[str, bytes]) -> None:
    """Start the sandboxes together (a container takes a few tenths of a second to start)."""
    if len(sandboxes) == 1:
        sandboxes[0].start(files)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(sandboxes)) as pool:
        for started in [pool.submit(sandbox.start, files) for sandbox in sandboxes]:
            started.result()


def project_image(client, settings: Settings, files: Mapping[str, bytes], on_log: Callable[[str], None]) -> str:
    from sandbox.image import ensure_image, find_ca_bundle, find_dependencies

    return ensure_image(client, settings.base_image, find_dependencies(files), on_log, find_ca_bundle(os.environ))


def context_limits(settings: Settings, root: Path) -> ContextLimits:
    window = settings.context_window or context_window(settings.model)
    prompt = max(window - reserved_output(model_settings(settings)), window // 4)
    return ContextLimits(prompt_tokens=prompt, cache_path=state_dir(root) / "cache" / "facts.json")


def wants_local(settings: Settings, environ: Mapping[str, str] = os.environ) -> bool:
    """No API key, no base URL, no engine named, and no other model asked for: the local default it is (unless
    MAKEGREEN_LOCAL=0 turns it off)."""
    from .config import DEFAULT_MODEL
    from .localmodel import packaged

    return environ.get("MAKEGREEN_LOCAL", "1") != "0" and not settings.api_key and not settings.base_url and \
        not settings.serve and (settings.model == DEFAULT_MODEL or packaged(settings.model) is not None)


def with_local_default(settings: Settings, emit: Emit) -> Settings:
    """The settings that serve the packaged local model around the run, told to the user; an error with the way
    out when it is not installed."""
    from .localmodel import DEFAULT, INSTALL_HINT, engine_installed, missing_packages, packaged

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
    from .localmodel import packaged

    model = packaged(settings.model)
    if model is None:
        return settings
    return dataclasses.replace(
        settings, context_window=settings.context_window or model.context,
        max_output_tokens=settings.max_output_tokens or model.max_output,
        temperature=model.temperature if settings.temperature is None else settings.temperature,
        edit_format=model.edit_format if settings.edit_format == "auto" else settings.edit_format)


def start_engine(settings: Settings, root: Path, stack: ExitStack, emit: Emit) -> Settings:
    """`solve --serve MODEL`: the engine runs for the length of the run; the run talks to it."""
    from .localmodel import assemble, packaged
    from .serve import EngineServer, plan_for

    local = packaged(settings.serve)
    if local is not None:
        assemble(local, os.environ, _assembly_progress(local.name, emit))
    plan = plan_for(settings.engine, settings.serve, None, None, 1, (), os.environ)
    server = EngineServer(plan, state_dir(root) / f"serve-{plan.port}.log").start()
    stack.callback(server.stop)
    emit(ev.Status(f"starting {settings.engine} for {settings.serve}: {' '.join(server.argv)}"))
    server.wait_ready(SERVE_READY_TIMEOUT)
    emit(ev.Status(f"{settings.engine} is ready at {plan.base_url}"))
    return dataclasses.replace(settings, base_url=plan.base_url, model=plan.served_name)


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


def run_solve(settings: Settings, root: Path, targets: tuple[str, ...], emit: Emit,
              clock: Callable[[], float] = time.monotonic, record_root: Path | None = None,
              replay_model=None, replay_of: str | None = None) -> dict[str, Any]:
    """Solve, apply when green (unless told not to), and return the run's summary, whose status is green,
    already_green, not_solved or conflict. Errors propagate typed, after the trajectory has recorded them.
    record_root: where .makegreen/ keeps the record and caches, when root is a copy (the hook's snapshot);
    replay_model answers instead of the backend (makegreen replay of run replay_of)."""
    started = clock()
    run_id = new_run_id()
    run_dir = state_dir(record_root or root) / "runs" / run_id
    trajectory = TrajectoryWriter(run_dir)
    summary: dict[str, Any] = {"run_id": run_id, "run_dir": os.path.relpath(run_dir), "model": settings.model,
                               "sandbox": settings.sandbox, "status": Status.ERROR, "applied": False,
                               "trust": settings.trust, "ignored_settings": list(settings.ignored), "refused": []}

    refused: dict[str, str] = {}  # protected paths the model tried to write, shown with the result

    def both(event: ev.Event) -> None:
        if isinstance(event, ev.EditsApplied):
            refused.update((r["path"], r["reason"]) for r in event.refused if r.get("protected"))
            summary["refused"] = [{"path": path, "reason": reason} for path, reason in sorted(refused.items())]
        trajectory(event)
        emit(event)

    try:
        with CleanUp() as stack:
            settings = _set_up(settings, root, record_root, stack, both, replay_model is not None)
            summary["model"] = settings.model
            both(ev.RunStarted(run_id, str(root), settings.model, settings.sandbox, targets))
            if settings.commit or settings.branch:  # before anything is spent
                check_can_commit(root, settings.branch)
            both(ev.RunSettings({key: value for key, value in dataclasses.asdict(settings).items()
                                 if key != "api_key"}, replay_of))
            model = replay_model or Deferred(lambda told: make_model(settings, told), both)
            if isinstance(model, Deferred):
                model.start()
                stack.callback(model.close)
            workspace = Workspace(root)
            stack.callback(workspace.close)
            if not save_snapshot(run_dir, workspace.files()):
                both(ev.Status("the tree is too large to keep a snapshot of: this run cannot be replayed"))
            slots = make_slots(settings, root, workspace, run_id, stack, both)
            outcome = solve(make_task(settings, targets, record_root or root, both), model, workspace, slots, both)
            summary.update(_outcome_summary(outcome, workspace), candidates=settings.candidates, beam=settings.beam)
            if settings.candidates > 1 and outcome.status == Status.GREEN:
                summary["candidate"] = outcome.slot + 1
            _deliver(settings, root, workspace, outcome, run_dir, summary, both)
    except KeyboardInterrupt:
        summary.update(status=Status.INTERRUPTED)
        raise
    except Exception as exc:
        summary.update(status=Status.ERROR, message=str(exc))
        raise
    finally:
        with interrupts_deferred():  # the record's last line is written whole, whatever arrives
            summary["seconds"] = round(clock() - started, 3)
            both(ev.Finished(dict(summary)))
            trajectory.close()
    return summary


def _set_up(settings: Settings, root: Path, record_root: Path | None, stack: ExitStack, emit: Emit,
            replay: bool) -> Settings:
    """Before the run: a write a killed run left half done finished (and said), the model to use settled (the local
    default, an engine started around the run, the model's profile), the key checked."""
    finished = recover(record_root or root)
    if finished:
        emit(ev.Status(f"finished the apply an interrupted run left half done: {', '.join(finished)}"))
    if wants_local(settings) and not replay:
        settings = with_local_default(settings, emit)
    if settings.serve:
        settings = start_engine(settings, root, stack, emit)
    settings = with_profile(settings)
    if not replay:
        check_key(settings)
    prompting.use_folder(root / settings.prompts_dir if settings.prompts_dir else None)  # relative: to the root
    stack.callback(prompting.use_folder, None)
    return settings


def make_task(settings: Settings, targets: tuple[str, ...], root: Path, emit: Emit) -> Task:
    """What the loop is asked to do, and within what."""
    return Task(targets, settings.message, settings.max_iterations, settings.test_timeout, settings.edit_format,
                make_budget(settings, emit), context_limits(settings, root), settings.effort, settings.holdout,
                settings.holdout_seed, settings.beam, settings.hide_tests,
                ProtectedPaths(settings.protect, settings.unprotect))


def _deliver(settings: Settings, root: Path, workspace: Workspace, outcome: Outcome, run_dir: Path,
             summary: dict[str, Any], emit: Emit) -> None:
    """Green: the patch saved, applied (unless --no-apply) and committed if asked. Not green: the best attempt (not
    the last one) saved as a patch, and applied with --apply-partial."""
    if outcome.status == Status.GREEN:
        patch = run_dir / "changes.patch"
        save_text(patch, summary["diff"])
        if not settings.apply:
            summary["message"] = f"not applied (--no-apply); the patch is in {os.path.relpath(patch)}"
            return
        _apply(root, workspace, run_dir, patch, summary, emit, lambda: summary.update(applied=True))
        if summary["applied"] and (settings.commit or settings.branch):
            _commit(settings, root, workspace, summary, emit)
    elif outcome.status.unsolved and outcome.best is not None:
        workspace.restore(outcome.best.changes)
        summary.update(_outcome_summary(outcome, workspace, best=True))
        patch = run_dir / "best-attempt.patch"
        save_text(patch, workspace.diff())
        summary["message"] = f"your files are untouched; the best attempt is in {os.path.relpath(patch)}"
        if settings.apply_partial and settings.apply:
            _apply(root, workspace, run_dir, patch, summary, emit, lambda: summary.update(
                applied=True, message=f"the best attempt (not green) was applied (--apply-partial); its patch is "
                                      f"{os.path.relpath(patch)}"))


def _apply(root: Path, workspace: Workspace, run_dir: Path, patch: Path, summary: dict[str, Any], emit: Emit,
           on_written: Callable[[], None]) -> None:
    """Write the patch into the user's tree (the way back kept first); a conflict writes nothing."""
    _before_apply(root, workspace, run_dir, summary, emit)
    try:
        workspace.apply(patch, on_written=on_written)
    except ApplyConflict as exc:
        (run_dir / UNDO).unlink(missing_ok=True)  # nothing was written: nothing to undo
        summary.update(status=Status.CONFLICT, message=str(exc), conflicts=exc.paths)


def make_budget(settings: Settings, emit: Emit) -> Budget:
    """The run's budget. A dollar budget needs the model's price; with none known (a self-hosted model) a token
    budget given beside it is what holds, said so, rather than refusing the run."""
    price = price_for(settings.model, settings.prices)
    usd = settings.budget_usd
    if usd is not None and price is None and settings.budget_tokens is not None:
        emit(ev.Status(f"no price is known for {settings.model}: the dollar budget cannot be counted; the token "
                       f"budget ({settings.budget_tokens:,} tokens) holds"))
        usd = None
    return Budget(settings.budget_tokens, usd, price, settings.timeout)


def _before_apply(root: Path, workspace: Workspace, run_dir: Path, summary: dict[str, Any], emit: Emit) -> None:
    """Keep the way back (`makegreen undo`), and say which files held uncommitted work the fix replaces."""
    from .git import uncommitted

    changes = workspace.changes()
    save_undo(run_dir, workspace.original, changes)
    dirty = uncommitted(root, workspace.original, [path for path in changes if path in workspace.original])
    summary["overwrote_uncommitted"] = dirty
    if dirty:
        emit(ev.Status(f"{', '.join(dirty)} held uncommitted changes of yours, which the fix replaces; "
                       f"`makegreen undo {summary['run_id']}` puts them back"))


class CleanUp(ExitStack):
    """The run's clean-up (the engine, the sandboxes, the copies) runs whole: an interrupt during it waits."""

    def __exit__(self, *exc) -> bool:
        with interrupts_deferred():
            return super().__exit__(*exc)


def _commit(settings: Settings, root: Path, workspace: Workspace, summary: dict[str, Any], emit: Emit) -> None:
    """--commit / --branch: the applied fix becomes a commit, through the repository's hooks."""
    message = commit_message(summary["turned_green"], settings.model)
    try:
        summary["commit"] = commit_fix(root, workspace.original, summary["changed_files"], message, settings.branch,
                                       hooks=settings.trust == "trusted")
    except CommitRefused as exc:
        summary.update(status=Status.NOT_COMMITTED, message=str(exc))
        return
    summary["branch"] = settings.branch or _branch_name(root)
    emit(ev.Status(f"committed {summary['commit'][:12]} on {summary['branch']}"))


def _branch_name(root: Path) -> str:
    from .git import open_repo

    repo = open_repo(root)
    return repo.active_branch.name if repo is not None and not repo.head.is_detached else "(detached)"


def _outcome_summary(outcome: Outcome, workspace: Workspace, best: bool = False) -> dict[str, Any]:
    result = outcome.best.result if best and outcome.best else outcome.result
    changed = list(workspace.changes()) if outcome.status == Status.GREEN or best else []
    tests = {path: workspace.original[path] for path in outcome.test_files if path in workspace.original}
    return {
        "status": outcome.status,
        "iterations": outcome.iterations,
        "tests_before": outcome.before,
        "tests": result.report.summary(),
        "failing": [case.nodeid for case in result.report.failing],
        "turned_green": sorted(nodeid for nodeid, case in result.report.tests.items()
                               if case.outcome == "passed" and nodeid not in outcome.passing_before),
        "lost_tests": outcome.lost,
        "gaming": outcome.flagged,  # evidence that kept the result red: the tests' answers held by heart
        "special_cases": special_cases(tests, {p: c for p, c in workspace.changes().items() if c is not None}),
        "changed_files": changed,
        "diff": workspace.diff() if changed else "",
        "usage": outcome.usage,
        "cost_usd": None if outcome.cost_usd is None else round(outcome.cost_usd, 6),
        "reason": outcome.reason,
        "contradictions_confirmed": outcome.confirmed,
        "holdout": {"held_out": outcome.held, **outcome.held_result} if outcome.held else None,
        "overfitting": outcome.overfitting,  # held-out tests that failed on code green on the rest (a warning
        # where the final code passes them too: it was shown them after)
        "model_seconds": round(outcome.model_seconds, 3),
        "sandbox_seconds": round(outcome.sandbox_seconds, 3),
    }
