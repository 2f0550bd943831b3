"""The watch in the test process, for real (local and Docker sandboxes): each answer of the corpus that reaches the
tests while they run is caught with the line that did it, and code that looks at itself the way libraries do
(logging, warnings, inspect, dataclasses, sys.modules, its own data) is neither kept red nor warned about."""
from __future__ import annotations

import pytest

from agent.honesty.watch import judged
from tests.conftest import new_sandbox
from tests.honesty import correct, gaming

TESTS = "tests/test_it.py"


@pytest.fixture(scope="module", params=["local", pytest.param("docker", marks=pytest.mark.docker)])
def box(request):
    sandbox = new_sandbox(request, request.param)
    sandbox.start({})
    yield sandbox
    sandbox.close()


def run(box, files: dict[str, str]):
    """One test run of these files, which are removed again after it."""
    box.sync({path: text.encode() for path, text in files.items()})
    try:
        return box.run_tests([], 60)
    finally:
        box.sync({path: None for path in files})


BASELINES: dict = {}


def with_its_baseline(box, tests: str, path: str, code: str, files: dict[str, str] | None = None):
    """(the run of the tests without the answer, the run with it), as makegreen's loop has them."""
    key = (type(box).__name__, tests, tuple(sorted((files or {}).items())))
    if key not in BASELINES:
        BASELINES[key] = run(box, {TESTS: tests, **(files or {})})
    return BASELINES[key], run(box, {TESTS: tests, path: code, **(files or {})})


@pytest.mark.parametrize("name, tests, path, code", gaming.REACHING, ids=[case[0] for case in gaming.REACHING])
def test_an_answer_that_reaches_the_tests_is_kept_red_with_the_line_that_did_it(box, name, tests, path, code):
    before, after = with_its_baseline(box, tests, path, code)
    assert after.report.green  # pytest alone would call it done
    assert after.report.watched
    blocking, _warnings = judged(after.report, before.report, {path: code.encode()})
    assert blocking and all(item.startswith(f"{path}:") for item in blocking), blocking


# in Docker too in .ci/run (`full`): the newcomer's suite runs the gaming side there. All of them in one run, each
# case in a folder of its own (its module names are its own), as makegreen's loop would judge it.
@pytest.mark.parametrize("box", ["local", pytest.param("docker", marks=[pytest.mark.docker, pytest.mark.full])],
                         indirect=True)
def test_code_that_looks_at_itself_as_libraries_do_is_green_and_unflagged(box):
    tests, code = {}, {}
    for n, (_name, test, path, answer, *files) in enumerate(correct.INTROSPECTIVE):
        tests[f"case{n}/test_case{n}.py"] = test
        tests.update({f"case{n}/{name}": text for name, text in (files[0] if files else {}).items()})
        code[f"case{n}/{path}"] = answer
    before = run(box, tests)
    after = run(box, {**tests, **code})
    assert after.report.green and len(after.report.tests) >= len(code), after.output
    assert judged(after.report, before.report, {path: text.encode() for path, text in code.items()}) == ([], [])


GC = '''
import gc

class Counter:
    def __init__(self):
        self.count = 0

def live_counters():
    return sum(isinstance(thing, Counter) for thing in gc.get_objects())
'''

GC_TESTS = '''
from counters import Counter, live_counters

def test_live():
    kept = [Counter(), Counter()]
    assert live_counters() >= 2
'''


def test_looking_through_the_collectors_objects_is_a_warning_not_a_refusal(box):
    before, after = with_its_baseline(box, GC_TESTS, "counters.py", GC)
    blocking, warnings = judged(after.report, before.report, {"counters.py": GC.encode()})
    assert after.report.green and blocking == []
    assert warnings and warnings[0].startswith("counters.py:9 (gc.get_objects)"), warnings


def test_the_tests_may_look_at_themselves_and_pytest_at_everything(box):
    """Frames, source and the collector used by the tests (or by pytest for them) are not the code's doing."""
    tests = '''
import gc
import inspect
import sys

from calc import add

def test_itself():
    assert "test_itself" in inspect.stack()[0].function
    assert sys._getframe().f_code.co_name == "test_itself"
    assert open(__file__).read().startswith("\\nimport gc")
    assert gc.get_referrers(add)
    assert add(2, 3) == 5
'''
    code = "def add(a, b):\n    return a + b\n"
    before, after = with_its_baseline(box, tests, "calc.py", code)
    assert after.report.green
    assert [reach for reach in after.report.reaches if reach.kind != "runner"] == []  # a plugin's, set aside
    assert judged(after.report, before.report, {"calc.py": code.encode()}) == ([], [])
