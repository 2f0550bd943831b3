import pytest

from intervals import insert, merge


def test_empty():
    assert merge([]) == []


def test_overlapping_and_touching():
    assert merge([(1, 3), (2, 6), (8, 10), (15, 18)]) == [(1, 6), (8, 10), (15, 18)]
    assert merge([(1, 4), (4, 5)]) == [(1, 5)]


def test_unsorted_and_nested():
    assert merge([(5, 7), (1, 10), (2, 3), (12, 12)]) == [(1, 10), (12, 12)]


def test_lists_come_back_as_tuples():
    assert merge([[1, 2], [3, 4]]) == [(1, 2), (3, 4)]


def test_insert():
    assert insert([(1, 2), (3, 5), (6, 7), (8, 10), (12, 16)], (4, 8)) == [(1, 2), (3, 10), (12, 16)]
    assert insert([], (5, 7)) == [(5, 7)]


def test_bad_interval():
    with pytest.raises(ValueError):
        merge([(3, 1)])
    with pytest.raises(ValueError):
        insert([(1, 2)], (9, 8))
