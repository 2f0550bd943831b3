"""Words that say what happened: counts with the right number, the tests named, no terminal escapes in logs."""
from agent.ui.plain import plain_text
from agent.core.words import named_failures, plural, count_tests


def test_counts_read_right_for_one_and_for_many():
    assert count_tests({"passed": 3, "failed": 0, "errors": 1}) == "3 passed, 1 error"
    assert count_tests({"passed": 1, "errors": 2}) == "1 passed, 2 errors"
    assert count_tests({}) == "no tests ran" and count_tests(None, "-") == "-"
    assert plural(1, "iteration") == "1 iteration" and plural(2, "iteration") == "2 iterations"


def test_the_tests_are_named_the_hung_one_first_and_long_lists_cut():
    assert named_failures(("t.py::a",)) == "; t.py::a"
    assert named_failures((), ("tests/test_x.py",)) == "; not loading: tests/test_x.py"
    assert named_failures(("t.py::a", "t.py::slow"), hung=("t.py::slow",)) == "; hung: t.py::slow; t.py::a"
    assert named_failures(tuple(f"t.py::{n}" for n in "abcde")) == "; t.py::a, t.py::b, t.py::c and 2 more"
    assert named_failures(()) == ""


def test_logs_carry_no_terminal_escapes():
    assert plain_text("\x1b[1;31mERROR\x1b[0m: pip\r\n50%\x1b[2K\r100%") == "ERROR: pip\n50%\n100%"
