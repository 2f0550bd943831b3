"""One run wired together, in this process: settings, snapshot, sandbox, the loop, the record, the delivery. The
model is a scripted Model (tests/test_loop.py), the sandbox the local one."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.run import events as ev
from agent.run.config import Settings
from agent.run.session import run_solve
from agent.run.summary import RunSummary
from tests.conftest import ANSWERS, make_repo, tree_bytes
from tests.test_loop import Scripted

COLLATZ = (ANSWERS / "collatz.md").read_text()
HALF = COLLATZ.replace('        raise ValueError("only positive numbers have a Collatz sequence")\n', "        return 0\n")


def solved(repo: Path, answers: list[str], **settings) -> tuple[RunSummary, list]:
    events: list = []
    summary = run_solve(Settings(sandbox="local", max_iterations=settings.pop("max_iterations", 2), **settings),
                        repo, (), events.append, replay_model=Scripted(answers))
    return summary, events


def test_green_is_applied_to_the_tree_and_the_record_tells_it(tmp_path):
    repo = make_repo(tmp_path / "collatz", example="collatz")
    summary, events = solved(repo, [COLLATZ])
    assert summary.status == "green" and summary.applied and summary.changed_files == ["collatz.py"]
    assert (repo / "collatz.py").read_text() in COLLATZ
    record = [json.loads(line) for line in (Path(summary.run_dir) / "trajectory.jsonl").read_text().splitlines()]
    assert record[-1]["type"] == "Finished" and record[-1]["summary"]["status"] == "green"
    assert type(events[-1]).__name__ == "Finished"


def test_without_apply_the_tree_is_untouched_and_the_patch_saved(tmp_path):
    repo = make_repo(tmp_path / "collatz", example="collatz")
    before = tree_bytes(repo)
    summary, _ = solved(repo, [COLLATZ], apply=False)
    assert summary.status == "green" and not summary.applied and tree_bytes(repo) == before
    assert "+def steps" in (Path(summary.run_dir) / "changes.patch").read_text()


def test_not_solved_leaves_the_tree_and_saves_the_best_attempt(tmp_path):
    repo = make_repo(tmp_path / "collatz", example="collatz")
    before = tree_bytes(repo)
    summary, _ = solved(repo, [HALF], max_iterations=1, holdout=0)
    assert summary.status == "not_solved" and tree_bytes(repo) == before
    assert "best attempt" in summary.message and summary.tests["failed"] == 2
    assert (Path(summary.run_dir) / "best-attempt.patch").read_text().startswith("--- ")


def test_the_best_attempt_is_applied_on_request(tmp_path):
    repo = make_repo(tmp_path / "collatz", example="collatz")
    summary, _ = solved(repo, [HALF], max_iterations=1, holdout=0, apply_partial=True)
    assert summary.status == "not_solved" and summary.applied
    assert "--apply-partial" in summary.message and (repo / "collatz.py").is_file()


def test_a_prompts_dir_overrides_a_template_by_name_and_a_wrong_one_is_named(tmp_path):
    from agent.core.errors import ConfigError

    repo = make_repo(tmp_path / "collatz", example="collatz")
    (repo / "my-prompts").mkdir()
    (repo / "my-prompts" / "system.md").write_text("You write Python. Be brief.\n")
    model, seen = Scripted([COLLATZ]), []
    summary = run_solve(Settings(sandbox="local", prompts_dir="my-prompts", apply=False), repo, (),
                        seen.append, replay_model=model)
    assert summary.status == "green" and model.asked[0][0]["content"] == "You write Python. Be brief.\n"
    request = next(event for event in seen if isinstance(event, ev.ModelRequest))
    # which template made each message is recorded (`show` names it): the user's own file, the packaged one
    assert request.templates == (str(repo / "my-prompts" / "system.md"), "prompts/task.md + prompts/state.md")
    (repo / "my-prompts" / "system.md").write_text("You write {% if %}.\n")
    with pytest.raises(ConfigError, match=r"system.md, line 1"):
        run_solve(Settings(sandbox="local", prompts_dir="my-prompts"), repo, (), lambda event: None,
                  replay_model=Scripted([COLLATZ]))
    (repo / "my-prompts" / "system.md").write_text("You write {{ language }}.\n")
    try:
        run_solve(Settings(sandbox="local", prompts_dir="my-prompts"), repo, (), lambda event: None,
                  replay_model=Scripted([COLLATZ]))
    except ConfigError as error:
        assert "names language" in str(error) and "system.md" in str(error)
    else:
        raise AssertionError("a template naming an unknown value must be refused")
