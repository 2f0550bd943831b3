import pytest

from run_length import decode, encode

CASES = [("", ""), ("XYZ", "XYZ"), ("AABBBCCCC", "2A3B4C"), ("WWWWWWWWWWWWBWWWWWWWWWWWWBBBWWWWWWWWWWWWWWWWWWWWWWWWB",
                                                             "12WB12W3B24WB"),
         ("  hsqq qww  ", "2 hs2q q2w2 "), ("aabbbcccc", "2a3b4c")]


@pytest.mark.parametrize("plain, packed", CASES)
def test_encode(plain, packed):
    assert encode(plain) == packed


@pytest.mark.parametrize("plain, packed", CASES)
def test_decode(plain, packed):
    assert decode(packed) == plain


def test_round_trip():
    assert decode(encode("zzz ZZ  zZ")) == "zzz ZZ  zZ"
