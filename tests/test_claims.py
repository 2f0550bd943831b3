"""A claim that the tests contradict each other stops a run only on evidence."""
from agent.honesty.claims import claimed_contradiction, judge, named_tests

TESTS = {"tests/test_leap.py": b"""from leap import leap_year


def test_year_divisible_by_4():
    assert leap_year(1996) is True


def test_year_divisible_by_100():
    assert leap_year(2100) is False


class TestCentury:
    def test_divisible_by_400(self):
        assert leap_year(2000)


def test_unrelated():
    assert sorted([2, 1]) == [1, 2]
"""}


def test_a_bare_sentinel_is_not_confirmed_and_the_model_is_told_why():
    claim = claimed_contradiction("CONTRAADICTION?\n**CONTRADICTION**\nThe tests cannot all pass.")
    assert claim == "The tests cannot all pass."
    verdict = judge(claim, TESTS, challenged=True)
    assert not verdict.confirmed and "names no test function that exists" in verdict.feedback
    assert "write the code that passes all of them" in verdict.feedback


def test_a_misspelled_sentinel_is_no_claim():
    assert claimed_contradiction("CONTRAADICTION: the tests disagree") is None
    assert claimed_contradiction("There is no CONTRADICTION here.\nroman.py") is None


def test_tests_that_do_not_exist_are_not_evidence():
    verdict = judge("test_foo expects 1, test_bar expects 2", TESTS, challenged=True)
    assert not verdict.confirmed and "names no test function" in verdict.feedback


def test_named_tests_are_shown_back_first_and_confirm_only_when_named_again():
    claim = "- test_year_divisible_by_4 expects True\n- tests/test_leap.py::test_year_divisible_by_100 expects False"
    first = judge(claim, TESTS, challenged=False)
    assert not first.confirmed
    assert "def test_year_divisible_by_4():" in first.feedback and "leap_year(2100) is False" in first.feedback
    second = judge(claim, TESTS, challenged=True)
    assert second.confirmed
    [shown] = second.evidence
    assert "tests/test_leap.py::test_year_divisible_by_4:" in shown and "tests/test_leap.py::test_year_divisible_by_100:" in shown


def test_tests_without_a_call_in_common_do_not_confirm():
    verdict = judge("test_year_divisible_by_4 and test_unrelated", TESTS, challenged=True)
    assert not verdict.confirmed and "do not call the same code" in verdict.feedback


def test_methods_are_found_by_name_with_their_class():
    [method] = named_tests("test_divisible_by_400", TESTS)
    assert method.nodeid == "tests/test_leap.py::TestCentury::test_divisible_by_400" and method.expects


def test_makegreens_own_check_confirms_at_once():
    tests = {"tests/test_d.py": b"def test_a():\n    assert double(2) == 4\n\n\ndef test_b():\n    assert double(2) == 5\n"}
    verdict = judge("(nothing named)", tests, challenged=False)
    assert verdict.confirmed and "double(2) is expected to be 4" in verdict.evidence[0]
