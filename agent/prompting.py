"""Prompt templates live as files in prompts/; they are rendered strictly, both ways."""
from __future__ import annotations

from importlib import resources
from string import Template

from .errors import MakegreenError


class PromptError(MakegreenError):
    """A template and the values given to it disagree: a bug in makegreen, not the user's doing."""


def _identifiers(template: Template) -> set[str]:
    names = set()
    for match in template.pattern.finditer(template.template):
        name = match.group("named") or match.group("braced")
        if name:
            names.add(name)
    return names


def render(name: str, **values: object) -> str:
    """Render prompts/<name>; a missing or an unused value is an error, never an empty string."""
    text = resources.files("prompts").joinpath(name).read_text(encoding="utf-8")
    template = Template(text)
    wanted = _identifiers(template)
    missing, unused = wanted - values.keys(), values.keys() - wanted
    if missing or unused:
        raise PromptError(f"prompt {name}: missing values {sorted(missing)}, unused values {sorted(unused)}")
    return template.substitute({key: str(value) for key, value in values.items()})
