from wordfreq import top_words


def test_counts_words_case_insensitively():
    assert top_words("The cat and the hat", 1) == [("the", 2)]


def test_ties_are_broken_alphabetically():
    assert top_words("b a c b a", 2) == [("a", 2), ("b", 2)]


def test_punctuation_is_not_part_of_a_word():
    assert top_words("Hello, world! Hello... world? hello", 2) == [("hello", 3), ("world", 2)]


def test_apostrophes_inside_words_are_kept():
    assert top_words("don't stop; don't", 1) == [("don't", 2)]


def test_n_larger_than_the_vocabulary():
    assert top_words("one two", 5) == [("one", 1), ("two", 1)]


def test_empty_text():
    assert top_words("", 3) == []
