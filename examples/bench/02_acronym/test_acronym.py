import pytest

from acronym import abbreviate


@pytest.mark.parametrize("phrase, expected", [
    ("Portable Network Graphics", "PNG"),
    ("Ruby on Rails", "ROR"),
    ("First In, First Out", "FIFO"),
    ("GNU Image Manipulation Program", "GIMP"),
    ("Complementary metal-oxide semiconductor", "CMOS"),
    ("Something - I made up from thin air", "SIMUFTA"),
    ("Halley's Comet", "HC"),
    ("The Road _Not_ Taken", "TRNT"),
])
def test_abbreviate(phrase, expected):
    assert abbreviate(phrase) == expected
