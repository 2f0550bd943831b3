import pytest

from raindrops import convert


@pytest.mark.parametrize("number, sound", [
    (1, "1"), (3, "Pling"), (5, "Plang"), (7, "Plong"), (15, "PlingPlang"), (21, "PlingPlong"),
    (35, "PlangPlong"), (105, "PlingPlangPlong"), (52, "52"), (9, "Pling"),
])
def test_sounds(number, sound):
    assert convert(number) == sound
