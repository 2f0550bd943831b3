"""The entry point (agent/launch.py): a plain `hook run` goes straight to the hook, anything else to the CLI."""
import os
import subprocess
import sys

from agent import LAUNCH
from agent.launch import _hook_run
from tests.conftest import ROOT


def test_only_a_plain_hook_run_skips_the_cli():
    assert _hook_run(["hook", "run"]) == "check"
    assert _hook_run(["hook", "run", "--check", "--untrusted"]) == "check"
    assert _hook_run(["hook", "run", "--untrusted", "--fix"]) == "fix"
    for argv in (["hook", "run", "--check", "--fix"], ["hook", "run", "--help"], ["hook", "run", "--check", "--check"],
                 ["hook", "install"], ["solve"], []):
        assert _hook_run(argv) is None, argv  # typer says what is wrong, or shows the help


def test_the_hook_without_git_says_so_and_exits_2(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path), "PYTHONPATH": str(ROOT)}  # no git on it
    done = subprocess.run([sys.executable, "-c", LAUNCH, "hook", "run", "--check"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "git is not installed" in done.stderr and "Traceback" not in done.stderr


def test_an_interrupt_where_exceptions_are_ignored_is_sent_again_not_raised():
    """The import system drops a module's lock in a weak-reference callback, which no exception can leave: an
    interrupt raised there would be printed and lost, the run going on."""
    import importlib._bootstrap as bootstrap

    from agent.launch import _ignoring, main

    callbacks = [c for c in bootstrap._get_module_lock.__code__.co_consts if getattr(c, "co_name", "") == "cb"]
    assert callbacks and all(_ignoring(code) for code in callbacks)
    assert not _ignoring(main.__code__)
