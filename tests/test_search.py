"""Candidates: how they differ, how the tests rank them, and how the first settling result stops the rest."""
import threading
import time

import pytest

from agent.models.budget import Budget
from agent.context.conversation import Message, Prompt
from agent.core.errors import BackendError, BudgetExhausted, Cancelled
from agent.run.candidates import Line, Stagnation, keep, race, score, variation
from sandbox import RunResult
from sandbox.results import TestCase, TestReport


def result(passed: int, failed: int) -> RunResult:
    cases = [TestCase(f"t.py::p{i}", "passed") for i in range(passed)]
    cases += [TestCase(f"t.py::f{i}", "failed") for i in range(failed)]
    report = TestReport(tests={c.nodeid: c for c in cases}, collected=tuple(c.nodeid for c in cases),
                        exitstatus=1 if failed else 0)
    return RunResult(1 if failed else 0, False, "", report, 0.1)


def line(passed: int, failed: int, candidate: int, **extra) -> Line:
    return Line([], {}, result(passed, failed), candidate=candidate, **extra)


def test_candidates_vary_in_effort_and_sampling_and_the_first_asks_as_configured():
    assert variation(0, "medium") == ("medium", None)
    asked = [variation(slot, "medium") for slot in range(1, 5)]
    assert [effort for effort, _ in asked] == ["high", "low", "high", "low"]
    assert len({temperature for _, temperature in asked}) == 4
    assert variation(2, None)[0] == "low" and variation(1, None)[0] == "high"


def test_the_beam_keeps_the_best_open_lines_honest_first():
    lines = [line(3, 2, 1), line(4, 1, 2, flagged=["x.py:3 special-cases 7"]), line(3, 1, 3), line(5, 0, 4),
             line(4, 0, 5, state="stopped")]
    assert [kept.candidate for kept in keep(lines, 2)] == [4, 3]
    assert [kept.candidate for kept in keep(lines, 9)] == [4, 3, 1, 2]  # gaming ranks below any honest result
    assert [kept.candidate for kept in keep([line(2, 1, 1), line(2, 1, 2)], 1)] == [1]  # ties: the lower
    assert score(result(2, 0), True) > score(result(2, 1), True) > score(result(9, 0), False)


def test_a_fork_leaves_its_parent_as_it_was():
    prompt = Prompt(Message("system", None, {"text": "rules"}), Message("user", None, {"text": "hi"}),
                    Message("user", None, {"text": "now"}))
    parent = Line(prompt, {"a.py": b"1"}, result(1, 1), "low", Stagnation([frozenset({"t"})], 1), ["tried"])
    child = parent.fork(2)
    child.prompt = Prompt(prompt.system, prompt.task, Message("user", None, {"text": "told"}))
    child.changes["b.py"] = b"2"
    child.attempts.append("more")
    child.stagnation.observe(result(0, 1).report)
    assert parent.prompt.messages() == [{"role": "system", "content": "rules"},
                                        {"role": "user", "content": "hi\n\nnow"}]
    assert child.prompt.told == "told" and parent.changes == {"a.py": b"1"} and parent.attempts == ["tried"]
    assert len(parent.stagnation.states) == 1 and child.candidate == 2 and child.effort == "low"


def test_the_first_green_settles_the_round_and_cancels_the_rest():
    cancel, stopped = threading.Event(), []

    def slow():
        while not cancel.wait(0.01):
            pass
        raise Cancelled()

    def green():
        time.sleep(0.05)
        return line(2, 0, 2, state="green")

    results = race([slow, green, slow], cancel, lambda: stopped.append(True))
    assert results[1].state == "green" and results[0] is None and results[2] is None
    assert cancel.is_set() and stopped == [True]


def test_a_round_without_a_settling_result_waits_for_every_candidate():
    cancel = threading.Event()
    spent = BudgetExhausted("token budget")
    results = race([lambda: line(1, 1, 1), lambda: (_ for _ in ()).throw(spent), lambda: line(2, 0, 3)],
                   cancel, lambda: pytest.fail("nothing to cancel"))
    assert results[0].candidate == 1 and results[1] is spent and results[2].candidate == 3
    assert not cancel.is_set()


def test_a_backend_failure_settles_the_round_and_one_candidate_runs_inline():
    cancel = threading.Event()
    failure = BackendError("401")

    def fail():
        raise failure

    def wait():
        cancel.wait(5)
        raise Cancelled()

    assert race([fail, wait], cancel, lambda: None)[0] is failure and cancel.is_set()
    here = []
    assert race([lambda: here.append(threading.current_thread()) or line(1, 0, 0)], threading.Event(),
                lambda: None)[0].candidate == 0
    assert here == [threading.current_thread()]


def test_parallel_requests_share_what_is_left_of_the_budget():
    budget = Budget(tokens=100_000)
    messages = [{"role": "user", "content": "x" * 4000}]
    alone = budget.output_cap({"prompt_tokens": 20_000}, messages)
    shared = budget.output_cap({"prompt_tokens": 20_000}, messages, parallel=4)
    assert alone == 80_000 - 1004 and shared == 20_000 - 1004
    with pytest.raises(BudgetExhausted):
        budget.output_cap({"prompt_tokens": 95_000}, messages, parallel=4)


def test_the_ladder_asks_only_for_what_the_server_honours():
    from agent.run.candidates import Stagnation

    def ladder(**server):
        stagnation = Stagnation()
        return [stagnation.escalate(**server) for _ in range(3)]

    assert ladder(effort_honoured=True) == ["more-effort", "fresh-start", "stop"]
    # no effort to raise: the question changes (the failing case worked through by hand), not the temperature
    assert ladder(effort_honoured=False) == ["work-through", "fresh-start", "stop"]
