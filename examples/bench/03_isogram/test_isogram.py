import pytest

from isogram import is_isogram


@pytest.mark.parametrize("text, expected", [
    ("", True), ("isogram", True), ("eleven", False), ("zzyzx", False), ("subdermatoglyphic", True),
    ("Alphabet", False), ("thumbscrew-japingly", True), ("six-year-old", True), ("Emily Jung Schwartzkopf", True),
    ("accentor", False), ("up-to-date", False),
])
def test_is_isogram(text, expected):
    assert is_isogram(text) is expected
