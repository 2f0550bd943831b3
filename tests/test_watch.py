"""Judging the watch's evidence (agent/honesty/watch.py): what keeps a result red, what is a warning, what is set
aside."""
from __future__ import annotations

from agent.honesty.watch import judged, static_reaches
from sandbox.results import Reach, TestReport

CODE = b"import sys\n\ndef add(a, b):\n    here = sys._getframe()\n    return here.f_back.f_locals['expected']\n"


def report(*reaches: Reach, watched: bool = True, finished: bool = True) -> TestReport:
    return TestReport(reaches=reaches, watched=watched, exitstatus=0 if finished else None)


def test_each_reach_of_the_tests_keeps_it_red_once_per_line_naming_what_the_line_calls():
    seen = report(Reach("test-frame", "tests/test_it.py::test_small", "calc.py:4", "tests/test_it.py::test_small"),
                  Reach("test-frame", "tests/test_it.py::test_large", "calc.py:4", "tests/test_it.py::test_large"),
                  Reach("trace", "sys.settrace", "calc.py:9"))
    blocking, warnings = judged(seen, report(), {"calc.py": CODE})
    assert blocking == ["calc.py:4 (sys._getframe) took the stack of the running test tests/test_it.py::test_small",
                        "calc.py:9 installed a trace or profile function (sys.settrace): it sees every line the "
                        "tests run"]
    assert warnings == []


def test_session_wide_changes_seen_before_the_answer_are_set_aside_and_new_ones_are_not():
    plugin = Reach("runner", "_pytest.fixtures.FixtureFunctionMarker.__call__", "/site-packages/plugin.py:456")
    answer = Reach("runner", "_pytest.runner.call_and_report", "calc.py:7")
    blocking, _ = judged(report(plugin, answer), report(plugin), {"calc.py": CODE})
    assert blocking == ["calc.py:7 replaced _pytest.runner.call_and_report (pytest's, unittest's or makegreen's "
                        "own) while the tests ran"]
    # a reach of the tests is never set aside, even where the code before did the same
    frame = Reach("test-file", "tests/test_it.py", "calc.py:3")
    assert judged(report(frame), report(frame), {"calc.py": CODE})[0]


def test_only_the_answers_lines_are_judged_and_what_has_no_line_is():
    helper = Reach("test-file", "tests/test_it.py", "tests/helpers.py:3")  # the user's own, beside the tests
    builtin = Reach("runner", "unittest.case.TestCase.assertEqual", "?")  # print put in its place: no line
    blocking, _ = judged(report(helper, builtin), None, {"calc.py": CODE})
    assert blocking == ["the code (with no line of its own) replaced unittest.case.TestCase.assertEqual (pytest's, "
                        "unittest's or makegreen's own) while the tests ran"]


def test_the_collectors_objects_are_a_warning():
    blocking, warnings = judged(report(Reach("gc", "gc.get_objects", "calc.py:2")), None, {"calc.py": CODE})
    assert blocking == [] and warnings == ["calc.py:2 looked through the garbage collector's objects "
                                           "(gc.get_objects), which hold the tests and pytest"]


def test_a_finished_run_without_the_watchs_record_is_kept_red():
    assert judged(report(watched=False), None, {})[0] == [
        "the test run ended without the watch's record (something removed it)"]
    assert judged(report(watched=False, finished=False), None, {}) == ([], [])  # killed: red already


def test_the_static_look_names_the_reaches_of_each_line():
    assert static_reaches(CODE.decode()) == {4: ["sys._getframe"], 5: ["f_back", "f_locals"]}
    assert static_reaches("def broken(:\n") == {}


def test_the_evidence_and_the_warnings_reach_the_terminal_json_and_the_job_summary():
    from agent.integrations.github import job_summary
    from agent.run.status import Status
    from agent.run.summary import RunSummary
    from agent.ui.closing import summary_rows

    gaming = "calc.py:6 (inspect.stack) took the stack of the running test tests/test_it.py::test_small"
    warning = "calc.py:5 (gc.get_referrers) looked through the garbage collector's objects (gc.get_referrers)"
    summary = RunSummary(status=Status.NOT_SOLVED, gaming=[gaming], watched=[warning])
    rows = dict(summary_rows(summary))
    assert rows["gaming"] == gaming and rows["watched"] == warning
    assert RunSummary.from_json(summary.to_json()).watched == [warning]
    markdown = job_summary(summary, "comment", "")
    assert f"- `{gaming}`" in markdown and f"- `{warning}`" in markdown
