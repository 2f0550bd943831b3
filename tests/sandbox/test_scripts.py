"""The shell makegreen ships is a file, linted like code: sandbox/run_tests.sh (one test run in the container) and
sandbox/build-offline-base.sh. Never run here: the test-run script ends every process of its user."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sandbox.container import run_script
from tests.conftest import ROOT

SCRIPTS = sorted((ROOT / "sandbox").glob("*.sh"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_the_shipped_scripts_parse_and_pass_shellcheck(script: Path):
    assert subprocess.run(["sh", "-n", str(script)], capture_output=True).returncode == 0
    linter = shutil.which("shellcheck")
    if linter is None:
        if os.environ.get("MAKEGREEN_REQUIRE_DOCKER") == "1":  # CI: .ci/run installs it
            pytest.fail("shellcheck is not installed (apt-get install shellcheck)")
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    done = subprocess.run([linter, "--severity=style", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_the_container_runs_the_script_file_itself():
    """What the container runs is the file, word for word: no second copy of it assembled in Python."""
    assert run_script() == (ROOT / "sandbox" / "run_tests.sh").read_text()
    assert 'timeout --signal=KILL "$timeout_s" "$@"' in run_script()
