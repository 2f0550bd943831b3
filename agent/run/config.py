"""One settings object: defaults ← the user's own config file ← pyproject.toml [tool.makegreen] ← environment ←
flags, merged here only, with the source of each value kept.

Trust: a checkout the person running makegreen did not write (a pull request, someone else's branch) is
*untrusted* when they say so (--untrusted, MAKEGREEN_TRUST=untrusted, or `trust = "untrusted"` in their own config
file; the GitHub Action always). Its pyproject.toml may then choose only how the model is asked (REPO_MAY_SET), never
where the API key goes, which sandbox runs its code, the limits, prices, budgets or the protected paths."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..core.errors import ConfigError
from ..honesty.protected import check_patterns
from ..models.dialects import DIALECTS as SERVER_DIALECTS
from ..models.serve import ENGINES

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

DEFAULT_MODEL = "gpt-5"
SANDBOXES = ("docker", "local")
EDIT_FORMATS = ("auto", "whole", "search-replace")
DIALECTS = ("auto", *SERVER_DIALECTS)  # auto: told by the server, else by the model's name
EFFORTS = ("minimal", "low", "medium", "high")
APIS = ("auto", "chat", "responses")
THINKING = ("auto", "on", "off")
TRUST = ("trusted", "untrusted")
SECOND_DRAFT = ("auto", "on", "off")  # auto: on where the server has no reasoning effort (a local model)
CHOICES = {"trust": TRUST, "sandbox": SANDBOXES, "edit_format": EDIT_FORMATS, "dialect": DIALECTS, "effort": EFFORTS,
           "api": APIS, "thinking": THINKING, "engine": ENGINES, "second_draft": SECOND_DRAFT}
POSITIVE = ("context_window", "max_iterations", "test_timeout", "request_timeout", "cpus", "pids", "think_budget",
            "max_output_tokens", "budget_usd", "budget_tokens", "timeout", "candidates", "beam", "engine_threads")
# The type of each setting whose default is None (the others take their default's type).
OPTIONAL_TYPES = {"holdout": float, "holdout_seed": int, "timeout": float, "context_window": int, "serve": str,
                  "base_url": str, "api_key": str, "effort": str, "think_budget": int, "temperature": float,
                  "seed": int, "max_output_tokens": int, "budget_usd": float, "budget_tokens": int, "branch": str,
                  "prompts_dir": str, "engine_threads": int}


@dataclass(frozen=True)
class Settings:
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    api_key: str | None = None
    message: str = ""
    max_iterations: int = 8
    test_timeout: float = 120.0
    request_timeout: float = 900.0
    apply: bool = True
    json: bool = False
    sandbox: str = "docker"
    warm: bool = True  # park the run's container for the next run of the project (sandbox/pool.py)
    prompts_dir: str | None = None  # the user's own templates, overriding prompts/ by name
    base_image: str = "python:3.12-slim"
    edit_format: str = "auto"
    memory: str = "2g"
    cpus: float = 2.0
    pids: int = 512
    # the model's dialect and how long it thinks ([tool.makegreen.model])
    dialect: str = "auto"
    api: str = "auto"
    effort: str | None = None
    think_budget: int | None = None
    thinking: str = "auto"
    temperature: float | None = None
    seed: int | None = None  # each request's seed made from it: runs repeat their draws where the server takes one
    max_output_tokens: int | None = None
    context_window: int | None = None  # tokens; known for OpenAI's models, 32k for others unless set
    show_thinking: bool = False
    # a local engine started around the run (makegreen serve)
    serve: str | None = None
    engine: str = "vllm"
    # seconds the engine waits, warm, for the next run (agent/models/shared_engine.py); 0: one engine per run,
    # stopped with it
    engine_idle: float = 300.0
    engine_threads: int | None = None  # a CPU engine's threads; None: agent/models/serve.py's default_threads()
    # spending
    budget_usd: float | None = None
    budget_tokens: int | None = None
    timeout: float | None = None  # wall seconds for the whole run
    apply_partial: bool = False  # apply the best result even when it is not green
    holdout: float | None = None  # share of the test functions hidden from the model, run once the rest is green;
    # None: one case of each test parametrized over 4+ literal cases; 0: none
    holdout_seed: int | None = None
    commit: bool = False  # commit the applied fix (hooks run)
    branch: str | None = None  # commit it on this new branch
    hide_tests: bool = False  # the model sees the message and the failures, not the test code (benchmarks)
    candidates: int = 1  # drafts in parallel, each in its own sandbox
    beam: int = 1  # how many of the best candidates debugging goes on from
    second_draft: str = "auto"  # after a failed first answer, the first request in other words, before fixing
    prices: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    # what the model may not touch besides the tests: globs added to, and defaults taken from,
    # agent/honesty/protected.py's
    protect: tuple[str, ...] = ()
    unprotect: tuple[str, ...] = ()
    trust: str = "trusted"  # untrusted: the checkout's own configuration is not obeyed where it matters
    # where each value came from ("default" when it came from nowhere), and what an untrusted checkout asked for
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    ignored: tuple[str, ...] = ()


# Where each setting may come from besides flags; api-key is kept out of pyproject.toml on purpose (secrets in git).
_FILE_KEYS = {f.name for f in dataclasses.fields(Settings)} - {"api_key", "json", "message", "show_thinking", "commit",
                                                               "branch", "trust", "sources", "ignored"}
# What an untrusted checkout's pyproject.toml may still set: how the model is asked and how answers are written.
# Nothing here sends data elsewhere, runs code outside the sandbox, raises spending, or widens what may be edited.
REPO_MAY_SET = frozenset({"edit_format", "dialect", "api", "thinking", "temperature", "seed", "holdout",
                          "holdout_seed", "hide_tests", "second_draft"})
LISTS = ("protect", "unprotect")
_MODEL_KEYS = {"name", "dialect", "api", "effort", "think_budget", "thinking", "temperature", "seed",
               "max_output_tokens", "context_window"}
_ENV = {
    "model": "MAKEGREEN_MODEL",
    "base_url": "OPENAI_BASE_URL",
    "api_key": "OPENAI_API_KEY",
    "base_image": "MAKEGREEN_BASE_IMAGE",
    "sandbox": "MAKEGREEN_SANDBOX",
    "trust": "MAKEGREEN_TRUST",
    "warm": "MAKEGREEN_WARM",
    "prompts_dir": "MAKEGREEN_PROMPTS_DIR",
    "engine_idle": "MAKEGREEN_ENGINE_IDLE",
    "engine_threads": "MAKEGREEN_ENGINE_THREADS",
}
BOOLEAN_WORDS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False,
                 "off": False}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read: {exc.strerror or exc}") from exc


def read_pyproject(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    section = _read_toml(path).get("tool", {}).get("makegreen", {})
    if not isinstance(section, dict):
        raise ConfigError(f"[tool.makegreen] in {path} must be a table")
    return _parse_section(dict(section), path, "[tool.makegreen]")


def user_config_path(env: Mapping[str, str]) -> Path | None:
    """The user's own config file: $MAKEGREEN_CONFIG, else $XDG_CONFIG_HOME or ~/.config, makegreen/config.toml."""
    if env.get("MAKEGREEN_CONFIG"):
        return Path(env["MAKEGREEN_CONFIG"])
    base = env.get("XDG_CONFIG_HOME") or (str(Path(env["HOME"]) / ".config") if env.get("HOME") else "")
    return Path(base) / "makegreen" / "config.toml" if base else None


