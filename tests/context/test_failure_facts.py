"""What the model is shown of each failing test, with pytest run for real in both sandboxes (the Docker image's
pytest is Debian's 7.2, the local one whatever this machine has): the statement as written, the call under test,
the values compared, where the code under test raised and its local values there."""
from __future__ import annotations

import pytest

from agent.context.failures import Failures, describe
from sandbox.local import LocalSandbox
from tests.conftest import new_sandbox

CODE = b'''\
def add(a, b):
    return a - b


def is_even(n):
    return n % 2 == 1


def ratio(a, b):
    total = a + b
    return a / (b - b)


def words(text):
    return text.split(",")


def check(n):
    return n


def area(r):
    return 3 * r * r


def greet(name):
    return None


def label(n):
    return "many"
'''

UNITTEST = b'''\
import unittest

from calc import add, area, check, greet, is_even, ratio, words


class CalcTest(unittest.TestCase):
    def test_equal(self):
        self.assertEqual(add(2, 3), 5)

    def test_is(self):
        self.assertIs(is_even(4), True)

    def test_true(self):
        self.assertTrue(is_even(8))

    def test_false(self):
        self.assertFalse(is_even(3), msg="3 is odd")

    def test_in(self):
        self.assertIn("b", words("a b"))

    def test_almost(self):
        self.assertAlmostEqual(area(1.0), 3.14159, places=3)

    def test_raises(self):
        with self.assertRaises(ValueError):
            check(-1)

    def test_raises_regex(self):
        with self.assertRaisesRegex(ValueError, "must be positive"):
            check(-2)

    def test_raises_callable(self):
        self.assertRaises(ValueError, check, -3)

    def test_error_inside(self):
        self.assertEqual(ratio(1, 2), 0.5)

    def test_multiline(self):
        self.assertEqual(
            add(
                10,
                20,
            ),
            30,
        )

    def test_subtests(self):
        for number in (6, 12):
            with self.subTest(number=number):
                self.assertIs(is_even(number), True)

    def test_stub_alice(self):
        self.assertEqual(greet("Alice"), "Hello, Alice!")

    def test_stub_bob(self):
        self.assertEqual(greet("Bob"), "Hello, Bob!")
'''

PYTEST = b'''\
import pytest

from calc import add, area, check, label, ratio, words


def test_plain():
    assert add(2, 3) == 5


def test_raises():
    with pytest.raises(ValueError, match="positive"):
        check(-1)


def test_approx():
    assert area(2.0) == pytest.approx(12.56637)


@pytest.mark.parametrize("a,b,expected", [(7, 1, 8)])
def test_param(a, b, expected):
    assert add(a, b) == expected


def test_inside():
    assert ratio(3, 4) == 0.75


def test_reversed():
    assert [1, 3] == [add(2, 1), add(5, 3)]


def test_a_name():
    result = add(1, 1)
    assert result == 2


def test_cut_short():
    assert words("x" * 300) == ["y"]


def test_label_one():
    assert label(1) == "one"


def test_label_two():
    assert label(2) == "two"
'''

FILES = {"calc.py": CODE, "test_unit.py": UNITTEST, "test_plain.py": PYTEST}


@pytest.fixture(scope="module", params=["local", "docker"])
def shown(request) -> dict[str, str]:
    """What the model is shown of one real test run, cut into one block per failing test (or group)."""
    sandbox = new_sandbox(request, request.param)
    sandbox.start(FILES)
    try:
        result = sandbox.run_tests([], 60)
    finally:
        sandbox.close()
    assert not result.report.anomalies, result.report.anomalies  # subtests are not a test reporting twice
    text = Failures(result, most=100).render()  # every group, not the prompt's first dozen
    blocks = {}
    for block in ("\n" + text).split("\n## ")[1:]:
        heading, _, body = block.partition("\n")
        nodeid = heading.split()[0]
        blocks[f"{nodeid.split('::')[0]}::{nodeid.split('::')[-1]}"] = body
    return blocks


def test_unittest_equal_shows_the_call_what_it_returned_and_what_was_expected(shown):
    block = shown["test_unit.py::test_equal"]
    assert "test_unit.py:8:" in block and "self.assertEqual(add(2, 3), 5)" in block
    assert "add(2, 3) returned -1, but the test expects 5." in block


