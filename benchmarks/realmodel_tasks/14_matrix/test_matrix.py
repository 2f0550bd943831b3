from matrix import Matrix


def test_a_single_number():
    assert Matrix("1").row(1) == [1]
    assert Matrix("1").column(1) == [1]


def test_rows():
    matrix = Matrix("1 2\n10 20")
    assert matrix.row(1) == [1, 2]
    assert matrix.row(2) == [10, 20]


def test_columns_of_a_non_square_matrix():
    matrix = Matrix("1 2 3\n4 5 6\n7 8 9\n8 7 6")
    assert matrix.column(1) == [1, 4, 7, 8]
    assert matrix.column(3) == [3, 6, 9, 6]
