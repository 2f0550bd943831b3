import pytest

from armstrong_numbers import is_armstrong_number


@pytest.mark.parametrize("number", [0, 5, 153, 9474, 9926315])
def test_armstrong_numbers(number):
    assert is_armstrong_number(number) is True


@pytest.mark.parametrize("number", [10, 100, 9475, 9926314])
def test_not_armstrong_numbers(number):
    assert is_armstrong_number(number) is False