def read_user_config(env: Mapping[str, str]) -> dict[str, Any]:
    """The same keys as [tool.makegreen], at the top level of the user's file, plus trust."""
    path = user_config_path(env)
    if path is None or not path.is_file():
        if env.get("MAKEGREEN_CONFIG"):
            raise ConfigError(f"MAKEGREEN_CONFIG names {path}, which is not a file")
        return {}
    data = _read_toml(path)
    trust = data.pop("trust", None)
    values = _parse_section(data, path, "the file")
    if trust is not None:
        values["trust"] = trust
    return values


def _parse_section(section: dict[str, Any], path: Path, table: str) -> dict[str, Any]:
    hook = section.pop("hook", None)
    if hook is not None:
        if not isinstance(hook, dict):
            raise ConfigError(f"the hook table of {table} in {path} must be a table")
        section["hook"] = hook
    model = section.get("model")
    if isinstance(model, dict):  # [tool.makegreen.model]: the name and the dialect's settings in one table
        section.pop("model")
        for key, value in model.items():
            name = key.replace("-", "_")
            if name not in _MODEL_KEYS:
                known = ", ".join(sorted(k.replace("_", "-") for k in _MODEL_KEYS))
                raise ConfigError(f"unknown key '{key}' in the model table of {table} in {path}; known keys: "
                                  f"{known}")
            section["model" if name == "name" else name] = value
    values = {}
    for key, value in section.items():
        name = key.replace("-", "_")
        if name == "hook":
            values["hook"] = {k.replace("-", "_"): v for k, v in value.items()}
            unknown = sorted(set(values["hook"]) - _FILE_KEYS - {"api_key"})
            if unknown or "api_key" in values["hook"]:
                raise ConfigError(f"unknown or forbidden key '{(unknown or ['api-key'])[0]}' in the hook table "
                                  f"of {table} in {path}")
            continue
        if name == "api_key":
            raise ConfigError(f"api-key does not belong in {path.name}: set OPENAI_API_KEY instead")
        if name == "trust":
            raise ConfigError(f"trust cannot be set in {table} of {path}: a checkout does not vouch for itself; "
                              "use --untrusted, MAKEGREEN_TRUST or your own config file")
        if name not in _FILE_KEYS:
            known = ", ".join(sorted(k.replace("_", "-") for k in _FILE_KEYS))
            raise ConfigError(f"unknown key '{key}' in {table} of {path}; known keys: {known}")
        values[name] = value
    return values


