import unittest

from luhn import Luhn


class LuhnTest(unittest.TestCase):
    def test_single_digit_is_invalid(self):
        self.assertIs(Luhn("1").valid(), False)

    def test_single_zero_with_space_is_invalid(self):
        self.assertIs(Luhn(" 0").valid(), False)

    def test_simple_valid_number(self):
        self.assertIs(Luhn("059").valid(), True)

    def test_valid_canadian_sin(self):
        self.assertIs(Luhn("055 444 285").valid(), True)

    def test_invalid_canadian_sin(self):
        self.assertIs(Luhn("055 444 286").valid(), False)

    def test_invalid_credit_card(self):
        self.assertIs(Luhn("8273 1232 7352 0569").valid(), False)

    def test_non_digit_is_invalid(self):
        self.assertIs(Luhn("055a 444 285").valid(), False)

    def test_double_zero_is_valid(self):
        self.assertIs(Luhn("00").valid(), True)

    def test_digit_nine_doubles_to_nine(self):
        self.assertIs(Luhn("091").valid(), True)
