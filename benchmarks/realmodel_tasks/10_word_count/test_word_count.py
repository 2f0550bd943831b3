from word_count import count_words


def test_one_word():
    assert count_words("word") == {"word": 1}


def test_repeated_words_and_case():
    assert count_words("one fish two fish Red fish blue FISH") == {"one": 1, "fish": 4, "two": 1, "red": 1, "blue": 1}


def test_punctuation_and_commas():
    assert count_words("car: carpet as java: javascript!!&@$%^&") == {
        "car": 1, "carpet": 1, "as": 1, "java": 1, "javascript": 1}
    assert count_words("one,two,three") == {"one": 1, "two": 1, "three": 1}


def test_apostrophes_and_quotes():
    assert count_words("Joe can't tell between 'large' and large.") == {
        "joe": 1, "can't": 1, "tell": 1, "between": 1, "large": 2, "and": 1}
