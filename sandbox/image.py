"""The project's sandbox image: the base image, pytest, the project's own dependencies and makegreen's plugin.

Built once and tagged by a hash of everything that goes into it, so an unchanged project reuses its image.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import tarfile
from dataclasses import dataclass
from typing import Callable, Mapping

from .base import REPORT_PLUGIN, ImageBuildError, SandboxUnavailable, plugin_source

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

LABEL = "makegreen"
IMAGE_REPO = "makegreen-project"
PLUGIN_DIR = "/opt/makegreen"
_REQUIREMENT_FILE = re.compile(r"^(requirements/[^/]+\.txt|[^/]*requirements[^/]*\.txt)$")
_TEST_EXTRAS = ("test", "tests", "testing", "dev")


@dataclass(frozen=True)
class Dependencies:
    """What the project asks to have installed: requirement lines and the requirements files they may include."""

    requirements: tuple[str, ...]
    files: Mapping[str, bytes]

    def __bool__(self) -> bool:
        return bool(self.requirements or self.files)


def find_dependencies(files: Mapping[str, bytes]) -> Dependencies:
    """Read pyproject's dependencies (and its test extras) and the requirements files at the project's root."""
    requirements: list[str] = []
    if "pyproject.toml" in files:
        try:
            project = tomllib.loads(files["pyproject.toml"].decode("utf-8")).get("project", {})
        except (ValueError, UnicodeDecodeError) as exc:
            raise ImageBuildError(f"pyproject.toml cannot be read: {exc}", "") from exc
        requirements += project.get("dependencies", [])
        extras = project.get("optional-dependencies", {})
        for extra in _TEST_EXTRAS:
            requirements += extras.get(extra, [])
    req_files = {path: content for path, content in files.items() if _REQUIREMENT_FILE.match(path)}
    return Dependencies(tuple(requirements), req_files)


CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT")
INSTALLED = f"{PLUGIN_DIR}/installed.txt"


def find_ca_bundle(environ: Mapping[str, str]) -> bytes | None:
    """The host's CA bundle, where the user names one: behind a corporate proxy pip trusts nothing else."""
    for name in CA_VARIABLES:
        path = environ.get(name)
        if path and os.path.isfile(path):
            with open(path, "rb") as handle:
                return handle.read()
    return None


def _dockerfile(base: str, deps: Dependencies, ca_bundle: bytes | None) -> str:
    lines = [
        f"FROM {base}",
        "ENV PIP_BREAK_SYSTEM_PACKAGES=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1",
    ]
    cert = ""
    if ca_bundle:
        lines.append(f"COPY ca-bundle.pem {PLUGIN_DIR}/ca-bundle.pem")
        cert = f"PIP_CERT={PLUGIN_DIR}/ca-bundle.pem SSL_CERT_FILE={PLUGIN_DIR}/ca-bundle.pem "
    lines += [
        f"RUN python3 -m pytest --version >/dev/null 2>&1 || {cert}python3 -m pip install pytest",
        f"COPY {REPORT_PLUGIN}.py {PLUGIN_DIR}/{REPORT_PLUGIN}.py",
    ]
    if deps:
        lines += [
            f"COPY deps/ {PLUGIN_DIR}/deps/",
            f"RUN cd {PLUGIN_DIR}/deps && {cert}python3 -m pip install -r makegreen-requirements.txt",
        ]
    # the plugin compiled once here: test runs write no bytecode, and it would be compiled again at every run
    lines.append(f"RUN mkdir -p /workspace && (python3 -m compileall -q {PLUGIN_DIR}/{REPORT_PLUGIN}.py || true) && "
                 f"(python3 -m pip list --format=freeze 2>/dev/null || python3 -m pytest --version) > {INSTALLED} 2>&1")
    return "\n".join(lines) + "\n"


def _context(dockerfile: str, deps: Dependencies, ca_bundle: bytes | None) -> bytes:
    entries = {"Dockerfile": dockerfile.encode(), f"{REPORT_PLUGIN}.py": plugin_source()}
    if ca_bundle:
        entries["ca-bundle.pem"] = ca_bundle
    if deps:
        listed = list(deps.requirements) + [f"-r {path}" for path in sorted(deps.files) if "/" not in path]
        entries["deps/makegreen-requirements.txt"] = ("\n".join(listed) + "\n").encode()
        entries.update({f"deps/{path}": content for path, content in deps.files.items()})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in sorted(entries.items()):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def ensure_image(engine, base: str, deps: Dependencies, on_log: Callable[[str], None] = lambda line: None,
                 ca_bundle: bytes | None = None) -> str:
    """Return the tag of the project's image, building it first when no image with its hash exists.

    The CA bundle is used only to install packages; it is part of the hash, so a new bundle builds anew."""
    base_id = engine.image_id(base) or _pull(engine, base, on_log)
    context = _context(_dockerfile(base, deps, ca_bundle), deps, ca_bundle)
    digest = hashlib.sha256(base_id.encode() + b"\0" + context).hexdigest()[:16]
    tag = f"{IMAGE_REPO}:{digest}"
    if engine.image_id(tag) is not None:
        return tag
    return _build(engine, base, tag, context, on_log)


def _pull(engine, base: str, on_log: Callable[[str], None]) -> str:
    import docker.errors

    try:
        on_log(f"pulling {base}")
        return engine.sdk().images.pull(base).id
    except docker.errors.APIError as exc:
        raise SandboxUnavailable(
            f"the base image {base} is not here and cannot be pulled ({exc.explanation or exc}). "
            "On a machine without a registry, build one with sandbox/build-offline-base.sh "
            "and set MAKEGREEN_BASE_IMAGE (or [tool.makegreen] base-image)"
        ) from exc


def _build(engine, base: str, tag: str, context: bytes, on_log: Callable[[str], None]) -> str:
    import docker.errors

    on_log(f"building {tag} from {base}")
    log: list[str] = []
    try:
        for item in engine.sdk().api.build(
            fileobj=io.BytesIO(context), custom_context=True, tag=tag, rm=True, forcerm=True, pull=False,
            decode=True, labels={LABEL: "1", f"{LABEL}.base": base},
        ):
            if "stream" in item:
                for line in item["stream"].splitlines():
                    log.append(line)
                    on_log(line)
            if "error" in item:
                log.append(item["error"])
                errors = [line for line in log if line.startswith("ERROR")] or [item["error"].strip()]
                raise ImageBuildError("building the sandbox image failed: " + " / ".join(errors), "\n".join(log))
    except docker.errors.APIError as exc:
        raise ImageBuildError(f"building the sandbox image failed: {exc}", "\n".join(log)) from exc
    return tag



def installed(engine, tag: str) -> str:
    """What the image holds, as pip lists it (written into the image when it was built)."""
    output = engine.sdk().containers.run(tag, ["cat", INSTALLED], remove=True, network_mode="none",
                                   labels={LABEL: "1"})
    return output.decode("utf-8", "replace")
