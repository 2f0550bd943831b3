"""Held-out tests: which are chosen, pytest's ids for them, the test files as the model sees them, and the run's
results as the model sees them."""
from __future__ import annotations

import subprocess
import sys

from agent.honesty.holdout import Held, choose, choose_cases, held_out, views
from agent.run.loop import without
from sandbox import RunResult
from sandbox.results import PYTEST_FAILED, PYTEST_OK, TestCase, TestReport

MANY = b'''import pytest
from things import f


@pytest.mark.parametrize("a, b", [(1, 2), (-3, 4.5), (None, True), ("x y", "a-b"), ((1, 2), [3]), (1e3, 0.1)])
def test_values(a, b):
    assert f(a) == b


@pytest.mark.parametrize("value", [
    1,
    (2, 3),  # a pair
    "s",
    -0.0,
])
def test_one_name(value):
    assert f(value)


@pytest.mark.parametrize(["p", "q"], ((1, 2), (3, 4), (5, 6), (7, 8)))
def test_names_as_a_list(p, q):
    assert f(p) == q
'''


def collect(tmp_path, source: bytes) -> list[str]:
    """Node ids pytest collects from tmp_path, with source as tests/test_it.py."""
    (tmp_path / "tests").mkdir(exist_ok=True)
    (tmp_path / "tests" / "test_it.py").write_bytes(source)
    (tmp_path / "things.py").write_text("def f(x):\n    return x\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                          cwd=tmp_path, capture_output=True, text=True)
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_the_ids_of_held_out_cases_are_the_ones_pytest_collects(tmp_path):
    collected = collect(tmp_path, MANY)
    for seed in range(12):
        held = choose_cases({"tests/test_it.py": MANY}, (), seed)
        assert [item.function for item in held] == ["test_values", "test_one_name", "test_names_as_a_list"]
        assert all(item.nodeid in collected for item in held), (seed, held)


def test_the_model_sees_the_file_without_the_case_and_the_file_still_runs(tmp_path):
    (tmp_path / "tests").mkdir()
    for case in range(4):  # each view a test file of its own, collected in one run
        held = [Held("tests/test_it.py::test_one_name[x]", 1, case)]
        shown = views({"tests/test_it.py": MANY}, held)["tests/test_it.py"]
        (tmp_path / "tests" / f"test_view{case}.py").write_bytes(shown)
    collected = collect(tmp_path, MANY)
    whole = [nodeid for nodeid in collected if nodeid.startswith("tests/test_it.py")]
    for case in range(4):
        assert len([nodeid for nodeid in collected if nodeid.startswith(f"tests/test_view{case}.py")]) == len(whole) - 1
    held = [Held("tests/test_it.py::test_one_name[value1]", 12, 1)]
    shown = views({"tests/test_it.py": MANY}, held)["tests/test_it.py"].decode()
    assert "(2, 3)" not in shown and "a pair" not in shown and '"s",' in shown


def test_only_tests_whose_ids_are_sure_have_a_case_held_out():
    source = '''import pytest

@pytest.mark.parametrize("n", [1, 2, 3])
def test_three_cases(n): pass

@pytest.mark.parametrize("n", [1, 2, 3, 4], ids=["a", "b", "c", "d"])
def test_own_ids(n): pass

@pytest.mark.parametrize("n", [1, 1, 2, 3])
def test_duplicates(n): pass

@pytest.mark.parametrize("n", CASES)
def test_from_a_name(n): pass

@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_stacked(n, m): pass

@pytest.mark.parametrize("n", [pytest.param(1, marks=pytest.mark.xfail), "", "é", object()])
def test_unsure(n): pass
'''.encode()
    assert choose_cases({"tests/test_it.py": source}, (), None) == []


def test_a_case_is_held_out_only_with_an_id_the_baseline_collected():
    source = b'import pytest\n\n@pytest.mark.parametrize("n", [1, 2, 3, 4])\ndef test_n(n): pass\n'
    assert choose_cases({"t.py": source}, ["t.py::test_n[one]", "t.py::test_n[two]"], None) == []
    [held] = choose_cases({"t.py": source}, [f"t.py::test_n[{n}]" for n in range(1, 5)], None)
    assert held.nodeid in {f"t.py::test_n[{n}]" for n in range(1, 5)}


def test_a_function_whose_name_begins_another_is_not_held_out_alone():
    """pytest deselects by prefix: holding out test_add would hold out test_add_many too."""
    source = b"def test_add(): pass\n\ndef test_add_many(): pass\n\ndef test_sub(): pass\n\ndef test_mul(): pass\n"
    for seed in range(20):
        assert "t.py::test_add" not in [item.nodeid for item in choose({"t.py": source}, 0.67, seed)]


def test_held_out_names_a_function_with_its_cases_and_a_case_alone():
    function, case = Held("t.py::test_f", 1), Held("t.py::test_g[1]", 5, 0)
    assert held_out("t.py::test_f", [function]) and held_out("t.py::test_f[2]", [function])
    assert not held_out("t.py::test_f_more", [function])
    assert held_out("t.py::test_g[1]", [case]) and not held_out("t.py::test_g[10]", [case])


def result(outcomes: dict[str, str], exitstatus: int) -> RunResult:
    tests = {nodeid: TestCase(nodeid, outcome) for nodeid, outcome in outcomes.items()}
    report = TestReport(tests=tests, collected=tuple(tests), exitstatus=exitstatus)
    return RunResult(exitstatus, False, "\n".join(f"FAILED {n}" for n, o in outcomes.items() if o == "failed"),
                     report, 1.0)


def test_the_model_sees_a_run_without_the_held_out_tests():
    held = [Held("t.py::test_g[3]", 5, 2)]
    seen = without(result({"t.py::test_g[1]": "passed", "t.py::test_g[3]": "failed"}, PYTEST_FAILED), held)
    assert list(seen.report.tests) == ["t.py::test_g[1]"] and seen.report.green
    assert seen.report.exitstatus == PYTEST_OK and "test_g[3]" not in seen.output
    red = without(result({"t.py::test_g[1]": "failed", "t.py::test_g[3]": "failed"}, PYTEST_FAILED), held)
    assert not red.report.green and red.report.exitstatus == PYTEST_FAILED
