from matrix import Matrix


def test_single_row_and_column():
    assert Matrix("1").row(1) == [1] and Matrix("1").column(1) == [1]


def test_rows():
    assert Matrix("1 2\n10 20").row(2) == [10, 20]
    assert Matrix("1 2 3\n4 5 6\n7 8 9\n8 7 6").row(3) == [7, 8, 9]


def test_columns():
    assert Matrix("1 2 3\n4 5 6\n7 8 9").column(3) == [3, 6, 9]
    assert Matrix("89 1903 3\n18 3 1\n9 4 800").column(2) == [1903, 3, 4]


def test_non_square():
    assert Matrix("1 2 3 4\n5 6 7 8\n9 8 7 6").column(4) == [4, 8, 6]
