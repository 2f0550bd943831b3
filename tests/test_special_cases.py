"""Special-casing is an input compared with a test's literal; a literal inside a computation is the spec's rule."""
from agent.honesty.claims import contradictions
from agent.honesty.integrity import special_cases

TESTS = {"tests/test_x.py": b'assert convert(3) == "Pling"\nassert to_roman(1994) == "MCMXCIV"\n'
                            b'assert score([1, 2, 3, 4, 5]) == 30\nassert kind("abc") == 1\n'}


def flagged(code: str) -> list[str]:
    return special_cases(TESTS, {"x.py": code.encode()})


def test_an_input_compared_with_a_tests_literal_is_flagged():
    assert flagged("def f(n):\n    if n == 1994:\n        return 'MCMXCIV'\n")[0].startswith("x.py:2 tests for 1994")
    assert flagged("def f(s):\n    return 1 if s in ('abc', 'x') else 0\n")
    assert flagged("def f(n):\n    match n:\n        case 1994:\n            return 1\n")


def test_rules_of_the_specification_are_not():
    assert flagged("def convert(number):\n    if number % 3 == 0:\n        return 'Pling'\n") == []
    assert flagged("def score(dice):\n    if set(dice) == {1, 2, 3, 4, 5}:\n        return 30\n") == []
    assert flagged("def f(n):\n    if n > 3999:\n        raise ValueError\n") == []


def test_the_own_contradiction_check_ignores_calls_whose_result_depends_on_state():
    tests = {"t.py": b"import roman\nfrom m import double\n\ndef test_a():\n    s = Stack()\n    assert s.pop(1) == 3\n"
                     b"    assert next_id() == 1\n    assert roman.f(2) == 1\n\ndef test_b():\n    s = Stack()\n"
                     b"    assert s.pop(1) == 2\n    assert next_id() == 2\n    assert roman.f(2) == 3\n"}
    assert contradictions(tests) == ["roman.f(2) is expected to be 1 (t.py::test_a) and 3 (t.py::test_b)"]
