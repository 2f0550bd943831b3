"""One settings object: defaults ← pyproject.toml [tool.makegreen] ← environment ← flags, merged here only."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

DEFAULT_MODEL = "gpt-5"
SANDBOXES = ("docker", "local")
EDIT_FORMATS = ("auto", "whole", "search-replace")
DIALECTS = ("auto", "openai-reasoning", "vllm", "sglang", "llama.cpp", "ollama", "think-tags", "chat")
EFFORTS = ("minimal", "low", "medium", "high")
APIS = ("auto", "chat", "responses")
THINKING = ("auto", "on", "off")
CHOICES = {"sandbox": SANDBOXES, "edit_format": EDIT_FORMATS, "dialect": DIALECTS, "effort": EFFORTS, "api": APIS,
           "thinking": THINKING, "engine": ("vllm", "sglang", "llama.cpp", "ollama")}
POSITIVE = ("context_window", "max_iterations", "test_timeout", "request_timeout", "cpus", "pids", "think_budget",
            "max_output_tokens", "budget_usd", "budget_tokens", "timeout", "candidates", "beam")
# The type of each setting whose default is None (the others take their default's type).
OPTIONAL_TYPES = {"holdout": float, "holdout_seed": int, "timeout": float, "context_window": int, "serve": str,
                  "base_url": str, "api_key": str, "effort": str, "think_budget": int, "temperature": float,
                  "max_output_tokens": int, "budget_usd": float, "budget_tokens": int, "branch": str}


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
    max_output_tokens: int | None = None
    context_window: int | None = None  # tokens; known for OpenAI's models, 32k for others unless set
    show_thinking: bool = False
    # a local engine started around the run (makegreen serve)
    serve: str | None = None
    engine: str = "vllm"
    # spending
    budget_usd: float | None = None
    budget_tokens: int | None = None
    timeout: float | None = None  # wall seconds for the whole run
    apply_partial: bool = False  # apply the best result even when it is not green
    holdout: float | None = None  # share of the test functions hidden from the model, run at the end
    holdout_seed: int | None = None
    commit: bool = False  # commit the applied fix (hooks run)
    branch: str | None = None  # commit it on this new branch
    hide_tests: bool = False  # the model sees the message and the failures, not the test code (benchmarks)
    candidates: int = 1  # drafts in parallel, each in its own sandbox
    beam: int = 1  # how many of the best candidates debugging goes on from
    prices: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


# Where each setting may come from besides flags; api-key is kept out of pyproject.toml on purpose (secrets in git).
_FILE_KEYS = {f.name for f in dataclasses.fields(Settings)} - {"api_key", "json", "message", "show_thinking", "commit",
                                                               "branch"}
_MODEL_KEYS = {"name", "dialect", "api", "effort", "think_budget", "thinking", "temperature", "max_output_tokens",
               "context_window"}
_ENV = {
    "model": "MAKEGREEN_MODEL",
    "base_url": "OPENAI_BASE_URL",
    "api_key": "OPENAI_API_KEY",
    "base_image": "MAKEGREEN_BASE_IMAGE",
    "sandbox": "MAKEGREEN_SANDBOX",
}


def read_pyproject(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    section = data.get("tool", {}).get("makegreen", {})
    if not isinstance(section, dict):
        raise ConfigError(f"[tool.makegreen] in {path} must be a table")
    section = dict(section)
    hook = section.pop("hook", None)
    if hook is not None:
        if not isinstance(hook, dict):
            raise ConfigError(f"[tool.makegreen.hook] in {path} must be a table")
        section["hook"] = hook
    model = section.get("model")
    if isinstance(model, dict):  # [tool.makegreen.model]: the name and the dialect's settings in one table
        section.pop("model")
        for key, value in model.items():
            name = key.replace("-", "_")
            if name not in _MODEL_KEYS:
                known = ", ".join(sorted(k.replace("_", "-") for k in _MODEL_KEYS))
                raise ConfigError(f"unknown key '{key}' in [tool.makegreen.model] of {path}; known keys: {known}")
            section["model" if name == "name" else name] = value
    values = {}
    for key, value in section.items():
        name = key.replace("-", "_")
        if name == "hook":
            values["hook"] = {k.replace("-", "_"): v for k, v in value.items()}
            unknown = sorted(set(values["hook"]) - _FILE_KEYS - {"api_key"})
            if unknown or "api_key" in values["hook"]:
                raise ConfigError(f"unknown or forbidden key '{(unknown or ['api-key'])[0]}' in "
                                  f"[tool.makegreen.hook] of {path}")
            continue
        if name == "api_key":
            raise ConfigError("api-key does not belong in pyproject.toml: set OPENAI_API_KEY instead")
        if name not in _FILE_KEYS:
            known = ", ".join(sorted(k.replace("_", "-") for k in _FILE_KEYS))
            raise ConfigError(f"unknown key '{key}' in [tool.makegreen] of {path}; known keys: {known}")
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
    default = getattr(Settings, name, None)
    kind = OPTIONAL_TYPES.get(name) or (type(default) if default is not None else str)
    try:
        if kind is bool and not isinstance(value, bool):
            raise ValueError("expected true or false")
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError("expected a whole number")
        value = kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{label} from {source}: {value!r} is not a valid {kind.__name__}") from exc
    if name in POSITIVE and value <= 0:
        raise ConfigError(f"{label} from {source} must be above 0, not {value}")
    if name == "holdout" and not 0 < value < 1:
        raise ConfigError(f"holdout from {source} must be a fraction between 0 and 1, not {value}")
    if name in CHOICES and value not in CHOICES[name]:
        raise ConfigError(f"{label} from {source} must be one of {', '.join(CHOICES[name])}, not {value!r}")
    return value


# What the pre-commit hook's --fix may spend unless [tool.makegreen.hook] says otherwise: a commit waits for it.
HOOK_DEFAULTS = {"max_iterations": 4, "timeout": 600.0}


def load_settings(root: Path, env: Mapping[str, str], flags: Mapping[str, Any], hook: bool = False) -> Settings:
    """Merge every source; flags given as None are unset and leave the earlier sources in force. hook: the
    pre-commit hook's settings, [tool.makegreen.hook] over [tool.makegreen]."""
    values: dict[str, Any] = {}
    file = read_pyproject(root)
    hook_table = file.pop("hook", {})
    layers = [
        ("pyproject.toml [tool.makegreen]", file),
        *([("the hook's defaults", HOOK_DEFAULTS), ("pyproject.toml [tool.makegreen.hook]", hook_table)]
          if hook else []),
        ("the environment", {name: env[var] for name, var in _ENV.items() if env.get(var)}),
        ("the command line", {name: value for name, value in flags.items() if value is not None}),
    ]
    for source, layer in layers:
        for name, value in layer.items():
            values[name] = _coerce(name, value, source)
    settings = Settings(**values)
    if settings.candidates > MAX_CANDIDATES:
        raise ConfigError(f"candidates must be at most {MAX_CANDIDATES} (each runs its own sandbox), "
                          f"not {settings.candidates}")
    if (settings.commit or settings.branch) and not settings.apply:
        raise ConfigError("--commit and --branch commit the applied fix: they cannot go with --no-apply")
    if settings.beam > settings.candidates:
        raise ConfigError(f"beam ({settings.beam}) cannot be more than candidates ({settings.candidates}): "
                          "each line of the beam needs a candidate to take its next step")
    return settings


MAX_CANDIDATES = 16
