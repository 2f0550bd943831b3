import pytest

from roman import from_roman, to_roman


@pytest.mark.parametrize("number, numeral", [
    (1, "I"), (4, "IV"), (9, "IX"), (14, "XIV"), (40, "XL"), (90, "XC"), (400, "CD"),
    (1994, "MCMXCIV"), (2024, "MMXXIV"), (3999, "MMMCMXCIX"),
])
def test_round_trip(number, numeral):
    assert to_roman(number) == numeral
    assert from_roman(numeral) == number


@pytest.mark.parametrize("number", [0, -1, 4000])
def test_out_of_range(number):
    with pytest.raises(ValueError, match="1 to 3999"):
        to_roman(number)


@pytest.mark.parametrize("numeral", ["IIII", "VV", "IC", "", "ABC"])
def test_only_standard_form(numeral):
    with pytest.raises(ValueError):
        from_roman(numeral)
