import unittest

from sum_of_multiples import sum_of_multiples


class SumOfMultiplesTest(unittest.TestCase):
    def test_no_multiples_within_limit(self):
        self.assertEqual(sum_of_multiples(1, [3, 5]), 0)

    def test_one_factor_has_multiples_within_limit(self):
        self.assertEqual(sum_of_multiples(4, [3, 5]), 3)

    def test_more_than_one_multiple(self):
        self.assertEqual(sum_of_multiples(7, [3]), 9)

    def test_more_than_one_factor(self):
        self.assertEqual(sum_of_multiples(10, [3, 5]), 23)

    def test_each_multiple_is_counted_once(self):
        self.assertEqual(sum_of_multiples(20, [3, 5]), 78)

    def test_a_factor_of_zero_has_no_multiples(self):
        self.assertEqual(sum_of_multiples(1, [0]), 0)

    def test_zero_among_other_factors(self):
        self.assertEqual(sum_of_multiples(4, [3, 0]), 3)

    def test_no_factors(self):
        self.assertEqual(sum_of_multiples(10000, []), 0)
