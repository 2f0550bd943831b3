import pytest

from perfect_numbers import classify


@pytest.mark.parametrize("number", [6, 28, 33550336])
def test_perfect(number):
    assert classify(number) == "perfect"


@pytest.mark.parametrize("number", [12, 30, 33550335])
def test_abundant(number):
    assert classify(number) == "abundant"


@pytest.mark.parametrize("number", [1, 2, 4, 32, 33550337])
def test_deficient(number):
    assert classify(number) == "deficient"


@pytest.mark.parametrize("number", [0, -1])
def test_not_positive(number):
    with pytest.raises(ValueError, match="Classification is only possible for positive integers."):
        classify(number)
