import pytest

from hamming import distance


def test_empty_strands():
    assert distance("", "") == 0


def test_identical_strands():
    assert distance("GGACTGAAATCTG", "GGACTGAAATCTG") == 0


def test_long_different_strands():
    assert distance("GGACGGATTCTG", "AGGACGGATTCT") == 9


def test_unequal_lengths():
    with pytest.raises(ValueError, match="Strands must be of equal length."):
        distance("AATG", "AAA")
