"""makegreen bench against the scripted server: both layouts, both modes, resume, and a crash that is recorded."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent.integrations import bench
from tests.conftest import ANSWERS, ROOT, git, make_repo
from tests.scripted_server import Reply, ScriptedServer

SUITE = ROOT / "examples" / "bench"
FENCE = "`" * 3


def stub_of(folder: Path) -> str:
    return next(p.name for p in folder.iterdir() if p.suffix == ".py" and not p.name.startswith("test_"))


def whole(path: str, code: str) -> Reply:
    return Reply(f"{path}\n{FENCE}python\n{code}{FENCE}\n")


def prompt(body: dict) -> str:
    return "\n".join(m["content"] for m in body["messages"])


def reference_route(folders: list[Path], wrong_first: set[str] = frozenset(), malformed: set[str] = frozenset()):
    """Answers by which task is asked about (its stub's name in the prompt): the reference solution; a wrong one
    first for wrong_first; prose without code for malformed."""
    asked: dict[str, int] = {}

    def route(body: dict) -> Reply:
        text = prompt(body)
        folder = next(f for f in folders if f"`{stub_of(f)}`" in text or f"{stub_of(f)}\n" in text)
        asked[folder.name] = asked.get(folder.name, 0) + 1
        if folder.name in malformed:
            return Reply("I would rather describe the solution in words.")
        if folder.name in wrong_first and asked[folder.name] == 1:
            return whole(stub_of(folder), "def abbreviate(phrase):\n    return phrase[:1].upper()\n")
        return whole(stub_of(folder), (ANSWERS / "bench" / f"{folder.name}.py").read_text())

    route.asked = asked
    return route


def run(args: list[str], server: ScriptedServer, cwd: Path, timeout: int = 600):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MAKEGREEN_"))}
    env.update(OPENAI_BASE_URL=server.url, OPENAI_API_KEY="k", MAKEGREEN_MODEL="scripted-model",
               PYTHONPATH=str(ROOT))
    if os.environ.get("MAKEGREEN_BASE_IMAGE"):
        env["MAKEGREEN_BASE_IMAGE"] = os.environ["MAKEGREEN_BASE_IMAGE"]
    return subprocess.run([sys.executable, "-m", "agent", "bench", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_the_example_suite_runs_end_to_end_in_docker(tmp_path, base_image):
    folders = sorted(p for p in SUITE.iterdir() if p.is_dir())
    assert len(folders) == 10
    with ScriptedServer([], route=reference_route(folders)) as server:
        done = run([str(SUITE), "--workers", "2", "--out", str(tmp_path / "out")], server, tmp_path)
    assert done.returncode == 0, done.stderr + done.stdout
    report = json.loads((tmp_path / "out" / "results.json").read_text())
    crashed = [(r["task"], r.get("error")) for r in report["tasks"] if r.get("status") == "crashed"]
    assert report["layout"] == "plain" and report["overall"]["solved"] == 10, (report["overall"], crashed)
    assert all(r["iterations"] == 1 and r["pass_first"] == 1.0 for r in report["tasks"])
    assert report["overall"]["well_formed_rate"] == 1.0 and report["overall"]["tokens"] > 0
    assert "| overall | 10/10 (100%) |" in (tmp_path / "out" / "results.md").read_text()
    assert (tmp_path / "out" / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "10_calculator" in done.stdout and "overall" in done.stdout


@pytest.mark.parametrize("mode", ["test-first", "hidden-tests"])
def test_counts_are_right_in_both_modes(tmp_path, mode):
    suite = tmp_path / "suite"
    for name in ("01_leap", "02_acronym", "06_bank_account"):
        shutil.copytree(SUITE / name, suite / name)
    folders = sorted(suite.iterdir())
    route = reference_route(folders, wrong_first={"02_acronym"}, malformed={"06_bank_account"})
    with ScriptedServer([], route=route) as server:
        done = run([str(suite), "--mode", mode, "--sandbox", "local", "--max-iterations", "2", "--json",
                    "--out", str(tmp_path / "out")], server, tmp_path)
        prompts = [prompt(body) for body in server.chat_requests()]
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    tasks = {r["task"]: r for r in report["tasks"]}
    assert report["mode"] == mode and report["overall"]["solved"] == 2 and report["overall"]["tasks"] == 3
    assert tasks["01_leap"]["iterations"] == 1 and tasks["01_leap"]["pass_first"] == 1.0
    assert tasks["02_acronym"]["iterations"] == 2 and tasks["02_acronym"]["pass_first"] < 1.0
    assert tasks["02_acronym"]["pass_last"] == 1.0 and tasks["02_acronym"]["well_formed"] == 2
    assert not tasks["06_bank_account"]["solved"] and tasks["06_bank_account"]["answers"] == 2
    assert tasks["06_bank_account"]["well_formed"] == 0 and tasks["06_bank_account"]["pass_last"] == 0.0
    assert report["overall"]["well_formed_rate"] == round(3 / 5, 4)
    assert any("divisible by 4" in text for text in prompts)  # the instructions, in both modes
    shows_tests = any("def test_is_leap" in text for text in prompts)
    assert shows_tests == (mode == "test-first")
    if mode == "hidden-tests":  # the failures still come back
        assert any("test_abbreviate" in text and "but the test expects" in text for text in prompts)


def make_track(root: Path) -> Path:
    practice = root / "python" / "exercises" / "practice"
    for slug, stub, test, example, doc in [
        ("hello-world", "hello_world.py", "def hello():\n    pass\n",
         "def hello():\n    # REFERENCE-SOLUTION\n    return 'Hello, World!'\n", "Say hello to the world."),
        ("two-fer", "two_fer.py", "def two_fer(name):\n    pass\n",
         "def two_fer(name='you'):\n    # REFERENCE-SOLUTION\n    return f'One for {name}, one for me.'\n",
         "Give one to name (or 'you'), keep one."),
    ]:
        folder = practice / slug
        (folder / ".meta").mkdir(parents=True)
        (folder / ".docs").mkdir()
        module = stub[:-3]
        (folder / stub).write_text(test)
        (folder / f"{module}_test.py").write_text(
            f"import unittest\n\nfrom {module} import *\n\n\nclass Test(unittest.TestCase):\n"
            + ("    def test_hello(self):\n        self.assertEqual(hello(), 'Hello, World!')\n" if slug == "hello-world"
               else "    def test_name(self):\n        self.assertEqual(two_fer('Ada'), 'One for Ada, one for me.')\n\n"
                    "    def test_nobody(self):\n        self.assertEqual(two_fer(), 'One for you, one for me.')\n"))
        (folder / ".meta" / "example.py").write_text(example)
        (folder / ".meta" / "config.json").write_text(json.dumps(
            {"files": {"solution": [stub], "test": [f"{module}_test.py"], "example": [".meta/example.py"]}}))
        (folder / ".docs" / "instructions.md").write_text(f"# Instructions\n\n{doc}\n")
    return root / "python"


def test_an_exercism_track_is_read_without_its_reference_solutions(tmp_path):
    track = make_track(tmp_path)
    practice = track / "exercises" / "practice"

    def route(body: dict) -> Reply:
        text = prompt(body)
        slug = "two-fer" if "two_fer.py" in text else "hello-world"
        stub = "two_fer.py" if slug == "two-fer" else "hello_world.py"
        return whole(stub, (practice / slug / ".meta" / "example.py").read_text())

    with ScriptedServer([], route=route) as server:
        done = run([str(track), "--sandbox", "local", "--json", "--out", str(tmp_path / "out")], server, tmp_path)
        prompts = [prompt(body) for body in server.chat_requests()]
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["layout"] == "exercism" and report["overall"]["solved"] == 2
    assert [r["task"] for r in report["tasks"]] == ["hello-world", "two-fer"]
    assert not any("REFERENCE-SOLUTION" in text for text in prompts)
    assert any("Give one to name" in text for text in prompts)


def test_resume_skips_the_finished_tasks(tmp_path):
    """Run from inside a project (the default results folder is its .makegreen/), interrupted, resumed."""
    project = make_repo(tmp_path / "project", {"README.md": "a project\n"})
    suite = tmp_path / "suite"
    for name in ("01_leap", "03_isogram"):
        shutil.copytree(SUITE / name, suite / name)
    folders = sorted(suite.iterdir())
    out = project / ".makegreen" / "bench" / "suite-test-first"
    with ScriptedServer([], route=reference_route(folders)) as server:
        first = run([str(suite), "--sandbox", "local"], server, project)
    assert first.returncode == 0 and len((out / "results.jsonl").read_text().splitlines()) == 2, first.stderr
    assert json.loads((out / "results.json").read_text())["overall"]["solved"] == 2
    assert git(project, "status", "--porcelain") == ""  # the results stay out of the project's git
    lines = (out / "results.jsonl").read_text().splitlines()
    (out / "results.jsonl").write_text(next(line for line in lines if "01_leap" in line) + "\n")  # interrupted
    route = reference_route(folders)
    with ScriptedServer([], route=route) as server:
        done = run([str(suite), "--sandbox", "local", "--resume", "--json"], server, project)
    report = json.loads(done.stdout)
    assert route.asked == {"03_isogram": 1}
    assert report["skipped_as_done"] == ["01_leap"] and report["overall"]["solved"] == 2


def test_a_crashed_task_is_recorded_and_the_bench_goes_on(tmp_path, monkeypatch):
    suite = tmp_path / "suite"
    for name in ("01_leap", "03_isogram"):
        shutil.copytree(SUITE / name, suite / name)
    real = bench.run_task

    def flaky(task, *args):
        if task.name == "01_leap":
            raise OSError("disk full")
        return {"task": task.name, "status": "green", "solved": True, "iterations": 1, "pass_first": 1.0,
                "pass_last": 1.0, "answers": 1, "well_formed": 1, "tokens": 10, "cost_usd": None, "seconds": 1.0}

    monkeypatch.setattr(bench, "run_task", flaky)
    seen = []
    report = bench.run_bench(suite, mode="test-first", out=tmp_path / "out", workers=2, resume=False, solve_args=[],
                             env={}, on_result=seen.append)
    assert real is not flaky and len(seen) == 2
    tasks = {r["task"]: r for r in report["tasks"]}
    assert tasks["01_leap"]["status"] == "crashed" and "disk full" in tasks["01_leap"]["error"]
    assert report["overall"]["crashed"] == 1 and report["overall"]["solved"] == 1
    assert "| 01_leap | crashed |" in (tmp_path / "out" / "results.md").read_text()


def test_bad_suites_and_options_are_refused(tmp_path):
    with pytest.raises(Exception, match="no such folder"):
        bench.discover(tmp_path / "nowhere")
    (tmp_path / "empty" / "task").mkdir(parents=True)
    with pytest.raises(Exception, match="holds no tasks"):
        bench.discover(tmp_path / "empty")
    with pytest.raises(Exception, match="mode must be one of"):
        bench.run_bench(SUITE, mode="blind", out=tmp_path / "out", workers=1, resume=False, solve_args=[], env={},
                        on_result=print)
