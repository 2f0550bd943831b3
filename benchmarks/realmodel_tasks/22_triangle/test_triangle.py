import unittest

from triangle import equilateral, isosceles, scalene


class TriangleTest(unittest.TestCase):
    def test_equilateral_all_sides_equal(self):
        self.assertIs(equilateral([2, 2, 2]), True)

    def test_equilateral_sides_differ(self):
        self.assertIs(equilateral([2, 3, 2]), False)

    def test_all_zero_sides_is_no_triangle(self):
        self.assertIs(equilateral([0, 0, 0]), False)

    def test_isosceles_last_two_equal(self):
        self.assertIs(isosceles([3, 4, 4]), True)

    def test_equilateral_is_also_isosceles(self):
        self.assertIs(isosceles([4, 4, 4]), True)

    def test_isosceles_needs_two_equal_sides(self):
        self.assertIs(isosceles([2, 3, 4]), False)

    def test_isosceles_violates_triangle_inequality(self):
        self.assertIs(isosceles([1, 1, 3]), False)

    def test_scalene_all_sides_differ(self):
        self.assertIs(scalene([5, 4, 6]), True)

    def test_scalene_two_sides_equal(self):
        self.assertIs(scalene([4, 4, 3]), False)

    def test_scalene_violates_triangle_inequality(self):
        self.assertIs(scalene([7, 3, 2]), False)
