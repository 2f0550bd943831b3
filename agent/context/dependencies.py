"""Third-party packages the tests import that the sandbox does not have. A missing module is normally code for
the model to write; a missing `numpy` is not — the model must never be asked to write a numpy.py that shadows
the real package in the user's repository. The user is told how to declare it instead."""
from __future__ import annotations

import importlib.util
from importlib import metadata
from typing import Mapping

from sandbox.results import TestReport

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

# Import names of widely used distributions (import name → distribution), for hosts that do not have them either.
KNOWN = {
    "numpy": "numpy", "pandas": "pandas", "scipy": "scipy", "requests": "requests", "yaml": "PyYAML",
    "bs4": "beautifulsoup4", "PIL": "Pillow", "sklearn": "scikit-learn", "cv2": "opencv-python", "attr": "attrs",
    "attrs": "attrs", "dateutil": "python-dateutil", "pydantic": "pydantic", "flask": "Flask", "django": "Django",
    "sqlalchemy": "SQLAlchemy", "matplotlib": "matplotlib", "torch": "torch", "tensorflow": "tensorflow",
    "jax": "jax", "httpx": "httpx", "aiohttp": "aiohttp", "click": "click", "rich": "rich", "typer": "typer",
    "jinja2": "Jinja2", "lxml": "lxml", "toml": "toml", "pytz": "pytz", "hypothesis": "hypothesis",
    "freezegun": "freezegun", "responses": "responses", "boto3": "boto3", "redis": "redis", "psycopg2": "psycopg2",
    "pymongo": "pymongo", "fastapi": "fastapi", "starlette": "starlette", "sympy": "sympy", "networkx": "networkx",
    "polars": "polars", "pyarrow": "pyarrow", "tqdm": "tqdm", "more_itertools": "more-itertools", "numba": "numba",
    "regex": "regex", "orjson": "orjson", "msgpack": "msgpack", "cryptography": "cryptography", "jwt": "PyJWT",
    "markdown": "Markdown", "docutils": "docutils", "packaging": "packaging", "six": "six", "ujson": "ujson",
    "pytest_mock": "pytest-mock", "mock": "mock", "faker": "Faker", "arrow": "arrow", "pendulum": "pendulum",
}


def distribution_of(module: str) -> str | None:
    """The distribution that provides top-level module, if it is a known one or installed where makegreen runs."""
    top = module.split(".")[0]
    if top in KNOWN:
        return KNOWN[top]
    try:  # not importable here: no installed distribution has it (and reading them all takes most of a second)
        if importlib.util.find_spec(top) is None:
            return None
    except (ImportError, ValueError):
        return None
    try:
        found = metadata.packages_distributions().get(top)
    except Exception:  # a broken installation's metadata: nothing can be told from it
        return None
    return found[0] if found else None


def undeclared(report: TestReport, files: Mapping[str, bytes], project: str | None = None) -> list[tuple[str, str]]:
    """(module, distribution) for each third-party package the tests failed to import. project: the project's
    own distribution name, which is never third-party (its modules are what the model writes)."""
    found: dict[str, str] = {}
    for error in report.collect_errors:
        if not error.import_name or error.exc_type != "ModuleNotFoundError":
            continue
        top = error.import_name.split(".")[0]
        if any(path == f"{top}.py" or path.startswith((f"{top}/", f"src/{top}/")) or path == f"src/{top}.py"
               for path in files):
            continue  # the project has it: an import error inside it is red to fix, not a dependency
        distribution = distribution_of(top)
        if distribution and (project is None or _normal(distribution) != _normal(project)):
            found.setdefault(top, distribution)
    return sorted(found.items())


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def declare_message(missing: list[tuple[str, str]]) -> str:
    names = ", ".join(f"{module} (from {distribution})" if module != distribution else module
                      for module, distribution in missing)
    first = missing[0][1]
    return (f"the tests import {names}, not installed in the sandbox: a third-party package is declared, not "
            f"written by the model. Add {first} to requirements.txt (or to [project] dependencies in "
            f"pyproject.toml), and run again; `makegreen sandbox build` shows what the sandbox image holds")


def project_name(files: Mapping[str, bytes]) -> str | None:
    """[project] name in the project's pyproject.toml, if any."""
    try:
        return tomllib.loads(files.get("pyproject.toml", b"").decode()).get("project", {}).get("name")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
