import pytest

from isogram import is_isogram


@pytest.mark.parametrize("text", ["", "isogram", "lumberjacks", "background", "six-year-old", "Emily Jung Schwartzkopf"])
def test_isograms(text):
    assert is_isogram(text) is True


@pytest.mark.parametrize("text", ["eleven", "zzyzx", "Alphabet", "accentor-a", "up-to-date"])
def test_not_isograms(text):
    assert is_isogram(text) is False