def _prices(value: Any, source: str) -> dict[str, dict[str, float]]:
    """[tool.makegreen.prices]: per model, USD per million tokens for input, cached-input and output."""
    if not isinstance(value, dict):
        raise ConfigError(f"prices from {source} must be a table of models")
    table = {}
    for model, row in value.items():
        if not isinstance(row, dict) or not {"input", "output"} <= {k.replace("_", "-") for k in row}:
            raise ConfigError(f"prices for {model} from {source} need input and output (cached-input optional)")
        try:
            table[model] = {k.replace("_", "-"): float(v) for k, v in row.items()}
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"prices for {model} from {source}: {exc}") from exc
    return table


def _coerce(name: str, value: Any, source: str) -> Any:
    label = name.replace("_", "-")
    if name == "prices":
        return _prices(value, source)
    if name in LISTS:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ConfigError(f"{label} from {source} must be a list of path patterns, not {value!r}")
        return tuple(v.strip() for v in value)
    default = getattr(Settings, name, None)
    kind = OPTIONAL_TYPES.get(name) or (type(default) if default is not None else str)
    try:
        if kind is bool and isinstance(value, str) and value.strip().lower() in BOOLEAN_WORDS:
            value = BOOLEAN_WORDS[value.strip().lower()]  # from the environment
        if kind is bool and not isinstance(value, bool):
            raise ValueError("expected true or false")
        if kind in (int, float) and isinstance(value, bool):  # TOML's true is no number (int(True) would be 1)
            raise ValueError("expected a number")
        if kind is str and not isinstance(value, str):  # memory = 2048 is not "2048" (bytes) but a mistake
            raise ValueError("expected a string")
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError("expected a whole number")
        value = kind(value)
    except (TypeError, ValueError) as exc:
        shown = str(value).lower() if isinstance(value, bool) else repr(value)  # as TOML writes it
        raise ConfigError(f"{label} from {source}: {shown} is not a valid {kind.__name__}") from exc
    if name in POSITIVE and value <= 0:
        raise ConfigError(f"{label} from {source} must be above 0, not {value}")
    if name == "engine_idle" and value < 0:
        raise ConfigError(f"{label} from {source} must be 0 (one engine per run) or more seconds, not {value}")
    if name == "holdout" and not 0 <= value < 1:
        raise ConfigError(f"holdout from {source} must be a fraction from 0 (none held out) to under 1, not {value}")
    if name in CHOICES and value not in CHOICES[name]:
        raise ConfigError(f"{label} from {source} must be one of {', '.join(CHOICES[name])}, not {value!r}")
    return value


