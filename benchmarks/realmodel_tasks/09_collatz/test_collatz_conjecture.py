import pytest

from collatz_conjecture import steps


def test_zero_steps_for_one():
    assert steps(1) == 0


def test_even_and_odd_steps():
    assert steps(16) == 4
    assert steps(12) == 9


def test_large_number():
    assert steps(1000000) == 152


@pytest.mark.parametrize("number", [0, -15])
def test_not_positive(number):
    with pytest.raises(ValueError, match="Only positive integers are allowed"):
        steps(number)
