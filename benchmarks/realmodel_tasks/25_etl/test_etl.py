import unittest

from etl import transform


class EtlTest(unittest.TestCase):
    def test_single_letter(self):
        self.assertEqual(transform({1: ["A"]}), {"a": 1})

    def test_single_score_with_several_letters(self):
        self.assertEqual(transform({1: ["A", "E", "I", "O", "U"]}), {"a": 1, "e": 1, "i": 1, "o": 1, "u": 1})

    def test_several_scores(self):
        self.assertEqual(transform({1: ["A", "E"], 2: ["D", "G"]}), {"a": 1, "d": 2, "e": 1, "g": 2})

    def test_empty(self):
        self.assertEqual(transform({}), {})
