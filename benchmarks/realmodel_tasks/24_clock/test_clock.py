import unittest

from clock import Clock


class ClockTest(unittest.TestCase):
    def test_on_the_hour(self):
        self.assertEqual(str(Clock(8, 0)), "08:00")

    def test_past_the_hour(self):
        self.assertEqual(str(Clock(11, 9)), "11:09")

    def test_midnight_is_zero_hours(self):
        self.assertEqual(str(Clock(24, 0)), "00:00")

    def test_sixty_minutes_is_next_hour(self):
        self.assertEqual(str(Clock(1, 60)), "02:00")

    def test_negative_minutes(self):
        self.assertEqual(str(Clock(1, -40)), "00:20")

    def test_negative_hour_rolls_over(self):
        self.assertEqual(str(Clock(-25, 0)), "23:00")

    def test_repr(self):
        self.assertEqual(repr(Clock(7, 32)), "Clock(7, 32)")

    def test_add_minutes(self):
        self.assertEqual(str(Clock(10, 0) + 3), "10:03")

    def test_add_across_midnight(self):
        self.assertEqual(str(Clock(23, 59) + 2), "00:01")

    def test_subtract_across_midnight(self):
        self.assertEqual(str(Clock(0, 3) - 4), "23:59")

    def test_clocks_with_same_time_are_equal(self):
        self.assertEqual(Clock(15, 37), Clock(15, 37))

    def test_clocks_a_day_apart_are_equal(self):
        self.assertEqual(Clock(10, 37), Clock(34, 37))

    def test_clocks_with_different_times_are_not_equal(self):
        self.assertNotEqual(Clock(15, 36), Clock(15, 37))
