"""The loop in this process, through its protocols: a Model that answers from a script, the real local sandbox,
a real workspace. What a newcomer reads to see the red → green loop work, step by step, without a subprocess."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from agent.run import events as ev
from agent.run.loop import Slot, Task, solve
from agent.core.protocols import Completion
from agent.workspace.snapshot import Workspace
from sandbox.local import LocalSandbox
from tests.conftest import ANSWERS, make_repo

COLLATZ = (ANSWERS / "collatz.md").read_text()


@dataclass
class Scripted:
    """A Model: the answers in order (the last one again once they run out); what it was asked, kept."""

    answers: list[str]
    name: str = "scripted"
    asked: list[list[dict]] = field(default_factory=list)
    honours_effort: bool = True  # an API's reasoning model: stuck, it is asked to think harder
    honours_sampling: bool = False

    def complete(self, messages, on_progress, *, output_cap=None, effort=None, temperature=None,
                 until=None) -> Completion:
        self.asked.append([dict(m) for m in messages])
        return Completion(self.answers[min(len(self.asked), len(self.answers)) - 1], finish_reason="stop",
                          usage={"prompt_tokens": 10, "completion_tokens": 5})


def run(repo, answers, local: bool = False, **task) -> tuple:
    """local: the model is served as a local one is (a temperature, no reasoning effort)."""
    workspace, sandbox = Workspace(repo), LocalSandbox(isolate_network=False)
    sandbox.start(workspace.files())
    model, events = Scripted(answers, honours_effort=not local, honours_sampling=local), []
    try:
        outcome = solve(Task(max_iterations=task.pop("max_iterations", 3), **task), model, workspace,
                        [Slot(workspace, sandbox)], events.append)
        return outcome, model, events, workspace.changes()
    finally:
        sandbox.close()


def test_a_right_answer_is_green_in_one_step_and_lands_in_the_workspace(tmp_path):
    repo = make_repo(tmp_path / "collatz", example="collatz")
    outcome, model, events, changes = run(repo, [COLLATZ])
    assert outcome.status == "green" and outcome.iterations == 1 and len(model.asked) == 1
    assert b"def steps" in changes["collatz.py"]
    assert [type(e).__name__ for e in events if isinstance(e, ev.TestsRan)] == ["TestsRan", "TestsRan"]
    assert outcome.held and outcome.held_result["passed"] == outcome.held_result["tests"] == 1


def test_code_fitted_to_the_shown_cases_is_overfitting_and_the_held_out_test_is_shown(tmp_path):
    repo = make_repo(tmp_path / "collatz", example="collatz")
    first = run(repo, [COLLATZ])[0]
    [held] = first.held
    number = int(re.search(r"\[(-?\d+)-", held).group(1))
    fitted = COLLATZ.replace("    count = 0\n", f"    count = 0\n    if number == {number}:\n        return -1\n")
    outcome, model, _events, _ = run(repo, [fitted, COLLATZ])
    assert outcome.status == "green" and outcome.iterations == 2
    assert outcome.overfitting and outcome.overfitting[0].split(" ")[1] == held + ":"
    assert held.split("::")[1] not in str(model.asked[0]) and "held back from you fail" in model.asked[1][-1]["content"]


def test_a_step_that_breaks_what_passed_is_undone(tmp_path):
    repo = make_repo(tmp_path / "collatz", example="collatz")
    half = COLLATZ.replace('        raise ValueError("only positive numbers have a Collatz sequence")\n', "        return 0\n")
    broken = "collatz.py\n```python\ndef steps(number):\n    return None\n```\n"
    outcome, model, events, _ = run(repo, [half, broken, COLLATZ], holdout=0)
    assert outcome.status == "green" and outcome.iterations == 3
    assert any("made things worse" in e.text for e in events if isinstance(e, ev.Status))
    told = model.asked[2][-1]["content"]
    assert "That change made things worse" in told
    assert "Applied: collatz.py" not in told  # undone: not said to be applied as well
    assert told.count("without breaking what passes") == 1


def test_code_that_makes_the_tests_load_is_progress_however_many_then_fail(tmp_path):
    """From a test file that cannot import the module to every test failing is a step forward: kept and built
    on, not undone as a regression (a small model seldom gets it all right at once)."""
    repo = make_repo(tmp_path / "collatz", example="collatz")
    wrong = "collatz.py\n```python\ndef steps(number):\n    return -1\n```\n"
    outcome, model, events, _ = run(repo, [wrong, COLLATZ], holdout=0)
    assert outcome.status == "green" and outcome.iterations == 2
    assert not any("made things worse" in e.text for e in events if isinstance(e, ev.Status))
    told = model.asked[1][-1]["content"]
    assert "made things worse" not in told and "Applied: collatz.py" in told and "FAILED" in told


def test_the_iterations_run_out_and_the_best_result_is_kept(tmp_path):
    repo = make_repo(tmp_path / "collatz", example="collatz")
    half = COLLATZ.replace('        raise ValueError("only positive numbers have a Collatz sequence")\n', "        return 0\n")
    outcome, _model, _events, _ = run(repo, [half], max_iterations=2, holdout=0)
    assert outcome.status == "not_solved" and outcome.best is not None
    assert outcome.best.result.report.summary()["failed"] == 2  # the two non-positive inputs


@pytest.mark.parametrize("answer", ["no code at all", "collatz.py\n```python\ndef steps(:\n```\n"])
def test_an_answer_that_changes_nothing_useful_leaves_the_run_red(tmp_path, answer):
    repo = make_repo(tmp_path / "collatz", example="collatz")
    outcome, _model, _events, _ = run(repo, [answer], max_iterations=1)
    assert outcome.status == "not_solved"


@pytest.mark.parametrize("stub", ["def steps(number):\n    pass\n", None])
def test_a_local_models_failed_first_answer_is_followed_by_a_second_draft_in_other_words(tmp_path, stub):
    """Asked the first request in other words, the model drafts again from the original code: the ask first, the
    stub as it was (not the failed answer), the tests, the format in one sentence, no failures."""
    repo = make_repo(tmp_path / "collatz", {"collatz.py": stub} if stub else {}, example="collatz")
    half = COLLATZ.replace('        raise ValueError("only positive numbers have a Collatz sequence")\n', "        return 0\n")
    outcome, model, events, _ = run(repo, [half, COLLATZ], local=True, holdout=0)
    assert outcome.status == "green" and outcome.iterations == 2
    assert any("second draft" in e.text for e in events if isinstance(e, ev.Status))
    draft = model.asked[1][-1]["content"]
    ask = "Complete" if stub else "Write"
    assert draft.startswith(f"{ask} collatz.py so that the tests in tests/test_collatz.py pass.\n")
    assert (not stub or stub.strip() in draft) and "return 0" not in draft
    assert (repo / "tests" / "test_collatz.py").read_text() in draft
    assert draft.rstrip().endswith("Answer with the complete new collatz.py in one ```python block.")
    assert "FAILED" not in draft and "# " not in draft.split("```")[0]
    assert model.asked[1][0] == model.asked[0][0]  # the same system message


def test_a_second_draft_worse_than_the_first_answer_is_undone_and_the_fix_goes_on_from_the_first(tmp_path):
    repo = make_repo(tmp_path / "collatz", example="collatz")
    half = COLLATZ.replace('        raise ValueError("only positive numbers have a Collatz sequence")\n', "        return 0\n")
    worse = "collatz.py\n```python\ndef steps(number):\n    return None\n```\n"
    outcome, model, _events, _ = run(repo, [half, worse, COLLATZ], local=True, holdout=0)
    assert outcome.status == "green" and outcome.iterations == 3 and len(model.asked) == 3
    fix = model.asked[2][-1]["content"]
    assert "made things worse" in fix and "return 0" in fix and "FAILED" in fix
    assert not fix.startswith("Complete")  # one second draft, no more


def test_no_second_draft_for_an_api_model_or_where_the_tests_are_hidden(tmp_path):
    repo = make_repo(tmp_path / "collatz", example="collatz")
    half = COLLATZ.replace('        raise ValueError("only positive numbers have a Collatz sequence")\n', "        return 0\n")
    for local, hidden in ((False, False), (True, True)):
        _outcome, model, events, _ = run(repo, [half, COLLATZ], local=local, holdout=0, hide_tests=hidden)
        assert not model.asked[1][-1]["content"].startswith("Complete")
        assert not any("second draft" in e.text for e in events if isinstance(e, ev.Status))
