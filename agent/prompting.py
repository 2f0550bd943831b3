"""Prompt templates live as files in prompts/; they are rendered strictly, both ways. A user's own folder
(`prompts-dir`) may hold any of them under the same name: it is used instead."""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from string import Template

from .errors import ConfigError, MakegreenError

_folder: Path | None = None  # the user's prompts-dir, for this run


class PromptError(MakegreenError):
    """A template and the values given to it disagree: a bug in makegreen, not the user's doing."""


def _identifiers(template: Template) -> set[str]:
    names = set()
    for match in template.pattern.finditer(template.template):
        name = match.group("named") or match.group("braced")
        if name:
            names.add(name)
    return names


def use_folder(folder: str | Path | None) -> None:
    """Templates in folder override the packaged ones of the same name (None: the packaged ones only)."""
    global _folder
    if folder is not None and not Path(folder).is_dir():
        raise ConfigError(f"prompts-dir {folder} is not a folder")
    _folder = Path(folder) if folder is not None else None


def source(name: str) -> str:
    """Where prompt name comes from: the user's file, or the packaged one."""
    own = _folder / name if _folder is not None else None
    return str(own) if own is not None and own.is_file() else f"prompts/{name}"


def render(name: str, **values: object) -> str:
    """Render prompts/<name> (or the user's own); a missing or an unused value is an error, never an empty string.
    A user's template may leave values out, but not name one that is not given."""
    own = _folder / name if _folder is not None else None
    if own is not None and own.is_file():
        template = Template(own.read_text(encoding="utf-8"))
        unknown = _identifiers(template) - values.keys()
        if unknown:
            raise ConfigError(f"{own} names {', '.join(sorted(unknown))}, which {name} is not given; it may use "
                              f"{', '.join(sorted(values)) or 'no values'}")
        return template.substitute({key: str(value) for key, value in values.items()})
    text = resources.files("prompts").joinpath(name).read_text(encoding="utf-8")
    template = Template(text)
    wanted = _identifiers(template)
    missing, unused = wanted - values.keys(), values.keys() - wanted
    if missing or unused:
        raise PromptError(f"prompt {name}: missing values {sorted(missing)}, unused values {sorted(unused)}")
    return template.substitute({key: str(value) for key, value in values.items()})
