from word_count import count_words


def test_one_word():
    assert count_words("word") == {"word": 1}


def test_repeats_and_case():
    assert count_words("Go go GO Stop stop") == {"go": 3, "stop": 2}


def test_punctuation_and_numbers():
    assert count_words("car: carpet as java: javascript!!&@$%^&") == {
        "car": 1, "carpet": 1, "as": 1, "java": 1, "javascript": 1}
    assert count_words("testing, 1, 2 testing") == {"testing": 2, "1": 1, "2": 1}


def test_apostrophes_and_quotes():
    assert count_words("'First: don't laugh. Then: don't cry. You're getting it.'") == {
        "first": 1, "don't": 2, "laugh": 1, "then": 1, "cry": 1, "you're": 1, "getting": 1, "it": 1}
    assert count_words("Joe can't tell between 'large' and large.") == {
        "joe": 1, "can't": 1, "tell": 1, "between": 1, "large": 2, "and": 1}


def test_other_separators():
    assert count_words("one,two,three") == {"one": 1, "two": 1, "three": 1}
    assert count_words(" multiple   whitespaces\tand\nlines ") == {
        "multiple": 1, "whitespaces": 1, "and": 1, "lines": 1}
