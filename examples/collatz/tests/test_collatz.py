import pytest

from collatz import steps


def test_one_takes_no_steps():
    assert steps(1) == 0


@pytest.mark.parametrize("number, expected", [(2, 1), (16, 4), (12, 9), (27, 111)])
def test_steps_to_reach_one(number, expected):
    assert steps(number) == expected


def test_a_large_number():
    assert steps(1_000_000) == 152


@pytest.mark.parametrize("number", [0, -15])
def test_only_positive_numbers(number):
    with pytest.raises(ValueError, match="positive"):
        steps(number)