def test_unittest_assert_is_true_and_false_name_the_input(shown):
    assert "is_even(4) returned False, but the test expects True." in shown["test_unit.py::test_is"]
    assert "is_even(8) returned False, but the test expects a true value." in shown["test_unit.py::test_true"]
    assert "is_even(3) returned True, but the test expects a false value." in shown["test_unit.py::test_false"]


def test_unittest_assert_in_shows_the_container_the_code_gave(shown):
    block = shown["test_unit.py::test_in"]
    assert "words(\"a b\") is ['a b']" in block and "'b' not found in ['a b']" in block


def test_unittest_assert_almost_equal(shown):
    assert "area(1.0) returned 3.0, but the test expects about 3.14159." in shown["test_unit.py::test_almost"]


def test_unittest_assert_raises_in_its_three_forms(shown):
    assert "check(-1) raised no exception; the test expects ValueError." in shown["test_unit.py::test_raises"]
    assert "check(-2) raised no exception; the test expects ValueError with a message matching " \
           "'must be positive'." in shown["test_unit.py::test_raises_regex"]
    # the callable form expects the same and raised the same nothing: one cause, said once, counted
    assert "1 more failing the same way, none of them raising anything." in shown["test_unit.py::test_raises"]
    assert "test_unit.py::test_raises_callable" not in shown


def test_an_exception_inside_the_code_shows_its_line_and_local_values(shown):
    block = shown["test_plain.py::test_inside"]
    assert "ratio(3, 4) raised ZeroDivisionError: division by zero" in block
    assert "at calc.py:11, in ratio: return a / (b - b)" in block
    assert "where a = 3, b = 4, total = 7" in block
    # raised at the same line from another test: the same cause, said once and counted
    assert "1 more failing the same way." in block and "test_unit.py::test_error_inside" not in shown


def test_a_call_over_several_lines_is_shown_whole_and_said_on_one(shown):
    block = shown["test_unit.py::test_multiline"]
    assert "self.assertEqual(\n    add(\n        10,\n        20,\n    ),\n    30,\n)" in block
    assert "add(10, 20) returned -10, but the test expects 30." in block


def test_subtests_show_their_parameters(shown):
    # the same wrong value as test_is: listed under it, with the subtest's parameters (pytest 9 reports each
    # subtest) or the test's own values at the failure (pytest 7 stops at the first failing subtest)
    block = shown["test_unit.py::test_is"]
    assert "- test_subtests [number=6]: is_even(number) → False, the test expects True" in block \
        or "- test_subtests: is_even(number) → False (number = 6), the test expects True" in block


def test_a_stubs_none_for_every_call_is_said_once_and_counted(shown):
    block = shown["test_unit.py::test_stub_alice"]
    assert "greet(\"Alice\") returned None, but the test expects 'Hello, Alice!'." in block
    assert "1 more failing the same way, each giving None." in block and "test_stub_bob" not in block
    assert "test_unit.py::test_stub_bob" not in shown


def test_plain_assert_equal_is_said_as_unittests_is(shown):
    block = shown["test_plain.py::test_plain"]
    assert "assert add(2, 3) == 5" in block and "add(2, 3) returned -1, but the test expects 5." in block
    assert "where -1 = add(2, 3)" not in block  # pytest's explanation says it again, less plainly
    # the side that calls the code is what it gave, whichever side it is on; a name is what it is
    block = shown["test_plain.py::test_reversed"]
    assert "[add(2, 1), add(5, 3)] is [1, 2], but the test expects [1, 3]." in block
    block = shown["test_plain.py::test_a_name"]
    assert "result is 0, but the test expects 2." in block and "The test's values: result = 0" in block


def test_plain_assert_with_a_value_cut_short_keeps_pytests_explanation(shown):
    block = shown["test_plain.py::test_cut_short"]
    assert "but the test expects" not in block and "AssertionError: assert ['xxx" in block


def test_the_rest_of_a_group_say_what_each_test_expects(shown):
    # the same wrong value, where each test expects its own: one group, each expectation said
    block = shown["test_plain.py::test_label_one"]
    assert "label(1) returned 'many', but the test expects 'one'." in block
    assert "- test_label_two: label(2) → 'many', the test expects 'two'" in block


