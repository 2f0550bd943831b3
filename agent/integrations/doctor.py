"""`makegreen doctor`: each precondition of a run, checked, with the fix for what is wrong."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from ..run.config import Settings

OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok, warn (a run works, less well), FAIL (a run cannot work)
    detail: str
    fix: str = ""


def check_docker(settings: Settings, environ: Mapping[str, str]) -> tuple[list[Check], object | None]:
    from sandbox import SandboxUnavailable
    from sandbox.container import connect
    from sandbox.local import LocalSandbox

    if settings.sandbox == "local":
        local = LocalSandbox(memory=settings.memory, pids=settings.pids)
        return [Check("sandbox", WARN, local.describe(), "install Docker and use --sandbox docker to isolate runs")], None
    try:
        client = connect(timeout=20, environ=environ).sdk()  # doctor's questions are the SDK's
    except SandboxUnavailable as exc:
        message = str(exc)
        return [Check("docker engine", FAIL, message.split(". ")[0], message.split(". ", 1)[-1])], None
    info = client.info()
    rootless = any("rootless" in option for option in info.get("SecurityOptions") or [])
    detail = (f"Docker {info.get('ServerVersion', '?')} at {environ.get('DOCKER_HOST', 'the default socket')}, "
              f"{'rootless' if rootless else 'rootful'}, cgroups v{info.get('CgroupVersion', '?')}")
    return [Check("docker engine", OK, detail)], client


def check_image(client, settings: Settings, files: Mapping[str, bytes]) -> list[Check]:
    import docker.errors

    from sandbox.image import IMAGE_REPO, find_dependencies

    try:
        client.images.get(settings.base_image)
        checks = [Check("base image", OK, f"{settings.base_image} is here")]
    except docker.errors.ImageNotFound:
        offline = ("without a registry: sudo sandbox/build-offline-base.sh, then "
                   "MAKEGREEN_BASE_IMAGE=makegreen-base:offline")
        try:  # the registry's answer for the image, without pulling it: would the first run's pull work?
            client.images.get_registry_data(settings.base_image)
            checks = [Check("base image", WARN, f"{settings.base_image} is not here; the first run pulls it", "")]
        except docker.errors.APIError as exc:
            checks = [Check("base image", FAIL, f"{settings.base_image} is not here and cannot be pulled "
                            f"({exc.explanation or exc})", offline)]
    deps = find_dependencies(files)
    built = client.images.list(name=IMAGE_REPO)
    wanted = f"{len(deps.requirements)} requirement(s), {len(deps.files)} requirements file(s)"
    checks.append(Check("project image", OK, f"{wanted}; {len(built)} makegreen image(s) built here",
                        "" if built else "makegreen sandbox build (or the first run) builds it"))
    return checks


def check_local(settings: Settings, environ: Mapping[str, str]) -> list[Check]:
    """No API key and no base URL: the packaged local model is what a run would use."""
    from ..models.localmodel import (DEFAULT, INSTALL_HINT, assembled, engine_installed, missing_packages, model_path,
                                     packaged)

    model = packaged(settings.model) or DEFAULT
    missing = missing_packages(model)
    if missing or not engine_installed():
        what = f"{len(missing)} of its packages" if missing else "the llama.cpp engine"
        return [Check("model backend", FAIL, f"no API key and no base URL, and the local default model is not "
                      f"installed ({what} missing)", f"{INSTALL_HINT}; or export OPENAI_API_KEY=…, or "
                      "OPENAI_BASE_URL=http://host:port/v1 for a server")]
    state = (f"assembled at {model_path(model, environ)}" if assembled(model, environ)
             else f"assembled on first use into {model_path(model, environ).parent} ({model.size / 1e9:.1f} GB)")
    kept = (f"kept warm {settings.engine_idle:.0f} s after a run for the next" if settings.engine_idle > 0
            else "started and stopped with each run (engine-idle = 0)")
    return [Check("model backend", OK, f"no API key and no base URL: the local default {model.name}, served by "
                  f"llama.cpp on this machine ({kept}); {state}"), *check_warm_engines(environ)]


def check_warm_engines(environ: Mapping[str, str]) -> list[Check]:
    """The shared engines running for this user now: where, since when."""
    import time

    from ..models.shared_engine import running

    return [Check("warm engine", OK, f"{state.model} at {state.base_url} (pid {state.engine}), running since "
                  f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(state.started))}, stops after "
                  f"{state.idle:.0f} s without a run; its log: {state.log}") for state in running(environ)]


def check_backend(settings: Settings, make_client: Callable[[], object],
                  environ: Mapping[str, str] = {}) -> list[Check]:
    import openai

    from ..run.wiring import wants_local

    where = settings.base_url or "OpenAI's API"
    if wants_local(settings, environ):
        return check_local(settings, environ)
    if not settings.api_key and not settings.base_url:
        return [Check("model backend", FAIL, "no API key",
                      "export OPENAI_API_KEY=…, or OPENAI_BASE_URL=http://host:port/v1 for a local server")]
    try:
        models = sorted(model.id for model in make_client().models.list())
    except openai.AuthenticationError:
        return [Check("model backend", FAIL, f"{where} refused the API key", "check OPENAI_API_KEY / --api-key")]
    except openai.APIConnectionError as exc:
        return [Check("model backend", FAIL, f"cannot reach {where}: {exc.__cause__ or exc}",
                      "start the server, or fix OPENAI_BASE_URL / --base-url (it usually ends in /v1)")]
    except openai.APIStatusError as exc:
        return [Check("model backend", WARN, f"{where} lists no models (HTTP {exc.status_code})",
                      "fine if the server does not implement /models")]
    # what a run does first, for real: an authenticated request for the model (listing models often needs no key)
    problem = _ask(make_client(), settings.model)
    offered = ", ".join(models[:12]) + (" …" if len(models) > 12 else "")
    if problem == "key":
        return [Check("model backend", FAIL, f"{where} lists models but refused the API key for a request",
                      "check OPENAI_API_KEY / --api-key")]
    if problem == "model":
        return [Check("model", FAIL, f"{settings.model} is not served at {where}; offered: {offered or 'none'}",
                      "--model NAME, MAKEGREEN_MODEL, or model = in [tool.makegreen]")]
    if problem:
        return [Check("model backend", FAIL, f"{where} failed a request for {settings.model}: {problem}", "")]
    if settings.model not in models:  # the server answers for it anyway (llama.cpp serves whatever it loaded)
        return [Check("model backend", WARN, f"{where} answers for {settings.model}, though it lists only: "
                      f"{offered or 'none'}", "fine for a server that serves one model under any name")]
    return [Check("model backend", OK, f"{where} answers and serves {settings.model}")]


def _ask(client, model: str) -> str | None:
    """A one-token request, as a run's first one is made: None when it is answered (or refused only for its size),
    "key" when the key is refused, "model" when the model is unknown, else what went wrong."""
    import openai

    try:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "ping"}], max_tokens=1)
    except (openai.AuthenticationError, openai.PermissionDeniedError):
        return "key"
    except openai.NotFoundError:
        return "model"
    except openai.APIConnectionError as exc:
        return f"cannot reach it ({exc.__cause__ or exc})"
    except openai.APIStatusError as exc:
        if exc.status_code in (400, 422):  # answered, but the tiny request itself was refused (a reasoning model)
            return None
        return f"HTTP {exc.status_code}"
    return None


def check_repo(root: Path, environ: Mapping[str, str], trust: str = "trusted") -> list[Check]:
    from sandbox.local import find_python

    from ..workspace.snapshot import gitpython

    git = gitpython()
    try:
        if git is None:
            raise LookupError
        repo = git.Repo(root)
        dirty = len(repo.git(c=f"safe.directory={root}").status("--porcelain").splitlines())
        checks = [Check("repository", OK if not dirty else WARN, f"git at {root}, {dirty} changed file(s)",
                        "" if not dirty else "commit first, so the change makegreen applies stands apart")]
    except (LookupError, getattr(git, "InvalidGitRepositoryError", LookupError)):
        checks = [Check("repository", WARN, f"{root} is not a git repository (or git is not installed); every "
                        "file there is the project", "git init, so that ignored files stay out of the sandbox")]
    if trust == "untrusted":
        return checks + [Check("tests", WARN, "not collected: collecting runs the checkout's code (conftest.py, "
                               "test modules) on this machine, and it is untrusted", "")]
    python = find_python(root, environ)
    # collecting imports conftest.py and the tests here, outside the sandbox: none of the keys go with it
    env = {key: value for key, value in environ.items()
           if not any(word in key.upper() for word in ("KEY", "TOKEN", "SECRET", "PASSWORD"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    try:
        listing = subprocess.run([python, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                                 cwd=root, env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return checks + [Check("tests", WARN, "collecting the tests took over 2 minutes", "")]
    found = sum(1 for line in listing.stdout.splitlines() if "::" in line)
    errors = sum(line.startswith("ERROR ") for line in listing.stdout.splitlines())
    if found == 0 and errors == 0:
        checks.append(Check("tests", FAIL, "pytest finds no tests here",
                            "write tests (tests/test_*.py) or check [tool.pytest.ini_options] testpaths"))
    else:
        checks.append(Check("tests", OK, f"{found} test(s) found" + (
            f", {errors} file(s) that do not import yet (normal before solving)" if errors else "")))
    return checks


def run_checks(settings: Settings, root: Path, files: Mapping[str, bytes], environ: Mapping[str, str],
               make_client: Callable[[], object]) -> list[Check]:
    checks, client = check_docker(settings, environ)
    if client is not None:
        checks += check_image(client, settings, files)
    checks += check_backend(settings, make_client, environ)
    checks += check_repo(root, environ, settings.trust)
    return checks


def blocking(checks: list[Check]) -> bool:
    return any(check.status == FAIL for check in checks)

