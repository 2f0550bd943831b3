from anagram import find_anagrams


def test_no_matches():
    assert find_anagrams("diaper", ["hello", "world", "zombies", "pants"]) == []


def test_several_matches_in_order():
    assert find_anagrams("allergy", ["gallery", "ballerina", "regally", "clergy", "largely", "leading"]) == [
        "gallery", "regally", "largely"]


def test_case_is_ignored():
    assert find_anagrams("Orchestra", ["cashregister", "Carthorse", "radishes"]) == ["Carthorse"]


def test_a_word_is_not_its_own_anagram():
    assert find_anagrams("BANANA", ["BANANA", "Banana", "banana"]) == []