# What the pre-commit hook's --fix may spend unless [tool.makegreen.hook] says otherwise: a commit waits for it.
HOOK_DEFAULTS = {"max_iterations": 4, "timeout": 600.0}


def load_settings(root: Path, env: Mapping[str, str], flags: Mapping[str, Any], hook: bool = False) -> Settings:
    """Merge every source; flags given as None are unset and leave the earlier sources in force. hook: the
    pre-commit hook's settings, [tool.makegreen.hook] over [tool.makegreen]. An untrusted checkout's own settings
    are obeyed only in REPO_MAY_SET; the rest is listed in Settings.ignored."""
    user = read_user_config(env)
    user_hook = user.pop("hook", {})
    user_label = f"your config file ({user_config_path(env)})"
    environment = {name: env[var] for name, var in _ENV.items() if env.get(var)}
    given = {name: value for name, value in flags.items() if value is not None}
    said = [(label, layer["trust"]) for label, layer in (("the command line", given), ("the environment", environment),
                                                        (user_label, user)) if layer.get("trust")]
    trust = _coerce("trust", said[0][1], said[0][0]) if said else "trusted"
    file = read_pyproject(root)
    hook_table = file.pop("hook", {})
    layers = [
        (user_label, user, True),
        ("pyproject.toml [tool.makegreen]", file, False),
        *([("the hook's defaults", HOOK_DEFAULTS, True), (f"{user_label} [hook]", user_hook, True),
           ("pyproject.toml [tool.makegreen.hook]", hook_table, False)] if hook else []),
        ("the environment", environment, True),
        ("the command line", given, True),
    ]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    ignored: list[str] = []
    for source, layer, runners in layers:
        for name, value in layer.items():
            if not runners and trust == "untrusted" and name not in REPO_MAY_SET:
                ignored.append(f"{name.replace('_', '-')} from {source}")
                continue
            values[name] = _coerce(name, value, source)
            sources[name] = source
    values["trust"] = trust
    sources["trust"] = said[0][0] if said else "default"
    settings = Settings(**values, sources=sources, ignored=tuple(ignored))
    if settings.candidates > MAX_CANDIDATES:
        raise ConfigError(f"candidates must be at most {MAX_CANDIDATES} (each runs its own sandbox), "
                          f"not {settings.candidates}")
    if (settings.commit or settings.branch) and not settings.apply:
        raise ConfigError("--commit and --branch commit the applied fix: they cannot go with --no-apply")
    if settings.beam > settings.candidates:
        raise ConfigError(f"beam ({settings.beam}) cannot be more than candidates ({settings.candidates}): "
                          "each line of the beam needs a candidate to take its next step")
    if settings.trust == "untrusted" and settings.sandbox == "local":
        raise ConfigError(f"the local sandbox runs the tests on this machine, with your environment: it is refused "
                          f"for an untrusted checkout (sandbox = local came from {sources['sandbox']}); use docker")
    check_patterns(settings.protect, settings.unprotect)
    return settings


def source_of(settings: Settings, name: str) -> str:
    return settings.sources.get(name, "default")


MAX_CANDIDATES = 16
