from run_length_encoding import decode, encode


def test_encode():
    assert encode("") == ""
    assert encode("XYZ") == "XYZ"
    assert encode("AABBBCCCC") == "2A3B4C"
    assert encode("WWWWWWWWWWWWBWWWWWWWWWWWWBBBWWWWWWWWWWWWWWWWWWWWWWWWB") == "12WB12W3B24WB"
    assert encode("  hsqq qww  ") == "2 hs2q q2w2 "


def test_decode():
    assert decode("") == ""
    assert decode("XYZ") == "XYZ"
    assert decode("2A3B4C") == "AABBBCCCC"
    assert decode("12WB12W3B24WB") == "WWWWWWWWWWWWBWWWWWWWWWWWWBBBWWWWWWWWWWWWWWWWWWWWWWWWB"


def test_round_trip():
    assert decode(encode("zzz ZZ  zZ")) == "zzz ZZ  zZ"
