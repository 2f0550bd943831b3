from pangram import is_pangram


def test_empty_sentence():
    assert is_pangram("") is False


def test_perfect_lower_case():
    assert is_pangram("abcdefghijklmnopqrstuvwxyz") is True


def test_with_mixed_case_and_punctuation():
    assert is_pangram('"Five quacking Zephyrs jolt my wax bed."') is True


def test_missing_a_letter():
    assert is_pangram("a quick movement of the enemy will jeopardize five gunboats") is False
