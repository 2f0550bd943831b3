import pytest

from leap import leap_year


@pytest.mark.parametrize("year", [1996, 1960, 2000, 2400, 2024])
def test_leap_years(year):
    assert leap_year(year) is True


@pytest.mark.parametrize("year", [2015, 1970, 2100, 1900, 1800])
def test_common_years(year):
    assert leap_year(year) is False
