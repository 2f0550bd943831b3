"""The real local model: installed, or a skip that MAKEGREEN_REQUIRE_LOCAL=1 (CI) turns into a failure."""
from __future__ import annotations

import os

import pytest

from agent.models.localmodel import DEFAULT, engine_installed, missing_packages


@pytest.fixture(scope="session")
def local_model():
    problem = None
    if missing_packages(DEFAULT):
        problem = "the local default model's packages are not installed (pip install '.[local]')"
    elif not engine_installed():
        problem = "llama-cpp-python's server is not installed (pip install '.[local]')"
    if problem:
        if os.environ.get("MAKEGREEN_REQUIRE_LOCAL") == "1":
            pytest.fail(f"MAKEGREEN_REQUIRE_LOCAL=1 but {problem}")
        pytest.skip(problem)
    return DEFAULT


@pytest.fixture
def engine_env(tmp_path, local_model, base_image):
    """The environment of a run that serves the local default itself (no key, no base URL), with engines kept
    under a cache of the test's own (the assembled model linked in): a user's warm engine is neither used nor
    stopped, and every engine the test started is stopped after it."""
    import signal
    import time

    from agent.models.localmodel import assemble
    from agent.models.shared_engine import running
    from tests.conftest import ROOT

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "models").symlink_to(assemble(local_model, os.environ).parent, target_is_directory=True)
    env = {key: value for key, value in os.environ.items()
           if key not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "MAKEGREEN_MODEL", "MAKEGREEN_SANDBOX")}
    env.update(PYTHONPATH=str(ROOT), MAKEGREEN_BASE_IMAGE=base_image, MAKEGREEN_CACHE=str(cache))
    yield env
    for state in running(env):
        os.kill(state.supervisor, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while running(env) and time.monotonic() < deadline:
        time.sleep(0.2)
