"""Prompt templates live as files in prompts/, written in Jinja (loops and conditions are the template's; the
values are plain data). They are rendered strictly, both ways. A user's own folder (`prompts-dir`) may hold any
of them under the same name: it is used instead."""
from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError, MakegreenError

_folder: Path | None = None  # the user's prompts-dir, for this run
_compiled: dict[tuple[str, str], tuple[Any, frozenset[str]]] = {}  # by (source, text): the template, the names
_environment: Any = None


class PromptError(MakegreenError):
    """A template and the values given to it disagree: a bug in makegreen, not the user's doing."""


def _jinja() -> Any:
    """The template environment, made on first use (importing Jinja costs the hook's quick path otherwise).
    Sandboxed: a user's template is data, not code; undefined values raise; whitespace after a block tag goes, so
    that a loop written one item a line renders one item a line."""
    global _environment
    if _environment is None:
        from jinja2 import StrictUndefined
        from jinja2.sandbox import SandboxedEnvironment
        _environment = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                                            lstrip_blocks=True, autoescape=False, finalize=_printable)
    return _environment


def _printable(value: object) -> object:
    """What `{{ … }}` may print: text and numbers. A list, a record or None printed whole is a template that
    forgot its loop or its condition: an error, never Python's repr in front of the model."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):  # (a bool printed is "True")
        return value
    from jinja2 import TemplateRuntimeError
    raise TemplateRuntimeError(f"it prints a {type(value).__name__} whole ({str(value)[:60]!r}); print text or "
                               "numbers, or loop over it")


def use_folder(folder: str | Path | None) -> None:
    """Templates in folder override the packaged ones of the same name (None: the packaged ones only)."""
    global _folder
    if folder is not None and not Path(folder).is_dir():
        raise ConfigError(f"prompts-dir {folder} is not a folder")
    _folder = Path(folder) if folder is not None else None


def _own(name: str) -> Path | None:
    own = _folder / name if _folder is not None else None
    return own if own is not None and own.is_file() else None


def source(name: str) -> str:
    """Where prompt name comes from: the user's file, or the packaged one."""
    own = _own(name)
    return str(own) if own is not None else f"prompts/{name}"


def _template(name: str, own: Path | None) -> tuple[Any, frozenset[str]]:
    if own is None and (f"prompts/{name}", "") in _compiled:  # the packaged ones do not change under a run
        return _compiled[(f"prompts/{name}", "")]
    text = own.read_text(encoding="utf-8") if own is not None else \
        resources.files("prompts").joinpath(name).read_text(encoding="utf-8")
    if own is not None and (old := re.search(r"\$\{(\w+)\}", text)):
        raise ConfigError(f"{own} writes {old.group(0)}: templates are Jinja now, write {{{{ {old.group(1)} }}}}")
    key = (str(own), text) if own is not None else (f"prompts/{name}", "")
    if key not in _compiled:
        from jinja2 import TemplateSyntaxError, meta
        environment = _jinja()
        try:
            tree = environment.parse(text)  # parsed once: for the names it uses, and to compile
            _compiled[key] = environment.from_string(tree), frozenset(meta.find_undeclared_variables(tree))
        except TemplateSyntaxError as error:
            if own is not None:
                raise ConfigError(f"{own}, line {error.lineno}: {error.message}") from None
            raise PromptError(f"prompt {name}, line {error.lineno}: {error.message}") from None
    return _compiled[key]


def render(name: str, **values: object) -> str:
    """Render prompts/<name> (or the user's own); a missing or an unused value is an error, never an empty string.
    A user's template may leave values out, but not name one that is not given."""
    own = _own(name)
    template, wanted = _template(name, own)
    if own is not None:
        unknown = wanted - values.keys()
        if unknown:
            raise ConfigError(f"{own} names {', '.join(sorted(unknown))}, which {name} is not given; it may use "
                              f"{', '.join(sorted(values)) or 'no values'}")
    else:
        missing, unused = wanted - values.keys(), values.keys() - wanted
        if missing or unused:
            raise PromptError(f"prompt {name}: missing values {sorted(missing)}, unused values {sorted(unused)}")
    from jinja2 import TemplateError
    try:
        return template.render(**values)
    except TemplateError as error:  # an attribute a value does not have, a filter misused
        if own is not None:
            raise ConfigError(f"{own}: {error}") from None
        raise PromptError(f"prompt {name}: {error}") from None