def test_pytest_raises_and_approx(shown):
    block = shown["test_plain.py::test_raises"]
    assert "with pytest.raises(ValueError, match=\"positive\"):\n    check(-1)" in block
    assert "DID NOT RAISE" in block
    block = shown["test_plain.py::test_approx"]
    assert "assert area(2.0) == pytest.approx(12.56637)" in block
    assert "area(2.0) returned 12.0, but the test expects 12.56637 ± 1.3e-05." in block


def test_parametrized_values_are_shown(shown):
    block = shown["test_plain.py::test_param[7-1-8]"]
    assert "add(a, b) returned 6, but the test expects 8." in block
    assert "The test's values: a = 7, b = 1, expected = 8" in block


def _ran(files: dict[str, bytes]):
    sandbox = LocalSandbox()
    sandbox.start(files)
    try:
        return sandbox.run_tests([], 60)
    finally:
        sandbox.close()


def test_a_broken_repr_in_the_code_under_test_does_not_break_the_report(tmp_path):
    files = {"thing.py": b"class Thing:\n    def __repr__(self):\n        raise RuntimeError('no')\n\n\n"
                         b"def make():\n    return Thing()\n",
             "test_thing.py": b"import unittest\nfrom thing import make\n\n\nclass T(unittest.TestCase):\n"
                              b"    def test_make(self):\n        self.assertEqual(make(), 1)\n"}
    result = _ran(files)
    case = result.report.tests["test_thing.py::T::test_make"]
    assert case.outcome == "failed" and case.facts
    assert "make() returned <Thing instance at 0x" in describe(result)  # reprlib's own fallback


def test_values_that_say_only_an_address_or_are_pythons_own_are_left_out():
    """`where .0 = <list_iterator object at 0x…>` (a generator expression's own iterator) and `err =
    <unittest.case._AssertRaisesContext object at 0x…>` tell the model nothing: the values that do stay."""
    from agent.context.failures import fact_view
    from sandbox.results import FailureFacts, Raised

    facts = FailureFacts(where="test_x.py:3", statement="self.assertEqual(total(1, [0]), 0)", call="total(1, [0])",
                         locals=(("err", "<unittest.case._AssertRaisesContext object at 0x7f32406e2090>"),
                                 ("limit", "1")),
                         raised=Raised("x.py:4", "<genexpr>", "if any(i % f == 0 for f in fs):",
                                       ((".0", "<list_iterator object at 0x7f1edd54b700>"), ("f", "0"), ("i", "1"))),
                         exception="ZeroDivisionError: integer modulo by zero")
    view = fact_view(facts)
    assert view["raised"]["locals"] == ["f = 0", "i = 1"] and view["test_values"] == ["limit = 1"]


STUB_TESTS = (b"import unittest\nfrom luhn import Luhn, valid\n\n\nclass T(unittest.TestCase):\n"
              b"    def test_one(self):\n        self.assertIs(valid('059'), True)\n\n"
              b"    def test_two(self):\n        self.assertEqual(valid('1'), False)\n\n"
              b"    def test_class(self):\n        self.assertIs(Luhn('059').valid(), True)\n\n"
              b"    def test_raises(self):\n        with self.assertRaises(ValueError):\n            valid('x')\n")


def test_a_stubs_failures_are_told_by_the_tests_and_wrong_values_are_not():
    """Every call giving a stub's None, or no exception where the test expects one (functions and methods alike,
    run by pytest for real), says nothing the tests do not; one call giving a value of its own, a collection error,
    or an exception does."""
    stub = b"def valid(number):\n    pass\n\n\nclass Luhn:\n    def __init__(self, number):\n        pass\n\n" \
           b"    def valid(self):\n        pass\n"
    assert Failures(_ran({"luhn.py": stub, "test_luhn.py": STUB_TESTS})).told_by_the_tests
    wrong = stub.replace(b"def valid(number):\n    pass", b"def valid(number):\n    return 3")
    assert not Failures(_ran({"luhn.py": wrong, "test_luhn.py": STUB_TESTS})).told_by_the_tests
    raising = stub.replace(b"def valid(number):\n    pass", b"def valid(number):\n    return int(number[5])")
    assert not Failures(_ran({"luhn.py": raising, "test_luhn.py": STUB_TESTS})).told_by_the_tests
    assert not Failures(_ran({"luhn.py": b"def valid(:\n", "test_luhn.py": STUB_TESTS})).told_by_the_tests
