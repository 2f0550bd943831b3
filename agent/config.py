"""One settings object: defaults ← pyproject.toml [tool.makegreen] ← environment ← flags, merged here only."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
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


# Where each setting may come from besides flags; api-key is kept out of pyproject.toml on purpose (secrets in git).
_FILE_KEYS = {f.name for f in dataclasses.fields(Settings)} - {"api_key", "json", "message"}
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
    values = {}
    for key, value in section.items():
        name = key.replace("-", "_")
        if name == "api_key":
            raise ConfigError("api-key does not belong in pyproject.toml: set OPENAI_API_KEY instead")
        if name not in _FILE_KEYS:
            known = ", ".join(sorted(k.replace("_", "-") for k in _FILE_KEYS))
            raise ConfigError(f"unknown key '{key}' in [tool.makegreen] of {path}; known keys: {known}")
        values[name] = value
    return values


def _coerce(name: str, value: Any, source: str) -> Any:
    default = getattr(Settings, name, None)
    kind = type(default) if default is not None else str
    try:
        if kind is bool and not isinstance(value, bool):
            raise ValueError("expected true or false")
        value = kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name.replace('_', '-')} from {source}: {value!r} is not a valid {kind.__name__}") from exc
    if name in ("max_iterations", "test_timeout", "request_timeout", "cpus", "pids") and value <= 0:
        raise ConfigError(f"{name.replace('_', '-')} from {source} must be above 0, not {value}")
    if name == "sandbox" and value not in SANDBOXES:
        raise ConfigError(f"sandbox from {source} must be one of {', '.join(SANDBOXES)}, not {value!r}")
    if name == "edit_format" and value not in EDIT_FORMATS:
        raise ConfigError(f"edit-format from {source} must be one of {', '.join(EDIT_FORMATS)}, not {value!r}")
    return value


def load_settings(root: Path, env: Mapping[str, str], flags: Mapping[str, Any]) -> Settings:
    """Merge every source; flags given as None are unset and leave the earlier sources in force."""
    values: dict[str, Any] = {}
    layers = [
        ("pyproject.toml [tool.makegreen]", read_pyproject(root)),
        ("the environment", {name: env[var] for name, var in _ENV.items() if env.get(var)}),
        ("the command line", {name: value for name, value in flags.items() if value is not None}),
    ]
    for source, layer in layers:
        for name, value in layer.items():
            values[name] = _coerce(name, value, source)
    return Settings(**values)
